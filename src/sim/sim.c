/* sim.c - see sim.h. */
#include "sim.h"

#include "common/buf.h"
#include "health/analyzer.h"
#include "health/cohort.h"
#include "health/gate.h"
#include "health/resolve.h"
#include "health/silence.h"
#include "health/tally.h"
#include "flags/share.h"
#include "model/bucket.h"
#include "model/exposure.h"
#include "model/rollout.h"
#include "sim/fault.h"
#include "sim/fleetmodel.h"
#include "sim/policy.h"
#include "sim/rng.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Endpoint states (low 4 bits of the state byte). */
enum {
    ST_IDLE = 0,       /* not assigned: control cohort */
    ST_ASSIGNED,       /* assigned; downloading (EV_APPLY pending) */
    ST_APPLY_RETRY,    /* `applying` did not get through; next check-in */
    ST_ACTIVATING,     /* exposed; EV_ACTIVATE pending */
    ST_REPORT_HEALTHY, /* running the release; `healthy` not delivered */
    ST_HEALTHY,        /* running the release; `healthy` delivered */
    ST_REPORT_FAILED,  /* apply failed; `failed` not delivered */
    ST_FAILED,         /* `failed` delivered */
    ST_DOWN,           /* crashed, boot-looping, silent */
    ST_REPORT_CRASHED, /* reverted by its agent; `crashed` not delivered */
    ST_CRASHED,        /* `crashed` delivered */
    ST_REVERTED,       /* returned to the previous release after a halt */
    ST_UNREPORTED,     /* failed or crashed, reverted, reports nothing */
    ST_HUNG,           /* dark for good (fault.h hang) */
};
#define ST_MASK 0x0f
#define ST_INTERNAL 0x10
#define ST_GROWN 0x20       /* counted in grown_s (grow) */
#define ST_REBOOTING 0x40   /* rebooting to activate: unreachable */
#define ST_WAS_HEALTHY 0x80 /* `healthy` delivered once */

/* Timer wheel events: endpoint index (bits 0-31), kind (32-35). */
enum {
    EV_APPLY = 1,
    EV_ACTIVATE,
    EV_RECOVER,
    EV_REBOOT,  /* activation reboot begins (fleetmodel unreachable_s) */
    EV_ONSET,   /* a delayed fault strikes (fault.h) */
    EV_CHECKIN, /* a check-in late by its jitter */
};
#define EV(idx, kind) ((uint64_t)(idx) | (uint64_t)(kind) << 32)

#define SETTLE_S                                                               \
    600                /* simulated after a halt or completion, plus the       \
                          longest fault onset */
#define COVERAGE_S 30  /* coverage sampling step */
#define PROGRESS_S 300 /* progress line step */

typedef struct slot {
    uint64_t *v;
    size_t n, cap;
} slot;

/* What rollgated would know of an endpoint (one record: the tracker's
 * questions cost one cache line). Seconds + 1; 0: never. */
typedef struct seen_rec {
    uint32_t last_ok;   /* the last contact */
    uint32_t prev_ok;   /* the contact before */
    uint32_t healthy_T; /* `healthy` got through */
} seen_rec;

typedef struct sim {
    const rg_scenario *sc;
    int policy;
    uint64_t seed;
    rg_rng rng;
    uint32_t n;
    int P;      /* heartbeat interval = number of blocks */
    size_t S;   /* strata */
    int64_t T0; /* rollout start (after warm-up) */
    /* endpoints */
    uint32_t *bucket;
    seen_rec *seen; /* what rollgated would know of each */
    uint8_t *stratum;
    uint8_t *state;
    uint32_t *apply_T;     /* second the exposure began */
    uint32_t *block_start; /* P + 1 */
    uint32_t *sub;         /* P * (S + 1): stratum offsets inside a block */
    rg_fleetmodel fm;      /* reachability and check-in schedule */
    /* timer wheel */
    slot *wheel;
    size_t wheel_n;
    /* rollout */
    rg_rollout_status st;
    rg_rollout_status st_s[RG_SIM_MAX_STRATA]; /* per stratum (floors) */
    uint32_t lowest[RG_SIM_MAX_STRATA][RG_EXPOSURE_MAX_PER_STRATUM];
    size_t n_lowest[RG_SIM_MAX_STRATA];
    uint64_t stratum_size[RG_SIM_MAX_STRATA];
    uint64_t assigned_s[RG_SIM_MAX_STRATA];
    /* healthy reports that grow their stratum's budget (grow) */
    uint64_t grown_s[RG_SIM_MAX_STRATA];
    uint32_t *grow_q; /* endpoints in the order of their first healthy */
    size_t grow_n, grow_cap, grow_head;
    rg_stratum_state sst[RG_SIM_MAX_STRATA]; /* the gate's, as rollgated's */
    /* the counting, as rollgated's (health/cohort.h) */
    rg_cohort *co;
    rg_cohort_member *members; /* the fleet, handed to co once */
    uint32_t *fresh;           /* exposures since the last tick */
    size_t n_fresh, cap_fresh;
    const char *names[RG_SIM_MAX_STRATA];
    /* one definition of silence (health/silence.h) */
    rg_silence_params sp;
    rg_interval_hist *ivl;      /* S: gaps between the last two contacts */
    int64_t wave_T;             /* second the current wave started */
    rg_stratum_counts *entries; /* gate input, n_entries */
    size_t n_entries;
    /* what the server would see, reported to the recorder (may be NULL) */
    const rg_sim_recorder *rec;
    /* totals */
    uint64_t assigned, exposed, healthy, failed, damage, reverted;
    uint64_t running;
    /* fixed-bake measurements */
    rg_fixed_bake_ctx fb;
    /* outcome */
    int64_t halt_T, complete_T, first_crash_T, t99_T;
    int64_t settle_s; /* simulated after a halt or completion */
    int64_t soak_s;   /* after completion, when the gate watches (Rollgate
                         policy): the plan's soak */
    bool stop;
    bool trace;
    json_t *decisions;
} sim;

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

