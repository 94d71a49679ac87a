/* api_releases.c - POST /v1/releases, GET /v1/releases[/{id}],
 * POST /v1/releases/{id}/lift-quarantine. */
#include "api.h"
#include "server/page.h"

#include "common/crypto.h"
#include "common/json.h"
#include "model/activation.h"
#include "server/auth.h"
#include "server/desired.h"
#include "server/deltas.h"
#include "server/preflight_worker.h"
#include "trust/canon.h"
#include "trust/relmeta.h"
#include "trust/root.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VERSION_MAX (INT64_C(1) << 53)

/* The release's preflight in short: {"status": ...}, plus "detail" and
 * "finished_ms" once it ended. */
static json_t *preflight_short(const rg_release_rec *r)
{
    json_t *p = json_pack("{s:s}", "status", r->preflight_status);
    if (p && r->preflight_done_ms &&
        (json_object_set_new(p, "detail", json_string(r->preflight_detail)) ||
         json_object_set_new(p, "finished_ms",
                             json_integer(r->preflight_done_ms)))) {
        json_decref(p);
        p = NULL;
    }
    return p;
}

static json_t *release_json(const rg_release_rec *r)
{
    json_t *meta =
        r->metadata[0] ? json_loads(r->metadata, 0, NULL) : json_null();
    json_t *lifted = r->quarantine_lifted_ms
                         ? json_integer(r->quarantine_lifted_ms)
                         : json_null();
    json_t *act =
        json_pack("{s:s,s:I,s:b}", "kind", rg_activation_name(r->activation),
                  "max_s", (json_int_t)(r->activation_max_ms / 1000),
                  "declared", r->activation_declared);
    return json_pack(
        "{s:I,s:s,s:I,s:s,s:I,s:s,s:s,s:I,s:s,s:o,s:o,s:o,s:o}", "id",
        (json_int_t)r->id, "channel", r->channel, "version",
        (json_int_t)r->version, "sha256", r->sha256, "size",
        (json_int_t)r->size, "notes", r->notes, "urgency", r->urgency,
        "created_ms", (json_int_t)r->created_ms, "created_by", r->created_by,
        "preflight", preflight_short(r), "metadata", meta ? meta : json_null(),
        "quarantine_lifted_ms", lifted, "activation", act ? act : json_null());
}

/* The signatures of a release's metadata (borrowed; null: unsigned)
 * counted against the newest stored root: {"keyids", "root_version",
 * "threshold", "valid", "bad", "unknown", "met", "verdict"}; root_version
 * null (and no count) when no root is stored. The agents count them
 * again against the root they trust (docs/signing.md). Returns a new
 * reference (json null for an unsigned release) or NULL with err set. */
static json_t *signatures_json(rg_server *srv, const json_t *meta, rg_err *err)
{
    json_t *root = NULL, *ids = NULL, *out = NULL;
    rg_root rt;
    rg_sig_count c;
    size_t i;
    const json_t *sig;
    if (!json_is_object(meta))
        return json_null();
    if (!(ids = json_array()))
        goto oom;
    json_array_foreach(json_object_get(meta, "signatures"), i, sig)
    {
        if (json_array_append(ids, json_object_get(sig, "keyid")))
            goto oom;
    }
    if (rg__api_root_newest(srv, &root, err) != 0)
        goto cleanup;
    if (!root) {
        out = json_pack("{s:O,s:n}", "keyids", ids, "root_version");
    } else if (rg_root_parse(root, &rt, err) != 0 ||
               rg_signed_count(meta, rt.keys, rt.nkeys, &c, err) != 0) {
        goto cleanup;
    } else {
        rg_err short_of; /* the message is not needed: "verdict" says it */
        rg_trust_reason why =
            rg_signed_verdict(&c, rt.threshold, "release", &short_of);
        out = json_pack("{s:O,s:I,s:i,s:i,s:i,s:i,s:b,s:s}", "keyids", ids,
                        "root_version", (json_int_t)rt.version, "threshold",
                        rt.threshold, "valid", c.valid, "bad", c.bad, "unknown",
                        c.unknown, "met", why == RG_TRUST_OK, "verdict",
                        rg_trust_reason_name(why));
    }
    if (!out)
        goto oom;
    goto cleanup;
oom:
    rg_err_set(err, RG_ENOMEM, "out of memory");
cleanup:
    json_decref(root);
    json_decref(ids);
    return out;
}

