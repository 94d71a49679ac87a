/* orchestrator.c - see orchestrator.h. */
#include "orchestrator.h"

#include "common/clock.h"
#include "common/json.h"
#include "common/log.h"
#include "common/stopper.h"
#include "common/sdnotify.h"
#include "model/bucket.h"
#include "health/gate.h"
#include "server/canary.h"
#include "server/cluster.h"
#include "server/desired.h"
#include "server/flag_rollout.h"
#include "server/fleet.h"
#include "server/retention.h"
#include "server/stream.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* The process's orchestrator (one rg_server per process). */
static struct {
    pthread_mutex_t mu; /* guards started and srv */
    bool started;
    rg_stopper stop; /* the threads' periods and stop signal */
    pthread_t tick_th, flush_th;
    rg_server *srv;
} orch = {.mu = PTHREAD_MUTEX_INITIALIZER};

static pthread_mutex_t tick_mu = PTHREAD_MUTEX_INITIALIZER;
static _Atomic uint64_t st_ticks, st_transitions, st_conflicts, st_errors;

void rg_orchestrator_stats_get(rg_orchestrator_stats *out)
{
    out->ticks = atomic_load(&st_ticks);
    out->transitions = atomic_load(&st_transitions);
    out->conflicts = atomic_load(&st_conflicts);
    out->errors = atomic_load(&st_errors);
}

/* ------------------------------------------------------------------ */
/* activation                                                         */

/* Tells the canary how r's release activates: within its declared
 * maximum, or undeclared (the gate learns the allowance per stratum;
 * docs/health.md). Returns 0 or the store's error. */
static int declare_activation(rg_server *srv, rg_canary *cn,
                              const rg_rollout_rec *r, rg_err *err)
{
    rg_release_rec rel;
    int rc = rg_store_release_get(srv->store, r->release_id, &rel, err);
    if (rc == 0)
        rg_canary_declare_activation(
            cn, r, rel.activation_declared ? rel.activation_max_ms : -1);
    return rc;
}

/* ------------------------------------------------------------------ */
/* tick                                                               */

typedef struct active_list {
    rg_rollout_rec *v;
    size_t n, cap;
    int oom;
} active_list;

static int collect_active(void *ctx, const rg_rollout_rec *r)
{
    active_list *l = ctx;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4;
        rg_rollout_rec *v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            l->oom = 1;
            return 1;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = *r;
    return 0;
}

static const char *audit_action(const rg_transition *tr)
{
    switch (tr->to_state) {
    case RG_RO_COMPLETED:
        return "rollout.complete";
    case RG_RO_HALTED:
        return "rollout.halt";
    case RG_RO_HELD:
        return "rollout.hold";
    default:
        return "rollout.advance";
    }
}

/* The audit row of the orchestrator's transition tr of rollout id. */
static void transition_audit(rg_audit_rec *a, int64_t id,
                             const rg_transition *tr, int64_t now)
{
    memset(a, 0, sizeof *a);
    a->at_ms = now;
    snprintf(a->actor, sizeof a->actor, "orchestrator");
    snprintf(a->role, sizeof a->role, "system");
    snprintf(a->action, sizeof a->action, "%s", audit_action(tr));
    snprintf(a->target, sizeof a->target, "rollout:%lld", (long long)id);
    snprintf(a->reason, sizeof a->reason, "%s", tr->reason);
}

/* The decision's evidence: the counts, the gate's result and the strata
 * states (strata.h; state borrowed). Returns a malloc'd JSON string or
 * NULL. */
static char *evidence_text(const rg_wave_counts *c, const rg_gate_result *g,
                           json_t *state)
{
    json_t *o = json_pack(
        "{s:{s:I,s:I,s:I,s:I,s:I,s:I}, s:{s:s,s:s,s:O?}, s:O?}", "counts",
        "fleet", (json_int_t)c->fleet, "targeted", (json_int_t)c->targeted,
        "exposed", (json_int_t)c->exposed, "healthy", (json_int_t)c->healthy,
        "failed", (json_int_t)c->failed, "silent", (json_int_t)c->silent,
        "gate", "verdict", rg_verdict_name(g->verdict), "reason", g->reason,
        "evidence", g->evidence, "strata_state", state);
    char *s = o ? rg_json_dump(o) : NULL;
    json_decref(o);
    return s;
}

/* Stores an evaluation that changed no status (a verdict or rule change,
 * or the periodic latest one) as a decision row. */
