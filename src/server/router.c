/* router.c - see router.h. */
#include "router.h"

#include "server/access_log.h"
#include "server/agent_api.h"
#include "server/api.h"
#include "server/auth.h"
#include "server/guard.h"
#include "server/http_metrics.h"
#include "server/stream.h"
#include "server/web.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const rg_route routes[] = {
    {"GET", "/healthz", RG_ROLE_NONE, false, rg_api_healthz},
    /* The dashboard's files (web.h): public, as its data needs a token. */
    {"GET", "/", RG_ROLE_NONE, false, rg_api_web_file},
    {"GET", "/ui/{}", RG_ROLE_NONE, false, rg_api_web_file},
    {"GET", "/metrics", RG_ROLE_NONE, false, rg_api_metrics},
    {"GET", "/v1/cluster", RG_ROLE_VIEWER, false, rg_api_cluster},
    {"PUT", "/v1/artifacts", RG_ROLE_OPERATOR, true, rg_api_artifact_put},
    {"POST", "/v1/channels", RG_ROLE_OPERATOR, false, rg_api_channel_create},
    {"GET", "/v1/channels", RG_ROLE_VIEWER, false, rg_api_channel_list},
    {"PUT", "/v1/channels/{}/preflight", RG_ROLE_OPERATOR, false,
     rg_api_channel_preflight},
    {"POST", "/v1/releases", RG_ROLE_OPERATOR, false, rg_api_release_create},
    {"GET", "/v1/releases", RG_ROLE_VIEWER, false, rg_api_release_list},
    {"GET", "/v1/releases/{}", RG_ROLE_VIEWER, false, rg_api_release_get},
    {"POST", "/v1/releases/{}/lift-quarantine", RG_ROLE_OPERATOR, false,
     rg_api_release_lift_quarantine},
    {"POST", "/v1/rollouts", RG_ROLE_OPERATOR, false, rg_api_rollout_create},
    {"GET", "/v1/rollouts", RG_ROLE_VIEWER, false, rg_api_rollout_list},
    {"GET", "/v1/rollouts/{}", RG_ROLE_VIEWER, false, rg_api_rollout_get},
    {"GET", "/v1/rollouts/{}/band", RG_ROLE_VIEWER, false, rg_api_rollout_band},
    {"POST", "/v1/rollouts/{}/pause", RG_ROLE_OPERATOR, false,
     rg_api_rollout_pause},
    {"POST", "/v1/rollouts/{}/resume", RG_ROLE_OPERATOR, false,
     rg_api_rollout_resume},
    {"POST", "/v1/rollouts/{}/abort", RG_ROLE_OPERATOR, false,
     rg_api_rollout_abort},
    {"POST", "/v1/rollouts/{}/rollback", RG_ROLE_OPERATOR, false,
     rg_api_rollout_rollback},
    {"POST", "/v1/rollouts/{}/promote", RG_ROLE_OPERATOR, false,
     rg_api_rollout_promote},
    {"GET", "/v1/audit", RG_ROLE_VIEWER, false, rg_api_audit_list},
    {"POST", "/v1/tokens", RG_ROLE_ADMIN, false, rg_api_token_create},
    {"GET", "/v1/tokens", RG_ROLE_ADMIN, false, rg_api_token_list},
    {"GET", "/v1/whoami", RG_ROLE_VIEWER, false, rg_api_token_whoami},
    {"DELETE", "/v1/tokens/{}", RG_ROLE_ADMIN, false, rg_api_token_revoke},
    {"POST", "/v1/webhooks", RG_ROLE_ADMIN, false, rg_api_webhook_create},
    {"GET", "/v1/webhooks", RG_ROLE_ADMIN, false, rg_api_webhook_list},
    {"GET", "/v1/webhooks/{}", RG_ROLE_ADMIN, false, rg_api_webhook_get},
    {"DELETE", "/v1/webhooks/{}", RG_ROLE_ADMIN, false, rg_api_webhook_delete},
    {"GET", "/v1/webhooks/{}/deliveries", RG_ROLE_ADMIN, false,
     rg_api_webhook_deliveries},
    {"POST", "/v1/webhooks/{}/test", RG_ROLE_ADMIN, false, rg_api_webhook_test},
    {"POST", "/v1/policies", RG_ROLE_OPERATOR, false, rg_api_policy_create},
    {"GET", "/v1/policies", RG_ROLE_VIEWER, false, rg_api_policy_list},
    {"DELETE", "/v1/policies/{}", RG_ROLE_OPERATOR, false,
     rg_api_policy_delete},
    {"GET", "/v1/endpoints", RG_ROLE_VIEWER, false, rg_api_endpoints_list},
    {"GET", "/v1/fleet", RG_ROLE_VIEWER, false, rg_api_fleet_summary},
    {"GET", "/v1/stream", RG_ROLE_VIEWER, false, rg_api_stream},
    {"GET", "/v1/endpoints/{}", RG_ROLE_VIEWER, false, rg_api_endpoint_get},
    {"POST", "/v1/endpoints/{}/reset-identity", RG_ROLE_OPERATOR, false,
     rg_api_endpoint_reset_identity},
    {"POST", "/v1/enrollment-keys", RG_ROLE_OPERATOR, false,
     rg_api_enroll_key_create},
    {"GET", "/v1/enrollment-keys", RG_ROLE_OPERATOR, false,
     rg_api_enroll_key_list},
    {"DELETE", "/v1/enrollment-keys/{}", RG_ROLE_OPERATOR, false,
     rg_api_enroll_key_revoke},
    {"PUT", "/v1/root", RG_ROLE_ADMIN, false, rg_api_root_put},
    {"GET", "/v1/root", RG_ROLE_VIEWER, false, rg_api_root_list},
    /* Feature flags (api_flags.c, api_unleash.c; docs/flags.md). */
    {"POST", "/v1/flags", RG_ROLE_OPERATOR, false, rg_api_flag_create},
    {"GET", "/v1/flags", RG_ROLE_VIEWER, false, rg_api_flag_list},
    {"GET", "/v1/flags/{}", RG_ROLE_VIEWER, false, rg_api_flag_get},
    {"PUT", "/v1/flags/{}", RG_ROLE_OPERATOR, false, rg_api_flag_update},
    {"POST", "/v1/flags/{}/enable", RG_ROLE_OPERATOR, false,
     rg_api_flag_enable},
    {"POST", "/v1/flags/{}/disable", RG_ROLE_OPERATOR, false,
     rg_api_flag_disable},
    {"POST", "/v1/flags/{}/eval", RG_ROLE_VIEWER, false, rg_api_flag_eval},
    /* Flag segments (api_segments.c; docs/flags.md). */
    {"POST", "/v1/segments", RG_ROLE_OPERATOR, false, rg_api_segment_create},
    {"GET", "/v1/segments", RG_ROLE_VIEWER, false, rg_api_segment_list},
    {"GET", "/v1/segments/{}", RG_ROLE_VIEWER, false, rg_api_segment_get},
    {"PUT", "/v1/segments/{}", RG_ROLE_OPERATOR, false, rg_api_segment_update},
    {"DELETE", "/v1/segments/{}", RG_ROLE_OPERATOR, false,
     rg_api_segment_delete},
    {"POST", "/v1/flags/{}/rollout", RG_ROLE_OPERATOR, false,
     rg_api_flag_rollout_start},
    {"GET", "/v1/flags/{}/rollout", RG_ROLE_VIEWER, false,
     rg_api_flag_rollout_get},
    {"POST", "/v1/flags/{}/rollout/pause", RG_ROLE_OPERATOR, false,
     rg_api_flag_rollout_pause},
    {"POST", "/v1/flags/{}/rollout/resume", RG_ROLE_OPERATOR, false,
     rg_api_flag_rollout_resume},
    {"POST", "/v1/flags/{}/rollout/abort", RG_ROLE_OPERATOR, false,
     rg_api_flag_rollout_abort},
    {"POST", "/v1/client-tokens", RG_ROLE_ADMIN, false,
     rg_api_client_token_create},
    {"GET", "/v1/client-tokens", RG_ROLE_ADMIN, false,
     rg_api_client_token_list},
    {"DELETE", "/v1/client-tokens/{}", RG_ROLE_ADMIN, false,
     rg_api_client_token_revoke},
    /* Unleash SDKs: the client token is checked by the handler. */
    {"GET", "/api/client/features", RG_ROLE_NONE, false,
     rg_api_client_features},
    {"POST", "/api/client/register", RG_ROLE_NONE, false, rg_api_client_accept},
    {"POST", "/api/client/metrics", RG_ROLE_NONE, false, rg_api_client_accept},
    /* Public: root metadata holds public keys only (api_root.c). */
    {"GET", "/v1/agent/root", RG_ROLE_NONE, false, rg_api_agent_root},
    /* Agent routes: the enrollment key or endpoint token is checked by the
     * handler (agent_api.h). */
    {"POST", "/v1/agent/enroll", RG_ROLE_NONE, false, rg_api_agent_enroll},
    {"POST", "/v1/agent/checkin", RG_ROLE_NONE, false, rg_api_agent_checkin},
    {"GET", "/v1/agent/artifacts/{}", RG_ROLE_NONE, false,
     rg_api_agent_artifact},
    /* No token: the URL's signature is checked by the handler
     * (url_sign.h), so that HTTP caches can serve it. */
    {"GET", "/v1/artifacts/{}", RG_ROLE_NONE, false, rg_api_artifact_get},
    {"GET", "/v1/public/artifacts/{}", RG_ROLE_NONE, false,
     rg_api_artifact_public},
};

