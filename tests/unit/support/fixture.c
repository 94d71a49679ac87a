/* fixture.c - see fixture.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "fixture.h"

#include "common/crypto.h"
#include "common/event_type.h"
#include "model/activation.h"
#include "model/plan.h"
#include "model/bucket.h"
#include "model/rollout.h"
#include "server/desired.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rg_test_ok(int rc, const rg_err *err)
{
    if (rc != 0)
        fail_msg("rc %d: %s", rc, err->msg);
}

void rg_test_token_bin(const char *hex, uint8_t out[RG_FLEET_TOKEN_BYTES])
{
    for (size_t i = 0; i < RG_FLEET_TOKEN_BYTES; i++) {
        unsigned v = 0;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
}

int64_t rg_test_add_release(rg_store *s, const char *channel, int version,
                            int64_t now_ms)
{
    rg_err err;
    rg_err_clear(&err);
    char data[96], sha[RG_HASH_HEX];
    snprintf(data, sizeof data, "%s content v%d", channel, version);
    rg_sha256_hex(data, strlen(data), sha);
    rg_test_ok(rg_store_artifact_put(s, sha, strlen(data), now_ms, NULL, &err),
               &err);
    rg_release_rec *r = calloc(1, sizeof *r); /* 12 KiB: not on the stack */
    assert_non_null(r);
    snprintf(r->channel, sizeof r->channel, "%s", channel);
    r->version = version;
    snprintf(r->sha256, sizeof r->sha256, "%s", sha);
    snprintf(r->notes, sizeof r->notes, "v%d", version);
    snprintf(r->urgency, sizeof r->urgency, "standard");
    r->created_ms = now_ms;
    /* It activates at once: silence is judged from applying on
     * (health/silence.h), as the orchestrator tells the canary. */
    r->activation_declared = true;
    r->activation_max_ms = RG_ACTIVATION_MAX_MS_MIN;
    rg_test_ok(rg_store_release_create(s, r, NULL, &err), &err);
    int64_t id = r->id;
    free(r);
    return id;
}

rg_rollout_rec *rg_test_add_rollout(rg_store *s, int64_t release, int state,
                                    int64_t now_ms, const char *evidence_json)
{
    rg_err err;
    rg_err_clear(&err);
    rg_rollout_rec *r = calloc(1, sizeof *r);
    assert_non_null(r);
    r->release_id = release;
    rg_test_ok(rg_plan_builtin("emergency", &r->plan, &err), &err);
    snprintf(r->salt, sizeof r->salt, "done");
    r->status = (rg_rollout_status){.state = RG_RO_RUNNING,
                                    .wave_started_ms = now_ms,
                                    .updated_ms = now_ms};
    r->created_ms = now_ms;
    rg_test_ok(rg_store_rollout_create(s, r, NULL, &err), &err);
    rg_rollout_status next = r->status;
    next.state = state;
    if (state == RG_RO_COMPLETED)
        next.share_ppm = RG_PPM;
    next.updated_ms = now_ms + 1;
    rg_transition tr = {.from_state = RG_RO_RUNNING, .to_state = state};
    rg_test_ok(rg_store_rollout_transition(s, r->id, &r->status, &next, &tr,
                                           "test", evidence_json, NULL, &err),
               &err);
    r->status = next;
    return r;
}

void rg_test_server_store(rg_server *srv, rg_clock *clock, int64_t *now_ms)
{
    rg_err err;
    rg_err_clear(&err);
    *clock = rg_clock_manual(now_ms);
    srv->clock = clock;
    srv->cfg.checkin_interval_s = 60;
    rg_test_ok(rg_store_open(":memory:", &srv->store, &err), &err);
    rg_channel_rec ch;
    memset(&ch, 0, sizeof ch);
    snprintf(ch.name, sizeof ch.name, "detections");
    ch.created_ms = *now_ms;
    rg_test_ok(rg_store_channel_create(srv->store, &ch, NULL, &err), &err);
}

uint32_t rg_test_enroll(rg_server *srv, const char *id, const char *os,
                        const char *os_version, int64_t now_ms)
{
    rg_err err;
    rg_err_clear(&err);
    rg_endpoint_rec *e = calloc(1, sizeof *e);
    assert_non_null(e);
    snprintf(e->id, sizeof e->id, "%s", id);
    snprintf(e->token_hash, sizeof e->token_hash, "%064d", 7);
    snprintf(e->attrs_json, sizeof e->attrs_json,
             "{\"os\":\"%s\",\"os_version\":\"%s\",\"arch\":\"x86_64\","
             "\"tags\":[]}",
             os, os_version);
    snprintf(e->installed_json, sizeof e->installed_json, "{}");
    e->enrolled_ms = now_ms;
    rg_test_ok(rg_store_endpoint_enroll(srv->store, e, NULL, &err), &err);
    rg_test_ok(rg_fleet_put(srv->fleet, e, &err), &err);
    rg_fleet_view v;
    rg_test_ok(rg_fleet_view_id(srv->fleet, id, &v, &err), &err);
    free(e);
    return v.stratum;
}

/* Stores and gives the canary one event of type for release. */
static void checkin_event(rg_server *srv, const char *id, int64_t now_ms,
                          int64_t release, int type, uint64_t *ev_seq)
{
    rg_err err;
    rg_err_clear(&err);
    rg_event_rec ev;
    memset(&ev, 0, sizeof ev);
    snprintf(ev.endpoint_id, sizeof ev.endpoint_id, "%s", id);
    snprintf(ev.event_id, sizeof ev.event_id, "e%llu",
             (unsigned long long)++*ev_seq);
    snprintf(ev.type, sizeof ev.type, "%s", rg_event_type_names[type]);
    snprintf(ev.channel, sizeof ev.channel, "detections");
    ev.release_id = release;
    ev.reported_ms = ev.received_ms = now_ms;
    rg_test_ok(rg_store_events_record(srv->store, &ev, 1, NULL, &err), &err);
    rg_test_ok(
        rg_fleet_canary_event(srv->fleet, id, release, type, now_ms, &err),
        &err);
}

int64_t rg_test_checkin(rg_server *srv, const char *id,
                        const uint8_t tok[RG_FLEET_TOKEN_BYTES], int64_t now_ms,
                        int64_t release, const int *types, size_t n,
                        uint64_t *ev_seq, bool answer)
{
    rg_err err;
    rg_err_clear(&err);
    rg_fleet_checkin_out who;
    rg_test_ok(
        rg_fleet_checkin(srv->fleet, id, tok, now_ms, NULL, 0, &who, &err),
        &err);
    for (size_t k = 0; k < n; k++)
        checkin_event(srv, id, now_ms, release, types[k], ev_seq);
    if (!answer)
        return 0;
    json_t *d = json_object(), *no = json_array();
    assert_non_null(d);
    assert_non_null(no);
    rg_test_ok(rg_desired_for_checkin(srv->desired, srv->fleet, id, &who,
                                      now_ms, d, no, &err),
               &err);
    json_t *entry = json_object_get(d, "detections");
    int64_t rel =
        entry ? json_integer_value(json_object_get(entry, "release")) : 0;
    json_decref(d);
    json_decref(no);
    return rel;
}
