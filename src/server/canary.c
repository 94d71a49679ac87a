/* canary.c - see canary.h. */
#include "canary.h"

#include "common/event_type.h"
#include "common/buf.h"
#include "common/log.h"
#include "health/cohort.h"
#include "health/silence.h"
#include "model/bucket.h"
#include "server/ep_state.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define MAXS RG_FLEET_MAX_STRATA

/* One rollout's state. */
typedef struct ro_state {
    int64_t id, release_id;
    bool rebuilt;
    int wave;            /* -1 before the first measure */
    int64_t declared_ms; /* activation maximum, or RG_SILENCE_UNDECLARED */
    /* published to the check-in path */
    _Atomic bool measured;
    _Atomic uint32_t share[MAXS];
    _Atomic uint64_t budget[MAXS];
    _Atomic uint64_t assigned[MAXS];
    /* the tick's */
    rg_cohort *co;       /* the counting (health/cohort.h) */
    rg_cohort_member *m; /* the members handed to co */
    size_t capm;
    rg_stratum_counts *entries;
    size_t cap_entries;
    char (*names)[RG_STRATUM_NAME_MAX];
    const char **name_of; /* n_names: names[s] */
    uint32_t n_names;
    /* latest evaluation (guarded by rg_canary.last_mu) */
    int last_verdict;
    char last_rule[32];
    int64_t last_stored_ms;
    json_t *last;
    bool has_summary;
    rg_ep_summary summary; /* at the latest measure, after its judgements */
} ro_state;

struct rg_canary {
    pthread_rwlock_t lock; /* guards v, n (not the states' contents) */
    ro_state **v;
    size_t n, cap;
    pthread_mutex_t last_mu;
};

/* An exposure or a failure the scan found the tracker has not seen. */
typedef struct fresh {
    uint32_t ref, stratum;
    uint64_t key;
    int64_t apply_ms;
} fresh;

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
    rg_cohort_free(s->co);
    free(s->m);
    free(s->entries);
    free(s->names);
    free(s->name_of);
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

/* A new state for rollout ro, or NULL when out of memory. */
static ro_state *state_new(const rg_rollout_rec *ro)
{
    ro_state *s = calloc(1, sizeof *s);
    if (!s || !(s->co = rg_cohort_new(MAXS))) {
        free(s);
        return NULL;
    }
    s->id = ro->id;
    s->release_id = ro->release_id;
    s->wave = -1;
    s->declared_ms = RG_SILENCE_UNDECLARED;
    s->last_verdict = -1;
    return s;
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
    if (!s && c->n < c->cap && (s = state_new(ro)))
        c->v[c->n++] = s;
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
    int t = rg_event_type_parse(e->type);
    if (e->received_ms < r->since_ms || t < 0)
        return 0;
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
    ro_state *st; /* its members: st->m[0..n) */
    size_t n;
    fresh *fr; /* exposures the tracker has not taken in */
    size_t nfr, capfr;
    fresh *ff; /* failures it has not counted */
    size_t nff, capff;
    uint64_t size[MAXS], grown[MAXS], assigned[MAXS];
    uint32_t lowest[MAXS][RG_EXPOSURE_MAX_PER_STRATUM];
    size_t n_lowest[MAXS];
    uint64_t exposed, healthy_total, failed_total;
    rg_ep_tally tally;    /* by state (ep_state.h) */
    rg_silence_params sp; /* W and the activation allowance's */
    int64_t now_ms;
    rg_interval_hist ivl[MAXS]; /* observed check-in intervals */
    int oom;
} scan_ctx;

/* Appends to a list of fresh records; false when out of memory. */
static bool add_fresh(fresh **v, size_t *n, size_t *cap, fresh f)
{
    if (rg_array_reserve((void **)v, cap, *n + 1, sizeof **v) < 0)
        return false;
    (*v)[(*n)++] = f;
    return true;
}

