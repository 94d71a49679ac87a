/* The gate of several nodes decides as one node would (docs/scale.md,
 * "Several nodes"). The same fleet and the same evidence go to a single
 * node (its own store) and to two nodes sharing one PostgreSQL schema,
 * each endpoint always through the same one of the two: its check-ins,
 * the offers it is given and its events reach only that node's memory and
 * the shared store. The two nodes flush check-in times and read each
 * other's writes through the tails (cluster.h), as rollgated does; the
 * one that leads decides. Every decision the leader stores (state, wave,
 * reason, counts) equals the single node's, tick for tick, through a
 * rollout's waves to its end. Runs beside a throwaway PostgreSQL
 * (tests/with_postgres.sh; CTest test_cluster_gate_pg).
 * ctest-labels: cluster */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/clock.h"
#include "common/crypto.h"
#include "common/event_type.h"
#include "server/cluster.h"
#include "server/desired.h"
#include "server/fleet.h"
#include "server/orchestrator.h"
#include "server/server.h"
#include "store/store.h"
#include "support/fixture.h"
#include "support/storeurl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_EPS 80
#define T0 INT64_C(1700000000000)
#define PERIOD_S 10 /* each endpoint checks in every 10 s */

typedef struct ep {
    char id[32];
    uint8_t tok[RG_FLEET_TOKEN_BYTES];
    int step; /* 0 nothing, 1 given, 2 applying sent, 3 outcome sent */
} ep;

typedef struct world {
    int64_t now;
    rg_clock clock;
    rg_server one;     /* the single node, SQLite in memory */
    rg_server node[2]; /* the cluster on one PostgreSQL schema */
    char url[600];
    int64_t rel2, rel3; /* the same ids in both stores */
    int64_t ro_one, ro_cluster;
    ep eps[N_EPS];
    uint64_t ev_seq;
} world;

/* The channel, v2 completed (current), v3 to roll out, in s. */
static void fill_store(world *w, rg_store *s)
{
    rg_err err;
    rg_err_clear(&err);
    w->rel2 = rg_test_add_release(s, "detections", 2, w->now);
    w->rel3 = rg_test_add_release(s, "detections", 3, w->now);
    free(rg_test_add_rollout(s, w->rel2, RG_RO_COMPLETED, w->now, NULL));
    rg_endpoint_rec *e = calloc(1, sizeof *e);
    assert_non_null(e);
    for (size_t i = 0; i < N_EPS; i++) {
        char token[64];
        snprintf(token, sizeof token, "tok-%s", w->eps[i].id);
        snprintf(e->id, sizeof e->id, "%s", w->eps[i].id);
        rg_sha256_hex(token, strlen(token), e->token_hash);
        rg_test_token_bin(e->token_hash, w->eps[i].tok);
        snprintf(e->attrs_json, sizeof e->attrs_json,
                 "{\"os\":\"%s\",\"os_version\":\"10\",\"arch\":\"x86_64\","
                 "\"tags\":[]}",
                 i % 3 ? "windows" : "linux");
        snprintf(e->installed_json, sizeof e->installed_json, "{}");
        e->enrolled_ms = w->now;
        rg_test_ok(rg_store_endpoint_enroll(s, e, NULL, &err), &err);
    }
    free(e);
}

/* Fleet and desired state of srv, loaded from its store. */
static void open_node(rg_server *srv)
{
    rg_err err;
    rg_err_clear(&err);
    rg_test_ok(rg_fleet_open(srv, &srv->fleet, &err), &err);
    rg_test_ok(rg_desired_open(srv, &srv->desired, &err), &err);
}

static void setup_world(world *w)
{
    rg_err err;
    rg_err_clear(&err);
    w->now = T0;
    assert_int_equal(rg_crypto_init(), 0);
    for (size_t i = 0; i < N_EPS; i++)
        snprintf(w->eps[i].id, sizeof w->eps[i].id, "ep-%03zu", i);
    rg_test_server_store(&w->one, &w->clock, &w->now);
    fill_store(w, w->one.store);
    open_node(&w->one);
    rg_test_store_url("/tmp", "cluster_gate", w->url, sizeof w->url);
    for (int k = 0; k < 2; k++) {
        rg_server *n = &w->node[k];
        n->clock = &w->clock;
        n->cfg.checkin_interval_s = 60;
        snprintf(n->cfg.store, sizeof n->cfg.store, "%s", w->url);
        rg_test_ok(rg_store_open(w->url, &n->store, &err), &err);
    }
    rg_channel_rec ch = {.created_ms = w->now};
    snprintf(ch.name, sizeof ch.name, "detections");
    rg_test_ok(rg_store_channel_create(w->node[0].store, &ch, NULL, &err),
               &err);
    fill_store(w, w->node[0].store);
    for (int k = 0; k < 2; k++) {
        open_node(&w->node[k]);
        char id[8];
        snprintf(id, sizeof id, "n%d", k);
        rg_test_ok(rg_cluster_start(&w->node[k], id, &err), &err);
    }
}

