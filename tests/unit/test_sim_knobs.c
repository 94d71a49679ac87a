/* Unit tests for rollgate-sim's knobs of what real fleets do (scenario.h
 * "What real fleets do", fleetmodel.h, fault.h): each knob is read from
 * scenario JSON, refused when wrong, and does what it says, on the pure
 * schedule functions and through whole model-mode runs. Also: the
 * fixed-bake comparison policy sees only what a server would see.
 * ctest-labels: canary */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sim/fault.h"
#include "sim/fleetmodel.h"
#include "sim/policy.h"
#include "sim/rng.h"
#include "sim/scenario.h"
#include "sim/sim.h"
#include "support/simrun.h"

#include <stdio.h>
#include <string.h>

#define N 20000
#define DAY 86400
#define T0 120

/* A 20,000-endpoint fleet of two strata, 60 s check-ins; EXTRA is spliced
 * in after "fleet" (loss, release, faults...). */
#define SC(FLEET_EXTRA, EXTRA)                                                 \
    "{\"name\": \"knob\", \"seed\": 3, \"duration_s\": 21600, \"fleet\": "    \
    "{\"endpoints\": 20000, \"heartbeat_interval_s\": 60, \"internal\": 40, " \
    "\"strata\": [{\"name\": \"a\", \"share\": 0.5" FLEET_EXTRA "}, "         \
    "{\"name\": \"b\", \"share\": 0.5}]}, " EXTRA "}"
#define PLAN(p) "\"release\": {\"plan\": \"" p "\"}"

static rg_fleetmodel model(const rg_scenario *s)
{
    rg_fleetmodel m;
    rg_fleetmodel_init(&m, s, s->seed, T0);
    return m;
}

/* Stratum a checks in every 900 s: one visit of its 60 s block in 15. */
static void test_stratum_interval_and_loss(void **state)
{
    (void)state;
    rg_scenario s = rg_test_scenario(
        SC(", \"heartbeat_interval_s\": 900, \"loss\": 0.3",
           "\"loss\": {\"independent\": 0.05}, " PLAN("standard")));
    rg_fleetmodel m = model(&s);
    assert_int_equal(rg_fleetmodel_interval(&m, 0), 900);
    assert_int_equal(rg_fleetmodel_interval(&m, 1), 60);
    assert_true(m.loss_thr[0] == rg_share_thr(0.3));
    assert_true(m.loss_thr[1] == rg_share_thr(0.05));
    for (uint32_t i = 0; i < 50; i++) {
        int64_t last = -1;
        int due = 0;
        for (int64_t T = i % 60; T < 3 * 3600; T += 60) {
            if (!rg_fleetmodel_due(&m, i, 0, T))
                continue;
            if (last >= 0)
                assert_int_equal(T - last, 900);
            last = T;
            due++;
        }
        assert_int_equal(due, 12);
        assert_true(rg_fleetmodel_due(&m, i, 1, i % 60));
    }
    rg_test_scenario_refused(
        SC(", \"heartbeat_interval_s\": 90", PLAN("standard")), "fleet.strata");
}

static void test_jitter(void **state)
{
    (void)state;
    rg_scenario s = rg_test_scenario(
        "{\"fleet\": {\"endpoints\": 100, \"jitter_s\": 20, \"strata\": "
        "[{\"name\": \"a\", \"share\": 1}]}, " PLAN("standard") "}");
    rg_fleetmodel m = model(&s);
    int64_t sum = 0, hi = 0;
    for (int64_t T = 0; T < 10000; T++) {
        int64_t j = rg_fleetmodel_jitter(&m, 7, T);
        assert_true(j >= 0 && j <= 20);
        sum += j;
        hi = j > hi ? j : hi;
    }
    assert_int_equal(hi, 20);
    assert_true(sum > 10000 * 8 && sum < 10000 * 12); /* mean 10 */
    rg_test_scenario_refused(
        "{\"fleet\": {\"endpoints\": 100, \"jitter_s\": 60, \"strata\": "
        "[{\"name\": \"a\", \"share\": 1}]}, " PLAN("standard") "}",
        "fleet.jitter_s");
}

/* Sleepers are asleep once a day, for one stretch within the range; the
 * others never. */
