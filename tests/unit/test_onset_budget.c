/* Property test of budgets that grow per soaked healthy report (issue
 * 10; src/model/exposure.h rg_exposure_grows, docs/health.md "Budgets
 * grow per soaked report"), through rollgate-sim's model mode, which
 * admits endpoints as rollgated's check-in path does. On the standard
 * lane (grow_after: the plan's soak, 1 h) a stratum's budget stays at
 * initial_budget (6) until one of its healthy reports has held for an
 * hour, so a release whose endpoints of one stratum crash T after they
 * reported healthy, for any T from 10 to 60 minutes, any loss up to 20
 * %, offline stretches and crash reports 2 to 15 minutes after the crash,
 * is halted with at most initial_budget endpoints crashed. With budgets
 * grown per first healthy report (the rule before) the first world (T =
 * 10 min) crashes 19. A good release still completes.
 * ctest-labels: canary */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "model/exposure.h"
#include "sim/policy.h"
#include "sim/sim.h"
#include "support/prng.h"
#include "support/simrun.h"

#include <stdio.h>

#define WORLDS 6

/* One world: onset T (s) for the "mac" stratum, or none when T < 0. */
static rg_sim_result run_world(int k, int onset_s, uint64_t *r)
{
    double loss = 0.2 * rg_prng_unif(r), offline = 0.1 * rg_prng_unif(r);
    int revert_s = 120 + (int)(rg_prng_next(r) % 781);
    char faults[256] = "";
    if (onset_s >= 0)
        snprintf(faults, sizeof faults,
                 ", \"faults\": [{\"stratum\": \"mac\", \"crash\": 1.0, "
                 "\"onset_s\": [%d, %d]}]",
                 onset_s, onset_s);
    char json[2048];
    snprintf(json, sizeof json,
             "{\"name\": \"onset-budget\", \"seed\": %d, \"duration_s\": "
             "28800, \"fleet\": {\"endpoints\": 20000, "
             "\"heartbeat_interval_s\": 60, \"internal\": 100, \"jitter_s\": "
             "10, \"strata\": [{\"name\": \"win\", \"share\": 0.5}, "
             "{\"name\": \"mac\", \"share\": 0.2}, {\"name\": \"linux\", "
             "\"share\": 0.2}, {\"name\": \"bsd\", \"share\": 0.1}]}, "
             "\"loss\": {\"independent\": %.3f, \"offline_share\": %.3f}, "
             "\"release\": {\"plan\": \"standard\", \"apply_latency_s\": [5, "
             "60], \"crash_revert_s\": %d}%s}",
             k + 1, loss, offline, revert_s, faults);
    rg_scenario sc = rg_test_scenario(json);
    return rg_test_sim_run(&sc, RG_SIM_ROLLGATE, 0);
}

static void delayed_onset_is_held_at_the_budget(void **state)
{
    (void)state;
    rg_exposure_params xp;
    rg_exposure_params_default(&xp);
    uint64_t r = 0x0a5e7;
    for (int k = 0; k < WORLDS; k++) {
        int onset = 600 + k * 3000 / (WORLDS - 1); /* 10 .. 60 min */
        rg_sim_result res = run_world(k, onset, &r);
        if (!res.halted || res.failed_or_crashed > xp.initial_budget)
            fail_msg("onset %d s (world %d): halted %d, %llu crashed "
                     "(bound %u)",
                     onset, k, res.halted,
                     (unsigned long long)res.failed_or_crashed,
                     xp.initial_budget);
        rg_sim_result_release(&res);
    }
}

static void good_release_completes(void **state)
{
    (void)state;
    uint64_t r = 0x600d;
    for (int k = 0; k < 2; k++) {
        rg_sim_result res = run_world(k, -1, &r);
        assert_false(res.halted);
        assert_true(res.completed);
        rg_sim_result_release(&res);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(delayed_onset_is_held_at_the_budget),
        cmocka_unit_test(good_release_completes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
