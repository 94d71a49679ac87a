/* guard.c - see guard.h. */
#include "guard.h"

#include "common/clock.h"
#include "common/crypto.h"
#include "common/log.h"
#include "server/auth.h"
#include "server/ratelimit.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TICK_EVERY_MS 5000

struct rg_guard {
    rg_ratelimit *events; /* per endpoint: agent events */
    rg_ratelimit *enroll;
    rg_ratelimit *authfail;
    rg_ratelimit *audit;        /* per address: individual audit rows */
    rg_ratelimit *audit_global; /* one key: individual rows overall */
    _Atomic int64_t next_tick_ms;
};

enum { L_EVENTS, L_ENROLL, L_AUTHFAIL, L_AUDIT, L_GLOBAL, N_LIMITS };

/* The options of each table of the guard from cfg. */
static void limits(const rg_server_config *cfg, rg_ratelimit_opts o[N_LIMITS])
{
    unsigned per_addr = cfg->auth_audit_per_min ? cfg->auth_audit_per_min : 1;
    unsigned all = per_addr > RG_GUARD_AUDIT_GLOBAL_PER_MIN
                       ? per_addr
                       : RG_GUARD_AUDIT_GLOBAL_PER_MIN;
    o[L_EVENTS] = (rg_ratelimit_opts){cfg->event_burst, cfg->events_per_min,
                                      cfg->rate_table};
    o[L_ENROLL] = (rg_ratelimit_opts){cfg->enroll_burst, cfg->enroll_per_min,
                                      cfg->rate_table};
    o[L_AUTHFAIL] = (rg_ratelimit_opts){
        cfg->auth_fail_burst, cfg->auth_fail_per_min, cfg->rate_table};
    o[L_AUDIT] = (rg_ratelimit_opts){per_addr, per_addr, cfg->rate_table};
    o[L_GLOBAL] = (rg_ratelimit_opts){all, all, RG_RATELIMIT_WAYS};
}

/* The guard's tables in the order of limits(). */
static void tables(rg_guard *g, rg_ratelimit **t[N_LIMITS])
{
    t[L_EVENTS] = &g->events;
    t[L_ENROLL] = &g->enroll;
    t[L_AUTHFAIL] = &g->authfail;
    t[L_AUDIT] = &g->audit;
    t[L_GLOBAL] = &g->audit_global;
}

int rg_guard_new(const rg_server_config *cfg, rg_guard **out, rg_err *err)
{
    rg_ratelimit_opts o[N_LIMITS];
    rg_ratelimit **t[N_LIMITS];
    int rc = 0;
    rg_guard *g = calloc(1, sizeof *g);
    if (!g)
        return rg_err_set(err, RG_ENOMEM, "guard: out of memory");
    limits(cfg, o);
    tables(g, t);
    for (size_t i = 0; rc == 0 && i < N_LIMITS; i++)
        rc = rg_ratelimit_new(&o[i], t[i], err);
    if (rc != 0) {
        rg_guard_free(g);
        return rc;
    }
    *out = g;
    return 0;
}

int rg_guard_configure(rg_guard *g, const rg_server_config *cfg, rg_err *err)
{
    rg_ratelimit_opts o[N_LIMITS];
    rg_ratelimit **t[N_LIMITS];
    int rc = 0;
    if (!g)
        return 0;
    limits(cfg, o);
    tables(g, t);
    for (size_t i = 0; i < N_LIMITS; i++)
        if (o[i].burst > 0 && o[i].per_min == 0)
            return rg_err_set(err, RG_EINVAL,
                              "guard: a refill rate of 0 per minute");
    for (size_t i = 0; rc == 0 && i < N_LIMITS; i++)
        rc = rg_ratelimit_set(*t[i], o[i].burst, o[i].per_min, err);
    return rc;
}

void rg_guard_free(rg_guard *g)
{
    if (!g)
        return;
    rg_ratelimit_free(g->events);
    rg_ratelimit_free(g->enroll);
    rg_ratelimit_free(g->authfail);
    rg_ratelimit_free(g->audit);
    rg_ratelimit_free(g->audit_global);
    free(g);
}

/* Fills resp with the 429 for an address over its budget. */
static void too_many(rg_resp *resp, int retry_after_s, const char *what)
{
    rg_resp_errorf(resp, RG_ERATELIMIT, NULL,
                   "too many %s from this address; retry in %d s", what,
                   retry_after_s);
    resp->retry_after_s = retry_after_s;
}

int rg_guard_enroll(rg_server *srv, const rg_req *req, rg_resp *resp)
{
    int retry = 0;
    if (!srv->guard ||
        rg_ratelimit_take(srv->guard->enroll, req->client ? req->client : "",
                          rg_clock_now(srv->clock), &retry, NULL))
        return 0;
    too_many(resp, retry, "enrollments");
    return RG_ERATELIMIT;
}

