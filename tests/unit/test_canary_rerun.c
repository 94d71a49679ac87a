/* A release rolled out again after its first rollout was halted, on the
 * server's real controller (desired.c's check-in answers, canary.c's
 * admission and counting, the orchestrator's tick and health gate) over
 * an in-memory store and a manual clock. The canary slots of the release
 * belong to one rollout: endpoints admitted, exposed or reported healthy
 * in the first rollout are not admitted by the second straight away and
 * do not grow its budget; its stratum starts again at the initial budget,
 * before its first tick, after it, and after a restart (slots rebuilt from
 * the events received since the second rollout was created).
 * ctest-labels: canary */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/clock.h"
#include "common/crypto.h"
#include "common/err.h"
#include "model/bucket.h"
#include "model/exposure.h"
#include "model/plan.h"
#include "model/rollout.h"
#include "server/canary.h"
#include "server/desired.h"
#include "server/fleet.h"
#include "server/orchestrator.h"
#include "server/server.h"
#include "store/store.h"
#include "support/fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_EPS 150
#define T0 INT64_C(1700000000000)

typedef struct ep {
    char id[32];
    uint8_t tok[RG_FLEET_TOKEN_BYTES];
    bool bad; /* reports failed */
} ep;

typedef struct world {
    int64_t now;
    rg_clock clock;
    rg_server srv;
    int64_t rel2, rel3;
    ep eps[N_EPS];
    uint64_t ev_seq;
} world;

/* Creates a running rollout of release with a one-wave plan (100%, W one
 * minute, revert on halt); returns its id. */
static int64_t start_rollout(world *w, int64_t release)
{
    rg_err err;
    rg_err_clear(&err);
    rg_rollout_rec *r = calloc(1, sizeof *r);
    assert_non_null(r);
    r->release_id = release;
    json_t *plan =
        json_loads("{\"on_halt\":\"revert\",\"waves\":[{\"share\":100,"
                   "\"min_endpoints\":1,\"window_s\":60}]}",
                   0, NULL);
    assert_non_null(plan);
    rg_test_ok(rg_plan_from_json(plan, &r->plan, &err), &err);
    json_decref(plan);
    snprintf(r->salt, sizeof r->salt, "salt-%lld", (long long)w->now);
    rg_rollout_status pending = {0};
    rg_transition tr;
    rg_test_ok(rg_rollout_command(&r->plan, &pending, RG_CMD_START, "go",
                                  w->now, N_EPS, &r->status, &tr, &err),
               &err);
    r->created_ms = w->now;
    rg_test_ok(rg_store_rollout_create(w->srv.store, r, NULL, &err), &err);
    rg_test_ok(rg_server_state_changed(&w->srv, &err), &err);
    int64_t id = r->id;
    free(r);
    return id;
}

static int rollout_state(world *w, int64_t id)
{
    rg_err err;
    rg_err_clear(&err);
    rg_rollout_rec *r = malloc(sizeof *r);
    assert_non_null(r);
    rg_test_ok(rg_store_rollout_get(w->srv.store, id, r, &err), &err);
    int state = r->status.state;
    free(r);
    return state;
}

static void open_server(world *w)
{
    rg_err err;
    rg_err_clear(&err);
    rg_test_ok(rg_fleet_open(&w->srv, &w->srv.fleet, &err), &err);
    rg_test_ok(rg_desired_open(&w->srv, &w->srv.desired, &err), &err);
}

static void setup_world(world *w)
{
    rg_err err;
    rg_err_clear(&err);
    memset(w, 0, sizeof *w);
    w->now = T0;
    assert_int_equal(rg_crypto_init(), 0);
    rg_test_server_store(&w->srv, &w->clock, &w->now);
    w->rel2 = rg_test_add_release(w->srv.store, "detections", 2, w->now);
    w->rel3 = rg_test_add_release(w->srv.store, "detections", 3, w->now);
    /* v2 is the channel's current release: a completed rollout. */
    free(rg_test_add_rollout(w->srv.store, w->rel2, RG_RO_COMPLETED, w->now,
                             NULL));
    open_server(w);
    rg_endpoint_rec *e = calloc(1, sizeof *e);
    assert_non_null(e);
    for (size_t i = 0; i < N_EPS; i++) {
        ep *x = &w->eps[i];
        snprintf(x->id, sizeof x->id, "ep-%zu", i);
        x->bad = i % 5 == 0;
        char token[64], hex[RG_HASH_HEX];
        snprintf(token, sizeof token, "tok-%s", x->id);
        rg_sha256_hex(token, strlen(token), hex);
        rg_test_token_bin(hex, x->tok);
        snprintf(e->id, sizeof e->id, "%s", x->id);
        snprintf(e->token_hash, sizeof e->token_hash, "%s", hex);
        snprintf(e->attrs_json, sizeof e->attrs_json,
                 "{\"os\":\"windows\",\"os_version\":\"10\","
                 "\"arch\":\"x86_64\",\"tags\":[]}");
        snprintf(e->installed_json, sizeof e->installed_json, "{}");
        e->enrolled_ms = w->now;
        rg_test_ok(rg_store_endpoint_enroll(w->srv.store, e, NULL, &err), &err);
        rg_test_ok(rg_fleet_put(w->srv.fleet, e, &err), &err);
    }
    free(e);
}

