/* canary.c - see canary.h. */
#include "canary.h"

#include "common/log.h"
#include "common/murmur3.h"
#include "health/silence.h"
#include "model/bucket.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define MAXS RG_FLEET_MAX_STRATA

/* An exposure waiting for the end of its judged span [from, from + W]
 * (health/silence.h). */
#define HEARD_SELF (1u << 31) /* pend.heard: the exposed endpoint */
_Static_assert(RG_TALLY_CONTROLS < 31, "pend.heard: one bit per control");

typedef struct pend {
    uint32_t ref, stratum;
    int64_t apply_ms, from_ms, window_ms;
    bool provisional;                  /* A not final when queued (silence.h) */
    uint32_t picks[RG_TALLY_CONTROLS]; /* fleet refs, 0: none */
    uint32_t elig;                     /* bit j: picks[j] counts */
    uint32_t heard; /* bit j: picks[j] checked in during the span so far;
                       HEARD_SELF: the exposed endpoint did */
} pend;

/* One rollout's state. */
typedef struct ro_state {
    int64_t id, release_id;
    bool rebuilt;
    int wave;            /* -1 before the first measure */
    int64_t declared_ms; /* activation maximum, or RG_SILENCE_UNDECLARED */
    uint8_t covered[MAXS + 1]; /* learners' proved steps ([MAXS]: fleet) */
    int64_t win_ms[MAXS];      /* W of each stratum at the last tick */
    int64_t wave_begin_ms;
    /* published to the check-in path */
    _Atomic bool measured;
    _Atomic uint32_t share[MAXS];
    _Atomic uint64_t budget[MAXS];
    _Atomic uint64_t assigned[MAXS];
    /* the tick's */
    pend *q;
    size_t nq, capq;
    rg_tally_cell *cells;
    size_t ncells, capcells;
    uint64_t silent_total;
    rg_stratum_counts *entries;
    size_t cap_entries;
    char (*names)[RG_STRATUM_NAME_MAX];
    rg_tally_stratum *ts; /* n_names: the gate's per-stratum extras */
    uint32_t n_names;
    /* latest evaluation (guarded by rg_canary.last_mu) */
    int last_verdict;
    char last_rule[32];
    int64_t last_stored_ms;
    json_t *last;
} ro_state;

struct rg_canary {
    pthread_rwlock_t lock; /* guards v, n (not the states' contents) */
    ro_state **v;
    size_t n, cap;
    pthread_mutex_t last_mu;
};

/* One endpoint in a tick's scan. */
typedef struct scan_ep {
    uint32_t ref, stratum;
    int64_t last_seen_ms;
    bool in_rollout;
} scan_ep;

/* A new exposure found by the scan. */
typedef struct fresh {
    uint32_t ref, stratum, hash, scan_idx;
    int64_t apply_ms;
} fresh;

/* ------------------------------------------------------------------ */
/* pure parts                                                         */

bool rg_canary_heard(int64_t last_ms, int64_t prev_ms, int64_t from_ms,
                     int64_t end_ms)
{
    return rg_silence_heard(last_ms, from_ms, end_ms) ||
           rg_silence_heard(prev_ms, from_ms, end_ms);
}

/* ------------------------------------------------------------------ */
/* state                                                              */

int rg_canary_new(rg_canary **out, rg_err *err)
{
    rg_canary *c = calloc(1, sizeof *c);
    if (!c)
        return rg_err_set(err, RG_ENOMEM, "out of memory");
    pthread_rwlock_init(&c->lock, NULL);
    pthread_mutex_init(&c->last_mu, NULL);
    *out = c;
    return 0;
}

static void state_free(ro_state *s)
{
    if (!s)
        return;
    free(s->q);
    free(s->cells);
    free(s->entries);
    free(s->names);
    free(s->ts);
    json_decref(s->last);
    free(s);
}

void rg_canary_free(rg_canary *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        state_free(c->v[i]);
    free(c->v);
    pthread_rwlock_destroy(&c->lock);
    pthread_mutex_destroy(&c->last_mu);
    free(c);
}

