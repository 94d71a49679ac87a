/* The stratified floor of a guarded flag rollout (server/flag_floor.h):
 * on a fleet of 300 linux endpoints and 5 windows ones, the first counted
 * wave of the standard plan names, beyond the flag's share, the windows
 * stratum's endpoints of the lowest flag buckets (at least 3, ties
 * included), as model/exposure.h raises a release's share for a small
 * stratum; nothing before that wave; none already on at the share or
 * before the rollout.
 * ctest-labels: flags */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/clock.h"
#include "flags/share.h"
#include "model/plan.h"
#include "server/fleet.h"
#include "server/flag_floor.h"
#include "server/server.h"
#include "store/store.h"
#include "support/fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 INT64_C(1700000000000)
#define N_LINUX 300
#define N_WIN 5
#define FLAG "new-parser"

typedef struct world {
    int64_t now;
    rg_clock clock;
    rg_server srv;
} world;

static void setup(world *w)
{
    rg_err err;
    rg_err_clear(&err);
    char id[32];
    memset(w, 0, sizeof *w);
    w->now = T0;
    rg_test_server_store(&w->srv, &w->clock, &w->now);
    rg_test_ok(rg_fleet_open(&w->srv, &w->srv.fleet, &err), &err);
    for (int i = 0; i < N_LINUX + N_WIN; i++) {
        snprintf(id, sizeof id, "%s-%d", i < N_LINUX ? "lx" : "win", i);
        rg_test_enroll(&w->srv, id, i < N_LINUX ? "linux" : "windows", "1",
                       w->now);
    }
}

static void teardown(world *w)
{
    rg_fleet_close(w->srv.fleet);
    rg_store_close(w->srv.store);
}

/* The third smallest flag bucket among the windows endpoints. */
static uint32_t third_lowest_windows(void)
{
    uint32_t b[N_WIN];
    char id[32];
    for (int i = 0; i < N_WIN; i++) {
        snprintf(id, sizeof id, "win-%d", N_LINUX + i);
        b[i] = rg_flag_share_bucket(FLAG, id);
    }
    for (int i = 0; i < N_WIN; i++) /* sorted by insertion */
        for (int j = i; j > 0 && b[j] < b[j - 1]; j--) {
            uint32_t t = b[j];
            b[j] = b[j - 1];
            b[j - 1] = t;
        }
    return b[2];
}

static void floor_names_small_strata(void **state)
{
    (void)state;
    world w;
    rg_err err;
    rg_plan plan;
    char **ids = NULL;
    size_t n = 0;
    rg_err_clear(&err);
    setup(&w);
    rg_test_ok(rg_plan_builtin("standard", &plan, &err), &err);
    /* wave 0 is the internal ring: no floor yet */
    rg_test_ok(rg_flag_floor(w.srv.fleet, FLAG, &plan, 0, 0, 0, &ids, &n, &err),
               &err);
    assert_int_equal(n, 0);
    /* wave 1 at 1%: every windows endpoint up to the third lowest bucket
     * that 1% does not already turn on; no linux one (300 endpoints in
     * 100 buckets: 1% already holds three) */
    uint32_t share = plan.waves[1].share_ppm, third = third_lowest_windows();
    rg_test_ok(
        rg_flag_floor(w.srv.fleet, FLAG, &plan, 1, share, 0, &ids, &n, &err),
        &err);
    size_t want = 0;
    char id[32];
    for (int i = 0; i < N_WIN; i++) {
        snprintf(id, sizeof id, "win-%d", N_LINUX + i);
        uint32_t b = rg_flag_share_bucket(FLAG, id);
        bool in = b <= third && b >= rg_flag_share_percent(share) * 10000u;
        want += in;
        assert_int_equal(rg_flag_floor_has(ids, n, id), in);
    }
    assert_true(want >= 1);
    assert_int_equal(n, want);
    for (size_t i = 1; i < n; i++)
        assert_true(strcmp(ids[i - 1], ids[i]) < 0);
    rg_flag_floor_free(ids, n);
    /* the flag was at 100% before: the floor turns nobody on */
    rg_test_ok(
        rg_flag_floor(w.srv.fleet, FLAG, &plan, 1, share, 100, &ids, &n, &err),
        &err);
    assert_int_equal(n, 0);
    teardown(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(floor_names_small_strata),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
