/*
 * exposure.h - who inside a wave may be exposed now: stratified first
 * waves and progressive exposure budgets (issue 4). Pure functions the
 * orchestrator and rollgate-sim share; no I/O, no clock, no allocation.
 *
 * Stratified first wave. From the first non-internal wave of a plan on,
 * every stratum with at least min_stratum_size endpoints (default 1: every
 * stratum, however small; issue 10) holds at least min_per_stratum of
 * them, or all of them when it has fewer, whatever the wave's share: its
 * share inside that stratum is raised to one more than the
 * min_per_stratum-th smallest bucket among the stratum's endpoints (the
 * largest, when it has fewer). The caller keeps those smallest
 * buckets per stratum (rg_exposure_track_lowest) while it enumerates the
 * fleet; rg_exposure_stratum_share gives the raised share. Buckets are the
 * rollout's own (bucket.h), so the raised share still never removes
 * anyone and later waves keep these endpoints.
 *
 * Progressive exposure. Inside any wave (the internal ring included), a
 * stratum may have at most budget = initial_budget + growth * healthy
 * endpoints assigned the release, where healthy counts that stratum's
 * endpoints that reported `healthy R` in the rollout, have reported no
 * failure, and whose healthy report is at least the plan's grow_after
 * old (rg_exposure_grows; 0 on the emergency lane, the soak on the
 * standard one). A release that crashes a stratum (no healthy reports
 * from it) therefore never reaches more of it than initial_budget
 * endpoints, those in flight included; nor does one that fails within
 * grow_after of healthy, or whose failure is reported (and halts)
 * within grow_after of the stratum's first healthy report, whenever it
 * begins (docs/health.md, "Budgets grow per soaked report"). A healthy
 * stratum's budget grows by a factor of about 1 + growth per report
 * round trip plus grow_after.
 */
#ifndef RG_EXPOSURE_H
#define RG_EXPOSURE_H

#include "common/err.h"
#include "model/plan.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RG_EXPOSURE_MAX_PER_STRATUM 64 /* largest min_per_stratum */

typedef struct rg_exposure_params {
    uint64_t min_stratum_size; /* N: strata this large get a floor; 1 */
    uint32_t min_per_stratum;  /* k: the floor, 1..64; default 3 */
    uint32_t initial_budget;   /* endpoints a stratum may have assigned
                                  before any healthy report, >= k; 6 */
    uint32_t growth;           /* more assignments per healthy report;
                                  1..1000; default 4 */
} rg_exposure_params;

/* Fills p with the defaults above. */
void rg_exposure_params_default(rg_exposure_params *p);

/* Returns 0 when p is consistent, else RG_EINVAL naming the field
 * ("min_per_stratum", "initial_budget", "growth"). */
int rg_exposure_params_check(const rg_exposure_params *p, rg_err *err);

/* Index of the first wave of plan that is not internal, or -1 if none. */
int rg_exposure_first_wave(const rg_plan *plan);

/* Keeps in lowest[0..*n) the k (<= RG_EXPOSURE_MAX_PER_STRATUM) smallest
 * buckets offered so far, in increasing order (duplicates kept). Call it
 * once per endpoint of the stratum, *n starting at 0. */
void rg_exposure_track_lowest(uint32_t *lowest, size_t *n, size_t k,
                              uint32_t bucket);

/* The share (ppm) that applies inside one stratum while the rollout's
 * share is share_ppm and it is in wave `wave` of plan: share_ppm, raised
 * to lowest[min(k, n_lowest) - 1] + 1 (k = min_per_stratum) when wave >=
 * rg_exposure_first_wave(plan), the stratum has at least min_stratum_size
 * endpoints and lowest holds at least one bucket (the output of
 * rg_exposure_track_lowest over the whole stratum). Never below
 * share_ppm. */
uint32_t rg_exposure_stratum_share(const rg_exposure_params *p,
                                   const rg_plan *plan, int wave,
                                   uint32_t share_ppm, uint64_t stratum_size,
                                   const uint32_t *lowest, size_t n_lowest);

/* Whether an endpoint that reported healthy at healthy_ms (0: never) and
 * `failed` (a failure report since) grows its stratum's budget at now_ms
 * on a plan whose grow_after is grow_after_ms: healthy, not failed, and
 * its healthy report at least grow_after_ms old. */
bool rg_exposure_grows(int64_t grow_after_ms, int64_t healthy_ms, bool failed,
                       int64_t now_ms);

/* Budget of a stratum: initial_budget + growth * healthy (saturating). */
uint64_t rg_exposure_budget(const rg_exposure_params *p, uint64_t healthy);

/* Whether one more endpoint of a stratum that has `assigned` endpoints
 * assigned the release (in flight or applied) and `healthy` confirmed
 * healthy reports may be assigned now: assigned < budget. */
bool rg_exposure_admits(const rg_exposure_params *p, uint64_t assigned,
                        uint64_t healthy);

#endif
