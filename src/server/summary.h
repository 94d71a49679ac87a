/*
 * summary.h - a rollout's summary measured now: what `rollgate rollout
 * status` and GET /v1/rollouts/{id} show at the top.
 *
 * One scan of the fleet table counts the endpoints of the rollout by the
 * state the health gate judged them in (ep_state.h: the same slots that
 * GET /v1/endpoints?rollout=ID&state=S filters on), in total and per
 * stratum, so the summary is always the sum of the per-stratum table;
 * targeted is what the desired state gives the release now (inside the
 * share and admitted, everyone once completed with every stratum cleared,
 * nobody after a revert). The raw reports stored for the release (distinct
 * endpoints that reported applying, healthy, failed) come beside them,
 * under their own name: they are not what the gate counts (a healthy
 * report is not yet a judged healthy endpoint; silence is never reported).
 */
#ifndef RG_SUMMARY_H
#define RG_SUMMARY_H

#include "common/err.h"
#include "server/ep_state.h"
#include "server/server.h"
#include "store/store.h"

#include <stdint.h>

typedef struct rg_summary {
    rg_ep_summary total;
    rg_ep_tally *strata; /* [n_strata] by stratum index; owned */
    uint32_t n_strata;
    rg_event_counts reports; /* rg_store_event_counts of the release */
} rg_summary;

/* Measures rollout r now into *out (release with rg_summary_release, also
 * after an error). Returns 0, the store's error or RG_ENOMEM. */
int rg_summary_measure(rg_server *srv, const rg_rollout_rec *r, rg_summary *out,
                       rg_err *err);

/* Frees what out holds and empties it. */
void rg_summary_release(rg_summary *out);

#endif
