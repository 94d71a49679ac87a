/* Unit tests for src/model/exposure.c (stratified first waves, progressive
 * exposure budgets), which rollgate-sim and the controller share.
 * ctest-labels: canary */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/err.h"
#include "model/bucket.h"
#include "model/exposure.h"
#include "model/plan.h"

#include <stdio.h>
#include <string.h>

static void test_defaults_and_checks(void **state)
{
    (void)state;
    rg_exposure_params p;
    rg_err err;
    rg_exposure_params_default(&p);
    assert_int_equal(p.min_stratum_size, 1);
    assert_int_equal(p.min_per_stratum, 3);
    assert_true(p.initial_budget >= p.min_per_stratum);
    assert_int_equal(rg_exposure_params_check(&p, &err), 0);
    rg_exposure_params q = p;
    q.initial_budget = 2;
    assert_int_equal(rg_exposure_params_check(&q, &err), RG_EINVAL);
    assert_string_equal(err.field, "initial_budget");
    q = p;
    q.min_per_stratum = RG_EXPOSURE_MAX_PER_STRATUM + 1;
    assert_int_equal(rg_exposure_params_check(&q, &err), RG_EINVAL);
    assert_string_equal(err.field, "min_per_stratum");
    q = p;
    q.growth = 0;
    assert_int_equal(rg_exposure_params_check(&q, &err), RG_EINVAL);
    assert_string_equal(err.field, "growth");
}

static void test_track_lowest(void **state)
{
    (void)state;
    uint32_t low[4];
    size_t n = 0;
    const uint32_t in[] = {50, 10, 90, 30, 10, 70, 5, 60};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++)
        rg_exposure_track_lowest(low, &n, 4, in[i]);
    assert_int_equal(n, 4);
    assert_int_equal(low[0], 5);
    assert_int_equal(low[1], 10);
    assert_int_equal(low[2], 10);
    assert_int_equal(low[3], 30);
    n = 0;
    rg_exposure_track_lowest(low, &n, 0, 1);
    assert_int_equal(n, 0);
}

/* Every stratum holds at least k endpoints (all of them when it has
 * fewer, down to 1) from the first non-internal wave on, whatever the
 * wave's share; the internal ring keeps the plain share. With N raised to
 * 100, strata below it keep the plain share. */
static void test_stratified_first_wave(void **state)
{
    (void)state;
    rg_plan plan;
    rg_exposure_params p;
    assert_int_equal(rg_plan_builtin("standard", &plan, NULL), 0);
    rg_exposure_params_default(&p);
    assert_int_equal(rg_exposure_first_wave(&plan), 1);

    const size_t sizes[] = {150, 2000, 99, 2, 1};
    for (size_t s = 0; s < 5; s++) {
        uint32_t low[RG_EXPOSURE_MAX_PER_STRATUM], buckets[2000];
        size_t n = 0;
        char id[32];
        for (size_t i = 0; i < sizes[s]; i++) {
            snprintf(id, sizeof id, "s%zu-ep-%zu", s, i);
            buckets[i] = rg_bucket("salt", id);
            rg_exposure_track_lowest(low, &n, p.min_per_stratum, buckets[i]);
        }
        uint32_t share = 1000; /* 0.1% */
        uint32_t w0 =
            rg_exposure_stratum_share(&p, &plan, 0, share, sizes[s], low, n);
        uint32_t w1 =
            rg_exposure_stratum_share(&p, &plan, 1, share, sizes[s], low, n);
        uint32_t w5 =
            rg_exposure_stratum_share(&p, &plan, 5, RG_PPM, sizes[s], low, n);
        assert_int_equal(w0, share);
        assert_true(w1 >= share);
        assert_int_equal(w5, RG_PPM);
        size_t in = 0;
        for (size_t i = 0; i < sizes[s]; i++)
            in += rg_bucket_in(buckets[i], w1);
        assert_true(in >= (sizes[s] < p.min_per_stratum ? sizes[s]
                                                        : p.min_per_stratum));
        rg_exposure_params big = p;
        big.min_stratum_size = 100;
        if (sizes[s] < 100)
            assert_int_equal(rg_exposure_stratum_share(&big, &plan, 1, share,
                                                       sizes[s], low, n),
                             share);
    }
}

/* A stratum without healthy reports never gets past its initial budget;
 * each healthy report admits `growth` more. */
static void test_budget(void **state)
{
    (void)state;
    rg_exposure_params p;
    rg_exposure_params_default(&p);
    assert_int_equal(rg_exposure_budget(&p, 0), p.initial_budget);
    assert_int_equal(rg_exposure_budget(&p, 10),
                     p.initial_budget + 10 * p.growth);
    assert_int_equal(rg_exposure_budget(&p, UINT64_MAX), UINT64_MAX);
    uint64_t assigned = 0;
    while (rg_exposure_admits(&p, assigned, 0))
        assigned++;
    assert_int_equal(assigned, p.initial_budget);
    assert_true(rg_exposure_admits(&p, assigned, 1));
    assert_false(rg_exposure_admits(&p, assigned + p.growth, 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_checks),
        cmocka_unit_test(test_track_lowest),
        cmocka_unit_test(test_stratified_first_wave),
        cmocka_unit_test(test_budget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
