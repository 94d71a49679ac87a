/*
 * msprt.h - the anytime-valid tests of the health gate: mixture sequential
 * probability ratio tests (mSPRT) on binomial counts.
 *
 * A likelihood ratio against a null hypothesis is a nonnegative martingale
 * with mean 1 while the null holds; so is any fixed-weight average
 * ("mixture") of such ratios over alternatives. Ville's inequality then
 * bounds the chance that it EVER reaches 1/a by a, however often and
 * whenever it is looked at. Each test below returns the log of such a
 * mixture; crossing log(1/a) rejects its null at level a. Every mixture is
 * a uniform average over a fixed grid of alternatives (listed per test), so
 * no parameter is estimated from the data it judges (the exception is the
 * boundary the caller gives rg_msprt_silence_pass; see there).
 *
 * Halt side (null: the release is harmless):
 *  - silence, matched sets (docs/health.md, "Halt side, silence"). Each
 *    resolved exposed window comes with its k matched control windows on
 *    the same span; E = 1 when the exposed one was silent, s of the k
 *    controls were. Null: given everything the span's endpoints share
 *    (outages included), P(E = 1) <= p + delta, p the chance that a
 *    comparable endpoint is silent on that span, delta the minimum effect
 *    (an absolute share). Two families of bets, each of mean <= 1 under
 *    every point of that composite null, whatever p:
 *      A: 1 + l (E - s/k - delta),        l = 0.9/(1+delta) * 2^-i, i<10
 *      B: 1 + l (E a r^s - 1),    r in {0, 1/2, 3/4}, l = 2^-i, i < 6,
 *         a = 1 / max_p (p + delta)(1 - p (1 - r))^m,
 *         m = RG_MSPRT_SET_MIN_CONTROLS (r^0 = 1)
 *    (A: E[E - s/k] <= delta; B: E independent of the controls given the
 *    span, s ~ Binomial(k, p), E[r^s] = (1 - p (1 - r))^k, k >= m, so
 *    E[E a r^s] <= 1). A bets on a moderate excess in a large stratum, B
 *    on a stratum going silent while its controls are heard (a is about
 *    30, 16 and 8 for the three r at delta 0.01; bins round s up, which
 *    only lowers B). The product of a bet's factors over the windows is a
 *    test supermartingale; the test is the uniform mixture of the 28, so
 *    it is one too, for the whole rollout when the windows of every wave
 *    are kept (rg_msprt_sets).
 *  - explicit failures, one-sample test of the same shape: x failed among
 *    n resolved exposed endpoints is Binomial(n, p) with p <= p0 (the
 *    harmless failure share) under the null; alternatives p0 * 2^(j+1)
 *    below 1. (The control cohort applies nothing, so it cannot fail.)
 * Pass side (null: the release is bad by at least the tolerated excess),
 * the mirror image: mixtures over alternatives below the bad boundary.
 *
 * Strata: rg_msprt_combine turns each stratum's mixture into the factor
 * (1 - prior) + prior * Lambda_s; the product of these factors over strata
 * (the sum of their logs) is again a martingale under the null, because
 * each silent event or resolved endpoint belongs to one stratum and moves
 * only that stratum's factor. A stratum without evidence contributes 0,
 * a healthy one at most -log(1 - prior), a broken one log(prior) +
 * log(Lambda_s): one crashing stratum is not diluted by many healthy ones.
 *
 * Pure functions; thread-safe; no allocation.
 */
#ifndef RG_MSPRT_H
#define RG_MSPRT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Weight of the "this stratum is broken" component in rg_msprt_combine. */
#define RG_MSPRT_STRATUM_PRIOR (1.0 / 32.0)

/* Matched sets: bins of the share of silent matched controls, s / k
 * rounded UP to sixteenths (0..16; rounding up only lowers the bets, so
 * they stay valid); a set needs at least RG_MSPRT_SET_MIN_CONTROLS
 * eligible controls (fewer: it is not counted; that depends only on who
 * was eligible at exposure, not on the outcome). */
