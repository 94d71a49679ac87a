/* api_endpoints.c - the fleet's admin views (api.h): the endpoint list
 * with its filters, one endpoint with its history. */
#include "server/api.h"

#include "common/json.h"
#include "server/desired.h"
#include "server/ep_state.h"
#include "server/fleet.h"
#include "server/kept.h"
#include "server/orchestrator.h"
#include "server/page.h"

#include <stdlib.h>
#include <string.h>

#define HISTORY_DEFAULT 50 /* events shown by GET /v1/endpoints/{id} */
#define RELCACHE_MAX 64
/* The oldest kept list of a rollout's endpoints served (kept.h). */
#define RG_LIST_KEPT_MS 5000
#define VERSION_RELEASES_MAX 256 /* releases of one version (one a channel) */

/* Release id -> (version, channel, quarantine lift), cached for one
 * response. */
typedef struct relinfo {
    int64_t id, version; /* version 0: unknown release */
    int64_t lifted_ms;   /* its quarantine's last lift, 0: never */
    char channel[RG_NAME_MAX + 1];
} relinfo;

typedef struct relcache {
    size_t n;
    relinfo v[RELCACHE_MAX];
} relcache;

/* Fills *out with release id's entry (looked up in the store on a miss,
 * then cached while there is room; an unknown release has version 0). */
static void release_of(rg_server *srv, relcache *rc, int64_t id, relinfo *out)
{
    for (size_t i = 0; i < rc->n; i++)
        if (rc->v[i].id == id) {
            *out = rc->v[i];
            return;
        }
    memset(out, 0, sizeof *out);
    out->id = id;
    rg_release_rec *r = malloc(sizeof *r);
    if (r && rg_store_release_get(srv->store, id, r, NULL) == 0) {
        out->version = r->version;
        out->lifted_ms = r->quarantine_lifted_ms;
        snprintf(out->channel, sizeof out->channel, "%s", r->channel);
    }
    free(r);
    if (rc->n < RELCACHE_MAX)
        rc->v[rc->n++] = *out;
}

/* {"release": id, "version": V | null} */
static json_t *release_ref(rg_server *srv, relcache *rc, int64_t id)
{
    relinfo ri;
    release_of(srv, rc, id, &ri);
    return json_pack("{s:I, s:o}", "release", (json_int_t)id, "version",
                     rg__json_id_or_null(ri.version));
}

static json_t *endpoint_json(rg_server *srv, const rg_fleet_endpoint *e,
                             relcache *rc)
{
    json_t *attrs = json_loads(e->attrs_json, 0, NULL);
    json_t *inst = json_object();
    json_t *o = NULL;
    if (!attrs || !inst)
        goto cleanup;
    for (size_t i = 0; i < e->n_installed; i++)
        if (json_object_set_new(
                inst, e->installed[i].channel,
                release_ref(srv, rc, e->installed[i].release_id)) < 0)
            goto cleanup;
    o = json_pack("{s:s, s:O, s:s, s:I, s:I, s:O}", "id", e->id, "attributes",
                  attrs, "stratum", e->stratum, "enrolled_ms",
                  (json_int_t)e->enrolled_ms, "last_seen_ms",
                  (json_int_t)e->last_seen_ms, "installed", inst);
cleanup:
    json_decref(attrs);
    json_decref(inst);
    return o;
}

/* {"release", "state", "applying_ms", "healthy_ms"} of a canary slot in
 * a rollout the gate judges or not (ep_state.h rg_ep_state_in). */
static json_t *slot_json(const rg_fleet_canary *cn, bool judging)
{
    return json_pack("{s:I, s:s, s:o, s:o}", "release", (json_int_t)cn->release,
                     "state", rg_ep_state_name(rg_ep_state_in(cn, judging)),
                     "applying_ms", rg__json_id_or_null(cn->apply_ms),
                     "healthy_ms", rg__json_id_or_null(cn->healthy_ms));
}

/* ------------------------------------------------------------------ */
/* the list and its filters                                           */

typedef struct filter {
    rg_canary *canary;
    rg_rollout_rec *ro; /* NULL: no rollout filter */
    bool judging;       /* rg_orchestrator_judges(ro) */
    bool has_state;
    rg_ep_state state;
    bool has_stratum;
    uint32_t stratum; /* UINT32_MAX: a stratum no endpoint has */
    const char *tag;  /* NULL: no tag filter */
    bool *tag_ok;     /* per profile */
    uint32_t n_profiles;
    bool has_version;
    int64_t version;
    int64_t rels[VERSION_RELEASES_MAX]; /* releases of that version */
    size_t n_rels;
} filter;

