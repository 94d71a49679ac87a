/* api_unleash.c - the Unleash client API, so that unmodified Unleash SDKs
 * read Rollgate's flags (docs/flags.md): GET /api/client/features (the
 * token's environment as a client-features document, with the
 * environment's change stamp as ETag; 304 when If-None-Match matches), POST
 * /api/client/register and /api/client/metrics (accepted and dropped); and
 * the admin calls on such tokens: POST, GET /v1/client-tokens and DELETE
 * /v1/client-tokens/{id}. */
#include "api.h"

#include "common/crypto.h"
#include "common/json.h"
#include "server/auth.h"
#include "server/flagdoc.h"
#include "server/guard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Authenticates the client token of req ("Authorization: <token>", as the
 * SDKs send it, or "Bearer <token>") into *t. Returns 0, or fills resp
 * (401, audited and charged to the address like any failed
 * authentication: guard.h; or the store's error). */
static int client_auth(rg_server *srv, const rg_req *req,
                       rg_client_token_rec *t, rg_resp *resp)
{
    const char *h = rg_req_header(req, "Authorization");
    char hash[RG_SHA256_HEX];
    rg_err err;
    rg_err_clear(&err);
    if (h && strncasecmp(h, "Bearer ", 7) == 0)
        h += 7;
    const char *why = !h || !*h         ? "missing client token"
                      : strlen(h) > 256 ? "malformed client token"
                                        : NULL;
    int rc = RG_EAUTH;
    if (!why) {
        rg_sha256_hex(h, strlen(h), hash);
        rc = rg_store_client_token_find(srv->store, hash, t, &err);
        if (rc && rc != RG_ENOTFOUND) {
            rg_resp_error(resp, &err);
            return rc;
        }
        why = rc ? "unknown client token" : NULL;
    }
    if (!why)
        return 0;
    rg_err_set(&err, RG_EAUTH, "%s", why);
    rg_guard_auth_failed(srv, req, &err, why, "", resp);
    return RG_EAUTH;
}

void rg_api_client_features(rg_server *srv, rg_req *req, rg_resp *resp)
{
    rg_client_token_rec t;
    char stamp[RG_FLAG_STAMP_MAX];
    rg_err err;
    rg_err_clear(&err);
    if (client_auth(srv, req, &t, resp))
        return;
    /* The ETag is the environment's change stamp: an unchanged set is
     * answered 304 without building it. */
    if (rg_flagdoc_stamp(srv->flagdocs, srv->store, t.environment,
                         rg_clock_now(srv->clock), stamp, &err)) {
        rg_resp_error(resp, &err);
        return;
    }
    snprintf(resp->etag, sizeof resp->etag, "\"%s\"", stamp);
    resp->content_type = "application/json";
    const char *inm = rg_req_header(req, "If-None-Match");
    if (inm && strcmp(inm, resp->etag) == 0) {
        resp->status = 304;
        return;
    }
    size_t len;
    char *text = rg_flagdoc_text(srv->flagdocs, srv->store, t.environment,
                                 stamp, &len, &err);
    if (!text) {
        resp->etag[0] = '\0';
        rg_resp_error(resp, &err);
        return;
    }
    resp->status = 200;
    resp->body = text;
    resp->len = len;
}

/* register and metrics: any JSON object from a valid client token. */
void rg_api_client_accept(rg_server *srv, rg_req *req, rg_resp *resp)
{
    rg_client_token_rec t;
    rg_err err;
    rg_err_clear(&err);
    if (client_auth(srv, req, &t, resp))
        return;
    json_t *body = rg_json_parse_object(req->body.data ? req->body.data : "",
                                        req->body.len, &err);
    if (!body) {
        rg_resp_error(resp, &err);
        return;
    }
    json_decref(body);
    rg_resp_json(resp, 202, json_object());
}

/* A client token's answer, without its secret. */
static json_t *client_token_json(const rg_client_token_rec *t)
{
    return json_pack("{s:I,s:s,s:s,s:I,s:s,s:I}", "id", (json_int_t)t->id,
                     "name", t->name, "environment", t->environment,
                     "created_ms", (json_int_t)t->created_ms, "created_by",
                     t->created_by, "revoked_ms", (json_int_t)t->revoked_ms);
}

void rg_api_client_token_create(rg_server *srv, rg_req *req, rg_resp *resp)
{
    static const char *const allowed[] = {"name", "environment", NULL};
    const char *name, *env;
    rg_client_token_rec t = {0};
    rg_audit_rec audit;
    char secret[RG_HASH_HEX], unused[RG_HASH_HEX], token[RG_NAME_MAX + 80];
    rg_err err;
    rg_err_clear(&err);
    json_t *body = rg__api_body(req, resp, allowed);
    if (!body)
        return;
    if (rg_json_string(body, "name", true, RG_NAME_MAX, &name, &err) ||
        rg__api_flag_env(req, body, &env, &err))
        goto fail;
    rg_auth_token_new(secret, unused);
    snprintf(token, sizeof token, "*:%s.%s", env, secret);
    rg_sha256_hex(token, strlen(token), t.hash);
    snprintf(t.name, sizeof t.name, "%s", name);
    snprintf(t.environment, sizeof t.environment, "%s", env);
    /* The store sets the target to client_token:<id> (one per object). */
    rg_audit_init(&audit, srv, req, "client_token.create", "client_token",
                  NULL);
    rg_audit_detail(&audit,
                    json_pack("{s:s,s:s}", "name", name, "environment", env));
    t.created_ms = audit.at_ms;
    snprintf(t.created_by, sizeof t.created_by, "%s", audit.actor);
    if (rg_store_client_token_create(srv->store, &t, &audit, &err))
        goto fail;
    json_t *v = client_token_json(&t);
    if (v)
        json_object_set_new(v, "token", json_string(token));
    rg_resp_json(resp, 201, v);
    goto cleanup;
fail:
    rg_resp_error(resp, &err);
cleanup:
    json_decref(body);
}

static json_t *client_token_any_json(const void *rec)
{
    return client_token_json(rec);
}

static json_t *client_token_get_json(rg_store *s, int64_t id, rg_err *err)
{
    rg_client_token_rec rec;
    if (rg_store_client_token_get(s, id, &rec, err) != 0)
        return NULL;
    json_t *j = client_token_json(&rec);
    if (!j)
        rg_err_set(err, RG_ENOMEM, "out of memory");
    return j;
}

static int visit_client_token(void *ctx, const rg_client_token_rec *t)
{
    const rg__api_visitor *v = ctx;
    return v->visit(v->ctx, t->id, t);
}

static int client_tokens_each(rg_store *s, rg__api_visit visit, void *ctx,
                              rg_err *err)
{
    rg__api_visitor v = {visit, ctx};
    return rg_store_client_token_list(s, visit_client_token, &v, err);
}

/* Listed and revoked like admin tokens (api_revocable.c): a revoked token
 * answers 401 at once; audited as client_token.revoke. */
static const rg__api_revocable client_tokens = {
    .kind = "client_token",
    .list_key = "client_tokens",
    .each = client_tokens_each,
    .to_json = client_token_any_json,
    .get_json = client_token_get_json,
    .revoke = rg_store_client_token_revoke,
};

void rg_api_client_token_list(rg_server *srv, rg_req *req, rg_resp *resp)
{
    rg__api_list(srv, req, resp, &client_tokens);
}

void rg_api_client_token_revoke(rg_server *srv, rg_req *req, rg_resp *resp)
{
    rg__api_revoke(srv, req, resp, &client_tokens);
}