/* Stratum k's typical check-in interval as rollgated observes it (the
 * gap between its endpoints' last two contacts, silence.h), its
 * configured one before any gap, in ms. */
static int64_t interval_ms(const sim *s, size_t k)
{
    return rg_interval_typical(
        &s->ivl[k], (int64_t)rg_fleetmodel_interval(&s->fm, (int)k) * 1000);
}

/* The recorder's view of what reached rollgated (sim.h). */
static void record_event(const sim *s, uint32_t i, int what, int64_t T)
{
    if (s->rec)
        s->rec->event(s->rec->ctx, i, what, T * 1000);
}

/* ---- fleet ---------------------------------------------------------- */

/* Whether endpoint i is in the internal ring; a flag rollout has none
 * (every endpoint evaluates the same share). */
static bool internal_of(const sim *s, uint32_t i)
{
    return !s->sc->flag[0] && (s->state[i] & ST_INTERNAL);
}

/* Whether the scenario is a guarded flag rollout (scenario.h). */
static bool is_flag(const sim *s)
{
    return s->sc->flag[0] != 0;
}

/* Whether endpoint i is exposed to the release (applying delivered, not
 * returned to the previous release). */
static bool is_exposed(const sim *s, uint32_t i)
{
    int st = s->state[i] & ST_MASK;
    return st >= ST_ACTIVATING && st != ST_REVERTED;
}

/* Whether endpoint i can reach the server at second T (before loss). */
static bool online(const sim *s, uint32_t i, int64_t T)
{
    return rg_fleetmodel_online(&s->fm, i, s->stratum[i], is_exposed(s, i), T);
}

/* Whether a contact attempt of endpoint i at second T gets through. */
static bool reach(sim *s, uint32_t i, int64_t T)
{
    uint64_t loss = s->fm.loss_thr[s->stratum[i]];
    if ((s->state[i] & ST_REBOOTING) || !online(s, i, T))
        return false;
    if (loss && rg_rng_next(&s->rng) < loss)
        return false;
    /* the gap between the last two contacts, which rollgated observes */
    seen_rec *v = &s->seen[i];
    int64_t was = v->prev_ok ? (int64_t)v->last_ok - v->prev_ok : 0;
    int64_t now = v->last_ok ? T + 1 - (int64_t)v->last_ok : 0;
    if (was != now) {
        rg_interval_remove(&s->ivl[s->stratum[i]], was * 1000);
        rg_interval_add(&s->ivl[s->stratum[i]], now * 1000);
    }
    v->prev_ok = v->last_ok;
    v->last_ok = (uint32_t)(T + 1);
    record_event(s, i, RG_SIM_REC_CONTACT, T);
    return true;
}

static bool has_exact(const rg_scenario *sc)
{
    for (size_t k = 0; k < sc->n_strata; k++)
        if (sc->stratum_exact[k])
            return true;
    return false;
}

/* Phase block g's bounds per stratum (sub[k] .. sub[k + 1]) when some
 * strata have an exact size: such a stratum of c endpoints takes
 * floor(c (g + 1) / P) - floor(c g / P) of the block (c in all, spread
 * over the phases), the strata sized by share divide the rest of the
 * block in proportion (knobs.c keeps their room at least half). */
static void layout_exact(const rg_scenario *sc, size_t g, size_t P,
                         uint32_t size, uint32_t *sub)
{
    size_t S = sc->n_strata;
    uint32_t quota[RG_SIM_MAX_STRATA], rest = size;
    double total = 0.0, cum = 0.0;
    for (size_t k = 0; k < S; k++) {
        uint64_t c = sc->stratum_exact[k];
        quota[k] = (uint32_t)(c * (g + 1) / P - c * g / P);
        quota[k] = quota[k] < rest ? quota[k] : rest;
        rest -= quota[k];
        total += c ? 0.0 : sc->shares[k];
    }
    uint32_t placed = 0; /* of rest, by the share strata before k */
    sub[0] = 0;
    for (size_t k = 0; k < S; k++) {
        uint32_t n = quota[k];
        if (!sc->stratum_exact[k]) {
            cum += sc->shares[k];
            uint32_t upto = (uint32_t)(rest * (cum / total) + 0.5);
            n = upto - placed;
            placed = upto;
        }
        sub[k + 1] = sub[k] + n;
    }
    sub[S] = size;
}

