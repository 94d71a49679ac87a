/* Unit tests for the check-in answer's JSON text (src/server/desired.c
 * rg_desired_write_checkin, written without jansson): byte for byte what
 * jansson's compact dump of the same entries gives (docs/api.md shape,
 * key order, escaping of notes, signed metadata compacted), the JSON form
 * rg_desired_for_checkin agrees, "lift_quarantine" once an operator lifted
 * the release's quarantine, and a capped buffer is refused.
 * ctest-labels: foundation */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/json.h"
#include "model/plan.h"
#include "model/rollout.h"
#include "server/desired.h"
#include "server/fleet.h"
#include "server/server.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T0 INT64_C(1700000000000)

static const char plan_json[] =
    "{\"name\":\"custom\",\"on_halt\":\"revert\",\"waves\":["
    "{\"name\":\"ten\",\"share\":10,\"min_endpoints\":1,\"min_bake_s\":60,"
    "\"window_s\":60},"
    "{\"name\":\"all\",\"share\":100,\"min_endpoints\":1,\"min_bake_s\":60,"
    "\"window_s\":60}]}";

/* Notes with every kind of character the writer must escape or keep. */
static const char notes2[] = "line 1\nline 2\t\"quoted\" back\\slash "
                             "caf\xc3\xa9 \xe2\x82\xac ctl\x01\x1f / end";
static const char meta1_stored[] = "{ \"signed\" : { \"version\" : 1 ,"
                                   " \"channel\":\"detections\" },"
                                   "  \"signatures\" : [ ] }";
static const char meta1_compact[] =
    "{\"signed\":{\"version\":1,\"channel\":\"detections\"},"
    "\"signatures\":[]}";

typedef struct fixture {
    char dir[64];
    int64_t now;
    rg_clock clock;
    rg_server srv;
    rg_release_rec rel[3]; /* versions 1 and 2 as stored */
    int64_t rollout2;
} fixture;

static void add_release(fixture *fx, int version, const char *notes,
                        const char *meta)
{
    rg_err err;
    rg_err_clear(&err);
    char data[32], sha[RG_HASH_HEX];
    snprintf(data, sizeof data, "content v%d", version);
    rg_sha256_hex(data, strlen(data), sha);
    assert_int_equal(rg_store_artifact_put(fx->srv.store, sha, strlen(data),
                                           fx->now, NULL, &err),
                     0);
    rg_release_rec *r = &fx->rel[version];
    memset(r, 0, sizeof *r);
    snprintf(r->channel, sizeof r->channel, "detections");
    r->version = version;
    snprintf(r->sha256, sizeof r->sha256, "%s", sha);
    r->size = (int64_t)strlen(data);
    snprintf(r->notes, sizeof r->notes, "%s", notes);
    snprintf(r->urgency, sizeof r->urgency, "emergency");
    snprintf(r->metadata, sizeof r->metadata, "%s", meta);
    r->created_ms = fx->now;
    snprintf(r->created_by, sizeof r->created_by, "test");
    assert_int_equal(rg_store_release_create(fx->srv.store, r, NULL, &err), 0);
}

/* Creates a rollout of release version v (pending) and returns its id;
 * with complete, moves it to completed (the channel's current release). */