static bool keep(void *ctx, const rg_fleet_view *v)
{
    const filter *f = ctx;
    if (f->ro) {
        const rg_fleet_canary *cn = rg_fleet_canary_of(v, f->ro->release_id);
        rg_ep_state s = rg_ep_state_in(cn, f->judging);
        if (s == RG_EP_NONE || !rg_canary_holds(f->canary, f->ro, cn) ||
            (f->has_state && s != f->state))
            return false;
    }
    if (f->has_stratum && v->stratum != f->stratum)
        return false;
    if (f->tag && (v->profile >= f->n_profiles || !f->tag_ok[v->profile]))
        return false;
    if (!f->has_version)
        return true;
    for (size_t i = 0; i < RG_FLEET_CHANNELS; i++)
        for (size_t k = 0; v->installed[i] && k < f->n_rels; k++)
            if (v->installed[i] == f->rels[k])
                return true;
    return false;
}

/* Collects the releases of the filter's version. */
static int collect_version(void *ctx, const rg_release_rec *r)
{
    filter *f = ctx;
    if (r->version == f->version && f->n_rels < VERSION_RELEASES_MAX)
        f->rels[f->n_rels++] = r->id;
    return 0;
}

/* The profiles whose tags hold f->tag (f->tag_ok, malloc'd). */
static int tag_profiles(rg_server *srv, filter *f)
{
    f->n_profiles = rg_fleet_profiles(srv->fleet);
    f->tag_ok = calloc(f->n_profiles + 1, sizeof *f->tag_ok);
    if (!f->tag_ok)
        return RG_ENOMEM;
    char buf[RG_ATTRS_MAX + 1];
    for (uint32_t p = 0; p < f->n_profiles; p++) {
        rg_fleet_profile_json(srv->fleet, p, buf, sizeof buf);
        json_t *a = json_loads(buf, 0, NULL);
        size_t i;
        json_t *t;
        json_array_foreach(json_object_get(a, "tags"), i, t)
        {
            if (json_is_string(t) && strcmp(json_string_value(t), f->tag) == 0)
                f->tag_ok[p] = true;
        }
        json_decref(a);
    }
    return 0;
}

/* The stratum index named name, or UINT32_MAX. */
static uint32_t stratum_index(rg_server *srv, const char *name)
{
    char buf[RG_STRATUM_NAME_MAX];
    uint32_t n = rg_fleet_strata(srv->fleet);
    for (uint32_t s = 0; s < n; s++) {
        rg_fleet_stratum_name(srv->fleet, s, buf, sizeof buf);
        if (strcmp(buf, name) == 0)
            return s;
    }
    return UINT32_MAX;
}

/* A text query argument of 1..max bytes, or NULL when absent. Returns 0,
 * or fills resp with a 400 naming it and returns -1. */
static int query_text(const rg_req *req, const char *name, size_t max,
                      const char **out, rg_resp *resp)
{
    *out = rg_req_query(req, name);
    if (*out && (!(*out)[0] || strlen(*out) > max)) {
        rg_resp_errorf(resp, RG_EINVAL, name,
                       "query argument '%s' must be 1 to %zu bytes", name, max);
        return -1;
    }
    return 0;
}

/* The rollout filter (?rollout, ?state). Returns 0 or fills resp. */
static int parse_rollout(rg_server *srv, const rg_req *req, filter *f,
                         rg_resp *resp)
{
    int64_t id = 0;
    bool present = false;
    const char *state = rg_req_query(req, "state");
    rg_err err;
    rg_err_clear(&err);
    if (rg__api_query_int(req, "rollout", 1, INT64_MAX, &id, &present, resp) <
        0)
        return -1;
    if (state && !present) {
        rg_resp_errorf(resp, RG_EINVAL, "state",
                       "query argument 'state' needs 'rollout' (the states "
                       "are an endpoint's in one rollout)");
        return -1;
    }
    if (state && !(f->has_state = rg_ep_state_parse(state, &f->state))) {
        rg_resp_errorf(resp, RG_EINVAL, "state",
                       "query argument 'state' must be assigned, pending, "
                       "healthy, silent, failed or unjudged, not '%.32s'",
                       state);
        return -1;
    }
    if (!present)
        return 0;
    if (!(f->ro = malloc(sizeof *f->ro))) {
        rg_resp_errorf(resp, RG_ENOMEM, "", "out of memory");
        return -1;
    }
    if (rg_store_rollout_get(srv->store, id, f->ro, &err) < 0) {
        if (err.code == RG_ENOTFOUND)
            rg_resp_errorf(resp, RG_ENOTFOUND, "rollout",
                           "rollout %lld not found", (long long)id);
        else
            rg_resp_error(resp, &err);
        return -1;
    }
    f->canary = rg_desired_canary(srv->desired);
    f->judging = rg_orchestrator_judges(srv, f->ro, rg_clock_now(srv->clock));
    return 0;
}

