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
    char secret[RG_HASH_HEX], target[96];
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
    snprintf(target, sizeof target, "token:%s", name);
    rg_audit_init(&audit, srv, req, "token.create", target, NULL);
    snprintf(audit.detail, sizeof audit.detail, "{\"role\":\"%s\"}", role);
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

static int list_one(void *ctx, const rg_token_rec *t)
{
    int take = rg_page_step(ctx, t->id, NULL);
    return take == 1 ? rg_page_push(ctx, token_json(t)) : take;
}

void rg_api_token_list(rg_server *srv, rg_req *req, rg_resp *resp)
{
    rg_page page;
    rg_err err;
    rg_err_clear(&err);
    if (rg_page_parse(req, RG_PAGE_ID_ASC, &page, resp) != 0)
        return;
    int rc = rg_store_token_list(srv->store, list_one, &page, &err);
    rg_page_reply(&page, resp, "tokens", rc, &err);
}

void rg_api_token_revoke(rg_server *srv, rg_req *req, rg_resp *resp)
{
    int64_t id;
    char target[48];
    rg_token_rec t;
    rg_audit_rec audit;
    rg_err err;
    rg_err_clear(&err);
    if (rg__api_param_id(req, 0, "id", &id, resp) != 0)
        return;
    snprintf(target, sizeof target, "token:%lld", (long long)id);
    rg_audit_init(&audit, srv, req, "token.revoke", target, NULL);
    if (rg_store_token_revoke(srv->store, id, audit.at_ms, &audit, &err) != 0) {
        rg_resp_error(resp, &err);
        return;
    }
    if (rg_store_token_get(srv->store, id, &t, &err) != 0) {
        rg_resp_error(resp, &err);
        return;
    }
    rg_resp_json(resp, 200, token_json(&t));
}