static int build_fleet(sim *s, rg_err *err)
{
    const rg_scenario *sc = s->sc;
    uint32_t n = s->n;
    size_t S = s->S, P = (size_t)s->P;
    char salt[48], id[32];
    s->bucket = malloc((size_t)n * sizeof *s->bucket);
    s->seen = calloc(n, sizeof *s->seen);
    s->stratum = malloc(n);
    s->state = calloc(n, 1);
    s->apply_T = calloc(n, sizeof *s->apply_T);
    s->block_start = malloc((P + 1) * sizeof *s->block_start);
    s->sub = malloc(P * (S + 1) * sizeof *s->sub);
    s->members = malloc((size_t)n * sizeof *s->members);
    if (!s->bucket || !s->seen || !s->stratum || !s->state || !s->apply_T ||
        !s->block_start || !s->sub || !s->members)
        return rg_err_set(err, RG_ENOMEM, "sim: out of memory for %u endpoints",
                          n);
    double cum[RG_SIM_MAX_STRATA + 1];
    cum[0] = 0.0;
    for (size_t k = 0; k < S; k++)
        cum[k + 1] = cum[k] + sc->shares[k];
    for (size_t g = 0; g <= P; g++)
        s->block_start[g] = (uint32_t)((uint64_t)n * g / P);
    for (size_t g = 0; g < P; g++) {
        uint32_t size = s->block_start[g + 1] - s->block_start[g];
        uint32_t *sub = s->sub + g * (S + 1);
        for (size_t k = 0; k <= S; k++)
            sub[k] = k == S ? size : (uint32_t)(size * cum[k] + 0.5);
        if (has_exact(sc))
            layout_exact(sc, g, P, size, sub);
        for (size_t k = 0; k < S; k++) {
            for (uint32_t j = sub[k]; j < sub[k + 1]; j++)
                s->stratum[s->block_start[g] + j] = (uint8_t)k;
            s->stratum_size[k] += sub[k + 1] - sub[k];
        }
    }
    snprintf(salt, sizeof salt, "sim-%" PRIu64, s->seed);
    for (uint32_t i = 0; i < n; i++) {
        snprintf(id, sizeof id, "ep-%u", i);
        s->bucket[i] = is_flag(s) ? rg_flag_share_bucket(sc->flag, id)
                                  : rg_bucket(salt, id);
        size_t k = s->stratum[i];
        s->members[i] = (rg_cohort_member){
            .key = rg_cohort_key(id), .ref = i, .stratum = (uint32_t)k};
        rg_exposure_track_lowest(s->lowest[k], &s->n_lowest[k],
                                 sc->exposure.min_per_stratum, s->bucket[i]);
    }
    for (uint32_t chosen = 0; chosen < sc->internal;) {
        uint32_t i = (uint32_t)(rg_rng_next(&s->rng) % n);
        if (!(s->state[i] & ST_INTERNAL)) {
            s->state[i] |= ST_INTERNAL;
            chosen++;
        }
    }
    return 0;
}

/* ---- timer wheel ---------------------------------------------------- */

static int schedule(sim *s, int64_t T, int64_t delay, uint64_t ev, rg_err *err)
{
    if (delay < 1)
        delay = 1;
    slot *q = &s->wheel[(size_t)((T + delay) % (int64_t)s->wheel_n)];
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 64;
        uint64_t *v = realloc(q->v, cap * sizeof *v);
        if (!v)
            return rg_err_set(err, RG_ENOMEM, "sim: out of memory for events");
        q->v = v;
        q->cap = cap;
    }
    q->v[q->n++] = ev;
    return 0;
}

static int64_t uniform(sim *s, int lo, int hi)
{
    return lo + (int64_t)(rg_rng_next(&s->rng) % (uint64_t)(hi - lo + 1));
}

/* ---- rollout view --------------------------------------------------- */

/* Recomputes the per-stratum statuses: Rollgate's stratified floors, for
 * a release's waves and a flag's alike (rollgated names a flag's floor
 * endpoints in the flag: server/flag_floor.h). */
static void refresh_status(sim *s)
{
    for (size_t k = 0; k < s->S; k++) {
        s->st_s[k] = s->st;
        if (s->policy == RG_SIM_ROLLGATE)
            s->st_s[k].share_ppm = rg_exposure_stratum_share(
                &s->sc->exposure, &s->sc->plan, s->st.wave, s->st.share_ppm,
                s->stratum_size[k], s->lowest[k], s->n_lowest[k]);
    }
}

static bool assigns(const sim *s, uint32_t i)
{
    return rg_rollout_assigns(&s->sc->plan, &s->st_s[s->stratum[i]],
                              s->bucket[i], internal_of(s, i));
}

static void set_state(sim *s, uint32_t i, int st)
{
    s->state[i] = (uint8_t)((s->state[i] & ~ST_MASK) | st);
}

static int state_of(const sim *s, uint32_t i)
{
    return s->state[i] & ST_MASK;
}

/* ---- endpoint life -------------------------------------------------- */

/* `healthy` of endpoint i got through at T. Returns 0 or RG_ENOMEM. */
static int deliver_healthy(sim *s, uint32_t i, int64_t T)
{
    set_state(s, i, ST_HEALTHY);
    if (!(s->state[i] & ST_WAS_HEALTHY)) {
        s->seen[i].healthy_T = (uint32_t)(T + 1);
        record_event(s, i, RG_SIM_REC_HEALTHY, T);
        if (rg_array_reserve((void **)&s->grow_q, &s->grow_cap, s->grow_n + 1,
                             sizeof *s->grow_q) < 0)
            return RG_ENOMEM;
        s->grow_q[s->grow_n++] = i;
    }
    s->state[i] |= ST_WAS_HEALTHY;
    s->healthy++;
    return 0;
}

/* Counts in grown_s, by second T, the first healthy reports that grow
 * their stratum's budget (model/exposure.h rg_exposure_grows, as
 * rollgated's scan counts them): in the order they arrived, each once it
 * is the plan's grow_after old, unless its endpoint failed by then. */
static void grow(sim *s, int64_t T)
{
    int64_t after = s->sc->plan.grow_after_ms;
    for (; s->grow_head < s->grow_n; s->grow_head++) {
        uint32_t i = s->grow_q[s->grow_head];
        int64_t healthy_ms = ((int64_t)s->seen[i].healthy_T - 1) * 1000;
        int st = state_of(s, i);
        if (T * 1000 - healthy_ms < after)
            return;
        if (rg_exposure_grows(after, healthy_ms,
                              st == ST_FAILED || st == ST_CRASHED, T * 1000)) {
            s->state[i] |= ST_GROWN;
            s->grown_s[s->stratum[i]]++;
        }
    }
}

/* A failure report of exposed endpoint i got through at T: it counts at
 * once (cohort.h), as the current wave's or an earlier wave's. */
