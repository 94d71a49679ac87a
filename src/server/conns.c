/* conns.c - see conns.h. Two lists under one mutex: waiting connections
 * in the order they started waiting (the head is the oldest: deadlines and
 * evictions take from it), and connections receiving a body (scanned in
 * full; a body is in flight only briefly unless a client is slow). */
#include "conns.h"

#include "common/clock.h"
#include "common/log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

enum phase { WAITING, BODY, ANSWERING, CUT };

struct rg_conn {
    rg_conn *prev, *next; /* in the list of its phase (WAITING, BODY) */
    int fd;
    enum phase phase;
    int64_t since_ms; /* when the phase began */
    _Atomic uint64_t body;
};

typedef struct list {
    rg_conn head; /* sentinel */
    size_t n;
} list;

struct rg_conns {
    rg_conns_opts o;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    bool stop;
    list waiting, body;
    rg_conns_stats stats;
    uint64_t cuts_logged; /* cut_late + cut_evicted at the last log line */
    int64_t logged_ms;
};

#define TICK_MS 500
#define LOG_EVERY_MS 10000

static void list_init(list *l)
{
    l->head.prev = l->head.next = &l->head;
    l->n = 0;
}

static void list_push(list *l, rg_conn *c)
{
    c->prev = l->head.prev;
    c->next = &l->head;
    l->head.prev->next = c;
    l->head.prev = c;
    l->n++;
}

static void list_drop(list *l, rg_conn *c)
{
    c->prev->next = c->next;
    c->next->prev = c->prev;
    c->prev = c->next = NULL;
    l->n--;
}

static list *list_of(rg_conns *cs, enum phase p)
{
    return p == WAITING ? &cs->waiting : p == BODY ? &cs->body : NULL;
}

/* Moves c to phase p, stamped now. Caller holds mu. */
static void set_phase(rg_conns *cs, rg_conn *c, enum phase p, int64_t now)
{
    list *from = list_of(cs, c->phase), *to = list_of(cs, p);
    if (from)
        list_drop(from, c);
    c->phase = p;
    c->since_ms = now;
    if (to)
        list_push(to, c);
}

/* Shuts c's socket down: the adapter then reads end of file and closes the
 * connection. The fd is still open: it is closed only after
 * rg_conns_remove, which needs mu. Caller holds mu. */
static void cut(rg_conns *cs, rg_conn *c, uint64_t *counter)
{
    set_phase(cs, c, CUT, c->since_ms);
    shutdown(c->fd, SHUT_RDWR);
    (*counter)++;
}

static bool body_late(const rg_conns *cs, const rg_conn *c, int64_t now)
{
    uint64_t got = atomic_load_explicit(&c->body, memory_order_relaxed);
    int64_t earned = (int64_t)(got / cs->o.min_rate * 1000 +
                               got % cs->o.min_rate * 1000 / cs->o.min_rate);
    return now - c->since_ms > cs->o.header_ms + earned;
}

/* Cuts every connection past its deadline. Caller holds mu. */
static void reap(rg_conns *cs, int64_t now)
{
    while (cs->waiting.n > 0 &&
           now - cs->waiting.head.next->since_ms > cs->o.header_ms)
        cut(cs, cs->waiting.head.next, &cs->stats.cut_late);
    for (rg_conn *c = cs->body.head.next, *next; c != &cs->body.head;
         c = next) {
        next = c->next;
        if (body_late(cs, c, now))
            cut(cs, c, &cs->stats.cut_late);
    }
}

/* One warning line at most every LOG_EVERY_MS while connections are cut.
 * Caller holds mu. */
static void log_cuts(rg_conns *cs, int64_t now)
{
    uint64_t total = cs->stats.cut_late + cs->stats.cut_evicted;
    if (total == cs->cuts_logged || now - cs->logged_ms < LOG_EVERY_MS)
        return;
    rg_warn("http: closed %llu slow or idle connections since the last report "
            "(%llu past a request deadline, %llu evicted for room, in all)",
            (unsigned long long)(total - cs->cuts_logged),
            (unsigned long long)cs->stats.cut_late,
            (unsigned long long)cs->stats.cut_evicted);
    cs->cuts_logged = total;
    cs->logged_ms = now;
}

