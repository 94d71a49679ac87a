/*
 * canary.h - the server's in-memory health state of its active rollouts:
 * what the health gate (health/gate.h) needs, counted the way rollgate-sim
 * counts it (sim/sim.h), and the exposure rules of model/exposure.h applied
 * at check-in.
 *
 * Per endpoint (fixed size, in the fleet record, fleet.h): a canary slot
 * per release under rollout with ASSIGNED / EXPOSED / HEALTHY / FAILED and
 * the server times of `applying` and `healthy`. A check-in only sets those
 * flags (O(1), no database write besides the events themselves, which are
 * stored before they are acknowledged). The slots belong to one rollout of
 * the release: the first measure of a rollout frees every slot of its
 * release (rg_fleet_canary_clear) and rebuilds them from the events
 * received since the rollout was created, so endpoints admitted by an
 * earlier (halted, rolled back) rollout of the same release start again
 * from nothing and go through the new rollout's share and budget; until
 * then the check-in path trusts only exposures that began after the
 * rollout was created (rg_canary_holds).
 *
 * Per active rollout (here), recomputed by the orchestrator's tick:
 *  - a scan of the fleet gives, per stratum (os-os_version-arch), its
 *    size, its k lowest buckets (stratified first-wave floor), the healthy
 *    reports so far (the budget of new exposures, rg_exposure_budget) and
 *    the endpoints assigned; the raised share and the budget are published
 *    for the check-in path (rg_canary_admit);
 *  - the counting is the cohort tracker's (health/cohort.h), which
 *    rollgate-sim feeds too: the scan hands it the fleet's members and
 *    every exposure and failure report not yet taken in (flags QUEUED,
 *    COUNTED) and answers its questions from the fleet table;
 *  - every exposure not yet taken in is queued with RG_TALLY_CONTROLS
 *    matched control endpoints of its stratum, drawn by hashing its id;
 *    a control counts when it is not in the rollout and was heard from in
 *    the last 1.5 check-in intervals before the exposure began; the
 *    exposure is judged on [a + A, a + A + W) (health/silence.h: A the
 *    activation allowance, declared or learned from this scan's
 *    applying -> healthy latencies of exposures at least the cap old;
 *    W whole check-in intervals, at least 3, covering the plan's window,
 *    the interval being the stratum's observed one (gap between the last
 *    two check-ins) or the configured one before any is observed);
 *  - every tick inside that span records which of the exposed endpoint
 *    and its controls checked in during it (the fleet keeps only the last
 *    two check-ins); when the span has ended the exposure is resolved:
 *    failed (failed / reverted / crashed reported), healthy (healthy
 *    reported by then and heard in the span), silent otherwise; each
 *    eligible control window is silent when the control did not check in
 *    during the span (rg_cohort_heard). Current-wave windows go to the cell of
 *    their stratum and period (period p = windows that ended in
 *    [wave begin + p W, wave begin + (p + 1) W)); earlier waves' windows
 *    count for nothing more (their failures are counted by the scan);
 *  - failures need no window: the tracker counts, per stratum, the
 *    failures reported by current-wave exposures (those no failed window
 *    shows yet are the stratum's early_failed) and the exposures and
 *    failures of earlier waves (prior_trials, prior_failed; analyzer.h),
 *    so a failure moves the gate at the first tick after it is reported;
 *  - the gate's input is one entry per stratum and period, the pending
 *    exposures of the current wave on the last one (rg_tally_entries,
 *    the rules rollgate-sim counts by too: health/tally.h).
 * Endpoints a group policy holds on the rollout's channel (desired.h,
 * rg_desired_held) are not part of its target fleet: the scan leaves them
 * out (no stratum size, floor, budget, exposure or control window), and
 * the wave counts' fleet is the target fleet's size.
 *
 * After a restart the state is rebuilt from the stored events of the
 * rollout's release (applying/healthy/failed at their received time) on
 * the first tick; exposures whose window had already ended by then are
 * resolved without control windows (their silence cannot count against
 * the release, their failures still do).
 *
 * Who calls whom: the desired state (desired.c) owns the rg_canary and
 * calls rg_canary_new/free, rg_canary_admit, rg_canary_holds and
 * rg_canary_rebuild; the orchestrator calls rg_canary_measure (passing the
 * policy holds it got from rg_desired_held), rg_canary_declare_activation,
 * rg_canary_note, rg_canary_retain and rg_canary_soaking; the API reads
 * rg_canary_last and rg_canary_summary (and the endpoint list,
 * api_endpoints.c, rg_canary_holds).
 * The tracker's resolution marks each judged exposure in its fleet slot
 * (ep_state.h). This file calls nothing of desired.h (no circle).
 *
 * Thread-safety: rg_canary_admit and rg_canary_holds may be called from
 * any thread; rg_canary_measure, rg_canary_note, rg_canary_retain and
 * rg_canary_soaking only from the orchestrator's tick (serialised);
 * rg_canary_last and rg_canary_summary from any thread.
 */
