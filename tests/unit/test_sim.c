/* Unit tests for src/sim (rollgate-sim's model mode) on small fleets:
 * determinism per seed, a crashing stratum halts with little damage, a
 * good release completes without a false halt, the comparison policies
 * behave as their tools do, and scenario files are checked.
 * ctest-labels: canary */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/err.h"
#include "common/json.h"
#include "sim/policy.h"
#include "sim/scenario.h"
#include "sim/sim.h"
#include "support/simrun.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FLEET                                                                  \
    "\"fleet\": {\"endpoints\": 20000, \"heartbeat_interval_s\": 60, "         \
    "\"internal\": 60, \"strata\": [{\"name\": \"win10-x64\", \"share\": "     \
    "0.5}, {\"name\": \"win11-x64\", \"share\": 0.2}, {\"name\": "             \
    "\"ubuntu22-x64\", \"share\": 0.3}]}, "                                    \
    "\"loss\": {\"independent\": 0.05, \"offline_share\": 0.05}, "

static const char *const crash_json =
    "{\"name\": \"crash\", \"seed\": 7, \"duration_s\": 7200, " FLEET
    "\"release\": {\"plan\": \"emergency\", \"apply_latency_s\": [5, 60], "
    "\"activation\": {\"declared\": \"restart\", \"max_s\": 60}}, "
    "\"faults\": [{\"stratum\": \"win10-x64\", \"crash\": 1.0}, "
    "{\"stratum\": \"win11-x64\", \"crash\": 1.0}]}";

static const char *const good_json =
    "{\"name\": \"good\", \"seed\": 7, \"duration_s\": 21600, " FLEET
    "\"release\": {\"plan\": \"standard\", \"apply_latency_s\": [5, 60]}}";

static char *dump(const rg_sim_result *r)
{
    json_t *v = rg_sim_result_to_json(r);
    assert_non_null(v);
    char *text = rg_json_dump(v);
    json_decref(v);
    assert_non_null(text);
    return text;
}

static void test_deterministic_per_seed(void **state)
{
    (void)state;
    rg_scenario s = rg_test_scenario(crash_json);
    rg_sim_result a = rg_test_sim_run(&s, RG_SIM_ROLLGATE, 0);
    rg_sim_result b = rg_test_sim_run(&s, RG_SIM_ROLLGATE, 0);
    rg_sim_result c = rg_test_sim_run(&s, RG_SIM_ROLLGATE, 8);
    char *ta = dump(&a), *tb = dump(&b), *tc = dump(&c);
    assert_string_equal(ta, tb);
    assert_string_not_equal(ta, tc);
    assert_int_equal(a.seed, 7);
    assert_int_equal(c.seed, 8);
    free(ta);
    free(tb);
    free(tc);
    rg_sim_result_release(&a);
    rg_sim_result_release(&b);
    rg_sim_result_release(&c);
}

/* Two crashing strata in the emergency lane, the release declaring that
 * it activates within 60 s: halted in the internal ring with at most 50
 * endpoints damaged, within A + W + 2 min of the first crashing exposure
 * (A = 60 s, W = 3 check-in intervals = 180 s; silence is judged on
 * [a + A, a + A + W), health/silence.h), and the exposed healthy
 * endpoints revert. */
static void test_crash_halts_with_little_damage(void **state)
{
    (void)state;
    rg_scenario s = rg_test_scenario(crash_json);
    for (uint64_t seed = 1; seed <= 5; seed++) {
        rg_sim_result r = rg_test_sim_run(&s, RG_SIM_ROLLGATE, seed);
        assert_true(r.halted);
        assert_true(r.faulty);
        assert_false(r.false_halt);
        assert_false(r.completed);
        assert_true(r.failed_or_crashed > 0);
        assert_true(r.failed_or_crashed <= 50);
        assert_true(r.first_crash_exposure_s != RG_SIM_NONE);
        assert_true(r.halt_time_s - r.first_crash_exposure_s <= 60 + 180 + 120);
        assert_true(r.reverted > 0);
        assert_string_equal(r.final_state, "halted");
        const json_t *last =
            json_array_get(r.decisions, json_array_size(r.decisions) - 1);
        assert_string_equal(json_string_value(json_object_get(last, "verdict")),
                            "halt");
        assert_non_null(json_object_get(last, "evidence"));
        rg_sim_result_release(&r);
    }
}

