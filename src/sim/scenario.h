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
 *               "crash_revert_s": 300, "activation_max_s": 120},
 *   "faults": [{"stratum": "win10-x64", "crash": 1.0},
 *              {"stratum": "*", "fail": 0.01}],
 *   "exposure": {"min_stratum_size": 100, "min_per_stratum": 3,
 *                "initial_budget": 6, "growth": 4},
 *   "analysis": {"control_per_exposed": 16, "baseline_failure": 0.001,
 *                "tick_s": 5}}
 *
 * Fields added to the format (all optional): loss.offline_stretch_s
 * (length of an offline stretch, default 7200), release.healthy_after_s
 * (activation + probe time after `applying`, default [5, 30]),
 * release.crash_revert_s (time a crashing endpoint boot-loops before its
 * agent reverts after K restarts, default 300), release.activation_max_s
 * (the release's declared maximum activation time, 0..3600; omitted: not
 * declared, the gate learns it: health/silence.h), exposure (exposure.h
 * parameters), analysis (matched control windows per exposed window,
 * harmless failure share, orchestrator tick). A stratum "*" in outages or
 * faults means every stratum. Strata shares must sum to 1 (within 1e-3;
 * they are normalised).
 */
#ifndef RG_SIM_SCENARIO_H
#define RG_SIM_SCENARIO_H

#include "common/err.h"
#include "model/exposure.h"
#include "model/plan.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define RG_SIM_MAX_ENDPOINTS 10000000u
#define RG_SIM_MAX_STRATA 64
#define RG_SIM_MAX_OUTAGES 16
#define RG_SIM_MAX_FAULTS 16
#define RG_SIM_MAX_CONTROL 16 /* matched control windows per exposed one */
#define RG_SIM_NAME_MAX 64
#define RG_SIM_ALL_STRATA (-1) /* "*" */

typedef struct rg_sim_outage {
    int stratum; /* index, or RG_SIM_ALL_STRATA */
    int64_t start_s, duration_s;
    double share; /* of the stratum's endpoints, (0, 1] */
} rg_sim_outage;

typedef struct rg_sim_fault {
    int stratum;  /* index, or RG_SIM_ALL_STRATA */
    double crash; /* share that crashes after applying, [0, 1] */
    double fail;  /* share that reports failed, [0, 1] */
} rg_sim_fault;

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
    double shares[RG_SIM_MAX_STRATA]; /* normalised, sum 1 */
    /* loss */
    double loss;          /* independent loss per heartbeat, [0, 1) */
    double offline_share; /* share of endpoints offline at any time */
    int64_t offline_stretch_s;
    size_t n_outages;
    rg_sim_outage outages[RG_SIM_MAX_OUTAGES];
    /* release */
    rg_plan plan;
    int apply_min_s, apply_max_s;
    int healthy_min_s, healthy_max_s;
    int crash_revert_s;
    int activation_max_s; /* declared activation maximum, -1: undeclared */
    size_t n_faults;
    rg_sim_fault faults[RG_SIM_MAX_FAULTS];
    /* controller and analysis */
    rg_exposure_params exposure;
    int control_per_exposed; /* 0..RG_SIM_MAX_CONTROL */
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
