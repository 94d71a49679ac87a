/*
 * client.h - the agent's HTTP client for the agent API (docs/api.md):
 * enroll, check-in, artifact download with Range resume. libcurl, one
 * easy handle per client, blocking calls bounded by timeouts. Every
 * response body is capped. Not thread-safe: one client per thread.
 */
#ifndef RG_AGENT_CLIENT_H
#define RG_AGENT_CLIENT_H

#include "common/err.h"
#include "verify.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RG_CLIENT_MAX_JSON (4 << 20) /* cap on a JSON response body */

typedef struct rg_client {
    void *curl;                /* CURL * */
    char base[1024];           /* server URL without trailing slash */
    char token[128];           /* endpoint token, "" before enrolling */
    char ca_file[1024];        /* CA bundle for https, "" : system store */
    int64_t timeout_ms;        /* whole-request timeout for JSON calls; stall
                                  timeout for downloads */
    int64_t max_artifact;      /* bytes */
    int64_t min_rate;          /* bytes/s a download must average over
                                  timeout_ms, else it is cut (default 1) */
    int (*progress)(void *ud); /* called often (at least once a second)
                                  during every request; non-zero aborts
                                  it. NULL: none */
    void *progress_ud;
    char *const *mirrors; /* base URLs tried first for downloads at the
                             server's own paths (borrowed), or NULL */
    size_t n_mirrors;
} rg_client;

/* Initialises c for base (min_rate 1 byte/s, no progress callback: set
 * the fields after). Returns 0 or RG_EINTERNAL. Release with
 * rg_client_release. Call curl_global_init once before (main does). */
int rg_client_init(rg_client *c, const char *base, int64_t timeout_ms,
                   int64_t max_artifact, rg_err *err);

void rg_client_release(rg_client *c);

/* Verifies an https server against the CA certificates of the PEM file
 * path instead of the system's trust store; the peer and its host name
 * are always verified. Returns 0 or RG_EINVAL (path too long). */
int rg_client_set_ca(rg_client *c, const char *path, rg_err *err);

/* POSTs body to path (with the bearer token when auth) and parses the
 * JSON answer into *out (caller decrefs). Returns 0; RG_EUNAVAIL when the
 * server cannot be reached or answers 5xx; RG_EAUTH on 401; RG_EFORBIDDEN,
 * RG_EINVAL, RG_ENOTFOUND, RG_ECONFLICT, RG_ETOOBIG for the matching 4xx
 * (message from the server's error body). */
int rg_client_post(rg_client *c, const char *path, const json_t *body, int auth,
                   json_t **out, rg_err *err);

/* GETs path without credentials (public routes: GET /v1/agent/root) and
 * parses the JSON object answer into *out (caller decrefs). Same returns
 * as rg_client_post. */
int rg_client_get(rg_client *c, const char *path, json_t **out, rg_err *err);

/* Resolves ref (a path such as /v1/agent/artifacts/<sha256>, or an
 * absolute URL) against the server's base URL with libcurl's URL parser,
 * never by concatenation, into out (cap bytes). Sets *origin when the
 * result has the base's scheme, host and port. Returns 0, or RG_EINVAL for
 * what is not an http(s) URL, carries user information, or exceeds cap. */
int rg_client_resolve(const rg_client *c, const char *ref, char *out,
                      size_t cap, bool *origin, rg_err *err);

/* Downloads url_path (resolved by rg_client_resolve: the bearer token is
 * sent only when it is on the server's origin) into part_path, resuming from
 * the bytes already there with `Range: bytes=N-`, refusing anything
 * larger than want->size or c->max_artifact, then fsyncs and verifies it
 * (rg_agent_verify_file). A part file that fails verification is removed.
 * A transfer slower than c->min_rate over c->timeout_ms is cut
 * (RG_EUNAVAIL); the bytes received stay in part_path and the next call
 * resumes after them. A url_path on the server's origin ("/v1/...") is
 * first fetched from each of c->mirrors in turn (same path and query, no
 * token); a mirror that fails or serves bytes that do not verify is logged
 * and the next source tried, the server last. Returns 0 or an rg_code
 * (RG_EUNAVAIL also when c->progress aborted it). */
int rg_client_download(rg_client *c, const char *url_path,
                       const char *part_path, const rg_artifact_want *want,
                       rg_err *err);

#endif
