/* The counting settings shared by rollgated and rollgate-sim
 * (src/health/tally.h, docs/health.md "Control endpoints"): which control
 * endpoints are fresh enough to be matched, and how many periods a wave
 * has so that the gate's input always fits the analyzer.
 * ctest-labels: canary */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "health/analyzer.h"
#include "health/tally.h"

#include <stdlib.h>

/* Heard within 1.5 intervals before the exposure began, or after it. */
static void control_fresh(void **state)
{
    (void)state;
    int64_t a = 10000000, ivl = 60000;
    assert_true(rg_tally_control_fresh(a, a, ivl));
    assert_true(rg_tally_control_fresh(a + 5, a, ivl));
    assert_true(rg_tally_control_fresh(a - 90000, a, ivl));
    assert_false(rg_tally_control_fresh(a - 90001, a, ivl));
    assert_false(rg_tally_control_fresh(0, a, ivl)); /* never heard */
    assert_false(rg_tally_control_fresh(-1, 10, ivl));
    /* The rule follows the stratum's interval: 15-min check-ins. */
    assert_true(rg_tally_control_fresh(a - 1350000, a, 900000));
    assert_false(rg_tally_control_fresh(a - 1350000, a, 60000));
}

/* Every stratum filling every period, plus its own entry, fits
 * RG_ANALYZER_MAX_STRATA entries, whatever the number of strata; at least
 * one period. */
static void max_periods_fit(void **state)
{
    (void)state;
    assert_int_equal(rg_tally_max_periods(1), RG_ANALYZER_MAX_STRATA - 1);
    assert_int_equal(rg_tally_max_periods(0), RG_ANALYZER_MAX_STRATA - 1);
    assert_int_equal(rg_tally_max_periods(RG_ANALYZER_MAX_STRATA), 1);
    assert_int_equal(rg_tally_max_periods(RG_ANALYZER_MAX_STRATA / 2), 1);
    uint32_t ns[] = {1, 2, 3, 7, 10, 100, 1000, 2047};
    for (size_t i = 0; i < sizeof ns / sizeof *ns; i++) {
        uint32_t n = ns[i], p = rg_tally_max_periods(n);
        assert_true(p >= 1);
        assert_true((uint64_t)n * p + n <= RG_ANALYZER_MAX_STRATA);
        assert_true((uint64_t)n * (p + 1) + n > RG_ANALYZER_MAX_STRATA);
        size_t max = (size_t)n * p + n;
        rg_tally_cell *cells = calloc((size_t)n * p, sizeof *cells);
        rg_tally_stratum *st = calloc(n, sizeof *st);
        rg_stratum_counts *out = calloc(max, sizeof *out);
        assert_non_null(cells);
        assert_non_null(st);
        assert_non_null(out);
        for (uint32_t s = 0; s < n; s++) {
            st[s] = (rg_tally_stratum){.name = "s", .pending = 1};
            for (uint32_t k = 0; k < p; k++)
                cells[(size_t)s * p + k] =
                    (rg_tally_cell){.stratum = s, .period = k, .healthy = 1};
        }
        assert_int_equal(
            rg_tally_entries(cells, (size_t)n * p, st, n, out, max),
            (size_t)n * p);
        free(cells);
        free(st);
        free(out);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(control_fresh),
        cmocka_unit_test(max_periods_fit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
