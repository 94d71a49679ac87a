/* sim.c - see sim.h. */
#include "sim.h"

#include "health/analyzer.h"
#include "health/gate.h"
#include "health/silence.h"
#include "health/tally.h"
#include "model/bucket.h"
#include "model/exposure.h"
#include "model/rollout.h"
#include "sim/fault.h"
#include "sim/fleetmodel.h"
#include "sim/policy.h"
#include "sim/rng.h"

#include <inttypes.h>
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
#define ST_CUR_WAVE 0x20    /* exposed in the current wave */
#define ST_REBOOTING 0x40   /* rebooting to activate: unreachable */
#define ST_WAS_HEALTHY 0x80 /* `healthy` delivered once */

/* Timer wheel events: endpoint index (bits 0-31), kind (32-35), wave of
 * the exposure (36-39), control eligibility mask (40-55; for EV_SAMPLE
 * the learner's step). */
enum {
    EV_APPLY = 1,
    EV_ACTIVATE,
    EV_RESOLVE,
    EV_RECOVER,
    EV_REBOOT,  /* activation reboot begins (fleetmodel unreachable_s) */
    EV_ONSET,   /* a delayed fault strikes (fault.h) */
    EV_CHECKIN, /* a check-in late by its jitter */
    EV_SAMPLE,  /* an exposure reaches a learner step's age (silence.h) */
};
#define EV(idx, kind, wave, elig)                                              \
    ((uint64_t)(idx) | (uint64_t)(kind) << 32 | (uint64_t)(wave) << 36 |       \
     (uint64_t)(elig) << 40)

#define SETTLE_S                                                               \
    600                /* simulated after a halt or completion, plus the       \
                          longest fault onset */
#define COVERAGE_S 30  /* coverage sampling step */
#define PROGRESS_S 300 /* progress line step */
#define NO_PICK UINT32_MAX

/* Hash salt of control picks (fleetmodel.c and fault.c have theirs). */
enum { H_CONTROL = 6 };

typedef struct slot {
    uint64_t *v;
    size_t n, cap;
} slot;

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
    uint32_t *last_ok; /* second + 1 of the last contact; 0 never */
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
    uint64_t assigned_s[RG_SIM_MAX_STRATA], healthy_s[RG_SIM_MAX_STRATA];
    /* per-stratum extras of the gate's input (pending, early_failed,
     * prior_trials, prior_failed: health/tally.h) */
    rg_tally_stratum ts[RG_SIM_MAX_STRATA];
    /* one definition of silence (health/silence.h) */
    rg_silence_params sp;
    int64_t declared_ms; /* the release's activation maximum, or
                            RG_SILENCE_UNDECLARED (learned) */
    rg_act_learner act[RG_SIM_MAX_STRATA], act_all;
    /* EV_RESOLVE of exposures whose A is not final yet, per stratum, in
     * exposure order (first unscheduled at undecided_head) */
    slot undecided[RG_SIM_MAX_STRATA];
    size_t undecided_head[RG_SIM_MAX_STRATA];
    /* periods of the current wave */
    rg_tally_cell *cells; /* max_periods * S, [period * S + stratum] */
    rg_tally_cell *list;  /* the non-empty ones, for rg_tally_entries */
    size_t max_periods, n_periods;
    int64_t wave_T;             /* second the current wave started */
    int64_t period_s;           /* its W in seconds */
    rg_stratum_counts *entries; /* gate input, max_periods * S + S */
    /* totals */
    uint64_t assigned, exposed, healthy, failed, silent, damage, reverted;
    uint64_t running;
    /* fixed-bake measurements */
    rg_fixed_bake_ctx fb;
    /* outcome */
    int64_t halt_T, complete_T, first_crash_T, t99_T;
    int64_t settle_s; /* simulated after a halt or completion */
    bool stop;
    bool trace;
    json_t *decisions;
} sim;

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

/* W of the wave for stratum k's check-in interval (silence.h). */
static int wave_window_s(const sim *s, const rg_wave *w, size_t k)
{
    int64_t ms =
        rg_silence_window_ms(&s->sp, w->window_ms,
                             (int64_t)rg_fleetmodel_interval(&s->fm, k) * 1000);
    int64_t sec = (ms + 999) / 1000;
    return (int)(sec < 1 ? 1 : sec);
}

/* A of an exposure of stratum k beginning now (silence.h), in seconds. */
static int64_t allowance_s(const sim *s, size_t k)
{
    int64_t ms = rg_silence_allowance_ms(&s->sp, s->declared_ms, &s->act[k],
                                         &s->act_all);
    return (ms + 999) / 1000;
}