static int store_evaluation(rg_server *srv, const rg_rollout_rec *r,
                            const rg_gate_result *g, const char *evidence,
                            int64_t now, rg_err *err)
{
    rg_transition tr;
    memset(&tr, 0, sizeof tr);
    tr.from_state = tr.to_state = r->status.state;
    tr.from_wave = tr.to_wave = r->status.wave;
    snprintf(tr.reason, sizeof tr.reason, "wave %d (%s) evaluated: %s",
             r->status.wave, r->plan.waves[r->status.wave].name, g->reason);
    int rc = rg_store_decision_append(srv->store, r->id, now, &tr,
                                      "orchestrator", evidence, err);
    if (rc == 0)
        rg_stream_decision(srv->stream, r->id, &tr, "orchestrator", now);
    return rc;
}

/* Takes the gate's per-stratum verdicts into rollout id's strata states
 * (strata.h; halt: the rollout halts on them) and returns the decision's
 * evidence (evidence_text with the states after them): a malloc'd string,
 * or NULL on allocation failure. *moved tells whether a state changed. */
static char *judged_evidence(rg_server *srv, int64_t id,
                             const rg_wave_counts *c, const rg_gate_result *g,
                             bool halt, bool *moved)
{
    rg_strata *strata = rg_desired_strata(srv->desired);
    *moved = rg_strata_update(strata, srv->fleet, id, g->evidence, halt);
    json_t *state = rg_strata_json(strata, srv->fleet, id);
    char *text = state ? evidence_text(c, g, state) : NULL;
    json_decref(state);
    return text;
}

/* A step of the state machine: rg_rollout_tick or rg_rollout_watch. */
typedef int (*step_fn)(const rg_plan *, const rg_rollout_status *,
                       const rg_wave_counts *, rg_gate_fn, void *, int64_t,
                       rg_rollout_status *, rg_transition *, rg_gate_result *,
                       rg_err *);

/* Ticks one rollout with step (running: rg_rollout_tick; held or
 * completed: rg_rollout_watch). Returns 1 when it moved, 0 when not, or a
 * negative rg_code. */
static int tick_one(rg_server *srv, const rg_rollout_rec *r, step_fn step,
                    rg_err *err)
{
    int rc;
    char *evidence = NULL;
    bool strata_moved = false;
    rg_wave_counts counts;
    rg_health_gate_ctx hctx;
    rg_rollout_status next;
    rg_transition tr;
    rg_gate_result gate;
    rg_canary *cn = rg_desired_canary(srv->desired);
    uint8_t *held = NULL; /* profiles a policy holds on r's channel */
    uint32_t n_held = 0;
    memset(&gate, 0, sizeof gate);
    int64_t now = rg_clock_now(srv->clock);
    if ((rc = declare_activation(srv, cn, r, err)) < 0 ||
        (rc = rg_desired_held(srv->desired, srv->fleet, r->channel_id, &held,
                              &n_held, err)) < 0)
        return rc;
    rc = rg_canary_measure(cn, srv, r, held, n_held, now, &counts, &hctx, err);
    free(held);
    if (rc < 0 || !rg_cluster_leads(srv))
        return rc < 0 ? rc : 0; /* a follower measures only (cluster.h) */
    rc = step(&r->plan, &r->status, &counts, rg_health_gate, &hctx, now, &next,
              &tr, &gate, err);
    if (rc < 0)
        goto cleanup;
    evidence =
        judged_evidence(srv, r->id, &counts, &gate,
                        rc == 1 && next.state == RG_RO_HALTED, &strata_moved);
    if (!evidence) {
        rc = rg_err_set(err, RG_ENOMEM, "rollout %lld: out of memory",
                        (long long)r->id);
        goto cleanup;
    }
    if (rc == 0) {
        json_t *ev = json_loads(evidence, 0, NULL);
        bool store =
            rg_canary_note(cn, r->id, &gate, ev, now, false) || strata_moved;
        rg_stream_counts(srv->stream, r->id, json_object_get(ev, "counts"),
                         now);
        json_decref(ev);
        if (store &&
            (rc = store_evaluation(srv, r, &gate, evidence, now, err)) == 0)
            rg_canary_note(cn, r->id, &gate, NULL, now, true);
        if (rc == RG_ENOTFOUND)
            rc = 0;
        goto cleanup;
    }
    rg_audit_rec audit;
    transition_audit(&audit, r->id, &tr, now);
    /* The new state and the check-in path's adoption of it become visible
     * together (desired.h, publishing). */
    rg_desired_publish_begin(srv->desired);
    rc = rg_store_rollout_transition(srv->store, r->id, &r->status, &next, &tr,
                                     "orchestrator", evidence, &audit, err);
    if (rc == 0)
        rc = rg_server_state_changed(srv, err);
    rg_desired_publish_end(srv->desired);
    if (rc == RG_ECONFLICT) {
        atomic_fetch_add(&st_conflicts, 1);
        rc = 0;
        goto cleanup;
    }
    if (rc < 0)
        goto cleanup;
    {
        json_t *ev = json_loads(evidence, 0, NULL);
        rg_canary_note(cn, r->id, &gate, ev, now, false);
        rg_canary_note(cn, r->id, &gate, NULL, now, true);
        rg_stream_decision(srv->stream, r->id, &tr, "orchestrator", now);
        rg_stream_counts(srv->stream, r->id, json_object_get(ev, "counts"),
                         now);
        json_decref(ev);
    }
    atomic_fetch_add(&st_transitions, 1);
    rg_info("rollout %lld: %s wave %d -> %s wave %d: %s", (long long)r->id,
            rg_rollout_state_name(tr.from_state), tr.from_wave,
            rg_rollout_state_name(tr.to_state), tr.to_wave, tr.reason);
    rc = 1;
cleanup:
    rg_gate_result_release(&gate);
    free(evidence);
    return rc;
}

