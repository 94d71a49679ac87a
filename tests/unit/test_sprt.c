/* Unit tests for src/health/sprt.c and msprt.c: Wald's textbook numbers and
 * the martingale property (expectation exactly 1 under the null) of every
 * mixture the gate uses.
 * ctest-labels: canary */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/err.h"
#include "health/msprt.h"
#include "health/sprt.h"

#include <math.h>
#include <stdbool.h>

/* pi0 = 2%, pi1 = 5%, alpha = 1e-3, beta = 1e-2. */
#define PI0 0.02
#define PI1 0.05

static void wald_textbook_thresholds(void **state)
{
    (void)state;
    double upper = 0, lower = 0;
    assert_int_equal(rg_sprt_thresholds(1e-3, 1e-2, &upper, &lower, NULL), 0);
    assert_float_equal(upper, log(0.99 / 0.001), 1e-12);
    assert_float_equal(lower, log(0.01 / 0.999), 1e-12);
    assert_float_equal(upper, 6.898, 5e-4);
    assert_float_equal(lower, -4.604, 5e-4);

    rg_err err;
    rg_err_clear(&err);
    assert_int_equal(rg_sprt_thresholds(0.0, 1e-2, &upper, &lower, &err),
                     RG_EINVAL);
    assert_string_equal(err.field, "alpha");
    assert_int_equal(rg_sprt_thresholds(1e-3, 0.7, &upper, &lower, &err),
                     RG_EINVAL);
    assert_string_equal(err.field, "beta");
}

static void wald_textbook_increments(void **state)
{
    (void)state;
    assert_float_equal(rg_sprt_step(PI0, PI1, true), 0.916, 5e-4);
    assert_float_equal(rg_sprt_step(PI0, PI1, false), -0.031, 5e-4);
    /* The batch form is the sum of the steps. */
    double sum = 0;
    for (int i = 0; i < 3; i++)
        sum += rg_sprt_step(PI0, PI1, true);
    for (int i = 0; i < 40; i++)
        sum += rg_sprt_step(PI0, PI1, false);
    assert_float_equal(rg_sprt_llr(PI0, PI1, 3, 43), sum, 1e-12);
    assert_float_equal(rg_sprt_llr(PI0, PI1, 0, 0), 0.0, 0.0);
}

static void wald_eight_silent_endpoints_halt(void **state)
{
    (void)state;
    double upper, lower;
    assert_int_equal(rg_sprt_thresholds(1e-3, 1e-2, &upper, &lower, NULL), 0);
    double llr = 0;
    int halted_at = 0;
    for (int i = 1; i <= 10 && !halted_at; i++) {
        llr += rg_sprt_step(PI0, PI1, true);
        if (rg_sprt_decide(llr, upper, lower) == RG_SPRT_ACCEPT_H1)
            halted_at = i;
        else
            assert_int_equal(rg_sprt_decide(llr, upper, lower),
                             RG_SPRT_CONTINUE);
    }
    assert_int_equal(halted_at, 8);
    assert_true(rg_sprt_llr(PI0, PI1, 7, 7) < upper);
    assert_true(rg_sprt_llr(PI0, PI1, 8, 8) >= upper);
    /* Healthy endpoints accept H0 after ceil(4.604 / 0.0311) = 149. */
    assert_int_equal(
        rg_sprt_decide(rg_sprt_llr(PI0, PI1, 0, 148), upper, lower),
        RG_SPRT_CONTINUE);
    assert_int_equal(
        rg_sprt_decide(rg_sprt_llr(PI0, PI1, 0, 149), upper, lower),
        RG_SPRT_ACCEPT_H0);
}

static double log_binom_pmf(uint64_t x, uint64_t n, double p)
{
    double lc = lgamma((double)n + 1) - lgamma((double)x + 1) -
                lgamma((double)(n - x) + 1);
    return lc + (double)x * log(p) + (double)(n - x) * log1p(-p);
}

/* Adds one matched set (exposed silent or not, s of k controls silent). */
static void add_set(rg_msprt_sets *t, bool silent, uint32_t k, uint32_t s)
{
    assert_true(rg_msprt_sets_count(t, silent, k, s, 1));
}

/* E[exp(stat)] after `sets` (1 or 2) matched sets of k controls, each
 * control silent with probability p, the exposed one with q, all
 * independent: summed exactly over every outcome. The stratum's
 * statistic of both streams (rg_msprt_silence_halt), the second set in
 * the soak stream when split, else in the first. */
