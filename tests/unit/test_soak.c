/* Soak after healthy (issue 10; docs/health.md "Soak"), through
 * rollgate-sim's model mode, which counts with rollgated's tracker and
 * watches a completed rollout as rollgated's orchestrator does
 * (rg_canary_soaking): the gate keeps judging the last wave until the
 * newest exposure is the plan's soak (1 h) old.
 *  - a good release on fleets with every harmless silence pattern
 *    (independent loss, offline stretches, nightly sleep, VPN flaps,
 *    multi-day absences) completes and is never halted while soaking;
 *  - a release whose endpoints of one stratum crash 30 to 50 minutes
 *    after they reported healthy (inside the soak) is halted after the
 *    emergency lane completed, and the endpoints not crashed yet revert;
 *  - a release whose endpoints of one stratum go dark 15 to 25 minutes
 *    after they reported healthy is halted on the standard plan after
 *    earlier waves passed that stratum (soak spans, health/cohort.h).
 * ctest-labels: canary */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sim/policy.h"
#include "sim/sim.h"
#include "support/scale.h"
#include "support/simrun.h"

#include <stdio.h>
#include <string.h>

#define FLEET_FMT                                                              \
    "\"fleet\": {\"endpoints\": 15000, \"heartbeat_interval_s\": 60, "         \
    "\"internal\": 40, \"jitter_s\": %d, \"strata\": [{\"name\": \"win\", "    \
    "\"share\": 0.5}, {\"name\": \"mac\", \"share\": 0.3}, {\"name\": "        \
    "\"linux\", \"share\": 0.2}]}, "

/* Counts the gate's evaluations of a run. */
static void count_tick(void *ctx, const rg_sim_tick *t)
{
    (void)t;
    (*(size_t *)ctx)++;
}

/* Runs json under Rollgate with seed; *ticks: the gate's evaluations. */
static rg_sim_result run(const char *json, uint64_t seed, size_t *ticks)
{
    rg_scenario sc = rg_test_scenario(json);
    *ticks = 0;
    return rg_test_sim_run_ticks(&sc, seed, count_tick, ticks);
}

/* Harmless silence pattern k (0..5) of the good fleet: loss and the
 * sleep / VPN / absence knobs, alone and together. */
static void silence_pattern(int k, char *out, size_t n)
{
    static const char *const extra[] = {
        "",
        ", \"sleep\": {\"share\": 0.5, \"start_h\": [18, 20], \"hours\": [6, "
        "10], \"clock_h\": 17}",
        ", \"vpn_flaps\": {\"share\": 0.3, \"per_hour\": 3, \"duration_s\": "
        "[20, 400]}",
        ", \"long_offline\": {\"share\": 0.05, \"days\": [1, 4]}",
        ", \"sleep\": {\"share\": 0.3, \"start_h\": [0, 2], \"hours\": [5, "
        "9], \"clock_h\": 0}, \"vpn_flaps\": {\"share\": 0.2, \"per_hour\": "
        "2, \"duration_s\": [60, 600]}",
        ", \"sleep\": {\"share\": 0.6, \"start_h\": [0, 1], \"hours\": [4, "
        "8], \"clock_h\": 23}, \"long_offline\": {\"share\": 0.03, \"days\": "
        "[2, 6]}, \"vpn_flaps\": {\"share\": 0.1, \"per_hour\": 4, "
        "\"duration_s\": [10, 120]}"};
    snprintf(out, n,
             "\"loss\": {\"independent\": %.2f, \"offline_share\": %.2f%s}, ",
             0.05 * k, 0.03 * (k % 3), extra[k]);
}

static void good_release_soaks_without_halt(void **state)
{
    (void)state;
    /* under the sanitizers: patterns 0 and 5 (every knob at once) */
    for (int k = 0; k < 6; k += RG_TEST_SIZE(1, 5)) {
        char loss[600], json[2048];
        silence_pattern(k, loss, sizeof loss);
        snprintf(json, sizeof json,
                 "{\"name\": \"soak-good\", \"seed\": 1, \"duration_s\": "
                 "43200, " FLEET_FMT "%s\"release\": {\"plan\": "
                 "\"emergency\", \"apply_latency_s\": [5, 120], "
                 "\"healthy_after_s\": [5, 60]}}",
                 5 * k, loss);
        size_t ticks;
        rg_sim_result r = run(json, 100 + (uint64_t)k, &ticks);
        assert_true(r.completed);
        assert_false(r.halted);
        assert_int_equal(r.failed_or_crashed, 0);
        /* the gate judged the completed rollout for the soak (an hour
         * of 5-second ticks) after it ran it */
        assert_true(ticks >= (size_t)r.time_to_complete_s / 5 + 3600 / 5 - 1);
        rg_sim_result_release(&r);
    }
}