static void deliver_failure(sim *s, uint32_t i, int st, int64_t T)
{
    set_state(s, i, st);
    s->failed++;
    if (s->state[i] & ST_GROWN) { /* it no longer grows the budget */
        s->state[i] &= (uint8_t)~ST_GROWN;
        s->grown_s[s->stratum[i]]--;
    }
    rg_cohort_failed(s->co, s->stratum[i], (int64_t)s->apply_T[i] * 1000);
    record_event(s, i,
                 st == ST_CRASHED ? RG_SIM_REC_CRASHED : RG_SIM_REC_FAILED, T);
}

static rg_fate fate_of(const sim *s, uint32_t i)
{
    return rg_fault_fate(s->sc, s->seed, i, s->stratum[i]);
}

/* A uniform draw in (0, 1) from the run's stream. */
static double unit(sim *s)
{
    return ((double)(rg_rng_next(&s->rng) >> 11) + 0.5) / 9007199254740992.0;
}

/* An activation delay drawn as release.healthy_after_dist says (a
 * uniform one takes exactly one draw, as it always did). */
static int64_t activation_delay(sim *s)
{
    const rg_scenario *sc = s->sc;
    const rg_sim_delay *d = &sc->delay;
    int lo = sc->healthy_min_s, hi = sc->healthy_max_s;
    if (d->kind == RG_SIM_DELAY_BIMODAL)
        return unit(s) < d->slow_share ? hi : uniform(s, lo, d->fast_max_s);
    if (d->kind != RG_SIM_DELAY_LOGNORMAL)
        return uniform(s, lo, hi);
    double u = unit(s), v = unit(s); /* Box-Muller, in a fixed order */
    double z = sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
    double x = d->median_s * exp(d->sigma * z);
    return x < lo ? lo : x > hi ? hi : (int64_t)x;
}

/* Schedules the end of exposed endpoint i's activation (and the reboot
 * that makes it unreachable before, if the release reboots). */
static int activate_later(sim *s, uint32_t i, int64_t T, rg_err *err)
{
    const rg_sim_activation *a = &s->sc->activation;
    int64_t delay = activation_delay(s);
    int rc = schedule(s, T, delay, EV(i, EV_ACTIVATE), err);
    if (rc != 0 || a->unreachable_max_s == 0)
        return rc;
    int64_t down = uniform(s, a->unreachable_min_s, a->unreachable_max_s);
    return down > 0 ? schedule(s, T, delay - down, EV(i, EV_REBOOT), err) : 0;
}

/* Cancels an assignment the rollout no longer makes. */
static void unassign(sim *s, uint32_t i)
{
    set_state(s, i, ST_IDLE);
    s->assigned--;
    s->assigned_s[s->stratum[i]]--;
}

/* `applying` got through at T: exposure begins; the tracker takes it in
 * at the next tick, as rollgated's scan does. */
static int expose(sim *s, uint32_t i, int64_t T, rg_err *err)
{
    set_state(s, i, ST_ACTIVATING);
    s->apply_T[i] = (uint32_t)T;
    s->exposed++;
    record_event(s, i, RG_SIM_REC_APPLYING, T);
    if (s->first_crash_T < 0 && fate_of(s, i).kind == RG_FATE_CRASH)
        s->first_crash_T = T;
    if (s->policy != RG_SIM_ROLLGATE)
        return activate_later(s, i, T, err);
    if (rg_array_reserve((void **)&s->fresh, &s->cap_fresh, s->n_fresh + 1,
                         sizeof *s->fresh) < 0)
        return rg_err_set(err, RG_ENOMEM, "sim: out of memory");
    s->fresh[s->n_fresh++] = i;
    return activate_later(s, i, T, err);
}

/* Endpoint i's fault strikes at T (at activation, or after its onset
 * while it ran the release). */
static int strike(sim *s, uint32_t i, rg_fate f, int64_t T, rg_err *err)
{
    s->damage++;
    switch (f.kind) {
    case RG_FATE_CRASH:
        set_state(s, i, ST_DOWN);
        return schedule(s, T, s->sc->crash_revert_s, EV(i, EV_RECOVER), err);
    case RG_FATE_FAIL:
        if (!f.reported)
            set_state(s, i, ST_UNREPORTED);
        else if (reach(s, i, T))
            deliver_failure(s, i, ST_FAILED, T);
        else
            set_state(s, i, ST_REPORT_FAILED);
        return 0;
    default:
        set_state(s, i, ST_HUNG);
        return 0;
    }
}

/* Endpoint i's activation ended at T. */
static int activated(sim *s, uint32_t i, int64_t T, rg_err *err)
{
    rg_fate f = fate_of(s, i);
    s->state[i] &= (uint8_t)~ST_REBOOTING;
    if (f.kind != RG_FATE_OK && f.onset_s == 0)
        return strike(s, i, f, T, err);
    s->running++;
    if (!reach(s, i, T))
        set_state(s, i, ST_REPORT_HEALTHY);
    else if (deliver_healthy(s, i, T) != 0)
        return rg_err_set(err, RG_ENOMEM, "sim: out of memory");
    return f.kind == RG_FATE_OK
               ? 0
               : schedule(s, T, f.onset_s, EV(i, EV_ONSET), err);
}

static int heartbeat(sim *s, uint32_t i, int64_t T, rg_err *err);