const rg_route *rg_router_routes(size_t *n)
{
    *n = sizeof routes / sizeof *routes;
    return routes;
}

/* Matches path against pattern; "{}" segments are copied into scratch and
 * recorded in params. Returns true on a match. Literal segments are
 * compared byte by byte as both strings are walked (the check-in's route
 * is tried after most others: a route that differs stops at its first
 * differing byte). */
static bool match_one(const char *pattern, const char *path,
                      const char **params, size_t *n_params, char *scratch,
                      size_t cap)
{
    size_t np = 0, used = 0;
    const char *p = pattern, *s = path;
    while (*p && *s) {
        if (*p != '/' || *s != '/')
            return false;
        p++;
        s++;
        if (p[0] == '{' && p[1] == '}' && (p[2] == '/' || p[2] == '\0')) {
            size_t sl = strcspn(s, "/");
            if (sl == 0 || np == RG_HTTP_MAX_PARAMS)
                return false;
            if (params) {
                if (used + sl + 1 > cap)
                    return false;
                memcpy(scratch + used, s, sl);
                scratch[used + sl] = '\0';
                params[np] = scratch + used;
                used += sl + 1;
            }
            np++;
            p += 2;
            s += sl;
            continue;
        }
        while (*p && *p != '/' && *p == *s) {
            p++;
            s++;
        }
        /* Equal segments end together. */
        if ((*p && *p != '/') || (*s && *s != '/'))
            return false;
    }
    if (*p || *s)
        return false;
    if (n_params)
        *n_params = np;
    return true;
}

