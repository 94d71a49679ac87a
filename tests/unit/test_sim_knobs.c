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
    "{\"name\": \"knob\", \"seed\": 3, \"duration_s\": 21600, \"fleet\": "     \
    "{\"endpoints\": 20000, \"heartbeat_interval_s\": 60, \"internal\": 40, "  \
    "\"strata\": [{\"name\": \"a\", \"share\": 0.5" FLEET_EXTRA "}, "          \
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

/* What endpoint i of stratum k looks like offline, sampled every step s
 * over [from, to) s since T0. */
typedef struct profile {
    int64_t off;         /* seconds offline */
    int starts;          /* offline stretches that begin in the range */
    int64_t first, last; /* first and last sample offline */
} profile;

static profile offline(const rg_fleetmodel *m, uint32_t i, int k, int64_t from,
                       int64_t to, int64_t step)
{
    profile p = {0};
    bool was = rg_fleetmodel_online(m, i, k, false, T0 + from);
    for (int64_t t = from; t < to; t += step) {
        bool on = rg_fleetmodel_online(m, i, k, false, T0 + t);
        if (!on) {
            p.first = p.off ? p.first : t;
            p.last = t;
            p.off += step;
        }
        p.starts += was && !on;
        was = on;
    }
    return p;
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
        profile p = offline(&m, i, 0, 0, 2 * DAY, 60);
        if (p.off == 0)
            continue;
        sleepers++;
        assert_int_equal(p.starts, 2);
        assert_true(p.off >= 2 * 8 * 3600 && p.off <= 2 * 12 * 3600 + 120);
        /* asleep from 18:00-23:00 for 8-12 h: awake 12:00..18:00 */
        assert_int_equal(offline(&m, i, 0, 3 * 3600, 9 * 3600, 600).off, 0);
    }
    assert_true(sleepers > 150 && sleepers < 250);
    rg_test_scenario_refused(
        SC("",
           "\"loss\": {\"sleep\": {\"share\": 0.4, \"hours\": [8, 30]}}, " PLAN(
               "standard")),
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
        profile p = offline(&m, i, 1, 0, 10 * 3600, 1);
        if (!p.off)
            continue;
        flappers++;
        assert_true(p.starts >= 30 && p.starts <= 41);
        assert_true(p.off >= p.starts * 60 && p.off <= p.starts * 600);
    }
    assert_true(flappers > 150 && flappers < 250);
}

/* Long offline endpoints are away for one stretch of 2-4 days. */
static void test_long_offline(void **state)
{
    (void)state;
    rg_scenario s = rg_test_scenario(
        SC("", "\"loss\": {\"long_offline\": {\"share\": 0.3, \"days\": "
               "[2, 4]}}, " PLAN("standard")));
    rg_fleetmodel m = model(&s);
    int away = 0;
    for (uint32_t i = 0; i < 1000; i++) {
        profile p = offline(&m, i, 0, -5 * DAY, DAY, 600);
        if (!p.off)
            continue;
        away++;
        assert_int_equal(p.last - p.first + 600, p.off); /* one stretch */
        assert_true(p.off <= 4 * DAY + 600);
    }
    assert_true(away > 200 && away < 400);
}

