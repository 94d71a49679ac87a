/* Unit tests for src/health/gate.c: the health gate as the state machine
 * calls it (verdicts combined with min/max bake, the small-wave rule, the
 * pooled analysis), its evidence record, and its use by rg_rollout_tick.
 * ctest-labels: canary */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/err.h"
#include "health/analyzer.h"
#include "health/evidence.h"
#include "health/gate.h"
#include "support/sets.h"
#include "model/bucket.h"
#include "model/plan.h"
#include "model/rollout.h"

#include <stdlib.h>
#include <string.h>

#define MIN_MS (60 * 1000)

/* A standard-plan wave: 10 min bake and W, no max bake. */
static rg_wave wave_std(void)
{
    rg_plan p;
    assert_int_equal(rg_plan_builtin("standard", &p, NULL), 0);
    return p.waves[3]; /* 10%: min bake 20 min */
}

static rg_wave_counts counts_for(const rg_stratum_counts *s, size_t n,
                                 uint64_t targeted)
{
    rg_wave_counts c = {.fleet = 1000000, .targeted = targeted};
    for (size_t i = 0; i < n; i++) {
        c.exposed += s[i].exposed;
        c.healthy += s[i].exposed_healthy;
        c.failed += s[i].exposed_failed;
        c.silent += s[i].exposed_silent;
    }
    return c;
}

/* Runs the gate on n strata; returns the verdict, fills *out. */
static int run_gate(const rg_wave *w, const rg_stratum_counts *s, size_t n,
                    uint64_t targeted, int64_t elapsed_ms, rg_gate_result *out)
{
    rg_stratum_counts *in = n ? calloc(n, sizeof *in) : NULL;
    assert_true(n == 0 || in);
    if (n)
        memcpy(in, s, n * sizeof *in);
    rg_test_fill_sets(in, n);
    rg_health_gate_ctx ctx = {.strata = in, .n_strata = n};
    rg_wave_counts c = counts_for(in, n, targeted);
    rg_err err;
    assert_int_equal(rg_health_gate(w, &c, elapsed_ms, &ctx, out, &err), 0);
    assert_non_null(out->evidence);
    free(in);
    return out->verdict;
}

static const char *rule_of(const rg_gate_result *r)
{
    return json_string_value(json_object_get(r->evidence, "rule"));
}

/* Two healthy strata with plenty of evidence: the analyzer passes. */
static const rg_stratum_counts healthy2[] = {
    {"win10-x64",
     2000,
     1990,
     0,
     10,
     20000,
     200,
     0,
     0,
     0,
     {{0}, {0}},
     {{0}, {0}}},
    {"ubuntu22-x64",
     1500,
     1493,
     0,
     7,
     15000,
     150,
     0,
     0,
     0,
     {{0}, {0}},
     {{0}, {0}}},
};

/* One stratum crashing: every exposed window silent. */
static const rg_stratum_counts crashing[] = {
    {"win10-x64", 8, 0, 0, 8, 128, 0, 0, 0, 0, {{0}, {0}}, {{0}, {0}}},
    {"ubuntu22-x64", 300, 300, 0, 0, 4800, 10, 0, 0, 0, {{0}, {0}}, {{0}, {0}}},
};

static void test_halt_ignores_min_bake(void **state)
{
    (void)state;
    rg_wave w = wave_std();
    rg_gate_result r;
    assert_int_equal(run_gate(&w, crashing, 2, 5000, 0, &r), RG_VERDICT_HALT);
    assert_string_equal(rule_of(&r), "analyzer");
    assert_non_null(strstr(r.reason, "win10-x64"));
    rg_gate_result_release(&r);
}

static void test_pass_waits_for_min_bake(void **state)
{
    (void)state;
    rg_wave w = wave_std();
    rg_gate_result r;
    assert_int_equal(run_gate(&w, healthy2, 2, 5000, w.min_bake_ms - 1, &r),
                     RG_VERDICT_CONTINUE);
    assert_string_equal(rule_of(&r), "min_bake");
    assert_non_null(strstr(r.reason, "baking"));
    rg_gate_result_release(&r);
    assert_int_equal(run_gate(&w, healthy2, 2, 5000, w.min_bake_ms, &r),
                     RG_VERDICT_PASS);
    assert_string_equal(rule_of(&r), "analyzer");
    rg_gate_result_release(&r);
}

