/* Unit tests for src/store/group.c, the group commit queue: a write is
 * completed only after the commit that holds it returned, writes queued
 * during a commit go together into the next one, a failed commit fails
 * every write in it, a write refused alone fails alone, stop commits what
 * is queued.
 * ctest-labels: foundation */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/clock.h"
#include "store/group.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_THREADS 8
#define PER_THREAD 50
#define N_WRITES (N_THREADS * PER_THREAD)

/* The fake backend: records which writes committed; can fail a batch,
 * refuse single writes, and hold its first commit until enough writes
 * are queued behind it. */
typedef struct fake {
    rg__group *g;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* a write is done */
    bool committed[N_WRITES];
    size_t commits;
    int fail_rc;       /* != 0: every commit fails with it */
    size_t hold_until; /* first commit waits for this many queued */
    atomic_bool first_seen;
    atomic_bool held; /* the first commit saw hold_until writes queued */
} fake;

/* A write: its index and what its done callback saw. */
typedef struct item {
    rg_store_write w;
    fake *f;
    size_t idx;
    bool refuse;      /* the fake refuses it alone */
    atomic_int state; /* 0 queued, 1 done after commit, -1 done too early */
    int rc;
} item;

/* Polls the group's queue until it holds n writes (30 s deadline).
 * Returns whether it did. */
static bool wait_queued(rg__group *g, uint64_t n)
{
    int64_t until = rg_monotonic_ms() + 30000;
    rg_store_group_stats st;
    do {
        sched_yield();
        rg__group_stats(g, &st);
    } while (st.queued < n && rg_monotonic_ms() < until);
    return st.queued >= n;
}

static int fake_commit(void *ctx, rg_store_write *const *w, size_t n,
                       rg_err *err)
{
    fake *f = ctx;
    if (!atomic_exchange(&f->first_seen, true) && f->hold_until)
        atomic_store(&f->held, wait_queued(f->g, f->hold_until));
    if (f->fail_rc)
        return rg_err_set(err, f->fail_rc, "fake: disk on fire");
    pthread_mutex_lock(&f->mu);
    for (size_t i = 0; i < n; i++) {
        item *it = w[i]->ctx;
        if (it->refuse) {
            w[i]->rc = rg_err_set(&w[i]->err, RG_ENOTFOUND, "fake: refused");
            continue;
        }
        f->committed[it->idx] = true;
        w[i]->n_new = w[i]->n_events;
    }
    f->commits++;
    pthread_mutex_unlock(&f->mu);
    return 0;
}

static void item_done(rg_store_write *w)
{
    item *it = w->ctx;
    pthread_mutex_lock(&it->f->mu);
    bool ok = w->rc != 0 || it->f->committed[it->idx];
    it->rc = w->rc;
    atomic_store(&it->state, ok ? 1 : -1);
    pthread_cond_broadcast(&it->f->cv);
    pthread_mutex_unlock(&it->f->mu);
}

/* Waits (30 s deadline) until it is done. */
static void wait_one(item *it)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 30;
    pthread_mutex_lock(&it->f->mu);
    while (atomic_load(&it->state) == 0 &&
           pthread_cond_timedwait(&it->f->cv, &it->f->mu, &until) == 0)
        ;
    pthread_mutex_unlock(&it->f->mu);
    assert_int_not_equal(atomic_load(&it->state), 0);
}

static void item_init(item *it, fake *f, size_t idx)
{
    memset(it, 0, sizeof *it);
    it->f = f;
    it->idx = idx;
    it->w.done = item_done;
    it->w.ctx = it;
    it->w.n_events = 1;
}

/* Waits until every item of its[0 .. n) is done. */
static void wait_done(item *its, size_t n)
{
    for (size_t i = 0; i < n; i++)
        wait_one(&its[i]);
}

/* Submits its[0], and its[1 .. n) once the first commit has begun (and
 * waits for them to be queued behind it). */
static void submit_held(fake *f, item *its, size_t n)
{
    assert_int_equal(rg__group_submit(f->g, &its[0].w), 0);
    int64_t until = rg_monotonic_ms() + 30000;
    while (!atomic_load(&f->first_seen) && rg_monotonic_ms() < until)
        sched_yield();
    for (size_t i = 1; i < n; i++)
        assert_int_equal(rg__group_submit(f->g, &its[i].w), 0);
}

static fake *fake_new(size_t hold_until)
{
    fake *f = calloc(1, sizeof *f);
    assert_non_null(f);
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    f->hold_until = hold_until;
    rg_err err;
    assert_int_equal(
        rg__group_start(fake_commit, f, RG_STORE_GROUP_MAX, &f->g, &err), 0);
    return f;
}