static double expect_silence_halt(int sets, uint32_t k, double p, double q,
                                  double delta, bool split)
{
    double e = 0;
    int outcomes = 2 * ((int)k + 1);
    int total = sets == 1 ? outcomes : outcomes * outcomes;
    for (int o = 0; o < total; o++) {
        rg_msprt_sets t[2] = {0};
        double lp = 0;
        for (int i = 0, rest = o; i < sets; i++, rest /= outcomes) {
            int v = rest % outcomes;
            bool silent = v > (int)k;
            uint32_t s = (uint32_t)(v % ((int)k + 1));
            add_set(&t[split && i == 1], silent, k, s);
            lp += log_binom_pmf(s, k, p) + log(silent ? q : 1 - q);
        }
        e += exp(lp + rg_msprt_silence_halt(&t[0], &t[1], delta));
    }
    return e;
}

static void mixtures_have_mean_one_under_the_null(void **state)
{
    (void)state;
    /* Silence, halt side: a supermartingale at every point of the
     * composite null "exposed silence <= control silence + delta", over
     * the whole range of control silence, for one set and for two. */
    const double deltas[] = {0.0, 0.01, 0.05};
    for (size_t d = 0; d < 3; d++)
        for (double p = 0.0005; p < 1.0; p += 0.0125) {
            double q = fmin(p + deltas[d], 1.0);
            /* any number of controls, 1 to 16 (B's payout a_k) */
            for (uint32_t k = 1; k <= RG_MSPRT_SET_MAX_CONTROLS; k++)
                assert_true(expect_silence_halt(1, k, p, q, deltas[d], false) <=
                            1.0 + 1e-12);
            assert_true(expect_silence_halt(2, 1, p, q, deltas[d], true) <=
                        1.0 + 1e-12);
            assert_true(expect_silence_halt(2, 16, p, q, deltas[d], false) <=
                        1.0 + 1e-12);
            assert_true(expect_silence_halt(2, 16, p, q, deltas[d], true) <=
                        1.0 + 1e-12);
        }
    /* Clearly worse exposed cohort (20 points above 5 %): the mean grows. */
    assert_true(expect_silence_halt(2, 16, 0.05, 0.25, 0.01, false) > 1.1);
    assert_true(expect_silence_halt(2, 16, 0.05, 0.25, 0.01, true) > 1.05);

    /* Failures, halt side under p0, and both pass sides at their boundary. */
    double ef = 0, ep = 0, es = 0;
    for (uint64_t x = 0; x <= 300; x++) {
        ef += exp(log_binom_pmf(x, 300, 0.01) +
                  rg_msprt_failure_halt(x, 300, 0.01));
        ep += exp(log_binom_pmf(x, 300, 0.03) +
                  rg_msprt_failure_pass(x, 300, 0.03));
        rg_msprt_pass_cell c = {.silent = x, .windows = 300, .bad = 0.22};
        es += exp(log_binom_pmf(x, 300, 0.22) +
                  rg_msprt_silence_pass(&c, 1, 0.02));
    }
    assert_float_equal(ef, 1.0, 1e-9);
    assert_float_equal(ep, 1.0, 1e-9);
    assert_float_equal(es, 1.0, 1e-9);
}

static void mixtures_without_evidence_are_zero(void **state)
{
    (void)state;
    rg_msprt_sets none = {0};
    assert_float_equal(rg_msprt_silence_halt(&none, &none, 0.01), 0.0, 0.0);
    /* No controls (or more than 16): the set is not counted. */
    assert_int_equal(rg_msprt_set_cell(0, 0), -1);
    assert_int_equal(rg_msprt_set_cell(17, 0), -1);
    assert_int_equal(rg_msprt_set_cell(3, 4), -1);
    assert_false(rg_msprt_sets_count(&none, true, 0, 0, 1));
    assert_true(rg_msprt_sets_empty(&none));
    assert_int_equal(rg_msprt_set_cell(1, 0), 0);
    assert_int_equal(rg_msprt_set_cell(2, 0), 2);
    assert_int_equal(rg_msprt_set_cell(16, 16), RG_MSPRT_SET_CELLS - 1);
    assert_float_equal(rg_msprt_failure_halt(0, 0, 0.001), 0.0, 0.0);
    assert_float_equal(rg_msprt_failure_pass(0, 0, 0.02), 0.0, 0.0);
    assert_float_equal(rg_msprt_silence_pass(NULL, 0, 0.02), 0.0, 0.0);
}

