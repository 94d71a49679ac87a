/* page.c - see page.h. */
#include "page.h"

#include "server/api.h"

#include <stdio.h>
#include <string.h>

int rg_page_parse(const rg_req *req, rg_page_order order, rg_page *p,
                  rg_resp *resp)
{
    bool given;
    memset(p, 0, sizeof *p);
    p->order = order;
    p->limit = RG_PAGE_DEFAULT;
    if (rg__api_query_int(req, "limit", 1, RG_PAGE_MAX, &p->limit, &given,
                          resp) != 0)
        return RG_EINVAL;
    if (order != RG_PAGE_NAME) {
        if (rg__api_query_int(req, "after", 0, INT64_MAX, &p->after_id, &given,
                              resp) != 0)
            return RG_EINVAL;
    } else {
        const char *after = rg_req_query(req, "after");
        if (after && (!after[0] || strlen(after) > RG_NAME_MAX)) {
            rg_resp_errorf(resp, RG_EINVAL, "after",
                           "query argument 'after' must be a name of 1 to %d "
                           "bytes (the previous page's next_after)",
                           RG_NAME_MAX);
            return RG_EINVAL;
        }
        snprintf(p->after_name, sizeof p->after_name, "%s", after ? after : "");
    }
    p->items = json_array();
    if (!p->items) {
        rg_resp_errorf(resp, RG_ENOMEM, "", "out of memory");
        return RG_ENOMEM;
    }
    return 0;
}

/* Whether the item keyed (id, name) comes after the cursor. */
static bool past_cursor(const rg_page *p, int64_t id, const char *name)
{
    switch (p->order) {
    case RG_PAGE_ID_ASC:
        return id > p->after_id;
    case RG_PAGE_ID_DESC:
        return !p->after_id || id < p->after_id;
    case RG_PAGE_NAME:
        return strcmp(name, p->after_name) > 0;
    }
    return false;
}

int rg_page_step(rg_page *p, int64_t id, const char *name)
{
    if (!past_cursor(p, id, name ? name : ""))
        return 0;
    if (p->n == (size_t)p->limit) {
        p->more = true;
        return RG_PAGE_FULL;
    }
    p->n++;
    p->last_id = id;
    snprintf(p->last_name, sizeof p->last_name, "%s", name ? name : "");
    return 1;
}

int rg_page_push(rg_page *p, json_t *v)
{
    return v && json_array_append_new(p->items, v) == 0 ? 0 : -1;
}

json_t *rg_page_next(const rg_page *p)
{
    if (!p->more)
        return json_null();
    return p->order == RG_PAGE_NAME ? json_string(p->last_name)
                                    : json_integer(p->last_id);
}

void rg_page_reply(rg_page *p, rg_resp *resp, const char *key, int rc,
                   const rg_err *err)
{
    json_t *items = p->items;
    p->items = NULL;
    if (rc != 0 && rc != RG_PAGE_FULL) {
        json_decref(items);
        if (err->code == RG_OK)
            rg_resp_errorf(resp, RG_ENOMEM, "", "out of memory");
        else
            rg_resp_error(resp, err);
        return;
    }
    rg_resp_json(
        resp, 200,
        json_pack("{s:o, s:o}", key, items, "next_after", rg_page_next(p)));
}