/* The state of rollout id, or NULL. Caller holds c->lock. */
static ro_state *find(rg_canary *c, int64_t id)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->v[i]->id == id)
            return c->v[i];
    return NULL;
}

static ro_state *find_or_add(rg_canary *c, const rg_rollout_rec *ro)
{
    pthread_rwlock_wrlock(&c->lock);
    ro_state *s = find(c, ro->id);
    if (!s && c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 4;
        ro_state **v = realloc(c->v, cap * sizeof *v);
        if (v) {
            c->v = v;
            c->cap = cap;
        }
    }
    if (!s && c->n < c->cap && (s = calloc(1, sizeof *s))) {
        s->id = ro->id;
        s->release_id = ro->release_id;
        s->wave = -1;
        s->declared_ms = RG_SILENCE_UNDECLARED;
        s->last_verdict = -1;
        c->v[c->n++] = s;
    }
    pthread_rwlock_unlock(&c->lock);
    return s;
}

void rg_canary_retain(rg_canary *c, const int64_t *ids, size_t n)
{
    pthread_rwlock_wrlock(&c->lock);
    for (size_t i = 0; i < c->n;) {
        bool keep = false;
        for (size_t k = 0; k < n && !keep; k++)
            keep = ids[k] == c->v[i]->id;
        if (keep) {
            i++;
            continue;
        }
        state_free(c->v[i]);
        c->v[i] = c->v[--c->n];
    }
    pthread_rwlock_unlock(&c->lock);
}

void rg_canary_declare_activation(rg_canary *c, const rg_rollout_rec *ro,
                                  int64_t max_ms)
{
    ro_state *s = find_or_add(c, ro);
    if (s)
        s->declared_ms = max_ms < 0 ? RG_SILENCE_UNDECLARED : max_ms;
}

/* ------------------------------------------------------------------ */
/* check-in                                                           */

bool rg_canary_holds(rg_canary *c, const rg_rollout_rec *ro,
                     const rg_fleet_canary *cn)
{
    if (!cn || !(cn->flags & RG_CN_ASSIGNED))
        return false;
    bool measured = false;
    pthread_rwlock_rdlock(&c->lock);
    ro_state *s = find(c, ro->id);
    measured = s && atomic_load(&s->measured);
    pthread_rwlock_unlock(&c->lock);
    return measured ||
           ((cn->flags & RG_CN_EXPOSED) && cn->apply_ms >= ro->created_ms);
}

bool rg_canary_admit(rg_canary *c, const rg_rollout_rec *ro, uint32_t stratum,
                     uint32_t bucket, bool internal)
{
    bool ok = false;
    if (stratum >= MAXS)
        return false;
    pthread_rwlock_rdlock(&c->lock);
    ro_state *s = find(c, ro->id);
    if (!s || !atomic_load(&s->measured))
        goto cleanup;
    uint32_t share = atomic_load(&s->share[stratum]);
    if (share < ro->status.share_ppm)
        share = ro->status.share_ppm;
    if (!internal && !rg_bucket_in(bucket, share))
        goto cleanup;
    uint64_t budget = atomic_load(&s->budget[stratum]);
    uint64_t a = atomic_load(&s->assigned[stratum]);
    do {
        if (a >= budget)
            goto cleanup;
    } while (!atomic_compare_exchange_weak(&s->assigned[stratum], &a, a + 1));
    ok = true;
cleanup:
    pthread_rwlock_unlock(&c->lock);
    return ok;
}

/* ------------------------------------------------------------------ */
/* tick                                                               */

/* What rebuild_one reads. */
typedef struct rebuild_ctx {
    rg_fleet *fleet;
    int64_t since_ms; /* the rollout's creation: older events are another's */
} rebuild_ctx;

static int rebuild_one(void *ctx, const rg_event_rec *e)
{
    const rebuild_ctx *r = ctx;
    static const char *const types[] = {"applying", "healthy", "failed",
                                        "reverted", "crashed"};
    if (e->received_ms < r->since_ms)
        return 0;
    for (int t = 0; t < 5; t++)
        if (strcmp(e->type, types[t]) == 0)
            rg_fleet_canary_event(r->fleet, e->endpoint_id, e->release_id, t,
                                  e->received_ms, NULL);
    return 0;
}

