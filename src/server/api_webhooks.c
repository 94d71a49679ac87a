/* api_webhooks.c - /v1/webhooks: subscriptions to rollout events, their
 * deliveries and test deliveries (docs/webhooks.md). Admin only; every
 * change audited with its reason. The secret is shown once, at
 * creation. */
#include "api.h"

#include "common/crypto.h"
#include "common/json.h"
#include "model/rollout_event.h"
#include "server/auth.h"
#include "server/page.h"

#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SECRET_RANDOM_BYTES 24 /* a generated secret: "whsec_" + 48 hex */

/* --- answers ------------------------------------------------------------ */

/* The stored list "a,b" (or "*") as a JSON array. */
static json_t *events_json(const char *events)
{
    json_t *a = json_array();
    char copy[RG_WEBHOOK_EVENTS_MAX + 1], *save = NULL;
    snprintf(copy, sizeof copy, "%s", events);
    for (char *t = strtok_r(copy, ",", &save); a && t;
         t = strtok_r(NULL, ",", &save))
        json_array_append_new(a, json_string(t));
    return a;
}

static json_t *webhook_json(const rg_webhook_rec *w)
{
    return json_pack("{s:I,s:s,s:o,s:o,s:I,s:s}", "id", (json_int_t)w->id,
                     "url", w->url, "events", events_json(w->events), "channel",
                     w->channel[0] ? json_string(w->channel) : json_null(),
                     "created_ms", (json_int_t)w->created_ms, "created_by",
                     w->created_by);
}

static json_t *attempt_json(const rg_attempt_rec *a)
{
    return json_pack("{s:i,s:I,s:I,s:i,s:s}", "n", a->n, "at_ms",
                     (json_int_t)a->at_ms, "took_ms", (json_int_t)a->took_ms,
                     "status", a->status, "error", a->error);
}

/* A delivery; "flag" is a flag rollout's object (its body's "rollout"),
 * null for a release's or a test. */
static json_t *delivery_json(const rg_delivery_rec *d)
{
    json_t *flag = d->flag[0] ? json_loads(d->flag, 0, NULL) : NULL;
    return json_pack(
        "{s:I,s:s,s:s,s:o,s:o,s:I,s:s,s:i,s:o,s:o,s:i,s:s,s:o}", "id",
        (json_int_t)d->id, "delivery", d->uid, "event", d->event, "rollout",
        rg__json_id_or_null(d->rollout_id), "flag", flag ? flag : json_null(),
        "created_ms", (json_int_t)d->created_ms, "state", d->state, "attempts",
        d->attempts, "next_ms", rg__json_id_or_null(d->next_ms), "done_ms",
        rg__json_id_or_null(d->done_ms), "last_status", d->last_status,
        "last_error", d->last_error, "log", json_array());
}

/* --- checks ------------------------------------------------------------- */

/* url must be an absolute http or https URL with a host. */
static int url_check(const char *url, rg_err *err)
{
    char *scheme = NULL, *host = NULL;
    int rc = 0;
    CURLU *u = curl_url();
    if (!u)
        return rg_err_set(err, RG_ENOMEM, "out of memory");
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f) {
            rc = rg_err_field(err, RG_EINVAL, "url",
                              "url must not contain spaces or control "
                              "characters");
            goto cleanup;
        }
    /* curl takes "http:///x" for host x: the host must follow "//". */
    const char *sep = strstr(url, "://");
    if (!sep || sep[3] == '/' || sep[3] == '\0' ||
        curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host[0]) {
        rc =
            rg_err_field(err, RG_EINVAL, "url",
                         "url '%.80s' is not an absolute URL with a host", url);
        goto cleanup;
    }
    if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0)
        rc = rg_err_field(err, RG_EINVAL, "url",
                          "url scheme '%.16s' is not allowed: use http or "
                          "https",
                          scheme);
cleanup:
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return rc;
}

/* The array of event names in body's "events" into out ("*" alone, or
 * the named events in the canonical order, each once). */
static int events_parse(const json_t *body, char out[RG_WEBHOOK_EVENTS_MAX + 1],
                        rg_err *err)
{
    json_t *a = NULL, *v;
    size_t i;
    bool want[8] = {false}, all = false;
    int rc = rg_json_array(body, "events", true, 16, &a, err);
    if (rc != 0)
        return rc;
    if (json_array_size(a) == 0)
        return rg_err_field(err, RG_EINVAL, "events",
                            "events: name at least one of halt, hold, "
                            "complete, rollback, pause, resume, or *");
    json_array_foreach(a, i, v)
    {
        const char *s = json_string_value(v);
        if (s && strcmp(s, "*") == 0) {
            all = true;
            continue;
        }
        size_t k = 0;
        while (s && rg_rollout_event_names[k] &&
               strcmp(rg_rollout_event_names[k], s) != 0)
            k++;
        if (!s || !rg_rollout_event_names[k])
            return rg_err_field(err, RG_EINVAL, "events",
                                "unknown event '%.32s': events are halt, "
                                "hold, complete, rollback, pause, resume, "
                                "or * for all",
                                s ? s : "(not a string)");
        want[k] = true;
    }
    out[0] = '\0';
    if (all)
        return (void)snprintf(out, RG_WEBHOOK_EVENTS_MAX + 1, "*"), 0;
    for (size_t k = 0; rg_rollout_event_names[k]; k++)
        if (want[k])
            snprintf(out + strlen(out), RG_WEBHOOK_EVENTS_MAX + 1 - strlen(out),
                     "%s%s", out[0] ? "," : "", rg_rollout_event_names[k]);
    return 0;
}