#ifndef RG_CANARY_H
#define RG_CANARY_H

#include "common/err.h"
#include "health/analyzer.h"
#include "health/gate.h"
#include "health/tally.h"
#include "model/exposure.h"
#include "model/rollout.h"
#include "server/ep_state.h"
#include "server/fleet.h"
#include "server/server.h"
#include "store/store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define RG_CANARY_PERSIST_MS                                                   \
    60000 /* an unchanged evaluation is stored at                              \
             most this often */

typedef struct rg_canary rg_canary;

/* Creates an empty state. Returns 0 or RG_ENOMEM. Free with
 * rg_canary_free (NULL is a no-op). */
int rg_canary_new(rg_canary **out, rg_err *err);
void rg_canary_free(rg_canary *c);

/* Tick: the release of rollout ro declares that it activates within
 * max_ms of `applying` (< 0: undeclared, learned per stratum; the
 * default). Applies to exposures queued from then on. */
void rg_canary_declare_activation(rg_canary *c, const rg_rollout_rec *ro,
                                  int64_t max_ms);

/* Check-in path. Whether the endpoint whose slot for ro's release is cn
 * (NULL: none) was admitted by rollout ro: ASSIGNED once ro has been
 * measured (its slots were reset for it); before that, only an exposure
 * that began at or after ro was created counts (the slots may still be an
 * earlier rollout's of the same release). */
bool rg_canary_holds(rg_canary *c, const rg_rollout_rec *ro,
                     const rg_fleet_canary *cn);

/* Check-in path. Whether the endpoint (stratum, bucket in rollout ro,
 * internal ring) may be assigned ro's release now while ro runs: inside
 * the stratum's share (the rollout's, raised by the stratified floor) and
 * within the stratum's exposure budget, which it then takes one place of.
 * False while ro has not been measured by a tick yet. */
bool rg_canary_admit(rg_canary *c, const rg_rollout_rec *ro, uint32_t stratum,
                     uint32_t bucket, bool internal);

/* Tick: measures running rollout ro at now_ms (on first sight: frees the
 * slots of its release and rebuilds them from the store's events received
 * since ro was created). held[0..n_held) (borrowed; NULL: none) is the
 * table of attribute profiles a group policy holds on ro's channel, as
 * rg_desired_held gives it to the caller: their endpoints are left out of
 * the target fleet. Fills *counts and *gate (whose strata point into c,
 * valid until the next call for ro). Returns 0 or a store error /
 * RG_ENOMEM. */
int rg_canary_measure(rg_canary *c, rg_server *srv, const rg_rollout_rec *ro,
                      const uint8_t *held, uint32_t n_held, int64_t now_ms,
                      rg_wave_counts *counts, rg_health_gate_ctx *gate,
                      rg_err *err);

/* Tick: whether completed rollout ro is still soaking at now_ms: its
 * newest exposure is younger than its plan's soak_ms, or a soak span is
 * still open (rg_cohort_soaking), so delayed failures and endpoints gone
 * dark after healthy may still come (the orchestrator keeps watching it,
 * docs/health.md "Soak"). True for a rollout not measured since the
 * server started (one watch tick measures it and tells). */
bool rg_canary_soaking(rg_canary *c, const rg_rollout_rec *ro, int64_t now_ms);

/* Frees the slots of ro's release and rebuilds them from the store's
 * events received since ro was created (what the first measure of ro
 * does). The desired state's reload calls it once for a halted or
 * completed rollout after a restart, before any check-in is answered, so
 * that the endpoints it admitted keep their release. Returns 0 or the
 * store's error. */
int rg_canary_rebuild(rg_server *srv, const rg_rollout_rec *ro, rg_err *err);

/* Tick: remembers the gate's latest evaluation of rollout id (verdict,
 * reason, evidence: a JSON object, borrowed). Returns true when it should
 * be stored: the verdict or rule changed since the last stored one, or
 * RG_CANARY_PERSIST_MS passed; the caller then stores it and calls again
 * with stored = true. */
bool rg_canary_note(rg_canary *c, int64_t id, const rg_gate_result *g,
                    const json_t *evidence, int64_t now_ms, bool stored);

/* A copy of rollout id's latest evaluation {"at_ms", "verdict", "reason",
 * "evidence"} (new reference) or NULL when there is none. */
json_t *rg_canary_last(rg_canary *c, int64_t id);

/* Rollout id's summary at its latest measure (ep_state.h: the target
 * fleet, the slots assigned, the endpoints by state once that tick's
 * judgements were made) into *out. Returns false when it was never
 * measured (or is no longer kept). */
bool rg_canary_summary(rg_canary *c, int64_t id, rg_ep_summary *out);

/* Tick: forgets every rollout not among ids[0..n). */
void rg_canary_retain(rg_canary *c, const int64_t *ids, size_t n);

#endif