static void test_good_release_completes(void **state)
{
    (void)state;
    rg_scenario s = rg_test_scenario(good_json);
    for (uint64_t seed = 1; seed <= 3; seed++) {
        rg_sim_result r = rg_test_sim_run(&s, RG_SIM_ROLLGATE, seed);
        assert_false(r.halted);
        assert_false(r.false_halt);
        assert_true(r.completed);
        assert_int_equal(r.failed_or_crashed, 0);
        assert_true(r.final_coverage > 0.99);
        assert_true(r.time_to_99pct_s != RG_SIM_NONE);
        /* one decision per wave of the standard plan */
        assert_int_equal(json_array_size(r.decisions), s.plan.n_waves);
        rg_sim_result_release(&r);
    }
}

/* hawkBit style never counts silence: it completes a crashing release;
 * fixed-bake halts on silence but without progressive exposure it
 * damages more than Rollgate. */
static void test_policies_differ(void **state)
{
    (void)state;
    rg_scenario s = rg_test_scenario(crash_json);
    rg_sim_result rg = rg_test_sim_run(&s, RG_SIM_ROLLGATE, 0);
    rg_sim_result th = rg_test_sim_run(&s, RG_SIM_THRESHOLD, 0);
    rg_sim_result fb = rg_test_sim_run(&s, RG_SIM_FIXED_BAKE, 0);
    assert_true(rg.halted);
    assert_false(th.halted);
    assert_true(th.completed);
    assert_true(th.failed_or_crashed > 10000);
    assert_true(fb.halted);
    assert_true(fb.failed_or_crashed > rg.failed_or_crashed);
    assert_string_equal(rg_sim_policy_name(th.policy), "threshold");
    rg_sim_result_release(&rg);
    rg_sim_result_release(&th);
    rg_sim_result_release(&fb);
}

static void test_policy_names(void **state)
{
    (void)state;
    assert_int_equal(rg_sim_policy_parse("rollgate"), RG_SIM_ROLLGATE);
    assert_int_equal(rg_sim_policy_parse("threshold"), RG_SIM_THRESHOLD);
    assert_int_equal(rg_sim_policy_parse("fixed-bake"), RG_SIM_FIXED_BAKE);
    assert_int_equal(rg_sim_policy_parse("argo"), -1);
    assert_int_equal(rg_sim_policy_parse(NULL), -1);
}

static void test_scenario_checks(void **state)
{
    (void)state;
    rg_scenario s = rg_test_scenario(good_json);
    assert_int_equal(s.endpoints, 20000);
    assert_int_equal(s.n_strata, 3);
    assert_string_equal(s.plan.name, "standard");
    assert_int_equal(s.apply_min_s, 5);
    assert_int_equal(s.apply_max_s, 60);
    assert_false(rg_scenario_faulty(&s));
    assert_true(rg_scenario_faulty(&(rg_scenario){
        .n_faults = 1, .faults = {{.stratum = 0, .fail = 0.01}}}));

    rg_test_scenario_refused(
        "{\"fleet\": {\"endpoints\": 10, \"strata\": []}, \"release\": "
        "{\"plan\": \"standard\"}}",
        "fleet.strata");
    rg_test_scenario_refused(
        "{\"fleet\": {\"endpoints\": 10, \"strata\": [{\"name\": \"a\", "
        "\"share\": 0.5}]}, \"release\": {\"plan\": \"standard\"}}",
        "fleet.strata");
    rg_test_scenario_refused("{\"flet\": {}}", "flet");
    rg_test_scenario_refused(
        "{\"fleet\": {\"endpoints\": 20000000, \"strata\": [{\"name\": "
        "\"a\", \"share\": 1}]}, \"release\": {\"plan\": \"standard\"}}",
        "fleet.endpoints");
    rg_test_scenario_refused(
        "{\"fleet\": {\"endpoints\": 10, \"strata\": [{\"name\": \"a\", "
        "\"share\": 1}]}, \"release\": {\"plan\": \"standard\"}, "
        "\"faults\": [{\"stratum\": \"b\", \"crash\": 1}]}",
        "faults");
    rg_test_scenario_refused(
        "{\"fleet\": {\"endpoints\": 10, \"strata\": [{\"name\": \"a\", "
        "\"share\": 1}]}, \"release\": {\"plan\": \"standard\", "
        "\"apply_latency_s\": [60, 5]}}",
        "release.apply_latency_s");
    rg_test_scenario_refused(
        "{\"fleet\": {\"endpoints\": 10, \"strata\": [{\"name\": \"a\", "
        "\"share\": 1}]}, \"release\": {\"plan\": \"fastest\"}}",
        "release.plan");

    rg_err err;
    assert_int_equal(rg_scenario_load("/nonexistent/scenario.json", &s, &err),
                     RG_EIO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deterministic_per_seed),
        cmocka_unit_test(test_crash_halts_with_little_damage),
        cmocka_unit_test(test_good_release_completes),
        cmocka_unit_test(test_policies_differ),
        cmocka_unit_test(test_policy_names),
        cmocka_unit_test(test_scenario_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
