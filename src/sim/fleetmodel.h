/*
 * fleetmodel.h - when a simulated endpoint can reach rollgated and when
 * it checks in: the harmless silence of real fleets (scenario.h): offline
 * stretches, outages (of a stratum, of everything, or of the exposed
 * cohort only), laptops sleeping on a daily schedule, VPN flaps,
 * multi-day offline stretches, a per-stratum check-in interval and loss,
 * check-in jitter, and rollgated itself down while it restarts.
 *
 * Everything here is a pure function of (scenario, seed, endpoint, time):
 * each endpoint's schedule is drawn by hashing (rng.h), never from the
 * event order, so a knob changes nothing else of a run. Times are the
 * simulator's seconds; T0 is the second the rollout starts.
 */
#ifndef RG_SIM_FLEETMODEL_H
#define RG_SIM_FLEETMODEL_H

#include "sim/scenario.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct rg_fleetmodel {
    const rg_scenario *sc; /* borrowed; outlives the model */
    uint64_t seed;
    int64_t T0;
    uint64_t loss_thr[RG_SIM_MAX_STRATA]; /* rg_share_thr of the loss */
    int every[RG_SIM_MAX_STRATA]; /* stratum interval / fleet interval */
    uint64_t offline_thr, sleep_thr, flap_thr, away_thr;
    uint64_t outage_thr[RG_SIM_MAX_OUTAGES];
} rg_fleetmodel;

/* Fills m for sc (borrowed), seed and the rollout start T0. */
void rg_fleetmodel_init(rg_fleetmodel *m, const rg_scenario *sc,
                        uint64_t seed, int64_t T0);

/* Whether endpoint i of stratum k could reach the server at second T,
 * before independent loss; exposed: it is exposed to the release (the
 * target of "exposed" outages). False while the server is down. */
bool rg_fleetmodel_online(const rg_fleetmodel *m, uint32_t i, int k,
                          bool exposed, int64_t T);

/* Whether the visit of i's heartbeat block at second T is one of its
 * check-ins (a stratum with an interval of n fleet intervals checks in at
 * every n-th visit, at a phase of its own). */
bool rg_fleetmodel_due(const rg_fleetmodel *m, uint32_t i, int k, int64_t T);

/* How late i's check-in due at T comes: uniform in [0, jitter_s]. */
int64_t rg_fleetmodel_jitter(const rg_fleetmodel *m, uint32_t i, int64_t T);

/* Stratum k's check-in interval in seconds. */
int rg_fleetmodel_interval(const rg_fleetmodel *m, int k);

/* Whether rollgated is down at second T (server_restart). */
bool rg_fleetmodel_server_down(const rg_fleetmodel *m, int64_t T);

/* Whether T is the second rollgated serves again after its restart. */
bool rg_fleetmodel_server_back(const rg_fleetmodel *m, int64_t T);

#endif
