/* Unit tests for src/server/desired.c (which release each endpoint should
 * have: assignment by wave, the internal ring, revert on halt, completed ->
 * everyone, notices and their estimate) and src/server/orchestrator.c (the
 * tick moving a stored rollout through its waves, persisting decisions
 * with evidence and audit rows, halting on a failure).
 * ctest-labels: foundation */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/clock.h"
#include "common/crypto.h"
#include "common/err.h"
#include "model/activation.h"
#include "model/bucket.h"
#include "model/plan.h"
#include "model/rollout.h"
#include "server/canary.h"
#include "server/desired.h"
#include "server/fleet.h"
#include "server/orchestrator.h"
#include "server/server.h"
#include "server/summary.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T0 INT64_C(1700000000000)
#define MIN 60000

/* internal ring -> 10% -> 100%, each 1 min bake and W = 1 min. */
static const char *plan_json =
    "{\"name\":\"custom\",\"on_halt\":\"revert\",\"waves\":["
    "{\"name\":\"ring\",\"internal\":true,\"share\":0,\"min_endpoints\":1,"
    "\"min_bake_s\":60,\"window_s\":60},"
    "{\"name\":\"ten\",\"share\":10,\"min_endpoints\":1,\"min_bake_s\":60,"
    "\"window_s\":60},"
    "{\"name\":\"all\",\"share\":100,\"min_endpoints\":1,\"min_bake_s\":60,"
    "\"window_s\":60}]}";

static void load_plan(rg_plan *p, const char *on_halt)
{
    json_t *v = json_loads(plan_json, 0, NULL);
    assert_non_null(v);
    if (on_halt)
        json_object_set_new(v, "on_halt", json_string(on_halt));
    rg_err err;
    rg_err_clear(&err);
    assert_int_equal(rg_plan_from_json(v, p, &err), 0);
    json_decref(v);
}

static void release(rg_release_rec *r, int64_t id, int64_t version)
{
    memset(r, 0, sizeof *r);
    r->id = id;
    r->version = version;
    snprintf(r->channel, sizeof r->channel, "detections");
    snprintf(r->sha256, sizeof r->sha256, "%064lld", (long long)id);
    r->size = 100;
    snprintf(r->notes, sizeof r->notes, "release %lld", (long long)id);
    snprintf(r->urgency, sizeof r->urgency, "standard");
}

/* A channel whose rollout 5 moves release 2 over previous release 1. */
static rg_desired_channel *
channel_with_rollout(int state, int wave, uint32_t share, const char *on_halt)
{
    rg_desired_channel *c = calloc(1, sizeof *c);
    assert_non_null(c);
    c->channel.id = 1;
    snprintf(c->channel.name, sizeof c->channel.name, "detections");
    c->channel.current_release_id = 1;
    release(&c->current, 1, 10);
    release(&c->prev, 1, 10);
    release(&c->release, 2, 11);
    c->has_rollout = true;
    c->rollout.id = 5;
    c->rollout.release_id = 2;
    c->rollout.prev_release_id = 1;
    load_plan(&c->rollout.plan, on_halt);
    snprintf(c->rollout.salt, sizeof c->rollout.salt, "0123456789abcdef");
    c->rollout.status.state = state;
    c->rollout.status.wave = wave;
    c->rollout.status.share_ppm = share;
    c->rollout.status.wave_started_ms = T0;
    c->rollout.status.updated_ms = T0;
    return c;
}

/* An endpoint id whose bucket under the test salt is below (inside) or at
 * least (outside) share. */
static void find_id(uint32_t share, bool inside, char out[32])
{
    for (int i = 0;; i++) {
        snprintf(out, 32, "host-%d", i);
        uint32_t b = rg_bucket("0123456789abcdef", out);
        if (rg_bucket_in(b, share) == inside)
            return;
    }
}

static void no_rollout_means_current_release(void **state)
{
    (void)state;
    rg_desired_channel *c = channel_with_rollout(RG_RO_RUNNING, 0, 0, NULL);
    c->has_rollout = false;
    rg_desired_pick p;
    rg_desired_pick_for(c, "host-1", false, T0, 100, &p);
    assert_ptr_equal(p.release, &c->current);
    assert_int_equal(p.rollout_id, 0);
    assert_null(p.notice);
    c->current.id = 0;
    rg_desired_pick_for(c, "host-1", false, T0, 100, &p);
    assert_null(p.release);
    free(c);
}

