/* live.c - see live.h. */
#include "live.h"

#include "common/buf.h"
#include "common/httpc.h"
#include "common/json.h"

#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BODY_MAX (1024 * 1024)
#define ARTIFACT_MAX (16 * 1024 * 1024)
#define CHANNELS 4
#define EVENTS 16
#define NAME 65

typedef struct installed {
    char ch[NAME];
    int64_t rel, ver;
    char sha[NAME];
} installed;

typedef struct event {
    char id[64], type[12], ch[NAME];
    int64_t rel;
} event;

/* Phases of an agent. */
enum { IDLE, TRIAL, DOWN };

typedef struct agent {
    char id[64];
    char token[160];
    int stratum;
    bool internal, enrolled;
    int64_t next_ms;
    installed inst[CHANNELS];
    size_t n_inst;
    event ev[EVENTS];
    size_t n_ev;
    uint64_t seq;
    int phase;
    installed trial; /* the release in trial (phase TRIAL or DOWN) */
    int trial_fault; /* 0, 'c' or 'f' */
    int silent_left;
    char quarantined[NAME];
    _Atomic int64_t shown; /* release running on the first channel, for
                              the progress line; -1 while down */
} agent;

typedef struct live {
    const rg_live_options *o;
    agent *a;
    int interval_ms;
    _Atomic uint64_t checkins, errors, enrolled;
    _Atomic bool stop;
    int64_t t0;
} live;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One request; *status receives the HTTP status (0 on transport errors).
 * body may be NULL (GET). out is reset and filled. */
static void http(CURL *c, const char *url, const char *token, const char *body,
                 rg_buf *out, long *status)
{
    rg_httpc_req req = {.url = url,
                        .token = token,
                        .body = body,
                        .content_type = body ? "application/json" : NULL,
                        .timeout_ms = 20000};
    rg_httpc_res res;
    rg_buf_reset(out);
    curl_easy_reset(c);
    rg_httpc_perform(c, &req, out, &res);
    *status = res.cc == CURLE_OK ? res.status : 0;
}

/* The agent's stratum as the server names it: os-os_version-arch. */
static void stratum_name(const live *L, const agent *g, char *out, size_t n)
{
    snprintf(out, n, "%s", L->o->strata[g->stratum]);
    for (char *p = out; *p; p++)
        if (*p == ':')
            *p = '-';
}

/* The fault an artifact carries for the agent: 'c', 'f' or 0. */
static int fault_of(const live *L, const agent *g, const char *text)
{
    char mine[128], line[256];
    int fault = 0;
    if (L->o->fault == RG_LIVE_FAULT_NONE)
        return 0;
    stratum_name(L, g, mine, sizeof mine);
    for (const char *p = text; p && *p && !fault;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len < sizeof line) {
            char kind[16], who[128];
            memcpy(line, p, len);
            line[len] = '\0';
            if (sscanf(line, "FAULT %15s %127s", kind, who) == 2 &&
                (strcmp(who, "*") == 0 || strcmp(who, mine) == 0))
                fault = strcmp(kind, "crash") == 0 ? 'c' : 'f';
        }
        p = e ? e + 1 : NULL;
    }
    if (fault && L->o->fault == RG_LIVE_FAULT_CRASH)
        fault = 'c';
    if (fault && L->o->fault == RG_LIVE_FAULT_FAIL)
        fault = 'f';
    return fault;
}

static void push_event(agent *g, const char *type, const installed *r)
{
    if (g->n_ev == EVENTS)
        return;
    event e;
    uint64_t seq = ++g->seq;
    snprintf(e.id, sizeof e.id, "%.40s-%" PRIu64, g->id, seq);
    snprintf(e.type, sizeof e.type, "%s", type);
    snprintf(e.ch, sizeof e.ch, "%s", r->ch);
    e.rel = r->rel;
    g->ev[g->n_ev++] = e;
}

static void install(agent *g, const installed *r)
{
    size_t i = 0;
    while (i < g->n_inst && strcmp(g->inst[i].ch, r->ch) != 0)
        i++;
    if (i == g->n_inst) {
        if (g->n_inst == CHANNELS)
            return;
        g->n_inst++;
    }
    g->inst[i] = *r;
    if (i == 0)
        atomic_store(&g->shown, r->rel);
}