int rg_guard_events(rg_server *srv, const char *endpoint_id, size_t n,
                    rg_resp *resp)
{
    int retry = 0;
    char key[RG_SHA256_HEX];
    if (!srv->guard || n == 0 || !rg_ratelimit_enabled(srv->guard->events))
        return 0;
    /* Ids are up to 128 bytes, keys 63: the id's digest keeps them apart. */
    rg_sha256_hex(endpoint_id, strlen(endpoint_id), key);
    if (rg_ratelimit_take_n(srv->guard->events, key,
                            n > UINT32_MAX ? UINT32_MAX : (uint32_t)n,
                            rg_clock_now(srv->clock), &retry, NULL))
        return 0;
    rg_resp_errorf(resp, RG_ERATELIMIT, "events",
                   "endpoint '%.128s' sent too many events; retry in %d s",
                   endpoint_id, retry);
    resp->retry_after_s = retry;
    return RG_ERATELIMIT;
}

/* Appends one auth.failed row; a store failure is logged. */
static void write_row(rg_server *srv, const char *source, const char *target,
                      const char *reason, const char *detail)
{
    rg_audit_rec a;
    rg_err err;
    rg_err_clear(&err);
    rg_audit_init(&a, srv, NULL, "auth.failed", target, reason);
    snprintf(a.source, sizeof a.source, "%s", source);
    snprintf(a.detail, sizeof a.detail, "%s", detail);
    if (rg_store_audit_append(srv->store, &a, &err) != 0)
        rg_warn("audit of a failed authentication from %s: %s", source,
                err.msg);
}

/* The summary row of n failures from source not recorded one by one. */
static void write_summary(rg_server *srv, const char *source, uint64_t n)
{
    char target[80], reason[96], detail[48];
    snprintf(target, sizeof target, "source:%s", source);
    snprintf(reason, sizeof reason,
             "%llu failed authentications not recorded one by one",
             (unsigned long long)n);
    snprintf(detail, sizeof detail, "{\"suppressed\":%llu}",
             (unsigned long long)n);
    write_row(srv, strcmp(source, "*") == 0 ? "" : source, target, reason,
              detail);
}

/* Escapes s for a JSON string body into out (quotes, backslashes and
 * control characters become '?': the detail is informative only). */
static void json_safe(char *out, size_t cap, const char *s)
{
    size_t n = 0;
    for (; s && *s && n + 1 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        out[n++] =
            (c < 0x20 || c == '"' || c == '\\' || c >= 0x7f) ? '?' : (char)c;
    }
    out[n] = '\0';
}

void rg_guard_auth_failed(rg_server *srv, const rg_req *req, const rg_err *err,
                          const char *reason, const char *target, rg_resp *resp)
{
    rg_guard *g = srv->guard;
    const char *addr = req->client ? req->client : "";
    int64_t now = rg_clock_now(srv->clock);
    uint64_t pending = 0;
    bool record = true;
    if (g) {
        record = rg_ratelimit_take(g->audit, addr, now, NULL, &pending);
        if (pending)
            write_summary(srv, addr, pending);
        if (record)
            record =
                rg_ratelimit_take(g->audit_global, "*", now, NULL, &pending);
        if (record && pending)
            write_summary(srv, "*", pending);
    }
    if (record) {
        char method[16], path[160], detail[256];
        json_safe(method, sizeof method, req->method);
        json_safe(path, sizeof path, req->path);
        snprintf(detail, sizeof detail, "{\"method\":\"%s\",\"path\":\"%s\"}",
                 method, path);
        write_row(srv, addr, target ? target : "", reason, detail);
    }
    int retry = 0;
    if (g && !rg_ratelimit_take(g->authfail, addr, now, &retry, NULL)) {
        too_many(resp, retry, "failed authentications");
        return;
    }
    rg_resp_error(resp, err);
}

/* rg_ratelimit_drain callback: ctx is the server. */
static void summarise(void *ctx, const char *key, uint64_t denied)
{
    write_summary(ctx, key, denied);
}

/* Drains both audit throttles' counts older than quiet_ms. */
static void drain(rg_server *srv, int64_t quiet_ms)
{
    int64_t now = rg_clock_now(srv->clock);
    rg_ratelimit_drain(srv->guard->audit, now, quiet_ms, summarise, srv);
    rg_ratelimit_drain(srv->guard->audit_global, now, quiet_ms, summarise, srv);
}

void rg_guard_tick(rg_server *srv)
{
    rg_guard *g = srv->guard;
    if (!g)
        return;
    int64_t now = rg_clock_now(srv->clock);
    int64_t next = atomic_load(&g->next_tick_ms);
    if (now < next || !atomic_compare_exchange_strong(&g->next_tick_ms, &next,
                                                      now + TICK_EVERY_MS))
        return;
    drain(srv, RG_GUARD_QUIET_MS);
}

void rg_guard_flush(rg_server *srv)
{
    if (srv->guard)
        drain(srv, 0);
}
