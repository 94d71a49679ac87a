/* stream.c - see stream.h. */
#include "stream.h"

#include "common/clock.h"
#include "common/json.h"
#include "server/auth.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One open stream. */
typedef struct sub {
    struct sub *prev, *next;
    rg_stream *hub;
    void *conn; /* the adapter's connection, known from the first read */
    int64_t token_id;
    char client[64];
    uint64_t next_seq; /* the next event of the ring to send */
    bool hello, reset, keepalive, parked;
    bool gone;             /* its peer closed the connection: end the answer */
    int64_t last_write_ms; /* monotonic */
    char cur[RG_STREAM_FRAME_MAX]; /* the frame being sent */
    size_t cur_len, cur_off;
} sub;

/* The counts last published for a rollout (rg_stream_counts). */
typedef struct last_counts {
    int64_t rollout; /* 0: a free entry */
    char *text;      /* the counts object's JSON text */
    uint64_t seq;    /* the event that published it */
} last_counts;

struct rg_stream {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    bool stopping;
    int64_t boot_ms;
    uint64_t seq;               /* newest event's number, 0: none yet */
    char *ring[RG_STREAM_KEEP]; /* event n at n % RG_STREAM_KEEP */
    size_t ring_len[RG_STREAM_KEEP];
    sub *subs;
    unsigned n_subs;
    last_counts counts[RG_STREAM_ROLLOUTS];
};

static uint64_t oldest_kept(const rg_stream *s)
{
    return s->seq >= RG_STREAM_KEEP ? s->seq - RG_STREAM_KEEP + 1 : 1;
}

/* Wakes sb if it is parked. Caller holds s->mu. */
static void wake(sub *sb)
{
    if (sb->parked) {
        sb->parked = false;
        rg_http_resume(sb->conn);
    }
}

/* Every second: streams whose peer left are ended (their places under the
 * caps freed), those quiet for RG_STREAM_KEEPALIVE_MS get a comment. */
