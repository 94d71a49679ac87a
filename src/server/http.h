/*
 * http.h - the HTTP adapter: rollgated's only view of HTTP.
 *
 * http.c is the only file that includes microhttpd.h. It runs
 * libmicrohttpd with epoll and a thread per core, keeps connections alive,
 * caps request bodies (JSON routes at RG_HTTP_JSON_MAX, artifact uploads at
 * the configured artifact maximum, streamed to a sink instead of memory),
 * limits connections (in all and per address), idles out slow clients and
 * cuts those that do not send a whole request in time (conns.h).
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
#define RG_HTTP_ACTOR_MAX 144       /* "endpoint:" + an endpoint id + NUL */
#define RG_HTTP_HEADER_TIMEOUT_S 10 /* default request header deadline */
#define RG_HTTP_MIN_BODY_RATE 16384 /* default bytes/s of a request body */

typedef struct rg_req {
    const char *method; /* "GET", "POST", "PUT", "DELETE", ... */
    const char *path;   /* decoded path without the query string */
    const char *client; /* peer address as text, e.g. "127.0.0.1" */
    rg_buf body;        /* JSON body (routes without a body sink) */
    const char *params[RG_HTTP_MAX_PARAMS]; /* path parameters, in order,
                                               filled by the router */
    size_t n_params;
    void *conn;                    /* adapter-private */
    void *route;                   /* router-private: the matched route */
    void *auth;                    /* set by authentication: the caller */
    char actor[RG_HTTP_ACTOR_MAX]; /* who it was authenticated as, for the
                                      access log: a token name,
                                      "endpoint:ID", or "" */
    void *state; /* a parked handler's own state (rg_req_park), or NULL */
    void (*state_free)(void *state); /* frees state if the request ends
                                        before the handler took it back */
} rg_req;

/* A streamed answer of unknown length (Server-Sent Events, stream.h).
 * read fills up to max bytes of buf and returns how many (> 0); 0 when it
 * has nothing now, after parking the connection with rg_http_suspend (the
 * adapter reads again once someone calls rg_http_resume on it); < 0 ends
 * the answer. conn is the connection's handle, valid until release.
 * release is called once when the answer is over, whatever happened (also
 * when it never started); it frees ctx. */
typedef struct rg_resp_stream {
    long (*read)(void *ctx, void *conn, char *buf, size_t max);
    void (*release)(void *ctx);
    void *ctx;
} rg_resp_stream;

typedef struct rg_resp {
    int status;               /* HTTP status; 0 means "not filled" */
    const char *content_type; /* static string, e.g. "application/json" */
    char *body;               /* malloc'd, freed by the adapter */
    size_t len;
    int fd; /* >= 0: send len bytes of fd from offset
               (closed by the adapter) instead of body */
    uint64_t offset;
    char content_range[96];     /* "" or a Content-Range header value */
    char location[128];         /* "" or a Location header value */
    char etag[72];              /* "" or an ETag header value */
    char cache_control[64];     /* "" or a Cache-Control header value */
    int retry_after_s;          /* > 0: a Retry-After header (429 answers) */
    const char *const *headers; /* NULL, or more headers: a static list of
                                   name, value pairs ended by NULL */
    rg_resp_stream stream;      /* read non-NULL: a streamed answer */
} rg_resp;

/* Request header value (case-insensitive name) or NULL. */
const char *rg_req_header(const rg_req *req, const char *name);

/* Query-string argument value or NULL. */
const char *rg_req_query(const rg_req *req, const char *name);

/* Serialises v (steals the reference) as the JSON response with status.
 * Returns 0 or RG_ENOMEM (then resp is a 500). */
int rg_resp_json(rg_resp *resp, int status, json_t *v);

/* Sends the JSON text in b (built by the caller, e.g. with jsonw.h) with
 * status, taking b's memory (b is left empty). Returns 0 or RG_ENOMEM
 * (then resp is a 500). */
int rg_resp_json_buf(rg_resp *resp, int status, rg_buf *b);

/* Fills resp with the error shape
 *   {"error":{"code":"not_found","message":"...","field":"..."}}
 * and the HTTP status of err->code (rg_code_http_status). */
void rg_resp_error(rg_resp *resp, const rg_err *err);

/* Shorthand: builds an rg_err from code/field/message and sends it. */
void rg_resp_errorf(rg_resp *resp, int code, const char *field, const char *fmt,
                    ...) __attribute__((format(printf, 4, 5)));

/* --- added: the adapter's lifecycle, body sinks, file responses -------- */

/* A streaming body sink: a route that accepts raw bytes (PUT /v1/artifacts)
 * installs one from the app's begin callback, and the adapter hands it the
 * body in chunks instead of buffering it in req->body. write returns 0 or a
 * negative rg_code (err filled); the request then answers with that error.
 * release (may be NULL) is called exactly once when the request ends,
 * whatever happened; it frees ctx. max caps the body (413 above it). */
typedef struct rg_body_sink {
    int (*write)(void *ctx, const void *p, size_t n, rg_err *err);
    void (*release)(void *ctx);
    void *ctx;
    uint64_t max;
} rg_body_sink;

