/* band.c - see band.h. */
#include "band.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define BISECT_STEPS 40

/* Whether a side's test rejects the null x (monotone in x). */
typedef bool (*reject_fn)(const void *ctx, double x);

typedef struct silence_ctx {
    const rg_msprt_sets *first, *soak;
    double thr, prior, rest;
} silence_ctx;

typedef struct failure_ctx {
    uint64_t failed, trials;
    double p0, thr, prior;
} failure_ctx;

/* The lower side: the gate's e-process against "excess <= d". */
static bool silence_low(const void *ctx, double d)
{
    const silence_ctx *c = ctx;
    double f = rg_msprt_silence_halt(c->first, c->soak, d);
    return rg_msprt_combine(f, c->prior) + c->rest >= c->thr;
}

/* The upper side: the mirror e-process against "excess >= d". */
static bool silence_high(const void *ctx, double d)
{
    const silence_ctx *c = ctx;
    double f = rg_msprt_silence_below(c->first, c->soak, d);
    return rg_msprt_combine(f, c->prior) >= c->thr;
}

/* Failures, x the log of the ratio to p0, lower side (up) or upper. */
static bool failure_rejects(const failure_ctx *c, double x, int up)
{
    double p = exp(x) * c->p0;
    if (p >= 1.0)
        return !up; /* p above 1 is impossible */
    double f = rg_msprt_failure_vs(c->failed, c->trials, p, up);
    return rg_msprt_combine(f, c->prior) >= c->thr;
}

static bool failure_low(const void *ctx, double x)
{
    return failure_rejects(ctx, x, 1);
}

static bool failure_high(const void *ctx, double x)
{
    return failure_rejects(ctx, x, 0);
}

/* The edge in [lo, hi] of a side whose rejected nulls lie below it
 * (below) or above it: the nearest null to the rejected ones that is not
 * rejected (lo or hi when none or all are). */
static double edge(reject_fn f, const void *ctx, double lo, double hi,
                   bool below)
{
    if (!f(ctx, below ? lo : hi))
        return below ? lo : hi;
    if (f(ctx, below ? hi : lo))
        return below ? hi : lo;
    for (int i = 0; i < BISECT_STEPS; i++) {
        double mid = (lo + hi) / 2.0;
        if (f(ctx, mid) == below)
            lo = mid;
        else
            hi = mid;
    }
    return below ? hi : lo;
}

void rg_band_silence(const rg_msprt_sets *first, const rg_msprt_sets *soak,
                     double delta, double thr, double prior, double rest,
                     rg_band *out)
{
    silence_ctx c = {first, soak, thr, prior, rest};
    /* delta first, so that lo > delta exactly when the test rejects it */
    out->lo = silence_low(&c, delta) ? edge(silence_low, &c, delta, 1.0, true)
                                     : edge(silence_low, &c, 0.0, delta, true);
    out->hi = edge(silence_high, &c, 0.0, 1.0, false);
}

/* v within [RG_BAND_MIN, RG_BAND_MAX], the limits themselves when v is
 * within a rounding of them (edges found in log space). */
static double clamp(double v)
{
    if (v <= RG_BAND_MIN * (1.0 + 1e-12))
        return RG_BAND_MIN;
    return v >= RG_BAND_MAX * (1.0 - 1e-12) ? RG_BAND_MAX : v;
}

void rg_band_failure(uint64_t failed, uint64_t trials, double p0, double thr,
                     double prior, rg_band *out)
{
    failure_ctx c = {failed, trials, p0, thr, prior};
    double lo = log(RG_BAND_MIN), hi = log(RG_BAND_MAX);
    out->est = trials ? clamp((double)failed / (double)trials / p0) : -1.0;
    out->lo = clamp(exp(edge(failure_low, &c, lo, hi, true)));
    out->hi = clamp(exp(edge(failure_high, &c, lo, hi, false)));
}

/* The stratum's factor in the gate's silence statistic where it is below
 * 0 (band.h: what the lower side adds of the other strata), else 0. */
static double negative_factor(const rg_analysis *a, double llr)
{
    return fmin(rg_msprt_combine(llr, a->stratum_prior), 0.0);
}

/* Fills b from the stratum of a whose first entry is i, rest the sum of
 * every stratum's negative_factor; returns the index one past its last
 * entry. */
static size_t band_one(const rg_analysis *a, size_t i, double rest,
                       rg_band_stratum *b)
{
    rg_stratum_evidence t;
    size_t j = rg_analysis_stratum(a, i, &t);
    rg_msprt_sets all = t.sets;
    rg_msprt_sets_add(&all, &t.soak_sets);
    memset(b, 0, sizeof *b);
    memcpy(b->stratum, t.stratum, sizeof b->stratum);
    rg_msprt_sets_summary(&all, &b->exposed_windows, &b->exposed_silent,
                          &b->control_share);
    b->min_effect = a->params.min_effect;
    b->silence_llr = t.silence_llr;
    b->silence.est = b->exposed_windows ? (double)b->exposed_silent /
                                                  (double)b->exposed_windows -
                                              b->control_share
                                        : NAN;
    rg_band_silence(&t.sets, &t.soak_sets, b->min_effect, a->halt_threshold,
                    a->stratum_prior, rest - negative_factor(a, t.silence_llr),
                    &b->silence);
    /* the failure test's counts (analyzer.c, stratum_stats) */
    b->trials = t.exposed + t.prior_trials;
    b->failed = t.exposed_failed + t.early_failed + t.prior_failed;
    b->failure_llr = t.failure_llr;
    rg_band_failure(b->failed, b->trials, a->params.baseline_failure,
                    a->halt_threshold, a->stratum_prior, &b->failure);
    return j;
}

long rg_band_analysis(const rg_analysis *a, rg_band_stratum **out)
{
    long n = 0;
    double rest = 0.0;
    *out = NULL;
    if (a->n_strata == 0)
        return 0;
    rg_band_stratum *v = calloc(a->n_strata, sizeof *v);
    if (!v)
        return -1;
    rg_stratum_evidence t;
    for (size_t i = 0; i < a->n_strata; i = rg_analysis_stratum(a, i, &t))
        rest += negative_factor(a, a->strata[i].silence_llr);
    for (size_t i = 0; i < a->n_strata;)
        i = band_one(a, i, rest, &v[n++]);
    *out = v;
    return n;
}