/* Parses every filter of the list's query into *f. Returns 0 or fills
 * resp with a 400 naming the argument (404 for an unknown rollout). */
static int parse_filter(rg_server *srv, const rg_req *req, filter *f,
                        rg_resp *resp)
{
    const char *stratum;
    rg_err err;
    rg_err_clear(&err);
    if (parse_rollout(srv, req, f, resp) < 0 ||
        query_text(req, "stratum", RG_STRATUM_NAME_MAX - 1, &stratum, resp) <
            0 ||
        query_text(req, "tag", RG_FLEET_ATTR_MAX, &f->tag, resp) < 0 ||
        rg__api_query_int(req, "version", 1, INT64_MAX, &f->version,
                          &f->has_version, resp) < 0)
        return -1;
    if ((f->has_stratum = stratum != NULL))
        f->stratum = stratum_index(srv, stratum);
    if (f->tag && tag_profiles(srv, f) != 0) {
        rg_resp_errorf(resp, RG_ENOMEM, "", "out of memory");
        return -1;
    }
    if (!f->has_version)
        return 0;
    if (rg_store_release_list(srv->store, f->ro ? f->ro->channel : NULL,
                              collect_version, f, &err) < 0) {
        rg_resp_error(resp, &err);
        return -1;
    }
    return 0;
}

/* Adds the endpoint's state in the filter's rollout to o. */
static int add_rollout_state(rg_server *srv, const filter *f, json_t *o)
{
    rg_fleet_view v;
    const char *id = json_string_value(json_object_get(o, "id"));
    if (rg_fleet_view_id(srv->fleet, id, &v, NULL) != 0)
        return 0;
    const rg_fleet_canary *cn = rg_fleet_canary_of(&v, f->ro->release_id);
    json_t *s = cn ? slot_json(cn, f->judging) : NULL;
    if (s)
        json_object_set_new(s, "rollout", json_integer(f->ro->id));
    return s ? json_object_set_new(o, "rollout", s) : -1;
}

/* One page of the list: its filter, where it starts, how long it is, and
 * why it failed. */
typedef struct page_ask {
    filter *f;
    const char *after; /* NULL: from the first endpoint */
    int64_t limit;
    rg_err err;
} page_ask;

/* Scans the fleet for the page a asks for into its JSON text
 * (rg_kept_build). */
static int page_text(rg_server *srv, void *ctx, char **text)
{
    page_ask *a = ctx;
    filter *f = a->f;
    char(*ids)[RG_EPID_MAX + 1] = NULL;
    size_t n = 0;
    bool more = false;
    relcache *rc = calloc(1, sizeof *rc);
    rg_fleet_endpoint *e = malloc(sizeof *e);
    json_t *list = json_array(), *v = NULL;
    int err = RG_ENOMEM;
    *text = NULL;
    if (!e || !rc || !list)
        goto done;
    bool filtered = f->ro || f->has_stratum || f->tag || f->has_version;
    if (rg_fleet_page(srv->fleet, a->after, (size_t)a->limit,
                      filtered ? keep : NULL, f, &ids, &n, &more,
                      &a->err) < 0) {
        err = a->err.code;
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        if (rg_fleet_get(srv->fleet, ids[i], e, NULL) < 0)
            continue; /* cannot happen: endpoints are never removed */
        json_t *o = endpoint_json(srv, e, rc);
        if (json_array_append_new(list, o) < 0 ||
            (f->ro && add_rollout_state(srv, f, o) < 0))
            goto done;
    }
    json_t *next = more && n ? json_string(ids[n - 1]) : json_null();
    v = json_pack("{s:O, s:I, s:o}", "endpoints", list, "total",
                  (json_int_t)rg_fleet_size(srv->fleet), "next_after", next);
    if (v && (*text = rg_json_dump(v)))
        err = 0;
done:
    json_decref(v);
    json_decref(list);
    free(ids);
    free(e);
    free(rc);
    return err;
}

