/* msprt.c - see msprt.h. */
#include "msprt.h"

#include <math.h>

#define SILENCE_A_K 10 /* bets A: 0.9 / (1 + delta) * 2^-i */
#define SILENCE_B_K 6  /* bets B: 2^-i, for each of the ratios r */
#define SILENCE_B_R 3
#define SILENCE_LOW_K 10 /* mirror bets: 0.45 * 2^-i (bands) */

static const double silence_b_r[SILENCE_B_R] = {0.0, 0.5, 0.75};

/* B's payout for ratio r (in [0, 1)) and k >= 1 controls: a_k = 1 / max
 * over p in [0, 1] of (p + delta)(1 - p (1 - r))^k; the maximum is at
 * p* = (1 - k (1 - r) delta) / ((1 - r)(k + 1)), clamped to [0, 1]. */
static double silence_b_payout(double r, double delta, uint32_t k)
{
    double m = (double)k, u = 1.0 - r;
    double p = fmin(fmax((1.0 - m * u * delta) / (u * (m + 1.0)), 0.0), 1.0);
    return 1.0 / ((p + delta) * pow(1.0 - p * u, m));
}

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

int rg_msprt_set_cell(uint32_t controls, uint32_t silent)
{
    if (controls == 0 || controls > RG_MSPRT_SET_MAX_CONTROLS ||
        silent > controls)
        return -1;
    return (int)(controls * (controls + 1) / 2 - 1 + silent);
}

bool rg_msprt_sets_count(rg_msprt_sets *s, bool exposed_silent,
                         uint32_t controls, uint32_t silent, uint64_t n)
{
    int c = rg_msprt_set_cell(controls, silent);
    if (c < 0)
        return false;
    *(exposed_silent ? &s->silent[c] : &s->heard[c]) += n;
    return true;
}

void rg_msprt_sets_add(rg_msprt_sets *a, const rg_msprt_sets *b)
{
    for (size_t j = 0; j < RG_MSPRT_SET_CELLS; j++) {
        a->silent[j] += b->silent[j];
        a->heard[j] += b->heard[j];
    }
}

bool rg_msprt_sets_empty(const rg_msprt_sets *s)
{
    for (size_t j = 0; j < RG_MSPRT_SET_CELLS; j++)
        if (s->silent[j] || s->heard[j])
            return false;
    return true;
}

void rg_msprt_sets_summary(const rg_msprt_sets *s, uint64_t *windows,
                           uint64_t *silent, double *control_share)
{
    double shares = 0.0;
    *windows = *silent = 0;
    for (uint32_t k = 1, c = 0; k <= RG_MSPRT_SET_MAX_CONTROLS; k++)
        for (uint32_t j = 0; j <= k; j++, c++) {
            uint64_t n = s->silent[c] + s->heard[c];
            *silent += s->silent[c];
            *windows += n;
            shares += (double)n * (double)j / (double)k;
        }
    *control_share = *windows ? shares / (double)*windows : 0.0;
}

/* The cells of s that hold sets: cell[0..n) (RG_MSPRT_SET_CELLS room),
 * with their k and s. Returns n. */
static size_t used_cells(const rg_msprt_sets *s, uint16_t *cell, uint8_t *k,
                         uint8_t *sil)
{
    size_t n = 0;
    for (uint32_t m = 1, c = 0; m <= RG_MSPRT_SET_MAX_CONTROLS; m++)
        for (uint32_t j = 0; j <= m; j++, c++)
            if (s->silent[c] || s->heard[c]) {
                cell[n] = (uint16_t)c;
                k[n] = (uint8_t)m;
                sil[n++] = (uint8_t)j;
            }
    return n;
}

/* log1p(x), reusing the last result when x repeats (B's factors are the
 * same in many cells): bit-identical to calling log1p every time. */
static double log1p_cached(double x, double *last_x, double *last)
{
    if (x != *last_x) {
        *last_x = x;
        *last = log1p(x);
    }
    return *last;
}

/* log of the product of the factors 1 + l * win[i] (silent sets of cell
 * cell[i]) and 1 + l * lose[i] (the others) over the n used cells. */