static const installed *have(const agent *g, const char *ch)
{
    for (size_t i = 0; i < g->n_inst; i++)
        if (strcmp(g->inst[i].ch, ch) == 0)
            return &g->inst[i];
    return NULL;
}

static char *checkin_body(const agent *g)
{
    json_t *inst = json_object(), *evs = json_array();
    for (size_t i = 0; i < g->n_inst; i++)
        json_object_set_new(inst, g->inst[i].ch,
                            json_pack("{s:I, s:I, s:s}", "release",
                                      (json_int_t)g->inst[i].rel, "version",
                                      (json_int_t)g->inst[i].ver, "sha256",
                                      g->inst[i].sha));
    for (size_t i = 0; i < g->n_ev; i++)
        json_array_append_new(evs, json_pack("{s:s, s:s, s:s, s:I}", "id",
                                             g->ev[i].id, "type", g->ev[i].type,
                                             "channel", g->ev[i].ch, "release",
                                             (json_int_t)g->ev[i].rel));
    json_t *b = json_pack("{s:s, s:o, s:o}", "endpoint_id", g->id, "installed",
                          inst, "events", evs);
    char *s = b ? json_dumps(b, JSON_COMPACT) : NULL;
    json_decref(b);
    return s;
}

/* One check-in; returns the parsed answer (new reference) or NULL. */
static json_t *checkin(live *L, CURL *c, agent *g, rg_buf *out)
{
    char url[512];
    long st = 0;
    char *body = checkin_body(g);
    if (!body)
        return NULL;
    snprintf(url, sizeof url, "%s/v1/agent/checkin", L->o->server);
    http(c, url, g->token, body, out, &st);
    free(body);
    atomic_fetch_add(&L->checkins, 1);
    if (st != 200) {
        atomic_fetch_add(&L->errors, 1);
        return NULL;
    }
    g->n_ev = 0; /* acknowledged */
    json_t *v = json_loadb(out->data ? out->data : "", out->len, 0, NULL);
    json_t *iv = json_object_get(v, "interval_s");
    if (L->o->interval_s == 0 && json_is_integer(iv) &&
        json_integer_value(iv) > 0)
        L->interval_ms = (int)json_integer_value(iv) * 1000;
    return v;
}

/* Starts applying the desired release d of channel ch. */
static void start_apply(live *L, CURL *c, agent *g, const char *ch,
                        const json_t *d, rg_buf *out)
{
    char url[512];
    long st = 0;
    installed r;
    memset(&r, 0, sizeof r);
    snprintf(r.ch, sizeof r.ch, "%s", ch);
    r.rel = json_integer_value(json_object_get(d, "release"));
    r.ver = json_integer_value(json_object_get(d, "version"));
    const char *sha = json_string_value(json_object_get(d, "sha256"));
    const char *path = json_string_value(json_object_get(d, "url"));
    if (!sha || !path || strcmp(sha, g->quarantined) == 0)
        return;
    snprintf(r.sha, sizeof r.sha, "%s", sha);
    snprintf(url, sizeof url, "%s%s", L->o->server, path);
    rg_buf art;
    rg_buf_init(&art, ARTIFACT_MAX);
    http(c, url, g->token, NULL, &art, &st);
    if (st != 200 && st != 206) {
        atomic_fetch_add(&L->errors, 1);
        rg_buf_release(&art);
        return;
    }
    g->trial_fault = fault_of(L, g, art.data ? art.data : "");
    rg_buf_release(&art);
    g->trial = r;
    g->phase = TRIAL;
    push_event(g, "applying", &r);
    json_decref(checkin(L, c, g, out)); /* acknowledged before switching */
}