/* The age in ms the request accepts for its answer: its Cache-Control
 * max-age, at most RG_LIST_KEPT_MS; 0 when it asks for none. */
static int64_t accepted_age_ms(const rg_req *req)
{
    const char *cc = rg_req_header(req, "Cache-Control");
    const char *p = cc ? strstr(cc, "max-age=") : NULL;
    if (!p)
        return 0;
    long long s = strtoll(p + strlen("max-age="), NULL, 10);
    return s <= 0                        ? 0
           : s >= RG_LIST_KEPT_MS / 1000 ? RG_LIST_KEPT_MS
                                         : s * 1000;
}

/* Writes the key of page a's answer into key (a truncated key is never
 * kept: rg_kept_answer refuses keys that fill it). */
static void page_key(const page_ask *a, char *key, size_t size)
{
    const filter *f = a->f;
    snprintf(key, size,
             "endpoints r=%lld s=%d:%d st=%d:%u v=%d:%lld l=%lld "
             "t=%s a=%s",
             (long long)f->ro->id, f->has_state, (int)f->state, f->has_stratum,
             f->stratum, f->has_version, (long long)f->version,
             (long long)a->limit, f->tag ? f->tag : "",
             a->after ? a->after : "");
}

void rg_api_endpoints_list(rg_server *srv, rg_req *req, rg_resp *resp)
{
    bool present = false;
    page_ask a = {.limit = RG_PAGE_DEFAULT};
    char key[RG_KEPT_KEY_MAX + 1];
    rg_buf b;
    rg_buf_init(&b, 64 * RG_HTTP_JSON_MAX);
    rg_err_clear(&a.err);
    if (!(a.f = calloc(1, sizeof *a.f))) {
        rg_resp_errorf(resp, RG_ENOMEM, "", "out of memory listing endpoints");
        return;
    }
    if (rg__api_query_int(req, "limit", 1, RG_PAGE_MAX, &a.limit, &present,
                          resp) < 0 ||
        parse_filter(srv, req, a.f, resp) < 0)
        goto cleanup;
    a.after = rg_req_query(req, "after");
    if (a.after && (!a.after[0] || strlen(a.after) > RG_EPID_MAX)) {
        rg_resp_errorf(resp, RG_EINVAL, "after",
                       "query argument 'after' must be an endpoint id");
        goto cleanup;
    }
    int rc;
    if (a.f->ro) { /* the dashboard's lists of a rollout: kept */
        page_key(&a, key, sizeof key);
        rc = rg_kept_answer(srv, key, accepted_age_ms(req), page_text, &a, &b);
    } else {
        char *text = NULL;
        if ((rc = page_text(srv, &a, &text)) == 0)
            rc = rg_buf_adds(&b, text);
        free(text);
    }
    if (rc == 0)
        rg_resp_json_buf(resp, 200, &b);
    else if (a.err.code)
        rg_resp_error(resp, &a.err);
    else
        rg_resp_errorf(resp, RG_ENOMEM, "", "out of memory listing endpoints");
cleanup:
    rg_buf_release(&b);
    free(a.f->ro);
    free(a.f->tag_ok);
    free(a.f);
}

/* ------------------------------------------------------------------ */
/* one endpoint                                                       */

/* What the history scan gathers (newest event first). */
typedef struct history {
    rg_server *srv;
    relcache *rc;
    size_t want; /* events to show */
    json_t *events;
    /* the newest quarantining report per release */
    size_t n_q;
    int64_t q_release[RELCACHE_MAX], q_ms[RELCACHE_MAX];
    bool oom;
} history;

/* Whether the agent quarantined the release it reports e about: it
 * quarantines what it reverts and what fails its validation, not an offer
 * it rejected (a `failed` whose detail starts "rejected:"; agent/apply.c). */
static bool quarantining(const rg_event_rec *e)
{
    return strcmp(e->type, "reverted") == 0 ||
           (strcmp(e->type, "failed") == 0 &&
            strncmp(e->detail, "rejected:", 9) != 0);
}

/* Called under the store's lock: must not call the store (versions are
 * added after the scan, add_versions). */
