/*
 * analyzer.h - the health gate of a wave: from per-stratum counts of the
 * exposed and control cohorts to a verdict (continue / pass / halt), a
 * one-line reason and an evidence record that replays to the same verdict.
 *
 * Pure: no I/O, no clock, no globals. The orchestrator (or the simulator)
 * counts, per stratum, since the wave started:
 *  - exposed endpoints (reported `applying R`), and among them those that
 *    are failed (reported failed / reverted / crashed; this wins over the
 *    rest), healthy (reported `healthy R` within W of applying) and silent
 *    (neither by the end of W). The remainder are pending (still in W).
 *  - control endpoint-windows: windows of length W of control endpoints of
 *    the same stratum that ended (each after an acknowledged check-in), and
 *    those among them with no check-in at all (silent). Count control
 *    windows over the same span of time as the exposed windows (ideally a
 *    fixed number per exposed window) so the exposure share rho stays
 *    steady: the silence test conditions on it (see msprt.h).
 *  Periods: when the exposure share changes during a wave, a stratum may
 *  be given as several ADJACENT entries with the same name, each counting
 *  the windows that ended in one period (e.g. one per W); each period gets
 *  its own rho and the stratum's statistics are computed over all of them
 *  (stored on each of its entries). Counting everything since the wave
 *  began, with control windows piling up before the first exposed window
 *  ends, makes a late correlated outage look like excess silence.
 *
 * Explicit failures need no window: they are counted the moment they are
 * reported. The failure halt test takes as trials every exposed endpoint
 * (pending ones included) and as failures every failure reported by them
 * so far: exposed_failed (windows that ended failed) + early_failed
 * (failures the window counts do not show: still in their window, or
 * reported after it ended). Trials are fixed when an endpoint is exposed,
 * before its outcome is known, and a failure not reported yet only lowers
 * the count, so the statistic stays below the one that knows every
 * outcome at exposure, a martingale under the null (docs/health.md). The
 * failure test accumulates over the rollout: it adds prior_trials /
 * prior_failed (the exposed endpoints of earlier waves and the failures
 * they reported), so a slightly failing release is halted on the evidence
 * of all its waves. The silence halt test reads the stratum's matched
 * sets (`sets`: every resolved window of the rollout with the share of
 * its matched controls that were silent; msprt.h) against the minimum
 * effect min_effect, one e-process per stratum for the whole rollout; the
 * window counts above feed the pass tests, per wave.
 *
 * Halt: when either halt test (silence in excess of control +
 * min_effect, explicit failures above the harmless share; msprt.h)
 * reaches log(2/alpha): the chance that a harmless release is ever
 * halted, however often the gate is evaluated, is at most alpha (alpha/2
 * per test, Ville's inequality), over the whole rollout.
 * Pass: when both pass tests reach log(1/beta) (exposed silence below
 * control + tolerated_excess, failures below baseline_failure +
 * tolerated_excess), at least min_endpoints exposed endpoints are healthy,
 * and no stratum's halt statistic leans towards excess (> 0). Continue
 * otherwise. Min/max bake time is the state machine's business.
 *
 * evidence.h turns an rg_analysis into JSON and replays it.
 * Thread-safe (no shared state). See docs/health.md.
 */
#ifndef RG_ANALYZER_H
#define RG_ANALYZER_H

#include "common/err.h"
#include "health/msprt.h"
#include "model/rollout.h" /* rg_verdict: the gate speaks the state machine's verdicts (never hold) */

#include <stddef.h>
#include <stdint.h>

#define RG_STRATUM_NAME_MAX 64                 /* bytes including the NUL */
#define RG_ANALYZER_MAX_STRATA 4096            /* strata per analysis */
#define RG_ANALYZER_MAX_COUNT 1000000000000ull /* per count, 1e12 */
#define RG_ANALYSIS_REASON_MAX 256

/* Gate parameters of one wave. */
typedef struct rg_gate_params {
    double alpha;            /* false-halt bound, (0, 0.5); default 1e-3 */
    double beta;             /* false-pass bound, (0, 0.5); default 1e-2 */
    double tolerated_excess; /* excess share (absolute, e.g. 0.02 = 2 points)
                                of exposed silence over control silence, and
                                of failures over baseline_failure, that the
                                pass side refuses; (0, 0.5]; default 0.02 */
    double baseline_failure; /* share of exposed endpoints that may fail for
                                harmless reasons; (0, 0.25]; default 1e-3 */
    int64_t window_ms;       /* W, > 0 (recorded in the evidence); default
                                600000 */
    uint64_t min_endpoints;  /* healthy exposed endpoints needed to pass;
                                default 0 */
    double min_effect;       /* delta: the silence halt test's null is
                                "exposed silence <= control silence +
                                delta" (absolute share); [0, 0.5];
                                default 0.01 */
} rg_gate_params;