static void fake_free(fake *f)
{
    rg__group_stop(f->g);
    pthread_cond_destroy(&f->cv);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

typedef struct thread_arg {
    fake *f;
    item *its;
} thread_arg;

static void *submitter(void *arg)
{
    thread_arg *a = arg;
    for (size_t i = 0; i < PER_THREAD; i++) {
        assert_int_equal(rg__group_submit(a->f->g, &a->its[i].w), 0);
        wait_one(&a->its[i]); /* one at a time per thread, as check-ins */
    }
    return NULL;
}

/* Many threads: each write is completed only after the commit holding it
 * returned; all commit; fewer commits than writes. */
static void acked_after_commit(void **state)
{
    (void)state;
    fake *f = fake_new(0);
    item *its = calloc(N_WRITES, sizeof *its);
    assert_non_null(its);
    pthread_t th[N_THREADS];
    thread_arg args[N_THREADS];
    for (size_t i = 0; i < N_WRITES; i++)
        item_init(&its[i], f, i);
    for (size_t t = 0; t < N_THREADS; t++) {
        args[t] = (thread_arg){f, its + t * PER_THREAD};
        assert_int_equal(pthread_create(&th[t], NULL, submitter, &args[t]), 0);
    }
    for (size_t t = 0; t < N_THREADS; t++)
        pthread_join(th[t], NULL);
    for (size_t i = 0; i < N_WRITES; i++) {
        assert_int_equal(atomic_load(&its[i].state), 1);
        assert_int_equal(its[i].rc, 0);
        assert_true(f->committed[i]);
    }
    rg_store_group_stats st;
    rg__group_stats(f->g, &st);
    assert_int_equal(st.writes, N_WRITES);
    assert_int_equal(st.commits, f->commits);
    assert_int_equal(st.failed, 0);
    fake_free(f);
    free(its);
}

/* Writes queued while a commit runs go together into the next one. */
static void batches_form_during_commit(void **state)
{
    (void)state;
    enum { N = 100 };
    fake *f = fake_new(N - 1);
    item its[N];
    for (size_t i = 0; i < N; i++)
        item_init(&its[i], f, i);
    submit_held(f, its, N);
    wait_done(its, N);
    rg_store_group_stats st;
    rg__group_stats(f->g, &st);
    assert_int_equal(st.writes, N);
    assert_true(atomic_load(&f->held));
    assert_int_equal(st.commits, 2);
    assert_int_equal(st.max_batch, N - 1);
    for (size_t i = 0; i < N; i++)
        assert_int_equal(atomic_load(&its[i].state), 1);
    fake_free(f);
}

/* A failed commit fails every write in it with its error; a write refused
 * alone fails alone. */
static void failures(void **state)
{
    (void)state;
    enum { N = 20 };
    fake *f = fake_new(N - 1);
    f->fail_rc = RG_EIO;
    item its[N];
    for (size_t i = 0; i < N; i++)
        item_init(&its[i], f, i);
    submit_held(f, its, N);
    wait_done(its, N);
    for (size_t i = 0; i < N; i++) {
        assert_int_equal(its[i].rc, RG_EIO);
        assert_string_equal(its[i].w.err.msg, "fake: disk on fire");
        assert_int_equal(its[i].w.n_new, 0);
        assert_false(f->committed[i]);
    }
    rg_store_group_stats st;
    rg__group_stats(f->g, &st);
    assert_int_equal(st.failed, N);
    assert_int_equal(st.writes, 0);

    f->fail_rc = 0;
    for (size_t i = 0; i < N; i++) {
        item_init(&its[i], f, i);
        its[i].refuse = i % 3 == 0;
    }
    submit_held(f, its, N);
    wait_done(its, N);
    for (size_t i = 0; i < N; i++) {
        assert_int_equal(its[i].rc, its[i].refuse ? RG_ENOTFOUND : 0);
        assert_int_equal(f->committed[i], !its[i].refuse);
        assert_int_equal(its[i].w.n_new, its[i].refuse ? 0 : 1);
    }
    fake_free(f);
}

static void *stopper(void *arg)
{
    rg__group_stop(arg);
    return NULL;
}

/* Stop commits what is queued before it returns. */
static void stop_drains(void **state)
{
    (void)state;
    enum { N = 30 };
    fake *f = fake_new(N - 1);
    item its[N];
    for (size_t i = 0; i < N; i++)
        item_init(&its[i], f, i);
    submit_held(f, its, N);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, stopper, f->g), 0);
    pthread_join(th, NULL);
    for (size_t i = 0; i < N; i++) {
        assert_int_equal(atomic_load(&its[i].state), 1);
        assert_true(f->committed[i]);
    }
    pthread_cond_destroy(&f->cv);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

static void bad_max(void **state)
{
    (void)state;
    rg__group *g = NULL;
    rg_err err;
    assert_int_equal(rg__group_start(fake_commit, NULL, 0, &g, &err),
                     RG_EINVAL);
    assert_int_equal(
        rg__group_start(fake_commit, NULL, RG_STORE_GROUP_MAX + 1, &g, &err),
        RG_EINVAL);
    assert_null(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(acked_after_commit),
        cmocka_unit_test(batches_form_during_commit),
        cmocka_unit_test(failures),
        cmocka_unit_test(stop_drains),
        cmocka_unit_test(bad_max),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