int rg_canary_rebuild(rg_server *srv, const rg_rollout_rec *ro, rg_err *err)
{
    /* The slots of the release are this rollout's from now on: an earlier
     * rollout's admissions and exposures do not carry over. */
    rebuild_ctx rb = {.fleet = srv->fleet, .since_ms = ro->created_ms};
    rg_fleet_canary_clear(srv->fleet, ro->release_id);
    return rg_store_event_list(srv->store, ro->release_id, rebuild_one, &rb,
                               err);
}

/* The scan's accumulation for one rollout. */
typedef struct scan_ctx {
    const rg_rollout_rec *ro;
    const rg_exposure_params *xp;
    const uint8_t *held; /* per profile: held by a policy (rg_desired_held) */
    uint32_t n_held;
    scan_ep *eps;
    size_t n, cap;
    fresh *fr;
    size_t nfr, capfr;
    int64_t wave_begin_ms;
    uint64_t size[MAXS], healthy[MAXS], assigned[MAXS];
    uint64_t failed_cur[MAXS];   /* failures of current-wave exposures */
    uint64_t prior_trials[MAXS]; /* exposures of earlier waves */
    uint64_t prior_failed[MAXS]; /* their failures */
    uint64_t room[MAXS];         /* early_failures' scratch */
    uint32_t lowest[MAXS][RG_EXPOSURE_MAX_PER_STRATUM];
    size_t n_lowest[MAXS];
    uint64_t exposed, healthy_total, failed_total;
    /* what the exposures say about their activation latency */
    rg_silence_params sp;
    int64_t now_ms;
    rg_act_learner act[MAXS], act_all;
    int64_t win_ms[MAXS];       /* W the learners count with */
    rg_interval_hist ivl[MAXS]; /* observed check-in intervals */
    int oom;
} scan_ctx;

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t cap2 = *cap ? *cap * 2 : 256;
    while (cap2 < need)
        cap2 *= 2;
    void *q = realloc(*p, cap2 * elem);
    if (!q)
        return -1;
    *p = q;
    *cap = cap2;
    return 0;
}

static int scan_one(void *ctx, const rg_fleet_view *v)
{
    scan_ctx *x = ctx;
    /* Held endpoints are outside the rollout: neither exposed nor control.
     * A profile newer than the table is left out until the next tick. */
    if (v->stratum >= MAXS ||
        (x->held && (v->profile >= x->n_held || x->held[v->profile])))
        return 0;
    if (grow((void **)&x->eps, &x->cap, x->n + 1, sizeof *x->eps) < 0) {
        x->oom = 1;
        return 1;
    }
    const rg_fleet_canary *cn = rg_fleet_canary_of(v, x->ro->release_id);
    uint32_t flags = cn ? cn->flags : 0;
    scan_ep *e = &x->eps[x->n];
    *e = (scan_ep){.ref = v->ref,
                   .stratum = v->stratum,
                   .last_seen_ms = v->last_seen_ms,
                   .in_rollout = flags != 0};
    x->size[v->stratum]++;
    if (v->prev_seen_ms > 0)
        rg_interval_add(&x->ivl[v->stratum], v->last_seen_ms - v->prev_seen_ms);
    rg_exposure_track_lowest(x->lowest[v->stratum], &x->n_lowest[v->stratum],
                             x->xp->min_per_stratum,
                             rg_bucket(x->ro->salt, v->id));
    if (flags & RG_CN_ASSIGNED)
        x->assigned[v->stratum]++;
    if (flags & RG_CN_HEALTHY) {
        x->healthy[v->stratum]++;
        x->healthy_total++;
    }
    if (flags & RG_CN_FAILED)
        x->failed_total++;
    if (flags & RG_CN_EXPOSED) {
        int64_t lat = (flags & RG_CN_HEALTHY) && !(flags & RG_CN_FAILED)
                          ? cn->healthy_ms - cn->apply_ms
                          : -1;
        int64_t age = x->now_ms - cn->apply_ms, w = x->win_ms[v->stratum];
        rg_act_learner_observe(&x->act[v->stratum], &x->sp, age, w, lat);
        rg_act_learner_observe(&x->act_all, &x->sp, age, w, lat);
    }
    if (flags & RG_CN_EXPOSED) {
        /* Failures need no window: counted here, at every tick. */
        bool failed = flags & RG_CN_FAILED;
        x->exposed++;
        if (cn->apply_ms >= x->wave_begin_ms) {
            x->failed_cur[v->stratum] += failed;
        } else {
            x->prior_trials[v->stratum]++;
            x->prior_failed[v->stratum] += failed;
        }
    }
    if ((flags & RG_CN_EXPOSED) && !(flags & RG_CN_QUEUED)) {
        if (grow((void **)&x->fr, &x->capfr, x->nfr + 1, sizeof *x->fr) < 0) {
            x->oom = 1;
            return 1;
        }
        x->fr[x->nfr++] =
            (fresh){.ref = v->ref,
                    .stratum = v->stratum,
                    .hash = rg_murmur3_32(v->id, strlen(v->id), 0x5eed),
                    .scan_idx = (uint32_t)x->n,
                    .apply_ms = cn->apply_ms};
    }
    x->n++;
    return 0;
}

