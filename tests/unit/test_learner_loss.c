/* Property test of the learner's rule under loss (src/health/cohort.c
 * `learn`, docs/health.md "The activation allowance A"): an exposure is
 * late at a candidate allowance t only when it was heard from in
 * [a + t, a + t + W) and had not reported healthy by its end, so lost
 * check-ins and offline stretches, which delay a healthy report without
 * being heard, do not stretch the learned allowance. Through
 * rollgate-sim's model mode (the tracker rollgated counts with), the
 * emergency lane, a release that declares nothing:
 *  - good releases, any independent loss in [0, 0.3], offline stretches
 *    up to 15 % of the fleet, healthy 5 s to up to 300 s after applying:
 *    none is halted, each completes, and the allowance, once proved, is
 *    at most the first candidate at or above the longest activation
 *    (the documented bound; the learned A does not follow the loss).
 *    Counting lateness by the healthy report's arrival (the rule before)
 *    proves nothing below the cap at 25 % loss: the bound fails;
 *  - a release that silences every host of one stratum (a hang: no
 *    check-in, no report) is still halted, with no more endpoints dark
 *    than the stratum's initial budget (6).
 * ctest-labels: canary */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "health/silence.h"
#include "sim/policy.h"
#include "sim/sim.h"
#include "support/prng.h"
#include "support/simrun.h"

#include <stdio.h>
#include <string.h>

#define WORLDS 10
#define FLEET_FMT                                                              \
    "\"fleet\": {\"endpoints\": 12000, \"heartbeat_interval_s\": 60, "         \
    "\"internal\": 200, \"jitter_s\": %d, \"strata\": [{\"name\": \"win\", "   \
    "\"share\": 0.5}, {\"name\": \"mac\", \"share\": 0.3}, {\"name\": "        \
    "\"linux\", \"share\": 0.2}]}, "

/* The largest allowance a stratum was given once final (0: never). */
typedef struct learned {
    int64_t max_final_ms;
    size_t strata;
} learned;

static void on_tick(void *ctx, const rg_sim_tick *t)
{
    learned *l = ctx;
    for (size_t k = 0; k < l->strata; k++)
        if (t->allowance_final[k] && t->allowance_ms[k] > l->max_final_ms)
            l->max_final_ms = t->allowance_ms[k];
}

/* Runs json under Rollgate; *l: the allowances it was given. */
static rg_sim_result run(const char *json, learned *l)
{
    rg_scenario sc = rg_test_scenario(json);
    *l = (learned){.strata = sc.n_strata};
    return rg_test_sim_run_ticks(&sc, 0, on_tick, l);
}

/* The first candidate allowance at or above ms (the cap if none). */
static int64_t step_above(int64_t ms)
{
    rg_silence_params p;
    rg_silence_params_default(&p);
    for (int j = 0; j < RG_ACT_STEPS; j++)
        if (rg_act_step_ms(&p, j) >= ms)
            return rg_act_step_ms(&p, j);
    return p.cap_ms;
}

static void good_release_under_loss(void **state)
{
    (void)state;
    uint64_t r = 0x1055;
    for (int k = 0; k < WORLDS; k++) {
        /* loss spread over [0, 0.3], the last worlds at the top */
        double loss = k >= WORLDS - 2 ? 0.3 : 0.3 * rg_prng_unif(&r);
        double offline = 0.15 * rg_prng_unif(&r);
        int hi = 5 + (int)(rg_prng_next(&r) % 296); /* 5 .. 300 s */
        char json[2048];
        snprintf(json, sizeof json,
                 "{\"name\": \"learner-loss\", \"seed\": %d, \"duration_s\": "
                 "10800, " FLEET_FMT
                 "\"loss\": {\"independent\": %.3f, \"offline_share\": "
                 "%.3f}, \"release\": {\"plan\": \"emergency\", "
                 "\"apply_latency_s\": [5, 60], \"healthy_after_s\": [5, "
                 "%d]}}",
                 k + 1, (int)(rg_prng_next(&r) % 21), loss, offline, hi);
        learned l;
        rg_sim_result res = run(json, &l);
        if (res.halted || !res.completed || l.max_final_ms == 0 ||
            l.max_final_ms > step_above((int64_t)hi * 1000))
            fail_msg("%s: halted %d completed %d, allowance %lld ms (bound "
                     "%lld)",
                     json, res.halted, res.completed, (long long)l.max_final_ms,
                     (long long)step_above((int64_t)hi * 1000));
        rg_sim_result_release(&res);
    }
}

/* Every host of one stratum hangs at once after applying: silent, no
 * report. A host that does not check in is never late (it is not heard),
 * so a small allowance may be proved from the other strata; its spans
 * then start early and are silent while its controls are heard. */
static void silencing_crash_is_halted(void **state)
{
    (void)state;
    for (int seed = 1; seed <= 3; seed++) {
        char json[2048];
        snprintf(json, sizeof json,
                 "{\"name\": \"learner-hang\", \"seed\": %d, \"duration_s\": "
                 "10800, " FLEET_FMT
                 "\"loss\": {\"independent\": 0.25, \"offline_share\": "
                 "0.1}, \"release\": {\"plan\": \"emergency\", "
                 "\"apply_latency_s\": [5, 60], \"healthy_after_s\": [5, "
                 "60]}, \"faults\": [{\"stratum\": \"mac\", \"hang\": 1.0}]}",
                 seed, 10);
        learned l;
        rg_sim_result res = run(json, &l);
        assert_true(res.halted);
        assert_false(res.completed);
        /* no more dark than the stratum's initial budget */
        assert_true(res.failed_or_crashed <= 6);
        rg_sim_result_release(&res);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(good_release_under_loss),
        cmocka_unit_test(silencing_crash_is_halted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