static int on_event(sim *s, uint64_t ev, int64_t T, rg_err *err)
{
    uint32_t i = (uint32_t)ev;
    int kind = (int)(ev >> 32 & 0xf);
    int st = state_of(s, i);
    switch (kind) {
    case EV_APPLY:
        if (st != ST_ASSIGNED)
            return 0;
        if (!assigns(s, i))
            unassign(s, i);
        else if (reach(s, i, T))
            return expose(s, i, T, err);
        else
            set_state(s, i, ST_APPLY_RETRY);
        return 0;
    case EV_ACTIVATE:
        return activated(s, i, T, err);
    case EV_RECOVER:
        if (!fate_of(s, i).reported)
            set_state(s, i, ST_UNREPORTED);
        else if (reach(s, i, T))
            deliver_failure(s, i, ST_CRASHED, T);
        else
            set_state(s, i, ST_REPORT_CRASHED);
        return 0;
    case EV_REBOOT:
        if (st == ST_ACTIVATING)
            s->state[i] |= ST_REBOOTING;
        return 0;
    case EV_ONSET:
        if (st != ST_HEALTHY && st != ST_REPORT_HEALTHY)
            return 0; /* returned to the previous release before */
        s->running--;
        return strike(s, i, fate_of(s, i), T, err);
    case EV_CHECKIN:
        return heartbeat(s, i, T, err);
    default:
        return rg_err_set(err, RG_EINTERNAL, "sim: unknown event %d", kind);
    }
}

/* Endpoint i's check-in at second T. */
static int heartbeat(sim *s, uint32_t i, int64_t T, rg_err *err)
{
    int st = state_of(s, i);
    /* a crash-looping flag consumer leaves its agent checking in */
    if ((st == ST_DOWN && !is_flag(s)) || st == ST_HUNG || !reach(s, i, T))
        return 0;
    switch (st) {
    case ST_IDLE: {
        size_t k = s->stratum[i];
        if (!assigns(s, i))
            return 0;
        /* budgets while running, and after completion for every stratum
         * not cleared (health/resolve.h), as rollgated's desired.c; a
         * flag's endpoints take the share themselves */
        grow(s, T);
        if (s->policy == RG_SIM_ROLLGATE && !is_flag(s) &&
            (s->st.state == RG_RO_RUNNING || s->sst[k] != RG_STRATUM_CLEARED) &&
            !rg_exposure_admits(&s->sc->exposure, s->assigned_s[k],
                                s->grown_s[k]))
            return 0;
        set_state(s, i, ST_ASSIGNED);
        record_event(s, i, RG_SIM_REC_ASSIGNED, T);
        s->assigned++;
        s->assigned_s[k]++;
        return schedule(s, T,
                        uniform(s, s->sc->apply_min_s, s->sc->apply_max_s),
                        EV(i, EV_APPLY), err);
    }
    case ST_APPLY_RETRY:
        if (!assigns(s, i)) {
            unassign(s, i);
            return 0;
        }
        return expose(s, i, T, err);
    case ST_REPORT_FAILED:
        deliver_failure(s, i, ST_FAILED, T);
        return 0;
    case ST_REPORT_CRASHED:
        deliver_failure(s, i, ST_CRASHED, T);
        return 0;
    case ST_REPORT_HEALTHY:
        if (deliver_healthy(s, i, T) != 0)
            return rg_err_set(err, RG_ENOMEM, "sim: out of memory");
        break;
    case ST_HEALTHY:
        break;
    default:
        return 0;
    }
    /* Running the release: back to the previous one when no longer
     * assigned (halt with revert, rollback). */
    if (!assigns(s, i)) {
        set_state(s, i, ST_REVERTED);
        s->running--;
        s->reverted++;
    }
    return 0;
}

/* The visit of endpoint i's heartbeat block at second T: its check-in
 * when one is due, now or late by its jitter. */
static int visit(sim *s, uint32_t i, int64_t T, rg_err *err)
{
    if (!rg_fleetmodel_due(&s->fm, i, s->stratum[i], T))
        return 0;
    int64_t late = rg_fleetmodel_jitter(&s->fm, i, T);
    return late > 0 ? schedule(s, T, late, EV(i, EV_CHECKIN), err)
                    : heartbeat(s, i, T, err);
}

/* ---- orchestrator --------------------------------------------------- */

/* Starts counting a new wave: the last one's exposures (windows ended or
 * not) and their failures become the earlier waves'. */
static void start_wave(sim *s, int64_t T)
{
    s->wave_T = T;
    rg_cohort_wave(s->co, T * 1000);
    memset(&s->fb, 0, sizeof s->fb);
}

/* What the tracker asks of endpoint i: what rollgated would know. */
static int seen_sim(void *ctx, uint32_t i, rg_cohort_seen *out)
{
    const sim *s = ctx;
    const seen_rec *v = &s->seen[i];
    int st = state_of(s, i);
    *out = (rg_cohort_seen){
        .last_ms = v->last_ok ? ((int64_t)v->last_ok - 1) * 1000 : 0,
        .prev_ms = v->prev_ok ? ((int64_t)v->prev_ok - 1) * 1000 : 0,
        .healthy_ms = v->healthy_T ? ((int64_t)v->healthy_T - 1) * 1000 : 0,
        .failed = st == ST_FAILED || st == ST_CRASHED,
        .in_rollout = st != ST_IDLE};
    return 0;
}

static int contacts_sim(void *ctx, uint32_t i, int64_t *last_ms,
                        int64_t *prev_ms)
{
    const seen_rec *v = &((const sim *)ctx)->seen[i];
    *last_ms = v->last_ok ? ((int64_t)v->last_ok - 1) * 1000 : 0;
    *prev_ms = v->prev_ok ? ((int64_t)v->prev_ok - 1) * 1000 : 0;
    return 0;
}

/* The health gate's input at second T (health/cohort.h): the exposures
 * since the last tick are taken in (A and W as of now), then the tracker
 * ticks and builds the entries. Returns 0 or RG_ENOMEM. */
