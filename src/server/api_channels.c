/* api_channels.c - POST and GET /v1/channels, PUT
 * /v1/channels/{name}/preflight. */
#include "api.h"
#include "server/page.h"

#include "common/name.h"
#include "common/crypto.h"
#include "common/json.h"
#include "server/auth.h"
#include "server/engine_path.h"

#include <limits.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TIMEOUT_DEFAULT_S 30
#define MEMORY_DEFAULT_MB 1024

json_t *rg__api_preflight_json(const rg_preflight_spec *p)
{
    if (!p->engine[0])
        return json_null();
    return json_pack("{s:s,s:o,s:I,s:I}", "engine", p->engine, "corpus",
                     p->corpus[0] ? json_string(p->corpus) : json_null(),
                     "timeout_s", (json_int_t)p->timeout_s, "memory_mb",
                     (json_int_t)p->memory_mb);
}

static json_t *channel_json(const rg_channel_rec *c)
{
    return json_pack("{s:I,s:s,s:s,s:I,s:o,s:o,s:b}", "id", (json_int_t)c->id,
                     "name", c->name, "description", c->description,
                     "created_ms", (json_int_t)c->created_ms, "current_release",
                     rg__json_id_or_null(c->current_release_id), "preflight",
                     rg__api_preflight_json(&c->preflight), "public",
                     c->is_public);
}

/* Prefixes err's field with prefix (may be ""). Returns err->code. */
static int prefix_field(rg_err *err, const char *prefix)
{
    char f[2 * sizeof err->field];
    snprintf(f, sizeof f, "%s%s", prefix, err->field);
    size_t n = strnlen(f, sizeof err->field - 1);
    memcpy(err->field, f, n);
    err->field[n] = '\0';
    return err->code;
}

int rg__api_preflight_parse(const json_t *v, const char *prefix,
                            const char *engine_dir, rg_preflight_spec *out,
                            rg_err *err)
{
    static const char *const allowed[] = {"engine", "corpus", "timeout_s",
                                          "memory_mb", NULL};
    const char *engine = NULL, *corpus = NULL;
    int64_t timeout_s = TIMEOUT_DEFAULT_S, memory_mb = MEMORY_DEFAULT_MB;
    memset(out, 0, sizeof *out);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_object(v)) {
        rg_err_field(err, RG_EINVAL, "", "preflight must be an object or null");
        return prefix_field(err, prefix[0] ? "preflight" : "");
    }
    if (rg_json_only(v, allowed, err) ||
        rg_json_string(v, "engine", true, RG_ENGINE_MAX, &engine, err) ||
        rg_json_string(v, "corpus", false, 64, &corpus, err) ||
        rg_json_int(v, "timeout_s", false, 1, RG_PREFLIGHT_TIMEOUT_MAX,
                    &timeout_s, err) ||
        rg_json_int(v, "memory_mb", false, 0, RG_PREFLIGHT_MEMORY_MAX,
                    &memory_mb, err))
        return prefix_field(err, prefix);
    if (strchr(engine, '/')
            ? engine[0] != '/'
            : strspn(engine, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                             "abcdefghijklmnopqrstuvwxyz"
                             "0123456789._+-") != strlen(engine)) {
        rg_err_field(err, RG_EINVAL, "engine",
                     "engine '%.128s' must be an absolute path or a program "
                     "name (no arguments)",
                     engine);
        return prefix_field(err, prefix);
    }
    char found[PATH_MAX];
    if (!rg_engine_resolve(engine_dir, engine, found, sizeof found)) {
        rg_err_field(err, RG_EINVAL, "engine",
                     "engine '%.128s' is not an executable file%s", engine,
                     engine[0] == '/' ? ""
                     : engine_dir[0]  ? " in rollgated's --engine-dir"
                                      : " in rollgated's PATH (or set "
                                        "rollgated --engine-dir)");
        return prefix_field(err, prefix);
    }
    if (corpus && !rg_sha256_hex_valid(corpus)) {
        rg_err_field(err, RG_EINVAL, "corpus",
                     "corpus '%.64s' is not a sha256 digest of an uploaded "
                     "artifact",
                     corpus);
        return prefix_field(err, prefix);
    }
    snprintf(out->engine, sizeof out->engine, "%s", engine);
    snprintf(out->corpus, sizeof out->corpus, "%s", corpus ? corpus : "");
    out->timeout_s = timeout_s;
    out->memory_mb = memory_mb;
    return 0;
}

/* The audit detail of a preflight change: the spec as JSON, without the
 * engine when it does not fit; "public":true for a new public channel. */
static void preflight_detail(const rg_preflight_spec *p, bool is_public,
                             char *out, size_t cap)
{
    json_t *j = rg__api_preflight_json(p);
    if (j && is_public)
        json_object_set_new(j, "public", json_true());
    char *s = j ? rg_json_dump(j) : NULL;
    if (s && strlen(s) < cap)
        snprintf(out, cap, "%s", s);
    else
        snprintf(out, cap, "{\"engine\":\"(%zu bytes)\"}", strlen(p->engine));
    free(s);
    json_decref(j);
}

