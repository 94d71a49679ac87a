/* Unit tests for src/health/band.c: the excess silence band inverts the
 * gate's own matched-set e-process (its lower edge exceeds min_effect
 * exactly when the gate's silence statistic reaches the halt threshold,
 * at every evaluation of a recorded rollout as on made-up counts), both
 * bands cover the truth at every look in all but about alpha of the runs,
 * are unbounded without evidence, and are computed per stratum from an
 * analysis.
 * ctest-labels: web */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "health/analyzer.h"
#include "health/band.h"
#include "health/msprt.h"
#include "support/scale.h"
#include "support/sets.h"
#include "support/simrun.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PRIOR RG_MSPRT_STRATUM_PRIOR
#define DELTA 0.01
#define K 10 /* controls per matched set */

/* splitmix64, seeded per test. */
static double unit(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

/* One matched set into t: the exposed window silent with chance pe, each
 * of K controls with chance pc. */
static void draw_set(uint64_t *r, rg_msprt_sets *t, double pe, double pc)
{
    uint32_t s = 0;
    for (int j = 0; j < K; j++)
        s += unit(r) < pc;
    rg_msprt_sets_count(t, unit(r) < pe, K, s, 1);
}

static void lower_edge_is_the_gate(void **state)
{
    (void)state;
    double thr = log(2.0 / 1e-3);
    rg_msprt_sets none = {0};
    int halts = 0;
    for (uint64_t x = 0; x <= 40; x++) {
        rg_msprt_sets t = {0}; /* 40 windows, 1 of 10 controls silent */
        rg_msprt_sets_count(&t, true, K, 1, x);
        rg_msprt_sets_count(&t, false, K, 1, 40 - x);
        rg_band b;
        rg_band_silence(&t, &none, DELTA, thr, PRIOR, 0.0, &b);
        int gate = rg_msprt_combine(rg_msprt_silence_halt(&t, &none, DELTA),
                                    PRIOR) >= thr;
        assert_int_equal(b.lo > DELTA, gate);
        assert_true(0.0 <= b.lo && b.lo <= b.hi && b.hi <= 1.0);
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
    rg_msprt_sets none = {0};
    rg_band_silence(&none, &none, DELTA, log(40.0), PRIOR, 0.0, &b);
    assert_true(b.lo == 0.0 && b.hi == 1.0);
    rg_band_failure(0, 0, 1e-3, log(40.0), PRIOR, &b);
    /* a share is at most 1: 1000 times a harmless share of 0.1% */
    assert_true(b.lo == RG_BAND_MIN && b.est < 0);
    assert_float_equal(b.hi, 1000.0, 1.0);
}

/* 200 runs of a stratum whose exposed windows are silent 5 points more
 * often than their controls (10 % of them silent), looked at after every
 * 10 windows up to 400: the band at alpha 0.05 misses 0.05 at some look
 * in at most alpha of the runs (with slack for 200 runs), and it
 * narrows. */
static void covers_the_truth_at_every_look(void **state)
{
    (void)state;
    const double excess = 0.05, pc = 0.1, thr = log(2.0 / 0.05);
    const int runs = RG_TEST_SIZE(200, 50);
    uint64_t seed = 7;
    int missed = 0;
    double width = 0;
    rg_msprt_sets none = {0};
    for (int run = 0; run < runs; run++) {
        rg_msprt_sets t = {0};
        int miss = 0;
        rg_band b = {0};
        for (int i = 1; i <= 400; i++) {
            draw_set(&seed, &t, pc + excess, pc);
            if (i % 10)
                continue;
            rg_band_silence(&t, &none, DELTA, thr, PRIOR, 0.0, &b);
            miss |= b.lo > excess || b.hi < excess;
        }
        missed += miss;
        width += (b.hi - b.lo) / runs;
    }
    assert_true(missed <= runs / 10);
    assert_true(width < 0.25); /* 400 windows: within 25 points */
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
    rg_test_fill_sets(c, 3);
    rg_analysis a;
    assert_int_equal(rg_analyze(&p, c, 3, &a, NULL), 0);
    rg_band_stratum *b = NULL;
    assert_int_equal(rg_band_analysis(&a, &b), 2);
    assert_string_equal(b[0].stratum, "a");
    assert_int_equal(b[0].exposed_windows, 50);
    assert_int_equal(b[0].exposed_silent, 10);
    /* 10 of 50 exposed (20 %) vs 10 % of their controls */
    assert_float_equal(b[0].silence.est, 0.1, 1e-9);
    assert_float_equal(b[0].min_effect, p.min_effect, 0);
    assert_float_equal(b[0].silence_llr, a.strata[0].silence_llr, 0);
    assert_true(b[0].silence.lo < 0.1 && b[0].silence.hi > 0.1);
    assert_string_equal(b[1].stratum, "b");
    assert_float_equal(b[1].silence.est, 0.0, 1e-9); /* none silent */
    assert_int_equal(b[1].trials, 20);
    assert_int_equal(b[1].failed, 2);
    assert_float_equal(b[1].failure.est, 0.1 / p.baseline_failure, 1e-9);
    assert_int_equal(b[1].failure.lo > 1.0,
                     rg_msprt_combine(a.strata[2].failure_llr, PRIOR) >=
                         a.halt_threshold);
    free(b);
    rg_analysis_release(&a);
}

/* A rollout whose windows-10 endpoints go dark for good one time in two
 * after activation (no check-in, no report), recorded by rollgate-sim. */
static const char *const DARK =
    "{\"name\": \"band-dark\", \"seed\": 1, \"duration_s\": 10800, "
    "\"fleet\": {\"endpoints\": 20000, \"heartbeat_interval_s\": 60, "
    "\"internal\": 40, \"strata\": [{\"name\": \"win10\", \"share\": 0.5}, "
    "{\"name\": \"mac\", \"share\": 0.3}, {\"name\": \"linux\", \"share\": "
    "0.2}]}, \"loss\": {\"independent\": 0.05, \"offline_share\": 0.05}, "
    "\"release\": {\"plan\": \"standard\", \"apply_latency_s\": [5, 60]}, "
    "\"faults\": [{\"stratum\": \"win10\", \"hang\": 0.5}]}";

typedef struct recorded {
    const rg_plan *plan;
    int evaluations, halt_at; /* the gate's first halt, -1: none */
    int crossed_at;           /* the first lower edge above delta */
} recorded;

/* The gate's parameters of its per-stratum analysis for wave w of plan
 * (health/gate.c: half the wave's alpha, the other half the pooled
 * test's; the silence halt statistic reads none of the others). */
static void wave_params(const rg_wave *w, rg_gate_params *p)
{
    rg_gate_params_default(p);
    p->alpha = w->alpha / 2.0;
    p->beta = w->beta;
    p->tolerated_excess = w->tolerated_excess;
    p->min_effect = w->min_effect;
    p->window_ms = w->window_ms;
}

/* At one evaluation: with at most one stratum leaning towards excess
 * silence (factor above 0), a stratum's lower edge exceeds delta exactly
 * when it leans and the gate's silence statistic reaches the threshold;
 * with more, never before the gate's statistic does. The first crossing
 * and the gate's first halt are noted. */
static void check_tick(void *ctx, const rg_sim_tick *t)
{
    recorded *r = ctx;
    rg_gate_params p;
    rg_analysis a;
    rg_band_stratum *b = NULL;
    wave_params(&r->plan->waves[t->wave], &p);
    assert_int_equal(rg_analyze(&p, t->entries, t->n_entries, &a, NULL), 0);
    long n = rg_band_analysis(&a, &b);
    assert_true(n >= 0);
    int leaning = 0;
    bool crossed = false, halts = a.silence_halt_llr >= a.halt_threshold;
    for (long i = 0; i < n; i++)
        leaning += b[i].silence_llr > 0.0;
    for (long i = 0; i < n; i++) {
        bool lo = b[i].silence.lo > p.min_effect;
        if (leaning <= 1)
            assert_int_equal(lo, halts && b[i].silence_llr > 0.0);
        else
            assert_true(!lo || halts);
        crossed |= lo;
        assert_true(b[i].silence.lo <= b[i].silence.hi);
    }
    if (crossed && r->crossed_at < 0)
        r->crossed_at = r->evaluations;
    if (t->verdict == RG_VERDICT_HALT && r->halt_at < 0) {
        r->halt_at = r->evaluations;
        assert_true(a.silence_halt_llr >= a.halt_threshold); /* on silence */
    }
    r->evaluations++;
    free(b);
    rg_analysis_release(&a);
}

static void recorded_rollout_crosses_at_the_halt(void **state)
{
    (void)state;
    rg_scenario sc = rg_test_scenario(DARK);
    recorded r = {.plan = &sc.plan, .halt_at = -1, .crossed_at = -1};
    rg_sim_result res = rg_test_sim_run_ticks(&sc, 0, check_tick, &r);
    print_message("%d evaluations; the gate halted at the %d-th, the band "
                  "crossed min_effect at the %d-th\n",
                  r.evaluations, r.halt_at, r.crossed_at);
    assert_true(res.halted);
    assert_true(r.halt_at > 0);
    assert_int_equal(r.crossed_at, r.halt_at);
    rg_sim_result_release(&res);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lower_edge_is_the_gate),
        cmocka_unit_test(no_evidence_is_unbounded),
        cmocka_unit_test(covers_the_truth_at_every_look),
        cmocka_unit_test(per_stratum_from_an_analysis),
        cmocka_unit_test(recorded_rollout_crosses_at_the_halt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
