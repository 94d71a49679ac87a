/* api_audit.c - GET /v1/audit: who did what, when, why; newest first. */
#include "api.h"

#include "common/json.h"

static int audit_one(void *ctx, const rg_audit_rec *a)
{
    json_t *v = json_pack("{s:I,s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "id",
                          (json_int_t)a->id, "at_ms", (json_int_t)a->at_ms,
                          "actor", a->actor, "role", a->role, "action",
                          a->action, "target", a->target, "reason", a->reason,
                          "source", a->source, "detail", a->detail);
    return v ? json_array_append_new(ctx, v) : -1;
}

void rg_api_audit_list(rg_server *srv, rg_req *req, rg_resp *resp)
{
    rg_audit_filter f = {0};
    bool present;
    rg_err err;
    rg_err_clear(&err);
    if (rg__api_query_int(req, "since_ms", 0, INT64_MAX, &f.since_ms, &present,
                          resp) != 0 ||
        rg__api_query_int(req, "until_ms", 0, INT64_MAX, &f.until_ms, &present,
                          resp) != 0 ||
        rg__api_query_int(req, "limit", 1, 1000, &f.limit, &present, resp) != 0)
        return;
    f.actor = rg_req_query(req, "actor");
    f.target = rg_req_query(req, "target");
    f.action = rg_req_query(req, "action");
    json_t *arr = json_array();
    if (!arr ||
        rg_store_audit_list(srv->store, &f, audit_one, arr, &err) != 0) {
        json_decref(arr);
        if (err.code == RG_OK)
            rg_err_set(&err, RG_ENOMEM, "out of memory");
        rg_resp_error(resp, &err);
        return;
    }
    rg_resp_json(resp, 200, json_pack("{s:o}", "audit", arr));
}