static void test_emergency_passes_at_once(void **state)
{
    (void)state;
    rg_plan p;
    assert_int_equal(rg_plan_builtin("emergency", &p, NULL), 0);
    rg_gate_result r;
    assert_int_equal(run_gate(&p.waves[1], healthy2, 2, 5000, 0, &r),
                     RG_VERDICT_PASS);
    rg_gate_result_release(&r);
}

/* Too little evidence to pass, nothing against: continue until max bake,
 * then pass; with a stratum leaning towards excess: hold. */
static void test_max_bake(void **state)
{
    (void)state;
    rg_wave w = wave_std();
    w.max_bake_ms = 60 * MIN_MS;
    /* 200 windows ended (too few to pass), 200 still pending. */
    const rg_stratum_counts thin[] = {{"win10-x64",
                                       400,
                                       200,
                                       0,
                                       0,
                                       2000,
                                       20,
                                       0,
                                       0,
                                       0,
                                       {{0}, {0}},
                                       {{0}, {0}}}};
    const rg_stratum_counts leaning[] = {{"win10-x64",
                                          400,
                                          190,
                                          0,
                                          10,
                                          2000,
                                          0,
                                          0,
                                          0,
                                          0,
                                          {{0}, {0}},
                                          {{0}, {0}}}};
    rg_gate_result r;
    assert_int_equal(run_gate(&w, thin, 1, 400, w.max_bake_ms - 1, &r),
                     RG_VERDICT_CONTINUE);
    rg_gate_result_release(&r);
    assert_int_equal(run_gate(&w, thin, 1, 400, w.max_bake_ms, &r),
                     RG_VERDICT_PASS);
    assert_string_equal(rule_of(&r), "max_bake");
    assert_non_null(
        strstr(r.reason, "max bake reached without evidence against"));
    rg_gate_result_release(&r);
    assert_int_equal(run_gate(&w, leaning, 1, 400, w.max_bake_ms, &r),
                     RG_VERDICT_HOLD);
    assert_string_equal(rule_of(&r), "max_bake");
    rg_gate_result_release(&r);
}

/* The verdict the evidence's "strata" gives stratum name, or NULL. */
static const char *stratum_verdict(const rg_gate_result *r, const char *name);

/* Internal ring: passes at max(min_bake, W) when clean; waits for its
 * windows; with failures leaning towards excess passes them on to the
 * next wave's failure test (holds in the last wave); passes when it
 * targets nobody. */
static void test_small_wave(void **state)
{
    (void)state;
    rg_plan p;
    assert_int_equal(rg_plan_builtin("emergency", &p, NULL), 0);
    rg_wave w = p.waves[0]; /* internal, no min bake, W = 3 min */
    const rg_stratum_counts clean[] = {
        {"win10-x64", 40, 40, 0, 0, 600, 3, 0, 0, 0, {{0}, {0}}, {{0}, {0}}}};
    const rg_stratum_counts pending[] = {
        {"win10-x64", 40, 30, 0, 0, 450, 2, 0, 0, 0, {{0}, {0}}, {{0}, {0}}}};
    const rg_stratum_counts dirty[] = {
        {"win10-x64", 40, 37, 3, 0, 600, 3, 0, 0, 0, {{0}, {0}}, {{0}, {0}}}};
    rg_gate_result r;

    assert_int_equal(run_gate(&w, clean, 1, 40, w.window_ms - 1, &r),
                     RG_VERDICT_CONTINUE);
    assert_string_equal(rule_of(&r), "small_wave");
    rg_gate_result_release(&r);
    assert_int_equal(run_gate(&w, clean, 1, 40, w.window_ms, &r),
                     RG_VERDICT_PASS);
    assert_string_equal(rule_of(&r), "small_wave");
    assert_true(json_is_true(
        json_object_get(json_object_get(r.evidence, "small_wave"), "small")));
    rg_gate_result_release(&r);
    assert_int_equal(run_gate(&w, pending, 1, 40, w.window_ms, &r),
                     RG_VERDICT_CONTINUE);
    assert_non_null(strstr(r.reason, "still within their window"));
    rg_gate_result_release(&r);
    /* 3 of 40 failed: the stratum leans towards excess failures and is
     * held alone at its budget; the failure test carries into the next
     * wave (in the last wave it holds the rollout). */
    assert_int_equal(run_gate(&w, dirty, 1, 40, w.window_ms, &r),
                     RG_VERDICT_PASS);
    assert_non_null(strstr(r.reason, "carries into the next wave"));
    assert_string_equal(stratum_verdict(&r, "win10-x64"), "hold");
    rg_gate_result_release(&r);
    rg_wave last = w;
    last.internal = false;
    last.share_ppm = RG_PPM;
    assert_int_equal(run_gate(&last, dirty, 1, 40, w.window_ms, &r),
                     RG_VERDICT_HOLD); /* the leaning stratum blocks it */
    assert_non_null(strstr(r.reason, "stratum 'win10-x64': leans towards "
                                     "excess"));
    assert_non_null(strstr(r.reason, "does not complete"));
    rg_gate_result_release(&r);
    assert_int_equal(run_gate(&w, NULL, 0, 0, w.window_ms, &r),
                     RG_VERDICT_PASS);
    rg_gate_result_release(&r);

    /* A non-internal wave below the statistical minimum is small too. */
    rg_wave w1 = p.waves[1];
    assert_int_equal(run_gate(&w1, clean, 1, 40, w1.window_ms, &r),
                     RG_VERDICT_PASS);
    assert_string_equal(rule_of(&r), "small_wave");
    rg_gate_result_release(&r);
}