/* Ticks the completed rollouts the gate still watches: those with a
 * stratum not cleared yet (strata.h) or still soaking (canary.h: the last
 * exposure is younger than the plan's soak). Appends every id of w to ids (room
 * for n more at *n_ids). Returns 0 or the first error (err may be NULL). */
/* Whether the tick still judges the watched completed rollout w. */
static bool watching(rg_server *srv, const rg_rollout_rec *w, int64_t now_ms)
{
    return !rg_strata_settled(rg_desired_strata(srv->desired), srv->fleet,
                              w->id) ||
           rg_canary_soaking(rg_desired_canary(srv->desired), w, now_ms);
}

bool rg_orchestrator_judges(rg_server *srv, const rg_rollout_rec *r,
                            int64_t now_ms)
{
    if (!rg_rollout_state_final(r->status.state))
        return true;
    if (r->status.state != RG_RO_COMPLETED)
        return false;
    rg_rollout_rec *w = NULL;
    size_t n = 0;
    bool judges = false;
    if (rg_desired_watched(srv->desired, &w, &n, NULL) != 0)
        return true; /* out of memory: say nothing final */
    for (size_t i = 0; i < n && !judges; i++)
        judges = w[i].id == r->id && watching(srv, &w[i], now_ms);
    free(w);
    return judges;
}

static int watch_completed(rg_server *srv, const rg_rollout_rec *w, size_t n,
                           int64_t *ids, size_t *n_ids, rg_err *err)
{
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        ids[(*n_ids)++] = w[i].id;
        if (!watching(srv, &w[i], rg_clock_now(srv->clock)))
            continue;
        rg_err e1;
        rg_err_clear(&e1);
        int r1 = tick_one(srv, &w[i], rg_rollout_watch, &e1);
        if (r1 < 0) {
            atomic_fetch_add(&st_errors, 1);
            rg_warn("rollout %lld: watch failed: %s", (long long)w[i].id,
                    e1.msg);
            if (rc == 0) {
                rc = r1;
                if (err)
                    *err = e1;
            }
        }
    }
    return rc;
}

int rg_orchestrator_tick(rg_server *srv, rg_err *err)
{
    int rc = 0;
    active_list l = {0};
    int64_t *ids = NULL;
    size_t n_ids = 0, n_watch = 0;
    rg_rollout_rec *watch = NULL;
    pthread_mutex_lock(&tick_mu);
    atomic_fetch_add(&st_ticks, 1);
    rc = rg_store_rollout_list(srv->store, true, collect_active, &l, err);
    if (l.oom)
        rc = rg_err_set(err, RG_ENOMEM, "out of memory listing rollouts");
    if (rc == 0)
        rc = rg_desired_watched(srv->desired, &watch, &n_watch, err);
    if (rc < 0)
        goto cleanup;
    ids = malloc((l.n + n_watch + 1) * sizeof *ids);
    if (!ids) {
        rc = rg_err_set(err, RG_ENOMEM, "out of memory ticking rollouts");
        goto cleanup;
    }
    for (size_t i = 0; i < l.n; i++) {
        ids[n_ids++] = l.v[i].id;
        int st = l.v[i].status.state;
        if (st != RG_RO_RUNNING && st != RG_RO_HELD)
            continue;
        rg_err e1;
        rg_err_clear(&e1);
        int r1 = tick_one(
            srv, &l.v[i],
            st == RG_RO_RUNNING ? rg_rollout_tick : rg_rollout_watch, &e1);
        if (r1 < 0) {
            atomic_fetch_add(&st_errors, 1);
            rg_warn("rollout %lld: tick failed: %s", (long long)l.v[i].id,
                    e1.msg);
            if (rc == 0) {
                rc = r1;
                if (err)
                    *err = e1;
            }
        }
    }
    {
        int r2 = watch_completed(srv, watch, n_watch, ids, &n_ids,
                                 rc == 0 ? err : NULL);
        if (rc == 0)
            rc = r2;
    }
    /* Paused rollouts keep their state; so do watched completed ones;
     * other final ones are forgotten. */
    rg_canary_retain(rg_desired_canary(srv->desired), ids, n_ids);
    if (rg_cluster_leads(srv)) {
        int r3 = rg_flag_rollouts_tick(srv, rc == 0 ? err : NULL);
        if (rc == 0)
            rc = r3;
    }
cleanup:
    pthread_mutex_unlock(&tick_mu);
    free(l.v);
    free(watch);
    free(ids);
    return rc;
}