static void test_sleep(void **state)
{
    (void)state;
    rg_scenario s = rg_test_scenario(
        SC("", "\"loss\": {\"sleep\": {\"share\": 0.4, \"start_h\": [18, 23], "
               "\"hours\": [8, 12], \"clock_h\": 9}}, " PLAN("standard")));
    rg_fleetmodel m = model(&s);
    int sleepers = 0;
    for (uint32_t i = 0; i < 500; i++) {
        int off = 0, starts = 0;
        bool was = true;
        for (int64_t t = 0; t < 2 * DAY; t += 60) {
            bool on = rg_fleetmodel_online(&m, i, 0, false, T0 + t);
            off += !on;
            starts += was && !on && t > 0;
            was = on;
        }
        if (off == 0)
            continue;
        sleepers++;
        assert_int_equal(starts, 2);
        assert_true(off >= 2 * 8 * 60 && off <= 2 * 12 * 60 + 2);
        /* asleep from 18:00-23:00 for 8-12 h: awake 12:00..18:00 */
        for (int64_t t = 3 * 3600; t < 9 * 3600; t += 600)
            assert_true(rg_fleetmodel_online(&m, i, 0, false, T0 + t));
    }
    assert_true(sleepers > 150 && sleepers < 250);
    rg_test_scenario_refused(
        SC("", "\"loss\": {\"sleep\": {\"share\": 0.4, \"hours\": [8, 30]}}, "
               PLAN("standard")),
        "loss.sleep.hours");
}

/* Flappers lose the server about per_hour times an hour for a stretch in
 * the range; the others never. */
static void test_vpn_flaps(void **state)
{
    (void)state;
    rg_scenario s = rg_test_scenario(
        SC("", "\"loss\": {\"vpn_flaps\": {\"share\": 0.5, \"per_hour\": 4, "
               "\"duration_s\": [60, 300]}}, " PLAN("standard")));
    rg_fleetmodel m = model(&s);
    int flappers = 0;
    for (uint32_t i = 0; i < 400; i++) {
        int flaps = 0, off = 0;
        bool was = true;
        for (int64_t t = 0; t < 10 * 3600; t++) {
            bool on = rg_fleetmodel_online(&m, i, 1, false, T0 + t);
            off += !on;
            flaps += was && !on;
            was = on;
        }
        if (!off)
            continue;
        flappers++;
        assert_true(flaps >= 30 && flaps <= 41);
        assert_true(off >= flaps * 60 && off <= flaps * 600);
    }
    assert_true(flappers > 150 && flappers < 250);
}

/* Long offline endpoints are away for one stretch of whole days. */
static void test_long_offline(void **state)
{
    (void)state;
    rg_scenario s = rg_test_scenario(
        SC("", "\"loss\": {\"long_offline\": {\"share\": 0.3, \"days\": "
               "[2, 4]}}, " PLAN("standard")));
    rg_fleetmodel m = model(&s);
    int away = 0;
    for (uint32_t i = 0; i < 1000; i++) {
        int64_t off = 0, first = 0, last = 0;
        for (int64_t t = -5 * DAY; t < DAY; t += 600)
            if (!rg_fleetmodel_online(&m, i, 0, false, T0 + t)) {
                first = off ? first : t;
                off += 600;
                last = t;
            }
        if (!off)
            continue;
        away++;
        assert_int_equal(last - first + 600, off); /* one stretch */
    }
    assert_true(away > 200 && away < 400);
}

/* An outage of the exposed cohort leaves the others online. */
static void test_outage_of_exposed(void **state)
{
    (void)state;
    rg_scenario s = rg_test_scenario(
        SC("", "\"loss\": {\"outages\": [{\"stratum\": \"*\", \"start_s\": 600, "
               "\"duration_s\": 600, \"share\": 1, \"cohort\": \"exposed\"}]}, "
               PLAN("standard")));
    rg_fleetmodel m = model(&s);
    assert_true(s.outages[0].exposed_only);
    assert_false(rg_fleetmodel_online(&m, 5, 0, true, T0 + 700));
    assert_true(rg_fleetmodel_online(&m, 5, 0, false, T0 + 700));
    assert_true(rg_fleetmodel_online(&m, 5, 0, true, T0 + 1200));
    rg_test_scenario_refused(
        SC("", "\"loss\": {\"outages\": [{\"stratum\": \"*\", \"start_s\": 1, "
               "\"duration_s\": 6, \"share\": 1, \"cohort\": \"some\"}]}, "
               PLAN("standard")),
        "loss.outages[0].cohort");
}