static void teardown_world(world *w)
{
    rg_desired_close(w->srv.desired);
    rg_fleet_close(w->srv.fleet);
    rg_store_close(w->srv.store);
}

/* One check-in of x with events (rg_event_type codes) for v3;
 * returns the desired release. */
static int64_t checkin(world *w, ep *x, const int *types, size_t n)
{
    return rg_test_checkin(&w->srv, x->id, x->tok, w->now, w->rel3, types, n,
                           &w->ev_seq, true);
}

static void tick(world *w)
{
    rg_err err;
    rg_err_clear(&err);
    w->now += 1000;
    rg_test_ok(rg_orchestrator_tick(&w->srv, &err), &err);
}

/* Every endpoint checks in once with no report; returns how many are
 * given v3 and marks them in given[]. */
static unsigned everyone(world *w, bool *given)
{
    unsigned n = 0;
    for (size_t i = 0; i < N_EPS; i++) {
        given[i] = checkin(w, &w->eps[i], NULL, 0) == w->rel3;
        n += given[i];
    }
    w->now += 1000;
    return n;
}

/* Whether endpoint x has a canary slot for v3 with any flag. */
static bool has_slot(world *w, const ep *x)
{
    rg_err err;
    rg_err_clear(&err);
    rg_fleet_view v;
    rg_test_ok(rg_fleet_view_id(w->srv.fleet, x->id, &v, &err), &err);
    const rg_fleet_canary *cn = rg_fleet_canary_of(&v, w->rel3);
    return cn && cn->flags != 0;
}

static void rerun_starts_from_the_initial_budget(void **state)
{
    (void)state;
    world *w = calloc(1, sizeof *w);
    assert_non_null(w);
    setup_world(w);
    rg_exposure_params xp;
    rg_exposure_params_default(&xp);
    bool given[N_EPS], first[N_EPS];
    memset(first, 0, sizeof first);

    /* Rollout 1 of v3: admissions grow with healthy reports until the
     * failures (every fifth endpoint) halt it. */
    int64_t ro1 = start_rollout(w, w->rel3);
    tick(w);
    unsigned admitted1 = 0;
    for (int round = 0; round < 20 && rollout_state(w, ro1) == RG_RO_RUNNING;
         round++) {
        for (size_t i = 0; i < N_EPS; i++) {
            ep *x = &w->eps[i];
            if (first[i] || checkin(w, x, NULL, 0) != w->rel3)
                continue;
            first[i] = true;
            admitted1++;
            int applying = 0, outcome = x->bad ? 2 : 1;
            checkin(w, x, &applying, 1);
            w->now += 500;
            checkin(w, x, &outcome, 1);
        }
        tick(w);
    }
    assert_int_equal(rollout_state(w, ro1), RG_RO_HALTED);
    assert_true(admitted1 > xp.initial_budget); /* the budget grew */
    /* The halt reverts: nobody is given v3 any more. */
    assert_int_equal(everyone(w, given), 0);

    /* Rollout 2 of the same release. Before its first tick nobody is
     * given v3: the admissions of rollout 1 do not count for it. */
    w->now += 60000;
    int64_t ro2 = start_rollout(w, w->rel3);
    for (size_t i = 0; i < N_EPS; i++)
        if (first[i])
            assert_int_not_equal(checkin(w, &w->eps[i], NULL, 0), w->rel3);
    /* Its first tick frees the slots; the stratum starts again at the
     * initial budget (rollout 1's healthy reports do not grow it). */
    tick(w);
    for (size_t i = 0; i < N_EPS; i++)
        assert_false(has_slot(w, &w->eps[i]));
    unsigned n2 = everyone(w, given);
    assert_int_equal(n2, xp.initial_budget);
    tick(w);
    assert_int_equal(everyone(w, given), xp.initial_budget); /* they keep it */
    assert_int_equal(rollout_state(w, ro2), RG_RO_RUNNING);

    /* Two of them apply; then a restart: the slots are rebuilt from the
     * events received since rollout 2 was created, so rollout 1's
     * exposures and healthy reports stay out and nothing else is given
     * v3 until its own healthy reports grow the budget. */
    unsigned applied = 0;
    for (size_t i = 0; i < N_EPS && applied < 2; i++) {
        if (!given[i])
            continue;
        int applying = 0;
        checkin(w, &w->eps[i], &applying, 1);
        applied++;
    }
    rg_desired_close(w->srv.desired);
    rg_fleet_close(w->srv.fleet);
    open_server(w);
    tick(w);
    unsigned slots = 0;
    for (size_t i = 0; i < N_EPS; i++)
        slots += has_slot(w, &w->eps[i]);
    assert_int_equal(slots, applied);
    unsigned n3 = everyone(w, given);
    assert_true(n3 <= xp.initial_budget);
    assert_true(n3 >= applied); /* the exposed keep it */
    teardown_world(w);
    free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rerun_starts_from_the_initial_budget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