/* A wave that targets nobody yet while the fleet has endpoints (none has
 * checked in since the wave began) waits for them, past its bake; only a
 * wave that can target nobody (empty target fleet, internal ring without
 * members) passes with no endpoints to test. */
static void test_nobody_checked_in_yet(void **state)
{
    (void)state;
    rg_plan p;
    assert_int_equal(rg_plan_builtin("emergency", &p, NULL), 0);
    rg_wave w1 = p.waves[1]; /* 1% */
    rg_health_gate_ctx ctx = {.strata = NULL, .n_strata = 0};
    rg_wave_counts c = {.fleet = 150, .targeted = 0};
    rg_gate_result r;
    rg_err err;
    assert_int_equal(rg_health_gate(&w1, &c, 10 * w1.window_ms, &ctx, &r, &err),
                     0);
    assert_int_equal(r.verdict, RG_VERDICT_CONTINUE);
    assert_non_null(strstr(r.reason, "has checked in since it began"));
    rg_gate_result_release(&r);
    c.fleet = 0;
    assert_int_equal(rg_health_gate(&w1, &c, w1.window_ms, &ctx, &r, &err), 0);
    assert_int_equal(r.verdict, RG_VERDICT_PASS);
    assert_non_null(strstr(r.reason, "no endpoints to test"));
    rg_gate_result_release(&r);
}

/* A wave just above the statistical minimum whose windows have all ended,
 * with a little harmless silence: the analyzer cannot decide, the
 * final-evidence rule passes it after its bake. With failures at the
 * analyzer's lean threshold in one stratum (within the tolerated share) it
 * passes too, saying the failure test carries into the next wave, except
 * in the last wave (nothing comes after it), where it holds. */
static void test_final_evidence(void **state)
{
    (void)state;
    rg_wave w = wave_std();
    const rg_stratum_counts quiet[] = {{"win10-x64",
                                        300,
                                        294,
                                        0,
                                        6,
                                        4800,
                                        60,
                                        0,
                                        0,
                                        0,
                                        {{0}, {0}},
                                        {{0}, {0}}}};
    const rg_stratum_counts failing[] = {{"win10-x64",
                                          300,
                                          295,
                                          5,
                                          0,
                                          4800,
                                          60,
                                          0,
                                          0,
                                          0,
                                          {{0}, {0}},
                                          {{0}, {0}}}};
    rg_gate_result r;
    assert_int_equal(run_gate(&w, quiet, 1, 300, w.min_bake_ms - 1, &r),
                     RG_VERDICT_CONTINUE);
    rg_gate_result_release(&r);
    assert_int_equal(run_gate(&w, quiet, 1, 300, w.min_bake_ms, &r),
                     RG_VERDICT_PASS);
    assert_string_equal(rule_of(&r), "final_evidence");
    rg_gate_result_release(&r);
    assert_int_equal(run_gate(&w, failing, 1, 300, w.min_bake_ms, &r),
                     RG_VERDICT_PASS);
    assert_string_equal(rule_of(&r), "final_evidence");
    assert_non_null(strstr(r.reason, "carries into the next wave"));
    rg_gate_result_release(&r);
    rg_wave last = w;
    last.share_ppm = RG_PPM;
    assert_int_equal(run_gate(&last, failing, 1, 300, w.min_bake_ms, &r),
                     RG_VERDICT_HOLD); /* the leaning stratum blocks it */
    assert_string_equal(rule_of(&r), "strata");
    assert_non_null(strstr(r.reason, "leans"));
    rg_gate_result_release(&r);
}

