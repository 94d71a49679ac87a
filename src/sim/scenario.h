/*
 * scenario.h - a rollgate-sim scenario: the synthetic fleet, its harmless
 * silence (loss, offline stretches, outages), the release and its plan, and
 * the faults the release carries. Read from the JSON format of issue 4:
 *
 *  {"name": "...", "seed": 1, "duration_s": 21600,
 *   "fleet": {"endpoints": 1000000, "heartbeat_interval_s": 60,
 *             "internal": 200, "strata": [{"name": "win10-x64", "share": 0.6},
 * ...]}, "loss": {"independent": 0.05, "offline_share": 0.10,
 *            "offline_stretch_s": 7200,
 *            "outages": [{"stratum": "win10-x64", "start_s": 600,
 *                         "duration_s": 3600, "share": 0.3}]},
 *   "release": {"plan": "standard" | "emergency" | {plan object},
 *               "apply_latency_s": [5, 60], "healthy_after_s": [5, 30],
 *               "crash_revert_s": 300},
 *   "faults": [{"stratum": "win10-x64", "crash": 1.0},
 *              {"stratum": "*", "fail": 0.01}],
 *   "exposure": {"min_stratum_size": 100, "min_per_stratum": 3,
 *                "initial_budget": 6, "growth": 4},
 *   "analysis": {"baseline_failure": 0.001, "tick_s": 5}}
 *
 * Fields added to the format (all optional): loss.offline_stretch_s
 * (length of an offline stretch, default 7200), release.healthy_after_s
 * (activation + probe time after `applying`, default [5, 30]),
 * release.crash_revert_s (time a crashing endpoint boot-loops before its
 * agent reverts after K restarts, default 300), exposure (exposure.h
 * parameters), analysis (matched control windows per exposed window,
 * harmless failure share, orchestrator tick). A stratum "*" in outages or
 * faults means every stratum. Strata shares must sum to 1 (within 1e-3;
 * they are normalised).
 *
 * What real fleets do (all optional; scenarios/README.md documents them):
 *  fleet.jitter_s                  each check-in late by uniform [0, J] s
 *  fleet.strata[i].heartbeat_interval_s   the stratum's check-in interval
 *                                  (a multiple of the fleet's)
 *  fleet.strata[i].loss            the stratum's independent loss
 *  fleet.strata[i].endpoints       the stratum's exact size (its share
 *                                  is then only checked in the sum)
 *  loss.outages[i].cohort          "all" (default) or "exposed": the outage
 *                                  hits only endpoints exposed to the release
 *  loss.sleep {"share", "start_h": [a, b], "hours": [lo, hi], "clock_h"}
 *                                  laptops asleep once a day
 *  loss.vpn_flaps {"share", "per_hour", "duration_s": [lo, hi]}
 *  loss.long_offline {"share", "days": [lo, hi]}   multi-day stretches
 *  release.activation {"declared": "none"|"restart"|"reboot"|"undeclared",
 *                      "max_s", "unreachable_s": [lo, hi]}
 *  release.healthy_after_dist {"kind": "uniform"|"lognormal"|"bimodal",
 *                              "median_s", "sigma", "slow_share",
 *                              "fast_max_s"}
 *  faults[i].hang, faults[i].onset_s: [lo, hi], faults[i].report
 *  server_restart {"at_s", "down_s"}
 *  release.flag                    the release is a guarded flag rollout of
 *                                  this flag (docs/flags.md): buckets are
 *                                  the flag's (flags/share.h), no stratified
 *                                  floor, budget or internal ring (the
 *                                  endpoint evaluates the share itself), and
 *                                  a crash is the consumer's: the agent keeps
 *                                  checking in while it crash-loops, then
 *                                  falls back to the last known good set and
 *                                  reports it
 */
#ifndef RG_SIM_SCENARIO_H
#define RG_SIM_SCENARIO_H

#include "common/err.h"
#include "model/exposure.h"
#include "model/plan.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RG_SIM_MAX_ENDPOINTS 10000000u
#define RG_SIM_MAX_STRATA 64
#define RG_SIM_MAX_OUTAGES 16
#define RG_SIM_MAX_FAULTS 16
#define RG_SIM_NAME_MAX 64
#define RG_SIM_ALL_STRATA (-1) /* "*" */

typedef struct rg_sim_outage {
    int stratum; /* index, or RG_SIM_ALL_STRATA */
    int64_t start_s, duration_s;
    double share;      /* of the stratum's endpoints, (0, 1] */
    bool exposed_only; /* hits only endpoints exposed to the release */
} rg_sim_outage;

typedef struct rg_sim_fault {
    int stratum;  /* index, or RG_SIM_ALL_STRATA */
    double crash; /* share that crashes after applying, [0, 1] */
    double fail;  /* share that reports failed, [0, 1] */
    double hang;  /* share that goes dark for good (no report), [0, 1] */
    int onset_min_s, onset_max_s; /* fault strikes this long after the
                                     endpoint became healthy; 0: at once */
    double report; /* chance the failure is ever reported, [0, 1] */
} rg_sim_fault;

/* Laptops that sleep once a day: a share of the fleet sleeps for a
 * uniform [min_h, max_h] hours starting at a uniform local time in
 * [start_min_h, start_max_h) (per endpoint); the simulation starts at
 * local time clock_h. */