static int64_t add_rollout(fixture *fx, int v, bool complete)
{
    rg_err err;
    rg_err_clear(&err);
    rg_rollout_rec *r = calloc(1, sizeof *r);
    assert_non_null(r);
    r->release_id = fx->rel[v].id;
    json_t *pj = json_loads(plan_json, 0, NULL);
    assert_int_equal(rg_plan_from_json(pj, &r->plan, &err), 0);
    json_decref(pj);
    snprintf(r->salt, sizeof r->salt, "salt%d", v);
    r->status.state = RG_RO_PENDING;
    r->status.updated_ms = fx->now;
    r->created_ms = fx->now;
    snprintf(r->created_by, sizeof r->created_by, "test");
    assert_int_equal(rg_store_rollout_create(fx->srv.store, r, NULL, &err), 0);
    if (complete) {
        rg_rollout_status next = r->status;
        next.state = RG_RO_COMPLETED;
        next.share_ppm = 1000000;
        rg_transition tr = {.from_state = r->status.state,
                            .to_state = next.state};
        assert_int_equal(rg_store_rollout_transition(fx->srv.store, r->id,
                                                     &r->status, &next, &tr,
                                                     "test", NULL, NULL, &err),
                         0);
    }
    int64_t id = r->id;
    free(r);
    return id;
}

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    rg_err err;
    rg_err_clear(&err);
    snprintf(fx->dir, sizeof fx->dir, "/tmp/rg-test-answer-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    char db[128];
    snprintf(db, sizeof db, "%s/rollgate.db", fx->dir);
    fx->now = T0;
    fx->clock = rg_clock_manual(&fx->now);
    fx->srv.clock = &fx->clock;
    fx->srv.cfg.checkin_interval_s = 60;
    assert_int_equal(rg_store_open(db, &fx->srv.store, &err), 0);
    rg_channel_rec ch = {0};
    snprintf(ch.name, sizeof ch.name, "detections");
    ch.created_ms = fx->now;
    assert_int_equal(rg_store_channel_create(fx->srv.store, &ch, NULL, &err),
                     0);
    add_release(fx, 1, "first", meta1_stored);
    add_release(fx, 2, notes2, "");
    add_rollout(fx, 1, true);
    fx->rollout2 = add_rollout(fx, 2, false);
    assert_int_equal(rg_fleet_open(&fx->srv, &fx->srv.fleet, &err), 0);
    assert_int_equal(rg_desired_open(&fx->srv, &fx->srv.desired, &err), 0);
    rg_endpoint_rec *e = calloc(1, sizeof *e);
    assert_non_null(e);
    snprintf(e->id, sizeof e->id, "ep-1");
    rg_sha256_hex("tok", 3, e->token_hash);
    snprintf(e->attrs_json, sizeof e->attrs_json,
             "{\"os\":\"linux\",\"os_version\":\"6\",\"arch\":\"arm64\"}");
    snprintf(e->installed_json, sizeof e->installed_json, "{}");
    e->enrolled_ms = fx->now;
    assert_int_equal(rg_store_endpoint_enroll(fx->srv.store, e, NULL, &err), 0);
    assert_int_equal(rg_fleet_put(fx->srv.fleet, e, &err), 0);
    free(e);
    *state = fx;
    return 0;
}

static int teardown(void **state)
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

typedef struct offers {
    size_t n;
    int64_t release[4];
} offers;

static int note_offer(void *ctx, int64_t release, rg_err *err)
{
    (void)err;
    offers *o = ctx;
    assert_true(o->n < 4);
    o->release[o->n++] = release;
    return 0;
}

/* The expected text, built with jansson as the answer used to be. */
static char *expected(const fixture *fx, bool members, bool lifted)
{
    const rg_release_rec *r1 = &fx->rel[1], *r2 = &fx->rel[2];
    char url[128];
    snprintf(url, sizeof url, "/v1/agent/artifacts/%s", r1->sha256);
    json_t *v;
    if (members)
        v = json_pack("{s:{s:I, s:I, s:s, s:I, s:s, s:n, s:o}}", "detections",
                      "release", (json_int_t)r1->id, "version",
                      (json_int_t)r1->version, "sha256", r1->sha256, "size",
                      (json_int_t)r1->size, "url", url, "rollout", "metadata",
                      json_loads(meta1_stored, 0, NULL));
    else
        v = json_pack("{s:s, s:I, s:I, s:s, s:s, s:I, s:I}", "channel",
                      "detections", "release", (json_int_t)r2->id, "version",
                      (json_int_t)r2->version, "notes", r2->notes, "urgency",
                      r2->urgency, "earliest_ms", (json_int_t)fx->now,
                      "rollout", (json_int_t)fx->rollout2);
    assert_non_null(v);
    if (members && lifted)
        assert_int_equal(json_object_set_new(json_object_get(v, "detections"),
                                             "lift_quarantine", json_true()),
                         0);
    if (members) /* declared at creation: none, the default 120 s */
        assert_int_equal(json_object_set_new(json_object_get(v, "detections"),
                                             "activation",
                                             json_pack("{s:s, s:i}", "kind",
                                                       "none", "max_s", 120)),
                         0);
    char *s = rg_json_dump(v);
    json_decref(v);
    assert_non_null(s);
    if (members) { /* drop the braces: members only */
        size_t n = strlen(s);
        memmove(s, s + 1, n - 2);
        s[n - 2] = '\0';
    }
    return s;
}