#define RG_MSPRT_SET_BINS 17
#define RG_MSPRT_SET_MIN_CONTROLS 12

/* The silence test's sufficient counts: resolved exposed windows by their
 * bin (rg_msprt_set_bin), silent ones and the others (healthy or failed).
 * Each count at most 1e12. */
typedef struct rg_msprt_sets {
    uint64_t silent[RG_MSPRT_SET_BINS];
    uint64_t heard[RG_MSPRT_SET_BINS];
} rg_msprt_sets;

/* Counts of the pass-side silence test for one stratum. */
typedef struct rg_msprt_pass_cell {
    uint64_t silent;  /* exposed endpoints silent for a whole window */
    uint64_t windows; /* exposed windows resolved; windows >= silent */
    double bad;       /* silence share at or above which the stratum is bad,
                         in (0, 1) */
} rg_msprt_pass_cell;

/* log of the mean of exp(v[i]) over k > 0 values, without overflow;
 * -INFINITY when every v[i] is -INFINITY. */
double rg_msprt_log_mean_exp(const double *v, size_t k);

/* log likelihood ratio of x events among n Bernoulli trials for
 * probability p_alt against p_null, both in (0, 1). */
double rg_msprt_binom_llr(uint64_t x, uint64_t n, double p_alt, double p_null);

/* The bin of a matched set with `controls` eligible controls of which
 * `silent` were silent (silent <= controls <= 16): ceil(16 silent /
 * controls); -1 when controls < RG_MSPRT_SET_MIN_CONTROLS (not counted). */
int rg_msprt_set_bin(uint32_t controls, uint32_t silent);

/* a += b, bin by bin. */
void rg_msprt_sets_add(rg_msprt_sets *a, const rg_msprt_sets *b);

/* Whether s holds no set. */
bool rg_msprt_sets_empty(const rg_msprt_sets *s);

/* The sets of s in words: *windows resolved, *silent of them, and the
 * share of their matched controls that were silent (by the bins, so
 * rounded up to sixteenths; 0 when s is empty). */
void rg_msprt_sets_summary(const rg_msprt_sets *s, uint64_t *windows,
                           uint64_t *silent, double *control_share);

/* Halt side, silence: log of the mixture e-process (see the top comment)
 * of the matched sets s against "excess silence <= delta", delta in
 * [0, 0.5]. 0 when s is empty; -INFINITY never (the mixture keeps bets
 * that survive any outcome). */
double rg_msprt_silence_halt(const rg_msprt_sets *s, double delta);

/* Halt side, failures: log of the mixture likelihood ratio of `failed`
 * among `trials` resolved exposed endpoints, null p <= p0 (p0 in (0, 0.25]),
 * alternatives p0 * 2^(j+1) < 1. 0 when trials == 0. */
double rg_msprt_failure_halt(uint64_t failed, uint64_t trials, double p0);

/* Pass side, silence, pooled over n strata: null "every stratum's exposed
 * silence share is at least its cells[i].bad"; alternatives share one
 * shortfall: silence cells[i].bad - g * excess with g in {0.5, 0.75, 1,
 * 1.25, 1.5, 2, 3} (floored at bad / 1000), excess > 0. 0 when no window
 * resolved. The caller sets bad = control silence share + excess (the
 * analyzer uses a lower 2-sigma bound of the share, since it is estimated),
 * so an exposed cohort exactly as silent as control is near the g = 1
 * alternative. */
double rg_msprt_silence_pass(const rg_msprt_pass_cell *cells, size_t n,
                             double excess);

/* Pass side, failures, pooled: null p >= p_bad (in (0, 1)), alternatives
 * p_bad * 2^-(j+1), j = 0..9. 0 when trials == 0. */
double rg_msprt_failure_pass(uint64_t failed, uint64_t trials, double p_bad);

/* log((1 - prior) + prior * exp(log_lambda)), prior in (0, 1): a
 * stratum's factor in the product over strata (see the top comment). */
double rg_msprt_combine(double log_lambda, double prior);

#endif
