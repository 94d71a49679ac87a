/* api_audit.c - GET /v1/audit: who did what, when, why; newest first. */
#include "api.h"
#include "server/page.h"

#include "common/json.h"

static int audit_one(void *ctx, const rg_audit_rec *a)
{
    int take = rg_page_step(ctx, a->id, NULL);
    if (take != 1)
        return take;
    return rg_page_push(
        ctx, json_pack("{s:I,s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "id",
                       (json_int_t)a->id, "at_ms", (json_int_t)a->at_ms,
                       "actor", a->actor, "role", a->role, "action", a->action,
                       "target", a->target, "reason", a->reason, "source",
                       a->source, "detail", a->detail));
}

void rg_api_audit_list(rg_server *srv, rg_req *req, rg_resp *resp)
{
    rg_audit_filter f = {0};
    rg_page page;
    bool present;
    rg_err err;
    rg_err_clear(&err);
    if (rg__api_query_int(req, "since_ms", 0, INT64_MAX, &f.since_ms, &present,
                          resp) != 0 ||
        rg__api_query_int(req, "until_ms", 0, INT64_MAX, &f.until_ms, &present,
                          resp) != 0 ||
        rg_page_parse(req, RG_PAGE_ID_DESC, &page, resp) != 0)
        return;
    f.actor = rg_req_query(req, "actor");
    f.target = rg_req_query(req, "target");
    f.action = rg_req_query(req, "action");
    f.before_id = page.after_id; /* newest first: the page below the cursor */
    f.limit = page.limit + 1;    /* one more tells whether a page follows */
    int rc = rg_store_audit_list(srv->store, &f, audit_one, &page, &err);
    rg_page_reply(&page, resp, "audit", rc, &err);
}