/* One stratum's counts, filled by the orchestrator (see the top comment). */
typedef struct rg_stratum_counts {
    const char *stratum;      /* name, 1..63 bytes; repeated only in
                                 adjacent entries (periods); borrowed for
                                 the call only */
    uint64_t exposed;         /* endpoints that reported applying */
    uint64_t exposed_healthy; /* healthy within W */
    uint64_t exposed_failed;  /* failed, reverted or crashed */
    uint64_t exposed_silent;  /* nothing by the end of W */
    uint64_t control_windows; /* control endpoint-windows that ended */
    uint64_t control_silent;  /* those without any check-in */
    uint64_t prior_trials;    /* exposed endpoints of this stratum in
                                 EARLIER waves of the rollout (whether or
                                 not their windows ended), and */
    uint64_t prior_failed;    /* the failures they reported so far; both
                                 read by the failure halt test only
                                 (failures are evidence about the release
                                 whatever wave they came from; 0 when
                                 unused) */
    uint64_t early_failed;    /* failures reported by this wave's exposed
                                 endpoints of the stratum that
                                 exposed_failed does not show: pending
                                 ones, and ones whose window ended healthy
                                 or silent before the report; summed over
                                 the stratum's entries (any entry may carry
                                 them), at most its exposed -
                                 exposed_failed; failure halt test only */
    rg_msprt_sets sets;       /* the silence halt test's matched sets of
                                 the WHOLE rollout so far (every wave's
                                 resolved first spans, msprt.h); summed
                                 over the stratum's entries (any entry
                                 may carry them); silence halt test only */
    rg_msprt_sets soak_sets;  /* the same for its soak spans (cohort.h),
                                 the test's second stream */
} rg_stratum_counts;

/* A stratum's counts and statistics in the evidence record. */
typedef struct rg_stratum_evidence {
    char stratum[RG_STRATUM_NAME_MAX];
    uint64_t exposed, exposed_healthy, exposed_failed, exposed_silent;
    uint64_t exposed_pending; /* exposed - healthy - failed - silent */
    uint64_t control_windows, control_silent;
    uint64_t early_failed;               /* failure test, see counts */
    uint64_t prior_trials, prior_failed; /* earlier waves (failure test) */
    rg_msprt_sets sets, soak_sets;       /* rollout's matched sets */
    double rho;         /* exposed windows / (exposed + control windows),
                           exposed windows = healthy + failed + silent */
    double silence_llr; /* log e-process of silence in excess of control +
                           min_effect (halt side) over the rollout's
                           matched sets of the whole stratum (both
                           streams) */
    double failure_llr; /* same for excess failures */
    double silence_bad; /* pass-side boundary: lower 2-sigma bound of the
                           control silence share + tolerated_excess */
} rg_stratum_evidence;

/* The verdict and everything it was decided from. Owns `strata`: release
 * it with rg_analysis_release. */
typedef struct rg_analysis {
    rg_verdict verdict;
    char reason[RG_ANALYSIS_REASON_MAX]; /* one line, e.g. "halt: ..." */
    rg_gate_params params;
    double halt_threshold;   /* log(2/alpha), per halt test */
    double pass_threshold;   /* log(1/beta), per pass test */
    double stratum_prior;    /* RG_MSPRT_STRATUM_PRIOR */
    double silence_halt_llr; /* sum over strata of combined silence factors */
    double failure_halt_llr; /* same for failures */
    double silence_pass_llr; /* pooled pass-side silence statistic */
    double failure_pass_llr; /* pooled pass-side failure statistic */
    uint64_t exposed, exposed_healthy, exposed_failed, exposed_silent,
        exposed_pending, control_windows, control_silent; /* totals */
    uint64_t early_failed;                                /* total */
    size_t n_strata;
    rg_stratum_evidence *strata; /* n_strata entries, input order */
} rg_analysis;

/* Fills p with the defaults above. */
void rg_gate_params_default(rg_gate_params *p);

/* Evaluates the gate for n (0..RG_ANALYZER_MAX_STRATA) strata. On success
 * returns 0 and fills *out (which the caller later passes to
 * rg_analysis_release). On failure returns RG_EINVAL (err->field names the
 * bad parameter or "strata[i].<count>": inconsistent counts, bad names,
 * a name repeated in entries that are not adjacent, a stratum's
 * early_failed above its exposed - exposed_failed) or RG_ENOMEM, and leaves
 * *out empty (safe to release). Deterministic: the same inputs give
 * bit-identical results. */
int rg_analyze(const rg_gate_params *p, const rg_stratum_counts *s, size_t n,
               rg_analysis *out, rg_err *err);

/* Sums the entries of the stratum whose first entry is i (its periods)
 * into *t, statistics and name as on entry i; returns the index one past
 * its last entry. i < a->n_strata. */
size_t rg_analysis_stratum(const rg_analysis *a, size_t i,
                           rg_stratum_evidence *t);

/* The pass side's silence boundary of a stratum (or period) with these
 * control counts: the lower 2-sigma bound of the control silence share
 * plus p->tolerated_excess, below 1 (rg_stratum_evidence.silence_bad). */
double rg_analyzer_silence_bad(const rg_gate_params *p,
                               uint64_t control_windows,
                               uint64_t control_silent);

/* Frees what rg_analyze or rg_analyzer_replay stored in a; a becomes
 * empty. a may be empty already. */
void rg_analysis_release(rg_analysis *a);

#endif
