/* deltas.c - see deltas.h. */
#include "deltas.h"

#include "common/crypto.h"
#include "common/file.h"
#include "common/log.h"
#include "common/zpatch.h"
#include "server/artifacts.h"
#include "store/store.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

struct rg_deltas {
    rg_server *srv;
    char dir[PATH_MAX - 160]; /* DATA/deltas, room for /<sha>/<sha> */
    pthread_rwlock_t lock;    /* guards recs */
    rg_delta_rec *recs;
    size_t n, cap;
    pthread_mutex_t mu; /* guards the queue and stop */
    pthread_cond_t cond;
    int64_t *queue;
    size_t qn, qcap;
    bool stop;
    pthread_t thread;
    _Atomic uint64_t made, failed;
};

/* --- the index ---------------------------------------------------------- */

static int add_rec(rg_deltas *d, const rg_delta_rec *r)
{
    pthread_rwlock_wrlock(&d->lock);
    int rc =
        rg_array_reserve((void **)&d->recs, &d->cap, d->n + 1, sizeof *d->recs);
    if (rc == 0)
        d->recs[d->n++] = *r;
    pthread_rwlock_unlock(&d->lock);
    return rc == 0 ? 0 : RG_ENOMEM;
}

/* The record of (target, base), with the lock held; NULL when none. */
static const rg_delta_rec *lookup(const rg_deltas *d, const char *target,
                                  const char *base)
{
    for (size_t i = 0; i < d->n; i++)
        if (strcmp(d->recs[i].target, target) == 0 &&
            strcmp(d->recs[i].base, base) == 0)
            return &d->recs[i];
    return NULL;
}

bool rg_deltas_find(rg_server *srv, const char *target, const char *base,
                    rg_delta_rec *out)
{
    rg_deltas *d = srv->deltas;
    if (!d)
        return false;
    pthread_rwlock_rdlock(&d->lock);
    const rg_delta_rec *r = lookup(d, target, base);
    bool found = r && r->sha256[0];
    if (found)
        *out = *r;
    pthread_rwlock_unlock(&d->lock);
    return found;
}

bool rg_deltas_of_digest(rg_server *srv, const char *sha256, rg_delta_rec *out)
{
    rg_deltas *d = srv->deltas;
    bool found = false;
    if (!d)
        return false;
    pthread_rwlock_rdlock(&d->lock);
    for (size_t i = 0; i < d->n && !found; i++)
        if (strcmp(d->recs[i].sha256, sha256) == 0) {
            *out = d->recs[i];
            found = true;
        }
    pthread_rwlock_unlock(&d->lock);
    return found;
}

void rg_deltas_stats(rg_server *srv, uint64_t *made, uint64_t *failed)
{
    *made = srv->deltas ? atomic_load(&srv->deltas->made) : 0;
    *failed = srv->deltas ? atomic_load(&srv->deltas->failed) : 0;
}

/* Parses index file dir/target/base into a record; a malformed one is
 * skipped with a warning (it is made again). */
static int load_entry(rg_deltas *d, const char *target, const char *base)
{
    char path[PATH_MAX], sha[65] = "";
    unsigned long long size = 0;
    rg_buf b;
    rg_err err;
    rg_delta_rec r = {0};
    snprintf(path, sizeof path, "%s/%.64s/%.64s", d->dir, target, base);
    rg_buf_init(&b, 256);
    int rc = rg_file_read(path, &b, &err);
    bool none = rc == 0 && strcmp(b.data, "none\n") == 0;
    if (rc == 0 && !none &&
        (sscanf(b.data, "%64s %llu", sha, &size) != 2 ||
         !rg_sha256_hex_valid(sha)))
        rc = rg_err_set(&err, RG_EINVAL, "malformed");
    rg_buf_release(&b);
    if (rc != 0) {
        rg_warn("delta index '%s' ignored: %s", path, err.msg);
        return 0;
    }
    snprintf(r.target, sizeof r.target, "%.64s", target);
    snprintf(r.base, sizeof r.base, "%.64s", base);
    snprintf(r.sha256, sizeof r.sha256, "%s", none ? "" : sha);
    r.size = size;
    return add_rec(d, &r);
}

/* Reads DATA/deltas/<target>/<base> for every target directory. */
static int load_index(rg_deltas *d, rg_err *err)
{
    char sub[PATH_MAX];
    int rc = 0;
    DIR *top = opendir(d->dir);
    if (!top)
        return rg_err_set(err, RG_EIO, "open '%s': %s", d->dir,
                          strerror(errno));
    for (struct dirent *t; rc == 0 && (t = readdir(top)) != NULL;) {
        if (!rg_sha256_hex_valid(t->d_name))
            continue;
        snprintf(sub, sizeof sub, "%s/%.64s", d->dir, t->d_name);
        DIR *in = opendir(sub);
        for (struct dirent *b; in && rc == 0 && (b = readdir(in)) != NULL;)
            if (rg_sha256_hex_valid(b->d_name))
                rc = load_entry(d, t->d_name, b->d_name);
        if (in)
            closedir(in);
    }
    closedir(top);
    return rc == 0 ? 0 : rg_err_set(err, rc, "out of memory");
}

