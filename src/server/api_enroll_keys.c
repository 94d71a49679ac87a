/* api_enroll_keys.c - POST/GET /v1/enrollment-keys and DELETE
 * /v1/enrollment-keys/{id}: keys that let agents enroll. The key is shown
 * once, at creation; the store keeps its SHA-256, which no answer shows. */
#include "api.h"
#include "server/page.h"

#include "common/crypto.h"
#include "common/json.h"
#include "common/name.h"
#include "server/auth.h"
#include "server/flagdoc.h"

#include <stdio.h>
#include <string.h>

#define USES_MAX 1000000000LL
#define EXPIRES_MAX_S (10LL * 366 * 24 * 3600)

/* Reads body's "flag_environments" (1..RG_FLAG_ENVS_MAX environment
 * names; absent: none) into out, comma-separated. */
static int flag_envs_of(const json_t *body, char out[RG_FLAG_ENVS_TEXT],
                        rg_err *err)
{
    json_t *list = NULL, *e;
    size_t i, len = 0;
    out[0] = '\0';
    if (rg_json_array(body, "flag_environments", false, RG_FLAG_ENVS_MAX, &list,
                      err))
        return RG_EINVAL;
    if (list && json_array_size(list) == 0)
        return rg_err_field(err, RG_EINVAL, "flag_environments",
                            "flag_environments: name at least one");
    json_array_foreach(list, i, e)
    {
        const char *env = json_string_value(e);
        if (!env || !rg_channel_name_valid(env))
            return rg_err_field(err, RG_EINVAL, "flag_environments",
                                "flag_environments[%zu]: must be %s", i,
                                RG_CHANNEL_NAME_RULE);
        len += (size_t)snprintf(out + len, RG_FLAG_ENVS_TEXT - len, "%s%s",
                                i ? "," : "", env);
    }
    return 0;
}

/* The environments of a key's comma-separated list as a JSON array (the
 * default one when the list is empty). */
static json_t *flag_envs_json(const char *list)
{
    json_t *out = json_array();
    if (!list[0])
        list = RG_FLAG_ENV_DEFAULT;
    for (const char *p = list; out && *p;) {
        size_t n = strcspn(p, ",");
        json_array_append_new(out, json_stringn(p, n));
        p += n + (p[n] == ',');
    }
    return out;
}

void rg_api_enroll_key_create(rg_server *srv, rg_req *req, rg_resp *resp)
{
    static const char *const allowed[] = {"uses", "expires_in_s",
                                          "flag_environments", NULL};
    int64_t uses = -1, expires_in = 0;
    char secret[RG_HASH_HEX];
    rg_enroll_key_rec k;
    rg_audit_rec audit;
    rg_err err;
    rg_err_clear(&err);
    json_t *body = rg__api_body(req, resp, allowed);
    if (!body)
        return;
    memset(&k, 0, sizeof k);
    if (rg_json_int(body, "uses", false, 1, USES_MAX, &uses, &err) ||
        rg_json_int(body, "expires_in_s", false, 1, EXPIRES_MAX_S, &expires_in,
                    &err) ||
        flag_envs_of(body, k.flag_envs, &err))
        goto fail;
    rg_auth_token_new(secret, k.hash);
    rg_audit_init(&audit, srv, req, "enrollment_key.create", "enrollment_key",
                  NULL);
    k.created_ms = audit.at_ms;
    k.expires_ms = expires_in ? audit.at_ms + expires_in * 1000 : 0;
    k.uses_left = uses;
    snprintf(k.created_by, sizeof k.created_by, "%s", audit.actor);
    snprintf(audit.detail, sizeof audit.detail,
             "{\"uses\":%lld,\"expires_ms\":%lld,\"flag_environments\":"
             "\"%.400s\"}",
             (long long)uses, (long long)k.expires_ms, k.flag_envs);
    if (rg_store_enroll_key_create(srv->store, &k, &audit, &err) != 0)
        goto fail;
    json_decref(body);
    json_t *v =
        json_pack("{s:I,s:s,s:o,s:I,s:o}", "id", (json_int_t)k.id, "key",
                  secret, "uses", uses < 0 ? json_null() : json_integer(uses),
                  "expires_ms", (json_int_t)k.expires_ms, "flag_environments",
                  flag_envs_json(k.flag_envs));
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
        "{s:I,s:I,s:I,s:I,s:o,s:s,s:o}", "id", (json_int_t)k->id, "created_ms",
        (json_int_t)k->created_ms, "expires_ms", (json_int_t)k->expires_ms,
        "revoked_ms", (json_int_t)k->revoked_ms, "uses",
        k->uses_left < 0 ? json_null() : json_integer(k->uses_left),
        "created_by", k->created_by, "flag_environments",
        flag_envs_json(k->flag_envs));
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