/* Failures accumulate over the rollout's waves: 3 of 300 failed windows in
 * this wave do not halt alone, but with 30 of 2000 failed in earlier waves
 * (prior_trials / prior_failed) they do; the evidence replays with them. */
static void test_failures_accumulate_across_waves(void **state)
{
    (void)state;
    rg_wave w = wave_std();
    rg_stratum_counts now[] = {{"win10-x64",
                                300,
                                297,
                                3,
                                0,
                                4800,
                                60,
                                0,
                                0,
                                0,
                                {{0}, {0}},
                                {{0}, {0}}}};
    rg_gate_result r;
    assert_int_equal(run_gate(&w, now, 1, 300, MIN_MS, &r),
                     RG_VERDICT_CONTINUE);
    rg_gate_result_release(&r);
    now[0].prior_trials = 2000;
    now[0].prior_failed = 30;
    assert_int_equal(run_gate(&w, now, 1, 300, MIN_MS, &r), RG_VERDICT_HALT);
    assert_non_null(strstr(r.reason, "earlier ones"));
    rg_analysis a;
    json_t *an = json_object_get(r.evidence, "pooled");
    assert_int_equal(rg_analyzer_replay(an, &a, NULL), 0);
    assert_int_equal(a.strata[0].prior_failed, 30);
    rg_analysis_release(&a);
    rg_gate_result_release(&r);
}

/* 0.8% failures in each of four strata: too weak per stratum, but the
 * pooled test halts. */
static void test_pooled_halts_spread_failures(void **state)
{
    (void)state;
    rg_wave w = wave_std();
    const rg_stratum_counts spread[] = {
        {"a", 500, 496, 4, 0, 5000, 50, 0, 0, 0, {{0}, {0}}, {{0}, {0}}},
        {"b", 500, 496, 4, 0, 5000, 50, 0, 0, 0, {{0}, {0}}, {{0}, {0}}},
        {"c", 500, 496, 4, 0, 5000, 50, 0, 0, 0, {{0}, {0}}, {{0}, {0}}},
        {"d", 500, 496, 4, 0, 5000, 50, 0, 0, 0, {{0}, {0}}, {{0}, {0}}},
    };
    rg_gate_params p;
    rg_gate_params_default(&p);
    p.alpha = w.alpha / 2.0;
    rg_analysis a;
    assert_int_equal(rg_analyze(&p, spread, 4, &a, NULL), 0);
    assert_int_not_equal(a.verdict, RG_VERDICT_HALT);
    rg_analysis_release(&a);

    rg_gate_result r;
    assert_int_equal(run_gate(&w, spread, 4, 2000, 0, &r), RG_VERDICT_HALT);
    assert_non_null(strstr(r.reason, RG_HEALTH_GATE_POOLED));
    json_t *pooled = json_object_get(r.evidence, "pooled");
    assert_string_equal(json_string_value(json_object_get(pooled, "verdict")),
                        "halt");
    rg_gate_result_release(&r);
}

/* Five silent windows of 60 (8 % against 0 %) lean a small stratum
 * above 0 (one, or three, stay within the minimum effect); the gate
 * passes anyway while that stays below log(1/beta). */
static void test_slight_lean_does_not_block(void **state)
{
    (void)state;
    rg_wave w = wave_std();
    rg_stratum_counts s[] = {
        {"win10-x64",
         3000,
         3000,
         0,
         0,
         48000,
         100,
         0,
         0,
         0,
         {{0}, {0}},
         {{0}, {0}}},
        {"macos14-arm64",
         60,
         55,
         0,
         5,
         960,
         0,
         0,
         0,
         0,
         {{0}, {0}},
         {{0}, {0}}},
    };
    rg_test_fill_sets(s, 2);
    rg_gate_params p;
    rg_gate_params_default(&p);
    p.alpha = w.alpha / 2.0;
    rg_analysis a;
    assert_int_equal(rg_analyze(&p, s, 2, &a, NULL), 0);
    assert_int_equal(a.verdict, RG_VERDICT_CONTINUE);
    assert_true(a.strata[1].silence_llr > 0.0);
    assert_true(a.strata[1].silence_llr < a.pass_threshold);
    rg_analysis_release(&a);

    rg_gate_result r;
    assert_int_equal(run_gate(&w, s, 2, 3060, w.min_bake_ms, &r),
                     RG_VERDICT_PASS);
    assert_non_null(strstr(r.reason, "leans"));
    rg_gate_result_release(&r);
}

