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
 *    the same span (1 <= k <= RG_MSPRT_SET_MAX_CONTROLS, k fixed before
 *    the span's outcome); E = 1 when the exposed one was silent, s of the
 *    k controls were. Null: given everything the span's endpoints share
 *    (outages included), P(E = 1) <= p + delta, p the chance that a
 *    comparable endpoint is silent on that span, delta the minimum effect
 *    (an absolute share). Two families of bets, each of mean <= 1 under
 *    every point of that composite null, whatever p and whatever k:
 *      A: 1 + l (E - s/k - delta),        l = 0.9/(1+delta) * 2^-i, i<10
 *      B: 1 + l (E a_k r^s - 1),  r in {0, 1/2, 3/4}, l = 2^-i, i < 6,
 *         a_k = 1 / max_p (p + delta)(1 - p (1 - r))^k   (r^0 = 1)
 *    (A: E[E - s/k] <= delta; B: E independent of the controls given the
 *    span, s ~ Binomial(k, p), E[r^s] = (1 - p (1 - r))^k, so E[E a_k
 *    r^s] <= 1). A bets on a moderate excess in a large stratum, B on a
 *    stratum going silent while its controls are heard (a_k is about 30,
 *    16 and 8 for the three r at delta 0.01 and k = 12; 3.9, 2.0 and 1.3
 *    at k = 1). The product of a bet's factors over the windows is a test
 *    supermartingale; a stream's statistic is the uniform mixture of the
 *    28, so it is one too, for the whole rollout when the windows of
 *    every wave are kept (rg_msprt_sets). A stratum has two streams, its
 *    first spans and its soak spans; the test is their average
 *    (rg_msprt_silence_halt), again a test supermartingale.
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

/* Matched sets: counts per (k, s), k the set's counted controls (1 ..
 * RG_MSPRT_SET_MAX_CONTROLS), s the silent ones (0 .. k); cell
 * k (k + 1) / 2 - 1 + s (rg_msprt_set_cell). A set without controls is
 * not counted (it says nothing about the excess). */
#define RG_MSPRT_SET_MAX_CONTROLS 16
#define RG_MSPRT_SET_CELLS                                                     \
    (RG_MSPRT_SET_MAX_CONTROLS * (RG_MSPRT_SET_MAX_CONTROLS + 3) / 2)

/* One stream of the silence test's sufficient counts: resolved exposed
 * windows by their cell, silent ones and the others (healthy or failed).
 * Each count at most 1e12. */
typedef struct rg_msprt_sets {
    uint64_t silent[RG_MSPRT_SET_CELLS];
    uint64_t heard[RG_MSPRT_SET_CELLS];
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

/* The cell of a matched set with `controls` counted controls of which
 * `silent` were silent; -1 when controls is 0 or above
 * RG_MSPRT_SET_MAX_CONTROLS, or silent > controls (not counted). */
int rg_msprt_set_cell(uint32_t controls, uint32_t silent);

/* Adds n matched sets (exposed window silent or not; `silent` of
 * `controls` controls silent) to s. Returns false, counting nothing, when
 * rg_msprt_set_cell has no cell for them. */
bool rg_msprt_sets_count(rg_msprt_sets *s, bool exposed_silent,
                         uint32_t controls, uint32_t silent, uint64_t n);

/* a += b, cell by cell. */
void rg_msprt_sets_add(rg_msprt_sets *a, const rg_msprt_sets *b);

/* Whether s holds no set. */
bool rg_msprt_sets_empty(const rg_msprt_sets *s);

/* The sets of s in words: *windows resolved, *silent of them, and the
 * mean share of their matched controls that were silent (0 when s is
 * empty). */
void rg_msprt_sets_summary(const rg_msprt_sets *s, uint64_t *windows,
                           uint64_t *silent, double *control_share);

/* Halt side, silence, one stream: log of the mixture e-process (see the
 * top comment) of the matched sets s against "excess silence <= delta",
 * delta in [0, 0.5]. 0 when s is empty; never -INFINITY (the mixture
 * keeps bets that survive any outcome). */
double rg_msprt_silence_stream(const rg_msprt_sets *s, double delta);

/* Halt side, silence, a stratum: log of the average of the e-processes of
 * its two streams, first spans and soak spans (rg_msprt_silence_stream
 * of each). 0 when both are empty. */
double rg_msprt_silence_halt(const rg_msprt_sets *first,
                             const rg_msprt_sets *soak, double delta);

/* The mirror of rg_msprt_silence_halt, for confidence bands (band.h):
 * log of an e-process of the matched sets of both streams against
 * "excess silence >= delta", delta in [-1, 1]: the uniform mixture over
 * both streams (those holding sets) and l = 0.45 * 2^-i, i < 10, of the
 * products of the bets 1 + l (delta + s/k - E) (mean <= 1 when
 * E[E - s/k] >= delta; nonnegative since l (1 - delta) <= 0.9). 0 when
 * both are empty. */
double rg_msprt_silence_below(const rg_msprt_sets *first,
                              const rg_msprt_sets *soak, double delta);

/* The failure halt test with another null, for confidence bands (band.h): null
 * p_null in (0, 1), alternatives p_null * 2^(j+1) below 1 (up > 0;
 * rg_msprt_failure_halt is this) or p_null * 2^-(j+1), j = 0..12 (up == 0). 0
 * when trials == 0 or no alternative is left. */
double rg_msprt_failure_vs(uint64_t failed, uint64_t trials, double p_null,
                           int up);

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