/* The secret given (checked) or a new one, into out. */
static int secret_take(const char *given, char out[RG_WEBHOOK_SECRET_MAX + 1],
                       rg_err *err)
{
    if (!given) {
        char hex[2 * SECRET_RANDOM_BYTES + 1];
        rg_random_hex(hex, SECRET_RANDOM_BYTES);
        snprintf(out, RG_WEBHOOK_SECRET_MAX + 1, "whsec_%s", hex);
        sodium_memzero(hex, sizeof hex);
        return 0;
    }
    size_t n = strlen(given);
    for (const char *p = given; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
            return rg_err_field(err, RG_EINVAL, "secret",
                                "secret must be printable ASCII without "
                                "spaces");
    if (n < RG_WEBHOOK_SECRET_MIN)
        return rg_err_field(err, RG_EINVAL, "secret",
                            "secret must be at least %d bytes",
                            RG_WEBHOOK_SECRET_MIN);
    snprintf(out, RG_WEBHOOK_SECRET_MAX + 1, "%s", given);
    return 0;
}

/* --- handlers ----------------------------------------------------------- */

/* Fills w from body (url, events, channel, secret). */
static int webhook_from(rg_server *srv, const json_t *body, rg_webhook_rec *w,
                        rg_err *err)
{
    const char *url = NULL, *channel = NULL, *secret = NULL;
    rg_channel_rec ch;
    int rc;
    if ((rc = rg_json_string(body, "url", true, RG_WEBHOOK_URL_MAX, &url,
                             err)) ||
        (rc = url_check(url, err)) ||
        (rc = events_parse(body, w->events, err)) ||
        (rc = rg_json_string(body, "channel", false, RG_NAME_MAX, &channel,
                             err)) ||
        (rc = rg_json_string(body, "secret", false, RG_WEBHOOK_SECRET_MAX,
                             &secret, err)) ||
        (rc = secret_take(secret, w->secret, err)))
        return rc;
    if (channel && (rc = rg_store_channel_get(srv->store, channel, &ch, err)))
        return rc == RG_ENOTFOUND
                   ? rg_err_field(err, RG_ENOTFOUND, "channel",
                                  "channel '%s' not found", channel)
                   : rc;
    snprintf(w->url, sizeof w->url, "%s", url);
    snprintf(w->channel, sizeof w->channel, "%s", channel ? channel : "");
    return 0;
}

void rg_api_webhook_create(rg_server *srv, rg_req *req, rg_resp *resp)
{
    static const char *const allowed[] = {"url",    "events", "channel",
                                          "secret", "reason", NULL};
    const char *reason = NULL;
    rg_webhook_rec w;
    rg_audit_rec audit;
    rg_err err;
    rg_err_clear(&err);
    memset(&w, 0, sizeof w);
    json_t *body = rg__api_body(req, resp, allowed);
    if (!body)
        return;
    if (rg_json_string(body, "reason", true, RG_REASON_MAX, &reason, &err) ||
        webhook_from(srv, body, &w, &err))
        goto fail;
    rg_audit_init(&audit, srv, req, "webhook.create", "webhook", reason);
    snprintf(audit.detail, sizeof audit.detail, "{\"events\":\"%s\"}",
             w.events);
    w.created_ms = audit.at_ms;
    snprintf(w.created_by, sizeof w.created_by, "%s", audit.actor);
    if (rg_store_webhook_create(srv->store, &w, &audit, &err) != 0)
        goto fail;
    json_decref(body);
    json_t *v = webhook_json(&w);
    if (v)
        json_object_set_new(v, "secret", json_string(w.secret));
    sodium_memzero(w.secret, sizeof w.secret);
    rg_resp_json(resp, 201, v);
    return;
fail:
    sodium_memzero(w.secret, sizeof w.secret);
    json_decref(body);
    rg_resp_error(resp, &err);
}

static json_t *webhook_any_json(const void *rec)
{
    return webhook_json(rec);
}

static int visit_webhook(void *ctx, const rg_webhook_rec *w)
{
    const rg__api_visitor *v = ctx;
    return v->visit(v->ctx, w->id, w);
}

static int webhooks_each(rg_store *s, rg__api_visit visit, void *ctx,
                         rg_err *err)
{
    rg__api_visitor v = {visit, ctx};
    return rg_store_webhook_list(s, visit_webhook, &v, err);
}

void rg_api_webhook_list(rg_server *srv, rg_req *req, rg_resp *resp)
{
    static const rg__api_revocable webhooks = {
        .kind = "webhook",
        .list_key = "webhooks",
        .each = webhooks_each,
        .to_json = webhook_any_json,
    };
    rg__api_list(srv, req, resp, &webhooks);
}

void rg_api_webhook_get(rg_server *srv, rg_req *req, rg_resp *resp)
{
    int64_t id;
    rg_webhook_rec w;
    rg_err err;
    rg_err_clear(&err);
    if (rg__api_param_id(req, 0, "id", &id, resp) != 0)
        return;
    if (rg_store_webhook_get(srv->store, id, &w, &err) != 0)
        rg_resp_error(resp, &err);
    else
        rg_resp_json(resp, 200, webhook_json(&w));
    sodium_memzero(w.secret, sizeof w.secret);
}

/* The id of the path and the body's reason (required when need_reason)
 * of a change to webhook {id}, with its audit row. Returns the body (the
 * caller's reference), or NULL after answering the error. */
static json_t *change_begin(rg_server *srv, rg_req *req, rg_resp *resp,
                            const char *action, bool need_reason, int64_t *id,
                            rg_audit_rec *audit)
{
    static const char *const allowed[] = {"reason", NULL};
    const char *reason = NULL;
    char target[48];
    rg_err err;
    rg_err_clear(&err);
    if (rg__api_param_id(req, 0, "id", id, resp) != 0)
        return NULL;
    bool empty = req->body.len == 0 && !need_reason;
    json_t *body = empty ? json_object() : rg__api_body(req, resp, allowed);
    if (!body)
        return NULL;
    if (rg_json_string(body, "reason", need_reason, RG_REASON_MAX, &reason,
                       &err) != 0) {
        json_decref(body);
        rg_resp_error(resp, &err);
        return NULL;
    }
    snprintf(target, sizeof target, "webhook:%lld", (long long)*id);
    rg_audit_init(audit, srv, req, action, target, reason);
    return body;
}

void rg_api_webhook_delete(rg_server *srv, rg_req *req, rg_resp *resp)
{
    int64_t id;
    rg_webhook_rec w;
    rg_audit_rec audit;
    rg_err err;
    rg_err_clear(&err);
    json_t *body =
        change_begin(srv, req, resp, "webhook.delete", true, &id, &audit);
    if (!body)
        return;
    if (rg_store_webhook_delete(srv->store, id, &w, &audit, &err) != 0)
        rg_resp_error(resp, &err);
    else
        rg_resp_json(resp, 200, webhook_json(&w));
    sodium_memzero(w.secret, sizeof w.secret);
    json_decref(body);
}

void rg_api_webhook_test(rg_server *srv, rg_req *req, rg_resp *resp)
{
    int64_t id;
    rg_delivery_rec d;
    rg_audit_rec audit;
    rg_err err;
    rg_err_clear(&err);
    json_t *body =
        change_begin(srv, req, resp, "webhook.test", false, &id, &audit);
    if (!body)
        return;
    if (rg_store_webhook_test(srv->store, id, audit.at_ms, &d, &audit, &err) !=
        0)
        rg_resp_error(resp, &err);
    else
        rg_resp_json(resp, 202, delivery_json(&d));
    json_decref(body);
}

/* --- deliveries ---------------------------------------------------------- */

typedef struct collect {
    rg_page *page;
    rg_delivery_rec *v;
    size_t n, cap;
} collect;

/* Collects the page's deliveries (the store may not be re-entered from
 * its callbacks, and each answer needs its attempts read). */
static int collect_one(void *ctx, const rg_delivery_rec *d)
{
    collect *c = ctx;
    int take = rg_page_step(c->page, d->id, NULL);
    if (take != 1)
        return take;
    if (rg_array_reserve((void **)&c->v, &c->cap, c->n + 1, sizeof *c->v))
        return -1;
    c->v[c->n++] = *d;
    return 0;
}

static int add_attempt(void *ctx, const rg_attempt_rec *a)
{
    return json_array_append_new(ctx, attempt_json(a));
}

void rg_api_webhook_deliveries(rg_server *srv, rg_req *req, rg_resp *resp)
{
    int64_t id;
    rg_page page;
    rg_err err;
    rg_err_clear(&err);
    if (rg__api_param_id(req, 0, "id", &id, resp) != 0 ||
        rg_page_parse(req, RG_PAGE_ID_DESC, &page, resp) != 0)
        return;
    collect c = {.page = &page};
    int rc = rg_store_delivery_list(srv->store, id, collect_one, &c, &err);
    for (size_t i = 0; (rc == 0 || rc == RG_PAGE_FULL) && i < c.n; i++) {
        json_t *v = delivery_json(&c.v[i]);
        int r2 = v ? rg_store_attempt_list(srv->store, c.v[i].id, add_attempt,
                                           json_object_get(v, "log"), &err)
                   : -1;
        if (r2 != 0) {
            json_decref(v);
            rc = r2;
        } else if (rg_page_push(&page, v) != 0)
            rc = -1;
    }
    free(c.v);
    rg_page_reply(&page, resp, "deliveries", rc, &err);
}