static int build_entries(sim *s, int64_t T, size_t *n, rg_err *err)
{
    rg_cohort_src src = {.ctx = s, .seen = seen_sim, .contacts = contacts_sim};
    const rg_wave *w = &s->sc->plan.waves[s->st.wave];
    for (size_t f = 0; f < s->n_fresh; f++) {
        uint32_t i = s->fresh[f];
        size_t k = s->stratum[i];
        char id[32];
        snprintf(id, sizeof id, "ep-%u", i);
        if (rg_cohort_expose(
                s->co, &src, i, rg_cohort_key(id), (uint32_t)k,
                (int64_t)s->apply_T[i] * 1000,
                rg_silence_window_ms(&s->sp, w->window_ms, interval_ms(s, k)),
                interval_ms(s, k), T * 1000) != 0)
            return rg_err_set(err, RG_ENOMEM, "sim: out of memory");
    }
    s->n_fresh = 0;
    if (rg_cohort_tick(s->co, &src, T * 1000) != 0)
        return rg_err_set(err, RG_ENOMEM, "sim: out of memory");
    *n = rg_cohort_entries(s->co, s->names, (uint32_t)s->S, s->entries,
                           s->n_entries);
    return 0;
}

static int record(sim *s, int64_t T, const rg_transition *tr,
                  const rg_gate_result *g, rg_err *err)
{
    json_t *d = json_pack("{s:I, s:i, s:i, s:s, s:s, s:s, s:s, s:O*}", "time_s",
                          (json_int_t)(T - s->T0), "from_wave", tr->from_wave,
                          "to_wave", tr->to_wave, "from_state",
                          rg_rollout_state_name(tr->from_state), "to_state",
                          rg_rollout_state_name(tr->to_state), "verdict",
                          rg_verdict_name(g->verdict), "reason", tr->reason,
                          "evidence", g->evidence);
    if (!d || json_array_append_new(s->decisions, d) != 0)
        return rg_err_set(err, RG_ENOMEM, "sim: out of memory for decisions");
    return 0;
}

/* Takes the gate's per-stratum verdicts into s->sst (resolve.h). */
static void note_strata(sim *s, const json_t *evidence)
{
    const json_t *list = json_object_get(evidence, "strata");
    for (size_t i = 0; i < json_array_size(list); i++) {
        const json_t *o = json_array_get(list, i);
        const char *name = json_string_value(json_object_get(o, "name"));
        for (size_t k = 0; name && k < s->S; k++)
            if (strcmp(s->sc->strata[k], name) == 0)
                s->sst[k] = rg_resolve_next_state(
                    s->sst[k],
                    json_string_value(json_object_get(o, "verdict")));
    }
}

/* Whether the gate still watches the completed rollout at T, as
 * rollgated's does (canary.h rg_canary_soaking): Rollgate policy, and
 * the tracker still soaking (cohort.h rg_cohort_soaking). */
static bool soaking(const sim *s, int64_t T)
{
    return s->policy == RG_SIM_ROLLGATE && s->st.state == RG_RO_COMPLETED &&
           rg_cohort_soaking(s->co, T * 1000);
}

/* Tells the recorder of the gate's tick at T. */
static void record_tick(const sim *s, int64_t T, const rg_health_gate_ctx *h,
                        int verdict)
{
    int64_t a[RG_SIM_MAX_STRATA];
    bool fin[RG_SIM_MAX_STRATA];
    for (size_t k = 0; k < s->S; k++)
        a[k] = rg_cohort_allowance_ms(s->co, (uint32_t)k, &fin[k]);
    s->rec->tick(s->rec->ctx, &(rg_sim_tick){.now_ms = T * 1000,
                                             .wave = s->st.wave,
                                             .wave_begin_ms = s->wave_T * 1000,
                                             .entries = h->strata,
                                             .n_entries = h->n_strata,
                                             .verdict = verdict,
                                             .allowance_ms = a,
                                             .allowance_final = fin});
}

/* The orchestrator's tick at T: the gate judges the running rollout
 * (rg_rollout_tick) or watches the completed one (rg_rollout_watch). */
static int tick(sim *s, int64_t T, rg_err *err)
{
    rg_wave_counts counts = {.fleet = s->n,
                             .targeted = s->assigned,
                             .exposed = s->exposed,
                             .healthy = s->healthy,
                             .failed = s->failed,
                             .silent = rg_cohort_silent_total(s->co)};
    rg_health_gate_ctx hctx = {.strata = s->entries,
                               .baseline_failure = s->sc->baseline_failure};
    rg_gate_fn gate = rg_health_gate;
    void *ctx = &hctx;
    if (s->policy == RG_SIM_THRESHOLD) {
        gate = rg_gate_threshold;
        ctx = NULL;
    } else if (s->policy == RG_SIM_FIXED_BAKE) {
        gate = rg_gate_fixed_bake;
        ctx = &s->fb;
    } else if (build_entries(s, T, &hctx.n_strata, err) != 0) {
        return err->code;
    }
    rg_rollout_status next;
    rg_transition tr;
    rg_gate_result g;
    int rc = (s->st.state == RG_RO_RUNNING
                  ? rg_rollout_tick
                  : rg_rollout_watch)(&s->sc->plan, &s->st, &counts, gate, ctx,
                                      (T - s->T0) * 1000, &next, &tr, &g, err);
    if (rc >= 0 && s->rec && gate == rg_health_gate)
        record_tick(s, T, &hctx, g.verdict);
    if (rc >= 0 && s->policy == RG_SIM_ROLLGATE)
        note_strata(s, g.evidence);
    if (rc >= 0 && s->trace && (T - s->T0) % 60 == 0)
        fprintf(stderr, "rollgate-sim: t=%" PRId64 "s wave %d gate: %s\n",
                T - s->T0, s->st.wave, g.reason);
    if (rc == 1) {
        rc = record(s, T, &tr, &g, err);
        s->st = next;
        refresh_status(s);
        if (next.state == RG_RO_RUNNING && tr.to_wave != tr.from_wave)
            start_wave(s, T);
        if (next.state == RG_RO_HALTED)
            s->halt_T = T;
        if (next.state == RG_RO_COMPLETED)
            s->complete_T = T;
        if (next.state == RG_RO_HELD)
            s->stop = true; /* held: nothing moves without an operator */
    }
    rg_gate_result_release(&g);
    return rc < 0 ? rc : 0;
}

