/* api_channels.c - POST and GET /v1/channels. */
#include "api.h"

#include "common/json.h"
#include "server/auth.h"

#include <stdio.h>
#include <string.h>

static json_t *channel_json(const rg_channel_rec *c)
{
    return json_pack("{s:I,s:s,s:s,s:I,s:o}", "id", (json_int_t)c->id, "name",
                     c->name, "description", c->description, "created_ms",
                     (json_int_t)c->created_ms, "current_release",
                     rg__json_id_or_null(c->current_release_id));
}

static bool name_ok(const char *s)
{
    return s[0] &&
           strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789._-") == strlen(s);
}

void rg_api_channel_create(rg_server *srv, rg_req *req, rg_resp *resp)
{
    static const char *const allowed[] = {"name", "description", NULL};
    const char *name = NULL, *desc = NULL;
    char target[96];
    rg_channel_rec c;
    rg_audit_rec audit;
    rg_err err;
    rg_err_clear(&err);
    json_t *body = rg__api_body(req, resp, allowed);
    if (!body)
        return;
    if (rg_json_string(body, "name", true, RG_NAME_MAX, &name, &err) != 0 ||
        rg_json_string(body, "description", false, RG_DESC_MAX, &desc, &err) !=
            0)
        goto fail;
    if (!name_ok(name)) {
        rg_err_field(&err, RG_EINVAL, "name",
                     "channel name '%.64s' must be 1..64 of [a-z0-9._-]", name);
        goto fail;
    }
    memset(&c, 0, sizeof c);
    snprintf(c.name, sizeof c.name, "%s", name);
    snprintf(c.description, sizeof c.description, "%s", desc ? desc : "");
    snprintf(target, sizeof target, "channel:%s", name);
    rg_audit_init(&audit, srv, req, "channel.create", target, NULL);
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
    json_t *v = channel_json(c);
    return v ? json_array_append_new(ctx, v) : -1;
}

void rg_api_channel_list(rg_server *srv, rg_req *req, rg_resp *resp)
{
    rg_err err;
    rg_err_clear(&err);
    json_t *arr = json_array();
    if (!arr || rg_store_channel_list(srv->store, list_one, arr, &err) != 0) {
        json_decref(arr);
        if (err.code == RG_OK)
            rg_err_set(&err, RG_ENOMEM, "out of memory");
        rg_resp_error(resp, &err);
        return;
    }
    rg_resp_json(resp, 200, json_pack("{s:o}", "channels", arr));
}
