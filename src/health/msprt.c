/* msprt.c - see msprt.h. */
#include "msprt.h"

#include <math.h>

#define SILENCE_HALT_K 13 /* theta_j = 1.25 * 2^j */
#define FAILURE_HALT_KMAX 32
#define FAILURE_LOW_K 13 /* alternatives below the null (bands) */
#define SILENCE_PASS_K 7
#define FAILURE_PASS_K 10

static const double silence_pass_g[SILENCE_PASS_K] = {0.5, 0.75, 1.0, 1.25,
                                                      1.5, 2.0,  3.0};

double rg_msprt_log_mean_exp(const double *v, size_t k)
{
    double m = -INFINITY;
    for (size_t i = 0; i < k; i++)
        if (v[i] > m)
            m = v[i];
    if (m == -INFINITY)
        return -INFINITY;
    double s = 0.0;
    for (size_t i = 0; i < k; i++)
        s += exp(v[i] - m);
    return m + log(s) - log((double)k);
}

double rg_msprt_binom_llr(uint64_t x, uint64_t n, double p_alt, double p_null)
{
    double llr = 0.0;
    if (x > 0)
        llr += (double)x * (log(p_alt) - log(p_null));
    if (n > x)
        llr += (double)(n - x) * (log1p(-p_alt) - log1p(-p_null));
    return llr;
}

double rg_msprt_ratio_llr(const rg_msprt_cell *c, double theta_alt,
                          double theta_null)
{
    double llr = 0.0;
    if (c->x > 0)
        llr += (double)c->x * (log(theta_alt) - log(theta_null));
    if (c->n > 0)
        llr -= (double)c->n * (log1p(c->rho * (theta_alt - 1.0)) -
                               log1p(c->rho * (theta_null - 1.0)));
    return llr;
}

double rg_msprt_silence_vs(const rg_msprt_cell *cells, size_t n,
                           double theta_null, int up)
{
    double v[SILENCE_HALT_K];
    double g = 1.25;
    for (size_t j = 0; j < SILENCE_HALT_K; j++, g *= 2.0) {
        double theta = up ? theta_null * g : theta_null / g;
        v[j] = 0.0;
        for (size_t i = 0; i < n; i++)
            v[j] += rg_msprt_ratio_llr(&cells[i], theta, theta_null);
    }
    return rg_msprt_log_mean_exp(v, SILENCE_HALT_K);
}

double rg_msprt_silence_halt(const rg_msprt_cell *cells, size_t n)
{
    return rg_msprt_silence_vs(cells, n, 1.0, 1);
}

double rg_msprt_failure_vs(uint64_t failed, uint64_t trials, double p_null,
                           int up)
{
    double v[FAILURE_HALT_KMAX];
    size_t k = 0;
    if (trials == 0)
        return 0.0;
    if (up)
        for (double p = 2.0 * p_null; p < 1.0 && k < FAILURE_HALT_KMAX;
             p *= 2.0)
            v[k++] = rg_msprt_binom_llr(failed, trials, p, p_null);
    else
        for (double p = p_null / 2.0; k < FAILURE_LOW_K; p /= 2.0)
            v[k++] = rg_msprt_binom_llr(failed, trials, p, p_null);
    return k ? rg_msprt_log_mean_exp(v, k) : 0.0;
}

double rg_msprt_failure_halt(uint64_t failed, uint64_t trials, double p0)
{
    return rg_msprt_failure_vs(failed, trials, p0, 1);
}

double rg_msprt_silence_pass(const rg_msprt_pass_cell *cells, size_t n,
                             double excess)
{
    double v[SILENCE_PASS_K];
    for (size_t j = 0; j < SILENCE_PASS_K; j++) {
        v[j] = 0.0;
        for (size_t i = 0; i < n; i++) {
            double bad = cells[i].bad;
            double alt = fmax(bad - silence_pass_g[j] * excess, bad / 1000.0);
            v[j] +=
                rg_msprt_binom_llr(cells[i].silent, cells[i].windows, alt, bad);
        }
    }
    return rg_msprt_log_mean_exp(v, SILENCE_PASS_K);
}

double rg_msprt_failure_pass(uint64_t failed, uint64_t trials, double p_bad)
{
    double v[FAILURE_PASS_K];
    double p = p_bad / 2.0;
    for (size_t j = 0; j < FAILURE_PASS_K; j++, p /= 2.0)
        v[j] = rg_msprt_binom_llr(failed, trials, p, p_bad);
    return rg_msprt_log_mean_exp(v, FAILURE_PASS_K);
}

double rg_msprt_combine(double log_lambda, double prior)
{
    /* log((1 - prior) + prior * e^l), computed on the stable side. */
    if (log_lambda > 0.0)
        return log_lambda + log(prior + (1.0 - prior) * exp(-log_lambda));
    return log1p(prior * expm1(log_lambda));
}
