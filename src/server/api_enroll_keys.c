/* api_enroll_keys.c - POST/GET /v1/enrollment-keys and DELETE
 * /v1/enrollment-keys/{id}: keys that let agents enroll. The key is shown
 * once, at creation; the store keeps its SHA-256, which no answer shows. */
#include "api.h"
#include "server/page.h"

#include "common/crypto.h"
#include "common/json.h"
#include "server/auth.h"

#include <stdio.h>
#include <string.h>

#define USES_MAX 1000000000LL
#define EXPIRES_MAX_S (10LL * 366 * 24 * 3600)

void rg_api_enroll_key_create(rg_server *srv, rg_req *req, rg_resp *resp)
{
    static const char *const allowed[] = {"uses", "expires_in_s", NULL};
    int64_t uses = -1, expires_in = 0;
    char secret[RG_HASH_HEX];
    rg_enroll_key_rec k;
    rg_audit_rec audit;
    rg_err err;
    rg_err_clear(&err);
    json_t *body = rg__api_body(req, resp, allowed);
    if (!body)
        return;
    if (rg_json_int(body, "uses", false, 1, USES_MAX, &uses, &err) ||
        rg_json_int(body, "expires_in_s", false, 1, EXPIRES_MAX_S, &expires_in,
                    &err))
        goto fail;
    memset(&k, 0, sizeof k);
    rg_auth_token_new(secret, k.hash);
    rg_audit_init(&audit, srv, req, "enrollment_key.create", "enrollment_key",
                  NULL);
    k.created_ms = audit.at_ms;
    k.expires_ms = expires_in ? audit.at_ms + expires_in * 1000 : 0;
    k.uses_left = uses;
    snprintf(k.created_by, sizeof k.created_by, "%s", audit.actor);
    snprintf(audit.detail, sizeof audit.detail,
             "{\"uses\":%lld,\"expires_ms\":%lld}", (long long)uses,
             (long long)k.expires_ms);
    if (rg_store_enroll_key_create(srv->store, &k, &audit, &err) != 0)
        goto fail;
    json_decref(body);
    json_t *v =
        json_pack("{s:I,s:s,s:o,s:I}", "id", (json_int_t)k.id, "key", secret,
                  "uses", uses < 0 ? json_null() : json_integer(uses),
                  "expires_ms", (json_int_t)k.expires_ms);
    sodium_memzero(secret, sizeof secret);
    rg_resp_json(resp, 201, v);
    return;
fail:
    json_decref(body);
    rg_resp_error(resp, &err);
}

static json_t *key_json(const rg_enroll_key_rec *k)
{
    return json_pack(
        "{s:I,s:I,s:I,s:I,s:o,s:s}", "id", (json_int_t)k->id, "created_ms",
        (json_int_t)k->created_ms, "expires_ms", (json_int_t)k->expires_ms,
        "revoked_ms", (json_int_t)k->revoked_ms, "uses",
        k->uses_left < 0 ? json_null() : json_integer(k->uses_left),
        "created_by", k->created_by);
}

static json_t *key_any_json(const void *rec)
{
    return key_json(rec);
}

static json_t *key_get_json(rg_store *s, int64_t id, rg_err *err)
{
    rg_enroll_key_rec rec;
    if (rg_store_enroll_key_get(s, id, &rec, err) != 0)
        return NULL;
    json_t *j = key_json(&rec);
    if (!j)
        rg_err_set(err, RG_ENOMEM, "out of memory");
    return j;
}

static int visit_key(void *ctx, const rg_enroll_key_rec *k)
{
    const rg__api_visitor *v = ctx;
    return v->visit(v->ctx, k->id, k);
}

static int keys_each(rg_store *s, rg__api_visit visit, void *ctx, rg_err *err)
{
    rg__api_visitor v = {visit, ctx};
    return rg_store_enroll_key_list(s, visit_key, &v, err);
}

static const rg__api_revocable keys = {
    .kind = "enrollment_key",
    .list_key = "enrollment_keys",
    .each = keys_each,
    .to_json = key_any_json,
    .get_json = key_get_json,
    .revoke = rg_store_enroll_key_revoke,
};

void rg_api_enroll_key_list(rg_server *srv, rg_req *req, rg_resp *resp)
{
    rg__api_list(srv, req, resp, &keys);
}

void rg_api_enroll_key_revoke(rg_server *srv, rg_req *req, rg_resp *resp)
{
    rg__api_revoke(srv, req, resp, &keys);
}