/* The evidence names the rule, the bake and both analyses, and each
 * analysis replays to its verdict. */
static void test_evidence_replays(void **state)
{
    (void)state;
    rg_wave w = wave_std();
    rg_gate_result r;
    assert_int_equal(run_gate(&w, crashing, 2, 5000, 1234, &r),
                     RG_VERDICT_HALT);
    json_t *e = r.evidence;
    assert_string_equal(json_string_value(json_object_get(e, "gate")),
                        "health");
    json_t *bake = json_object_get(e, "bake");
    assert_int_equal(json_integer_value(json_object_get(bake, "elapsed_ms")),
                     1234);
    assert_int_equal(json_integer_value(json_object_get(bake, "min_bake_ms")),
                     w.min_bake_ms);
    const char *names[] = {"analysis", "pooled"};
    for (size_t i = 0; i < 2; i++) {
        rg_analysis a;
        rg_err err;
        assert_int_equal(
            rg_analyzer_replay(json_object_get(e, names[i]), &a, &err), 0);
        assert_true(a.params.alpha == w.alpha / 2.0);
        rg_analysis_release(&a);
    }
    rg_gate_result_release(&r);
}

static void test_min_passable(void **state)
{
    (void)state;
    rg_gate_params p;
    rg_gate_params_default(&p);
    uint64_t n = rg_health_gate_min_passable(&p);
    assert_true(n > 1 && n < 100000);
    rg_stratum_counts c = {"x", n, n, 0, 0,          10 * n,
                           0,   0, 0, 0, {{0}, {0}}, {{0}, {0}}};
    rg_analysis a;
    assert_int_equal(rg_analyze(&p, &c, 1, &a, NULL), 0);
    assert_int_equal(a.verdict, RG_VERDICT_PASS);
    rg_analysis_release(&a);
    c.exposed = c.exposed_healthy = n - 1;
    c.control_windows = 10 * (n - 1);
    assert_int_equal(rg_analyze(&p, &c, 1, &a, NULL), 0);
    assert_int_equal(a.verdict, RG_VERDICT_CONTINUE);
    rg_analysis_release(&a);
    p.alpha = 0.0;
    assert_int_equal(rg_health_gate_min_passable(&p), 0);
}

static void test_bad_input(void **state)
{
    (void)state;
    rg_wave w = wave_std();
    rg_wave_counts c = {.fleet = 10};
    rg_gate_result r;
    rg_err err;
    assert_int_equal(rg_health_gate(&w, &c, 0, NULL, &r, &err), RG_EINVAL);
    assert_null(r.evidence);
    const rg_stratum_counts bad[] = {
        {"x", 1, 2, 0, 0, 0, 0, 0, 0, 0, {{0}, {0}}, {{0}, {0}}}};
    rg_health_gate_ctx ctx = {.strata = bad, .n_strata = 1};
    assert_int_equal(rg_health_gate(&w, &c, 0, &ctx, &r, &err), RG_EINVAL);
    assert_null(r.evidence);
    assert_string_equal(err.field, "strata[0].exposed_healthy");
}

/* The verdict the evidence's "strata" gives stratum name, or NULL. */
static const char *stratum_verdict(const rg_gate_result *r, const char *name)
{
    size_t i;
    json_t *e;
    json_array_foreach(
        json_object_get(r->evidence, "strata"), i,
        e) if (strcmp(json_string_value(json_object_get(e, "name")), name) ==
               0) return json_string_value(json_object_get(e, "verdict"));
    return NULL;
}

/* Per-stratum verdicts (gate.h "strata"): the crashing stratum halts with
 * plain words, the healthy one passes; pending while windows are open;
 * hold when resolved without a healthy report; a halt of the pooled test
 * alone halts every exposed stratum. */