/* What the scan counts of an endpoint that has a slot for the release. */
static void scan_slot(scan_ctx *x, const rg_fleet_view *v,
                      const rg_fleet_canary *cn)
{
    uint32_t flags = cn->flags;
    rg_ep_tally_add(&x->tally, cn, true); /* the tick judges what it scans */
    if (flags & RG_CN_ASSIGNED)
        x->assigned[v->stratum]++;
    if (flags & RG_CN_HEALTHY) {
        x->grown[v->stratum] +=
            rg_exposure_grows(x->ro->plan.grow_after_ms, cn->healthy_ms,
                              flags & RG_CN_FAILED, x->now_ms);
        x->healthy_total++;
    }
    if (flags & RG_CN_FAILED)
        x->failed_total++;
    if (!(flags & RG_CN_EXPOSED))
        return;
    x->exposed++;
    fresh f = {.ref = v->ref,
               .stratum = v->stratum,
               .key = x->st->m[x->n].key,
               .apply_ms = cn->apply_ms};
    if ((!(flags & RG_CN_QUEUED) &&
         !add_fresh(&x->fr, &x->nfr, &x->capfr, f)) ||
        ((flags & RG_CN_FAILED) && !(flags & RG_CN_COUNTED) &&
         !add_fresh(&x->ff, &x->nff, &x->capff, f)))
        x->oom = 1;
}

static int scan_one(void *ctx, const rg_fleet_view *v)
{
    scan_ctx *x = ctx;
    ro_state *st = x->st;
    /* Held endpoints are outside the rollout: neither exposed nor control.
     * A profile newer than the table is left out until the next tick. */
    if (v->stratum >= MAXS ||
        (x->held && (v->profile >= x->n_held || x->held[v->profile])))
        return 0;
    if (rg_array_reserve((void **)&st->m, &st->capm, x->n + 1, sizeof *st->m) <
        0) {
        x->oom = 1;
        return 1;
    }
    st->m[x->n] = (rg_cohort_member){
        .key = rg_cohort_key(v->id), .ref = v->ref, .stratum = v->stratum};
    x->size[v->stratum]++;
    if (v->prev_seen_ms > 0)
        rg_interval_add(&x->ivl[v->stratum], v->last_seen_ms - v->prev_seen_ms);
    rg_exposure_track_lowest(x->lowest[v->stratum], &x->n_lowest[v->stratum],
                             x->xp->min_per_stratum,
                             rg_bucket(x->ro->salt, v->id));
    const rg_fleet_canary *cn = rg_fleet_canary_of(v, x->ro->release_id);
    if (cn && cn->flags)
        scan_slot(x, v, cn);
    x->n++;
    return x->oom;
}

/* What the tracker asks of endpoint ref (health/cohort.h). */
typedef struct src_ctx {
    rg_fleet *fleet;
    int64_t release;
    rg_ep_tally *tally; /* the scan's, kept exact through the judgements */
} src_ctx;

static int seen_ref(void *ctx, uint32_t ref, rg_cohort_seen *out)
{
    const src_ctx *sc = ctx;
    rg_fleet_view v;
    if (rg_fleet_view_ref(sc->fleet, ref, &v) != 0)
        return -1;
    const rg_fleet_canary *cn = rg_fleet_canary_of(&v, sc->release);
    uint32_t flags = cn ? cn->flags : 0;
    *out = (rg_cohort_seen){.last_ms = v.last_seen_ms,
                            .prev_ms = v.prev_seen_ms,
                            .healthy_ms =
                                (flags & RG_CN_HEALTHY) ? cn->healthy_ms : 0,
                            .failed = flags & RG_CN_FAILED,
                            .in_rollout = flags != 0};
    return 0;
}

static int contacts_ref(void *ctx, uint32_t ref, int64_t *last_ms,
                        int64_t *prev_ms)
{
    const src_ctx *sc = ctx;
    rg_fleet_view v;
    if (rg_fleet_view_ref(sc->fleet, ref, &v) != 0)
        return -1;
    *last_ms = v.last_seen_ms;
    *prev_ms = v.prev_seen_ms;
    return 0;
}

static void judged_ref(void *ctx, uint32_t ref, bool silent)
{
    const src_ctx *sc = ctx;
    rg_ep_state_judged(sc->fleet, ref, sc->release, silent, sc->tally);
}