/* The cell of stratum s and period p (added when missing), or NULL. */
static rg_tally_cell *cell_at(ro_state *st, uint32_t s, uint32_t p)
{
    for (size_t i = 0; i < st->ncells; i++)
        if (st->cells[i].stratum == s && st->cells[i].period == p)
            return &st->cells[i];
    if (grow((void **)&st->cells, &st->capcells, st->ncells + 1,
             sizeof *st->cells) < 0)
        return NULL;
    rg_tally_cell *c = &st->cells[st->ncells++];
    memset(c, 0, sizeof *c);
    c->stratum = s;
    c->period = p;
    return c;
}

/* Starts counting a new wave (the last one's exposures and failures are
 * counted by the scan as earlier waves'). */
static void enter_wave(ro_state *st, const rg_rollout_rec *ro)
{
    st->ncells = 0;
    st->wave = ro->status.wave;
    st->wave_begin_ms = ro->status.wave_started_ms;
}

/* Resolves exposure e (its judged span ended) into the cell of its
 * stratum and period (one per W of e since the wave began). */
static int resolve(rg_server *srv, ro_state *st, const pend *e)
{
    rg_fleet_view v;
    if (rg_fleet_view_ref(srv->fleet, e->ref, &v) != 0)
        return 0;
    const rg_fleet_canary *cn = rg_fleet_canary_of(&v, st->release_id);
    if (!cn)
        return 0;
    int64_t end = e->from_ms + e->window_ms;
    bool heard =
        (e->heard & HEARD_SELF) ||
        rg_canary_heard(v.last_seen_ms, v.prev_seen_ms, e->from_ms, end) ||
        rg_silence_heard(cn->healthy_ms, e->from_ms, end);
    int out =
        rg_silence_outcome(cn->flags & RG_CN_FAILED, cn->flags & RG_CN_HEALTHY,
                           cn->healthy_ms, heard, end);
    st->silent_total += out == RG_TALLY_SILENT;
    if (e->apply_ms < st->wave_begin_ms)
        return 0; /* an earlier wave's: its failure is counted by the scan */
    uint32_t p =
        rg_tally_period(end, st->wave_begin_ms, e->window_ms,
                        rg_tally_max_periods(rg_fleet_strata(srv->fleet)));
    rg_tally_cell *c = cell_at(st, e->stratum, p);
    if (!c)
        return RG_ENOMEM;
    c->healthy += out == RG_TALLY_HEALTHY;
    c->failed += out == RG_TALLY_FAILED;
    c->silent += out == RG_TALLY_SILENT;
    for (size_t j = 0; j < RG_TALLY_CONTROLS; j++) {
        rg_fleet_view cv;
        if (!(e->elig & (1u << j)) ||
            rg_fleet_view_ref(srv->fleet, e->picks[j], &cv) != 0)
            continue;
        c->control_windows++;
        c->control_silent +=
            !(e->heard & (1u << j)) &&
            !rg_canary_heard(cv.last_seen_ms, cv.prev_seen_ms, e->from_ms, end);
    }
    return 0;
}