/* ------------------------------------------------------------------ */
/* threads                                                            */

/* Milliseconds until the next tick at next_ms, at most the watchdog's
 * period when systemd asked for keep-alives (sdnotify.h). */
static int tick_wait(int64_t next_ms)
{
    int64_t wait = next_ms - rg_monotonic_ms();
    int64_t wd = rg_sd_watchdog_period_ms();
    if (wd > 0 && wait > wd)
        wait = wd;
    return wait > 0 ? (int)wait : 0;
}

/* The tick loop is what proves rollgated alive to systemd's watchdog: it
 * sends the keep-alives between ticks, so a tick stuck (on the store, a
 * lock) stops them and systemd restarts the server. */
static void *tick_main(void *arg)
{
    rg_server *srv = arg;
    int period = srv->cfg.tick_ms > 0 ? srv->cfg.tick_ms : 1000;
    int64_t next = rg_monotonic_ms() + period;
    bool failing = false;
    while (rg_stopper_wait(&orch.stop, tick_wait(next))) {
        if (rg_monotonic_ms() >= next) {
            rg_err err;
            rg_err_clear(&err);
            rg_server_cfg_rdlock(srv);
            bool failed = rg_orchestrator_tick(srv, &err) < 0;
            rg_server_cfg_unlock(srv);
            next = rg_monotonic_ms() + period; /* then a whole period of rest */
            if (failed)
                rg_warn("orchestrator: %s", err.msg);
            if (failed || failing)
                rg_sd_status("orchestrator: %s",
                             failed ? err.msg : "ticking again");
            failing = failed;
        }
        rg_sd_watchdog();
    }
    return NULL;
}

static void *flush_main(void *arg)
{
    rg_server *srv = arg;
    int period = srv->cfg.flush_ms > 0 ? srv->cfg.flush_ms : 2000;
    while (rg_stopper_wait(&orch.stop, period)) {
        rg_err err;
        rg_err_clear(&err);
        if (rg_fleet_flush(srv->fleet, &err) < 0)
            rg_warn("fleet flush: %s", err.msg);
        rg_server_cfg_rdlock(srv);
        if (rg_cluster_leads(srv))
            rg_retention_run(srv, rg_clock_now(srv->clock));
        rg_server_cfg_unlock(srv);
    }
    return NULL;
}

int rg_orchestrator_start(rg_server *srv, rg_err *err)
{
    int rc = 0;
    pthread_mutex_lock(&orch.mu);
    if (orch.started) {
        rc = rg_err_set(err, RG_ECONFLICT,
                        "the orchestrator is already running");
        goto cleanup;
    }
    rg_stopper_init(&orch.stop);
    orch.srv = srv;
    if (pthread_create(&orch.tick_th, NULL, tick_main, srv) != 0) {
        rg_stopper_release(&orch.stop);
        rc = rg_err_set(err, RG_EINTERNAL, "cannot start the tick thread");
        goto cleanup;
    }
    if (pthread_create(&orch.flush_th, NULL, flush_main, srv) != 0) {
        rg_stopper_stop(&orch.stop);
        pthread_join(orch.tick_th, NULL);
        rg_stopper_release(&orch.stop);
        rc = rg_err_set(err, RG_EINTERNAL, "cannot start the flush thread");
        goto cleanup;
    }
    orch.started = true;
cleanup:
    pthread_mutex_unlock(&orch.mu);
    return rc;
}

void rg_orchestrator_stop(rg_server *srv)
{
    pthread_mutex_lock(&orch.mu);
    if (orch.started && orch.srv == srv) {
        rg_stopper_stop(&orch.stop);
        pthread_join(orch.tick_th, NULL);
        pthread_join(orch.flush_th, NULL);
        rg_stopper_release(&orch.stop);
        orch.started = false;
        orch.srv = NULL;
    }
    pthread_mutex_unlock(&orch.mu);
}