static void internal_ring_first_then_waves(void **state)
{
    (void)state;
    const uint64_t fleet = 10000;
    rg_desired_channel *c = channel_with_rollout(RG_RO_RUNNING, 0, 0, NULL);
    rg_desired_pick p;
    char in10[32], out10[32];
    find_id(100000, true, in10);
    find_id(100000, false, out10);

    /* Wave 0: only internal endpoints get release 2. */
    rg_desired_pick_for(c, in10, true, T0 + 1000, fleet, &p);
    assert_ptr_equal(p.release, &c->release);
    assert_int_equal(p.rollout_id, 5);
    assert_null(p.notice);
    rg_desired_pick_for(c, in10, false, T0 + 1000, fleet, &p);
    assert_ptr_equal(p.release, &c->prev);
    assert_int_equal(p.rollout_id, 0);
    assert_ptr_equal(p.notice, &c->release);
    /* Enters with wave 1, after wave 0's minimum bake. */
    assert_int_equal(p.earliest_ms, T0 + MIN);
    rg_desired_pick_for(c, out10, false, T0 + 1000, fleet, &p);
    assert_ptr_equal(p.notice, &c->release);
    assert_int_equal(p.earliest_ms, T0 + 2 * MIN);
    /* The estimate never lies in the past. */
    rg_desired_pick_for(c, out10, false, T0 + 10 * MIN, fleet, &p);
    assert_int_equal(p.earliest_ms, T0 + 10 * MIN);

    /* Wave 1 at 10%: exactly the endpoints whose bucket is inside. */
    c->rollout.status.wave = 1;
    c->rollout.status.share_ppm = 100000;
    int assigned = 0;
    for (int i = 0; i < 10000; i++) {
        char id[32];
        snprintf(id, sizeof id, "ep-%d", i);
        rg_desired_pick_for(c, id, false, T0, fleet, &p);
        bool inside = rg_bucket_in(rg_bucket(c->rollout.salt, id), 100000);
        assert_ptr_equal(p.release, inside ? &c->release : &c->prev);
        assert_true(inside ? p.notice == NULL : p.notice == &c->release);
        assigned += inside;
    }
    assert_in_range(assigned, 850, 1150);
    /* Paused: the assigned keep it; the estimate counts from now. */
    c->rollout.status.state = RG_RO_PAUSED;
    rg_desired_pick_for(c, in10, false, T0 + 5 * MIN, fleet, &p);
    assert_ptr_equal(p.release, &c->release);
    rg_desired_pick_for(c, out10, false, T0 + 5 * MIN, fleet, &p);
    assert_ptr_equal(p.release, &c->prev);
    assert_int_equal(p.earliest_ms, T0 + 6 * MIN);
    free(c);
}

static void halt_reverts_unless_pause(void **state)
{
    (void)state;
    char in10[32], out10[32];
    find_id(100000, true, in10);
    find_id(100000, false, out10);
    rg_desired_pick p;

    rg_desired_channel *c =
        channel_with_rollout(RG_RO_HALTED, 1, 100000, "revert");
    rg_desired_pick_for(c, in10, true, T0, 100, &p);
    assert_ptr_equal(p.release, &c->prev);
    assert_null(p.notice);
    rg_desired_pick_for(c, out10, false, T0, 100, &p);
    assert_ptr_equal(p.release, &c->prev);
    assert_null(p.notice);
    free(c);

    c = channel_with_rollout(RG_RO_HALTED, 1, 100000, "pause");
    rg_desired_pick_for(c, in10, false, T0, 100, &p);
    assert_ptr_equal(p.release, &c->release);
    rg_desired_pick_for(c, out10, false, T0, 100, &p);
    assert_ptr_equal(p.release, &c->prev);
    assert_null(p.notice); /* a halted rollout announces nothing */
    free(c);

    c = channel_with_rollout(RG_RO_ROLLED_BACK, 1, 100000, NULL);
    rg_desired_pick_for(c, in10, true, T0, 100, &p);
    assert_ptr_equal(p.release, &c->prev);
    assert_null(p.notice);
    /* Without a previous release there is nothing to go back to. */
    c->prev.id = 0;
    rg_desired_pick_for(c, in10, true, T0, 100, &p);
    assert_null(p.release);
    free(c);
}