/* ---- fleet ---------------------------------------------------------- */

static bool internal_of(const sim *s, uint32_t i)
{
    return s->state[i] & ST_INTERNAL;
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
    s->last_ok[i] = (uint32_t)(T + 1);
    return true;
}

/* The j-th matched control endpoint of exposed endpoint i: a member of
 * its stratum drawn by hashing (i, j), or NO_PICK. */
static uint32_t control_pick(const sim *s, uint32_t i, int j)
{
    uint64_t h =
        rg_hash(s->seed + (uint64_t)j * 0x632be59bd9b4e019ull, H_CONTROL, i);
    size_t g = (size_t)(h % (uint64_t)s->P);
    size_t st = s->stratum[i];
    const uint32_t *sub = s->sub + g * (s->S + 1);
    uint32_t size = sub[st + 1] - sub[st];
    if (size == 0)
        return NO_PICK;
    uint32_t c = s->block_start[g] + sub[st] + (uint32_t)((h >> 32) % size);
    return c == i ? NO_PICK : c;
}

static int build_fleet(sim *s, rg_err *err)
{
    const rg_scenario *sc = s->sc;
    uint32_t n = s->n;
    size_t S = s->S, P = (size_t)s->P;
    char salt[48], id[32];
    s->bucket = malloc((size_t)n * sizeof *s->bucket);
    s->last_ok = calloc(n, sizeof *s->last_ok);
    s->stratum = malloc(n);
    s->state = calloc(n, 1);
    s->apply_T = calloc(n, sizeof *s->apply_T);
    s->block_start = malloc((P + 1) * sizeof *s->block_start);
    s->sub = malloc(P * (S + 1) * sizeof *s->sub);
    if (!s->bucket || !s->last_ok || !s->stratum || !s->state || !s->apply_T ||
        !s->block_start || !s->sub)
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
        for (size_t k = 0; k < S; k++) {
            for (uint32_t j = sub[k]; j < sub[k + 1]; j++)
                s->stratum[s->block_start[g] + j] = (uint8_t)k;
            s->stratum_size[k] += sub[k + 1] - sub[k];
        }
    }
    snprintf(salt, sizeof salt, "sim-%" PRIu64, s->seed);
    for (uint32_t i = 0; i < n; i++) {
        snprintf(id, sizeof id, "ep-%u", i);
        s->bucket[i] = rg_bucket(salt, id);
        size_t k = s->stratum[i];
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

/* Appends ev to q. */
static int push(slot *q, uint64_t ev, rg_err *err)
{
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

static int schedule(sim *s, int64_t T, int64_t delay, uint64_t ev, rg_err *err)
{
    if (delay < 1)
        delay = 1;
    return push(&s->wheel[(size_t)((T + delay) % (int64_t)s->wheel_n)], ev,
                err);
}

static int64_t uniform(sim *s, int lo, int hi)
{
    return lo + (int64_t)(rg_rng_next(&s->rng) % (uint64_t)(hi - lo + 1));
}

/* ---- rollout view --------------------------------------------------- */

/* Recomputes the per-stratum statuses (stratified floors for Rollgate). */
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

/* `healthy` of endpoint i got through. */
static void deliver_healthy(sim *s, uint32_t i)
{
    set_state(s, i, ST_HEALTHY);
    s->state[i] |= ST_WAS_HEALTHY;
    s->healthy++;
    s->healthy_s[s->stratum[i]]++;
}

/* A failure report of exposed endpoint i got through: it counts at once
 * (tally.h), as the current wave's early failure or an earlier wave's. */
static void deliver_failure(sim *s, uint32_t i, int st)
{
    rg_tally_stratum *t = &s->ts[s->stratum[i]];
    set_state(s, i, st);
    s->failed++;
    if (s->state[i] & ST_CUR_WAVE)
        t->early_failed++;
    else
        t->prior_failed++;
}

static rg_fate fate_of(const sim *s, uint32_t i)
{
    return rg_fault_fate(s->sc, s->seed, i, s->stratum[i]);
}

/* Schedules the end of exposed endpoint i's activation (and the reboot
 * that makes it unreachable before, if the release reboots). */
static int activate_later(sim *s, uint32_t i, int64_t T, rg_err *err)
{
    const rg_sim_activation *a = &s->sc->activation;
    int64_t delay = uniform(s, s->sc->healthy_min_s, s->sc->healthy_max_s);
    int rc = schedule(s, T, delay, EV(i, EV_ACTIVATE, 0, 0), err);
    if (rc != 0 || a->unreachable_max_s == 0)
        return rc;
    int64_t down = uniform(s, a->unreachable_min_s, a->unreachable_max_s);
    return down > 0 ? schedule(s, T, delay - down, EV(i, EV_REBOOT, 0, 0), err)
                    : 0;
}

/* Cancels an assignment the rollout no longer makes. */
static void unassign(sim *s, uint32_t i)
{
    set_state(s, i, ST_IDLE);
    s->assigned--;
    s->assigned_s[s->stratum[i]]--;
}

/* Whether stratum k's A is final (silence.h). */
static bool final_allowance(const sim *s, size_t k)
{
    return rg_silence_allowance_final(s->declared_ms, &s->act[k], &s->act_all);
}

/* Schedules exposure i's (of wave `wave`) sample at the age of learner
 * step j + W, the first step from j on that its stratum's learner or the
 * fleet's still wants. */
static int next_sample(sim *s, uint32_t i, int wave, int j, int64_t T,
                       rg_err *err)
{
    const rg_act_learner *l = &s->act[s->stratum[i]];
    while (j < RG_ACT_STEPS && !rg_act_learner_wants(l, j) &&
           !rg_act_learner_wants(&s->act_all, j))
        j++;
    if (j >= RG_ACT_STEPS)
        return 0;
    int64_t W = wave_window_s(s, &s->sc->plan.waves[wave], s->stratum[i]);
    int64_t at =
        s->apply_T[i] + (rg_act_age_ms(&s->sp, j, W * 1000) + 999) / 1000;
    return schedule(s, T, at - T, EV(i, EV_SAMPLE, wave, j), err);
}

/* Exposure i reached the age of learner step j + W at T: late unless its
 * `healthy` got through by then (silence.h). */
static int learn(sim *s, uint32_t i, int wave, int j, int64_t T, rg_err *err)
{
    bool late = !(s->state[i] & ST_WAS_HEALTHY);
    rg_act_learner_count(&s->act[s->stratum[i]], &s->sp, j, late);

    rg_act_learner_count(&s->act_all, &s->sp, j, late);
    return next_sample(s, i, wave, j + 1, T, err);
}

/* Schedules the resolves of stratum k's exposures whose A was not final:
 * once it is, each span starts at max(a + A, T); else at a + cap, as
 * they reach it (silence.h; server/canary.c does the same at its tick). */
static int decide_spans(sim *s, size_t k, int64_t T, rg_err *err)
{
    slot *q = &s->undecided[k];
    size_t *h = &s->undecided_head[k];
    bool fin = final_allowance(s, k);
    int64_t A = allowance_s(s, k), cap = s->sp.cap_ms / 1000;
    int rc = 0;
    for (; *h < q->n && rc == 0; (*h)++) {
        uint64_t ev = q->v[*h];
        uint32_t i = (uint32_t)ev;
        int64_t a = s->apply_T[i];
        if (!fin && a + cap > T)
            break;
        int64_t from = fin ? max64(a + A, T) : a + cap;
        int W = wave_window_s(s, &s->sc->plan.waves[ev >> 36 & 0xf], k);
        rc = schedule(s, T, from + W - T, ev, err);
    }
    if (*h == q->n)
        q->n = *h = 0;
    return rc;
}

/* `applying` got through at T: exposure begins. */
static int expose(sim *s, uint32_t i, int64_t T, rg_err *err)
{
    const rg_scenario *sc = s->sc;
    int wave = s->st.wave;
    int64_t W = wave_window_s(s, &sc->plan.waves[wave], s->stratum[i]);
    int64_t A = allowance_s(s, s->stratum[i]);
    uint64_t elig = 0;
    set_state(s, i, ST_ACTIVATING);
    s->apply_T[i] = (uint32_t)T;
    s->state[i] |= ST_CUR_WAVE;
    s->exposed++;
    s->ts[s->stratum[i]].pending++;
    if (s->first_crash_T < 0 && fate_of(s, i).kind == RG_FATE_CRASH)
        s->first_crash_T = T;
    if (s->policy == RG_SIM_ROLLGATE) {
        int64_t P = rg_fleetmodel_interval(&s->fm, s->stratum[i]);
        for (int j = 0; j < RG_TALLY_CONTROLS; j++) {
            uint32_t c = control_pick(s, i, j);
            /* last_ok: the second of the last contact + 1 (0: none), so
             * that contact lies in [(last_ok - 1) s, last_ok s) */
            if (c != NO_PICK && state_of(s, c) == ST_IDLE && s->last_ok[c] &&
                rg_tally_control_fresh(((int64_t)s->last_ok[c] - 1) * 1000 + 1,
                                       T * 1000, P * 1000))
                elig |= 1ull << j;
        }
    }
    int rc = activate_later(s, i, T, err);
    if (rc != 0 || s->policy != RG_SIM_ROLLGATE)
        return rc != 0
                   ? rc
                   : schedule(s, T, A + W, EV(i, EV_RESOLVE, wave, elig), err);
    rc = next_sample(s, i, wave, 0, T, err);
    if (rc == 0 && final_allowance(s, s->stratum[i]))
        rc = schedule(s, T, A + W, EV(i, EV_RESOLVE, wave, elig), err);
    else if (rc == 0)
        rc = push(&s->undecided[s->stratum[i]], EV(i, EV_RESOLVE, wave, elig),
                  err);
    return rc;
}

_Static_assert(RG_TALLY_CONTROLS <= 16, "EV's eligibility mask has 16 bits");

/* The cell of stratum k in the period in which second T falls. */
static rg_tally_cell *period_cell(sim *s, size_t k, int64_t T)
{
    size_t p = rg_tally_period(T * 1000, s->wave_T * 1000, s->period_s * 1000,
                               (uint32_t)s->max_periods);
    if (p + 1 > s->n_periods)
        s->n_periods = p + 1;
    return &s->cells[p * s->S + k];
}

/* The judged span [T - W, T] of exposure i ends at T: i and each of its
 * eligible matched controls are heard when they were in contact during
 * it (silence.h). */
static void resolve(sim *s, uint32_t i, int wave, uint64_t elig, int64_t T)
{
    size_t k = s->stratum[i];
    int64_t from = T - wave_window_s(s, &s->sc->plan.waves[wave], k);
    if (wave != s->st.wave)
        return; /* an earlier wave's: a trial since that wave ended, its
                   failure counted when reported */
    rg_tally_cell *c = period_cell(s, k, T);
    int st = state_of(s, i);
    bool was_healthy = s->state[i] & ST_WAS_HEALTHY;
    if (rg_fleetmodel_server_down(&s->fm, T))
        elig = 0; /* resolved when rollgated is back: without controls */
    s->ts[k].pending--;
    /* reverted only after delivering healthy */
    /* a delivered `healthy` got through before this second's events */
    switch (rg_silence_outcome(
        st == ST_FAILED || st == ST_CRASHED,
        st == ST_HEALTHY || st == ST_REVERTED || was_healthy, T - 1,
        rg_silence_heard((int64_t)s->last_ok[i] - 1, from, T), T)) {
    case RG_TALLY_FAILED:
        c->failed++;
        s->ts[k].early_failed--; /* the window shows it now */
        break;
    case RG_TALLY_HEALTHY:
        c->healthy++;
        break;
    default:
        c->silent++;
        s->silent++;
        break;
    }
    for (int j = 0; elig && j < RG_TALLY_CONTROLS; j++) {
        if (!(elig & (1ull << j)))
            continue;
        uint32_t ctl = control_pick(s, i, j);
        c->control_windows++;
        c->control_silent +=
            !rg_silence_heard((int64_t)s->last_ok[ctl] - 1, from, T);
    }
}

/* Endpoint i's fault strikes at T (at activation, or after its onset
 * while it ran the release). */
static int strike(sim *s, uint32_t i, rg_fate f, int64_t T, rg_err *err)
{
    s->damage++;
    switch (f.kind) {
    case RG_FATE_CRASH:
        set_state(s, i, ST_DOWN);
        return schedule(s, T, s->sc->crash_revert_s, EV(i, EV_RECOVER, 0, 0),
                        err);
    case RG_FATE_FAIL:
        if (!f.reported)
            set_state(s, i, ST_UNREPORTED);
        else if (reach(s, i, T))
            deliver_failure(s, i, ST_FAILED);
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
    if (reach(s, i, T))
        deliver_healthy(s, i);
    else
        set_state(s, i, ST_REPORT_HEALTHY);
    return f.kind == RG_FATE_OK
               ? 0
               : schedule(s, T, f.onset_s, EV(i, EV_ONSET, 0, 0), err);
}

static int heartbeat(sim *s, uint32_t i, int64_t T, rg_err *err);

static int on_event(sim *s, uint64_t ev, int64_t T, rg_err *err)
{
    uint32_t i = (uint32_t)ev;
    int kind = (int)(ev >> 32 & 0xf);
    int wave = (int)(ev >> 36 & 0xf);
    uint64_t elig = ev >> 40 & 0xffff;
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
    case EV_RESOLVE:
        resolve(s, i, wave, elig, T);
        return 0;
    case EV_SAMPLE:
        return learn(s, i, wave, (int)elig, T, err);
    case EV_RECOVER:
        if (!fate_of(s, i).reported)
            set_state(s, i, ST_UNREPORTED);
        else if (reach(s, i, T))
            deliver_failure(s, i, ST_CRASHED);
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
    if (st == ST_DOWN || st == ST_HUNG || !reach(s, i, T))
        return 0;
    switch (st) {
    case ST_IDLE: {
        size_t k = s->stratum[i];
        if (!assigns(s, i))
            return 0;
        if (s->policy == RG_SIM_ROLLGATE && s->st.state == RG_RO_RUNNING &&
            !rg_exposure_admits(&s->sc->exposure, s->assigned_s[k],
                                s->healthy_s[k]))
            return 0;
        set_state(s, i, ST_ASSIGNED);
        s->assigned++;
        s->assigned_s[k]++;
        return schedule(s, T,
                        uniform(s, s->sc->apply_min_s, s->sc->apply_max_s),
                        EV(i, EV_APPLY, 0, 0), err);
    }
    case ST_APPLY_RETRY:
        if (!assigns(s, i)) {
            unassign(s, i);
            return 0;
        }
        return expose(s, i, T, err);
    case ST_REPORT_FAILED:
        deliver_failure(s, i, ST_FAILED);
        return 0;
    case ST_REPORT_CRASHED:
        deliver_failure(s, i, ST_CRASHED);
        return 0;
    case ST_REPORT_HEALTHY:
        deliver_healthy(s, i);
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
    return late > 0 ? schedule(s, T, late, EV(i, EV_CHECKIN, 0, 0), err)
                    : heartbeat(s, i, T, err);
}

/* ---- orchestrator --------------------------------------------------- */

/* Starts counting a new wave: the last one's exposures (windows ended or
 * not) and their failures become the earlier waves'. */
static void start_wave(sim *s, int64_t T)
{
    for (size_t k = 0; k < s->S; k++) {
        rg_tally_stratum *t = &s->ts[k];
        for (size_t p = 0; p < s->n_periods; p++) {
            const rg_tally_cell *c = &s->cells[p * s->S + k];
            t->prior_trials += c->healthy + c->failed + c->silent;
            t->prior_failed += c->failed;
        }
        t->prior_trials += t->pending;
        t->prior_failed += t->early_failed;
        t->pending = t->early_failed = 0;
    }
    for (uint32_t i = 0; i < s->n; i++)
        s->state[i] &= (uint8_t)~ST_CUR_WAVE;
    s->wave_T = T;
    s->period_s =
        rg_silence_window_ms(&s->sp, s->sc->plan.waves[s->st.wave].window_ms,
                             (int64_t)s->P * 1000) /
        1000;
    s->n_periods = 0;
    for (size_t p = 0; p < s->max_periods; p++)
        for (size_t k = 0; k < s->S; k++)
            s->cells[p * s->S + k] =
                (rg_tally_cell){.stratum = (uint32_t)k, .period = (uint32_t)p};
    memset(&s->fb, 0, sizeof s->fb);
}

/* The health gate's input (health/tally.h): per stratum, one entry per
 * period of the wave with something in it; the stratum's pending
 * exposures go to its last, its early failures and the failure evidence
 * of earlier waves to its first. */
static size_t build_entries(sim *s)
{
    size_t n = 0;
    for (size_t p = 0; p < s->n_periods; p++)
        for (size_t k = 0; k < s->S; k++) {
            const rg_tally_cell *c = &s->cells[p * s->S + k];
            if (c->healthy + c->failed + c->silent + c->control_windows)
                s->list[n++] = *c;
        }
    return rg_tally_entries(s->list, n, s->ts, (uint32_t)s->S, s->entries,
                            s->max_periods * s->S + s->S);
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

static int tick(sim *s, int64_t T, rg_err *err)
{
    rg_wave_counts counts = {.fleet = s->n,
                             .targeted = s->assigned,
                             .exposed = s->exposed,
                             .healthy = s->healthy,
                             .failed = s->failed,
                             .silent = s->silent};
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
    } else {
        hctx.n_strata = build_entries(s);
    }
    rg_rollout_status next;
    rg_transition tr;
    rg_gate_result g;
    int rc = rg_rollout_tick(&s->sc->plan, &s->st, &counts, gate, ctx,
                             (T - s->T0) * 1000, &next, &tr, &g, err);
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
            (uint64_t)T + 1 - s->last_ok[i] > stale)
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

static int setup(sim *s, const rg_scenario *sc, const rg_sim_options *o,
                 rg_err *err)
{
    memset(s, 0, sizeof *s);
    s->sc = sc;
    s->policy = o->policy;
    s->trace = o->trace;
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
    s->declared_ms = sc->activation.declared == RG_SIM_ACT_UNDECLARED
                         ? RG_SILENCE_UNDECLARED
                         : (int64_t)sc->activation.max_s * 1000;
    int64_t delay = max64(sc->apply_max_s, sc->healthy_max_s);
    delay = max64(delay, sc->crash_revert_s);
    delay = max64(delay, rg_fault_max_onset(sc));
    /* delayed faults strike after the rollout ends too: watch them */
    s->settle_s = SETTLE_S + rg_fault_max_onset(sc);
    for (size_t w = 0; w < sc->plan.n_waves; w++)
        for (size_t k = 0; k < s->S; k++)
            delay =
                max64(delay, max64(s->sp.cap_ms / 1000, sc->activation.max_s) +
                                 wave_window_s(s, &sc->plan.waves[w], k));
    s->wheel_n = (size_t)delay + 2;
    s->wheel = calloc(s->wheel_n, sizeof *s->wheel);
    s->max_periods = rg_tally_max_periods((uint32_t)s->S);
    s->cells = calloc(s->max_periods * s->S, sizeof *s->cells);
    s->list = calloc(s->max_periods * s->S, sizeof *s->list);
    s->entries = calloc(s->max_periods * s->S + s->S, sizeof *s->entries);
    for (size_t k = 0; k < s->S; k++)
        s->ts[k].name = sc->strata[k];
    s->decisions = json_array();
    if (!s->wheel || !s->cells || !s->list || !s->entries || !s->decisions)
        return rg_err_set(err, RG_ENOMEM, "sim: out of memory");
    return build_fleet(s, err);
}

static void teardown(sim *s)
{
    free(s->bucket);
    free(s->last_ok);
    free(s->stratum);
    free(s->state);
    free(s->apply_T);
    free(s->block_start);
    free(s->sub);
    for (size_t k = 0; s->wheel && k < s->wheel_n; k++)
        free(s->wheel[k].v);
    free(s->wheel);
    for (size_t k = 0; k < RG_SIM_MAX_STRATA; k++)
        free(s->undecided[k].v);
    free(s->cells);
    free(s->list);
    free(s->entries);
    json_decref(s->decisions);
}

/* rollgated serves again after a restart: its health state is rebuilt
 * from the stored events, and windows that ended before the restart are
 * resolved without control windows (server/canary.h). */
static void server_restarted(sim *s)
{
    for (size_t p = 0; p < s->n_periods; p++)
        for (size_t k = 0; k < s->S; k++) {
            rg_tally_cell *c = &s->cells[p * s->S + k];
            c->control_windows = c->control_silent = 0;
        }
}

/* One simulated second. */
static int step(sim *s, int64_t T, bool progress_on, rg_err *err)
{
    int rc = 0;
    slot *q = &s->wheel[(size_t)(T % (int64_t)s->wheel_n)];
    for (size_t e = 0; e < q->n && rc == 0; e++)
        rc = on_event(s, q->v[e], T, err);
    q->n = 0;
    for (size_t k = 0; k < s->S && rc == 0; k++)
        rc = decide_spans(s, k, T, err);
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
        server_restarted(s);
    bool up = !rg_fleetmodel_server_down(&s->fm, T);
    if (up && s->policy == RG_SIM_FIXED_BAKE && s->st.state == RG_RO_RUNNING &&
        T > s->wave_T && (T - s->wave_T) % (RG_FIXED_BAKE_CHECK_MS / 1000) == 0)
        fixed_bake_check(s, T);
    if (up && t % s->sc->tick_s == 0 && s->st.state == RG_RO_RUNNING)
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
        (s->complete_T >= 0 && T >= s->complete_T + s->settle_s))
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
