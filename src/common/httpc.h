/*
 * httpc.h - one HTTP request over a libcurl easy handle: the one place
 * where the agent (agent/client.c), the CLI (cli/client.c) and the
 * simulator's live mode (sim/live.c) set curl up and read its answer.
 *
 * Every request: no signals, only http and https, the TLS peer and host
 * name always verified (against req->ca_file when given, else the system
 * store), the answer's body into a capped rg_buf. What a status means is
 * the caller's business: each maps it to its own errors.
 *
 * Not thread-safe per handle. curl_global_init must have been called.
 */
#ifndef RG_HTTPC_H
#define RG_HTTPC_H

#include "common/buf.h"

#include <curl/curl.h>
#include <stdbool.h>

/* One request. Strings are borrowed for the call. */
typedef struct rg_httpc_req {
    const char *url;
    const char *method;         /* NULL: GET, or POST when body is set */
    const char *token;          /* bearer token; NULL or "": none */
    const char *body;           /* NUL-terminated request body, or NULL */
    const char *content_type;   /* of the body (or upload), or NULL */
    const char *accept;         /* Accept header, or NULL */
    const char *user_agent;     /* or NULL */
    const char *const *headers; /* more "Name: value" lines, NULL-ended,
                                   or NULL */
    const char *ca_file;        /* CA bundle (PEM); NULL or "": the system's */
    long timeout_ms;            /* whole request; 0: none */
    long connect_timeout_ms;    /* 0: curl's default */
    /* Called often (at least once a second) during the request; non-zero
     * aborts it. NULL: none. */
    int (*progress)(void *ud);
    void *progress_ud;
} rg_httpc_req;

/* How a request ended. */
typedef struct rg_httpc_res {
    long status;                 /* HTTP status, 0 when none arrived */
    CURLcode cc;                 /* curl's result */
    bool too_big;                /* the body overflowed the buffer's cap */
    char error[CURL_ERROR_SIZE]; /* curl's message when cc != CURLE_OK */
} rg_httpc_res;

/* Sets on h what every request shares (see above) and req's TLS and
 * progress settings; the download path of the agent uses it alone. */
void rg_httpc_setup(CURL *h, const rg_httpc_req *req);

/* Performs req on h, appending the answer's body to resp (its cap
 * applies). Options the caller set on h since its last curl_easy_reset
 * stay (an upload's). Returns 0 when an answer arrived (res->status set,
 * whatever it is), RG_ETOOBIG when its body overflowed resp, RG_ENOMEM,
 * or RG_EUNAVAIL when none arrived (res->error says why). */
int rg_httpc_perform(CURL *h, const rg_httpc_req *req, rg_buf *resp,
                     rg_httpc_res *res);

#endif
