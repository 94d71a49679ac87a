/* api_flags.c - the flags admin API (docs/flags.md): POST/GET /v1/flags,
 * GET/PUT /v1/flags/{name}, POST /v1/flags/{name}/enable|disable|eval and
 * POST /v1/client-tokens. Every change is a new version of the flag,
 * validated strictly against the whole environment first and audited with
 * its reason in the same transaction. */
#include "api.h"

#include "common/json.h"
#include "common/name.h"
#include "flags/ctxjson.h"
#include "flags/eval.h"
#include "flags/parse.h"
#include "server/auth.h"
#include "server/flagdoc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rg__api_flag_env(const rg_req *req, const json_t *body, const char **env,
                     rg_err *err)
{
    *env = body ? NULL : rg_req_query(req, "environment");
    if (body &&
        rg_json_string(body, "environment", false, RG_NAME_MAX, env, err))
        return RG_EINVAL;
    if (!*env)
        *env = RG_FLAG_ENV_DEFAULT;
    if (!rg_channel_name_valid(*env))
        return rg_err_field(err, RG_EINVAL, "environment",
                            "environment '%.64s': must be %s", *env,
                            RG_CHANNEL_NAME_RULE);
    return 0;
}

static json_t *flag_json(const rg_flag_rec *f)
{
    json_t *def = json_loads(f->definition, 0, NULL);
    return json_pack(
        "{s:s,s:s,s:I,s:b,s:o,s:I,s:s,s:s}", "environment", f->environment,
        "name", f->name, "version", (json_int_t)f->version, "enabled",
        json_is_true(json_object_get(def, "enabled")), "feature",
        def ? def : json_null(), "created_ms", (json_int_t)f->created_ms,
        "created_by", f->created_by, "reason", f->reason);
}

/* Replaces a leading "features[...]" of s with "feature", and a leading
 * "segments[...]" with "segment" (the change, not its index). */
static void as_change(char *s)
{
    static const char *const from[] = {"features[", "segments["};
    static const char *const to[] = {"feature", "segment"};
    for (size_t i = 0; i < 2; i++) {
        size_t n = strlen(from[i]), k = strlen(to[i]);
        const char *close = strncmp(s, from[i], n) == 0 ? strchr(s, ']') : NULL;
        if (!close)
            continue;
        memmove(s + k, close + 1, strlen(close + 1) + 1);
        memcpy(s, to[i], k);
        return;
    }
}

int rg__api_flagdoc_check(rg_server *srv, const char *env,
                          const rg_flagdoc_change *chg, rg_err *err)
{
    rg_flagset *fs = NULL;
    json_t *doc = rg_flagdoc_build(srv->store, env, chg, err);
    if (!doc)
        return err->code;
    int rc = rg_flagset_parse(doc, RG_FLAGS_STRICT, &fs, err);
    if (rc) {
        as_change(err->field);
        as_change(err->msg);
    }
    rg_flagset_free(fs);
    json_decref(doc);
    return rc;
}

/* Validates feature and writes it as the next version of (env, name). */
static void write_version(rg_server *srv, rg_req *req, rg_resp *resp,
                          const char *env, const char *name, json_t *feature,
                          int64_t expect, const char *action,
                          const char *reason)
{
    rg_err err;
    rg_err_clear(&err);
    rg_flag_rec *f = calloc(1, sizeof *f);
    char *def = NULL, target[RG_FLAG_NAME_MAX + RG_NAME_MAX + 8];
    rg_audit_rec audit;
    rg_flagdoc_change chg = {.flag = name, .feature = feature};
    if (!f) {
        rg_err_set(&err, RG_ENOMEM, "out of memory");
        goto fail;
    }
    if (rg__api_flagdoc_check(srv, env, &chg, &err))
        goto fail;
    if (!(def = json_dumps(feature, JSON_COMPACT | JSON_SORT_KEYS))) {
        rg_err_set(&err, RG_ENOMEM, "out of memory");
        goto fail;
    }
    snprintf(target, sizeof target, "flag:%s/%s", env, name);
    rg_audit_init(&audit, srv, req, action, target, reason);
    snprintf(f->environment, sizeof f->environment, "%s", env);
    snprintf(f->name, sizeof f->name, "%s", name);
    snprintf(f->created_by, sizeof f->created_by, "%s", audit.actor);
    snprintf(f->reason, sizeof f->reason, "%s", reason);
    f->definition = def;
    f->created_ms = audit.at_ms;
    if (rg_store_flag_put(srv->store, f, expect, &audit, &err))
        goto fail;
    rg_resp_json(resp, expect == 0 ? 201 : 200, flag_json(f));
    goto cleanup;
fail:
    rg_resp_error(resp, &err);
cleanup:
    free(def);
    free(f);
}

