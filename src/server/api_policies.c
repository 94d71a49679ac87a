/* api_policies.c - POST and GET /v1/policies, DELETE /v1/policies/{id}:
 * group policies (policy.h) holding a selected group of endpoints one
 * release behind on a channel (n-1) or on a pinned release. */
#include "api.h"
#include "server/page.h"

#include "common/json.h"
#include "server/auth.h"
#include "server/policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The API form of p; version is the pinned release's version (0: none).
 * A new reference or NULL. */
static json_t *policy_json(const rg_policy_rec *p, int64_t version)
{
    json_t *sel = json_loads(p->selector_json, 0, NULL);
    if (!sel)
        sel = json_object();
    return json_pack("{s:I,s:s,s:s,s:o,s:s,s:o,s:o,s:I,s:s}", "id",
                     (json_int_t)p->id, "name", p->name, "channel", p->channel,
                     "selector", sel, "mode", p->mode, "release",
                     rg__json_id_or_null(p->release_id), "version",
                     rg__json_id_or_null(version), "created_ms",
                     (json_int_t)p->created_ms, "created_by", p->created_by);
}

/* The version of release id (0 when id is 0 or the lookup fails). */
static int64_t version_of(rg_server *srv, int64_t id)
{
    int64_t v = 0;
    rg_release_rec *r = id ? malloc(sizeof *r) : NULL;
    if (r && rg_store_release_get(srv->store, id, r, NULL) == 0)
        v = r->version;
    free(r);
    return v;
}

static bool text_ok(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

/* Reads the pinned release of a pin policy on channel (by "version" or
 * "release", exactly one) into *release_id; an n-1 policy takes neither.
 * Returns 0 or fills err (400, or 404 for an unknown version). */
static int read_pin(rg_server *srv, const json_t *body, int mode,
                    const char *channel, int64_t *release_id, rg_err *err)
{
    int64_t version = 0, release = 0;
    int rc;
    *release_id = 0;
    if ((rc = rg_json_int(body, "version", false, 1, INT64_MAX, &version,
                          err)) ||
        (rc = rg_json_int(body, "release", false, 1, INT64_MAX, &release, err)))
        return rc;
    if (mode == RG_POLICY_N1) {
        if (version || release)
            return rg_err_field(err, RG_EINVAL, version ? "version" : "release",
                                "an n-1 policy takes no %s",
                                version ? "version" : "release");
        return 0;
    }
    if ((version != 0) == (release != 0))
        return rg_err_field(err, RG_EINVAL, "version",
                            "a pin needs exactly one of version and release");
    if (release) {
        *release_id = release;
        return 0;
    }
    rg_release_rec *r = malloc(sizeof *r);
    if (!r)
        return rg_err_set(err, RG_ENOMEM, "out of memory");
    rc = rg_store_release_find(srv->store, channel, version, r, err);
    *release_id = rc == 0 ? r->id : 0;
    free(r);
    return rc;
}

void rg_api_policy_create(rg_server *srv, rg_req *req, rg_resp *resp)
{
    static const char *const allowed[] = {
        "name", "channel", "selector", "mode", "version", "release", NULL};
    const char *name = NULL, *channel = NULL, *mode_s = NULL;
    json_t *sel_v = NULL, *canon = NULL;
    char *canon_s = NULL;
    rg_policy_selector sel;
    rg_policy_rec *p = NULL;
    rg_channel_rec *ch = NULL;
    rg_audit_rec audit;
    rg_err err;
    rg_err_clear(&err);
    json_t *body = rg__api_body(req, resp, allowed);
    if (!body)
        return;
    if (rg_json_string(body, "name", true, RG_NAME_MAX, &name, &err) ||
        rg_json_string(body, "channel", true, RG_NAME_MAX, &channel, &err) ||
        rg_json_object(body, "selector", true, &sel_v, &err) ||
        rg_json_string(body, "mode", true, 8, &mode_s, &err))
        goto fail;
    if (!text_ok(name)) {
        rg_err_field(&err, RG_EINVAL, "name",
                     "policy name must not contain control characters");
        goto fail;
    }
    if (rg_policy_selector_parse(sel_v, &sel, &err) < 0)
        goto fail;
    int mode = rg_policy_mode_parse(mode_s);
    if (mode < 0) {
        rg_err_field(&err, RG_EINVAL, "mode", "mode '%.8s' must be n-1 or pin",
                     mode_s);
        goto fail;
    }
    p = calloc(1, sizeof *p);
    ch = malloc(sizeof *ch);
    canon = rg_policy_selector_json(&sel);
    canon_s = canon ? json_dumps(canon, JSON_COMPACT) : NULL;
    if (!p || !ch || !canon_s) {
        rg_err_set(&err, RG_ENOMEM, "out of memory");
        goto fail;
    }
    if (rg_store_channel_get(srv->store, channel, ch, &err) < 0) {
        if (err.code == RG_ENOTFOUND)
            rg_err_field(&err, RG_ENOTFOUND, "channel",
                         "channel '%.64s' not found", channel);
        goto fail;
    }
    if (read_pin(srv, body, mode, channel, &p->release_id, &err) < 0)
        goto fail;
    snprintf(p->name, sizeof p->name, "%s", name);
    snprintf(p->channel, sizeof p->channel, "%s", channel);
    snprintf(p->mode, sizeof p->mode, "%s", rg_policy_mode_name(mode));
    if (strlen(canon_s) >= sizeof p->selector_json) {
        rg_err_field(&err, RG_EINVAL, "selector", "selector too long");
        goto fail;
    }
    snprintf(p->selector_json, sizeof p->selector_json, "%s", canon_s);
    /* The store sets the target to policy:<id> (one per object). */
    rg_audit_init(&audit, srv, req, "policy.create", "policy", NULL);
    rg_audit_detail(&audit, json_pack("{s:s,s:s,s:s,s:I}", "name", p->name,
                                      "channel", p->channel, "mode", p->mode,
                                      "release", (json_int_t)p->release_id));
    p->created_ms = audit.at_ms;
    snprintf(p->created_by, sizeof p->created_by, "%s", audit.actor);
    if (rg_store_policy_create(srv->store, p, &audit, &err) != 0)
        goto fail;
    rg__api_state_changed(srv);
    rg_resp_json(resp, 201, policy_json(p, version_of(srv, p->release_id)));
    goto cleanup;
fail:
    rg_resp_error(resp, &err);
cleanup:
    free(canon_s);
    json_decref(canon);
    free(p);
    free(ch);
    json_decref(body);
}

typedef struct collect {
    rg_page *page;
    rg_policy_rec *v;
    size_t n, cap;
} collect;

/* Collects the page's records (the store may not be re-entered from its
 * callbacks, and each answer needs a release read). */
static int collect_one(void *ctx, const rg_policy_rec *p)
{
    collect *c = ctx;
    int take = rg_page_step(c->page, p->id, NULL);
    if (take != 1)
        return take;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 8;
        rg_policy_rec *v = realloc(c->v, cap * sizeof *v);
        if (!v)
            return -1;
        c->v = v;
        c->cap = cap;
    }
    c->v[c->n++] = *p;
    return 0;
}

