/* band.c - see band.h. */
#include "band.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BISECT_STEPS 40

/* A halt-type statistic against null x (a ratio to the gate's null). */
typedef double (*stat_fn)(const void *ctx, double x, int up);

typedef struct silence_ctx {
    const rg_msprt_cell *cells;
    size_t n;
} silence_ctx;

typedef struct failure_ctx {
    uint64_t failed, trials;
    double p0;
} failure_ctx;

static double silence_stat(const void *ctx, double theta, int up)
{
    const silence_ctx *c = ctx;
    return rg_msprt_silence_vs(c->cells, c->n, theta, up);
}

static double failure_stat(const void *ctx, double ratio, int up)
{
    const failure_ctx *c = ctx;
    double p = ratio * c->p0;
    if (p >= 1.0)
        return up ? 0.0 : INFINITY; /* p above 1 is impossible */
    return rg_msprt_failure_vs(c->failed, c->trials, p, up);
}

/* Whether the null x is rejected by the side up at thr (the factor as the
 * gate combines it). */
static int rejects(stat_fn f, const void *ctx, double x, int up, double thr,
                   double prior)
{
    return rg_msprt_combine(f(ctx, x, up), prior) >= thr;
}

/* The edge of side up: the lower edge is where the up-test stops rejecting
 * (it rejects small nulls), the upper where the down-test starts. */
static double edge(stat_fn f, const void *ctx, int up, double thr, double prior)
{
    double lo = log(RG_BAND_MIN), hi = log(RG_BAND_MAX);
    if (up && !rejects(f, ctx, exp(lo), 1, thr, prior))
        return RG_BAND_MIN;
    if (!up && !rejects(f, ctx, exp(hi), 0, thr, prior))
        return RG_BAND_MAX;
    if (up && rejects(f, ctx, exp(hi), 1, thr, prior))
        return RG_BAND_MAX;
    if (!up && rejects(f, ctx, exp(lo), 0, thr, prior))
        return RG_BAND_MIN;
    for (int i = 0; i < BISECT_STEPS; i++) {
        double mid = (lo + hi) / 2.0;
        /* up: rejected nulls are below the edge; down: above it */
        if (rejects(f, ctx, exp(mid), up, thr, prior) == (up != 0))
            lo = mid;
        else
            hi = mid;
    }
    return exp(up ? hi : lo);
}

static double clamp(double v)
{
    return fmin(fmax(v, RG_BAND_MIN), RG_BAND_MAX);
}

void rg_band_silence(const rg_msprt_cell *cells, size_t n, double thr,
                     double prior, rg_band *out)
{
    silence_ctx c = {cells, n};
    out->lo = edge(silence_stat, &c, 1, thr, prior);
    out->hi = edge(silence_stat, &c, 0, thr, prior);
}

void rg_band_failure(uint64_t failed, uint64_t trials, double p0, double thr,
                     double prior, rg_band *out)
{
    failure_ctx c = {failed, trials, p0};
    out->est = trials ? clamp((double)failed / (double)trials / p0) : -1.0;
    out->lo = edge(failure_stat, &c, 1, thr, prior);
    out->hi = edge(failure_stat, &c, 0, thr, prior);
}

/* The observed silence ratio: exposed silence share over control's, -1
 * when control windows show no silence (or there is no window). */
static double silence_est(const rg_band_stratum *b)
{
    if (!b->exposed_windows || !b->control_windows || !b->control_silent)
        return -1.0;
    double e = (double)b->exposed_silent / (double)b->exposed_windows;
    double c = (double)b->control_silent / (double)b->control_windows;
    return clamp(e / c);
}

/* Fills b from the stratum of a whose first entry is i; returns the index
 * one past its last entry. cells has room for its entries. */
static size_t band_one(const rg_analysis *a, size_t i, rg_msprt_cell *cells,
                       rg_band_stratum *b)
{
    rg_stratum_evidence t;
    size_t j = rg_analysis_stratum(a, i, &t);
    memset(b, 0, sizeof *b);
    memcpy(b->stratum, t.stratum, sizeof b->stratum);
    for (size_t k = i; k < j; k++) {
        const rg_stratum_evidence *e = &a->strata[k];
        cells[k - i] =
            (rg_msprt_cell){.x = e->exposed_silent,
                            .n = e->exposed_silent + e->control_silent,
                            .rho = e->rho};
    }
    b->exposed_windows =
        t.exposed_healthy + t.exposed_failed + t.exposed_silent;
    b->exposed_silent = t.exposed_silent;
    b->control_windows = t.control_windows;
    b->control_silent = t.control_silent;
    b->silence_llr = t.silence_llr;
    b->silence.est = silence_est(b);
    rg_band_silence(cells, j - i, a->halt_threshold, a->stratum_prior,
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
    *out = NULL;
    if (a->n_strata == 0)
        return 0;
    rg_band_stratum *v = calloc(a->n_strata, sizeof *v);
    rg_msprt_cell *cells = calloc(a->n_strata, sizeof *cells);
    if (!v || !cells) {
        free(v);
        free(cells);
        return -1;
    }
    for (size_t i = 0; i < a->n_strata;)
        i = band_one(a, i, cells, &v[n++]);
    free(cells);
    *out = v;
    return n;
}