static void completed_means_everyone(void **state)
{
    (void)state;
    rg_desired_channel *c =
        channel_with_rollout(RG_RO_COMPLETED, 2, RG_PPM, NULL);
    rg_desired_pick p;
    for (int i = 0; i < 1000; i++) {
        char id[32];
        snprintf(id, sizeof id, "ep-%d", i);
        rg_desired_pick_for(c, id, i % 2, T0, 1000, &p);
        assert_ptr_equal(p.release, &c->release);
        assert_int_equal(p.rollout_id, 5);
        assert_null(p.notice);
    }
    free(c);
}

static void pending_assigns_nobody_and_announces(void **state)
{
    (void)state;
    rg_desired_channel *c = channel_with_rollout(RG_RO_PENDING, 0, 0, NULL);
    char in10[32];
    find_id(100000, true, in10);
    rg_desired_pick p;
    rg_desired_pick_for(c, in10, true, T0 + 7, 10000, &p);
    assert_ptr_equal(p.release, &c->prev);
    assert_ptr_equal(p.notice, &c->release);
    assert_int_equal(p.earliest_ms, T0 + 7); /* internal: at start */
    rg_desired_pick_for(c, in10, false, T0 + 7, 10000, &p);
    assert_int_equal(p.earliest_ms, T0 + 7 + MIN);
    free(c);
}

/* ------------------------------------------------------------------ */
/* with a store: the cache and the orchestrator                        */

typedef struct fixture {
    char dir[64];
    char db[128];
    int64_t now;
    rg_clock clock;
    rg_server srv;
    int64_t rel[3]; /* release ids of versions 1 and 2 (index 1, 2) */
} fixture;

static void add_release(fixture *fx, int version)
{
    rg_err err;
    rg_err_clear(&err);
    char data[32], sha[RG_HASH_HEX];
    snprintf(data, sizeof data, "content v%d", version);
    rg_sha256_hex(data, strlen(data), sha);
    assert_int_equal(rg_store_artifact_put(fx->srv.store, sha, strlen(data),
                                           fx->now, NULL, &err),
                     0);
    rg_release_rec *r = calloc(1, sizeof *r);
    assert_non_null(r);
    snprintf(r->channel, sizeof r->channel, "detections");
    r->version = version;
    snprintf(r->sha256, sizeof r->sha256, "%s", sha);
    snprintf(r->notes, sizeof r->notes, "version %d: why", version);
    snprintf(r->urgency, sizeof r->urgency, "standard");
    r->created_ms = fx->now;
    snprintf(r->created_by, sizeof r->created_by, "test");
    /* It activates at once (health/silence.h). */
    r->activation_declared = true;
    r->activation_max_ms = RG_ACTIVATION_MAX_MS_MIN;
    assert_int_equal(rg_store_release_create(fx->srv.store, r, NULL, &err), 0);
    fx->rel[version] = r->id;
    free(r);
}