static void text_is_what_jansson_wrote(void **state)
{
    fixture *fx = *state;
    rg_err err;
    rg_err_clear(&err);
    rg_buf d, n;
    rg_buf_init(&d, 1 << 20);
    rg_buf_init(&n, 1 << 20);
    assert_int_equal(rg_buf_adds(&d, "prefix:"), 0); /* kept, no comma */
    offers o = {0};
    rg_fleet_checkin_out who = {0};
    assert_int_equal(rg_desired_write_checkin(fx->srv.desired, fx->srv.fleet,
                                              "ep-1", &who, NULL, 0, fx->now,
                                              &d, &n, note_offer, &o, &err),
                     0);
    char *want_d = expected(fx, true, false),
         *want_n = expected(fx, false, false);
    assert_memory_equal(d.data, "prefix:", 7);
    assert_string_equal(d.data + 7, want_d);
    assert_string_equal(n.data, want_n);
    assert_non_null(strstr(d.data, meta1_compact));
    assert_int_equal(o.n, 1);
    assert_int_equal(o.release[0], fx->rel[1].id);

    /* The JSON form holds the same values. */
    json_t *dj = json_object(), *nj = json_array();
    assert_int_equal(rg_desired_for_checkin(fx->srv.desired, fx->srv.fleet,
                                            "ep-1", &who, fx->now, dj, nj,
                                            &err),
                     0);
    char *got = rg_json_dump(dj);
    size_t gl = strlen(got);
    assert_true(gl >= 2 && got[0] == '{' && got[gl - 1] == '}');
    got[gl - 1] = '\0';
    assert_string_equal(got + 1, d.data + 7);
    free(got);
    got = rg_json_dump(json_array_get(nj, 0));
    assert_string_equal(got, want_n);
    assert_int_equal(json_array_size(nj), 1);
    free(got);
    json_decref(dj);
    json_decref(nj);
    free(want_d);
    free(want_n);
    rg_buf_release(&d);
    rg_buf_release(&n);
}

/* Once release 1's quarantine is lifted its entry says so, last. */
static void lifted_quarantine_is_offered(void **state)
{
    fixture *fx = *state;
    rg_err err;
    rg_err_clear(&err);
    assert_int_equal(rg_store_release_lift_quarantine(
                         fx->srv.store, fx->rel[1].id, fx->now, NULL, &err),
                     0);
    assert_int_equal(rg_desired_reload(fx->srv.desired, &err), 0);
    rg_buf d, n;
    rg_buf_init(&d, 1 << 20);
    rg_buf_init(&n, 1 << 20);
    rg_fleet_checkin_out who = {0};
    assert_int_equal(rg_desired_write_checkin(fx->srv.desired, fx->srv.fleet,
                                              "ep-1", &who, NULL, 0, fx->now,
                                              &d, &n, NULL, NULL, &err),
                     0);
    char *want_d = expected(fx, true, true);
    assert_string_equal(d.data, want_d);
    assert_non_null(strstr(d.data, ",\"lift_quarantine\":true,"));
    free(want_d);
    rg_buf_release(&d);
    rg_buf_release(&n);
}

static void unknown_endpoint_and_cap(void **state)
{
    fixture *fx = *state;
    rg_err err;
    rg_err_clear(&err);
    rg_buf d, n;
    rg_buf_init(&d, 1 << 20);
    rg_buf_init(&n, 16); /* too small for the notice */
    rg_fleet_checkin_out who = {0};
    assert_int_equal(rg_desired_write_checkin(fx->srv.desired, fx->srv.fleet,
                                              "nobody", &who, NULL, 0, fx->now,
                                              &d, &n, NULL, NULL, &err),
                     RG_ENOTFOUND);
    rg_err_clear(&err);
    assert_int_equal(rg_desired_write_checkin(fx->srv.desired, fx->srv.fleet,
                                              "ep-1", &who, NULL, 0, fx->now,
                                              &d, &n, NULL, NULL, &err),
                     RG_ETOOBIG);
    assert_int_equal(err.code, RG_ETOOBIG);
    rg_buf_release(&d);
    rg_buf_release(&n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(text_is_what_jansson_wrote, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(lifted_quarantine_is_offered, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(unknown_endpoint_and_cap, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
