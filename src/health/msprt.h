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
 *  - silence, excess above a minimum effect size delta (a betting
 *    e-process). Each resolved exposed window has matched control windows
 *    judged on the same span; D = x_e - m_c (x_e 1 when the exposed window
 *    is silent, m_c the share of its control windows that are) lies in
 *    [-1, 1] and has mean <= delta under the null "exposed silence <=
 *    control silence + delta", whatever the dependence between the two
 *    cohorts (an outage in the span hits both sides of D and cancels).
 *    With u = (D - delta)/(1 + delta) >= -1, prod (1 + g u_i) is a
 *    nonnegative supermartingale under the null for every bet g in
 *    [0, 1) (Waudby-Smith & Ramdas 2023); the test returns the log of the
 *    mean over 16 fixed bets of the smallest value that product can take
 *    given the counts (the counts do not say which windows the control
 *    silence belongs to; the worst assignment is taken). A window gains
 *    at most log 2: a silent crash needs about 21 windows in a stratum.
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

/* Counts of the silence halt test for one stratum (or one period of it):
 * resolved exposed windows, each with the same number of matched control
 * windows judged on its span. */
typedef struct rg_msprt_excess_cell {
    uint64_t windows;         /* exposed windows resolved */
    uint64_t silent;          /* of those, silent; silent <= windows */
    uint64_t control_windows; /* their matched control windows */
    uint64_t control_silent;  /* of those, silent */
} rg_msprt_excess_cell;

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

/* Halt side, silence: log of the betting e-process of one stratum whose
 * counts are split into n cells (periods, earlier waves), null "exposed
 * silence <= control silence + delta", delta in [0, 0.5) (see the top
 * comment). The sum of the m_c of a cell's windows is taken as
 * control_silent * windows / control_windows (exact when each window has
 * the same number of controls); a cell without control windows gives no
 * evidence. 0 when no cell gives any. */
double rg_msprt_excess_halt(const rg_msprt_excess_cell *cells, size_t n,
                            double delta);

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