static int setup_store(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    assert_int_equal(rg_crypto_init(), 0);
    snprintf(fx->dir, sizeof fx->dir, "/tmp/rg-test-desired-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    snprintf(fx->db, sizeof fx->db, "%s/rollgate.db", fx->dir);
    fx->now = T0;
    fx->clock = rg_clock_manual(&fx->now);
    fx->srv.clock = &fx->clock;
    /* W: at least 3 check-in intervals (health/silence.h), the observed
     * one or, before any, this one; 3 x 10 s leave the plan's 1 min */
    fx->srv.cfg.checkin_interval_s = 10;
    rg_err err;
    rg_err_clear(&err);
    assert_int_equal(rg_store_open(fx->db, &fx->srv.store, &err), 0);
    rg_channel_rec ch;
    memset(&ch, 0, sizeof ch);
    snprintf(ch.name, sizeof ch.name, "detections");
    ch.created_ms = fx->now;
    assert_int_equal(rg_store_channel_create(fx->srv.store, &ch, NULL, &err),
                     0);
    add_release(fx, 1);
    add_release(fx, 2);
    assert_int_equal(rg_fleet_open(&fx->srv, &fx->srv.fleet, &err), 0);
    assert_int_equal(rg_desired_open(&fx->srv, &fx->srv.desired, &err), 0);
    /* 200 endpoints, 5 of them internal. */
    rg_endpoint_rec *e = calloc(1, sizeof *e);
    assert_non_null(e);
    for (int i = 0; i < 200; i++) {
        char token[32];
        snprintf(e->id, sizeof e->id, "ep-%03d", i);
        snprintf(token, sizeof token, "tok-%d", i);
        rg_sha256_hex(token, strlen(token), e->token_hash);
        snprintf(e->attrs_json, sizeof e->attrs_json,
                 "{\"os\":\"linux\",\"os_version\":\"6\",\"arch\":\"arm64\","
                 "\"tags\":[%s]}",
                 i < 5 ? "\"internal\"" : "");
        snprintf(e->installed_json, sizeof e->installed_json, "{}");
        e->enrolled_ms = fx->now;
        assert_int_equal(rg_store_endpoint_enroll(fx->srv.store, e, NULL, &err),
                         0);
        assert_int_equal(rg_fleet_put(fx->srv.fleet, e, &err), 0);
    }
    free(e);
    *state = fx;
    return 0;
}

static int teardown_store(void **state)
{
    fixture *fx = *state;
    rg_desired_close(fx->srv.desired);
    rg_fleet_close(fx->srv.fleet);
    rg_store_close(fx->srv.store);
    char path[160];
    const char *files[] = {"rollgate.db", "rollgate.db-wal", "rollgate.db-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", fx->dir, files[i]);
        unlink(path);
    }
    rmdir(fx->dir);
    free(fx);
    return 0;
}

/* Creates a running rollout of release version v; returns its id. */
static int64_t start_rollout(fixture *fx, int v, const char *on_halt)
{
    rg_err err;
    rg_err_clear(&err);
    rg_rollout_rec *r = calloc(1, sizeof *r);
    assert_non_null(r);
    r->release_id = fx->rel[v];
    load_plan(&r->plan, on_halt);
    snprintf(r->salt, sizeof r->salt, "salt%d", v);
    rg_rollout_status pending = {0};
    rg_transition tr;
    assert_int_equal(rg_rollout_command(&r->plan, &pending, RG_CMD_START, "go",
                                        fx->now, rg_fleet_size(fx->srv.fleet),
                                        &r->status, &tr, &err),
                     0);
    r->created_ms = fx->now;
    snprintf(r->created_by, sizeof r->created_by, "test");
    assert_int_equal(rg_store_rollout_create(fx->srv.store, r, NULL, &err), 0);
    assert_int_equal(rg_server_state_changed(&fx->srv, &err), 0);
    int64_t id = r->id;
    free(r);
    return id;
}

static int rollout_state(fixture *fx, int64_t id, int *wave)
{
    rg_rollout_rec *r = malloc(sizeof *r);
    assert_non_null(r);
    rg_err err;
    rg_err_clear(&err);
    assert_int_equal(rg_store_rollout_get(fx->srv.store, id, r, &err), 0);
    int s = r->status.state;
    if (wave)
        *wave = r->status.wave;
    free(r);
    return s;
}

/* What endpoint i is told: desired release id for "detections" (0: none)
 * and whether a notice came with it. */