static int history_one(void *ctx, const rg_event_rec *e)
{
    history *h = ctx;
    if (json_array_size(h->events) < h->want) {
        json_t *o = json_pack(
            "{s:s, s:s, s:I, s:s, s:I, s:I, s:s}", "id", e->event_id, "type",
            e->type, "release", (json_int_t)e->release_id, "channel",
            e->channel, "reported_ms", (json_int_t)e->reported_ms,
            "received_ms", (json_int_t)e->received_ms, "detail", e->detail);
        h->oom |= json_array_append_new(h->events, o) < 0;
    }
    if (!quarantining(e))
        return 0;
    for (size_t i = 0; i < h->n_q; i++)
        if (h->q_release[i] == e->release_id)
            return 0; /* a newer one is kept */
    if (h->n_q < RELCACHE_MAX) {
        h->q_release[h->n_q] = e->release_id;
        h->q_ms[h->n_q++] = e->received_ms;
    }
    return 0;
}

/* Adds "version" to each event of the history. */
static void add_versions(history *h)
{
    size_t i;
    json_t *o;
    json_array_foreach(h->events, i, o)
    {
        relinfo ri;
        release_of(h->srv, h->rc,
                   json_integer_value(json_object_get(o, "release")), &ri);
        h->oom |= json_object_set_new(o, "version",
                                      rg__json_id_or_null(ri.version)) < 0;
    }
}

/* Releases quarantined by the endpoint and not lifted since. */
static json_t *quarantined_json(history *h)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < h->n_q; i++) {
        relinfo ri;
        release_of(h->srv, h->rc, h->q_release[i], &ri);
        if (ri.lifted_ms > h->q_ms[i])
            continue;
        h->oom |= json_array_append_new(
                      a, json_pack("{s:s, s:I, s:o, s:I}", "channel",
                                   ri.channel, "release", (json_int_t)ri.id,
                                   "version", rg__json_id_or_null(ri.version),
                                   "at_ms", (json_int_t)h->q_ms[i])) < 0;
    }
    return a;
}

/* The newest release offered on each channel that the endpoint has not
 * installed (nor a newer one). */
static json_t *pending_json(rg_server *srv, relcache *rc,
                            const rg_fleet_endpoint *e)
{
    int64_t ids[RG_FLEET_OFFERED + RG_FLEET_CANARY_SLOTS];
    size_t n = 0;
    json_t *by_channel = json_object();
    if (!by_channel ||
        rg_fleet_releases_of(srv->fleet, e->id, ids, sizeof ids / sizeof *ids,
                             &n, NULL) != 0)
        n = 0;
    for (size_t i = 0; by_channel && i < n; i++) {
        relinfo ri, inst = {0};
        release_of(srv, rc, ids[i], &ri);
        for (size_t k = 0; k < e->n_installed; k++)
            if (strcmp(e->installed[k].channel, ri.channel) == 0)
                release_of(srv, rc, e->installed[k].release_id, &inst);
        json_t *had = json_object_get(by_channel, ri.channel);
        if (!ri.version || ri.version <= inst.version ||
            (had &&
             json_integer_value(json_object_get(had, "version")) > ri.version))
            continue;
        json_object_set_new(by_channel, ri.channel,
                            json_pack("{s:s, s:I, s:I}", "channel", ri.channel,
                                      "release", (json_int_t)ri.id, "version",
                                      (json_int_t)ri.version));
    }
    json_t *a = json_array();
    const char *k;
    json_t *v;
    json_object_foreach(by_channel, k, v)
    {
        if (a)
            json_array_append(a, v);
    }
    json_decref(by_channel);
    return a;
}

static int copy_rollout(void *ctx, const rg_rollout_rec *r)
{
    *(rg_rollout_rec *)ctx = *r;
    return 0;
}

/* Whether the gate still judges the exposures of release's newest
 * rollout (true when it has none, or on a store error). */
static bool judging_release(rg_server *srv, int64_t release)
{
    rg_rollout_filter f = {.state = -1, .release_id = release, .limit = 1};
    rg_rollout_rec *newest = calloc(1, sizeof *newest);
    rg_err err;
    rg_err_clear(&err);
    bool judging =
        !newest ||
        rg_store_rollout_query(srv->store, &f, copy_rollout, newest, &err) !=
            0 ||
        newest->id == 0 ||
        rg_orchestrator_judges(srv, newest, rg_clock_now(srv->clock));
    free(newest);
    return judging;
}