const rg_route *rg_router_match(const char *method, const char *path,
                                bool *path_known, const char **params,
                                size_t *n_params, char *scratch, size_t cap)
{
    size_t n = sizeof routes / sizeof *routes;
    /* Routes of this method first (a check-in matches paths of the POST
     * routes only); the others only to tell 405 from 404. */
    for (size_t i = 0; i < n; i++) {
        if (strcmp(routes[i].method, method) != 0 ||
            !match_one(routes[i].pattern, path, NULL, NULL, NULL, 0))
            continue;
        *path_known = true;
        if (params &&
            !match_one(routes[i].pattern, path, params, n_params, scratch, cap))
            return NULL;
        return &routes[i];
    }
    *path_known = false;
    for (size_t i = 0; i < n && !*path_known; i++)
        *path_known = match_one(routes[i].pattern, path, NULL, NULL, NULL, 0);
    return NULL;
}

/* Per-request router state, in req->route. */
typedef struct route_state {
    const rg_route *route;
    int64_t start_us;  /* monotonic, when the headers were in */
    char scratch[512]; /* path parameters */
} route_state;

static int64_t monotonic_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void begin(rg_server *srv, rg_req *req, rg_resp *resp)
{
    rg_err err;
    rg_err_clear(&err);
    route_state *st = calloc(1, sizeof *st);
    if (!st) {
        rg_resp_errorf(resp, RG_ENOMEM, NULL, "out of memory");
        return;
    }
    req->route = st;
    st->start_us = monotonic_us();
    rg_guard_tick(srv);
    bool known;
    st->route =
        rg_router_match(req->method, req->path, &known, req->params,
                        &req->n_params, st->scratch, sizeof st->scratch);
    if (!st->route) {
        if (known) {
            rg_resp_errorf(resp, RG_EINVAL, NULL,
                           "method %.16s is not allowed on %.128s", req->method,
                           req->path);
            resp->status = 405;
        } else {
            rg_resp_errorf(resp, RG_ENOTFOUND, NULL,
                           "no route for %.16s %.128s", req->method, req->path);
        }
        return;
    }
    if (st->route->role != RG_ROLE_NONE) {
        rg_caller *caller = NULL;
        rg_auth_fail why = {0};
        int rc = rg_auth_admin(srv, req, st->route->role, &caller, &why, &err);
        if (rc == RG_EAUTH) {
            rg_guard_auth_failed(srv, req, &err, why.reason, why.target, resp);
            return;
        }
        if (rc != 0) {
            rg_resp_error(resp, &err);
            return;
        }
        req->auth = caller;
        snprintf(req->actor, sizeof req->actor, "%s", caller->name);
    }
    if (st->route->handler == rg_api_agent_checkin) {
        rg_api_agent_checkin_begin(srv, req, resp);
        return;
    }
    if (st->route->upload && rg_api_artifact_sink(srv, req, &err) != 0)
        rg_resp_error(resp, &err);
}