static void test_strata_verdicts(void **state)
{
    (void)state;
    rg_wave w = wave_std();
    rg_gate_result r;
    assert_int_equal(run_gate(&w, crashing, 2, 5000, 0, &r), RG_VERDICT_HALT);
    assert_string_equal(stratum_verdict(&r, "win10-x64"), "halt");
    assert_string_equal(stratum_verdict(&r, "ubuntu22-x64"), "pass");
    const json_t *e0 = json_array_get(json_object_get(r.evidence, "strata"), 0);
    assert_string_equal(json_string_value(json_object_get(e0, "reason")),
                        "8 of 8 exposed endpoints went silent after applying "
                        "while 0 % of comparable endpoints did");
    rg_gate_result_release(&r);

    const rg_stratum_counts open[] = {
        {"win10-x64",
         3,
         0,
         0,
         0,
         30,
         0,
         0,
         0,
         0,
         {{0}, {0}},
         {{0}, {0}}}, /* all
             in their
             window */
        {"ubuntu22-x64",
         2,
         0,
         0,
         2,
         20,
         2,
         0,
         0,
         0,
         {{0}, {0}},
         {{0}, {0}}}, /* resolved,
             none
             healthy */
        {"macos14-arm64", 4, 4, 0, 0, 40, 0, 0, 0, 0, {{0}, {0}}, {{0}, {0}}},
    };
    run_gate(&w, open, 3, 9, 0, &r);
    assert_string_equal(stratum_verdict(&r, "win10-x64"), "pending");
    assert_string_equal(stratum_verdict(&r, "ubuntu22-x64"), "hold");
    /* 4 healthy windows do not yet reject "broken" (resolve.h): held. */
    assert_string_equal(stratum_verdict(&r, "macos14-arm64"), "hold");
    rg_gate_result_release(&r);
    const rg_stratum_counts more[] = {
        {"macos14-arm64", 8, 8, 0, 0, 80, 0, 0, 0, 0, {{0}, {0}}, {{0}, {0}}}};
    run_gate(&w, more, 1, 8, 0, &r);
    assert_string_equal(stratum_verdict(&r, "macos14-arm64"), "pass");
    rg_gate_result_release(&r);

    /* One failure in 60 in each of 40 strata: only the pooled test halts,
     * and its evidence is about every stratum. */
    static rg_stratum_counts spread[40];
    static char names[40][16];
    for (int i = 0; i < 40; i++) {
        snprintf(names[i], sizeof names[i], "s%02d", i);
        spread[i] = (rg_stratum_counts){
            names[i], 60, 59, 1, 0, 600, 0, 0, 0, 0, {{0}, {0}}, {{0}, {0}}};
    }
    assert_int_equal(run_gate(&w, spread, 40, 2400, 0, &r), RG_VERDICT_HALT);
    assert_non_null(strstr(r.reason, RG_HEALTH_GATE_POOLED));
    for (int i = 0; i < 40; i++)
        assert_string_equal(stratum_verdict(&r, names[i]), "halt");
    rg_gate_result_release(&r);
}

/* Small waves by statistics (issue 10, cause 6): 2 exposed internal
 * hosts, one dark and one never healthy (both silent at the end of their
 * windows) while comparable endpoints are heard: no healthy evidence and
 * the stratum leans towards excess, so the wave does not pass; after its
 * bake the gate holds the rollout and says why. With one still in its
 * window it waits and says so; with both reporting a crash it halts. (The
 * count rules passed "0 of 2 healthy, 1 silent".) */
static void test_two_internal_hosts(void **state)
{
    (void)state;
    rg_plan p;
    assert_int_equal(rg_plan_builtin("standard", &p, NULL), 0);
    rg_wave w = p.waves[0];
    rg_stratum_counts dark[] = {
        {"win10-x64", 2, 0, 0, 2, 32, 0, 0, 0, 0, {{0}, {0}}, {{0}, {0}}}};
    const rg_stratum_counts open[] = {
        {"win10-x64", 2, 0, 0, 1, 16, 0, 0, 0, 0, {{0}, {0}}, {{0}, {0}}}};
    rg_gate_result r;
    assert_int_equal(run_gate(&w, dark, 1, 2, w.min_bake_ms - 1, &r),
                     RG_VERDICT_CONTINUE);
    rg_gate_result_release(&r);
    assert_int_equal(run_gate(&w, dark, 1, 2, w.min_bake_ms, &r),
                     RG_VERDICT_HOLD);
    assert_non_null(strstr(r.reason, "none of its 2 exposed endpoints is "
                                     "healthy (2 silent while 0 % of "
                                     "comparable endpoints were"));
    assert_string_equal(stratum_verdict(&r, "win10-x64"), "hold");
    rg_gate_result_release(&r);
    assert_int_equal(run_gate(&w, open, 1, 2, w.min_bake_ms, &r),
                     RG_VERDICT_CONTINUE);
    assert_non_null(strstr(r.reason, "1 of 2 exposed endpoints still within"));
    rg_gate_result_release(&r);
    dark[0].exposed_silent = 0;
    dark[0].exposed_failed = 2;
    assert_int_equal(run_gate(&w, dark, 1, 2, w.min_bake_ms, &r),
                     RG_VERDICT_HOLD);
    assert_non_null(strstr(r.reason, "0 silent while 0 % of comparable "
                                     "endpoints were, 2 failed"));
    rg_gate_result_release(&r);
}

