/* api_segments.c - flag segments through the admin API (docs/flags.md):
 * POST/GET /v1/segments, GET/PUT/DELETE /v1/segments/{name}. A segment is
 * a named list of constraints of an environment that strategies name by
 * id; every change is a new version, validated strictly with the whole
 * environment first and audited with its reason in the same transaction;
 * a segment that a flag names cannot be deleted (409 naming the flags). */
#include "api.h"

#include "common/json.h"
#include "common/name.h"
#include "server/auth.h"
#include "server/flagdoc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEGMENT_CONSTRAINTS_MAX 64 /* constraints of one segment */

static json_t *segment_json(const rg_segment_rec *g)
{
    rg_err err;
    rg_err_clear(&err);
    json_t *seg = g->deleted ? json_null() : rg_flagdoc_segment(g, &err);
    return json_pack("{s:s,s:s,s:I,s:I,s:b,s:o,s:I,s:s,s:s}", "environment",
                     g->environment, "name", g->name, "id", (json_int_t)g->id,
                     "version", (json_int_t)g->version, "deleted", g->deleted,
                     "segment", seg ? seg : json_null(), "created_ms",
                     (json_int_t)g->created_ms, "created_by", g->created_by,
                     "reason", g->reason);
}

/* Reads body's "segment" ({"name"?, "constraints", "description"?}) into
 * a new stored definition (*def, the caller frees): its name must be name
 * when both are given; *name_out is the segment's name. */
static int definition_of(const json_t *body, const char *name,
                         const char **name_out, char **def, rg_err *err)
{
    static const char *const allowed[] = {"name", "constraints", "description",
                                          NULL};
    json_t *seg, *constraints;
    const char *n = NULL, *desc = NULL;
    if (rg_json_object(body, "segment", true, &seg, err))
        return RG_EINVAL;
    if (rg_json_only(seg, allowed, err) ||
        rg_json_string(seg, "name", !name, RG_NAME_MAX, &n, err) ||
        rg_json_array(seg, "constraints", true, SEGMENT_CONSTRAINTS_MAX,
                      &constraints, err) ||
        rg_json_string(seg, "description", false, RG_REASON_MAX, &desc, err)) {
        char field[sizeof err->field];
        snprintf(field, sizeof field, "segment.%.50s", err->field);
        memcpy(err->field, field, sizeof field);
        return RG_EINVAL;
    }
    if (n && name && strcmp(n, name) != 0)
        return rg_err_field(err, RG_EINVAL, "segment.name",
                            "segment.name '%.64s' differs from '%.64s'", n,
                            name);
    *name_out = n ? n : name;
    if (!rg_channel_name_valid(*name_out))
        return rg_err_field(err, RG_EINVAL, "segment.name",
                            "segment name '%.64s': must be %s", *name_out,
                            RG_CHANNEL_NAME_RULE);
    json_t *d = json_pack("{s:O}", "constraints", constraints);
    if (d && desc)
        json_object_set_new(d, "description", json_string(desc));
    *def = d ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(d);
    return *def ? 0 : rg_err_set(err, RG_ENOMEM, "out of memory");
}

/* Writes g as the next version after expect, audited as action. */
static int put(rg_server *srv, rg_req *req, rg_segment_rec *g, int64_t expect,
               const char *action, const char *reason, rg_err *err)
{
    char target[RG_FLAG_NAME_MAX + RG_NAME_MAX + 12];
    rg_audit_rec audit;
    snprintf(target, sizeof target, "segment:%s/%s", g->environment, g->name);
    rg_audit_init(&audit, srv, req, action, target, reason);
    snprintf(g->created_by, sizeof g->created_by, "%s", audit.actor);
    snprintf(g->reason, sizeof g->reason, "%s", reason);
    g->created_ms = audit.at_ms;
    return rg_store_segment_put(srv->store, g, expect, &audit, err);
}

/* The segment as it would be stored with id (unknown yet for a new one: a
 * placeholder that no stored segment has) and validates the environment
 * with it in place of the stored one. */
static int check(rg_server *srv, const rg_segment_rec *g, rg_err *err)
{
    rg_segment_rec probe = *g;
    if (!probe.id)
        probe.id = INT64_MAX;
    json_t *seg = rg_flagdoc_segment(&probe, err);
    if (!seg)
        return err->code;
    rg_flagdoc_change chg = {.segment = g->name, .seg = seg};
    int rc = rg__api_flagdoc_check(srv, g->environment, &chg, err);
    json_decref(seg);
    return rc;
}

typedef struct newest {
    rg_segment_rec top; /* the newest version (definition copied) */
    char *definition;
    json_t *history; /* versions, newest first; NULL: not wanted */
} newest;

static int take_version(void *ctx, const rg_segment_rec *g)
{
    newest *n = ctx;
    if (!n->definition) {
        n->top = *g;
        if (!(n->definition = strdup(g->definition)))
            return RG_ENOMEM;
        n->top.definition = n->definition;
    }
    if (!n->history)
        return 0;
    json_t *v = json_pack("{s:I,s:b,s:I,s:s,s:s}", "version",
                          (json_int_t)g->version, "deleted", g->deleted,
                          "created_ms", (json_int_t)g->created_ms, "created_by",
                          g->created_by, "reason", g->reason);
    return json_array_append_new(n->history, v) ? RG_ENOMEM : 0;
}