/* The fixed-bake policy's periodic check of the exposed endpoints. */
static void fixed_bake_check(sim *s, int64_t T)
{
    uint64_t exposed = 0, bad = 0;
    for (uint32_t i = 0; i < s->n; i++) {
        int st = state_of(s, i);
        if (!is_exposed(s, i))
            continue;
        /* what the server sees: reports delivered and last contact */
        uint64_t stale =
            (uint64_t)RG_FIXED_BAKE_STALE_BEATS *
            (uint64_t)rg_fleetmodel_interval(&s->fm, s->stratum[i]);
        exposed++;
        if (st == ST_FAILED || st == ST_CRASHED ||
            (uint64_t)T + 1 - s->seen[i].last_ok > stale)
            bad++;
    }
    s->fb.checks++;
    s->fb.last_share = exposed ? (double)bad / (double)exposed : 0.0;
    if (s->fb.last_share > RG_FIXED_BAKE_SILENCE_SHARE)
        s->fb.failed_checks++;
}

/* Share of online endpoints running the release at second T. */
static double coverage(const sim *s, int64_t T)
{
    uint64_t on = 0, running = 0;
    for (uint32_t i = 0; i < s->n; i++) {
        if (!online(s, i, T))
            continue;
        on++;
        int st = state_of(s, i);
        running += st == ST_REPORT_HEALTHY || st == ST_HEALTHY;
    }
    return on ? (double)running / (double)on : 0.0;
}

static void progress(const sim *s, int64_t T)
{
    const rg_wave *w = &s->sc->plan.waves[s->st.wave];
    fprintf(stderr,
            "rollgate-sim: %s/%s t=%" PRId64
            "s wave %d (%s) %s exposed=%" PRIu64 " failed_or_crashed=%" PRIu64
            "\n",
            s->sc->name, rg_sim_policy_name(s->policy), T - s->T0, s->st.wave,
            w->name, rg_rollout_state_name(s->st.state), s->exposed, s->damage);
}

/* ---- run ------------------------------------------------------------ */

/* How long the gate watches a completed rollout: the plan's soak and the
 * longest W of its last wave, so that the soak spans of the exposures
 * made by completion end (health/cohort.h). */
static int64_t soak_watch_s(const sim *s)
{
    const rg_plan *p = &s->sc->plan;
    int64_t w = 0;
    for (size_t k = 0; k < s->S && p->n_waves > 0; k++)
        w = max64(w,
                  rg_silence_window_ms(
                      &s->sp, p->waves[p->n_waves - 1].window_ms,
                      (int64_t)rg_fleetmodel_interval(&s->fm, (int)k) * 1000));
    return (p->soak_ms + w) / 1000 + 1;
}

static int setup(sim *s, const rg_scenario *sc, const rg_sim_options *o,
                 rg_err *err)
{
    memset(s, 0, sizeof *s);
    s->sc = sc;
    s->policy = o->policy;
    s->trace = o->trace;
    s->rec = o->recorder;
    s->seed = o->seed_set ? o->seed : sc->seed;
    rg_rng_seed(&s->rng, s->seed);
    s->n = sc->endpoints;
    s->P = sc->interval_s;
    s->S = sc->n_strata;
    s->T0 = 2 * (int64_t)s->P;
    for (size_t k = 0; k < s->S; k++) /* two check-ins of the slowest */
        s->T0 = max64(s->T0, 2 * (int64_t)sc->stratum_interval_s[k]);
    rg_fleetmodel_init(&s->fm, sc, s->seed, s->T0);
    s->halt_T = s->complete_T = s->first_crash_T = s->t99_T = RG_SIM_NONE;
    if (rg_sim_policy_name(o->policy)[0] == 'u')
        return rg_err_field(err, RG_EINVAL, "policy", "sim: unknown policy %d",
                            o->policy);
    rg_silence_params_default(&s->sp);
    int64_t delay = max64(sc->apply_max_s, sc->healthy_max_s);
    delay = max64(delay, sc->crash_revert_s);
    delay = max64(delay, rg_fault_max_onset(sc));
    /* delayed faults strike after the rollout ends too: watch them */
    s->settle_s = SETTLE_S + rg_fault_max_onset(sc);
    s->soak_s = o->policy == RG_SIM_ROLLGATE ? soak_watch_s(s) : 0;
    s->wheel_n = (size_t)delay + 2;
    s->wheel = calloc(s->wheel_n, sizeof *s->wheel);
    s->n_entries = (size_t)rg_tally_max_periods((uint32_t)s->S) * s->S + s->S;
    s->entries = calloc(s->n_entries, sizeof *s->entries);
    for (size_t k = 0; k < s->S; k++)
        s->names[k] = sc->strata[k];
    s->co = rg_cohort_new((uint32_t)s->S);
    s->ivl = calloc(s->S, sizeof *s->ivl);
    s->decisions = json_array();
    if (!s->wheel || !s->entries || !s->co || !s->ivl || !s->decisions)
        return rg_err_set(err, RG_ENOMEM, "sim: out of memory");
    int rc = build_fleet(s, err);
    if (rc == 0) {
        rg_cohort_members(s->co, s->members, s->n, (uint32_t)s->S);
        rg_cohort_soak(s->co, sc->plan.soak_ms);
        rg_cohort_activation(s->co, &s->sp,
                             sc->activation.declared == RG_SIM_ACT_UNDECLARED
                                 ? RG_SILENCE_UNDECLARED
                                 : (int64_t)sc->activation.max_s * 1000);
    }
    for (uint32_t i = 0; rc == 0 && s->rec && i < s->n; i++)
        s->rec->endpoint(s->rec->ctx, i, s->stratum[i]);
    return rc;
}

