/* Soak sees silence (issue 10; docs/health.md "Soak"): the shared tracker
 * (health/cohort.c) judges an exposure that reported healthy once more, on
 * a soak span at the end of the plan's soak, against its controls that
 * were heard in its first span and are still outside the rollout. A fleet
 * of 200 endpoints of one stratum checking in every 10 s; 50 exposed at
 * 1 s, healthy 5 s later (activation declared 30 s, W 60 s, soak 600 s):
 *  - exposed endpoints that go dark at 120 s while their controls keep
 *    checking in make every soak window silent against no silent control
 *    window, and the analyzer halts on that stratum;
 *  - the same fleet with the exposed endpoints checking in passes;
 *  - a control the rollout assigned since its draw is left out of the soak
 *    span, and an endpoint that reported a failure counts once (by its
 *    report), not again as a silent soak window.
 * ctest-labels: canary */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "health/analyzer.h"
#include "health/cohort.h"

#include <stdio.h>
#include <string.h>

#define N 200
#define EXPOSED 50
#define EVERY_MS 10000
#define APPLY_MS 1000

typedef struct fleet {
    int64_t now;
    int64_t dark_from; /* exposed endpoints stop checking in (0: never) */
    bool assigned[N];  /* in the rollout */
    bool failed[N];    /* reported a failure */
    int64_t last[N], prev[N];
} fleet;

static bool is_exposed(uint32_t i)
{
    return i < EXPOSED;
}

/* Everyone checks in every EVERY_MS (phase by index), but the exposed
 * ones that went dark. */
static void advance(fleet *f, int64_t to)
{
    for (; f->now < to; f->now += 1000)
        for (uint32_t i = 0; i < N; i++) {
            bool dark = is_exposed(i) && f->dark_from && f->now >= f->dark_from;
            if (!dark && f->now % EVERY_MS == (int64_t)(i % 10) * 1000) {
                f->prev[i] = f->last[i];
                f->last[i] = f->now;
            }
        }
}

static int seen(void *ctx, uint32_t ref, rg_cohort_seen *out)
{
    const fleet *f = ctx;
    *out = (rg_cohort_seen){
        .last_ms = f->last[ref],
        .prev_ms = f->prev[ref],
        .healthy_ms = is_exposed(ref) && !f->failed[ref] ? APPLY_MS + 5000 : 0,
        .failed = f->failed[ref],
        .in_rollout = f->assigned[ref]};
    return 0;
}

static int contacts(void *ctx, uint32_t ref, int64_t *last_ms, int64_t *prev_ms)
{
    const fleet *f = ctx;
    *last_ms = f->last[ref];
    *prev_ms = f->prev[ref];
    return 0;
}

/* Runs the fleet for 700 s (ticks every 5 s), analyses the tracker's
 * entries into *a and returns the stratum's totals over its periods.
 * extra: called once at 200 s (after the first spans ended). */
static rg_stratum_evidence run(fleet *f, void (*extra)(fleet *), rg_analysis *a)
{
    static rg_cohort_member m[N];
    char id[16];
    for (uint32_t i = 0; i < N; i++) {
        snprintf(id, sizeof id, "ep-%u", i);
        m[i] = (rg_cohort_member){.key = rg_cohort_key(id), .ref = i};
        f->assigned[i] = is_exposed(i);
    }
    rg_cohort *t = rg_cohort_new(1);
    assert_non_null(t);
    rg_silence_params sp;
    rg_silence_params_default(&sp);
    rg_cohort_activation(t, &sp, 30000);
    rg_cohort_soak(t, 600000);
    rg_cohort_wave(t, 0);
    rg_cohort_src src = {.ctx = f, .seen = seen, .contacts = contacts};
    advance(f, APPLY_MS + 1000);
    rg_cohort_members(t, m, N, 1);
    for (uint32_t i = 0; i < EXPOSED; i++)
        assert_int_equal(rg_cohort_expose(t, &src, i, m[i].key, 0, APPLY_MS,
                                          60000, EVERY_MS, f->now),
                         0);
    for (int64_t at = 5000; at <= 700000; at += 5000) {
        advance(f, at);
        if (at == 200000 && extra) {
            extra(f);
            for (uint32_t i = 0; i < N; i++) /* handed over as reported */
                if (f->failed[i])
                    rg_cohort_failed(t, 0, APPLY_MS);
        }
        assert_int_equal(rg_cohort_tick(t, &src, at), 0);
        /* the soak spans [541 s, 601 s) are resolved at the 605 s tick */
        assert_true(rg_cohort_soaking(t, at) == (at < 605000));
    }
    const char *names[] = {"mac"};
    static rg_stratum_counts e[64];
    size_t n = rg_cohort_entries(t, names, 1, e, 64);
    assert_true(n > 0);
    rg_gate_params p;
    rg_gate_params_default(&p);
    rg_err err;
    rg_err_clear(&err);
    assert_int_equal(rg_analyze(&p, e, n, a, &err), 0);
    rg_stratum_evidence tot;
    assert_int_equal(rg_analysis_stratum(a, 0, &tot), n);
    rg_cohort_free(t);
    return tot;
}

static void dark_after_healthy_halts(void **state)
{
    (void)state;
    fleet f = {.dark_from = 120000};
    rg_analysis a;
    rg_stratum_evidence t = run(&f, NULL, &a);
    /* first spans healthy, soak spans silent */
    assert_int_equal(t.exposed_healthy, EXPOSED);
    assert_int_equal(t.exposed_silent, EXPOSED);
    assert_true(t.control_windows > EXPOSED);
    assert_int_equal(t.control_silent, 0);
    assert_int_equal(a.verdict, RG_VERDICT_HALT);
    rg_analysis_release(&a);
}

static void checking_in_passes(void **state)
{
    (void)state;
    fleet f = {0};
    rg_analysis a;
    rg_stratum_evidence t = run(&f, NULL, &a);
    assert_int_equal(t.exposed_healthy, 2 * EXPOSED);
    assert_int_equal(t.exposed_silent, 0);
    assert_int_not_equal(a.verdict, RG_VERDICT_HALT);
    rg_analysis_release(&a);
}

/* At 200 s: every control is assigned, and 10 exposed endpoints report a
 * failure. */
static void assign_and_fail(fleet *f)
{
    for (uint32_t i = 0; i < N; i++)
        f->assigned[i] = true;
    for (uint32_t i = 0; i < 10; i++)
        f->failed[i] = true;
}

static void assigned_controls_and_failures_left_out(void **state)
{
    (void)state;
    fleet f = {.dark_from = 120000};
    rg_analysis a;
    rg_stratum_evidence t = run(&f, assign_and_fail, &a);
    /* soak spans of the 40 not failed, without controls: their silence
     * says nothing (no comparable endpoint left); the failures count once
     * each, by their reports */
    assert_int_equal(t.exposed_healthy, EXPOSED);
    assert_int_equal(t.exposed_silent, EXPOSED - 10);
    assert_int_equal(t.exposed_failed + t.early_failed, 10);
    assert_true(t.silence_llr <= 0.0);
    rg_analysis_release(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dark_after_healthy_halts),
        cmocka_unit_test(checking_in_passes),
        cmocka_unit_test(assigned_controls_and_failures_left_out),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