/* Marks, in e's heard bits, the endpoints that checked in during e's
 * span so far (at now_ms, inside or after it): the fleet keeps only the
 * last two check-ins, so a tick inside the span records them before they
 * are overwritten. */
static void note_heard(rg_server *srv, pend *e, int64_t now_ms)
{
    int64_t end = e->from_ms + e->window_ms;
    if (now_ms < e->from_ms)
        return;
    rg_fleet_view v;
    if (!(e->heard & HEARD_SELF) &&
        rg_fleet_view_ref(srv->fleet, e->ref, &v) == 0 &&
        rg_canary_heard(v.last_seen_ms, v.prev_seen_ms, e->from_ms, end))
        e->heard |= HEARD_SELF;
    for (uint32_t j = 0; j < RG_TALLY_CONTROLS; j++)
        if ((e->elig & ~e->heard & (1u << j)) &&
            rg_fleet_view_ref(srv->fleet, e->picks[j], &v) == 0 &&
            rg_canary_heard(v.last_seen_ms, v.prev_seen_ms, e->from_ms, end))
            e->heard |= 1u << j;
}

/* The learners' proved steps carry over ticks (a proof, once made,
 * holds: silence.h): into x before the scan, with the W each stratum had
 * at the last tick (before any, that of the configured interval). */
static void learners_load(rg_server *srv, const ro_state *st, scan_ctx *x,
                          int64_t plan_window_ms)
{
    for (uint32_t k = 0; k < MAXS; k++) {
        x->act[k].covered = st->covered[k];
        x->win_ms[k] = st->win_ms[k] > 0
                           ? st->win_ms[k]
                           : rg_silence_window_ms(
                                 &x->sp, plan_window_ms,
                                 (int64_t)srv->cfg.checkin_interval_s * 1000);
    }
    x->act_all.covered = st->covered[MAXS];
}

/* After the scan: the learners' tests, kept in st with each stratum's W
 * now (queue_fresh's). */
static void learners_settle(rg_server *srv, ro_state *st, scan_ctx *x,
                            int64_t plan_window_ms)
{
    for (uint32_t k = 0; k < MAXS; k++) {
        rg_act_learner_settle(&x->act[k], &x->sp);
        st->covered[k] = x->act[k].covered;
        st->win_ms[k] = rg_silence_window_ms(
            &x->sp, plan_window_ms,
            rg_interval_typical(&x->ivl[k],
                                (int64_t)srv->cfg.checkin_interval_s * 1000));
    }
    rg_act_learner_settle(&x->act_all, &x->sp);
    st->covered[MAXS] = x->act_all.covered;
}

/* An exposure queued before its A was final starts its span at
 * max(a + A, now) once A is (silence.h), never in the past. */
static void firm_up(const ro_state *st, const scan_ctx *x, pend *e,
                    int64_t now_ms)
{
    if (!e->provisional || e->from_ms <= now_ms ||
        !rg_silence_allowance_final(st->declared_ms, &x->act[e->stratum],
                                    &x->act_all))
        return;
    int64_t from =
        e->apply_ms + rg_silence_allowance_ms(&x->sp, st->declared_ms,
                                              &x->act[e->stratum], &x->act_all);
    e->from_ms = from > now_ms ? from : now_ms;
    e->provisional = false;
}

/* Queues the scan's new exposures with their matched controls, each
 * judged on [a + A, a + A + W) (A: rg_silence_allowance_ms; W:
 * rg_silence_window_ms of the plan's window_ms and the stratum's observed
 * check-in interval, the configured one when none was observed, set by
 * learners_settle). */
