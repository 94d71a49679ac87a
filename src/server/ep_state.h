/*
 * ep_state.h - an endpoint's state in a rollout, in the words the health
 * gate counts by (docs/health.md, "What is counted"), read from its fleet
 * canary slot for the rollout's release (fleet.h) and nothing else, so the
 * operator's views (GET /v1/endpoints?rollout=ID&state=S, `rollgate rollout
 * endpoints`) cannot drift from the gate:
 *
 *   failed    reported `failed`, `reverted` or `crashed` (beats the rest)
 *   silent    its judged span ended and the gate counted it silent
 *   healthy   its judged span ended and the gate counted it healthy
 *   pending   reported `applying`; its span has not ended (not judged yet)
 *   unjudged  reported `applying`, but the rollout stopped before the gate
 *             judged it (halted, aborted, rolled back, or completed and no
 *             longer watched): final, counted in no decision
 *   assigned  given the release, no `applying` report yet (not counted)
 *
 * The judgement is written by the orchestrator's tick when it resolves an
 * exposure (canary.c calls rg_ep_state_judged); like the rest of the
 * slot it is memory only: after a restart the first tick of a running
 * rollout judges again the spans that have ended, and a rollout that no
 * longer runs shows the exposures it had judged healthy or silent as
 * unjudged (failed ones stay failed: their reports are stored).
 */
#ifndef RG_EP_STATE_H
#define RG_EP_STATE_H

#include "server/fleet.h"

#include <stdbool.h>
#include <stdint.h>

typedef enum rg_ep_state {
    RG_EP_NONE, /* no slot: not in the rollout */
    RG_EP_ASSIGNED,
    RG_EP_PENDING,
    RG_EP_HEALTHY,
    RG_EP_SILENT,
    RG_EP_FAILED,
    RG_EP_UNJUDGED,
    RG_EP_N_STATES
} rg_ep_state;

/* Endpoints by state: n[s] those in state s (n[RG_EP_NONE] unused). The
 * one count of a rollout's endpoints that every summary shows (GET
 * /v1/rollouts, `rollgate rollout status`, /metrics). */
typedef struct rg_ep_tally {
    uint64_t n[RG_EP_N_STATES];
} rg_ep_tally;

/* A rollout's summary: its target fleet's size, the endpoints the desired
 * state gives its release (targeted) and its endpoints by state. */
typedef struct rg_ep_summary {
    uint64_t fleet, targeted;
    rg_ep_tally by_state;
} rg_ep_summary;

/* Counts one endpoint whose slot is cn (NULL or RG_EP_NONE: nothing) in
 * a rollout the gate judges or not (rg_ep_state_in). Returns its state. */
rg_ep_state rg_ep_tally_add(rg_ep_tally *t, const rg_fleet_canary *cn,
                            bool judging);

/* The exposed cohort: pending + healthy + silent + failed + unjudged. */
uint64_t rg_ep_tally_exposed(const rg_ep_tally *t);

/* The state a canary slot says (cn NULL: RG_EP_NONE), never
 * RG_EP_UNJUDGED. Pure. */
rg_ep_state rg_ep_state_of(const rg_fleet_canary *cn);

/* The state of slot cn in a rollout the gate still judges (judging:
 * orchestrator.h rg_orchestrator_judges) or one it stopped judging, where
 * a pending exposure is RG_EP_UNJUDGED. Pure. */
rg_ep_state rg_ep_state_in(const rg_fleet_canary *cn, bool judging);

/* "assigned", "pending", "healthy", "silent", "failed", "unjudged"
 * ("none" for RG_EP_NONE). Static strings. */
const char *rg_ep_state_name(rg_ep_state s);

/* Parses one of the names above except "none". Returns true and sets
 * *out, or false for any other text. */
bool rg_ep_state_parse(const char *name, rg_ep_state *out);

/* The orchestrator's tick: the exposure of the endpoint with fleet handle
 * ref to release was judged, silent or not (marks its slot JUDGED, and
 * SILENT when silent). When t is not NULL, moves the endpoint in *t from
 * its state before to its state after (a tally taken before the judgement
 * stays exact). */
void rg_ep_state_judged(rg_fleet *f, uint32_t ref, int64_t release, bool silent,
                        rg_ep_tally *t);

#endif
