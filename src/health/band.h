/*
 * band.h - the gate's evidence as anytime-valid confidence bands: per
 * stratum, how many times as often its exposed windows fall silent as its
 * control windows (the rate ratio theta of the silence test) and how many
 * times the harmless share (baseline_failure) its exposed endpoints fail,
 * each with a band that holds at every moment with probability at least
 * 1 - alpha, however often it is looked at (docs/dashboard.md).
 *
 * The bands invert the gate's own halt tests (msprt.h), on the counts the
 * gate judged: the lower edge is the smallest null (theta0, or p0) that
 * the stratum's halt statistic against it, as the gate combines it
 * (rg_msprt_combine with the analysis's stratum prior), has not rejected
 * at the gate's halt threshold log(2/alpha); the upper edge is the mirror
 * test's (alternatives below the null). At null 1 (theta) or
 * baseline_failure (p) the lower test is the gate's statistic itself, so
 * the lower edge is above 1 exactly when this stratum's factor alone
 * reaches the halt threshold: the gate halts a stratum when its band
 * leaves 1 from above. Each side errs with probability at most alpha / 2
 * (Ville's inequality, as for the gate).
 *
 * Edges are searched by bisection in log space within
 * [RG_BAND_MIN, RG_BAND_MAX] (an edge beyond is reported at the limit).
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

/* A ratio with its band; est < 0 when there is nothing to estimate it
 * from (no control silence for theta, no trial for failures). */
typedef struct rg_band {
    double est, lo, hi;
} rg_band;

/* One stratum's bands and the counts they come from. */
typedef struct rg_band_stratum {
    char stratum[RG_STRATUM_NAME_MAX];
    rg_band silence;          /* theta: exposed / control silence rate */
    uint64_t exposed_windows; /* resolved exposed windows */
    uint64_t exposed_silent, control_windows, control_silent;
    double silence_llr;      /* the gate's statistic (null theta 1) */
    rg_band failure;         /* failure share / baseline_failure */
    uint64_t trials, failed; /* as the gate's failure test counts them */
    double failure_llr;      /* the gate's statistic (null baseline) */
} rg_band_stratum;

/* The edges (out->lo, out->hi) of theta's band for a stratum's cells
 * (its periods), at halt threshold thr (log(2/alpha)) with the stratum
 * prior; out->est is left alone. */
void rg_band_silence(const rg_msprt_cell *cells, size_t n, double thr,
                     double prior, rg_band *out);

/* The band of p / p0 for failed among trials (est: failed / trials / p0,
 * -1 without trials), p0 the harmless share in (0, 1). */
void rg_band_failure(uint64_t failed, uint64_t trials, double p0, double thr,
                     double prior, rg_band *out);

/* The bands of every stratum of analysis a (its halt threshold and prior),
 * in a's order, one per stratum (periods summed). Returns the number
 * written to *out (malloc'd, the caller frees), or -1 when out of memory
 * (*out NULL). */
long rg_band_analysis(const rg_analysis *a, rg_band_stratum **out);

#endif