/* --- making ------------------------------------------------------------- */

/* The bases of release r: newest first, below its version, distinct
 * digests other than its own, at most RG_DELTA_BASES. */
typedef struct bases {
    const rg_release_rec *target;
    size_t n;
    char sha[RG_DELTA_BASES][65];
} bases;

static int collect_base(void *ctx, const rg_release_rec *r)
{
    bases *b = ctx;
    if (b->n == RG_DELTA_BASES || r->version >= b->target->version ||
        strcmp(r->sha256, b->target->sha256) == 0)
        return 0;
    for (size_t i = 0; i < b->n; i++)
        if (strcmp(b->sha[i], r->sha256) == 0)
            return 0;
    snprintf(b->sha[b->n++], sizeof b->sha[0], "%s", r->sha256);
    return 0;
}

static int upload_sink(void *ctx, const void *p, size_t n, rg_err *err)
{
    return rg_artifact_upload_write(ctx, p, n, err);
}

/* Makes the delta of rec->target over rec->base into the artifacts
 * (rec->sha256, rec->size; "" when not worth sending). */
static int make_one(rg_deltas *d, uint64_t target_size, rg_delta_rec *rec,
                    rg_err *err)
{
    char bpath[PATH_MAX], tpath[PATH_MAX];
    rg_artifact_upload *u = NULL;
    bool existed = false;
    uint64_t max = target_size / 100 * RG_DELTA_MAX_PCT;
    int rc = rg_artifact_path(d->srv, rec->base, bpath, sizeof bpath, err);
    if (rc == 0)
        rc = rg_artifact_path(d->srv, rec->target, tpath, sizeof tpath, err);
    if (rc == 0)
        rc = rg_artifact_upload_begin(d->srv, max, &u, err);
    if (rc == 0)
        rc = rg_zpatch_make(bpath, tpath, RG_ZPATCH_LEVEL, upload_sink, u, err);
    if (rc == 0)
        rc = rg_artifact_upload_commit(u, rec->sha256, &rec->size, &existed,
                                       err);
    if (rc == RG_ETOOBIG) { /* too large an input, or no gain */
        rg_info("delta %.12s -> %.12s: none worth sending (%s)", rec->base,
                rec->target, err->msg);
        rec->sha256[0] = '\0';
        rec->size = 0;
        rc = 0;
    }
    rg_artifact_upload_free(u);
    return rc;
}