typedef struct rg_sim_sleep {
    double share;
    int start_min_h, start_max_h, min_h, max_h;
    int clock_h;
} rg_sim_sleep;

/* VPN flaps: a share of the fleet loses the server per_hour times an
 * hour (one flap per 3600 / per_hour s slot, at a hashed time) for a
 * uniform [min_s, max_s]. */
typedef struct rg_sim_flaps {
    double share;
    int per_hour, min_s, max_s;
} rg_sim_flaps;

/* Multi-day offline stretches: a share of the fleet is offline for one
 * uniform [min_days, max_days] stretch beginning anywhere from max_days
 * before the simulation to its end. */
typedef struct rg_sim_long_offline {
    double share;
    int min_days, max_days;
} rg_sim_long_offline;

/* How a release activates, as it declares it (the gate may read the
 * declaration; the simulated delay is release.healthy_after_s). A reboot
 * makes the endpoint unreachable for a uniform [unreachable_min_s,
 * unreachable_max_s] at the end of its activation. */
typedef enum rg_sim_activation_kind {
    RG_SIM_ACT_UNDECLARED = 0,
    RG_SIM_ACT_NONE,
    RG_SIM_ACT_RESTART,
    RG_SIM_ACT_REBOOT,
} rg_sim_activation_kind;

typedef struct rg_sim_activation {
    int declared; /* rg_sim_activation_kind */
    int max_s;    /* declared maximum, 0 when undeclared */
    int unreachable_min_s, unreachable_max_s;
} rg_sim_activation;

/* How the activation delay (release.healthy_after_s = [lo, hi]) is drawn
 * (release.healthy_after_dist): uniform on [lo, hi]; lognormal with
 * median_s and sigma, clamped to [lo, hi] (a heavy tail piled up at the
 * maximum); bimodal: slow_share of the exposures take hi exactly, the
 * rest uniform on [lo, fast_max_s]. */
typedef enum rg_sim_delay_kind {
    RG_SIM_DELAY_UNIFORM = 0,
    RG_SIM_DELAY_LOGNORMAL,
    RG_SIM_DELAY_BIMODAL,
} rg_sim_delay_kind;

typedef struct rg_sim_delay {
    int kind; /* rg_sim_delay_kind */
    double median_s, sigma;
    double slow_share;
    int fast_max_s;
} rg_sim_delay;

/* rollgated stops at at_s (since the rollout start) and serves again
 * down_s later, its in-memory health state rebuilt from the store. */
typedef struct rg_sim_restart {
    int64_t at_s; /* RG_SIM_NEVER: no restart */
    int64_t down_s;
} rg_sim_restart;

#define RG_SIM_NEVER INT64_MAX

typedef struct rg_scenario {
    char name[RG_SIM_NAME_MAX];
    uint64_t seed;
    int64_t duration_s;
    /* fleet */
    uint32_t endpoints; /* 1..RG_SIM_MAX_ENDPOINTS */
    int interval_s;     /* heartbeat interval, 1..3600 */
    uint32_t internal;  /* endpoints tagged `internal` */
    size_t n_strata;
    char strata[RG_SIM_MAX_STRATA][RG_SIM_NAME_MAX];
    double shares[RG_SIM_MAX_STRATA];          /* normalised, sum 1 */
    int stratum_interval_s[RG_SIM_MAX_STRATA]; /* multiple of interval_s */
    double stratum_loss[RG_SIM_MAX_STRATA];    /* independent loss */
    uint32_t stratum_exact[RG_SIM_MAX_STRATA]; /* exact size; 0: by share */
    int jitter_s; /* check-ins late by uniform [0, jitter_s] */
    /* loss */
    double loss;          /* independent loss per heartbeat, [0, 1) */
    double offline_share; /* share of endpoints offline at any time */
    int64_t offline_stretch_s;
    size_t n_outages;
    rg_sim_outage outages[RG_SIM_MAX_OUTAGES];
    rg_sim_sleep sleep;
    rg_sim_flaps flaps;
    rg_sim_long_offline long_offline;
    rg_sim_restart restart;
    /* release */
    rg_plan plan;
    char flag[RG_SIM_NAME_MAX]; /* "": a release; else a flag rollout's */
    int apply_min_s, apply_max_s;
    int healthy_min_s, healthy_max_s;
    int crash_revert_s;
    rg_sim_activation activation;
    rg_sim_delay delay;
    size_t n_faults;
    rg_sim_fault faults[RG_SIM_MAX_FAULTS];
    /* controller and analysis */
    rg_exposure_params exposure;
    double baseline_failure;
    int tick_s; /* orchestrator tick, 1..60 */
} rg_scenario;

/* Reads a scenario from a parsed JSON object. Returns 0, or RG_EINVAL with
 * err->field naming the offending field ("fleet.strata[1].share"). v is
 * only read. */
int rg_scenario_from_json(const json_t *v, rg_scenario *out, rg_err *err);

/* Reads and parses the scenario file at path (at most 1 MiB). Returns 0,
 * RG_EIO when the file cannot be read, or RG_EINVAL as above. */
int rg_scenario_load(const char *path, rg_scenario *out, rg_err *err);

/* True when the release carries a fault (some crash or fail share > 0). */
bool rg_scenario_faulty(const rg_scenario *s);

#endif