/* Reads segment name of env (its newest version, and its history when
 * with_history) into *n (release with newest_release). */
static int newest_of(rg_server *srv, const char *env, const char *name,
                     bool with_history, newest *n, rg_err *err)
{
    memset(n, 0, sizeof *n);
    if (with_history && !(n->history = json_array()))
        return rg_err_set(err, RG_ENOMEM, "out of memory");
    int rc =
        rg_store_segment_history(srv->store, env, name, take_version, n, err);
    if (rc == RG_ENOMEM)
        rg_err_set(err, RG_ENOMEM, "out of memory");
    return rc;
}

static void newest_release(newest *n)
{
    json_decref(n->history);
    free(n->definition);
}

/* Writes a live version of the segment in body: the first (create) or
 * the next after body's "version", else after the current one. */
static void write_live(rg_server *srv, rg_req *req, rg_resp *resp,
                       const char *path_name, bool create)
{
    static const char *const allowed[] = {"environment", "segment", "reason",
                                          "version", NULL};
    const char *env, *reason, *name = NULL;
    char *def = NULL;
    int64_t version = 0;
    newest n = {0};
    rg_segment_rec g = {0};
    rg_err err;
    rg_err_clear(&err);
    json_t *body = rg__api_body(req, resp, allowed);
    if (!body)
        return;
    if (rg__api_flag_env(req, body, &env, &err) ||
        rg_json_string(body, "reason", true, RG_REASON_MAX, &reason, &err) ||
        definition_of(body, path_name, &name, &def, &err) ||
        rg_json_int(body, "version", false, 1, INT64_MAX, &version, &err))
        goto fail;
    if (create && version) {
        rg_err_field(&err, RG_EINVAL, "version", "version: not on create");
        goto fail;
    }
    /* the stored id, which validation and flags name it by */
    if (newest_of(srv, env, name, false, &n, &err) != 0) {
        if (!create || err.code != RG_ENOTFOUND)
            goto fail;
        rg_err_clear(&err);
    }
    snprintf(g.environment, sizeof g.environment, "%s", env);
    snprintf(g.name, sizeof g.name, "%s", name);
    g.id = n.top.id;
    g.definition = def;
    if (check(srv, &g, &err) == 0 &&
        put(srv, req, &g,
            create    ? 0
            : version ? version
                      : n.top.version,
            create ? "segment.create" : "segment.update", reason, &err) == 0) {
        rg_resp_json(resp, create ? 201 : 200, segment_json(&g));
        goto cleanup;
    }
fail:
    rg_resp_error(resp, &err);
cleanup:
    newest_release(&n);
    free(def);
    json_decref(body);
}

void rg_api_segment_create(rg_server *srv, rg_req *req, rg_resp *resp)
{
    write_live(srv, req, resp, NULL, true);
}

void rg_api_segment_update(rg_server *srv, rg_req *req, rg_resp *resp)
{
    write_live(srv, req, resp, req->params[0], false);
}

void rg_api_segment_delete(rg_server *srv, rg_req *req, rg_resp *resp)
{
    static const char *const allowed[] = {"environment", "reason", NULL};
    const char *env, *reason;
    newest n = {0};
    rg_segment_rec g;
    rg_err err;
    rg_err_clear(&err);
    json_t *body = rg__api_body(req, resp, allowed);
    if (!body)
        return;
    if (rg__api_flag_env(req, body, &env, &err) ||
        rg_json_string(body, "reason", true, RG_REASON_MAX, &reason, &err) ||
        newest_of(srv, env, req->params[0], false, &n, &err))
        goto fail;
    g = n.top;
    g.deleted = true;
    g.definition = "";
    /* the store refuses it while a flag names the segment (409) */
    if (put(srv, req, &g, n.top.version, "segment.delete", reason, &err) == 0) {
        rg_resp_json(resp, 200, segment_json(&g));
        goto cleanup;
    }
fail:
    rg_resp_error(resp, &err);
cleanup:
    newest_release(&n);
    json_decref(body);
}

void rg_api_segment_get(rg_server *srv, rg_req *req, rg_resp *resp)
{
    const char *env;
    newest n;
    rg_err err;
    rg_err_clear(&err);
    if (rg__api_flag_env(req, NULL, &env, &err) ||
        newest_of(srv, env, req->params[0], true, &n, &err)) {
        rg_resp_error(resp, &err);
        return;
    }
    json_t *out = segment_json(&n.top);
    json_object_set(out, "history", n.history);
    rg_resp_json(resp, 200, out);
    newest_release(&n);
}

static int list_one(void *ctx, const rg_segment_rec *g)
{
    return json_array_append_new(ctx, segment_json(g)) ? RG_ENOMEM : 0;
}

void rg_api_segment_list(rg_server *srv, rg_req *req, rg_resp *resp)
{
    const char *env;
    rg_err err;
    rg_err_clear(&err);
    json_t *list = json_array();
    if (!list)
        rg_err_set(&err, RG_ENOMEM, "out of memory");
    if (err.code || rg__api_flag_env(req, NULL, &env, &err) ||
        rg_store_segment_list(srv->store, env, list_one, list, &err)) {
        json_decref(list);
        rg_resp_error(resp, &err);
        return;
    }
    rg_resp_json(resp, 200, json_pack("{s:o}", "segments", list));
}
