/* webhooks.c - see webhooks.h. */
#include "server/webhooks.h"

#include "server/cluster.h"
#include "common/buf.h"
#include "common/httpc.h"
#include "common/json.h"
#include "common/log.h"
#include "common/stopper.h"
#include "server/webhook_sign.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The process's sender (one rg_server per process). */
static struct {
    pthread_mutex_t mu; /* guards started */
    bool started;
    rg_stopper stop;
    pthread_t th;
} snd = {.mu = PTHREAD_MUTEX_INITIALIZER};

static _Atomic uint64_t st_delivered, st_retry, st_failed;

void rg_webhooks_stats_get(rg_webhooks_stats *out)
{
    out->delivered = atomic_load(&st_delivered);
    out->retry = atomic_load(&st_retry);
    out->failed = atomic_load(&st_failed);
}

/* A due delivery, copied out of the store's callback. */
typedef struct due {
    rg_delivery_rec d;
    char url[RG_WEBHOOK_URL_MAX + 1];
    char secret[RG_WEBHOOK_SECRET_MAX + 1];
} due;

typedef struct due_list {
    due v[RG_WEBHOOK_BATCH];
    size_t n;
} due_list;

/* --- pure parts ------------------------------------------------------- */

int64_t rg_webhook_backoff_ms(int n, uint32_t jitter)
{
    int64_t delay = RG_WEBHOOK_BACKOFF_BASE_MS;
    for (int i = 1; i < n && delay < RG_WEBHOOK_BACKOFF_CAP_MS; i++)
        delay *= 2;
    if (delay > RG_WEBHOOK_BACKOFF_CAP_MS)
        delay = RG_WEBHOOK_BACKOFF_CAP_MS;
    int64_t half = delay / 2;
    return half + (int64_t)((double)half * jitter / UINT32_MAX);
}

bool rg_webhook_retryable(long status)
{
    return status == 0 || status == 408 || status == 429 || status >= 500;
}