static void mixture_grows_with_excess(void **state)
{
    (void)state;
    /* A stratum going silent while its controls are heard: as fast as the
     * conditional test it replaces (6 silent windows reach log(4000) +
     * log(32), the per-stratum threshold of the gate at alpha 1e-3). */
    rg_msprt_sets dark = {0};
    rg_msprt_sets_count(&dark, true, 16, 0, 6);
    assert_true(rg_msprt_silence_stream(&dark, 0.01) > log(4000.0 * 32.0));
    /* With one heard control each (a_1 about 3.9), 12 dark windows do. */
    rg_msprt_sets thin = {0};
    rg_msprt_sets_count(&thin, true, 1, 0, 11);
    assert_true(rg_msprt_silence_stream(&thin, 0.01) < log(4000.0 * 32.0));
    rg_msprt_sets_count(&thin, true, 1, 0, 1);
    assert_true(rg_msprt_silence_stream(&thin, 0.01) > log(4000.0 * 32.0));
    /* 1 silent of 10 with 1 of 16 controls silent each: no lean. */
    rg_msprt_sets fair = {0};
    rg_msprt_sets_count(&fair, true, 16, 1, 1);
    rg_msprt_sets_count(&fair, false, 16, 1, 9);
    assert_true(rg_msprt_silence_stream(&fair, 0.01) < 0.0);
    /* 10 % silent where controls are 5 %: excess 5 points, above delta
     * 1 point, judged at 5000 windows; the same at 2 % is within delta. */
    rg_msprt_sets over = {0}, within = {0};
    rg_msprt_sets_count(&over, true, 16, 1, 500);
    rg_msprt_sets_count(&over, false, 16, 1, 4500);
    rg_msprt_sets_count(&within, true, 16, 1, 100);
    rg_msprt_sets_count(&within, false, 16, 1, 4900);
    assert_true(rg_msprt_silence_stream(&over, 0.01) > log(4000.0 * 32.0));
    assert_true(rg_msprt_silence_stream(&within, 0.01) < 0.0);
    /* The same counts split in two halves give the same statistic. */
    rg_msprt_sets half = {0}, sum = {0};
    rg_msprt_sets_count(&half, true, 16, 1, 250);
    rg_msprt_sets_count(&half, false, 16, 1, 2250);
    rg_msprt_sets_add(&sum, &half);
    rg_msprt_sets_add(&sum, &half);
    assert_float_equal(rg_msprt_silence_stream(&sum, 0.01),
                       rg_msprt_silence_stream(&over, 0.01), 0.0);
    /* A stratum's two streams: a dark soak stream is not diluted by many
     * healthy first spans (the average costs at most log 2). */
    rg_msprt_sets healthy = {0}, none = {0};
    rg_msprt_sets_count(&healthy, false, 16, 0, 5000);
    assert_true(rg_msprt_silence_halt(&healthy, &dark, 0.01) >=
                rg_msprt_silence_stream(&dark, 0.01) - log(2.0));
    assert_true(rg_msprt_silence_halt(&dark, &none, 0.01) >=
                rg_msprt_silence_stream(&dark, 0.01) - log(2.0));
}

static void combine_bounds_each_stratum(void **state)
{
    (void)state;
    double pi = RG_MSPRT_STRATUM_PRIOR;
    assert_float_equal(rg_msprt_combine(0.0, pi), 0.0, 1e-15);
    /* A healthy stratum costs at most -log(1 - prior). */
    assert_float_equal(rg_msprt_combine(-1e6, pi), log1p(-pi), 1e-12);
    /* A broken one pays log(prior). */
    assert_float_equal(rg_msprt_combine(50.0, pi), 50.0 + log(pi), 1e-9);
    assert_float_equal(rg_msprt_combine(2.0, pi), log(1 - pi + pi * exp(2.0)),
                       1e-12);
    assert_float_equal(rg_msprt_combine(-2.0, pi), log(1 - pi + pi * exp(-2.0)),
                       1e-12);
    double v[3] = {-INFINITY, -INFINITY, -INFINITY};
    assert_true(isinf(rg_msprt_log_mean_exp(v, 3)));
    double w[2] = {1000.0, 1000.0};
    assert_float_equal(rg_msprt_log_mean_exp(w, 2), 1000.0, 1e-9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(wald_textbook_thresholds),
        cmocka_unit_test(wald_textbook_increments),
        cmocka_unit_test(wald_eight_silent_endpoints_halt),
        cmocka_unit_test(mixtures_have_mean_one_under_the_null),
        cmocka_unit_test(mixtures_without_evidence_are_zero),
        cmocka_unit_test(mixture_grows_with_excess),
        cmocka_unit_test(combine_bounds_each_stratum),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
