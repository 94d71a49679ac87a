/*
 * client.h - the rollgate CLI's HTTP client: libcurl under the admin API.
 *
 * One rg_cli_http per process holds a curl easy handle (so several calls
 * reuse the connection), the base URL and the bearer token. Every call has
 * a connect timeout, a total timeout (uploads: a minimum transfer speed
 * instead), and a capped response buffer. JSON in, JSON out: a 2xx answer
 * must be a JSON object; a 4xx/5xx answer's {"error": {"code", "message",
 * "field"}} becomes the rg_err (code mapped back from its name, message
 * and field copied). After each call `status` holds the HTTP status, or 0
 * when no answer arrived; the caller uses it to tell "the server said no"
 * (4xx) from "the server is unreachable or broken" (0, 5xx).
 *
 * Not thread-safe. curl_global_init must have been called.
 */
#ifndef RG_CLI_CLIENT_H
#define RG_CLI_CLIENT_H

#include "cli/config.h"
#include "common/buf.h"
#include "common/err.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#define RG_CLI_RESPONSE_MAX (64u * 1024 * 1024)

typedef struct rg_cli_http {
    CURL *curl;                    /* owned */
    char url[RG_CLI_URL_MAX];      /* base URL, no trailing '/' */
    char token[RG_CLI_TOKEN_MAX];  /* bearer token, "" for none */
    char ca_file[RG_CLI_PATH_MAX]; /* CA bundle for https, "" : system */
    long connect_timeout_ms;       /* default 5000 */
    long timeout_ms;               /* JSON calls, default 60000 */
    size_t max_response;           /* default RG_CLI_RESPONSE_MAX */
    long status;                   /* HTTP status of the last call, 0: none */
} rg_cli_http;

/* Prepares h for url (no trailing '/') and token ("" for none). Returns 0,
 * RG_EINVAL when a value is too long, or RG_ENOMEM. Release with
 * rg_cli_http_release. */
int rg_cli_http_init(rg_cli_http *h, const char *url, const char *token,
                     rg_err *err);

/* Verifies https servers against the CA certificates of the PEM file path
 * instead of the system's trust store (peer and host name are always
 * verified). Returns 0 or RG_EINVAL when the path is too long. */
int rg_cli_http_set_ca(rg_cli_http *h, const char *path, rg_err *err);

/* Frees the curl handle. Safe on a zeroed or released h. */
void rg_cli_http_release(rg_cli_http *h);

/* Sends method path (path starts with '/', query included) with body
 * serialised as JSON (NULL: no body). On a 2xx answer stores the parsed
 * object in *out (new reference, caller json_decref's) and returns 0.
 * Otherwise returns negative with err filled: the server's error for
 * 4xx/5xx, RG_EUNAVAIL when the server cannot be reached or timed out,
 * RG_ETOOBIG when the answer is over max_response, RG_EINTERNAL when a
 * 2xx answer is not a JSON object. */
int rg_cli_http_json(rg_cli_http *h, const char *method, const char *path,
                     const json_t *body, json_t **out, rg_err *err);

/* PUTs size bytes read from f to path as application/octet-stream;
 * answers as rg_cli_http_json. f stays open (caller closes it). */
int rg_cli_http_upload(rg_cli_http *h, const char *path, FILE *f, uint64_t size,
                       json_t **out, rg_err *err);

/* Fills err from an error answer: status and its body (len bytes, may be
 * empty or not JSON). The rg_code comes from the body's error.code name
 * ("conflict" -> RG_ECONFLICT), else from the status (404 ->
 * RG_ENOTFOUND, 5xx -> RG_EINTERNAL...). Returns that code (negative). */
int rg_cli_http_error(long status, const char *body, size_t len, rg_err *err);

/* Appends s to b percent-encoded for a URL path segment or query value
 * (every byte outside A-Z a-z 0-9 - . _ ~). Returns rg_buf's error. */
int rg_cli_url_escape(rg_buf *b, const char *s);

/* Appends "?key=value" (or "&key=value" when b already has a '?'), with
 * value escaped. Returns rg_buf's error. */
int rg_cli_query_add(rg_buf *b, const char *key, const char *value);

#endif
