/* msprt.c - see msprt.h. */
#include "msprt.h"

#include <math.h>

#define EXCESS_HALT_K 16
#define FAILURE_HALT_KMAX 32
#define SILENCE_PASS_K 7
#define FAILURE_PASS_K 10

/* Bets of the silence halt test: 1 - 2^-j (j = 1..6) and 2^-j (j = 2..11). */
static const double excess_bets[EXCESS_HALT_K] = {
    0.5,         0.75,         0.875,         0.9375,
    0.96875,     0.984375,     1.0 / 4,       1.0 / 8,
    1.0 / 16,    1.0 / 32,     1.0 / 64,      1.0 / 128,
    1.0 / 256,   1.0 / 512,    1.0 / 1024,    1.0 / 2048};
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

/* Lower bound of sum_i log(1 + g u_i) over every assignment of the
 * control silence m (sum of the windows' m_c, in [0, n0 + n1]) to n1
 * silent and n0 heard exposed windows. Each window's term is concave in
 * its m_c, so the minimum is at a vertex (every m_c 0 or 1 but one, whose
 * term is above its chord): spend m on the windows where a whole unit
 * costs most first. */
static double excess_log_bet(double g, double delta, double n1, double n0,
                             double m)
{
    double heard = log1p(-g * delta / (1.0 + delta));       /* D = 0 */
    double silent = log1p(g * (1.0 - delta) / (1.0 + delta)); /* D = 1 */
    double cost0 = heard - log1p(-g);  /* heard, all controls silent */
    double cost1 = silent - heard;     /* silent, all controls silent */
    double first = cost0 >= cost1 ? cost0 : cost1;
    double second = cost0 >= cost1 ? cost1 : cost0;
    double room = cost0 >= cost1 ? n0 : n1;
    double t = fmin(m, room);
    return n1 * silent + n0 * heard - t * first - (m - t) * second;
}

double rg_msprt_excess_halt(const rg_msprt_excess_cell *cells, size_t n,
                            double delta)
{
    double n1 = 0.0, n0 = 0.0, m = 0.0;
    for (size_t i = 0; i < n; i++) {
        const rg_msprt_excess_cell *c = &cells[i];
        if (c->windows == 0 || c->control_windows == 0)
            continue;
        n1 += (double)c->silent;
        n0 += (double)(c->windows - c->silent);
        m += (double)c->control_silent * (double)c->windows /
             (double)c->control_windows;
    }
    if (n1 + n0 == 0.0)
        return 0.0;
    m = fmin(m, n1 + n0);
    double v[EXCESS_HALT_K];
    for (size_t j = 0; j < EXCESS_HALT_K; j++)
        v[j] = excess_log_bet(excess_bets[j], delta, n1, n0, m);
    return rg_msprt_log_mean_exp(v, EXCESS_HALT_K);
}

double rg_msprt_failure_halt(uint64_t failed, uint64_t trials, double p0)
{
    double v[FAILURE_HALT_KMAX];
    size_t k = 0;
    for (double p = 2.0 * p0; p < 1.0 && k < FAILURE_HALT_KMAX; p *= 2.0)
        v[k++] = rg_msprt_binom_llr(failed, trials, p, p0);
    return k ? rg_msprt_log_mean_exp(v, k) : 0.0;
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
            v[j] += rg_msprt_binom_llr(cells[i].silent, cells[i].windows, alt,
                                       bad);
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