/* Sends release r with its signatures (signatures_json) as status. */
static void send_release(rg_server *srv, rg_resp *resp, int status,
                         const rg_release_rec *r)
{
    rg_err err;
    rg_err_clear(&err);
    json_t *v = release_json(r);
    if (v && json_object_set_new(
                 v, "signatures",
                 signatures_json(srv, json_object_get(v, "metadata"), &err))) {
        json_decref(v);
        v = NULL;
    } else if (!v) {
        rg_err_set(&err, RG_ENOMEM, "out of memory");
    }
    if (v)
        rg_resp_json(resp, status, v);
    else
        rg_resp_error(resp, &err);
}

/* Reads the optional {"kind": "none"|"restart"|"reboot", "max_s": N}
 * into r (absent: none, and the kind's default max; docs/api.md).
 * Returns 0 or RG_EINVAL with err naming the field. */
static int parse_activation(const json_t *v, rg_release_rec *r, rg_err *err)
{
    static const char *const allowed[] = {"kind", "max_s", NULL};
    const char *kind = NULL;
    int64_t max_s = 0;
    if (!v)
        return 0;
    if (!json_is_object(v))
        return rg_err_field(err, RG_EINVAL, "activation",
                            "activation must be an object "
                            "{\"kind\", \"max_s\"}");
    if (rg_json_only(v, allowed, err) ||
        rg_json_string(v, "kind", true, 16, &kind, err) ||
        rg_json_int(v, "max_s", false, 1, RG_ACTIVATION_MAX_MS_LIMIT / 1000,
                    &max_s, err)) {
        char f[64];
        snprintf(f, sizeof f, "activation.%.50s", err->field);
        snprintf(err->field, sizeof err->field, "%s", f);
        return RG_EINVAL;
    }
    if (rg_activation_parse(kind, &r->activation, err))
        return RG_EINVAL;
    r->activation_max_ms = max_s * 1000; /* 0: the kind's default */
    r->activation_declared = true;
    return 0;
}

/* Checks the optional signed metadata of a new release: well formed (not
 * its signatures: the trust decision is the agent's) and describing this
 * very release (channel, version, artifact digest and size, notes
 * digest); stores its canonical JSON in r->metadata. Returns 0 or
 * RG_EINVAL/RG_ENOTFOUND/RG_ETOOBIG with err naming the field. */
static int attach_metadata(rg_server *srv, const json_t *meta,
                           rg_release_rec *r, rg_err *err)
{
    rg_relmeta m;
    rg_buf text;
    char notes_sha[RG_HASH_HEX];
    uint64_t size = 0;
    int rc;
    if (!meta || json_is_null(meta))
        return 0;
    if (rg_relmeta_parse(meta, &m, err) != 0) {
        char f[64];
        snprintf(f, sizeof f, "metadata%s%.50s", err->field[0] ? "." : "",
                 err->field);
        snprintf(err->field, sizeof err->field, "%s", f);
        return RG_EINVAL;
    }
    if ((rc = rg_store_artifact_get(srv->store, r->sha256, &size, err)) != 0) {
        snprintf(err->field, sizeof err->field, "artifact");
        return rc;
    }
    rg_sha256_hex(r->notes, strlen(r->notes), notes_sha);
    rg_relmeta_expect e = {r->channel, r->version, r->sha256, (int64_t)size,
                           notes_sha};
    if (rg_relmeta_match(&m, &e, NULL, err) != 0) {
        char f[64];
        snprintf(f, sizeof f, "metadata.%.50s", err->field);
        snprintf(err->field, sizeof err->field, "%s", f);
        return RG_EINVAL;
    }
    rg_buf_init(&text, RG_METADATA_MAX);
    rc = rg_canon_json(meta, &text, err);
    if (rc == 0)
        snprintf(r->metadata, sizeof r->metadata, "%s", text.data);
    else if (rc == RG_ETOOBIG)
        rg_err_field(err, RG_EINVAL, "metadata", "metadata: more than %d bytes",
                     RG_METADATA_MAX);
    rg_buf_release(&text);
    return rc == RG_ETOOBIG ? RG_EINVAL : rc;
}