/* Writes rec's index file durably, then adds it to the index. */
static int record(rg_deltas *d, const rg_delta_rec *rec, rg_err *err)
{
    char sub[PATH_MAX], text[96];
    snprintf(sub, sizeof sub, "%s/%.64s", d->dir, rec->target);
    if (mkdir(sub, 0700) != 0 && errno != EEXIST)
        return rg_err_set(err, RG_EIO, "mkdir '%s': %s", sub, strerror(errno));
    if (rec->sha256[0])
        snprintf(text, sizeof text, "%s %llu\n", rec->sha256,
                 (unsigned long long)rec->size);
    else
        snprintf(text, sizeof text, "none\n");
    int rc =
        rg_file_write_durable(sub, rec->base, text, strlen(text), 0600, err);
    if (rc == 0 && (rc = rg_file_fsync_dir(d->dir, err)) == 0 &&
        add_rec(d, rec) != 0)
        rc = rg_err_set(err, RG_ENOMEM, "out of memory");
    return rc;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool known(rg_deltas *d, const char *target, const char *base)
{
    pthread_rwlock_rdlock(&d->lock);
    bool k = lookup(d, target, base) != NULL;
    pthread_rwlock_unlock(&d->lock);
    return k;
}

int rg_deltas_make(rg_server *srv, int64_t release_id, rg_err *err)
{
    rg_deltas *d = srv->deltas;
    rg_release_rec *r = malloc(sizeof *r);
    int rc = r ? rg_store_release_get(srv->store, release_id, r, err)
               : rg_err_set(err, RG_ENOMEM, "out of memory");
    bases b = {.target = r};
    if (rc == 0)
        rc = rg_store_release_list(srv->store, r->channel, collect_base, &b,
                                   err);
    for (size_t i = 0; rc == 0 && i < b.n; i++) {
        rg_delta_rec rec = {0};
        if (known(d, r->sha256, b.sha[i]))
            continue;
        snprintf(rec.target, sizeof rec.target, "%s", r->sha256);
        snprintf(rec.base, sizeof rec.base, "%s", b.sha[i]);
        int64_t t0 = mono_ms();
        rc = make_one(d, r->size, &rec, err);
        if (rc == 0)
            rc = record(d, &rec, err);
        if (rc == 0 && rec.sha256[0]) {
            atomic_fetch_add(&d->made, 1);
            rg_info("delta for release %lld from %.12s: %llu of %llu bytes "
                    "in %lld ms",
                    (long long)release_id, rec.base,
                    (unsigned long long)rec.size, (unsigned long long)r->size,
                    (long long)(mono_ms() - t0));
        }
    }
    free(r);
    return rc;
}

/* --- the worker --------------------------------------------------------- */

static void *worker_main(void *arg)
{
    rg_deltas *d = arg;
    pthread_mutex_lock(&d->mu);
    for (;;) {
        while (!d->stop && d->qn == 0)
            pthread_cond_wait(&d->cond, &d->mu);
        if (d->stop)
            break;
        int64_t id = d->queue[0];
        memmove(d->queue, d->queue + 1, (d->qn - 1) * sizeof *d->queue);
        d->qn--;
        pthread_mutex_unlock(&d->mu);
        rg_err err;
        rg_err_clear(&err);
        if (rg_deltas_make(d->srv, id, &err) != 0) {
            atomic_fetch_add(&d->failed, 1);
            rg_warn("deltas of release %lld: %s", (long long)id, err.msg);
        }
        pthread_mutex_lock(&d->mu);
    }
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

void rg_deltas_enqueue(rg_server *srv, int64_t release_id)
{
    rg_deltas *d = srv->deltas;
    if (!d)
        return;
    pthread_mutex_lock(&d->mu);
    if (rg_array_reserve((void **)&d->queue, &d->qcap, d->qn + 1,
                         sizeof *d->queue) == 0)
        d->queue[d->qn++] = release_id;
    else
        rg_warn("deltas of release %lld: out of memory", (long long)release_id);
    pthread_cond_signal(&d->cond);
    pthread_mutex_unlock(&d->mu);
}

/* The newest release of a channel (the first one listed). */
static int newest_release(void *ctx, const rg_release_rec *r)
{
    int64_t *id = ctx;
    if (*id == 0)
        *id = r->id;
    return 0;
}

/* Channel names, collected before their releases are listed (the store
 * takes no call from inside a listing). */
typedef struct names {
    char (*name)[RG_NAME_MAX + 1];
    size_t n, cap;
} names;

static int collect_name(void *ctx, const rg_channel_rec *c)
{
    names *l = ctx;
    if (rg_array_reserve((void **)&l->name, &l->cap, l->n + 1,
                         sizeof *l->name) != 0)
        return RG_ENOMEM;
    snprintf(l->name[l->n++], sizeof *l->name, "%s", c->name);
    return 0;
}

/* Queues the newest release of each channel: what a kill interrupted is
 * made then. */
static int queue_newest(rg_server *srv, rg_err *err)
{
    names l = {0};
    int rc = rg_store_channel_list(srv->store, collect_name, &l, err);
    if (rc == RG_ENOMEM)
        rg_err_set(err, rc, "out of memory");
    for (size_t i = 0; rc == 0 && i < l.n; i++) {
        int64_t id = 0;
        rc = rg_store_release_list(srv->store, l.name[i], newest_release, &id,
                                   err);
        if (rc == 0 && id)
            rg_deltas_enqueue(srv, id);
    }
    free(l.name);
    return rc;
}

static void deltas_free(rg_deltas *d)
{
    if (!d)
        return;
    pthread_rwlock_destroy(&d->lock);
    pthread_mutex_destroy(&d->mu);
    pthread_cond_destroy(&d->cond);
    free(d->recs);
    free(d->queue);
    free(d);
}

int rg_deltas_start(rg_server *srv, rg_err *err)
{
    if (srv->deltas)
        return rg_err_set(err, RG_ECONFLICT, "delta worker already started");
    rg_deltas *d = calloc(1, sizeof *d);
    if (!d)
        return rg_err_set(err, RG_ENOMEM, "out of memory");
    d->srv = srv;
    pthread_rwlock_init(&d->lock, NULL);
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->cond, NULL);
    int n = snprintf(d->dir, sizeof d->dir, "%s/deltas", srv->cfg.data_dir);
    int rc = 0;
    if (n < 0 || (size_t)n >= sizeof d->dir)
        rc = rg_err_set(err, RG_EIO, "data directory path is too long");
    else if (mkdir(d->dir, 0700) != 0 && errno != EEXIST)
        rc = rg_err_set(err, RG_EIO, "mkdir '%s': %s", d->dir, strerror(errno));
    if (rc == 0)
        rc = load_index(d, err);
    if (rc == 0 && pthread_create(&d->thread, NULL, worker_main, d) != 0)
        rc = rg_err_set(err, RG_EINTERNAL, "cannot start the delta worker");
    if (rc != 0) {
        deltas_free(d);
        return rc;
    }
    srv->deltas = d;
    rc = queue_newest(srv, err);
    if (rc < 0)
        rg_deltas_stop(srv);
    return rc < 0 ? rc : 0;
}

void rg_deltas_stop(rg_server *srv)
{
    rg_deltas *d = srv->deltas;
    if (!d)
        return;
    pthread_mutex_lock(&d->mu);
    d->stop = true;
    pthread_cond_signal(&d->cond);
    pthread_mutex_unlock(&d->mu);
    pthread_join(d->thread, NULL);
    srv->deltas = NULL;
    deltas_free(d);
}
