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
 *  - silence, conditional test. Given n silent events in a stratum, the
 *    number x of them from the exposed cohort is Binomial(n, rho) when
 *    exposed endpoints fall silent no more often than control ones, with
 *    rho the exposure share (exposed windows / all windows). If exposed
 *    windows are theta times as often silent, an event is exposed with
 *    probability rho*theta / (1 + rho*(theta - 1)). Null theta <= 1;
 *    alternatives theta_j = 1.25 * 2^j, j = 0..12 (1.25 .. 5120). Harmless
 *    silence of any size, correlated outages included, cancels out because
 *    it hits both cohorts.
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

#include <stddef.h>
#include <stdint.h>

/* Weight of the "this stratum is broken" component in rg_msprt_combine. */
#define RG_MSPRT_STRATUM_PRIOR (1.0 / 32.0)

/* Counts of the conditional silence test for one stratum (or one period of
 * it during which the exposure share stayed the same). */
typedef struct rg_msprt_cell {
    uint64_t x; /* silent events from the exposed cohort */
    uint64_t n; /* silent events from both cohorts; n >= x */
    double rho; /* exposure share in [0, 1]; rho == 0 requires x == 0 */
} rg_msprt_cell;

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

/* log likelihood ratio of the conditional silence counts c for the rate
 * ratio theta_alt against theta_null (both > 0):
 *   x log(theta_alt/theta_null)
 *     - n [log(1 + rho(theta_alt - 1)) - log(1 + rho(theta_null - 1))]. */
double rg_msprt_ratio_llr(const rg_msprt_cell *c, double theta_alt,
                          double theta_null);

/* Halt side, silence: log of the mixture likelihood ratio of one stratum
 * whose counts are split into n cells (periods with their own exposure
 * share; usually n == 1). The alternatives are shared by the cells: theta_j
 * = 1.25 * 2^j, j = 0..12, null theta = 1. 0 when there is no silent event. */
double rg_msprt_silence_halt(const rg_msprt_cell *cells, size_t n);

/* The halt tests with another null, for confidence bands (band.h): the
 * mixture of the silence test against null theta_null, over the
 * alternatives theta_null * 1.25 * 2^j (up > 0) or theta_null / (1.25 *
 * 2^j) (up == 0), j = 0..12; rg_msprt_silence_halt is the case
 * (theta_null 1, up). 0 when there is no silent event. */
double rg_msprt_silence_vs(const rg_msprt_cell *cells, size_t n,
                           double theta_null, int up);

/* Same for failures: null p_null in (0, 1), alternatives p_null * 2^(j+1)
 * below 1 (up > 0; rg_msprt_failure_halt is this) or p_null * 2^-(j+1),
 * j = 0..12 (up == 0). 0 when trials == 0 or no alternative is left. */
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