/* A small stratum whose every exposed window went silent while its
 * controls were heard holds the wave however healthy the rest is: a
 * wave passes only when each exposed stratum is resolved or held alone.
 * A small stratum with healthy windows but too few to clear it is held
 * alone and the wave passes. */
static void test_small_stratum_blocks_wave(void **state)
{
    (void)state;
    rg_plan p;
    assert_int_equal(rg_plan_builtin("emergency", &p, NULL), 0);
    rg_wave w = p.waves[1];
    rg_stratum_counts s[] = {
        healthy2[0],
        healthy2[1],
        {"win11-arm64", 3, 0, 0, 3, 48, 0, 0, 0, 0, {{0}, {0}}, {{0}, {0}}},
    };
    rg_gate_result r;
    assert_int_equal(run_gate(&w, s, 3, 5000, w.window_ms, &r),
                     RG_VERDICT_HOLD);
    assert_non_null(strstr(r.reason, "'win11-arm64'"));
    rg_gate_result_release(&r);
    s[2].exposed_silent = 1;
    s[2].exposed_healthy = 2;
    assert_int_equal(run_gate(&w, s, 3, 5000, w.window_ms, &r),
                     RG_VERDICT_PASS);
    assert_string_equal(stratum_verdict(&r, "win11-arm64"), "hold");
    assert_non_null(strstr(r.reason, "held alone: 'win11-arm64'"));
    rg_gate_result_release(&r);
}

/* The state machine drives the gate: a crashing stratum halts a running
 * standard rollout in its internal wave. */
static void test_rollout_tick_halts(void **state)
{
    (void)state;
    rg_plan p;
    assert_int_equal(rg_plan_builtin("standard", &p, NULL), 0);
    rg_rollout_status cur = {
        .state = RG_RO_RUNNING, .wave = 0, .wave_started_ms = 0};
    rg_stratum_counts in[2];
    memcpy(in, crashing, sizeof in);
    rg_test_fill_sets(in, 2);
    rg_health_gate_ctx ctx = {.strata = in, .n_strata = 2};
    rg_wave_counts c = counts_for(in, 2, 308);
    rg_rollout_status next;
    rg_transition tr;
    rg_gate_result g;
    rg_err err;
    assert_int_equal(rg_rollout_tick(&p, &cur, &c, rg_health_gate, &ctx, 60000,
                                     &next, &tr, &g, &err),
                     1);
    assert_int_equal(next.state, RG_RO_HALTED);
    assert_non_null(strstr(tr.reason, "halted (reverting"));
    rg_gate_result_release(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_halt_ignores_min_bake),
        cmocka_unit_test(test_pass_waits_for_min_bake),
        cmocka_unit_test(test_emergency_passes_at_once),
        cmocka_unit_test(test_max_bake),
        cmocka_unit_test(test_small_wave),
        cmocka_unit_test(test_nobody_checked_in_yet),
        cmocka_unit_test(test_final_evidence),
        cmocka_unit_test(test_failures_accumulate_across_waves),
        cmocka_unit_test(test_pooled_halts_spread_failures),
        cmocka_unit_test(test_slight_lean_does_not_block),
        cmocka_unit_test(test_evidence_replays),
        cmocka_unit_test(test_min_passable),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_rollout_tick_halts),
        cmocka_unit_test(test_strata_verdicts),
        cmocka_unit_test(test_two_internal_hosts),
        cmocka_unit_test(test_small_stratum_blocks_wave),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