/* t_ms as RFC 3339 UTC with milliseconds into out. */
static void rfc3339(int64_t t_ms, char out[32])
{
    time_t s = (time_t)(t_ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03dZ", (int)(t_ms % 1000));
}

/* The rollout part of d's body into o. Returns 0 or -1. */
static int rollout_fields(json_t *o, const rg_delivery_rec *d)
{
    json_t *counts = d->counts[0] ? json_loads(d->counts, 0, NULL) : NULL;
    return json_object_set_new(
        o, "rollout",
        json_pack(
            "{s:I,s:I,s:I,s:s,s:s,s:i,s:s,s:o}", "id",
            (json_int_t)d->rollout_id, "release", (json_int_t)d->release_id,
            "version", (json_int_t)d->version, "channel", d->channel, "state",
            rg_rollout_state_name(d->to_state), "wave", d->to_wave, "reason",
            d->reason, "counts", counts ? counts : json_null()));
}

/* A flag rollout's part of d's body into o: the object its transition
 * stored (rg_flag_rollout_rec.hook). Returns 0 or -1. */
static int flag_fields(json_t *o, const rg_delivery_rec *d)
{
    json_t *r = json_loads(d->flag, 0, NULL);
    return json_object_set_new(o, "kind", json_string("flag")) ||
           json_object_set_new(o, "rollout", r ? r : json_null());
}

char *rg_webhook_body(const rg_delivery_rec *d)
{
    bool flag = d->flag[0] != '\0', test = d->decision_id == 0 && !flag;
    int64_t at = test || flag ? d->created_ms : d->at_ms;
    char when[32];
    rfc3339(at, when);
    json_t *o = json_pack("{s:s,s:s,s:I,s:I,s:s}", "delivery", d->uid, "event",
                          d->event, "webhook", (json_int_t)d->webhook_id,
                          "at_ms", (json_int_t)at, "at", when);
    if (!o || (flag ? flag_fields(o, d)
                    : !test && (json_object_set_new(o, "kind",
                                                    json_string("release")) ||
                                rollout_fields(o, d))) != 0) {
        json_decref(o);
        return NULL;
    }
    char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    return s;
}

/* --- one attempt ------------------------------------------------------ */

/* POSTs body to x's receiver with h; fills a (status, error, took_ms). */
static void post(CURL *h, const due *x, const char *body, int64_t now_ms,
                 rg_attempt_rec *a)
{
    char sig[RG_WEBHOOK_SIG_MAX], h_sig[128], h_id[64], h_ev[48];
    rg_webhook_sign(x->secret, now_ms / 1000, body, strlen(body), sig);
    snprintf(h_sig, sizeof h_sig, "X-Rollgate-Signature: %s", sig);
    snprintf(h_id, sizeof h_id, "X-Rollgate-Delivery: %s", x->d.uid);
    snprintf(h_ev, sizeof h_ev, "X-Rollgate-Event: %s", x->d.event);
    /* "Expect:" sends the body at once (no 100-continue wait). */
    const char *const hdrs[] = {h_sig, h_id, h_ev, "Expect:", NULL};
    rg_httpc_req req = {.url = x->url,
                        .body = body,
                        .content_type = "application/json",
                        .user_agent = "rollgated-webhook/1",
                        .headers = hdrs,
                        .timeout_ms = RG_WEBHOOK_TIMEOUT_MS,
                        .connect_timeout_ms = RG_WEBHOOK_CONNECT_TIMEOUT_MS};
    rg_httpc_res res;
    rg_buf answer;
    rg_buf_init(&answer, RG_WEBHOOK_ANSWER_MAX);
    int64_t t0 = rg_monotonic_ms();
    curl_easy_reset(h);
    int rc = rg_httpc_perform(h, &req, &answer, &res);
    a->took_ms = rg_monotonic_ms() - t0;
    a->status = (int)res.status; /* an overflowing answer keeps its status */
    if (rc != 0 && res.status == 0)
        snprintf(a->error, sizeof a->error, "%s", res.error);
    else if (res.status < 200 || res.status > 299)
        snprintf(a->error, sizeof a->error, "HTTP %ld%s%.200s", res.status,
                 answer.len ? ": " : "", answer.len ? answer.data : "");
    rg_buf_release(&answer);
}

/* Attempts delivery x at now_ms and records it. Returns whether the
 * attempt was recorded (else x stays due as it was). */
static bool attempt(rg_server *srv, CURL *h, const due *x, int64_t now_ms)
{
    rg_attempt_rec a = {
        .delivery_id = x->d.id, .n = x->d.attempts + 1, .at_ms = now_ms};
    const char *state = "failed";
    int64_t next = 0;
    if (now_ms - x->d.created_ms > RG_WEBHOOK_AGE_MAX_MS) {
        snprintf(a.error, sizeof a.error,
                 "not sent: older than %lld h when due",
                 (long long)(RG_WEBHOOK_AGE_MAX_MS / 3600000));
    } else {
        char *body = rg_webhook_body(&x->d);
        if (body)
            post(h, x, body, now_ms, &a);
        else
            snprintf(a.error, sizeof a.error, "out of memory making the body");
        free(body);
        if (a.status >= 200 && a.status <= 299)
            state = "delivered";
        else if (rg_webhook_retryable(a.status) &&
                 a.n < RG_WEBHOOK_ATTEMPTS_MAX) {
            state = "pending";
            next = now_ms + rg_webhook_backoff_ms(a.n, randombytes_random());
        }
    }
    atomic_fetch_add(state[0] == 'd'   ? &st_delivered
                     : state[0] == 'p' ? &st_retry
                                       : &st_failed,
                     1);
    rg_err err;
    rg_err_clear(&err);
    int rc = rg_store_delivery_attempt(srv->store, &a, state, next, &err);
    if (rc != 0 && rc != RG_ENOTFOUND) /* gone: its webhook was deleted */
        rg_warn("webhook %lld delivery %s: not recorded: %s",
                (long long)x->d.webhook_id, x->d.uid, err.msg);
    else if (strcmp(state, "pending") != 0)
        rg_info("webhook %lld delivery %s (%s): %s after %d attempt(s)%s%s",
                (long long)x->d.webhook_id, x->d.uid, x->d.event, state, a.n,
                a.error[0] ? ": " : "", a.error);
    return rc == 0 || rc == RG_ENOTFOUND;
}

/* --- the thread ------------------------------------------------------- */

static int collect_due(void *ctx, const rg_delivery_rec *d,
                       const rg_webhook_rec *w)
{
    due_list *l = ctx;
    due *x = &l->v[l->n++];
    x->d = *d;
    snprintf(x->url, sizeof x->url, "%s", w->url);
    snprintf(x->secret, sizeof x->secret, "%s", w->secret);
    return 0;
}

/* One round: every due delivery, a batch at a time, until none is due,
 * the sender stops, or an attempt could not be recorded (the store
 * fails: the next round tries again, not this one at once). */
static void round_once(rg_server *srv, CURL *h, due_list *l)
{
    bool recorded = true;
    while (recorded) {
        rg_err err;
        rg_err_clear(&err);
        int64_t now = rg_clock_now(srv->clock);
        l->n = 0;
        if (rg_store_delivery_due(srv->store, now, RG_WEBHOOK_BATCH,
                                  collect_due, l, &err) != 0) {
            rg_warn("webhooks: reading the outbox: %s", err.msg);
            return;
        }
        for (size_t i = 0; i < l->n && !rg_stopper_stopped(&snd.stop); i++)
            recorded &= attempt(srv, h, &l->v[i], rg_clock_now(srv->clock));
        if (l->n < RG_WEBHOOK_BATCH || rg_stopper_stopped(&snd.stop))
            return;
    }
}

static void *sender_main(void *arg)
{
    rg_server *srv = arg;
    CURL *h = curl_easy_init();
    due_list *l = malloc(sizeof *l);
    if (!h || !l) {
        rg_error("webhooks: out of memory: nothing will be delivered");
        goto cleanup;
    }
    while (rg_stopper_wait(&snd.stop, RG_WEBHOOK_POLL_MS))
        if (rg_cluster_leads(srv)) /* the leader delivers (cluster.h) */
            round_once(srv, h, l);
cleanup:
    sodium_memzero(l, l ? sizeof *l : 0);
    free(l);
    if (h)
        curl_easy_cleanup(h);
    return NULL;
}

int rg_webhooks_start(rg_server *srv, rg_err *err)
{
    int rc = 0;
    pthread_mutex_lock(&snd.mu);
    if (snd.started) {
        rc = rg_err_set(err, RG_ECONFLICT, "the webhook sender is running");
        goto cleanup;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        rc = rg_err_set(err, RG_EINTERNAL, "webhooks: cannot initialise curl");
        goto cleanup;
    }
    rg_stopper_init(&snd.stop);
    if (pthread_create(&snd.th, NULL, sender_main, srv) != 0) {
        rg_stopper_release(&snd.stop);
        rc = rg_err_set(err, RG_EINTERNAL, "cannot start the webhook sender");
        goto cleanup;
    }
    snd.started = true;
cleanup:
    pthread_mutex_unlock(&snd.mu);
    return rc;
}

void rg_webhooks_stop(rg_server *srv)
{
    (void)srv;
    pthread_mutex_lock(&snd.mu);
    if (snd.started) {
        rg_stopper_stop(&snd.stop);
        pthread_join(snd.th, NULL);
        rg_stopper_release(&snd.stop);
        snd.started = false;
    }
    pthread_mutex_unlock(&snd.mu);
}