/* Hands the scan's members, the release's activation, new exposures and
 * new failures to the tracker; each exposure is judged on
 * [a + A, a + A + W) (A: the tracker's; W: rg_silence_window_ms of the
 * plan's window_ms and the stratum's observed check-in interval, the
 * configured one when none was observed). Returns 0 or RG_ENOMEM. */
static int feed(rg_server *srv, ro_state *st, scan_ctx *x,
                const rg_cohort_src *src, uint32_t n_strata,
                int64_t plan_window_ms)
{
    rg_cohort_members(st->co, st->m, x->n, n_strata);
    rg_cohort_activation(st->co, &x->sp, st->declared_ms);
    rg_cohort_soak(st->co, x->ro->plan.soak_ms);
    for (size_t i = 0; i < x->nfr; i++) {
        const fresh *f = &x->fr[i];
        int64_t ivl = rg_interval_typical(
            &x->ivl[f->stratum], (int64_t)srv->cfg.checkin_interval_s * 1000);
        if (rg_cohort_expose(st->co, src, f->ref, f->key, f->stratum,
                             f->apply_ms,
                             rg_silence_window_ms(&x->sp, plan_window_ms, ivl),
                             ivl, x->now_ms) != 0)
            return RG_ENOMEM;
        rg_fleet_canary_set_ref(srv->fleet, f->ref, st->release_id,
                                RG_CN_QUEUED);
    }
    for (size_t i = 0; i < x->nff; i++) {
        rg_cohort_failed(st->co, x->ff[i].stratum, x->ff[i].apply_ms);
        rg_fleet_canary_set_ref(srv->fleet, x->ff[i].ref, st->release_id,
                                RG_CN_COUNTED);
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
        atomic_store(&st->budget[s], rg_exposure_budget(x->xp, x->grown[s]));
        uint64_t a = atomic_load(&st->assigned[s]);
        while (a < x->assigned[s] && !atomic_compare_exchange_weak(
                                         &st->assigned[s], &a, x->assigned[s]))
            ;
    }
    atomic_store(&st->measured, true);
}

/* Makes room for n_strata names in st, naming the new ones. Returns 0 or
 * RG_ENOMEM. */
static int strata_names(rg_server *srv, ro_state *st, uint32_t n_strata,
                        rg_err *err)
{
    if (st->n_names >= n_strata)
        return 0;
    void *nn = realloc(st->names, n_strata * sizeof *st->names);
    if (nn)
        st->names = nn;
    void *np = nn ? realloc(st->name_of, n_strata * sizeof *st->name_of) : NULL;
    if (!np)
        return rg_err_set(err, RG_ENOMEM, "out of memory");
    st->name_of = np;
    for (uint32_t s = 0; s < n_strata; s++)
        st->name_of[s] = st->names[s];
    for (uint32_t s = st->n_names; s < n_strata; s++) {
        rg_fleet_stratum_name(srv->fleet, s, st->names[s], RG_STRATUM_NAME_MAX);
        if (!st->names[s][0])
            snprintf(st->names[s], RG_STRATUM_NAME_MAX, "stratum-%u", s);
    }
    st->n_names = n_strata;
    return 0;
}

/* The gate's input from the tracker into st->entries. Returns 0 or
 * RG_ENOMEM. */
static int gate_input(ro_state *st, uint32_t n_strata, rg_health_gate_ctx *gate)
{
    size_t max = (size_t)RG_ANALYZER_MAX_STRATA;
    if (rg_array_reserve((void **)&st->entries, &st->cap_entries, max,
                         sizeof *st->entries) < 0)
        return RG_ENOMEM;
    gate->strata = st->entries;
    gate->n_strata =
        rg_cohort_entries(st->co, st->name_of, n_strata, st->entries, max);
    return 0;
}

/* Scans the fleet for ro into x (x->st, x->held set). Returns 0 or
 * RG_ENOMEM. */
static int scan(rg_server *srv, const rg_rollout_rec *ro, scan_ctx *x,
                int64_t now_ms)
{
    x->ro = ro;
    x->now_ms = now_ms;
    rg_silence_params_default(&x->sp);
    if (srv->cfg.activation_cap_s > 0)
        x->sp.cap_ms = (int64_t)srv->cfg.activation_cap_s * 1000;
    rg_fleet_scan(srv->fleet, scan_one, x);
    return x->oom ? RG_ENOMEM : 0;
}