/* Reads "reason" (required, 1..RG_REASON_MAX bytes). */
static int reason_of(const json_t *body, const char **reason, rg_err *err)
{
    return rg_json_string(body, "reason", true, RG_REASON_MAX, reason, err);
}

/* Reads body's "feature" object; its name must be name (set when absent). */
static int feature_of(json_t *body, const char *name, json_t **feature,
                      rg_err *err)
{
    if (rg_json_object(body, "feature", true, feature, err))
        return RG_EINVAL;
    const json_t *n = json_object_get(*feature, "name");
    if (!n && name)
        return json_object_set_new(*feature, "name", json_string(name));
    if (!json_is_string(n) || json_string_length(n) == 0 ||
        json_string_length(n) > RG_FLAG_NAME_MAX)
        return rg_err_field(err, RG_EINVAL, "feature.name",
                            "feature.name: must be a string of 1..%d bytes",
                            RG_FLAG_NAME_MAX);
    if (name && strcmp(json_string_value(n), name) != 0)
        return rg_err_field(
            err, RG_EINVAL, "feature.name",
            "feature.name '%.64s' differs from the flag '%.64s'",
            json_string_value(n), name);
    return 0;
}

void rg_api_flag_create(rg_server *srv, rg_req *req, rg_resp *resp)
{
    static const char *const allowed[] = {"environment", "feature", "reason",
                                          NULL};
    const char *env, *reason;
    json_t *feature;
    rg_err err;
    rg_err_clear(&err);
    json_t *body = rg__api_body(req, resp, allowed);
    if (!body)
        return;
    if (rg__api_flag_env(req, body, &env, &err) ||
        reason_of(body, &reason, &err) ||
        feature_of(body, NULL, &feature, &err))
        rg_resp_error(resp, &err);
    else
        write_version(srv, req, resp, env,
                      json_string_value(json_object_get(feature, "name")),
                      feature, 0, "flag.create", reason);
    json_decref(body);
}

typedef struct current {
    json_t *history; /* versions, newest first */
    rg_flag_rec top; /* the newest (definition copied) */
    char *definition;
} current;

static int take_version(void *ctx, const rg_flag_rec *f)
{
    current *c = ctx;
    if (!c->definition) {
        c->top = *f;
        if (!(c->definition = strdup(f->definition)))
            return RG_ENOMEM;
        c->top.definition = c->definition;
    }
    json_t *def = json_loads(f->definition, 0, NULL);
    json_t *v =
        json_pack("{s:I,s:b,s:I,s:s,s:s}", "version", (json_int_t)f->version,
                  "enabled", json_is_true(json_object_get(def, "enabled")),
                  "created_ms", (json_int_t)f->created_ms, "created_by",
                  f->created_by, "reason", f->reason);
    json_decref(def);
    return json_array_append_new(c->history, v) ? RG_ENOMEM : 0;
}

/* Reads flag {name} of env with its history into *c (release with
 * current_release). */
static int current_of(rg_server *srv, const char *env, const char *name,
                      current *c, rg_err *err)
{
    memset(c, 0, sizeof *c);
    if (!(c->history = json_array()))
        return rg_err_set(err, RG_ENOMEM, "out of memory");
    int rc = rg_store_flag_history(srv->store, env, name, take_version, c, err);
    if (rc == RG_ENOMEM)
        rg_err_set(err, RG_ENOMEM, "out of memory");
    return rc;
}

