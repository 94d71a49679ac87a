/*
 * policy.h - the gates rollgate-sim compares with Rollgate's health gate
 * (health/gate.h). Each is an rg_gate_fn, so the same state machine
 * (rg_rollout_tick) drives them; like every gate they are pure: whatever
 * they need beyond the wave counts is measured by the simulator and passed
 * in ctx.
 *
 *  threshold  (hawkBit style): halt when failures (reported failed,
 *             reverted or crashed) exceed 50% of the endpoints the rollout
 *             has targeted; otherwise pass once the wave has baked
 *             max(min_bake, W). Silence never counts.
 *  fixed-bake (Argo Rollouts / Flagger style analysis): every check
 *             interval (60 s) the simulator measures, from what a server
 *             sees (reports that got through, time of last contact), the
 *             share of exposed endpoints that reported failed or crashed
 *             or were not heard from for 3 check-in intervals of their
 *             stratum; a check fails when it exceeds 5%. The wave halts
 *             after 3 failed checks and passes after a fixed wait of
 *             max(min_bake, W) otherwise. No control cohort: a fixed
 *             silence threshold.
 * Neither uses stratified first waves or progressive exposure budgets
 * (exposure.h): those belong to Rollgate's controller.
 */
#ifndef RG_SIM_POLICY_H
#define RG_SIM_POLICY_H

#include "common/err.h"
#include "model/rollout.h"

#include <stdint.h>

typedef enum rg_sim_policy {
    RG_SIM_ROLLGATE = 0,
    RG_SIM_THRESHOLD = 1,
    RG_SIM_FIXED_BAKE = 2,
} rg_sim_policy;

#define RG_THRESHOLD_FAIL_SHARE 0.5
#define RG_FIXED_BAKE_CHECK_MS 60000
#define RG_FIXED_BAKE_STALE_BEATS 3
#define RG_FIXED_BAKE_SILENCE_SHARE 0.05
#define RG_FIXED_BAKE_FAILURE_LIMIT 3

/* "rollgate", "threshold", "fixed-bake". */
const char *rg_sim_policy_name(int policy);
/* Inverse of rg_sim_policy_name; -1 for an unknown name. */
int rg_sim_policy_parse(const char *name);

/* The threshold gate; ctx unused. out->evidence holds the counts and
 * limits (caller releases). Returns 0. */
int rg_gate_threshold(const rg_wave *wave, const rg_wave_counts *counts,
                      int64_t elapsed_ms, void *ctx, rg_gate_result *out,
                      rg_err *err);

/* What the simulator measured for the fixed-bake gate in the current
 * wave (it resets these when a wave starts). */
typedef struct rg_fixed_bake_ctx {
    uint32_t checks;        /* checks run in this wave */
    uint32_t failed_checks; /* of those, above the silence threshold */
    double last_share;      /* failed-or-stale share at the last check */
} rg_fixed_bake_ctx;

/* The fixed-bake gate; ctx points to an rg_fixed_bake_ctx. Returns 0, or
 * RG_EINVAL without a ctx. */
int rg_gate_fixed_bake(const rg_wave *wave, const rg_wave_counts *counts,
                       int64_t elapsed_ms, void *ctx, rg_gate_result *out,
                       rg_err *err);

#endif