static void *keepalive_main(void *arg)
{
    rg_stream *s = arg;
    pthread_mutex_lock(&s->mu);
    while (!s->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&s->cv, &s->mu, &ts);
        int64_t now = rg_monotonic_ms();
        for (sub *sb = s->subs; sb; sb = sb->next) {
            if (!sb->parked)
                continue;
            sb->gone = rg_http_peer_gone(sb->conn);
            sb->keepalive = now - sb->last_write_ms >= RG_STREAM_KEEPALIVE_MS;
            if (sb->gone || sb->keepalive)
                wake(sb);
        }
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

int rg_stream_open(rg_stream **out, rg_err *err)
{
    rg_stream *s = calloc(1, sizeof *s);
    pthread_condattr_t ca;
    if (!s)
        return rg_err_set(err, RG_ENOMEM, "stream: out of memory");
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    s->boot_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    if (pthread_create(&s->thread, NULL, keepalive_main, s) != 0) {
        pthread_cond_destroy(&s->cv);
        pthread_mutex_destroy(&s->mu);
        free(s);
        return rg_err_set(err, RG_EIO, "stream: cannot start its thread");
    }
    *out = s;
    return 0;
}

void rg_stream_stop(rg_stream *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    bool was = s->stopping;
    s->stopping = true;
    for (sub *sb = s->subs; sb; sb = sb->next)
        wake(sb);
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    if (!was)
        pthread_join(s->thread, NULL);
}

void rg_stream_free(rg_stream *s)
{
    if (!s)
        return;
    rg_stream_stop(s);
    for (size_t i = 0; i < RG_STREAM_KEEP; i++)
        free(s->ring[i]);
    for (size_t i = 0; i < RG_STREAM_ROLLOUTS; i++)
        free(s->counts[i].text);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* Appends an event (data: JSON text) to the ring and wakes every parked
 * stream. Caller holds s->mu. */
static void publish_locked(rg_stream *s, const char *event, const char *data)
{
    uint64_t n = s->seq + 1;
    char *frame = malloc(RG_STREAM_FRAME_MAX);
    int len =
        frame ? snprintf(frame, RG_STREAM_FRAME_MAX,
                         "id: %" PRId64 "-%" PRIu64 "\nevent: %s\ndata: %s\n\n",
                         s->boot_ms, n, event, data)
              : -1;
    if (len > 0 && len < RG_STREAM_FRAME_MAX) {
        size_t k = n % RG_STREAM_KEEP;
        free(s->ring[k]);
        s->ring[k] = frame;
        s->ring_len[k] = (size_t)len;
        s->seq = n;
        for (sub *sb = s->subs; sb; sb = sb->next)
            wake(sb);
    } else {
        free(frame); /* longer than a frame: never, by what is sent */
    }
}

static void publish(rg_stream *s, const char *event, const char *data)
{
    pthread_mutex_lock(&s->mu);
    publish_locked(s, event, data);
    pthread_mutex_unlock(&s->mu);
}

void rg_stream_decision(rg_stream *s, int64_t rollout, const rg_transition *tr,
                        const char *actor, int64_t at_ms)
{
    if (!s)
        return;
    json_t *v = json_pack(
        "{s:I,s:s,s:s,s:i,s:i,s:s,s:s,s:I}", "rollout", (json_int_t)rollout,
        "from", rg_rollout_state_name(tr->from_state), "to",
        rg_rollout_state_name(tr->to_state), "from_wave", tr->from_wave,
        "to_wave", tr->to_wave, "reason", tr->reason, "actor", actor, "at_ms",
        (json_int_t)at_ms);
    char *text = v ? rg_json_dump(v) : NULL;
    json_decref(v);
    if (text)
        publish(s, "decision", text);
    free(text);
}

/* The entry of rollout id in s->counts: its own, else a free one, else the
 * one published longest ago. Caller holds s->mu. */
static last_counts *counts_entry(rg_stream *s, int64_t id)
{
    last_counts *pick = &s->counts[0];
    for (size_t i = 0; i < RG_STREAM_ROLLOUTS; i++) {
        last_counts *e = &s->counts[i];
        if (e->rollout == id)
            return e;
        if (pick->rollout != 0 && (e->rollout == 0 || e->seq < pick->seq))
            pick = e;
    }
    return pick;
}

void rg_stream_counts(rg_stream *s, int64_t rollout, const json_t *counts,
                      int64_t at_ms)
{
    if (!s || !json_is_object(counts))
        return;
    char *text = rg_json_dump(counts);
    json_t *v = json_pack("{s:I,s:I,s:O}", "rollout", (json_int_t)rollout,
                          "at_ms", (json_int_t)at_ms, "counts", counts);
    char *data = text && v ? rg_json_dump(v) : NULL;
    json_decref(v);
    pthread_mutex_lock(&s->mu);
    last_counts *e = data ? counts_entry(s, rollout) : NULL;
    if (e && !(e->rollout == rollout && strcmp(e->text, text) == 0)) {
        free(e->text);
        *e = (last_counts){rollout, text, s->seq + 1};
        text = NULL;
        publish_locked(s, "counts", data);
    }
    pthread_mutex_unlock(&s->mu);
    free(text);
    free(data);
}

/* Loads sb's next frame into sb->cur. Returns false when there is none.
 * Caller holds the hub's lock. */
static bool next_frame(rg_stream *s, sub *sb)
{
    const char *marker = sb->reset ? "reset" : sb->hello ? "hello" : NULL;
    int n = 0;
    if (sb->next_seq <= s->seq && sb->next_seq < oldest_kept(s)) {
        sb->reset = true; /* what it missed is no longer kept */
        sb->next_seq = s->seq + 1;
        marker = "reset";
    }
    if (marker) {
        n = snprintf(sb->cur, sizeof sb->cur,
                     "id: %" PRId64 "-%" PRIu64 "\nevent: %s\ndata: {}\n\n",
                     s->boot_ms, sb->next_seq - 1, marker);
        sb->reset = sb->hello = false;
    } else if (sb->next_seq <= s->seq) {
        size_t k = sb->next_seq++ % RG_STREAM_KEEP;
        memcpy(sb->cur, s->ring[k], s->ring_len[k]);
        n = (int)s->ring_len[k];
    } else if (sb->keepalive) {
        n = snprintf(sb->cur, sizeof sb->cur, ": keepalive\n\n");
        sb->keepalive = false;
    }
    sb->cur_len = n > 0 ? (size_t)n : 0;
    sb->cur_off = 0;
    return n > 0;
}

/* The adapter's read (rg_resp_stream): whole or partial frames into buf,
 * else parks the connection. */
static long stream_read(void *ctx, void *conn, char *buf, size_t max)
{
    sub *sb = ctx;
    rg_stream *s = sb->hub;
    size_t n = 0;
    pthread_mutex_lock(&s->mu);
    sb->conn = conn;
    if (s->stopping || sb->gone) {
        pthread_mutex_unlock(&s->mu);
        return -1;
    }
    while (n < max) {
        if (sb->cur_off == sb->cur_len && !next_frame(s, sb))
            break;
        size_t k = sb->cur_len - sb->cur_off;
        if (k > max - n)
            k = max - n;
        memcpy(buf + n, sb->cur + sb->cur_off, k);
        sb->cur_off += k;
        n += k;
    }
    if (n > 0) {
        sb->last_write_ms = rg_monotonic_ms();
    } else {
        sb->parked = true;
        rg_http_suspend(conn);
    }
    pthread_mutex_unlock(&s->mu);
    return (long)n;
}

static void stream_release(void *ctx)
{
    sub *sb = ctx;
    rg_stream *s = sb->hub;
    pthread_mutex_lock(&s->mu);
    if (sb->prev)
        sb->prev->next = sb->next;
    else
        s->subs = sb->next;
    if (sb->next)
        sb->next->prev = sb->prev;
    s->n_subs--;
    pthread_mutex_unlock(&s->mu);
    free(sb);
}

/* Where sb starts, from the Last-Event-ID it sent (stream.h). Caller
 * holds the hub's lock. */
static void resume_from(rg_stream *s, sub *sb, const char *last)
{
    long long boot = 0;
    unsigned long long n = 0;
    char tail;
    sb->next_seq = s->seq + 1;
    if (!last || !*last) {
        sb->hello = true;
        return;
    }
    if (sscanf(last, "%lld-%llu%c", &boot, &n, &tail) == 2 &&
        boot == s->boot_ms && n <= s->seq && n + 1 >= oldest_kept(s)) {
        sb->next_seq = n + 1;
        return;
    }
    sb->reset = true;
}

/* Whether a new stream for caller c from client is under the caps.
 * Fills resp (429) when not. Caller holds the hub's lock. */
static bool under_caps(rg_server *srv, rg_stream *s, const rg_caller *c,
                       const char *client, rg_resp *resp)
{
    unsigned by_token = 0, by_client = 0;
    for (sub *sb = s->subs; sb; sb = sb->next) {
        by_token += sb->token_id == c->token_id;
        by_client += strcmp(sb->client, client) == 0;
    }
    const char *what = NULL;
    unsigned cap = 0;
    if (by_token >= srv->cfg.stream_per_token)
        what = "this token", cap = srv->cfg.stream_per_token;
    else if (by_client >= srv->cfg.stream_per_address)
        what = "this address", cap = srv->cfg.stream_per_address;
    else if (s->n_subs >= RG_STREAM_MAX)
        what = "the server", cap = RG_STREAM_MAX;
    if (!what)
        return true;
    rg_resp_errorf(resp, RG_ERATELIMIT, NULL,
                   "%s already has %u open streams (the most allowed); "
                   "close a dashboard page",
                   what, cap);
    resp->retry_after_s = 30;
    return false;
}

void rg_api_stream(rg_server *srv, rg_req *req, rg_resp *resp)
{
    static const char *const headers[] = {"Cache-Control",
                                          "no-store",
                                          "X-Content-Type-Options",
                                          "nosniff",
                                          "X-Accel-Buffering",
                                          "no",
                                          NULL};
    rg_stream *s = srv->stream;
    const rg_caller *c = req->auth;
    if (!s) {
        rg_resp_errorf(resp, RG_EUNAVAIL, NULL, "no push stream here");
        return;
    }
    sub *sb = calloc(1, sizeof *sb);
    if (!sb) {
        rg_resp_errorf(resp, RG_ENOMEM, NULL, "out of memory");
        return;
    }
    pthread_mutex_lock(&s->mu);
    if (s->stopping || !under_caps(srv, s, c, req->client, resp)) {
        if (s->stopping)
            rg_resp_errorf(resp, RG_EUNAVAIL, NULL, "shutting down");
        pthread_mutex_unlock(&s->mu);
        free(sb);
        return;
    }
    sb->hub = s;
    sb->token_id = c->token_id;
    snprintf(sb->client, sizeof sb->client, "%s", req->client);
    sb->last_write_ms = rg_monotonic_ms();
    resume_from(s, sb, rg_req_header(req, "Last-Event-ID"));
    sb->next = s->subs;
    if (s->subs)
        s->subs->prev = sb;
    s->subs = sb;
    s->n_subs++;
    pthread_mutex_unlock(&s->mu);
    resp->status = 200;
    resp->content_type = "text/event-stream";
    resp->headers = headers;
    resp->stream = (rg_resp_stream){stream_read, stream_release, sb};
}