static void teardown_world(world *w)
{
    rg_server *all[] = {&w->one, &w->node[0], &w->node[1]};
    for (size_t k = 0; k < 3; k++) {
        rg_cluster_stop(all[k]);
        rg_desired_close(all[k]->desired);
        rg_fleet_close(all[k]->fleet);
        rg_store_close(all[k]->store);
    }
    rg_test_store_drop(w->url);
}

/* Waits (real time, 20 s at most) until exactly one node leads; returns
 * it. */
static int leader(world *w)
{
    for (int i = 0; i < 200; i++) {
        bool a = rg_cluster_leads(&w->node[0]),
             b = rg_cluster_leads(&w->node[1]);
        if (a != b)
            return a ? 0 : 1;
        nanosleep(&(struct timespec){.tv_nsec = 100000000}, NULL);
    }
    fail_msg("no single leader after 20 s");
    return -1;
}

/* Creates the rollout of v3 (two waves, 20% then all, W one minute) in
 * srv's store with the same salt and time everywhere; returns its id. */
static int64_t start_rollout(world *w, rg_server *srv)
{
    rg_err err;
    rg_err_clear(&err);
    rg_rollout_rec *r = calloc(1, sizeof *r);
    assert_non_null(r);
    r->release_id = w->rel3;
    json_t *plan = json_loads(
        "{\"on_halt\":\"revert\",\"waves\":[{\"share\":20,\"min_endpoints\":1,"
        "\"min_bake_s\":30,\"window_s\":60},{\"share\":100,"
        "\"min_endpoints\":1,\"min_bake_s\":30,\"window_s\":60}]}",
        0, NULL);
    assert_non_null(plan);
    rg_test_ok(rg_plan_from_json(plan, &r->plan, &err), &err);
    json_decref(plan);
    snprintf(r->salt, sizeof r->salt, "cluster-gate");
    rg_rollout_status pending = {0};
    rg_transition tr;
    rg_test_ok(rg_rollout_command(&r->plan, &pending, RG_CMD_START, "go",
                                  w->now, N_EPS, &r->status, &tr, &err),
               &err);
    r->created_ms = w->now;
    rg_test_ok(rg_store_rollout_create(srv->store, r, NULL, &err), &err);
    int64_t id = r->id;
    free(r);
    return id;
}

/* One check-in of x at srv with event type (< 0: none) for v3. Returns
 * the release srv's answer desires when answer, else 0 (a cluster node
 * gives what the single node gave: offer). */
static int64_t checkin(world *w, rg_server *srv, ep *x, int type, bool answer)
{
    rg_err err;
    rg_err_clear(&err);
    rg_fleet_checkin_out who;
    rg_test_ok(rg_fleet_checkin(srv->fleet, x->id, x->tok, w->now, NULL, 0,
                                &who, &err),
               &err);
    if (type >= 0) {
        rg_event_rec ev;
        memset(&ev, 0, sizeof ev);
        snprintf(ev.endpoint_id, sizeof ev.endpoint_id, "%s", x->id);
        snprintf(ev.event_id, sizeof ev.event_id, "e%llu",
                 (unsigned long long)++w->ev_seq);
        snprintf(ev.type, sizeof ev.type, "%s", rg_event_type_names[type]);
        snprintf(ev.channel, sizeof ev.channel, "detections");
        ev.release_id = w->rel3;
        ev.reported_ms = ev.received_ms = w->now;
        rg_test_ok(rg_store_events_record(srv->store, &ev, 1, NULL, &err),
                   &err);
        rg_test_ok(rg_fleet_canary_event(srv->fleet, x->id, w->rel3, type,
                                         w->now, &err),
                   &err);
    }
    if (!answer)
        return 0;
    json_t *d = json_object(), *no = json_array();
    rg_test_ok(rg_desired_for_checkin(srv->desired, srv->fleet, x->id, &who,
                                      w->now, d, no, &err),
               &err);
    json_t *entry = json_object_get(d, "detections");
    int64_t rel =
        entry ? json_integer_value(json_object_get(entry, "release")) : 0;
    json_decref(d);
    json_decref(no);
    return rel;
}

/* Records what the single node gave x (v3 for the first time) at the
 * cluster node x talks to, as its check-in there would have. */
static void offer(world *w, rg_server *srv, ep *x)
{
    rg_err err;
    rg_err_clear(&err);
    rg_test_ok(
        rg_store_offers_record(srv->store, x->id, &w->rel3, 1, w->now, &err),
        &err);
    rg_test_ok(rg_fleet_offer(srv->fleet, x->id, w->rel3, &err), &err);
    rg_test_ok(
        rg_fleet_canary_set(srv->fleet, x->id, w->rel3, RG_CN_ASSIGNED, &err),
        &err);
}

