/*
 * http.h - the HTTP adapter: rollgated's only view of HTTP.
 *
 * http.c is the only file that includes microhttpd.h. It runs
 * libmicrohttpd with epoll and a thread per core, keeps connections alive,
 * caps request bodies (JSON routes at RG_HTTP_JSON_MAX, artifact uploads at
 * the configured artifact maximum, streamed to a sink instead of memory),
 * limits connections and idles out slow clients.
 *
 * Handlers see an rg_req and fill an rg_resp. Both live for one request;
 * the adapter frees whatever the response holds after sending it.
 */
#ifndef RG_HTTP_H
#define RG_HTTP_H

#include "common/buf.h"
#include "common/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define RG_HTTP_JSON_MAX (1u << 20) /* 1 MiB: JSON request bodies */
#define RG_HTTP_MAX_PARAMS 4

typedef struct rg_req {
    const char *method;        /* "GET", "POST", "PUT", "DELETE", ... */
    const char *path;          /* decoded path without the query string */
    const char *client;        /* peer address as text, e.g. "127.0.0.1" */
    rg_buf body;               /* JSON body (routes without a body sink) */
    const char *params[RG_HTTP_MAX_PARAMS]; /* path parameters, in order,
                                               filled by the router */
    size_t n_params;
    void *conn;                /* adapter-private */
    void *route;               /* router-private: the matched route */
    void *auth;                /* set by authentication: the caller */
} rg_req;

typedef struct rg_resp {
    int status;                /* HTTP status; 0 means "not filled" */
    const char *content_type;  /* static string, e.g. "application/json" */
    char *body;                /* malloc'd, freed by the adapter */
    size_t len;
    int fd;                    /* >= 0: send len bytes of fd from offset
                                  (closed by the adapter) instead of body */
    uint64_t offset;
    char content_range[96];    /* "" or a Content-Range header value */
    char location[128];        /* "" or a Location header value */
} rg_resp;

/* Request header value (case-insensitive name) or NULL. */
const char *rg_req_header(const rg_req *req, const char *name);

/* Query-string argument value or NULL. */
const char *rg_req_query(const rg_req *req, const char *name);

/* Serialises v (steals the reference) as the JSON response with status.
 * Returns 0 or RG_ENOMEM (then resp is a 500). */
int rg_resp_json(rg_resp *resp, int status, json_t *v);

/* Fills resp with the error shape
 *   {"error":{"code":"not_found","message":"...","field":"..."}}
 * and the HTTP status of err->code (rg_code_http_status). */
void rg_resp_error(rg_resp *resp, const rg_err *err);

/* Shorthand: builds an rg_err from code/field/message and sends it. */
void rg_resp_errorf(rg_resp *resp, int code, const char *field,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