/* One turn of agent g. */
static void turn(live *L, CURL *c, agent *g, rg_buf *out)
{
    if (g->phase == DOWN) {
        if (--g->silent_left > 0)
            return; /* crashed, restarting: silent */
        push_event(g, "crashed", &g->trial);
        snprintf(g->quarantined, sizeof g->quarantined, "%s", g->trial.sha);
        const installed *prev = have(g, g->trial.ch);
        atomic_store(&g->shown, prev ? prev->rel : 0);
        g->phase = IDLE;
    } else if (g->phase == TRIAL) {
        if (g->trial_fault == 'c') {
            g->phase = DOWN;
            g->silent_left = L->o->crash_checkins;
            atomic_store(&g->shown, -1);
            return;
        }
        if (g->trial_fault == 'f') {
            push_event(g, "failed", &g->trial);
            snprintf(g->quarantined, sizeof g->quarantined, "%s", g->trial.sha);
        } else {
            push_event(g, "healthy", &g->trial);
            install(g, &g->trial);
        }
        g->phase = IDLE;
    }
    json_t *v = checkin(L, c, g, out);
    const char *ch;
    json_t *d;
    json_object_foreach(json_object_get(v, "desired"), ch, d)
    {
        const installed *h = have(g, ch);
        int64_t rel = json_integer_value(json_object_get(d, "release"));
        if (g->phase != IDLE || (h && h->rel == rel))
            continue;
        const char *sha = json_string_value(json_object_get(d, "sha256"));
        if (h && sha && strcmp(sha, g->quarantined) != 0 && h->rel > rel) {
            /* moved back (revert): return to it at once */
            installed r = *h;
            r.rel = rel;
            r.ver = json_integer_value(json_object_get(d, "version"));
            snprintf(r.sha, sizeof r.sha, "%s", sha);
            install(g, &r);
            continue;
        }
        start_apply(L, c, g, ch, d, out);
    }
    json_decref(v);
}

static int enroll(live *L, CURL *c, agent *g, rg_buf *out)
{
    char url[512], attrs[256], os[64] = "", ver[64] = "", arch[64] = "";
    long st = 0;
    sscanf(L->o->strata[g->stratum], "%63[^:]:%63[^:]:%63s", os, ver, arch);
    snprintf(attrs, sizeof attrs,
             "{\"os\":\"%s\",\"os_version\":\"%s\",\"arch\":\"%s\","
             "\"tags\":[%s]}",
             os, ver, arch, g->internal ? "\"internal\"" : "");
    json_t *a = json_loads(attrs, 0, NULL);
    json_t *b = json_pack("{s:s, s:s, s:o}", "enrollment_key", L->o->enroll_key,
                          "endpoint_id", g->id, "attributes", a);
    char *body = b ? json_dumps(b, JSON_COMPACT) : NULL;
    json_decref(b);
    if (!body)
        return -1;
    snprintf(url, sizeof url, "%s/v1/agent/enroll", L->o->server);
    http(c, url, NULL, body, out, &st);
    free(body);
    if (st != 200)
        return -1;
    json_t *v = json_loadb(out->data ? out->data : "", out->len, 0, NULL);
    const char *tok = json_string_value(json_object_get(v, "token"));
    if (tok)
        snprintf(g->token, sizeof g->token, "%s", tok);
    json_decref(v);
    return tok ? 0 : -1;
}

