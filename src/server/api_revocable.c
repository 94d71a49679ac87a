/* api_revocable.c - see api.h: listing and revoking id-numbered admin
 * records, shared by admin tokens and enrollment keys. */
#include "api.h"

#include "server/auth.h"
#include "server/page.h"

#include <stdio.h>

typedef struct visit_ctx {
    const rg__api_revocable *r;
    rg_page *page;
} visit_ctx;

static int page_one(void *ctx, int64_t id, const void *rec)
{
    visit_ctx *v = ctx;
    int take = rg_page_step(v->page, id, NULL);
    return take == 1 ? rg_page_push(v->page, v->r->to_json(rec)) : take;
}

void rg__api_list(rg_server *srv, rg_req *req, rg_resp *resp,
                  const rg__api_revocable *r)
{
    rg_page page;
    rg_err err;
    rg_err_clear(&err);
    if (rg_page_parse(req, RG_PAGE_ID_ASC, &page, resp) != 0)
        return;
    visit_ctx v = {.r = r, .page = &page};
    int rc = r->each(srv->store, page_one, &v, &err);
    rg_page_reply(&page, resp, r->list_key, rc, &err);
}

void rg__api_revoke(rg_server *srv, rg_req *req, rg_resp *resp,
                    const rg__api_revocable *r)
{
    int64_t id;
    char action[48], target[48];
    rg_audit_rec audit;
    rg_err err;
    rg_err_clear(&err);
    if (rg__api_param_id(req, 0, "id", &id, resp) != 0)
        return;
    snprintf(action, sizeof action, "%s.revoke", r->kind);
    snprintf(target, sizeof target, "%s:%lld", r->kind, (long long)id);
    rg_audit_init(&audit, srv, req, action, target, NULL);
    if (r->revoke(srv->store, id, audit.at_ms, &audit, &err) != 0) {
        rg_resp_error(resp, &err);
        return;
    }
    json_t *found = r->get_json(srv->store, id, &err);
    if (!found) {
        rg_resp_error(resp, &err);
        return;
    }
    rg_resp_json(resp, 200, found);
}
