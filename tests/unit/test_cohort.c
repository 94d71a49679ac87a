/* The cohort tracker's member list (src/health/cohort.h): an empty fleet
 * (no members, m NULL: a running rollout before any endpoint enrolled) is
 * taken without touching m (the sanitizer build's UBSan refused the
 * memcpy from NULL it did), and members are handed back sorted by stratum.
 * ctest-labels: canary */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "health/cohort.h"

static void empty_fleet(void **state)
{
    (void)state;
    rg_cohort *t = rg_cohort_new(8);
    assert_non_null(t);
    rg_cohort_members(t, NULL, 0, 0);
    rg_cohort_free(t);
}

static void members_sorted_by_stratum(void **state)
{
    (void)state;
    rg_cohort *t = rg_cohort_new(8);
    rg_cohort_member m[4] = {{.key = 4, .stratum = 2},
                             {.key = 3, .stratum = 0},
                             {.key = 2, .stratum = 2},
                             {.key = 1, .stratum = 1}};
    assert_non_null(t);
    rg_cohort_members(t, m, 4, 3);
    for (size_t i = 1; i < 4; i++)
        assert_true(m[i - 1].stratum <= m[i].stratum);
    rg_cohort_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(empty_fleet),
        cmocka_unit_test(members_sorted_by_stratum),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