static double bet_log(const rg_msprt_sets *s, const uint16_t *cell, size_t n,
                      double l, const double *win, const double *lose)
{
    double v = 0.0, wx = NAN, wl = 0.0, lx = NAN, ll = 0.0;
    for (size_t i = 0; i < n; i++) {
        uint16_t c = cell[i];
        if (s->silent[c])
            v += (double)s->silent[c] * log1p_cached(l * win[i], &wx, &wl);
        if (s->heard[c])
            v += (double)s->heard[c] * log1p_cached(l * lose[i], &lx, &ll);
    }
    return v;
}

double rg_msprt_silence_stream(const rg_msprt_sets *s, double delta)
{
    uint16_t cell[RG_MSPRT_SET_CELLS];
    uint8_t k[RG_MSPRT_SET_CELLS], sil[RG_MSPRT_SET_CELLS];
    size_t n = used_cells(s, cell, k, sil);
    if (n == 0)
        return 0.0;
    double win[RG_MSPRT_SET_CELLS], lose[RG_MSPRT_SET_CELLS];
    double v[SILENCE_A_K + SILENCE_B_R * SILENCE_B_K];
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        double q = (double)sil[i] / (double)k[i];
        win[i] = 1.0 - q - delta;
        lose[i] = -q - delta;
    }
    double l = 0.9 / (1.0 + delta);
    for (size_t i = 0; i < SILENCE_A_K; i++, l /= 2.0)
        v[m++] = bet_log(s, cell, n, l, win, lose);
    for (size_t r = 0; r < SILENCE_B_R; r++) {
        /* a_k for the k in use only (pow is the cost here), r^s by
         * products (exact: r is 0, 1/2 or 3/4) */
        double pay[RG_MSPRT_SET_MAX_CONTROLS + 1] = {0};
        double rs[RG_MSPRT_SET_MAX_CONTROLS + 1] = {1.0};
        for (uint32_t j = 1; j <= RG_MSPRT_SET_MAX_CONTROLS; j++)
            rs[j] = rs[j - 1] * silence_b_r[r];
        for (size_t i = 0; i < n; i++) {
            if (pay[k[i]] == 0.0)
                pay[k[i]] = silence_b_payout(silence_b_r[r], delta, k[i]);
            win[i] = pay[k[i]] * rs[sil[i]] - 1.0;
            lose[i] = -1.0;
        }
        l = 1.0;
        for (size_t i = 0; i < SILENCE_B_K; i++, l /= 2.0)
            v[m++] = bet_log(s, cell, n, l, win, lose);
    }
    return rg_msprt_log_mean_exp(v, m);
}

double rg_msprt_silence_halt(const rg_msprt_sets *first,
                             const rg_msprt_sets *soak, double delta)
{
    double v[2] = {rg_msprt_silence_stream(first, delta),
                   rg_msprt_silence_stream(soak, delta)};
    return v[0] == 0.0 && v[1] == 0.0 ? 0.0 : rg_msprt_log_mean_exp(v, 2);
}

double rg_msprt_silence_below(const rg_msprt_sets *first,
                              const rg_msprt_sets *soak, double delta)
{
    const rg_msprt_sets *st[2] = {first, soak};
    double v[2 * SILENCE_LOW_K];
    size_t m = 0;
    for (size_t j = 0; j < 2; j++) {
        uint16_t cell[RG_MSPRT_SET_CELLS];
        uint8_t k[RG_MSPRT_SET_CELLS], sil[RG_MSPRT_SET_CELLS];
        double win[RG_MSPRT_SET_CELLS], lose[RG_MSPRT_SET_CELLS];
        size_t n = used_cells(st[j], cell, k, sil);
        if (n == 0)
            continue;
        for (size_t i = 0; i < n; i++) {
            double q = (double)sil[i] / (double)k[i];
            win[i] = delta + q - 1.0;
            lose[i] = delta + q;
        }
        double l = 0.45;
        for (size_t i = 0; i < SILENCE_LOW_K; i++, l /= 2.0)
            v[m++] = bet_log(st[j], cell, n, l, win, lose);
    }
    return m ? rg_msprt_log_mean_exp(v, m) : 0.0;
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
