/* msprt.c - see msprt.h. */
#include "msprt.h"

#include <math.h>

#define SILENCE_A_K 10 /* bets A: 0.9 / (1 + delta) * 2^-i */
#define SILENCE_B_K 6  /* bets B: 2^-i, for each of the ratios r */
#define SILENCE_B_R 3

static const double silence_b_r[SILENCE_B_R] = {0.0, 0.5, 0.75};

/* B's payout for ratio r (in [0, 1)): a = 1 / max over p in [0, 1] of
 * (p + delta)(1 - p (1 - r))^m, m the fewest controls of a counted set;
 * the maximum is at p* = (1 - m (1 - r) delta) / ((1 - r)(m + 1)),
 * clamped to [0, 1]. */
static double silence_b_payout(double r, double delta)
{
    double m = RG_MSPRT_SET_MIN_CONTROLS, u = 1.0 - r;
    double p = fmin(fmax((1.0 - m * u * delta) / (u * (m + 1.0)), 0.0), 1.0);
    return 1.0 / ((p + delta) * pow(1.0 - p * u, m));
}

#define FAILURE_HALT_KMAX 32
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

int rg_msprt_set_bin(uint32_t controls, uint32_t silent)
{
    if (controls < RG_MSPRT_SET_MIN_CONTROLS || silent > controls)
        return -1;
    return (int)((16u * silent + controls - 1) / controls);
}

void rg_msprt_sets_add(rg_msprt_sets *a, const rg_msprt_sets *b)
{
    for (size_t j = 0; j < RG_MSPRT_SET_BINS; j++) {
        a->silent[j] += b->silent[j];
        a->heard[j] += b->heard[j];
    }
}

bool rg_msprt_sets_empty(const rg_msprt_sets *s)
{
    for (size_t j = 0; j < RG_MSPRT_SET_BINS; j++)
        if (s->silent[j] || s->heard[j])
            return false;
    return true;
}

void rg_msprt_sets_summary(const rg_msprt_sets *s, uint64_t *windows,
                           uint64_t *silent, double *control_share)
{
    double shares = 0.0;
    *windows = *silent = 0;
    for (size_t j = 0; j < RG_MSPRT_SET_BINS; j++) {
        uint64_t n = s->silent[j] + s->heard[j];
        *silent += s->silent[j];
        *windows += n;
        shares += (double)n * (double)j / 16.0;
    }
    *control_share = *windows ? shares / (double)*windows : 0.0;
}

/* log1p(x), reusing the last result when x repeats (B's factors are the
 * same in many bins): bit-identical to calling log1p every time. */
static double log1p_cached(double x, double *last_x, double *last)
{
    if (x != *last_x) {
        *last_x = x;
        *last = log1p(x);
    }
    return *last;
}

/* log of the product of the factors 1 + l * win (silent set of bin j) and
 * 1 + l * lose (other set of bin j) over s. */
static double bet_log(const rg_msprt_sets *s, double l, const double *win,
                      const double *lose)
{
    double v = 0.0, wx = NAN, wl = 0.0, lx = NAN, ll = 0.0;
    for (size_t j = 0; j < RG_MSPRT_SET_BINS; j++) {
        if (s->silent[j])
            v += (double)s->silent[j] * log1p_cached(l * win[j], &wx, &wl);
        if (s->heard[j])
            v += (double)s->heard[j] * log1p_cached(l * lose[j], &lx, &ll);
    }
    return v;
}

double rg_msprt_silence_halt(const rg_msprt_sets *s, double delta)
{
    if (rg_msprt_sets_empty(s))
        return 0.0;
    double win[RG_MSPRT_SET_BINS], lose[RG_MSPRT_SET_BINS];
    double v[SILENCE_A_K + SILENCE_B_R * SILENCE_B_K];
    size_t k = 0;
    for (size_t j = 0; j < RG_MSPRT_SET_BINS; j++) {
        win[j] = 1.0 - (double)j / 16.0 - delta;
        lose[j] = -(double)j / 16.0 - delta;
    }
    double l = 0.9 / (1.0 + delta);
    for (size_t i = 0; i < SILENCE_A_K; i++, l /= 2.0)
        v[k++] = bet_log(s, l, win, lose);
    for (size_t r = 0; r < SILENCE_B_R; r++) {
        double pay = silence_b_payout(silence_b_r[r], delta), rj = 1.0;
        for (size_t j = 0; j < RG_MSPRT_SET_BINS; j++, rj *= silence_b_r[r]) {
            win[j] = pay * (j == 0 ? 1.0 : rj) - 1.0;
            lose[j] = -1.0;
        }
        l = 1.0;
        for (size_t i = 0; i < SILENCE_B_K; i++, l /= 2.0)
            v[k++] = bet_log(s, l, win, lose);
    }
    return rg_msprt_log_mean_exp(v, k);
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