static void current_release(current *c)
{
    json_decref(c->history);
    free(c->definition);
}

void rg_api_flag_get(rg_server *srv, rg_req *req, rg_resp *resp)
{
    const char *env;
    current c;
    rg_err err;
    rg_err_clear(&err);
    if (rg__api_flag_env(req, NULL, &env, &err) ||
        current_of(srv, env, req->params[0], &c, &err)) {
        rg_resp_error(resp, &err);
        return;
    }
    json_t *out = flag_json(&c.top);
    json_object_set(out, "history", c.history);
    rg_resp_json(resp, 200, out);
    current_release(&c);
}

void rg_api_flag_update(rg_server *srv, rg_req *req, rg_resp *resp)
{
    static const char *const allowed[] = {"environment", "feature", "reason",
                                          "version", NULL};
    const char *env, *reason;
    json_t *feature;
    int64_t version = 0;
    current c = {0};
    rg_err err;
    rg_err_clear(&err);
    json_t *body = rg__api_body(req, resp, allowed);
    if (!body)
        return;
    if (rg__api_flag_env(req, body, &env, &err) ||
        reason_of(body, &reason, &err) ||
        feature_of(body, req->params[0], &feature, &err) ||
        rg_json_int(body, "version", false, 1, INT64_MAX, &version, &err) ||
        (!version && current_of(srv, env, req->params[0], &c, &err)))
        rg_resp_error(resp, &err);
    else
        write_version(srv, req, resp, env, req->params[0], feature,
                      version ? version : c.top.version, "flag.update", reason);
    current_release(&c);
    json_decref(body);
}

/* enable and disable: the current definition with "enabled" set. */
static void set_enabled(rg_server *srv, rg_req *req, rg_resp *resp, bool on)
{
    static const char *const allowed[] = {"environment", "reason", NULL};
    const char *env, *reason;
    current c = {0};
    json_t *def = NULL;
    rg_err err;
    rg_err_clear(&err);
    json_t *body = rg__api_body(req, resp, allowed);
    if (!body)
        return;
    if (rg__api_flag_env(req, body, &env, &err) ||
        reason_of(body, &reason, &err) ||
        current_of(srv, env, req->params[0], &c, &err))
        rg_resp_error(resp, &err);
    else if (!(def = json_loads(c.top.definition, 0, NULL)) ||
             json_object_set_new(def, "enabled", json_boolean(on)))
        rg_resp_errorf(resp, RG_EIO, NULL, "flag '%.64s': bad stored JSON",
                       req->params[0]);
    else
        write_version(srv, req, resp, env, req->params[0], def, c.top.version,
                      on ? "flag.enable" : "flag.disable", reason);
    json_decref(def);
    current_release(&c);
    json_decref(body);
}

void rg_api_flag_enable(rg_server *srv, rg_req *req, rg_resp *resp)
{
    set_enabled(srv, req, resp, true);
}

void rg_api_flag_disable(rg_server *srv, rg_req *req, rg_resp *resp)
{
    set_enabled(srv, req, resp, false);
}

typedef struct listing {
    json_t *flags;
} listing;

static int list_one(void *ctx, const rg_flag_rec *f)
{
    listing *l = ctx;
    return json_array_append_new(l->flags, flag_json(f)) ? RG_ENOMEM : 0;
}

void rg_api_flag_list(rg_server *srv, rg_req *req, rg_resp *resp)
{
    const char *env;
    rg_err err;
    rg_err_clear(&err);
    listing l = {json_array()};
    if (!l.flags)
        rg_err_set(&err, RG_ENOMEM, "out of memory");
    if (err.code || rg__api_flag_env(req, NULL, &env, &err) ||
        rg_store_flag_list(srv->store, env, list_one, &l, &err)) {
        json_decref(l.flags);
        rg_resp_error(resp, &err);
        return;
    }
    rg_resp_json(resp, 200, json_pack("{s:o}", "flags", l.flags));
}