static void teardown(sim *s)
{
    free(s->bucket);
    free(s->seen);
    free(s->members);
    free(s->fresh);
    rg_cohort_free(s->co);
    free(s->ivl);
    free(s->stratum);
    free(s->state);
    free(s->apply_T);
    free(s->grow_q);
    free(s->block_start);
    free(s->sub);
    for (size_t k = 0; s->wheel && k < s->wheel_n; k++)
        free(s->wheel[k].v);
    free(s->wheel);
    free(s->entries);
    json_decref(s->decisions);
}

/* rollgated serves again after a restart: its health state is rebuilt
 * from the stored events, and windows that ended before the restart are
 * resolved without control windows (server/canary.h). */
static void server_restarted(sim *s, int64_t T)
{
    rg_cohort_restarted(s->co, T * 1000);
}

/* One simulated second. */
static int step(sim *s, int64_t T, bool progress_on, rg_err *err)
{
    int rc = 0;
    slot *q = &s->wheel[(size_t)(T % (int64_t)s->wheel_n)];
    for (size_t e = 0; e < q->n && rc == 0; e++)
        rc = on_event(s, q->v[e], T, err);
    q->n = 0;
    size_t g = (size_t)(T % s->P);
    for (uint32_t i = s->block_start[g]; i < s->block_start[g + 1] && rc == 0;
         i++)
        rc = visit(s, i, T, err);
    if (rc != 0 || T < s->T0)
        return rc;
    int64_t t = T - s->T0;
    if (t == 0) {
        rg_transition tr;
        rc = rg_rollout_command(&s->sc->plan, &s->st, RG_CMD_START,
                                "simulation start", 0, s->n, &s->st, &tr, err);
        if (rc != 0)
            return rc;
        refresh_status(s);
        start_wave(s, T);
    }
    if (rg_fleetmodel_server_back(&s->fm, T))
        server_restarted(s, T);
    bool up = !rg_fleetmodel_server_down(&s->fm, T);
    if (up && s->policy == RG_SIM_FIXED_BAKE && s->st.state == RG_RO_RUNNING &&
        T > s->wave_T && (T - s->wave_T) % (RG_FIXED_BAKE_CHECK_MS / 1000) == 0)
        fixed_bake_check(s, T);
    if (up && t % s->sc->tick_s == 0 &&
        (s->st.state == RG_RO_RUNNING || soaking(s, T)))
        rc = tick(s, T, err);
    bool last = (size_t)s->st.wave + 1 == s->sc->plan.n_waves ||
                s->st.state == RG_RO_COMPLETED;
    if (s->t99_T < 0 && last && s->st.state != RG_RO_HALTED &&
        t % COVERAGE_S == 0 && coverage(s, T) >= 0.99)
        s->t99_T = T;
    if (progress_on && t % PROGRESS_S == 0)
        progress(s, T);
    if (t >= s->sc->duration_s ||
        (s->halt_T >= 0 && T >= s->halt_T + s->settle_s) ||
        (s->complete_T >= 0 &&
         T >= s->complete_T + max64(s->settle_s, s->soak_s)))
        s->stop = true;
    return rc;
}

int rg_sim_run(const rg_scenario *sc, const rg_sim_options *o,
               rg_sim_result *out, rg_err *err)
{
    sim s;
    int rc = setup(&s, sc, o, err);
    int64_t T = 0;
    memset(out, 0, sizeof *out);
    for (; rc == 0 && !s.stop; T++)
        rc = step(&s, T, o->progress, err);
    if (rc != 0)
        goto cleanup;
    T--; /* the last second simulated */
    snprintf(out->scenario, sizeof out->scenario, "%s", sc->name);
    out->policy = s.policy;
    out->seed = s.seed;
    out->endpoints = s.n;
    out->faulty = rg_scenario_faulty(sc);
    out->halted = s.halt_T >= 0;
    out->halt_time_s = out->halted ? s.halt_T - s.T0 : RG_SIM_NONE;
    out->exposed = s.exposed;
    out->failed_or_crashed = s.damage;
    out->reverted = s.reverted;
    out->completed = s.complete_T >= 0;
    out->time_to_complete_s =
        out->completed ? s.complete_T - s.T0 : RG_SIM_NONE;
    out->time_to_99pct_s = s.t99_T >= 0 ? s.t99_T - s.T0 : RG_SIM_NONE;
    out->first_crash_exposure_s =
        s.first_crash_T >= 0 ? s.first_crash_T - s.T0 : RG_SIM_NONE;
    out->final_coverage = coverage(&s, T);
    out->false_halt = out->halted && !out->faulty;
    snprintf(out->final_state, sizeof out->final_state, "%s",
             rg_rollout_state_name(s.st.state));
    out->final_wave = s.st.wave;
    out->end_s = T - s.T0;
    out->decisions = s.decisions;
    s.decisions = NULL;
    if (o->progress)
        progress(&s, T);
cleanup:
    teardown(&s);
    return rc;
}

void rg_sim_result_release(rg_sim_result *r)
{
    json_decref(r->decisions);
    memset(r, 0, sizeof *r);
}
