/*
 * plan.h - rollout plans: ordered waves with cumulative shares, bake times
 * and the health gate's parameters.
 *
 * A plan is a fixed-size value (no heap): copy it freely. Built-in plans:
 *   standard:  internal -> 0.1% (>= 50 endpoints) -> 1% -> 10% -> 50% -> 100%,
 *              W = 10 min
 *   emergency: internal -> 1% -> 100%, W = 3 min, no minimum bake
 * Custom plans come from JSON (see rg_plan_from_json). Pure; thread-safe.
 * Built-in values: alpha 1e-3, beta 1e-2, tolerated_excess 0.02,
 * min_effect 0.01, no max
 * bake; standard bakes each wave at least W (internal, 0.1%, 1%, 100%:
 * 10 min; 10%: 20 min; 50%: 30 min); the internal ring needs 1 healthy
 * endpoint, every other wave 50. Omitted custom wave fields default to
 * min_endpoints 0, min bake 10 min, W 10 min and the values above; an
 * omitted name becomes "internal" or the share ("0.1%").
 */
#ifndef RG_PLAN_H
#define RG_PLAN_H

#include "common/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define RG_MAX_WAVES 16
#define RG_PLAN_SOAK_MS (3600 * 1000) /* default soak (rg_plan.soak_ms) */
#define RG_PLAN_NAME_MAX 32

typedef struct rg_wave {
    char name[RG_PLAN_NAME_MAX]; /* "internal", "0.1%", ... */
    bool internal;           /* ring wave: only endpoints tagged `internal` */
    uint32_t share_ppm;      /* cumulative share of the target fleet, ppm */
    uint32_t min_endpoints;  /* the wave holds at least this many endpoints
                                (its share grows to reach it) and needs this
                                many healthy reports (or all it holds) */
    int64_t min_bake_ms;     /* time the wave runs before it may pass */
    int64_t max_bake_ms;     /* 0: none; after it without a pass: hold */
    int64_t window_ms;       /* W: time an exposed endpoint has to confirm */
    double alpha;            /* false-halt bound of the health gate */
    double beta;             /* false-pass bound of the health gate */
    double tolerated_excess; /* silence/failure excess over control tolerated */
    double min_effect;       /* delta: the smallest excess of exposed over
                                control silence (absolute share) the gate
                                halts for; 0.01 by default */
} rg_wave;

/* What a halt does (docs/api.md, "on_halt"). Every policy stops all
 * strata advancing; they differ in who returns to the previous release. */
typedef enum rg_on_halt {
    RG_ON_HALT_REVERT_STRATUM = 0, /* default: the strata the halt's evidence
                                      names return to the previous release;
                                      the others keep their assigned
                                      endpoints */
    RG_ON_HALT_PAUSE = 1,          /* exposed endpoints stay; nothing new */
    RG_ON_HALT_REVERT_ALL = 2,     /* every exposed endpoint returns */
} rg_on_halt;

/* "revert_stratum", "pause", "revert_all". */
const char *rg_on_halt_name(int on_halt);

typedef struct rg_plan {
    char name[RG_PLAN_NAME_MAX]; /* "standard", "emergency" or "custom" */
    size_t n_waves;              /* 1..RG_MAX_WAVES */
    rg_wave waves[RG_MAX_WAVES];
    rg_on_halt on_halt;
    int64_t soak_ms;       /* how long after its exposure an endpoint is still
                              watched for delayed failures: a completed rollout
                              is watched by the gate until its last exposure is
                              this old (docs/health.md, "Soak"); 1 h by default */
    int64_t grow_after_ms; /* a healthy report grows its stratum's exposure
                              budget once it has held this long (healthy,
                              no failure since; model/exposure.h); 0: at
                              once. standard: the soak; emergency and
                              plan objects: 0 */
} rg_plan;

/* Fills out with the built-in plan called name ("standard" or
 * "emergency"). Returns 0, or RG_EINVAL naming the unknown plan. */
int rg_plan_builtin(const char *name, rg_plan *out, rg_err *err);

/* Reads a plan from JSON: either a string naming a built-in plan, or an
 * object {"name"?, "on_halt"?: "revert_stratum" (default) | "revert_all" |
 * "pause" ("revert", the old name, reads as "revert_all"), "soak_s"?
 * (default 3600, 0 to 30 days), "grow_after_s"? (default 0, 0 to 30
 * days), "waves": [{"name"?,
 * "internal"?, "share": percent 0..100, "min_endpoints"?, "min_bake_s"?,
 * "max_bake_s"?, "window_s"?, "alpha"?, "beta"?, "tolerated_excess"?,
 * "min_effect"? (0 to 0.5)}, ...]}.
 * Shares must not decrease and the last wave must be 100%. Omitted wave
 * fields take the standard plan's defaults. Returns 0 or RG_EINVAL with
 * err->field naming the offending field (e.g. "plan.waves[2].share"). */
int rg_plan_from_json(const json_t *v, rg_plan *out, rg_err *err);

/* Serialises p in the object form rg_plan_from_json reads (round-trips
 * exactly). Returns a new reference (caller json_decref's) or NULL on
 * allocation failure. */
json_t *rg_plan_to_json(const rg_plan *p);

/* The share (ppm) wave w actually covers in a target fleet of fleet_size
 * endpoints: its share_ppm, raised so that it holds at least
 * min_endpoints, capped at RG_PPM (1000000). "Holds" is in expectation:
 * the raised share is ceil(min_endpoints * 1e6 / fleet_size) ppm. An
 * internal wave's min_endpoints counts internal endpoints, so its share is
 * never raised; fleet_size 0 leaves share_ppm as it is. */
uint32_t rg_wave_effective_share(const rg_wave *w, uint64_t fleet_size);

/* The exposure budget of wave index `wave` of p: the largest effective
 * share of waves 0..wave (waves are cumulative, so a wave also holds every
 * earlier wave's minimum). This is the share a rollout reaches when it
 * enters that wave (given a fixed fleet), and it never shrinks from one
 * wave to the next. */
uint32_t rg_plan_wave_share(const rg_plan *p, size_t wave, uint64_t fleet_size);

#endif
