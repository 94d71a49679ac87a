/* Unit tests for src/health/band.c: the confidence bands invert the
 * gate's own halt tests (the lower edge leaves 1 exactly when the
 * stratum's halt factor reaches the threshold), cover the true ratio at
 * every look in all but about alpha of the runs, are unbounded without
 * evidence, and are computed per stratum from an analysis.
 * ctest-labels: web */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "health/analyzer.h"
#include "health/band.h"
#include "health/msprt.h"

#include <math.h>
#include <stdlib.h>

#define PRIOR RG_MSPRT_STRATUM_PRIOR

/* splitmix64, seeded per test. */
static double unit(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

static void lower_edge_is_the_gate(void **state)
{
    (void)state;
    double thr = log(2.0 / 1e-3);
    int halts = 0;
    for (uint64_t x = 0; x <= 40; x++) {
        rg_msprt_cell c = {.x = x, .n = 40, .rho = 1.0 / 11.0};
        rg_band b;
        rg_band_silence(&c, 1, thr, PRIOR, &b);
        int gate = rg_msprt_combine(rg_msprt_silence_halt(&c, 1), PRIOR) >= thr;
        assert_int_equal(b.lo > 1.0, gate);
        assert_true(b.lo <= b.hi);
        halts += gate;
    }
    assert_true(halts > 0 && halts < 41); /* both sides were seen */
    halts = 0;
    for (uint64_t f = 0; f <= 30; f++) {
        rg_band b;
        rg_band_failure(f, 500, 1e-3, thr, PRIOR, &b);
        int gate =
            rg_msprt_combine(rg_msprt_failure_halt(f, 500, 1e-3), PRIOR) >= thr;
        assert_int_equal(b.lo > 1.0, gate);
        assert_float_equal(b.est, f ? f / 500.0 / 1e-3 : RG_BAND_MIN, 1e-9);
        halts += gate;
    }
    assert_true(halts > 0 && halts < 31);
}

static void no_evidence_is_unbounded(void **state)
{
    (void)state;
    rg_band b;
    rg_msprt_cell c = {.x = 0, .n = 0, .rho = 0.1};
    rg_band_silence(&c, 1, log(40.0), PRIOR, &b);
    assert_true(b.lo == RG_BAND_MIN && b.hi == RG_BAND_MAX);
    rg_band_failure(0, 0, 1e-3, log(40.0), PRIOR, &b);
    /* a share is at most 1: 1000 times a harmless share of 0.1% */
    assert_true(b.lo == RG_BAND_MIN && b.est < 0);
    assert_float_equal(b.hi, 1000.0, 1.0);
}

/* 200 runs of a stratum whose exposed windows are silent 3 times as often
 * as control ones (rho 1/11), looked at after every 10 silent windows up to
 * 400: the band at alpha 0.05 misses 3 at some look in at most alpha of
 * the runs (with slack for 200 runs), and it narrows. */
static void covers_the_truth_at_every_look(void **state)
{
    (void)state;
    const double theta = 3.0, rho = 1.0 / 11.0, thr = log(2.0 / 0.05);
    const double q = rho * theta / (1.0 + rho * (theta - 1.0));
    uint64_t seed = 7;
    int missed = 0;
    double width = 0;
    for (int run = 0; run < 200; run++) {
        rg_msprt_cell c = {.x = 0, .n = 0, .rho = rho};
        int miss = 0;
        rg_band b = {0};
        for (int i = 1; i <= 400; i++) {
            c.n++;
            c.x += unit(&seed) < q;
            if (i % 10)
                continue;
            rg_band_silence(&c, 1, thr, PRIOR, &b);
            miss |= b.lo > theta || b.hi < theta;
        }
        missed += miss;
        width += log(b.hi / b.lo) / 200.0;
    }
    assert_true(missed <= 20);
    assert_true(width < log(4.0)); /* 400 windows: within a factor 4 */
}

static void per_stratum_from_an_analysis(void **state)
{
    (void)state;
    rg_gate_params p;
    rg_gate_params_default(&p);
    rg_stratum_counts c[3] = {
        {.stratum = "a",
         .exposed = 50,
         .exposed_healthy = 30,
         .exposed_silent = 10,
         .control_windows = 500,
         .control_silent = 50},
        {.stratum = "a",
         .exposed = 10,
         .exposed_healthy = 10,
         .control_windows = 100,
         .control_silent = 10},
        {.stratum = "b",
         .exposed = 20,
         .exposed_healthy = 18,
         .exposed_failed = 2,
         .control_windows = 200},
    };
    rg_analysis a;
    assert_int_equal(rg_analyze(&p, c, 3, &a, NULL), 0);
    rg_band_stratum *b = NULL;
    assert_int_equal(rg_band_analysis(&a, &b), 2);
    assert_string_equal(b[0].stratum, "a");
    assert_int_equal(b[0].exposed_windows, 50);
    assert_int_equal(b[0].control_windows, 600);
    /* 10 of 50 exposed vs 60 of 600 control: twice as often */
    assert_float_equal(b[0].silence.est, 2.0, 1e-9);
    assert_float_equal(b[0].silence_llr, a.strata[0].silence_llr, 0);
    assert_true(b[0].silence.lo < 2.0 && b[0].silence.hi > 2.0);
    assert_string_equal(b[1].stratum, "b");
    assert_true(b[1].silence.est < 0); /* no control silence */
    assert_int_equal(b[1].trials, 20);
    assert_int_equal(b[1].failed, 2);
    assert_float_equal(b[1].failure.est, 0.1 / p.baseline_failure, 1e-9);
    assert_int_equal(b[1].failure.lo > 1.0,
                     rg_msprt_combine(a.strata[2].failure_llr, PRIOR) >=
                         a.halt_threshold);
    free(b);
    rg_analysis_release(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lower_edge_is_the_gate),
        cmocka_unit_test(no_evidence_is_unbounded),
        cmocka_unit_test(covers_the_truth_at_every_look),
        cmocka_unit_test(per_stratum_from_an_analysis),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