static int queue_fresh(rg_server *srv, ro_state *st, scan_ctx *x,
                       const uint32_t *order, const size_t *start,
                       int64_t now_ms)
{
    for (size_t i = 0; i < x->nfr; i++) {
        const fresh *f = &x->fr[i];
        if (grow((void **)&st->q, &st->capq, st->nq + 1, sizeof *st->q) < 0)
            return RG_ENOMEM;
        pend *e = &st->q[st->nq++];
        memset(e, 0, sizeof *e);
        e->ref = f->ref;
        e->stratum = f->stratum;
        e->apply_ms = f->apply_ms;
        e->from_ms = f->apply_ms +
                     rg_silence_allowance_ms(&x->sp, st->declared_ms,
                                             &x->act[f->stratum], &x->act_all);
        e->provisional = !rg_silence_allowance_final(
            st->declared_ms, &x->act[f->stratum], &x->act_all);
        int64_t ivl = rg_interval_typical(
            &x->ivl[f->stratum], (int64_t)srv->cfg.checkin_interval_s * 1000);
        e->window_ms = st->win_ms[f->stratum]; /* learners_settle's */
        size_t lo = start[f->stratum], size = start[f->stratum + 1] - lo;
        bool late = e->from_ms + e->window_ms <= now_ms; /* rebuilt */
        for (uint32_t j = 0; j < RG_TALLY_CONTROLS && size && !late; j++) {
            uint32_t h = rg_murmur3_32(&f->hash, sizeof f->hash, j + 1);
            const scan_ep *c = &x->eps[order[lo + h % size]];
            if (c->ref == f->ref || c->in_rollout ||
                !rg_tally_control_fresh(c->last_seen_ms, f->apply_ms, ivl))
                continue;
            e->picks[j] = c->ref;
            e->elig |= 1u << j;
        }
        rg_fleet_canary_set_ref(srv->fleet, f->ref, st->release_id,
                                RG_CN_QUEUED);
    }
    return 0;
}

/* Publishes the raised shares and budgets for the check-in path. */
static void publish(ro_state *st, const rg_rollout_rec *ro, scan_ctx *x,
                    uint32_t n_strata)
{
    for (uint32_t s = 0; s < n_strata; s++) {
        atomic_store(&st->share[s], rg_exposure_stratum_share(
                                        x->xp, &ro->plan, ro->status.wave,
                                        ro->status.share_ppm, x->size[s],
                                        x->lowest[s], x->n_lowest[s]));
        atomic_store(&st->budget[s], rg_exposure_budget(x->xp, x->healthy[s]));
        uint64_t a = atomic_load(&st->assigned[s]);
        while (a < x->assigned[s] && !atomic_compare_exchange_weak(
                                         &st->assigned[s], &a, x->assigned[s]))
            ;
    }
    atomic_store(&st->measured, true);
}

/* Makes room for n_strata names and tally strata in st, naming the new
 * ones. Returns 0 or RG_ENOMEM. */
static int strata_names(rg_server *srv, ro_state *st, uint32_t n_strata,
                        rg_err *err)
{
    if (st->n_names >= n_strata)
        return 0;
    void *nn = realloc(st->names, n_strata * sizeof *st->names);
    if (nn)
        st->names = nn;
    void *nt = nn ? realloc(st->ts, n_strata * sizeof *st->ts) : NULL;
    if (!nt)
        return rg_err_set(err, RG_ENOMEM, "out of memory");
    st->ts = nt;
    for (uint32_t s = st->n_names; s < n_strata; s++) {
        rg_fleet_stratum_name(srv->fleet, s, st->names[s], RG_STRATUM_NAME_MAX);
        if (!st->names[s][0])
            snprintf(st->names[s], RG_STRATUM_NAME_MAX, "stratum-%u", s);
    }
    st->n_names = n_strata;
    return 0;
}

/* Sets each stratum's early failures: the failures of current-wave
 * exposures (from the scan) that no failed window shows, at most its
 * exposures not counted failed (a failure reported between the scan and
 * the resolution of its window is in the window already). Uses x->room. */