/* Endpoint i's turn: the single node answers (its admission decides who
 * gets v3); the same check-in, events and offer go to its cluster node.
 * Every seventh endpoint's content fails. */
static void turn(world *w, size_t i)
{
    ep *x = &w->eps[i];
    rg_server *mine = &w->node[i % 2];
    int type = x->step == 1 ? RG_EVENT_APPLYING
               : x->step == 2
                   ? (i % 7 == 0 ? RG_EVENT_FAILED : RG_EVENT_HEALTHY)
                   : -1;
    int64_t given = checkin(w, &w->one, x, type, true);
    checkin(w, mine, x, type, false);
    if (type >= 0)
        x->step++;
    if (x->step == 0 && given == w->rel3) {
        offer(w, mine, x);
        x->step = 1;
    }
}

/* The decisions of rollout id in s as text, one a line: from, to, waves,
 * reason, counts. */
typedef struct dtext {
    char buf[65536];
    size_t len;
    int max_wave;
} dtext;

static int add_decision(void *ctx, const rg_decision_rec *d)
{
    dtext *t = ctx;
    json_t *ev =
        json_loads(d->evidence_json ? d->evidence_json : "{}", 0, NULL);
    char *counts = json_dumps(json_object_get(ev, "counts"), JSON_SORT_KEYS);
    t->len += (size_t)snprintf(
        t->buf + t->len, sizeof t->buf - t->len, "%lld %d/%d -> %d/%d %s %s\n",
        (long long)d->at_ms, d->tr.from_state, d->tr.from_wave, d->tr.to_state,
        d->tr.to_wave, d->tr.reason, counts ? counts : "-");
    assert_true(t->len < sizeof t->buf);
    if (d->tr.to_wave > t->max_wave)
        t->max_wave = d->tr.to_wave;
    free(counts);
    json_decref(ev);
    return 0;
}

static void decisions(rg_store *s, int64_t id, dtext *t)
{
    rg_err err;
    rg_err_clear(&err);
    t->len = 0;
    t->max_wave = 0;
    t->buf[0] = '\0';
    rg_test_ok(rg_store_decision_list(s, id, add_decision, t, &err), &err);
}

/* One simulated second: the endpoints due check in, the cluster nodes
 * flush and read each other's writes, every node ticks. */
static void second(world *w, int lead)
{
    rg_err err;
    rg_err_clear(&err);
    for (size_t i = 0; i < N_EPS; i++)
        if ((w->now / 1000 + (int64_t)i) % PERIOD_S == 0)
            turn(w, i);
    for (int k = 0; k < 2; k++)
        rg_test_ok(rg_fleet_flush(w->node[k].fleet, &err), &err);
    for (int k = 0; k < 2; k++)
        rg_test_ok(rg_cluster_catch_up(&w->node[k], true, &err), &err);
    rg_test_ok(rg_orchestrator_tick(&w->one, &err), &err);
    rg_test_ok(rg_orchestrator_tick(&w->node[lead], &err), &err);
    rg_test_ok(rg_orchestrator_tick(&w->node[1 - lead], &err), &err);
    w->now += 1000;
}

static int state_of(rg_store *s, int64_t id)
{
    rg_err err;
    rg_err_clear(&err);
    rg_rollout_rec *r = malloc(sizeof *r);
    assert_non_null(r);
    rg_test_ok(rg_store_rollout_get(s, id, r, &err), &err);
    int st = r->status.state;
    free(r);
    return st;
}

static void leader_decides_as_one_node(void **state)
{
    (void)state;
    rg_err err;
    rg_err_clear(&err);
    world *w = calloc(1, sizeof *w);
    dtext *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    assert_true(w && a && b);
    setup_world(w);
    int lead = leader(w);
    w->ro_one = start_rollout(w, &w->one);
    w->ro_cluster = start_rollout(w, &w->node[lead]);
    rg_test_ok(rg_server_state_changed(&w->one, &err), &err);
    for (int k = 0; k < 2; k++)
        rg_test_ok(rg_server_state_changed(&w->node[k], &err), &err);
    for (int s = 0;
         s < 900 && state_of(w->one.store, w->ro_one) == RG_RO_RUNNING; s++) {
        second(w, lead);
        assert_int_equal(lead, leader(w));
    }
    decisions(w->one.store, w->ro_one, a);
    decisions(w->node[lead].store, w->ro_cluster, b);
    assert_int_not_equal(state_of(w->one.store, w->ro_one), RG_RO_RUNNING);
    assert_int_equal(a->max_wave, 1); /* through both waves */
    assert_string_equal(a->buf, b->buf);
    printf("same %zu bytes of decisions, single node and cluster:\n%s", a->len,
           a->buf);
    teardown_world(w);
    free(w);
    free(a);
    free(b);
}

int main(void)
{
    if (!rg_test_pg()) {
        fprintf(stderr, "test_cluster_gate: needs RG_TEST_PG "
                        "(tests/with_postgres.sh)\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(leader_decides_as_one_node),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