static void onset_within_soak_halts(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= RG_TEST_SIZE(3, 1); seed++) {
        char json[2048];
        snprintf(json, sizeof json,
                 "{\"name\": \"soak-onset\", \"seed\": 1, \"duration_s\": "
                 "43200, " FLEET_FMT
                 "\"loss\": {\"independent\": 0.1, \"offline_share\": "
                 "0.05}, \"release\": {\"plan\": \"emergency\", "
                 "\"apply_latency_s\": [5, 120], \"healthy_after_s\": [5, "
                 "60], \"crash_revert_s\": 300}, \"faults\": [{\"stratum\": "
                 "\"mac\", \"crash\": 1.0, \"onset_s\": [1800, 3000]}]}",
                 10);
        size_t ticks;
        rg_sim_result r = run(json, seed, &ticks);
        assert_true(r.halted);
        /* the emergency lane completed before the first onset; before
         * the soak watch it stayed completed (seed 1: 4326 crashed) */
        assert_true(r.completed);
        assert_true(r.halt_time_s > r.time_to_complete_s);
        assert_true(r.reverted > 0);
        /* fewer crashed than the stratum holds: the halt came first */
        assert_true(r.failed_or_crashed < 15000 * 3 / 10);
        rg_sim_result_release(&r);
    }
}

/* The standard plan's waves with budgets grown per first healthy report
 * (grow_after_s 0): the soak span, not the budget, is what stops the
 * dark stratum below (the standard plan's own budgets hold it at 6
 * endpoints until a report has held for an hour, test_onset_budget.c). */
#define STANDARD_PER_REPORT                                                    \
    "{\"grow_after_s\": 0, \"waves\": [{\"internal\": true, \"share\": 0, "    \
    "\"min_endpoints\": 1, \"min_bake_s\": 600}, {\"share\": 0.1, "            \
    "\"min_endpoints\": 50, \"min_bake_s\": 600}, {\"share\": 1, "             \
    "\"min_endpoints\": 50, \"min_bake_s\": 600}, {\"share\": 10, "            \
    "\"min_endpoints\": 50, \"min_bake_s\": 1200}, {\"share\": 50, "           \
    "\"min_endpoints\": 50, \"min_bake_s\": 1800}, {\"share\": 100, "          \
    "\"min_endpoints\": 50, \"min_bake_s\": 600}]}"

/* Every endpoint of one stratum goes dark for good (no check-in, no
 * report) 15 to 25 minutes after it reported healthy, on the standard
 * plan's waves: its soak spans are silent while its controls keep checking in,
 * so the running rollout halts on that stratum after earlier waves had
 * passed it (its healthy evidence there does not excuse the silence);
 * before the soak span, it completed with every macOS endpoint dark
 * (seed 3: 5810). */
static void dark_within_soak_halts(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= RG_TEST_SIZE(3, 1); seed++) {
        char json[2048];
        snprintf(json, sizeof json,
                 "{\"name\": \"soak-dark\", \"seed\": 1, \"duration_s\": "
                 "43200, " FLEET_FMT
                 "\"loss\": {\"independent\": 0.1, \"offline_share\": "
                 "0.05}, \"release\": {\"plan\": " STANDARD_PER_REPORT ", "
                 "\"apply_latency_s\": [5, 120], \"healthy_after_s\": [5, "
                 "60]}, \"faults\": [{\"stratum\": \"mac\", \"hang\": 1.0, "
                 "\"onset_s\": [900, 1500]}]}",
                 10);
        size_t ticks;
        rg_sim_result r = run(json, seed, &ticks);
        assert_true(r.halted);
        assert_false(r.completed);
        assert_true(r.failed_or_crashed < 200);
        /* the first wave passed, macOS with it */
        const json_t *d0 = json_array_get(r.decisions, 0);
        assert_string_equal(json_string_value(json_object_get(d0, "verdict")),
                            "pass");
        const json_t *strata =
            json_object_get(json_object_get(d0, "evidence"), "strata");
        bool mac_passed = false;
        for (size_t i = 0; i < json_array_size(strata); i++) {
            const json_t *o = json_array_get(strata, i);
            const char *n = json_string_value(json_object_get(o, "name"));
            const char *v = json_string_value(json_object_get(o, "verdict"));
            mac_passed |=
                n && v && strncmp(n, "mac", 3) == 0 && strcmp(v, "pass") == 0;
        }
        assert_true(mac_passed);
        rg_sim_result_release(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(good_release_soaks_without_halt),
        cmocka_unit_test(onset_within_soak_halts),
        cmocka_unit_test(dark_within_soak_halts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