/* A request's begin and its handling each see one configuration: a
 * reload waits for them (reload.h). */
static void on_begin(void *ctx, rg_req *req, rg_resp *resp)
{
    rg_server_cfg_rdlock(ctx);
    begin(ctx, req, resp);
    rg_server_cfg_unlock(ctx);
}

static void on_handle(void *ctx, rg_req *req, rg_resp *resp)
{
    route_state *st = req->route;
    rg_server_cfg_rdlock(ctx);
    st->route->handler(ctx, req, resp);
    rg_server_cfg_unlock(ctx);
}

/* The access log's line for req (access_log.h) and its latency
 * (http_metrics.h). */
static void note_answer(rg_server *srv, const rg_req *req, const rg_resp *resp)
{
    const route_state *st = req->route;
    rg_access_entry e = {
        .at_ms = rg_clock_now(srv->clock),
        .method = req->method,
        .route = st && st->route ? st->route->pattern : NULL,
        .path = req->path,
        .actor = req->actor,
        .client = req->client,
        .status = resp->status,
        .micros = st ? monotonic_us() - st->start_us : 0,
    };
    rg_access_log_write(srv->access, &e);
    rg_http_metrics_observe(
        st && st->route ? (size_t)(st->route - routes) : SIZE_MAX, e.micros);
}

static void on_end(void *ctx, rg_req *req, const rg_resp *resp)
{
    note_answer(ctx, req, resp);
    free(req->auth);
    req->auth = NULL;
    free(req->route);
    req->route = NULL;
}

void rg_router_app(rg_server *srv, rg_http_app *app)
{
    app->begin = on_begin;
    app->handle = on_handle;
    app->end = on_end;
    app->ctx = srv;
}
