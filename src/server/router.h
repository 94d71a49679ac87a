/*
 * router.h - rollgated's route table: method + path pattern -> handler,
 * with the admin role each route requires.
 *
 * The router is the rg_http_app the adapter calls: on headers it matches
 * the route (404 unknown path, 405 known path with another method),
 * authenticates admin routes (401/403, see auth.h), and for PUT
 * /v1/artifacts installs the artifact upload as the body sink; once the
 * body is in it calls the handler. Path parameters ("{}" segments) land in
 * req->params in order. Routes with role RG_ROLE_NONE (health, metrics,
 * agent routes) get no admin check: agent handlers check endpoint tokens
 * themselves.
 */
#ifndef RG_ROUTER_H
#define RG_ROUTER_H

#include "server/http.h"
#include "server/server.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct rg_route {
    const char *method;  /* "GET", "POST", "PUT", "DELETE" */
    const char *pattern; /* "/v1/rollouts/{}/pause"; "{}" is one segment */
    int role;            /* rg_role needed (auth.h) */
    bool upload;         /* raw body streamed to an artifact upload */
    rg_handler handler;
} rg_route;

/* The route table (static; *n receives its length). */
const rg_route *rg_router_routes(size_t *n);

/* Finds the route for method and path. Returns the route, or NULL with
 * *path_known telling whether some route has this path (405 vs 404).
 * When params is non-NULL, the "{}" segments of path are copied into
 * scratch (cap bytes, NUL-separated) and pointed to by params[0..]. */
const rg_route *rg_router_match(const char *method, const char *path,
                                bool *path_known, const char **params,
                                size_t *n_params, char *scratch, size_t cap);

/* Fills app with the router serving srv (srv must outlive the daemon). */
void rg_router_app(rg_server *srv, rg_http_app *app);

#endif
