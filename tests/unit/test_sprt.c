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
    assert_int_equal(rg_sprt_thresholds(0.0, 1e-2, &upper, &lower, &err), RG_EINVAL);
    assert_string_equal(err.field, "alpha");
    assert_int_equal(rg_sprt_thresholds(1e-3, 0.7, &upper, &lower, &err), RG_EINVAL);
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
            assert_int_equal(rg_sprt_decide(llr, upper, lower), RG_SPRT_CONTINUE);
    }
    assert_int_equal(halted_at, 8);
    assert_true(rg_sprt_llr(PI0, PI1, 7, 7) < upper);
    assert_true(rg_sprt_llr(PI0, PI1, 8, 8) >= upper);
    /* Healthy endpoints accept H0 after ceil(4.604 / 0.0311) = 149. */
    assert_int_equal(rg_sprt_decide(rg_sprt_llr(PI0, PI1, 0, 148), upper, lower),
                     RG_SPRT_CONTINUE);
    assert_int_equal(rg_sprt_decide(rg_sprt_llr(PI0, PI1, 0, 149), upper, lower),
                     RG_SPRT_ACCEPT_H0);
}

static double log_binom_pmf(uint64_t x, uint64_t n, double p)
{
    double lc = lgamma((double)n + 1) - lgamma((double)x + 1) -
                lgamma((double)(n - x) + 1);
    return lc + (double)x * log(p) + (double)(n - x) * log1p(-p);
}

/* E[exp(stat(X))] for X ~ Binomial(n, p), summed exactly over the pmf. */
static double expect_silence_halt(uint64_t n, double rho, double p)
{
    double e = 0;
    for (uint64_t x = 0; x <= n; x++) {
        rg_msprt_cell c = {.x = x, .n = n, .rho = rho};
        e += exp(log_binom_pmf(x, n, p) + rg_msprt_silence_halt(&c, 1));
    }
    return e;
}

static void mixtures_have_mean_one_under_the_null(void **state)
{
    (void)state;
    /* Silence, halt side: X ~ Binomial(n, rho) when theta = 1. */
    assert_float_equal(expect_silence_halt(40, 0.2, 0.2), 1.0, 1e-9);
    assert_float_equal(expect_silence_halt(200, 0.01, 0.01), 1.0, 1e-9);
    /* Less silent exposed cohort (theta = 0.5): a supermartingale. */
    double rho = 0.2, p_half = rho * 0.5 / (1 + rho * (0.5 - 1));
    assert_true(expect_silence_halt(40, rho, p_half) < 1.0);
    /* Clearly worse exposed cohort (theta = 8): the mean grows. */
    double p_bad = rho * 8 / (1 + rho * 7);
    assert_true(expect_silence_halt(40, rho, p_bad) > 100.0);

    /* Failures, halt side under p0, and both pass sides at their boundary. */
    double ef = 0, ep = 0, es = 0;
    for (uint64_t x = 0; x <= 300; x++) {
        ef += exp(log_binom_pmf(x, 300, 0.01) + rg_msprt_failure_halt(x, 300, 0.01));
        ep += exp(log_binom_pmf(x, 300, 0.03) + rg_msprt_failure_pass(x, 300, 0.03));
        rg_msprt_pass_cell c = {.silent = x, .windows = 300, .bad = 0.22};
        es += exp(log_binom_pmf(x, 300, 0.22) + rg_msprt_silence_pass(&c, 1, 0.02));
    }
    assert_float_equal(ef, 1.0, 1e-9);
    assert_float_equal(ep, 1.0, 1e-9);
    assert_float_equal(es, 1.0, 1e-9);
}

static void mixtures_without_evidence_are_zero(void **state)
{
    (void)state;
    rg_msprt_cell none = {.x = 0, .n = 0, .rho = 0.3};
    assert_float_equal(rg_msprt_silence_halt(&none, 1), 0.0, 0.0);
    /* No control windows (rho = 1): silence cannot be judged. */
    rg_msprt_cell only_exposed = {.x = 9, .n = 9, .rho = 1.0};
    assert_float_equal(rg_msprt_silence_halt(&only_exposed, 1), 0.0, 1e-12);
    assert_float_equal(rg_msprt_failure_halt(0, 0, 0.001), 0.0, 0.0);
    assert_float_equal(rg_msprt_failure_pass(0, 0, 0.02), 0.0, 0.0);
    assert_float_equal(rg_msprt_silence_pass(NULL, 0, 0.02), 0.0, 0.0);
}

static void mixture_grows_with_excess(void **state)
{
    (void)state;
    /* 8 of 10 silent events exposed where the exposure share is 10%. */
    rg_msprt_cell bad = {.x = 8, .n = 10, .rho = 0.1};
    rg_msprt_cell fair = {.x = 1, .n = 10, .rho = 0.1};
    assert_true(rg_msprt_silence_halt(&bad, 1) > log(2000.0));
    assert_true(rg_msprt_silence_halt(&fair, 1) < 0.0);
    /* Splitting a stratum into periods with the same share changes nothing. */
    rg_msprt_cell halves[2] = {{.x = 5, .n = 6, .rho = 0.1}, {.x = 3, .n = 4, .rho = 0.1}};
    assert_float_equal(rg_msprt_silence_halt(halves, 2),
                       rg_msprt_silence_halt(&bad, 1), 1e-9);
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
    assert_float_equal(rg_msprt_combine(2.0, pi), log(1 - pi + pi * exp(2.0)), 1e-12);
    assert_float_equal(rg_msprt_combine(-2.0, pi), log(1 - pi + pi * exp(-2.0)), 1e-12);
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
