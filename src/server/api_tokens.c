/* api_tokens.c - POST/GET /v1/tokens and DELETE /v1/tokens/{id}: admin
 * tokens with a role. The secret is shown once, at creation. */
#include "api.h"
#include "server/page.h"

#include "common/crypto.h"
#include "common/json.h"
#include "server/auth.h"

#include <stdio.h>
#include <string.h>

#define EXPIRES_MAX_S (10LL * 366 * 24 * 3600)

static json_t *token_json(const rg_token_rec *t)
{
    return json_pack("{s:I,s:s,s:s,s:I,s:I,s:I,s:s}", "id", (json_int_t)t->id,
                     "name", t->name, "role", t->role, "created_ms",
                     (json_int_t)t->created_ms, "expires_ms",
                     (json_int_t)t->expires_ms, "revoked_ms",
                     (json_int_t)t->revoked_ms, "created_by", t->created_by);
}

static bool name_ok(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

void rg_api_token_create(rg_server *srv, rg_req *req, rg_resp *resp)
{
    static const char *const allowed[] = {"role", "name", "expires_in_s", NULL};
    const char *role = NULL, *name = NULL;
    int64_t expires_in = 0;
    char secret[RG_HASH_HEX];
    rg_token_rec t;
    rg_audit_rec audit;
    rg_err err;
    rg_err_clear(&err);
    json_t *body = rg__api_body(req, resp, allowed);
    if (!body)
        return;
    if (rg_json_string(body, "role", true, 16, &role, &err) ||
        rg_json_string(body, "name", true, RG_NAME_MAX, &name, &err) ||
        rg_json_int(body, "expires_in_s", false, 1, EXPIRES_MAX_S, &expires_in,
                    &err))
        goto fail;
    if (rg_role_parse(role) < 0) {
        rg_err_field(&err, RG_EINVAL, "role",
                     "role '%.16s' must be viewer, operator or admin", role);
        goto fail;
    }
    if (!name_ok(name)) {
        rg_err_field(&err, RG_EINVAL, "name",
                     "token name must not contain control characters");
        goto fail;
    }
    memset(&t, 0, sizeof t);
    snprintf(t.name, sizeof t.name, "%s", name);
    snprintf(t.role, sizeof t.role, "%s", role);
    rg_auth_token_new(secret, t.hash);
    /* The store sets the target to token:<id> (one per object). */
    rg_audit_init(&audit, srv, req, "token.create", "token", NULL);
    rg_audit_detail(&audit, json_pack("{s:s,s:s}", "name", name, "role", role));
    t.created_ms = audit.at_ms;
    t.expires_ms = expires_in ? audit.at_ms + expires_in * 1000 : 0;
    snprintf(t.created_by, sizeof t.created_by, "%s", audit.actor);
    if (rg_store_token_create(srv->store, &t, &audit, &err) != 0)
        goto fail;
    json_decref(body);
    json_t *v = token_json(&t);
    if (v)
        json_object_set_new(v, "token", json_string(secret));
    sodium_memzero(secret, sizeof secret);
    rg_resp_json(resp, 201, v);
    return;
fail:
    json_decref(body);
    rg_resp_error(resp, &err);
}

static json_t *token_any_json(const void *rec)
{
    return token_json(rec);
}

static json_t *token_get_json(rg_store *s, int64_t id, rg_err *err)
{
    rg_token_rec rec;
    if (rg_store_token_get(s, id, &rec, err) != 0)
        return NULL;
    json_t *j = token_json(&rec);
    if (!j)
        rg_err_set(err, RG_ENOMEM, "out of memory");
    return j;
}

static int visit_token(void *ctx, const rg_token_rec *t)
{
    const rg__api_visitor *v = ctx;
    return v->visit(v->ctx, t->id, t);
}

static int tokens_each(rg_store *s, rg__api_visit visit, void *ctx, rg_err *err)
{
    rg__api_visitor v = {visit, ctx};
    return rg_store_token_list(s, visit_token, &v, err);
}

static const rg__api_revocable tokens = {
    .kind = "token",
    .list_key = "tokens",
    .each = tokens_each,
    .to_json = token_any_json,
    .get_json = token_get_json,
    .revoke = rg_store_token_revoke,
};

void rg_api_token_list(rg_server *srv, rg_req *req, rg_resp *resp)
{
    rg__api_list(srv, req, resp, &tokens);
}

void rg_api_token_revoke(rg_server *srv, rg_req *req, rg_resp *resp)
{
    rg__api_revoke(srv, req, resp, &tokens);
}

void rg_api_token_whoami(rg_server *srv, rg_req *req, rg_resp *resp)
{
    const rg_caller *c = req->auth;
    (void)srv;
    rg_resp_json(resp, 200,
                 json_pack("{s:I,s:s,s:s}", "token_id", (json_int_t)c->token_id,
                           "name", c->name, "role", rg_role_name(c->role)));
}