/* Keeps the measure's summary for rg_canary_summary. */
static void keep_summary(rg_canary *c, ro_state *st, const rg_wave_counts *n,
                         const rg_ep_tally *t)
{
    pthread_mutex_lock(&c->last_mu);
    st->summary = (rg_ep_summary){
        .fleet = n->fleet, .targeted = n->targeted, .by_state = *t};
    st->has_summary = true;
    pthread_mutex_unlock(&c->last_mu);
}

int rg_canary_measure(rg_canary *c, rg_server *srv, const rg_rollout_rec *ro,
                      const uint8_t *held, uint32_t n_held, int64_t now_ms,
                      rg_wave_counts *counts, rg_health_gate_ctx *gate,
                      rg_err *err)
{
    int rc = 0;
    rg_exposure_params xp;
    scan_ctx *x = NULL;
    memset(counts, 0, sizeof *counts);
    memset(gate, 0, sizeof *gate);
    rg_exposure_params_default(&xp);
    ro_state *st = find_or_add(c, ro);
    if (!st || !(x = calloc(1, sizeof *x)))
        goto oom;
    if (!st->rebuilt) {
        if ((rc = rg_canary_rebuild(srv, ro, err)) != 0)
            goto cleanup;
        st->rebuilt = true;
    }
    if (st->wave != ro->status.wave) {
        st->wave = ro->status.wave;
        rg_cohort_wave(st->co, ro->status.wave_started_ms);
    }
    x->st = st;
    x->xp = &xp;
    x->held = held;
    x->n_held = held ? n_held : 0;
    uint32_t n_strata = rg_fleet_strata(srv->fleet);
    if (n_strata > MAXS)
        n_strata = MAXS;
    src_ctx sc = {
        .fleet = srv->fleet, .release = st->release_id, .tally = &x->tally};
    rg_cohort_src src = {.ctx = &sc,
                         .seen = seen_ref,
                         .contacts = contacts_ref,
                         .judged = judged_ref};
    if (scan(srv, ro, x, now_ms) != 0 ||
        feed(srv, st, x, &src, n_strata,
             ro->plan.waves[ro->status.wave].window_ms) != 0 ||
        rg_cohort_tick(st->co, &src, now_ms) != 0)
        goto oom;
    publish(st, ro, x, n_strata);
    if ((rc = strata_names(srv, st, n_strata, err)) != 0)
        goto cleanup;
    if (gate_input(st, n_strata, gate) != 0)
        goto oom;
    uint64_t targeted = 0;
    for (uint32_t s = 0; s < n_strata; s++)
        targeted += atomic_load(&st->assigned[s]);
    counts->fleet = x->n; /* the target fleet: held endpoints left out */
    counts->targeted = targeted;
    counts->exposed = x->exposed;
    counts->healthy = x->healthy_total;
    counts->failed = x->failed_total;
    counts->silent = rg_cohort_silent_total(st->co);
    keep_summary(c, st, counts, &x->tally);
    goto cleanup;
oom:
    rc = rg_err_set(err, RG_ENOMEM, "rollout %lld: out of memory",
                    (long long)ro->id);
cleanup:
    if (x) {
        free(x->fr);
        free(x->ff);
    }
    free(x);
    return rc;
}

bool rg_canary_soaking(rg_canary *c, const rg_rollout_rec *ro, int64_t now_ms)
{
    bool soaking = true;
    pthread_rwlock_rdlock(&c->lock);
    ro_state *s = find(c, ro->id);
    if (s && atomic_load(&s->measured))
        soaking = rg_cohort_soaking(s->co, now_ms);
    pthread_rwlock_unlock(&c->lock);
    return soaking;
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

bool rg_canary_summary(rg_canary *c, int64_t id, rg_ep_summary *out)
{
    bool has = false;
    pthread_rwlock_rdlock(&c->lock);
    ro_state *s = find(c, id);
    if (s) {
        pthread_mutex_lock(&c->last_mu);
        if ((has = s->has_summary))
            *out = s->summary;
        pthread_mutex_unlock(&c->last_mu);
    }
    pthread_rwlock_unlock(&c->lock);
    return has;
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