void rg_api_channel_create(rg_server *srv, rg_req *req, rg_resp *resp)
{
    static const char *const allowed[] = {"name", "description", "preflight",
                                          "public", NULL};
    const char *name = NULL, *desc = NULL;
    char target[96];
    rg_channel_rec c;
    rg_audit_rec audit;
    rg_err err;
    rg_err_clear(&err);
    json_t *body = rg__api_body(req, resp, allowed);
    if (!body)
        return;
    memset(&c, 0, sizeof c);
    if (rg_json_string(body, "name", true, RG_NAME_MAX, &name, &err) != 0 ||
        rg_json_string(body, "description", false, RG_DESC_MAX, &desc, &err) !=
            0 ||
        rg__api_preflight_parse(json_object_get(body, "preflight"),
                                "preflight.", srv->cfg.engine_dir, &c.preflight,
                                &err) != 0 ||
        rg_json_bool(body, "public", false, &c.is_public, &err) != 0)
        goto fail;
    if (!rg_channel_name_valid(name)) {
        rg_err_field(&err, RG_EINVAL, "name",
                     "channel name '%.64s' must be " RG_CHANNEL_NAME_RULE,
                     name);
        goto fail;
    }
    snprintf(c.name, sizeof c.name, "%s", name);
    snprintf(c.description, sizeof c.description, "%s", desc ? desc : "");
    snprintf(target, sizeof target, "channel:%s", name);
    rg_audit_init(&audit, srv, req, "channel.create", target, NULL);
    if (c.preflight.engine[0])
        preflight_detail(&c.preflight, c.is_public, audit.detail,
                         sizeof audit.detail);
    else if (c.is_public) /* its artifacts at public URLs: docs/caching.md */
        snprintf(audit.detail, sizeof audit.detail, "{\"public\":true}");
    c.created_ms = audit.at_ms;
    if (rg_store_channel_create(srv->store, &c, &audit, &err) != 0)
        goto fail;
    json_decref(body);
    rg__api_state_changed(srv);
    rg_resp_json(resp, 201, channel_json(&c));
    return;
fail:
    json_decref(body);
    rg_resp_error(resp, &err);
}

static int list_one(void *ctx, const rg_channel_rec *c)
{
    int take = rg_page_step(ctx, c->id, c->name);
    return take == 1 ? rg_page_push(ctx, channel_json(c)) : take;
}

void rg_api_channel_list(rg_server *srv, rg_req *req, rg_resp *resp)
{
    rg_page page;
    rg_err err;
    rg_err_clear(&err);
    if (rg_page_parse(req, RG_PAGE_NAME, &page, resp) != 0)
        return;
    int rc = rg_store_channel_list(srv->store, list_one, &page, &err);
    rg_page_reply(&page, resp, "channels", rc, &err);
}

void rg_api_channel_preflight(rg_server *srv, rg_req *req, rg_resp *resp)
{
    static const char *const allowed[] = {"engine", "corpus", "timeout_s",
                                          "memory_mb", NULL};
    const char *name = req->n_params ? req->params[0] : "";
    char target[96];
    json_t *body = NULL;
    rg_channel_rec c;
    rg_preflight_spec spec;
    rg_audit_rec audit;
    rg_err err;
    rg_err_clear(&err);
    memset(&spec, 0, sizeof spec);
    /* The body is the preflight object, or null to remove it. */
    const char *raw = req->body.data ? req->body.data : "";
    size_t n = req->body.len, i = 0;
    while (i < n && strchr(" \t\r\n", raw[i]))
        i++;
    while (n > i && strchr(" \t\r\n", raw[n - 1]))
        n--;
    if (!(n - i == 4 && memcmp(raw + i, "null", 4) == 0)) {
        if (!(body = rg__api_body(req, resp, allowed)))
            return;
        if (rg__api_preflight_parse(body, "", srv->cfg.engine_dir, &spec,
                                    &err) != 0)
            goto fail;
    }
    snprintf(target, sizeof target, "channel:%.64s", name);
    rg_audit_init(&audit, srv, req, "channel.preflight", target, NULL);
    preflight_detail(&spec, false, audit.detail, sizeof audit.detail);
    if (rg_store_channel_set_preflight(srv->store, name, &spec, &audit, &err) !=
        0) {
        /* The body is the preflight object: its fields have no prefix. */
        size_t p = strlen("preflight.");
        if (strncmp(err.field, "preflight.", p) == 0)
            memmove(err.field, err.field + p, strlen(err.field + p) + 1);
        goto fail;
    }
    if (rg_store_channel_get(srv->store, name, &c, &err) != 0)
        goto fail;
    json_decref(body);
    rg_resp_json(resp, 200, channel_json(&c));
    return;
fail:
    json_decref(body);
    rg_resp_error(resp, &err);
}