/* Delayed onset: the fault strikes in the range after healthy; report
 * tells how many failures are ever reported; hang is never reported. */
static void test_fault_fates(void **state)
{
    (void)state;
    rg_scenario s = rg_test_scenario(
        SC("", PLAN("standard") ", \"faults\": [{\"stratum\": \"a\", "
                                "\"crash\": 1, \"onset_s\": [1800, 2400], "
                                "\"report\": 0.25}, {\"stratum\": \"b\", "
                                "\"hang\": 0.5}]"));
    int reported = 0, hung = 0;
    for (uint32_t i = 0; i < 4000; i++) {
        rg_fate a = rg_fault_fate(&s, s.seed, i, 0);
        assert_int_equal(a.kind, RG_FATE_CRASH);
        assert_true(a.onset_s >= 1800 && a.onset_s <= 2400);
        reported += a.reported;
        rg_fate b = rg_fault_fate(&s, s.seed, i, 1);
        assert_false(b.reported && b.kind == RG_FATE_HANG);
        hung += b.kind == RG_FATE_HANG;
    }
    assert_true(reported > 850 && reported < 1150);
    assert_true(hung > 1800 && hung < 2200);
    assert_int_equal(rg_fault_max_onset(&s), 2400);
    assert_true(rg_scenario_faulty(&s));
    rg_test_scenario_refused(
        SC("", PLAN("standard") ", \"faults\": [{\"stratum\": \"a\", "
                                "\"crash\": 1, \"onset_s\": [30, 10]}]"),
        "faults[0].onset_s");
}

/* A crash 30 min after healthy passes the internal ring (nothing is
 * wrong yet) where the same crash at activation halts it. */
static void test_delayed_onset_run(void **state)
{
    (void)state;
    rg_scenario now = rg_test_scenario(SC(
        "", PLAN("emergency") ", \"faults\": [{\"stratum\": \"a\", \"crash\": 1}]"));
    rg_scenario later = rg_test_scenario(
        SC("", PLAN("emergency") ", \"faults\": [{\"stratum\": \"a\", "
                                 "\"crash\": 1, \"onset_s\": [1800, 1800]}]"));
    rg_sim_result a = rg_test_sim_run(&now, RG_SIM_ROLLGATE, 0);
    rg_sim_result b = rg_test_sim_run(&later, RG_SIM_ROLLGATE, 0);
    const json_t *first = json_array_get(b.decisions, 0);
    assert_true(a.halted);
    assert_int_equal(a.final_wave, 0);
    assert_string_equal(json_string_value(json_object_get(first, "verdict")),
                        "pass");
    assert_true(json_integer_value(json_object_get(first, "time_s")) < 1800);
    assert_true(b.failed_or_crashed > 0);
    rg_sim_result_release(&a);
    rg_sim_result_release(&b);
}

/* Failures never reported: the threshold policy (it counts reports only)
 * halts when they are reported and completes when they are not. */
static void test_unreported_failures(void **state)
{
    (void)state;
    rg_scenario told = rg_test_scenario(
        SC("", PLAN("emergency") ", \"faults\": [{\"stratum\": \"*\", "
                                 "\"fail\": 1}]"));
    rg_scenario quiet = rg_test_scenario(
        SC("", PLAN("emergency") ", \"faults\": [{\"stratum\": \"*\", "
                                 "\"fail\": 1, \"report\": 0}]"));
    rg_sim_result a = rg_test_sim_run(&told, RG_SIM_THRESHOLD, 0);
    rg_sim_result b = rg_test_sim_run(&quiet, RG_SIM_THRESHOLD, 0);
    assert_true(a.halted);
    assert_false(b.halted);
    assert_true(b.completed);
    assert_true(b.failed_or_crashed > N / 2);
    rg_sim_result_release(&a);
    rg_sim_result_release(&b);
}

/* Rebooting to activate makes an endpoint unreachable: fixed-bake, which
 * judges silence of 3 check-in intervals, halts a good release whose
 * reboot takes 10 min and completes it without the reboot. */