static void early_failures(ro_state *st, scan_ctx *x, uint32_t n_strata)
{
    for (uint32_t s = 0; s < n_strata; s++) {
        st->ts[s].early_failed = x->failed_cur[s];
        x->room[s] = st->ts[s].pending;
    }
    for (size_t i = 0; i < st->ncells; i++) {
        const rg_tally_cell *c = &st->cells[i];
        if (c->stratum >= n_strata)
            continue;
        uint64_t *e = &st->ts[c->stratum].early_failed;
        *e -= *e < c->failed ? *e : c->failed; /* windows show these */
        x->room[c->stratum] += c->healthy + c->silent;
    }
    for (uint32_t s = 0; s < n_strata; s++)
        if (st->ts[s].early_failed > x->room[s])
            st->ts[s].early_failed = x->room[s];
}

int rg_canary_measure(rg_canary *c, rg_server *srv, const rg_rollout_rec *ro,
                      const uint8_t *held, uint32_t n_held, int64_t now_ms,
                      rg_wave_counts *counts, rg_health_gate_ctx *gate,
                      rg_err *err)
{
    int rc = 0;
    rg_exposure_params xp;
    uint32_t *order = NULL;
    size_t *start = NULL;
    scan_ctx *x = NULL;
    memset(counts, 0, sizeof *counts);
    memset(gate, 0, sizeof *gate);
    rg_exposure_params_default(&xp);
    ro_state *st = find_or_add(c, ro);
    if (!st || !(x = calloc(1, sizeof *x))) {
        rc = rg_err_set(err, RG_ENOMEM, "rollout %lld: out of memory",
                        (long long)ro->id);
        goto cleanup;
    }
    if (!st->rebuilt) {
        if ((rc = rg_canary_rebuild(srv, ro, err)) != 0)
            goto cleanup;
        st->rebuilt = true;
    }
    if (st->wave != ro->status.wave)
        enter_wave(st, ro);
    const rg_wave *w = &ro->plan.waves[ro->status.wave];

    x->ro = ro;
    x->now_ms = now_ms;
    rg_silence_params_default(&x->sp);
    if (srv->cfg.activation_cap_s > 0)
        x->sp.cap_ms = (int64_t)srv->cfg.activation_cap_s * 1000;
    x->xp = &xp;
    x->wave_begin_ms = st->wave_begin_ms;
    x->held = held;
    x->n_held = held ? n_held : 0;
    learners_load(srv, st, x, w->window_ms);
    rg_fleet_scan(srv->fleet, scan_one, x);
    learners_settle(srv, st, x, w->window_ms);
    uint32_t n_strata = rg_fleet_strata(srv->fleet);
    if (n_strata > MAXS)
        n_strata = MAXS;
    order = malloc((x->n + 1) * sizeof *order);
    start = calloc(n_strata + 2, sizeof *start);
    if (x->oom || !order || !start) {
        rc = rg_err_set(err, RG_ENOMEM, "rollout %lld: out of memory",
                        (long long)ro->id);
        goto cleanup;
    }
    /* Members of each stratum, in scan order (counting sort). */
    for (size_t i = 0; i < x->n; i++)
        start[x->eps[i].stratum + 1]++;
    for (uint32_t s = 0; s < n_strata; s++)
        start[s + 1] += start[s];
    {
        size_t *fill = calloc(n_strata + 1, sizeof *fill);
        if (!fill) {
            rc = rg_err_set(err, RG_ENOMEM, "out of memory");
            goto cleanup;
        }
        for (size_t i = 0; i < x->n; i++) {
            uint32_t s = x->eps[i].stratum;
            order[start[s] + fill[s]++] = (uint32_t)i;
        }
        free(fill);
    }
    if ((rc = queue_fresh(srv, st, x, order, start, now_ms)) != 0) {
        rg_err_set(err, rc, "rollout %lld: out of memory", (long long)ro->id);
        goto cleanup;
    }
    if ((rc = strata_names(srv, st, n_strata, err)) != 0)
        goto cleanup;
    for (uint32_t s = 0; s < n_strata; s++)
        st->ts[s] = (rg_tally_stratum){.name = st->names[s],
                                       .prior_trials = x->prior_trials[s],
                                       .prior_failed = x->prior_failed[s]};
    /* Resolve ended windows; the rest of this wave's are pending. */
    size_t keep = 0;
    for (size_t i = 0; i < st->nq; i++) {
        pend *e = &st->q[i];
        if (e->from_ms + e->window_ms <= now_ms) {
            if ((rc = resolve(srv, st, e)) != 0) {
                rg_err_set(err, rc, "rollout %lld: out of memory",
                           (long long)ro->id);
                goto cleanup;
            }
            continue;
        }
        firm_up(st, x, e, now_ms);
        note_heard(srv, e, now_ms);
        if (e->apply_ms >= st->wave_begin_ms && e->stratum < n_strata)
            st->ts[e->stratum].pending++;
        st->q[keep++] = *e;
    }
    st->nq = keep;
    publish(st, ro, x, n_strata);
    early_failures(st, x, n_strata);

    /* The gate's input. */
    size_t max = st->ncells + n_strata;
    if (grow((void **)&st->entries, &st->cap_entries, max + 1,
             sizeof *st->entries) < 0) {
        rc = rg_err_set(err, RG_ENOMEM, "out of memory");
        goto cleanup;
    }
    if (max > RG_ANALYZER_MAX_STRATA)
        max = RG_ANALYZER_MAX_STRATA;
    gate->strata = st->entries;
    gate->n_strata = rg_tally_entries(st->cells, st->ncells, st->ts, n_strata,
                                      st->entries, max);

    uint64_t targeted = 0;
    for (uint32_t s = 0; s < n_strata; s++)
        targeted += atomic_load(&st->assigned[s]);
    counts->fleet = x->n; /* the target fleet: held endpoints left out */
    counts->targeted = targeted;
    counts->exposed = x->exposed;
    counts->healthy = x->healthy_total;
    counts->failed = x->failed_total;
    counts->silent = st->silent_total;
cleanup:
    if (x) {
        free(x->eps);
        free(x->fr);
    }
    free(x);
    free(order);
    free(start);
    return rc;
}

