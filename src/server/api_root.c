/* api_root.c - root metadata distribution (docs/signing.md):
 *
 *   PUT /v1/root          (admin)   store the next root version
 *   GET /v1/root          (viewer)  the stored history
 *   GET /v1/agent/root?after=N      versions above N, oldest first (public:
 *                                   roots hold public keys only, and agents
 *                                   may need one before they enroll)
 *
 * The server holds no signing key and is not trusted: it checks that a
 * new root is well formed and that version N+1 is signed by the threshold
 * of version N and by its own (version 1 by its own), so that what it
 * hands out is a chain agents can follow; each agent checks the same
 * again against the root it already trusts. */
#include "api.h"
#include "server/page.h"

#include "common/json.h"
#include "server/auth.h"
#include "trust/canon.h"
#include "trust/root.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct newest {
    json_t *doc; /* the newest stored root, parsed */
} newest;

static int keep_newest(void *ctx, const rg_root_rec *r)
{
    newest *n = ctx;
    json_decref(n->doc);
    n->doc = json_loads(r->json, 0, NULL);
    return n->doc ? 0 : RG_EIO;
}

int rg__api_root_newest(rg_server *srv, json_t **out, rg_err *err)
{
    newest n = {NULL};
    int rc = rg_store_root_list(srv->store, 0, keep_newest, &n, err);
    if (rc != 0) {
        if (err->code == RG_OK)
            rc = rg_err_set(err, RG_EIO, "stored root is not JSON");
        json_decref(n.doc);
        n.doc = NULL;
    }
    *out = n.doc;
    return rc;
}

void rg_api_root_put(rg_server *srv, rg_req *req, rg_resp *resp)
{
    static const char *const allowed[] = {"signed", "signatures", NULL};
    newest n = {NULL};
    rg_root prev, next;
    rg_root_rec rec;
    rg_audit_rec audit;
    rg_buf text;
    char target[64];
    rg_err err;
    rg_err_clear(&err);
    rg_buf_init(&text, RG_ROOT_MAX);
    json_t *body = rg__api_body(req, resp, allowed);
    if (!body)
        return;
    if (rg_root_parse(body, &next, &err) != 0)
        goto fail;
    if (rg__api_root_newest(srv, &n.doc, &err) != 0)
        goto fail;
    if (!n.doc && rg_root_verify_self(body, &next, NULL, &err) != 0)
        goto fail;
    if (n.doc && (rg_root_parse(n.doc, &prev, &err) != 0 ||
                  rg_root_verify_next(&prev, body, &next, NULL, &err) != 0)) {
        if (err.code == RG_EINVAL && next.version != prev.version + 1)
            err.code = RG_ECONFLICT; /* not the next version */
        goto fail;
    }
    if (rg_canon_json(body, &text, &err) != 0)
        goto fail;
    memset(&rec, 0, sizeof rec);
    rec.version = next.version;
    snprintf(rec.digest, sizeof rec.digest, "%s", next.digest);
    rec.json = text.data;
    snprintf(target, sizeof target, "root:%lld", (long long)next.version);
    rg_audit_init(&audit, srv, req, "root.put", target, NULL);
    snprintf(audit.detail, sizeof audit.detail, "{\"root_sha256\":\"%s\"}",
             next.digest);
    rec.created_ms = audit.at_ms;
    snprintf(rec.created_by, sizeof rec.created_by, "%s", audit.actor);
    if (rg_store_root_put(srv->store, &rec, &audit, &err) != 0)
        goto fail;
    rg_resp_json(resp, 201,
                 json_pack("{s:I, s:s, s:i, s:I}", "version",
                           (json_int_t)next.version, "root_sha256", next.digest,
                           "threshold", next.threshold, "keys",
                           (json_int_t)next.nkeys));
    goto cleanup;
fail:
    rg_resp_error(resp, &err);
cleanup:
    json_decref(n.doc);
    json_decref(body);
    rg_buf_release(&text);
}

typedef struct listing {
    json_t *arr;
    rg_page *page; /* the admin view (with version, digest, who and when),
                      paged; NULL: the agents' view, every root */
} listing;

static int add_root(void *ctx, const rg_root_rec *r)
{
    listing *l = ctx;
    int take = l->page ? rg_page_step(l->page, r->version, NULL) : 1;
    if (take != 1)
        return take;
    json_t *doc = json_loads(r->json, 0, NULL);
    if (!doc)
        return RG_EIO;
    json_t *v =
        l->page ? json_pack("{s:I, s:s, s:I, s:s, s:o}", "version",
                            (json_int_t)r->version, "root_sha256", r->digest,
                            "created_ms", (json_int_t)r->created_ms,
                            "created_by", r->created_by, "root", doc)
                : doc;
    return v && json_array_append_new(l->arr, v) == 0 ? 0 : RG_ENOMEM;
}

void rg_api_root_list(rg_server *srv, rg_req *req, rg_resp *resp)
{
    rg_page page;
    rg_err err;
    rg_err_clear(&err);
    if (rg_page_parse(req, RG_PAGE_ID_ASC, &page, resp) != 0)
        return;
    listing l = {page.items, &page};
    int rc = rg_store_root_list(srv->store, page.after_id, add_root, &l, &err);
    if (rc != 0 && rc != RG_PAGE_FULL && err.code == RG_OK)
        rg_err_set(&err, RG_EIO, "stored root could not be read");
    rg_page_reply(&page, resp, "roots", rc, &err);
}

/* Not paged: an agent needs every root after its own to follow the
 * rotations, and there is one per rotation (each signed by the previous
 * root's threshold of keys). */
void rg_api_agent_root(rg_server *srv, rg_req *req, rg_resp *resp)
{
    int64_t after = 0;
    bool given = false;
    listing l = {json_array(), NULL};
    rg_err err;
    rg_err_clear(&err);
    if (rg__api_query_int(req, "after", 0, INT64_MAX, &after, &given, resp) !=
        0) {
        json_decref(l.arr);
        return;
    }
    if (!l.arr ||
        rg_store_root_list(srv->store, after, add_root, &l, &err) != 0) {
        if (err.code == RG_OK)
            rg_err_set(&err, RG_EIO, "stored root could not be read");
        json_decref(l.arr);
        rg_resp_error(resp, &err);
        return;
    }
    rg_resp_json(resp, 200, json_pack("{s:o}", "roots", l.arr));
}