static void test_reboot_unreachable(void **state)
{
    (void)state;
    rg_scenario plain = rg_test_scenario(SC(
        "", "\"release\": {\"plan\": \"emergency\", \"healthy_after_s\": "
            "[600, 620]}"));
    rg_scenario reboot = rg_test_scenario(
        SC("", "\"release\": {\"plan\": \"emergency\", \"healthy_after_s\": "
               "[600, 620], \"activation\": {\"declared\": \"reboot\", "
               "\"max_s\": 900, \"unreachable_s\": [590, 600]}}"));
    assert_int_equal(reboot.activation.declared, RG_SIM_ACT_REBOOT);
    assert_int_equal(reboot.activation.max_s, 900);
    rg_sim_result a = rg_test_sim_run(&plain, RG_SIM_FIXED_BAKE, 0);
    rg_sim_result b = rg_test_sim_run(&reboot, RG_SIM_FIXED_BAKE, 0);
    assert_false(a.halted);
    assert_true(a.completed);
    assert_true(b.halted);
    assert_true(b.false_halt);
    rg_sim_result_release(&a);
    rg_sim_result_release(&b);
    rg_test_scenario_refused(
        SC("", "\"release\": {\"plan\": \"emergency\", \"activation\": "
               "{\"declared\": \"reboot\"}}"),
        "release.activation.max_s");
    rg_test_scenario_refused(
        SC("", "\"release\": {\"plan\": \"emergency\", \"activation\": "
               "{\"declared\": \"later\", \"max_s\": 5}}"),
        "release.activation.declared");
}

/* rollgated down for 10 min: no decision while it is down, no check-in
 * gets through, and the rollout still completes. */
static void test_server_restart(void **state)
{
    (void)state;
    rg_scenario s = rg_test_scenario(
        SC("", PLAN("standard") ", \"server_restart\": {\"at_s\": 1200, "
                                "\"down_s\": 600}"));
    rg_fleetmodel m = model(&s);
    assert_true(rg_fleetmodel_online(&m, 1, 0, false, T0 + 1199));
    assert_false(rg_fleetmodel_online(&m, 1, 0, false, T0 + 1200));
    assert_false(rg_fleetmodel_server_back(&m, T0 + 1799));
    assert_true(rg_fleetmodel_server_back(&m, T0 + 1800));
    assert_true(rg_fleetmodel_online(&m, 1, 0, false, T0 + 1800));
    rg_sim_result r = rg_test_sim_run(&s, RG_SIM_ROLLGATE, 0);
    assert_true(r.completed);
    for (size_t d = 0; d < json_array_size(r.decisions); d++) {
        json_int_t t = json_integer_value(
            json_object_get(json_array_get(r.decisions, d), "time_s"));
        assert_false(t >= 1200 && t < 1800);
    }
    rg_sim_result_release(&r);
}

/* fixed-bake judges what a server sees: an endpoint that crashed but has
 * not missed 3 check-ins yet is not bad (before, the policy read the
 * simulator's ground truth and counted it bad at once). */
static void test_fixed_bake_sees_no_ground_truth(void **state)
{
    (void)state;
    rg_scenario s = rg_test_scenario(
        SC("", "\"release\": {\"plan\": \"emergency\", \"crash_revert_s\": "
               "3600}, \"faults\": [{\"stratum\": \"*\", \"crash\": 1}]"));
    rg_sim_result r = rg_test_sim_run(&s, RG_SIM_FIXED_BAKE, 0);
    assert_true(r.halted);
    /* stale after 3 intervals of silence, then 3 failed checks 60 s
     * apart: the first crashing exposure is at least 300 s old */
    assert_true(r.halt_time_s - r.first_crash_exposure_s >= 300);
    rg_sim_result_release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stratum_interval_and_loss),
        cmocka_unit_test(test_jitter),
        cmocka_unit_test(test_sleep),
        cmocka_unit_test(test_vpn_flaps),
        cmocka_unit_test(test_long_offline),
        cmocka_unit_test(test_outage_of_exposed),
        cmocka_unit_test(test_fault_fates),
        cmocka_unit_test(test_delayed_onset_run),
        cmocka_unit_test(test_unreported_failures),
        cmocka_unit_test(test_reboot_unreachable),
        cmocka_unit_test(test_server_restart),
        cmocka_unit_test(test_fixed_bake_sees_no_ground_truth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
