/*
 * gate.h - the health gate of a wave as the state machine calls it: an
 * rg_gate_fn (model/rollout.h) that runs the analyzer (analyzer.h) on the
 * per-stratum counts it is given and combines its verdict with the wave's
 * bake rules. This is the gate the orchestrator and rollgate-sim use.
 *
 * Two analyses, each at alpha/2 so that together they keep the false-halt
 * bound alpha (union bound): the per-stratum one (rg_analyze on the counts
 * as given) and a pooled one (the same entries renamed
 * RG_HEALTH_GATE_POOLED, so every stratum's periods become periods of one
 * stratum with their own exposure shares). The pooled test catches a
 * release that is slightly bad everywhere (1% failures in every stratum),
 * which the per-stratum combination dilutes; the per-stratum test catches
 * a release that is bad in one stratum. "The analyzer" below means: halt
 * when either halts, pass when both pass statistics reach log(1/beta) with
 * min_endpoints healthy and the pooled halt statistic below log(1/beta);
 * a single stratum's lean is left to its class.
 *
 * Each stratum gets a class (health/resolve.h): resolved, pending (windows
 * open), dark (no healthy window, none open, leaning towards excess) or
 * held alone (none open, unresolved otherwise).
 *
 * Pure: no I/O, no clock, no globals. Rules, in this order (bake =
 * max(min_bake_ms, window_ms)):
 *  1. halt as soon as the analyzer says halt (no minimum bake for halts);
 *  2. a small wave that targets nobody passes after the bake when it can
 *     target nobody (internal ring without members, empty fleet), else
 *     waits for its endpoints to check in;
 *  3. while a stratum is pending or dark the wave does not pass; once
 *     none is pending and elapsed >= bake, a dark stratum holds the
 *     rollout (rule "strata"), as does max_bake_ms (rule "max_bake"). In
 *     the plan's last wave a stratum held alone whose halt statistic leans
 *     at log(1/beta) counts as dark: completing lifts a cleared stratum's
 *     budget, and clearing needs no such lean (docs/health.md);
 *  4. pass when the analyzer passes AND elapsed >= min_bake_ms;
 *  5. endgame of a small wave, or of a wave whose evidence is final (the
 *     analyzer continues, elapsed >= bake): unless its pending windows,
 *     all counted silent, would make the pooled silence statistic reach
 *     log(1/beta) (then a small wave waits, another goes on to rule 6),
 *     hold when the pooled silence statistic (or, in the last wave, the
 *     pooled failure statistic) reaches log(1/beta), pass otherwise (a
 *     failure lean then carries into the next wave's failure test, which
 *     accumulates over the rollout); a small wave with nothing exposed
 *     passes only when the rollout has healthy reports;
 *  6. when max_bake_ms > 0 and elapsed >= max_bake_ms without a pass:
 *     pass ("max bake reached without evidence against") if the pooled
 *     halt statistics are <= 0, hold otherwise;
 *  7. continue.
 * A wave is small when it is internal or targets fewer endpoints than the
 * analyzer could ever pass on (rg_health_gate_min_passable), or, past the
 * bake, has fewer exposed endpoints than that. Held strata are named in
 * the reason of a pass ("held alone: ...").
 *
 * Mapping of rg_wave to rg_gate_params: alpha, beta, tolerated_excess,
 * min_effect, window_ms as they are; min_endpoints = min(wave->min_endpoints,
 * counts->targeted); baseline_failure from the context (default 1e-3).
 *
 * Evidence: {"gate": "health", "rule": "analyzer" | "small_wave" |
 * "final_evidence" | "strata" | "max_bake" | "min_bake", "strata":
 * [{"name", "verdict": "pass" | "hold" | "halt" | "pending", "reason"}]
 * (resolve.h), "analysis": <rg_analysis_to_json
 * of the per-stratum analysis>, "pooled": <the same for the pooled one>,
 * "bake":
 * {"elapsed_ms", "min_bake_ms", "max_bake_ms", "window_ms"}, "small_wave":
 * {"small", "min_passable", "targeted"}}. The analysis replays with
 * rg_analyzer_replay (evidence.h).
 * Thread-safe (no shared state).
 */
#ifndef RG_HEALTH_GATE_H
#define RG_HEALTH_GATE_H

#include "common/err.h"
#include "health/analyzer.h"
#include "model/rollout.h"

#include <stddef.h>
#include <stdint.h>

#define RG_HEALTH_GATE_POOLED "(all strata)"

/* What rg_health_gate reads through its ctx pointer. Borrowed for the
 * call only; the caller owns the array. */
typedef struct rg_health_gate_ctx {
    const rg_stratum_counts *strata; /* per-stratum counts of the current
                                        wave (periods allowed, analyzer.h),
                                        with the failure evidence of the
                                        rollout's earlier waves in
                                        prior_trials / prior_failed and the
                                        rollout's matched sets in `sets` (on
                                        any one entry of the stratum; a
                                        stratum with nothing in the current
                                        wave may appear with those alone) */
    size_t n_strata;
    double baseline_failure; /* 0: the analyzer's default (1e-3) */
} rg_health_gate_ctx;

/* The rg_gate_fn: see the top comment. ctx must point to an
 * rg_health_gate_ctx. Fills out (out->evidence is a new reference the
 * caller releases with rg_gate_result_release) and returns 0; returns
 * RG_EINVAL when the counts or the wave's parameters are invalid (err
 * says which) or RG_ENOMEM. */
int rg_health_gate(const rg_wave *wave, const rg_wave_counts *counts,
                   int64_t elapsed_ms, void *ctx, rg_gate_result *out,
                   rg_err *err);

/* The smallest n (1..2^31) such that rg_analyze(p) passes one stratum
 * with n exposed endpoints, all healthy, and 10 n control windows of
 * which none is silent, with p->min_endpoints ignored. Waves that target
 * fewer endpoints can never pass statistically. Returns 0 when p is
 * invalid or no n up to 2^31 passes. */
uint64_t rg_health_gate_min_passable(const rg_gate_params *p);

#endif
