/* Unit tests for src/server/strata.c: a rollout's per-stratum states taken
 * from the gate's verdicts, held strata opened by an operator, a halt the
 * evidence pins on no stratum, persistence through the decisions'
 * strata_state (and the legacy defaults), settling and forgetting.
 * ctest-labels: canary */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/clock.h"
#include "model/plan.h"
#include "model/rollout.h"
#include "server/fleet.h"
#include "server/server.h"
#include "server/strata.h"
#include "store/store.h"
#include "support/fixture.h"

#include <stdlib.h>
#include <string.h>

#define T0 INT64_C(1700000000000)

typedef struct world {
    int64_t now;
    rg_clock clock;
    rg_server srv;
    rg_strata *st;
    int64_t rel;
    uint32_t lx, w10; /* fleet strata */
} world;

static uint32_t enroll(world *w, const char *id, const char *os,
                       const char *ver)
{
    return rg_test_enroll(&w->srv, id, os, ver, w->now);
}

static void setup(world *w)
{
    rg_err err;
    rg_err_clear(&err);
    memset(w, 0, sizeof *w);
    w->now = T0;
    rg_test_server_store(&w->srv, &w->clock, &w->now);
    w->rel = rg_test_add_release(w->srv.store, "detections", 1, w->now);
    rg_test_ok(rg_fleet_open(&w->srv, &w->srv.fleet, &err), &err);
    w->lx = enroll(w, "lx-1", "linux", "6");
    w->w10 = enroll(w, "w10-1", "windows", "10");
    assert_int_not_equal(w->lx, w->w10);
    rg_test_ok(rg_strata_new(&w->st, &err), &err);
}

static void teardown(world *w)
{
    rg_strata_free(w->st);
    rg_fleet_close(w->srv.fleet);
    rg_store_close(w->srv.store);
}

/* Gate evidence with "strata" verdicts: pairs of name, verdict. */
static json_t *verdicts(const char *n1, const char *v1, const char *n2,
                        const char *v2)
{
    json_t *e = json_pack("{s:[{s:s,s:s,s:s},{s:s,s:s,s:s}]}", "strata", "name",
                          n1, "verdict", v1, "reason", "r", "name", n2,
                          "verdict", v2, "reason", "r");
    assert_non_null(e);
    return e;
}

static void states_follow_verdicts(void **state)
{
    (void)state;
    world w;
    setup(&w);
    assert_int_equal(rg_strata_get(w.st, 5, w.lx), -1); /* unknown */
    json_t *e =
        verdicts("linux-6-x86_64", "pass", "windows-10-x86_64", "pending");
    assert_true(rg_strata_update(w.st, w.srv.fleet, 5, e, false));
    assert_int_equal(rg_strata_get(w.st, 5, w.lx), RG_STRATUM_CLEARED);
    assert_int_equal(rg_strata_get(w.st, 5, w.w10), RG_STRATUM_OPEN);
    assert_false(rg_strata_update(w.st, w.srv.fleet, 5, e, false)); /* same */
    assert_false(rg_strata_settled(w.st, w.srv.fleet, 5));
    json_decref(e);

    /* hold, then an operator's resume opens it again */
    e = verdicts("linux-6-x86_64", "pending", "windows-10-x86_64", "hold");
    assert_true(rg_strata_update(w.st, w.srv.fleet, 5, e, false));
    json_decref(e);
    assert_int_equal(rg_strata_get(w.st, 5, w.lx), RG_STRATUM_CLEARED);
    assert_int_equal(rg_strata_get(w.st, 5, w.w10), RG_STRATUM_HELD);
    json_t *j = rg_strata_json(w.st, w.srv.fleet, 5);
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(j, "held"), 0)),
        "windows-10-x86_64");
    json_decref(j);
    assert_true(rg_strata_release_holds(w.st, 5));
    assert_false(rg_strata_release_holds(w.st, 5));
    assert_int_equal(rg_strata_get(w.st, 5, w.w10), RG_STRATUM_OPEN);

    /* a later pass clears it: every stratum cleared, settled */
    e = verdicts("linux-6-x86_64", "pending", "windows-10-x86_64", "pass");
    rg_strata_update(w.st, w.srv.fleet, 5, e, false);
    json_decref(e);
    assert_true(rg_strata_settled(w.st, w.srv.fleet, 5));

    /* a halt naming no stratum halts them all; unknown names are skipped */
    e = verdicts("nope", "halt", "linux-6-x86_64", "pending");
    assert_true(rg_strata_update(w.st, w.srv.fleet, 6, e, true));
    json_decref(e);
    assert_int_equal(rg_strata_get(w.st, 6, w.lx), RG_STRATUM_HALTED);
    assert_int_equal(rg_strata_get(w.st, 6, w.w10), RG_STRATUM_HALTED);
    /* no "strata" at all changes nothing unless it is a halt */
    assert_false(rg_strata_update(w.st, w.srv.fleet, 5, NULL, false));

    int64_t keep = 6;
    rg_strata_retain(w.st, &keep, 1);
    assert_int_equal(rg_strata_get(w.st, 5, w.lx), -1);
    assert_int_equal(rg_strata_get(w.st, 6, w.lx), RG_STRATUM_HALTED);
    teardown(&w);
}

/* A stored rollout in state whose decision has evidence ev (or none). */
static rg_rollout_rec *stored_rollout(world *w, int state, const char *ev)
{
    w->now += 10;
    return rg_test_add_rollout(w->srv.store, w->rel, state, w->now, ev);
}

static void restore_from_the_store(void **state)
{
    (void)state;
    world w;
    setup(&w);
    rg_err err;
    rg_err_clear(&err);
    rg_rollout_rec *r = stored_rollout(
        &w, RG_RO_HALTED,
        "{\"strata_state\":{\"cleared\":[\"linux-6-x86_64\"],\"held\":[],"
        "\"halted\":[\"windows-10-x86_64\"]}}");
    assert_int_equal(rg_strata_restore(w.st, w.srv.store, w.srv.fleet, r, &err),
                     1);
    assert_int_equal(rg_strata_restore(w.st, w.srv.store, w.srv.fleet, r, &err),
                     0); /* once */
    assert_int_equal(rg_strata_get(w.st, r->id, w.lx), RG_STRATUM_CLEARED);
    assert_int_equal(rg_strata_get(w.st, r->id, w.w10), RG_STRATUM_HALTED);
    free(r);

    /* Made before strata states were stored: a halt reverted everyone,
     * a completion gave everyone the release. */
    r = stored_rollout(&w, RG_RO_HALTED, NULL);
    assert_int_equal(rg_strata_restore(w.st, w.srv.store, w.srv.fleet, r, &err),
                     1);
    assert_int_equal(rg_strata_get(w.st, r->id, w.lx), RG_STRATUM_HALTED);
    free(r);
    r = stored_rollout(&w, RG_RO_COMPLETED, NULL);
    assert_int_equal(rg_strata_restore(w.st, w.srv.store, w.srv.fleet, r, &err),
                     1);
    assert_true(rg_strata_settled(w.st, w.srv.fleet, r->id));
    free(r);
    teardown(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(states_follow_verdicts),
        cmocka_unit_test(restore_from_the_store),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
