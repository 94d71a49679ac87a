/*
 * orchestrator.h - the tick that moves rollouts through their waves, and
 * the fleet's flush thread.
 *
 * Every cfg.tick_ms the tick thread runs rg_orchestrator_tick: for each
 * running rollout it measures the current wave in memory (canary.h:
 * per-stratum exposures, outcomes and matched control windows, rebuilt
 * from the stored events after a restart), asks the pure state machine
 * (rg_rollout_tick with the health gate rg_health_gate and srv->clock's
 * time) and persists whatever transition comes back with
 * rg_store_rollout_transition (actor "orchestrator", evidence {"counts",
 * "gate": {"verdict", "reason", "evidence"}}, an audit row by
 * "orchestrator"/"system"), then reloads the desired state. Evaluations
 * that change nothing are kept in memory (rg_canary_last) and stored as
 * decision rows with from == to (rg_store_decision_append) when the
 * verdict or the gate's rule changes, and at most every
 * RG_CANARY_PERSIST_MS otherwise. Every cfg.flush_ms the flush thread writes
 * the fleet's dirty records (rg_fleet_flush). Only srv->clock tells the time.
 *
 * One orchestrator runs per process (rollgated has one rg_server).
 */
#ifndef RG_ORCHESTRATOR_H
#define RG_ORCHESTRATOR_H

#include "common/err.h"
#include "model/rollout.h"
#include "server/server.h"
#include "store/store.h"

#include <stdint.h>

/* Starts the tick and flush threads for srv (srv->store, fleet and desired
 * must be open, and outlive rg_orchestrator_stop). Returns 0, RG_ECONFLICT
 * when already started, or RG_EINTERNAL when a thread cannot start. */
int rg_orchestrator_start(rg_server *srv, rg_err *err);

/* Stops and joins both threads (the fleet's last flush happens in
 * rg_fleet_close). A no-op when not started. */
void rg_orchestrator_stop(rg_server *srv);

/* One pass over every active rollout. Ticks are serialised (a test may
 * call this while the thread runs). A rollout whose transition loses a race
 * with an operator (RG_ECONFLICT) is skipped until the next tick. Returns 0,
 * or the first store or gate error (the other rollouts are still ticked). */
int rg_orchestrator_tick(rg_server *srv, rg_err *err);

/* Whether the gate still judges rollout r's exposures at now_ms, so that
 * a pending one may yet become healthy or silent: r is not final, or it
 * completed and the tick still watches it (the channel's newest rollout,
 * with a stratum not cleared or still soaking). Otherwise its pending
 * exposures are unjudged for good (ep_state.h). */
bool rg_orchestrator_judges(rg_server *srv, const rg_rollout_rec *r,
                            int64_t now_ms);

/* Counters for /metrics. */
typedef struct rg_orchestrator_stats {
    uint64_t ticks;
    uint64_t transitions;
    uint64_t conflicts; /* transitions lost to a concurrent change */
    uint64_t errors;
} rg_orchestrator_stats;

void rg_orchestrator_stats_get(rg_orchestrator_stats *out);

#endif