static int64_t desired_of(fixture *fx, int i, bool *notice)
{
    char id[32];
    snprintf(id, sizeof id, "ep-%03d", i);
    json_t *d = json_object(), *n = json_array();
    rg_err err;
    rg_err_clear(&err);
    rg_fleet_checkin_out who = {.internal = i < 5};
    assert_int_equal(rg_desired_for_checkin(fx->srv.desired, fx->srv.fleet, id,
                                            &who, fx->now, d, n, &err),
                     0);
    json_t *entry = json_object_get(d, "detections");
    int64_t rel =
        entry ? json_integer_value(json_object_get(entry, "release")) : 0;
    if (entry) {
        const char *url = json_string_value(json_object_get(entry, "url"));
        assert_non_null(url);
        assert_non_null(strstr(url, "/v1/agent/artifacts/"));
    }
    if (notice)
        *notice = json_array_size(n) > 0;
    if (json_array_size(n)) {
        json_t *no = json_array_get(n, 0);
        assert_string_equal(json_string_value(json_object_get(no, "channel")),
                            "detections");
        assert_true(json_integer_value(json_object_get(no, "earliest_ms")) >=
                    fx->now);
        assert_non_null(json_string_value(json_object_get(no, "notes")));
    }
    json_decref(d);
    json_decref(n);
    return rel;
}

/* Every endpoint that should have release version v (and did not report
 * yet) reports applying and healthy (or failed: the one listed, or all when
 * failing is -2), to the store and the fleet's canary slots, as a check-in
 * does. */
static void report(fixture *fx, int v, int failing)
{
    rg_err err;
    rg_err_clear(&err);
    for (int i = 0; i < 200; i++) {
        if (desired_of(fx, i, NULL) != fx->rel[v])
            continue;
        char epid[32];
        snprintf(epid, sizeof epid, "ep-%03d", i);
        rg_fleet_view view;
        assert_int_equal(rg_fleet_view_id(fx->srv.fleet, epid, &view, &err), 0);
        const rg_fleet_canary *cn = rg_fleet_canary_of(&view, fx->rel[v]);
        if (cn && (cn->flags & RG_CN_EXPOSED))
            continue;
        rg_event_rec ev[2];
        memset(ev, 0, sizeof ev);
        for (int k = 0; k < 2; k++) {
            snprintf(ev[k].endpoint_id, sizeof ev[k].endpoint_id, "ep-%03d", i);
            snprintf(ev[k].event_id, sizeof ev[k].event_id, "e-%d-%d-%d", v, i,
                     k);
            snprintf(ev[k].channel, sizeof ev[k].channel, "detections");
            ev[k].release_id = fx->rel[v];
            ev[k].reported_ms = ev[k].received_ms = fx->now;
        }
        snprintf(ev[0].type, sizeof ev[0].type, "applying");
        bool fails = i == failing || failing == -2;
        snprintf(ev[1].type, sizeof ev[1].type, fails ? "failed" : "healthy");
        assert_int_equal(
            rg_store_events_record(fx->srv.store, ev, 2, NULL, &err), 0);
        assert_int_equal(rg_fleet_canary_event(fx->srv.fleet, epid, fx->rel[v],
                                               0, fx->now, &err),
                         0);
        assert_int_equal(rg_fleet_canary_event(fx->srv.fleet, epid, fx->rel[v],
                                               fails ? 2 : 1, fx->now, &err),
                         0);
    }
}

static int count_having(fixture *fx, int64_t rel)
{
    int n = 0;
    for (int i = 0; i < 200; i++)
        n += desired_of(fx, i, NULL) == rel;
    return n;
}

typedef struct decisions {
    int n, by_orchestrator, with_counts, evaluations;
} decisions;

/* Counts the orchestrator's transitions (and, apart, its evaluations that
 * changed nothing). */
static int count_decision(void *ctx, const rg_decision_rec *d)
{
    decisions *c = ctx;
    c->n++;
    if (d->tr.from_state == d->tr.to_state &&
        d->tr.from_wave == d->tr.to_wave) {
        c->evaluations += strstr(d->evidence_json, "\"gate\"") != NULL;
        return 0;
    }
    if (strcmp(d->actor, "orchestrator") == 0) {
        c->by_orchestrator++;
        if (strstr(d->evidence_json, "\"counts\"") &&
            strstr(d->evidence_json, "\"targeted\""))
            c->with_counts++;
    }
    return 0;
}

static int count_audit(void *ctx, const rg_audit_rec *a)
{
    int *n = ctx;
    if (strcmp(a->actor, "orchestrator") == 0 && strcmp(a->role, "system") == 0)
        (*n)++;
    return 0;
}

/* Ticks, lets every endpoint that gets version v report, lets one window
 * pass and ticks again, until rollout id is no longer running (at most 12
 * rounds). */