typedef struct worker {
    live *L;
    int k;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    live *L = w->L;
    CURL *c = curl_easy_init();
    rg_buf out;
    rg_buf_init(&out, BODY_MAX);
    unsigned seed = (unsigned)w->k * 2654435761u + 1;
    while (c && !atomic_load(&L->stop)) {
        int64_t t = now_ms(), next = t + 200;
        for (uint32_t i = (uint32_t)w->k; i < L->o->endpoints;
             i += (uint32_t)L->o->threads) {
            agent *g = &L->a[i];
            if (atomic_load(&L->stop))
                break;
            if (g->next_ms > t) {
                next = g->next_ms < next ? g->next_ms : next;
                continue;
            }
            if (!g->enrolled) {
                if (enroll(L, c, g, &out) == 0) {
                    g->enrolled = true;
                    atomic_fetch_add(&L->enrolled, 1);
                } else {
                    atomic_fetch_add(&L->errors, 1);
                }
            } else {
                turn(L, c, g, &out);
            }
            int iv = L->interval_ms;
            int jitter = iv / 5;
            g->next_ms =
                now_ms() + iv - jitter +
                (jitter ? (int)(rand_r(&seed) % (unsigned)(2 * jitter)) : 0);
        }
        int64_t wait = next - now_ms();
        if (wait > 0) {
            struct timespec ts = {.tv_sec = wait / 1000,
                                  .tv_nsec = (long)(wait % 1000) * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    rg_buf_release(&out);
    if (c)
        curl_easy_cleanup(c);
    return NULL;
}

static void progress(live *L)
{
    int64_t rel[8] = {0};
    uint64_t cnt[8] = {0}, down = 0, none = 0;
    size_t n_rel = 0;
    for (uint32_t i = 0; i < L->o->endpoints; i++) {
        int64_t r = atomic_load(&L->a[i].shown);
        if (r < 0) {
            down++;
            continue;
        }
        if (r == 0) {
            none++;
            continue;
        }
        size_t k = 0;
        while (k < n_rel && rel[k] != r)
            k++;
        if (k == n_rel && n_rel < 8)
            rel[n_rel++] = r;
        if (k < n_rel)
            cnt[k]++;
    }
    char line[512];
    int len = snprintf(line, sizeof line,
                       "rollgate-sim live: t=%" PRId64 "s enrolled=%" PRIu64
                       "/%u checkins=%" PRIu64 " errors=%" PRIu64
                       " crashed_down=%" PRIu64 " none=%" PRIu64,
                       (now_ms() - L->t0) / 1000, atomic_load(&L->enrolled),
                       L->o->endpoints, atomic_load(&L->checkins),
                       atomic_load(&L->errors), down, none);
    for (size_t k = 0; k < n_rel && len > 0 && (size_t)len < sizeof line; k++)
        len += snprintf(line + len, sizeof line - (size_t)len,
                        " release%" PRId64 "=%" PRIu64, rel[k], cnt[k]);
    fprintf(stderr, "%s\n", line);
}

int rg_live_run(const rg_live_options *o, rg_err *err)
{
    int rc = 0;
    live L;
    pthread_t th[64];
    worker w[64];
    int started = 0;
    memset(&L, 0, sizeof L);
    if (!o->server || !o->enroll_key || o->endpoints < 1 ||
        o->endpoints > RG_LIVE_MAX_AGENTS || o->duration_s <= 0 ||
        o->threads < 1 || o->threads > 64 || o->n_strata < 1 ||
        o->internal > o->endpoints)
        return rg_err_set(err, RG_EINVAL,
                          "live: need --server, --enrollment-key, --endpoints "
                          "1..%d, --duration > 0, --threads 1..64",
                          RG_LIVE_MAX_AGENTS);
    L.o = o;
    L.interval_ms = (o->interval_s > 0 ? o->interval_s : 60) * 1000;
    L.a = calloc(o->endpoints, sizeof *L.a);
    if (!L.a)
        return rg_err_set(err, RG_ENOMEM, "live: out of memory");
    L.t0 = now_ms();
    for (uint32_t i = 0; i < o->endpoints; i++) {
        agent *g = &L.a[i];
        snprintf(g->id, sizeof g->id, "%s-%05u", o->prefix ? o->prefix : "sim",
                 i);
        g->stratum = (int)(i % o->n_strata);
        g->internal = i < o->internal;
        /* enrollments spread over the first second */
        g->next_ms = L.t0 + (int64_t)i * 1000 / o->endpoints;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    for (; started < o->threads; started++) {
        w[started] = (worker){.L = &L, .k = started};
        if (pthread_create(&th[started], NULL, work, &w[started]) != 0)
            break;
    }
    int64_t end = L.t0 + (int64_t)o->duration_s * 1000;
    int64_t next_progress = L.t0 + 2000;
    while (now_ms() < end) {
        struct timespec ts = {.tv_sec = 0, .tv_nsec = 100000000L};
        nanosleep(&ts, NULL);
        if (o->progress && now_ms() >= next_progress) {
            progress(&L);
            next_progress += 2000;
        }
    }
    atomic_store(&L.stop, true);
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    if (o->progress)
        progress(&L);
    if (atomic_load(&L.enrolled) < o->endpoints)
        rc = rg_err_set(err, RG_EIO, "live: %" PRIu64 " of %u agents enrolled",
                        atomic_load(&L.enrolled), o->endpoints);
    curl_global_cleanup();
    free(L.a);
    return rc;
}