/* ------------------------------------------------------------------ */
/* evaluations                                                        */

bool rg_canary_note(rg_canary *c, int64_t id, const rg_gate_result *g,
                    const json_t *evidence, int64_t now_ms, bool stored)
{
    bool want = false;
    pthread_rwlock_rdlock(&c->lock);
    ro_state *s = find(c, id);
    if (!s)
        goto cleanup;
    const char *rule = json_string_value(json_object_get(g->evidence, "rule"));
    if (!rule)
        rule = "";
    pthread_mutex_lock(&c->last_mu);
    if (stored) {
        s->last_verdict = g->verdict;
        snprintf(s->last_rule, sizeof s->last_rule, "%s", rule);
        s->last_stored_ms = now_ms;
    } else {
        json_decref(s->last);
        s->last =
            json_pack("{s:I, s:s, s:s, s:O?}", "at_ms", (json_int_t)now_ms,
                      "verdict", rg_verdict_name(g->verdict), "reason",
                      g->reason, "evidence", (json_t *)evidence);
        want = s->last_verdict != g->verdict ||
               strcmp(s->last_rule, rule) != 0 ||
               now_ms - s->last_stored_ms >= RG_CANARY_PERSIST_MS;
    }
    pthread_mutex_unlock(&c->last_mu);
cleanup:
    pthread_rwlock_unlock(&c->lock);
    return want;
}

json_t *rg_canary_last(rg_canary *c, int64_t id)
{
    json_t *out = NULL;
    pthread_rwlock_rdlock(&c->lock);
    ro_state *s = find(c, id);
    if (s) {
        pthread_mutex_lock(&c->last_mu);
        out = s->last ? json_deep_copy(s->last) : NULL;
        pthread_mutex_unlock(&c->last_mu);
    }
    pthread_rwlock_unlock(&c->lock);
    return out;
}
