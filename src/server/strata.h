/*
 * strata.h - where each stratum of a rollout stands with the gate: the
 * server's memory of the per-stratum verdicts (health/gate.h, evidence
 * "strata"), which the check-in path obeys (desired.c) and which outlives
 * the wave that produced them.
 *
 * A stratum of a rollout is
 *  - open: no verdict yet; exposure budgets apply (model/exposure.h);
 *  - cleared: it got a `pass` (healthy evidence); after completion its
 *    endpoints get the release without a budget;
 *  - held: it got a `hold` (its evidence is not resolved: health/resolve.h)
 *    while not cleared: held at its exposure budget like an open one,
 *    during the rollout and after completion, until a later `pass` clears
 *    it (an operator's resume or promote of the rollout makes it open
 *    again); a `hold` leaves a cleared stratum cleared;
 *  - halted: it got a `halt` (or the whole rollout halted on evidence
 *    about every stratum); nothing new is exposed, and after the
 *    rollout's halt with on_halt revert_stratum its endpoints return to
 *    the previous release.
 * `pending` verdicts change nothing. A stratum the fleet grows after the
 * verdicts is open.
 *
 * Persistence: the orchestrator stores rg_strata_json with every decision
 * and evaluation ("strata_state" in the evidence; an evaluation is stored
 * whenever a stratum's state changed); rg_strata_restore reads the newest
 * one back after a restart. A rollout with no stored strata state (made
 * before this existed) restores as: halted: every stratum halted (the
 * whole rollout reverted, as it did then); completed: every stratum
 * cleared; otherwise open.
 *
 * Strata are the fleet's indexes (fleet.h); states are kept by name in
 * the store. Thread-safety: rg_strata_get from any thread; the rest from
 * the orchestrator's tick, the desired state's reload and operator
 * actions (a mutex serialises them).
 */
#ifndef RG_STRATA_H
#define RG_STRATA_H

#include "common/err.h"
#include "health/resolve.h" /* rg_stratum_state */
#include "server/fleet.h"
#include "store/store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct rg_strata rg_strata;

/* Creates an empty memory. Returns 0 or RG_ENOMEM; free with
 * rg_strata_free (NULL is a no-op). */
int rg_strata_new(rg_strata **out, rg_err *err);
void rg_strata_free(rg_strata *s);

/* Loads rollout ro's strata states from its newest stored decision that
 * has them (see the top comment), once. Returns 1 when it loaded them, 0
 * when ro was known already, or RG_ENOMEM or the store's error. */
int rg_strata_restore(rg_strata *s, rg_store *store, rg_fleet *fleet,
                      const rg_rollout_rec *ro, rg_err *err);

/* Loads rollout ro's strata states again from its newest stored decision
 * that has them, known or not (a node that does not lead takes the
 * leader's verdicts; docs/scale.md). Without such a decision nothing
 * changes. Returns 0, RG_ENOMEM or the store's error. */
int rg_strata_refresh(rg_strata *s, rg_store *store, rg_fleet *fleet,
                      const rg_rollout_rec *ro, rg_err *err);

/* The rg_stratum_state of stratum (a fleet index) in rollout id, or -1
 * when the rollout is not known (never restored nor updated). */
int rg_strata_get(rg_strata *s, int64_t id, uint32_t stratum);

/* Takes in the gate's per-stratum verdicts: gate_evidence's "strata"
 * array ([{"name", "verdict"}]; missing: nothing changes) for rollout id.
 * halt: the rollout halts with this evidence; if no stratum is then
 * halted, every stratum is (the evidence names none alone). Returns true
 * when a state changed, false otherwise or on allocation failure (the
 * states stay as they were). */
bool rg_strata_update(rg_strata *s, rg_fleet *fleet, int64_t id,
                      const json_t *gate_evidence, bool halt);

/* An operator resumed or promoted rollout id: its held strata are open
 * again. Returns true when one was held. */
bool rg_strata_release_holds(rg_strata *s, int64_t id);

/* Whether every stratum of the fleet is cleared in rollout id (O(strata);
 * the answer is also kept for rg_strata_was_settled). */
bool rg_strata_settled(rg_strata *s, rg_fleet *fleet, int64_t id);

/* The last answer of rg_strata_settled for rollout id (false before the
 * first one), O(1) for the check-in path. */
bool rg_strata_was_settled(rg_strata *s, int64_t id);

/* {"cleared": [names], "held": [...], "halted": [...]} of rollout id (all
 * empty when unknown): a new reference, or NULL on allocation failure. */
json_t *rg_strata_json(rg_strata *s, rg_fleet *fleet, int64_t id);

/* Forgets every rollout not among ids[0..n). */
void rg_strata_retain(rg_strata *s, const int64_t *ids, size_t n);

#endif