/* The summary the tick kept for rollout id (what lists and /metrics
 * show) counts the endpoints by state as a scan of the fleet does now:
 * the judgements the tick made after its own scan are in it. */
static void summary_agrees(fixture *fx, int64_t id)
{
    rg_err err;
    rg_ep_summary kept;
    rg_summary m;
    rg_err_clear(&err);
    rg_rollout_rec *r = malloc(sizeof *r);
    assert_non_null(r);
    assert_int_equal(rg_store_rollout_get(fx->srv.store, id, r, &err), 0);
    if (rg_canary_summary(rg_desired_canary(fx->srv.desired), id, &kept)) {
        assert_int_equal(rg_summary_measure(&fx->srv, r, &m, &err), 0);
        assert_memory_equal(&kept.by_state, &m.total.by_state,
                            sizeof kept.by_state);
        rg_summary_release(&m);
    }
    free(r);
}

static void drive(fixture *fx, int64_t id, int v, int failing)
{
    rg_err err;
    rg_err_clear(&err);
    for (int k = 0; k < 12 && rollout_state(fx, id, NULL) == RG_RO_RUNNING;
         k++) {
        assert_int_equal(rg_orchestrator_tick(&fx->srv, &err), 0);
        summary_agrees(fx, id);
        report(fx, v, failing);
        fx->now += MIN + 1000;
        assert_int_equal(rg_orchestrator_tick(&fx->srv, &err), 0);
        summary_agrees(fx, id);
    }
}

static void orchestrator_drives_waves_to_completion(void **state)
{
    fixture *fx = *state;
    rg_err err;
    rg_err_clear(&err);
    int wave = -1;
    int64_t id = start_rollout(fx, 1, NULL);
    /* Nobody is admitted before the tick measured the rollout. */
    assert_int_equal(count_having(fx, fx->rel[1]), 0);
    assert_int_equal(rg_orchestrator_tick(&fx->srv, &err), 0);
    /* Wave 0: the 5 internal endpoints; the rest get nothing yet (no
     * previous release) and a notice. */
    assert_int_equal(count_having(fx, fx->rel[1]), 5);
    bool notice = false;
    assert_int_equal(desired_of(fx, 100, &notice), 0);
    assert_true(notice);

    /* Too early: the windows have not ended; nothing changes. */
    report(fx, 1, -1);
    fx->now += MIN / 2;
    assert_int_equal(rg_orchestrator_tick(&fx->srv, &err), 0);
    assert_int_equal(rollout_state(fx, id, &wave), RG_RO_RUNNING);
    assert_int_equal(wave, 0);
    json_t *last = rg_canary_last(rg_desired_canary(fx->srv.desired), id);
    assert_non_null(last);
    assert_string_equal(json_string_value(json_object_get(last, "verdict")),
                        "continue");
    json_decref(last);

    /* The 5 windows ended healthy: the small internal wave passes. */
    fx->now += MIN;
    assert_int_equal(rg_orchestrator_tick(&fx->srv, &err), 0);
    assert_int_equal(rollout_state(fx, id, &wave), RG_RO_RUNNING);
    assert_int_equal(wave, 1);
    /* 10% plus the ring, within the stratum's budget (6 + 4 * 5 healthy). */
    int at10 = count_having(fx, fx->rel[1]);
    assert_true(at10 > 5 && at10 <= 26);

    /* Wave 1 needs its own windows to end; then wave 2 (100%) exposes the
     * rest progressively: never beyond the budget. */
    report(fx, 1, -1);
    fx->now += MIN + 1000;
    assert_int_equal(rg_orchestrator_tick(&fx->srv, &err), 0);
    assert_int_equal(rollout_state(fx, id, &wave), RG_RO_RUNNING);
    assert_int_equal(wave, 2);
    assert_int_equal(rg_orchestrator_tick(&fx->srv, &err), 0);
    int healthy = at10;
    int now_having = count_having(fx, fx->rel[1]);
    assert_true(now_having <= 6 + 4 * healthy);
    assert_true(now_having < 200);
    drive(fx, id, 1, -1);
    assert_int_equal(rollout_state(fx, id, NULL), RG_RO_COMPLETED);
    assert_int_equal(count_having(fx, fx->rel[1]), 200);
    assert_int_equal(desired_of(fx, 150, &notice), fx->rel[1]);
    assert_false(notice);
    /* A finished rollout is left alone. */
    assert_int_equal(rg_orchestrator_tick(&fx->srv, &err), 0);

    decisions d = {0};
    assert_int_equal(
        rg_store_decision_list(fx->srv.store, id, count_decision, &d, &err), 0);
    assert_int_equal(d.by_orchestrator, 3);
    assert_int_equal(d.with_counts, 3);
    assert_true(d.evaluations >= 1);
    int audits = 0;
    rg_audit_filter f = {0};
    assert_int_equal(
        rg_store_audit_list(fx->srv.store, &f, count_audit, &audits, &err), 0);
    assert_int_equal(audits, 3);

    rg_summary m;
    rg_rollout_rec *r = malloc(sizeof *r);
    assert_non_null(r);
    assert_int_equal(rg_store_rollout_get(fx->srv.store, id, r, &err), 0);
    assert_int_equal(rg_summary_measure(&fx->srv, r, &m, &err), 0);
    const rg_ep_tally *t = &m.total.by_state;
    uint64_t exposed = rg_ep_tally_exposed(t);
    assert_int_equal(m.total.fleet, 200);
    assert_int_equal(m.total.targeted, 200);
    /* The last wave passed on the windows that had ended (a small wave):
     * everyone gets the release, not everyone had applied it yet. The
     * summary counts the endpoints the gate counts (judged or pending),
     * the reports beside it every applying and healthy report. */
    assert_true(exposed >= 100 && exposed <= 200);
    assert_int_equal(m.reports.applying, exposed);
    assert_int_equal(m.reports.healthy, exposed);
    assert_int_equal(t->n[RG_EP_FAILED], 0);
    /* This fixture's endpoints never check in after applying: the gate
     * judged the ended spans silent, the others are still pending. */
    assert_true(t->n[RG_EP_SILENT] > 0);
    assert_int_equal(t->n[RG_EP_HEALTHY] + t->n[RG_EP_SILENT] +
                         t->n[RG_EP_PENDING],
                     exposed);
    rg_ep_tally sum = {0};
    for (uint32_t s = 0; s < m.n_strata; s++)
        for (int k = 0; k < RG_EP_N_STATES; k++)
            sum.n[k] += m.strata[s].n[k];
    assert_memory_equal(&sum, t, sizeof sum);
    rg_summary_release(&m);
    free(r);
}