/* The endpoint's state in each rollout it is part of (its canary slots). */
static json_t *rollouts_json(rg_server *srv, relcache *rc, const char *id)
{
    rg_fleet_view v;
    json_t *a = json_array();
    if (!a || rg_fleet_view_id(srv->fleet, id, &v, NULL) != 0)
        return a;
    for (size_t i = 0; i < RG_FLEET_CANARY_SLOTS; i++) {
        const rg_fleet_canary *cn = &v.canary[i];
        if (rg_ep_state_of(cn) == RG_EP_NONE)
            continue;
        relinfo ri;
        release_of(srv, rc, cn->release, &ri);
        json_t *o = slot_json(cn, judging_release(srv, cn->release));
        if (o) {
            json_object_set_new(o, "channel", json_string(ri.channel));
            json_object_set_new(o, "version", rg__json_id_or_null(ri.version));
        }
        json_array_append_new(a, o);
    }
    return a;
}

static int flag_revert_one(void *ctx, const rg_flag_revert_rec *r)
{
    json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:s}", "environment",
                          r->environment, "stamp", r->stamp, "reported_ms",
                          (json_int_t)r->reported_ms, "received_ms",
                          (json_int_t)r->received_ms, "detail", r->detail);
    return json_array_append_new(ctx, o) < 0 ? RG_ENOMEM : 0;
}

/* The flag sets the endpoint fell back from, newest first. */
static json_t *flag_reverts_json(rg_server *srv, const char *id, size_t want,
                                 rg_err *err)
{
    json_t *a = json_array();
    if (a && want &&
        rg_store_flag_reverts_endpoint(srv->store, id, want, flag_revert_one, a,
                                       err) < 0) {
        json_decref(a);
        return NULL;
    }
    return a;
}

/* Adds events, quarantined, pending, rollouts and flag_reverts to o.
 * Returns 0 or fills resp. */
static int add_history(rg_server *srv, const rg_req *req, relcache *rc,
                       const rg_fleet_endpoint *e, json_t *o, rg_resp *resp)
{
    rg_err err;
    rg_err_clear(&err);
    int64_t want = HISTORY_DEFAULT;
    bool present;
    if (rg__api_query_int(req, "events", 0, RG_EVENTS_LIST_MAX, &want, &present,
                          resp) < 0)
        return -1;
    history h = {.srv = srv, .rc = rc, .want = (size_t)want};
    if (!(h.events = json_array()))
        goto oom;
    if (rg_store_event_list_endpoint(srv->store, e->id, RG_EVENTS_LIST_MAX,
                                     history_one, &h, &err) < 0) {
        json_decref(h.events);
        rg_resp_error(resp, &err);
        return -1;
    }
    add_versions(&h);
    json_t *fr = flag_reverts_json(srv, e->id, h.want, &err);
    if (!fr) {
        json_decref(h.events);
        rg_resp_error(resp, &err);
        return -1;
    }
    if (json_object_set_new(o, "flag_reverts", fr) < 0 ||
        json_object_set_new(o, "events", h.events) < 0 ||
        json_object_set_new(o, "quarantined", quarantined_json(&h)) < 0 ||
        json_object_set_new(o, "pending", pending_json(srv, rc, e)) < 0 ||
        json_object_set_new(o, "rollouts", rollouts_json(srv, rc, e->id)) < 0 ||
        h.oom)
        goto oom;
    return 0;
oom:
    rg_resp_errorf(resp, RG_ENOMEM, "", "out of memory");
    return -1;
}

void rg_api_endpoint_get(rg_server *srv, rg_req *req, rg_resp *resp)
{
    rg_err err;
    rg_err_clear(&err);
    relcache *rc = calloc(1, sizeof *rc);
    rg_fleet_endpoint *e = malloc(sizeof *e);
    json_t *o = NULL;
    const char *id = req->n_params ? req->params[0] : "";
    if (!e || !rc)
        rg_resp_errorf(resp, RG_ENOMEM, "", "out of memory");
    else if (rg_fleet_get(srv->fleet, id, e, &err) < 0)
        rg_resp_error(resp, &err);
    else if (!(o = endpoint_json(srv, e, rc)))
        rg_resp_errorf(resp, RG_ENOMEM, "", "out of memory");
    else if (add_history(srv, req, rc, e, o, resp) == 0)
        rg_resp_json(resp, 200, json_incref(o));
    json_decref(o);
    free(e);
    free(rc);
}