void rg_api_policy_list(rg_server *srv, rg_req *req, rg_resp *resp)
{
    rg_page page;
    rg_err err;
    rg_err_clear(&err);
    if (rg_page_parse(req, RG_PAGE_ID_ASC, &page, resp) != 0)
        return;
    collect c = {.page = &page};
    int rc = rg_store_policy_list(srv->store, collect_one, &c, &err);
    for (size_t i = 0; (rc == 0 || rc == RG_PAGE_FULL) && i < c.n; i++)
        if (rg_page_push(
                &page,
                policy_json(&c.v[i], version_of(srv, c.v[i].release_id))))
            rc = -1;
    free(c.v);
    rg_page_reply(&page, resp, "policies", rc, &err);
}

void rg_api_policy_delete(rg_server *srv, rg_req *req, rg_resp *resp)
{
    int64_t id;
    char target[48];
    rg_policy_rec p;
    rg_audit_rec audit;
    rg_err err;
    rg_err_clear(&err);
    if (rg__api_param_id(req, 0, "id", &id, resp) != 0)
        return;
    snprintf(target, sizeof target, "policy:%lld", (long long)id);
    rg_audit_init(&audit, srv, req, "policy.delete", target, NULL);
    if (rg_store_policy_delete(srv->store, id, &p, &audit, &err) != 0) {
        rg_resp_error(resp, &err);
        return;
    }
    rg__api_state_changed(srv);
    rg_resp_json(resp, 200, policy_json(&p, version_of(srv, p.release_id)));
}