/* An outage of the exposed cohort leaves the others online. */
static void test_outage_of_exposed(void **state)
{
    (void)state;
    rg_scenario s = rg_test_scenario(SC(
        "",
        "\"loss\": {\"outages\": [{\"stratum\": \"*\", \"start_s\": 600, "
        "\"duration_s\": 600, \"share\": 1, \"cohort\": \"exposed\"}]}, " PLAN(
            "standard")));
    rg_fleetmodel m = model(&s);
    assert_true(s.outages[0].exposed_only);
    assert_false(rg_fleetmodel_online(&m, 5, 0, true, T0 + 700));
    assert_true(rg_fleetmodel_online(&m, 5, 0, false, T0 + 700));
    assert_true(rg_fleetmodel_online(&m, 5, 0, true, T0 + 1200));
    rg_test_scenario_refused(
        SC("",
           "\"loss\": {\"outages\": [{\"stratum\": \"*\", \"start_s\": 1, "
           "\"duration_s\": 6, \"share\": 1, \"cohort\": \"some\"}]}, " PLAN(
               "standard")),
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

/* A crash 30 min after healthy. fixed-bake (it judges reports and
 * silence as a server sees them; no statistics of the health gate in the
 * way) halts a standard rollout within its first waves when the crash
 * comes at activation; with the onset the first wave passes, nothing is
 * judged bad before the onset, and the crashes are counted. */
static void test_delayed_onset_run(void **state)
{
    (void)state;
    rg_scenario now = rg_test_scenario(SC(
        "",
        PLAN("standard") ", \"faults\": [{\"stratum\": \"a\", \"crash\": 1}]"));
    rg_scenario later = rg_test_scenario(
        SC("", PLAN("standard") ", \"faults\": [{\"stratum\": \"a\", "
                                "\"crash\": 1, \"onset_s\": [1800, 1800]}]"));
    rg_sim_result a = rg_test_sim_run(&now, RG_SIM_FIXED_BAKE, 0);
    rg_sim_result b = rg_test_sim_run(&later, RG_SIM_FIXED_BAKE, 0);
    const json_t *first = json_array_get(b.decisions, 0);
    assert_true(a.halted);
    assert_true(a.halt_time_s < 1800);
    assert_string_equal(json_string_value(json_object_get(first, "verdict")),
                        "pass");
    assert_true(!b.halted || b.halt_time_s >= 1800);
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
    rg_scenario plain = rg_test_scenario(
        SC("", "\"release\": {\"plan\": \"emergency\", \"healthy_after_s\": "
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

/* rollgated down for 10 min: no check-in gets through and no decision is
 * made while it is down (threshold policy: the gate's own handling of a
 * restart is not this test's), and the rollout completes after. */
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
    rg_sim_result r = rg_test_sim_run(&s, RG_SIM_THRESHOLD, 0);
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

/* What a run's recorder saw: endpoints per stratum, and each endpoint's
 * applying -> healthy latency at the server (s; -1 without both). */
typedef struct seen {
    uint32_t per_stratum[4];
    int64_t applying[N], healthy[N];
} seen;

static void seen_endpoint(void *ctx, uint32_t i, uint32_t stratum)
{
    seen *v = ctx;
    v->per_stratum[stratum]++;
    v->applying[i] = v->healthy[i] = -1;
}

static void seen_event(void *ctx, uint32_t i, int what, int64_t at_ms)
{
    seen *v = ctx;
    if (what == RG_SIM_REC_APPLYING && v->applying[i] < 0)
        v->applying[i] = at_ms / 1000;
    if (what == RG_SIM_REC_HEALTHY && v->healthy[i] < 0)
        v->healthy[i] = at_ms / 1000;
}

static void seen_tick(void *ctx, const rg_sim_tick *t)
{
    (void)ctx;
    (void)t;
}

static seen *record_run(const char *text)
{
    static seen v;
    memset(&v, 0, sizeof v);
    rg_scenario s = rg_test_scenario(text);
    rg_sim_recorder rec = {.ctx = &v,
                           .endpoint = seen_endpoint,
                           .event = seen_event,
                           .tick = seen_tick};
    rg_sim_options o = {.policy = RG_SIM_ROLLGATE, .recorder = &rec};
    rg_sim_result r;
    rg_err err;
    assert_int_equal(rg_sim_run(&s, &o, &r, &err), 0);
    rg_sim_result_release(&r);
    return &v;
}

/* Strata of 1, 2 and 5 endpoints get exactly that many (by share, with
 * 60 phase blocks, they had none: each block's part rounded to 0). */
static void test_exact_stratum_sizes(void **state)
{
    (void)state;
    seen *v = record_run(
        "{\"name\": \"exact\", \"seed\": 3, \"duration_s\": 600, \"fleet\": "
        "{\"endpoints\": 20000, \"heartbeat_interval_s\": 60, \"strata\": "
        "[{\"name\": \"a\", \"share\": 0.99965}, {\"name\": \"one\", "
        "\"share\": 0.00005, \"endpoints\": 1}, {\"name\": \"two\", "
        "\"share\": 0.0001, \"endpoints\": 2}, {\"name\": \"five\", "
        "\"share\": 0.00025, \"endpoints\": 5}]}, " PLAN("standard") "}");
    assert_int_equal(v->per_stratum[0], 20000 - 8);
    assert_int_equal(v->per_stratum[1], 1);
    assert_int_equal(v->per_stratum[2], 2);
    assert_int_equal(v->per_stratum[3], 5);
    rg_test_scenario_refused(SC(", \"endpoints\": 15000", PLAN("standard")),
                             "fleet.strata");
    rg_test_scenario_refused(SC(", \"endpoints\": 0", PLAN("standard")),
                             "fleet.strata[0].endpoints");
}

/* Shares of the exposures whose healthy report reached the server within
 * [lo, hi) s of their applying. */
static double latency_share(const seen *v, int64_t lo, int64_t hi)
{
    uint32_t in = 0, all = 0;
    for (uint32_t i = 0; i < N; i++) {
        if (v->applying[i] < 0 || v->healthy[i] < 0)
            continue;
        int64_t l = v->healthy[i] - v->applying[i];
        all++;
        in += l >= lo && l < hi;
    }
    assert_true(all > 1000);
    return (double)in / all;
}

#define DELAY(D)                                                               \
    SC("", "\"release\": {\"plan\": \"emergency\", \"healthy_after_s\": "      \
           "[5, 600], \"healthy_after_dist\": " D "}")

/* Bimodal: a fifth of the exposures activate at the maximum, the rest
 * within 20 s (their reports then wait for the next 60 s check-in).
 * Lognormal (median 60 s, sigma 1): spread both ways, its tail piled up
 * at the maximum (P(X > 600) = 1.1 %). */
static void test_activation_delay_shapes(void **state)
{
    (void)state;
    seen *v = record_run(DELAY(
        "{\"kind\": \"bimodal\", \"slow_share\": 0.2, \"fast_max_s\": 20}"));
    double slow = latency_share(v, 600, 700);
    assert_true(slow > 0.17 && slow < 0.23);
    assert_true(latency_share(v, 0, 81) + slow > 0.999);
    v = record_run(
        DELAY("{\"kind\": \"lognormal\", \"median_s\": 60, \"sigma\": 1}"));
    double below = latency_share(v, 0, 60), tail = latency_share(v, 600, 700);
    assert_true(below > 0.25 && below < 0.5);
    assert_true(tail > 0.005 && tail < 0.02);
    assert_true(latency_share(v, 300, 600) > 0.02);
    rg_test_scenario_refused(DELAY("{\"kind\": \"pareto\"}"),
                             "release.healthy_after_dist.kind");
    rg_test_scenario_refused(DELAY("{\"kind\": \"lognormal\"}"),
                             "release.healthy_after_dist.median_s");
    rg_test_scenario_refused(
        DELAY("{\"kind\": \"bimodal\", \"fast_max_s\": 700}"),
        "release.healthy_after_dist.fast_max_s");
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
        cmocka_unit_test(test_exact_stratum_sizes),
        cmocka_unit_test(test_activation_delay_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