static void failure_halts_and_reverts(void **state)
{
    fixture *fx = *state;
    rg_err err;
    rg_err_clear(&err);
    int64_t first = start_rollout(fx, 1, NULL);
    drive(fx, first, 1, -1);
    assert_int_equal(rollout_state(fx, first, NULL), RG_RO_COMPLETED);

    int64_t id = start_rollout(fx, 2, NULL);
    assert_int_equal(rg_orchestrator_tick(&fx->srv, &err), 0);
    assert_int_equal(count_having(fx, fx->rel[2]), 5);
    assert_int_equal(count_having(fx, fx->rel[1]), 195);
    /* Every internal endpoint fails: halt when their windows end, and
     * everyone is back on v1. */
    report(fx, 2, -2);
    fx->now += MIN + 1000;
    assert_int_equal(rg_orchestrator_tick(&fx->srv, &err), 0);
    assert_int_equal(rollout_state(fx, id, NULL), RG_RO_HALTED);
    assert_int_equal(count_having(fx, fx->rel[1]), 200);
    bool notice = true;
    desired_of(fx, 150, &notice);
    assert_false(notice);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_rollout_means_current_release),
        cmocka_unit_test(internal_ring_first_then_waves),
        cmocka_unit_test(halt_reverts_unless_pause),
        cmocka_unit_test(completed_means_everyone),
        cmocka_unit_test(pending_assigns_nobody_and_announces),
        cmocka_unit_test_setup_teardown(orchestrator_drives_waves_to_completion,
                                        setup_store, teardown_store),
        cmocka_unit_test_setup_teardown(failure_halts_and_reverts, setup_store,
                                        teardown_store),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
