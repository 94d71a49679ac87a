/*
 * band.h - the gate's evidence as anytime-valid confidence bands, per
 * stratum: its excess silence (the share of its exposed windows that fell
 * silent minus the share of their matched controls that did, the
 * quantity the silence halt test judges against min_effect, msprt.h) and
 * how many times the harmless share (baseline_failure) its exposed
 * endpoints fail, each with a band that holds at every moment with
 * probability at least 1 - alpha, however often it is looked at
 * (docs/dashboard.md, docs/health.md "Confidence band").
 *
 * The silence band is the inversion of the gate's own e-process: its
 * lower edge is the smallest excess D in [0, 1] that the stratum's halt
 * statistic against "excess <= D" (rg_msprt_silence_halt on the
 * stratum's matched sets, combined with the stratum prior as the gate
 * combines it, plus the other strata's factors where they are below 0)
 * has not crossed the gate's halt threshold log(2/alpha). At D =
 * min_effect that statistic is the gate's silence statistic whenever no
 * other stratum leans towards excess, so the lower edge rises above
 * min_effect exactly when the gate halts on silence; with strata leaning,
 * the gate may halt first. Dropping the other strata's positive factors
 * only lowers the statistic, so the band holds for the stratum alone.
 * Its upper edge is the largest D that the mirror e-process against
 * "excess >= D" (rg_msprt_silence_below) has not rejected at the same
 * threshold. The failure band inverts the failure halt test the same way
 * (null p0, lower) and its mirror (alternatives below the null, upper).
 * Each side errs with probability at most alpha / 2 (Ville's inequality).
 *
 * Edges are searched by bisection: excess in [0, 1] (an excess below 0,
 * exposed endpoints heard more than their controls, is shown as 0), the
 * failure ratio in log space within [RG_BAND_MIN, RG_BAND_MAX].
 *
 * Pure; thread-safe; no allocation except where stated.
 */
#ifndef RG_BAND_H
#define RG_BAND_H

#include "analyzer.h"
#include "msprt.h"

#include <stddef.h>

#define RG_BAND_MIN 1e-3 /* edges are clamped to these ratios */
#define RG_BAND_MAX 1e3

/* An estimate with its band; est < 0 (a ratio) or NAN (an excess) when
 * there is nothing to estimate it from. */
typedef struct rg_band {
    double est, lo, hi;
} rg_band;

/* One stratum's bands and the counts they come from. */
typedef struct rg_band_stratum {
    char stratum[RG_STRATUM_NAME_MAX];
    rg_band silence;          /* excess silence share (NAN: no window) */
    uint64_t exposed_windows; /* resolved exposed windows in matched sets
                                 (first and soak spans of the rollout) */
    uint64_t exposed_silent;  /* silent among them */
    double control_share;     /* mean share of their controls silent */
    double min_effect;        /* the gate's delta */
    double silence_llr;       /* the gate's statistic (null delta) */
    rg_band failure;          /* failure share / baseline_failure */
    uint64_t trials, failed;  /* as the gate's failure test counts them */
    double failure_llr;       /* the gate's statistic (null baseline) */
} rg_band_stratum;

/* The edges (out->lo, out->hi) of the excess silence band of a stratum
 * with matched sets first and soak, at halt threshold thr (log(2/alpha))
 * with the stratum prior and the gate's delta; rest (<= 0) is added to
 * the lower side's statistic (the other strata's negative factors, above).
 * out->est is left alone. */
void rg_band_silence(const rg_msprt_sets *first, const rg_msprt_sets *soak,
                     double delta, double thr, double prior, double rest,
                     rg_band *out);

/* The band of p / p0 for failed among trials (est: failed / trials / p0,
 * -1 without trials), p0 the harmless share in (0, 1). */
void rg_band_failure(uint64_t failed, uint64_t trials, double p0, double thr,
                     double prior, rg_band *out);

/* The bands of every stratum of analysis a (its halt threshold, prior and
 * min_effect), in a's order, one per stratum (periods summed). Returns
 * the number written to *out (malloc'd, the caller frees), or -1 when out
 * of memory (*out NULL). */
long rg_band_analysis(const rg_analysis *a, rg_band_stratum **out);

#endif