void rg_api_release_create(rg_server *srv, rg_req *req, rg_resp *resp)
{
    static const char *const allowed[] = {"channel",    "version", "artifact",
                                          "notes",      "urgency", "metadata",
                                          "activation", NULL};
    const char *channel = NULL, *artifact = NULL, *notes = NULL,
               *urgency = NULL;
    int64_t version = 0;
    rg_release_rec r;
    rg_audit_rec audit;
    rg_err err;
    rg_err_clear(&err);
    json_t *body = rg__api_body(req, resp, allowed);
    if (!body)
        return;
    if (rg_json_string(body, "channel", true, RG_NAME_MAX, &channel, &err) ||
        rg_json_int(body, "version", true, 1, VERSION_MAX, &version, &err) ||
        rg_json_string(body, "artifact", true, 64, &artifact, &err) ||
        rg_json_string(body, "notes", true, RG_NOTES_MAX, &notes, &err) ||
        rg_json_string(body, "urgency", true, 16, &urgency, &err))
        goto fail;
    if (!rg_sha256_hex_valid(artifact)) {
        rg_err_field(
            &err, RG_EINVAL, "artifact",
            "artifact '%.64s' is not a sha256 digest (64 lower-case hex)",
            artifact);
        goto fail;
    }
    if (strcmp(urgency, "standard") != 0 && strcmp(urgency, "emergency") != 0) {
        rg_err_field(&err, RG_EINVAL, "urgency",
                     "urgency '%.16s' must be standard or emergency", urgency);
        goto fail;
    }
    memset(&r, 0, sizeof r);
    snprintf(r.channel, sizeof r.channel, "%s", channel);
    r.version = version;
    snprintf(r.sha256, sizeof r.sha256, "%s", artifact);
    snprintf(r.notes, sizeof r.notes, "%s", notes);
    snprintf(r.urgency, sizeof r.urgency, "%s", urgency);
    if (attach_metadata(srv, json_object_get(body, "metadata"), &r, &err) !=
            0 ||
        parse_activation(json_object_get(body, "activation"), &r, &err) != 0)
        goto fail;
    /* The store sets the target to release:<id> (one per object). */
    rg_audit_init(&audit, srv, req, "release.create", "release", NULL);
    rg_audit_detail(&audit,
                    json_pack("{s:s, s:I, s:s, s:b}", "channel", channel,
                              "version", (json_int_t)version, "sha256",
                              artifact, "signed", r.metadata[0] != '\0'));
    r.created_ms = audit.at_ms;
    snprintf(r.created_by, sizeof r.created_by, "%s", audit.actor);
    if (rg_store_release_create(srv->store, &r, &audit, &err) != 0)
        goto fail;
    json_decref(body);
    rg__api_state_changed(srv);
    if (strcmp(r.preflight_status, "pending") == 0)
        rg_preflight_worker_enqueue(srv, r.id);
    rg_deltas_enqueue(srv, r.id); /* in the background (deltas.h) */
    send_release(srv, resp, 201, &r);
    return;
fail:
    json_decref(body);
    rg_resp_error(resp, &err);
}