/* Installs sink for this request (copied). Call only from begin. */
void rg_req_set_sink(rg_req *req, const rg_body_sink *sink);

/* The installed sink's ctx, or NULL (borrowed; released by the adapter). */
void *rg_req_sink_ctx(const rg_req *req);

/* What the adapter calls for each request, from its worker threads:
 *  begin:  headers are in. Route and authenticate; either fill resp (the
 *          body is then discarded and resp sent) or leave resp->status 0,
 *          optionally installing a sink. Without a sink the body is
 *          buffered in req->body up to RG_HTTP_JSON_MAX.
 *  handle: the body is complete and no error is pending: fill resp.
 *  end:    the request is over (answered or aborted): free whatever begin
 *          attached to req (req->route, req->auth). Called once per begin.
 * ctx is passed to each; the caller owns it. */
typedef struct rg_http_app {
    void (*begin)(void *ctx, rg_req *req, rg_resp *resp);
    void (*handle)(void *ctx, rg_req *req, rg_resp *resp);
    void (*end)(void *ctx, rg_req *req, const rg_resp *resp); /* resp:
                                   what was answered (status 0: nothing) */
    void *ctx;
} rg_http_app;

typedef struct rg_http_opts {
    const char *listen;        /* "HOST:PORT" or "[V6]:PORT"; port 0: any */
    const char *tls_cert_pem;  /* NULL: plain HTTP; else HTTPS with this
                                  PEM certificate (chain), ... */
    const char *tls_key_pem;   /* ... and this PEM private key; both are
                                  copied by libmicrohttpd's TLS layer */
    unsigned threads;          /* worker threads (epoll each); 0: 1 */
    unsigned max_connections;  /* 0: 4096 */
    unsigned conn_timeout_s;   /* idle timeout; 0: 30 */
    unsigned max_per_address;  /* connections from one address; 0: any */
    unsigned header_timeout_s; /* each request's headers within this of the
                                  connection opening or the previous
                                  answer, and the grace of its body (see
                                  conns.h); 0: RG_HTTP_HEADER_TIMEOUT_S */
    uint64_t min_body_rate;    /* bytes/s a body must keep on average after
                                  that grace; 0: RG_HTTP_MIN_BODY_RATE */
} rg_http_opts;

typedef struct rg_http rg_http;

/* Starts listening and serving with app (copied). *out is owned by the
 * caller and stopped with rg_http_stop. With tls_cert_pem and tls_key_pem
 * it serves HTTPS only (libmicrohttpd over GnuTLS). Returns 0, RG_EINVAL
 * for a bad listen address or half a TLS configuration, RG_EIO when the
 * daemon cannot start (a certificate or key GnuTLS refuses included),
 * RG_EUNAVAIL when TLS is asked for and this libmicrohttpd has none. */
int rg_http_start(const rg_http_opts *opts, const rg_http_app *app,
                  rg_http **out, rg_err *err);

/* The port actually bound (useful with port 0). */
unsigned rg_http_port(const rg_http *h);

/* Stops accepting, closes connections, joins the threads, frees h. Every
 * begun request has had its end callback when this returns. NULL is ok. */
void rg_http_stop(rg_http *h);

/* Parks connection conn (from rg_resp_stream.read, inside that call
 * only) until rg_http_resume; rg_http_resume wakes a parked connection,
 * from any thread (never one that is not parked). Every parked connection
 * must be woken before rg_http_stop. */
void rg_http_suspend(void *conn);
void rg_http_resume(void *conn);

/* Whether the peer of parked connection conn has closed it (a parked
 * connection is not watched by the adapter). */
bool rg_http_peer_gone(void *conn);

/* Deferred answers. A handler (app.handle) waiting for slow work (a group
 * commit, store.h) parks its request: rg_req_park, keep what it needs in
 * req->state (and state_free), return with resp unfilled. Whoever finishes
 * the work calls rg_req_wake(req) once, from any thread; the adapter then
 * calls app.handle again for req on one of its threads, which answers (or
 * parks again). The connection costs no thread while parked. rg_req_park
 * returns 0, or RG_EUNAVAIL when the adapter is stopping (nothing parked:
 * answer now); rg_http_stop waits until every parked request was woken. */
int rg_req_park(rg_req *req);
void rg_req_wake(rg_req *req);

/* Parses a Range header value against a file of size bytes. Returns 0 when
 * hdr is NULL (send everything), 1 with *start, *len set for one
 * satisfiable range ("bytes=A-B", "bytes=A-", "bytes=-N"), or RG_ERANGE
 * when the header is malformed, has several ranges, or is unsatisfiable. */
int rg_http_range_parse(const char *hdr, uint64_t size, uint64_t *start,
                        uint64_t *len);

/* Answers with the bytes of fd (size bytes long), honouring req's Range
 * header: 200 with everything, 206 with Content-Range for one range, 416
 * with Content-Range "bytes *" "/SIZE" and the error shape when the range is
 * malformed or unsatisfiable. Takes ownership of fd in every case (the
 * adapter closes it after sending, or it is closed here on error).
 * Returns 0 or the rg_code of the error sent. */
int rg_resp_file(rg_resp *resp, const rg_req *req, int fd, uint64_t size);

#endif