static void *deadline_thread(void *arg)
{
    rg_conns *cs = arg;
    pthread_mutex_lock(&cs->mu);
    while (!cs->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += TICK_MS * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&cs->cv, &cs->mu, &ts);
        int64_t now = rg_monotonic_ms();
        reap(cs, now);
        log_cuts(cs, now);
    }
    pthread_mutex_unlock(&cs->mu);
    return NULL;
}

int rg_conns_new(const rg_conns_opts *opts, rg_conns **out, rg_err *err)
{
    rg_conns *cs = calloc(1, sizeof *cs);
    pthread_condattr_t ca;
    if (!cs)
        return rg_err_set(err, RG_ENOMEM, "http: out of memory");
    cs->o = *opts;
    list_init(&cs->waiting);
    list_init(&cs->body);
    pthread_mutex_init(&cs->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&cs->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&cs->thread, NULL, deadline_thread, cs) != 0) {
        pthread_cond_destroy(&cs->cv);
        pthread_mutex_destroy(&cs->mu);
        free(cs);
        return rg_err_set(err, RG_EIO, "http: cannot start a thread");
    }
    *out = cs;
    return 0;
}

static void free_list(list *l)
{
    while (l->n > 0) {
        rg_conn *c = l->head.next;
        list_drop(l, c);
        free(c);
    }
}

void rg_conns_free(rg_conns *cs)
{
    if (!cs)
        return;
    pthread_mutex_lock(&cs->mu);
    cs->stop = true;
    pthread_cond_signal(&cs->cv);
    pthread_mutex_unlock(&cs->mu);
    pthread_join(cs->thread, NULL);
    /* Connections in no list (answering, cut) were freed by their
     * rg_conns_remove: the adapter removes every one before it stops. */
    free_list(&cs->waiting);
    free_list(&cs->body);
    pthread_cond_destroy(&cs->cv);
    pthread_mutex_destroy(&cs->mu);
    free(cs);
}

rg_conn *rg_conns_add(rg_conns *cs, int fd)
{
    rg_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->fd = fd;
    c->phase = ANSWERING; /* in no list until set_phase */
    pthread_mutex_lock(&cs->mu);
    if (cs->waiting.n >= cs->o.waiting_cap)
        cut(cs, cs->waiting.head.next, &cs->stats.cut_evicted);
    set_phase(cs, c, WAITING, rg_monotonic_ms());
    pthread_mutex_unlock(&cs->mu);
    return c;
}

void rg_conns_remove(rg_conns *cs, rg_conn *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&cs->mu);
    set_phase(cs, c, CUT, 0);
    pthread_mutex_unlock(&cs->mu);
    free(c);
}

static void change(rg_conns *cs, rg_conn *c, enum phase p)
{
    if (!c)
        return;
    pthread_mutex_lock(&cs->mu);
    if (c->phase != p && c->phase != CUT) {
        atomic_store_explicit(&c->body, 0, memory_order_relaxed);
        set_phase(cs, c, p, rg_monotonic_ms());
    }
    pthread_mutex_unlock(&cs->mu);
}

void rg_conns_headers_in(rg_conns *cs, rg_conn *c)
{
    change(cs, c, BODY);
}

void rg_conns_answering(rg_conns *cs, rg_conn *c)
{
    change(cs, c, ANSWERING);
}

void rg_conns_waiting(rg_conns *cs, rg_conn *c)
{
    change(cs, c, WAITING);
}

void rg_conns_body(rg_conn *c, uint64_t n)
{
    if (c)
        atomic_fetch_add_explicit(&c->body, n, memory_order_relaxed);
}

void rg_conns_stats_get(rg_conns *cs, rg_conns_stats *out)
{
    pthread_mutex_lock(&cs->mu);
    *out = cs->stats;
    pthread_mutex_unlock(&cs->mu);
}