static int list_one(void *ctx, const rg_release_rec *r)
{
    int take = rg_page_step(ctx, r->id, NULL);
    return take == 1 ? rg_page_push(ctx, release_json(r)) : take;
}

void rg_api_release_list(rg_server *srv, rg_req *req, rg_resp *resp)
{
    rg_page page;
    rg_err err;
    rg_err_clear(&err);
    const char *channel = rg_req_query(req, "channel");
    if (rg_page_parse(req, RG_PAGE_ID_DESC, &page, resp) != 0)
        return;
    rg_channel_rec c;
    int rc = channel ? rg_store_channel_get(srv->store, channel, &c, &err) : 0;
    if (rc == 0)
        rc = rg_store_release_list(srv->store, channel, list_one, &page, &err);
    rg_page_reply(&page, resp, "releases", rc, &err);
}

void rg_api_release_get(rg_server *srv, rg_req *req, rg_resp *resp)
{
    int64_t id;
    rg_release_rec r;
    rg_err err;
    rg_err_clear(&err);
    if (rg__api_param_id(req, 0, "id", &id, resp) != 0)
        return;
    char *result = NULL;
    json_t *v = NULL, *full = NULL;
    if (rg_store_release_get(srv->store, id, &r, &err) != 0 ||
        rg_store_release_preflight_result(srv->store, id, &result, &err) != 0)
        goto fail;
    if (!(v = release_json(&r)))
        goto oom;
    /* The full result once it ended; the engine in force meanwhile. */
    if (result[0]) {
        full = json_loads(result, 0, NULL);
        if (!full || !json_is_object(full)) {
            rg_err_set(&err, RG_EIO,
                       "release %lld: stored preflight result "
                       "is not a JSON object",
                       (long long)id);
            goto fail;
        }
        if (json_object_set_new(full, "finished_ms",
                                json_integer(r.preflight_done_ms)) ||
            json_object_set(v, "preflight", full))
            goto oom;
    } else if (r.preflight.engine[0] &&
               json_object_set_new(json_object_get(v, "preflight"), "engine",
                                   json_string(r.preflight.engine))) {
        goto oom;
    }
    if (json_object_set_new(
            v, "signatures",
            signatures_json(srv, json_object_get(v, "metadata"), &err)))
        goto fail;
    free(result);
    json_decref(full);
    rg_resp_json(resp, 200, v);
    return;
oom:
    rg_err_set(&err, RG_ENOMEM, "out of memory");
fail:
    free(result);
    json_decref(full);
    json_decref(v);
    rg_resp_error(resp, &err);
}

void rg_api_release_lift_quarantine(rg_server *srv, rg_req *req, rg_resp *resp)
{
    static const char *const allowed[] = {"reason", NULL};
    const char *reason = NULL;
    int64_t id;
    char target[48];
    rg_release_rec r;
    rg_audit_rec audit;
    rg_err err;
    rg_err_clear(&err);
    if (rg__api_param_id(req, 0, "id", &id, resp) != 0)
        return;
    json_t *body = rg__api_body(req, resp, allowed);
    if (!body)
        return;
    if (rg_json_string(body, "reason", true, RG_REASON_MAX, &reason, &err))
        goto fail;
    snprintf(target, sizeof target, "release:%lld", (long long)id);
    rg_audit_init(&audit, srv, req, "release.lift_quarantine", target, reason);
    /* The check-in path offers the lift as soon as the API reports it. */
    rg_desired_publish_begin(srv->desired);
    int rc = rg_store_release_lift_quarantine(srv->store, id, audit.at_ms,
                                              &audit, &err);
    if (rc == 0)
        rg__api_state_changed(srv);
    rg_desired_publish_end(srv->desired);
    if (rc != 0 || rg_store_release_get(srv->store, id, &r, &err) != 0)
        goto fail;
    json_decref(body);
    send_release(srv, resp, 200, &r);
    return;
fail:
    json_decref(body);
    rg_resp_error(resp, &err);
}
