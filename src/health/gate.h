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
 * when either halts, pass when both pass, where a stratum that leans
 * towards excess blocks a pass only while its halt statistic (silence or
 * failure llr) is at least the pass threshold log(1/beta). (rg_analyze
 * itself blocks at any llr > 0; then a single harmless silent window in a
 * small stratum, once the wave's windows have all ended, would hold the
 * wave in `continue` for ever.)
 *
 * Pure: no I/O, no clock, no globals. Rules, in this order:
 *  1. halt as soon as the analyzer says halt (no minimum bake for halts);
 *  2. small wave rule (see below);
 *  3. pass when the analyzer passes AND elapsed >= min_bake_ms;
 *  4. when max_bake_ms > 0 and elapsed >= max_bake_ms without a pass:
 *     pass ("max bake reached without evidence against") if no stratum's
 *     halt statistic leans towards excess (silence and failure llr <= 0,
 *     in both analyses) and the exposed failures are at most baseline_failure
 * of the resolved exposed endpoints; hold otherwise;
 *  5. continue.
 *
 * Small waves. A wave is small when it is internal (the ring of the
 * publisher's own machines) or when it targets fewer endpoints than the
 * analyzer could ever pass on: fewer than rg_health_gate_min_passable(p),
 * the smallest number of exposed endpoints, all healthy, none silent or
 * failed, with which rg_analyze passes (with no control silence), or
 * when, once elapsed >= max(min_bake_ms, window_ms), the wave's own
 * exposed endpoints (the exposed counts in ctx, which cover the current
 * wave only, while counts->targeted is cumulative) are still fewer than
 * that. Such a wave passes once elapsed >= max(min_bake_ms, window_ms),
 * when ALL of:
 *  - failed exposed endpoints <= resolved exposed windows *
 *    (baseline_failure + tolerated_excess), the share the analyzer's pass
 *    side tolerates (a handful of endpoints cannot show more; a heavier
 *    failure rate halts through rule 1), and at most max(1, tolerated_excess *
 *    exposed) are pending (nearly every window ended: stragglers that
 *    come online late do not hold the wave; their windows are judged in
 *    the next wave's counts);
 *  - counts->healthy (the rollout's healthy reports so far, cumulative
 *    like every rg_wave_counts field) >= max(1, min(min_endpoints,
 *    targeted));
 *  - no stratum's silence halt statistic (in the per-stratum or the
 *    pooled analysis) reaches the pass threshold log(1/beta): silence is
 *    judged by the same statistics as in any wave, not by a count
 *    compared with the control share plus a tolerance;
 * and the analyzer did not halt (rule 1 comes first). A small wave that
 * targets nobody passes after max(min_bake_ms, window_ms): there is
 * nothing to test. A small wave whose windows have ended (pending within
 * the allowance above) but that holds more failures or silence than
 * allowed is held (RG_VERDICT_HOLD) after max(min_bake_ms, window_ms)
 * unless the analyzer passes it: too small to halt on, too dirty to
 * pass; an operator decides. Otherwise rules 3-5 apply.
 *
 * Final evidence. A wave that is not small but, once elapsed >=
 * max(min_bake_ms, window_ms) and its windows have ended (pending within
 * the allowance above), gets `continue` from the analyzer can learn
 * nothing more: it is judged by the small-wave rule as well (rule
 * "final_evidence"), except that in the last wave a stratum whose failure
 * halt statistic is at or beyond log(1/beta) in either analysis holds it
 * (earlier, the failure test carries into the next wave). Without this, a wave
 * just above the statistical minimum with a few harmless silent windows
 * would stay in `continue` for ever.
 *
 * Mapping of rg_wave to rg_gate_params: alpha, beta, tolerated_excess,
 * window_ms as they are; min_endpoints = min(wave->min_endpoints,
 * counts->targeted); baseline_failure from the context (default 1e-3).
 *
 * Evidence: {"gate": "health", "rule": "analyzer" | "small_wave" |
 * "final_evidence" | "max_bake" | "min_bake", "analysis": <rg_analysis_to_json
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
                                        prior_trials / prior_failed (on any
                                        one entry of the stratum; a stratum
                                        with nothing in the current wave may
                                        appear with those alone) */
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
