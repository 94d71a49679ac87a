/* Unit tests for the counting rules rollgated and rollgate-sim share
 * (src/health/tally.c, silence.c, cohort.c): the
 * outcome of an exposure's judged span, whether a matched control was
 * heard in the same span, the period of a
 * window, and the gate's input built from per-stratum period cells
 * (pending on the last entry; early failures and earlier waves' failure
 * evidence on the first).
 * ctest-labels: canary */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "health/cohort.h"
#include "health/silence.h"
#include "server/canary.h"

#include <string.h>

#define W 600000

/* The exposed endpoint and its controls are judged on the same span
 * [from, from + W] after the activation allowance (health/silence.h). */
static void window_outcomes(void **state)
{
    (void)state;
    int64_t end = 1000 + W;
    /* heard in the span but never healthy: silent */
    assert_int_equal(rg_silence_outcome(false, false, 0, true, end),
                     RG_TALLY_SILENT);
    /* healthy before the span's end and heard in it */
    assert_int_equal(rg_silence_outcome(false, true, end - 1, true, end),
                     RG_TALLY_HEALTHY);
    /* healthy long before, but not heard in the span: silent like a
     * control that did not check in */
    assert_int_equal(rg_silence_outcome(false, true, 10, false, end),
                     RG_TALLY_SILENT);
    /* healthy too late */
    assert_int_equal(rg_silence_outcome(false, true, end, true, end),
                     RG_TALLY_SILENT);
    /* a failure beats everything */
    assert_int_equal(rg_silence_outcome(true, true, 2000, true, end),
                     RG_TALLY_FAILED);
}

static void control_windows(void **state)
{
    (void)state;
    int64_t a = 10000, e = a + W;
    /* heard during [a, a + W) by its last or previous check-in */
    assert_true(rg_cohort_heard(a + 5, 0, a, e));
    assert_true(rg_cohort_heard(a, a - 60, a, e)); /* at its start */
    assert_true(rg_cohort_heard(e + 500, e - 1, a, e));
    /* nothing in the span: before it, at its (excluded) end or after it */
    assert_false(rg_cohort_heard(e, a - 1, a, e));
    assert_false(rg_cohort_heard(a - 5, a - 65, a, e));
    assert_false(rg_cohort_heard(e + 1, a - 1, a, e));
    assert_false(rg_cohort_heard(0, 0, a, e));
}

static void periods(void **state)
{
    (void)state;
    int64_t b = 50000;
    assert_int_equal(rg_tally_period(b + W - 1, b, W, 32), 0);
    assert_int_equal(rg_tally_period(b + W, b, W, 32), 1);
    assert_int_equal(rg_tally_period(b + 5 * W + 3, b, W, 32), 5);
    assert_int_equal(rg_tally_period(b - 7, b, W, 32), 0);        /* before */
    assert_int_equal(rg_tally_period(b + 100 * W, b, W, 32), 31); /* last */
}

static void entries_per_stratum_and_period(void **state)
{
    (void)state;
    rg_tally_stratum st[] = {
        {.name = "win10",
         .pending = 2,
         .early_failed = 2,
         .prior_trials = 100,
         .prior_failed = 3},
        {.name = "win11"},
        {.name = "linux", .prior_trials = 40, .prior_failed = 1},
        {.name = "mac", .pending = 1, .early_failed = 1}};
    rg_tally_cell cells[] = {
        {.stratum = 0,
         .period = 1,
         .healthy = 5,
         .silent = 1,
         .control_windows = 60,
         .control_silent = 2},
        {.stratum = 0,
         .period = 0,
         .healthy = 9,
         .failed = 1,
         .control_windows = 100,
         .control_silent = 3},
        {.stratum = 1, .period = 0, .healthy = 4, .control_windows = 40},
    };
    rg_stratum_counts out[8];
    size_t n = rg_tally_entries(cells, 3, st, 4, out, 8);
    /* win10: two periods in order (pending on the last, early and prior
     * failures on the first); win11: one; linux: prior only; mac: only a
     * pending exposure that already failed. */
    assert_int_equal(n, 5);
    assert_string_equal(out[0].stratum, "win10");
    assert_int_equal(out[0].exposed, 10);
    assert_int_equal(out[0].exposed_failed, 1);
    assert_int_equal(out[0].control_windows, 100);
    assert_int_equal(out[0].prior_trials, 100);
    assert_int_equal(out[0].prior_failed, 3);
    assert_int_equal(out[0].early_failed, 2);
    assert_string_equal(out[1].stratum, "win10");
    assert_int_equal(out[1].exposed, 6 + 2);
    assert_int_equal(out[1].exposed_silent, 1);
    assert_int_equal(out[1].prior_trials, 0);
    assert_int_equal(out[1].early_failed, 0);
    assert_string_equal(out[2].stratum, "win11");
    assert_int_equal(out[2].exposed, 4);
    assert_string_equal(out[3].stratum, "linux");
    assert_int_equal(out[3].exposed, 0);
    assert_int_equal(out[3].prior_trials, 40);
    assert_int_equal(out[3].prior_failed, 1);
    assert_string_equal(out[4].stratum, "mac");
    assert_int_equal(out[4].exposed, 1);
    assert_int_equal(out[4].early_failed, 1);
    /* The analyzer accepts it, and the failure test counts the earlier
     * waves and the early failures: linux has only earlier evidence, mac
     * only a failure whose window is still open. */
    rg_gate_params p;
    rg_gate_params_default(&p);
    rg_analysis a;
    assert_int_equal(rg_analyze(&p, out, n, &a, NULL), 0);
    assert_true(a.strata[3].failure_llr != 0.0);
    assert_true(a.strata[4].failure_llr > 0.0);
    rg_analysis_release(&a);
    /* Room for fewer entries: never written past max. */
    assert_int_equal(rg_tally_entries(cells, 3, st, 4, out, 2), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(window_outcomes),
        cmocka_unit_test(control_windows),
        cmocka_unit_test(periods),
        cmocka_unit_test(entries_per_stratum_and_period),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
