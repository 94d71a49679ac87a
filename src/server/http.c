/* http.c - see http.h. The only file that includes microhttpd.h.
 *
 * One exchange per request, created on the access handler's first call
 * (headers in). Responses are queued on a later call, never the first one,
 * unless the request must be cut short (its declared body is over the cap,
 * it is refused and its body has no declared length, or its framing is
 * ambiguous): libmicrohttpd treats a response queued on the first call as
 * "early" and closes the connection after it, which would cost every client
 * its keep-alive. */
#include "http.h"

#include "common/clock.h"
#include "common/json.h"
#include "common/log.h"
#include "server/conns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

struct rg_http {
    struct MHD_Daemon *daemon;
    rg_http_app app;
    unsigned port;
    rg_conns *conns; /* request deadlines of the live connections */
    /* libmicrohttpd's messages in the current window (on_log) */
    _Atomic int64_t log_window_ms;
    _Atomic uint64_t log_shown, log_hidden;
    pthread_mutex_t park_mu;
    pthread_cond_t park_cv; /* a parked request was woken */
    unsigned parked;        /* requests parked now */
    bool stopping;          /* no more parking */
};

typedef struct exchange {
    rg_req req;
    rg_resp resp;
    struct MHD_Connection *mc;
    rg_http *h;
    rg_conn *conn; /* its connection's deadlines (NULL: not timed) */
    rg_body_sink sink;
    bool has_sink;
    uint64_t received; /* body bytes seen so far */
    uint64_t limit;    /* body cap for this request */
    bool queued;
    bool parked; /* the handler parked it (rg_req_park) */
    char client[64];
} exchange;

static const char json_ctype[] = "application/json";

/* Each connection's libmicrohttpd memory pool (request line, headers, read
 * buffer, response header). libmicrohttpd zeroes the used pool between
 * keep-alive requests, so its default 32 KiB cost a 32-48 KiB memset per
 * check-in; 8 KiB still takes request headers of several KiB (larger ones
 * are answered 431 by libmicrohttpd) and bodies stream through it in
 * chunks (bench/checkin/README.md). */
#define CONN_MEMORY (8 * 1024)

/* --- request accessors ---------------------------------------------- */

const char *rg_req_header(const rg_req *req, const char *name)
{
    if (!req->conn)
        return NULL;
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *rg_req_query(const rg_req *req, const char *name)
{
    if (!req->conn)
        return NULL;
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

void rg_req_set_sink(rg_req *req, const rg_body_sink *sink)
{
    exchange *x = (exchange *)req; /* req is the exchange's first member */
    x->sink = *sink;
    x->has_sink = true;
}

void *rg_req_sink_ctx(const rg_req *req)
{
    const exchange *x = (const exchange *)req;
    return x->has_sink ? x->sink.ctx : NULL;
}

/* --- responses ------------------------------------------------------ */

static void resp_clear(rg_resp *resp)
{
    if (resp->stream.release)
        resp->stream.release(resp->stream.ctx);
    memset(&resp->stream, 0, sizeof resp->stream);
    free(resp->body);
    resp->body = NULL;
    resp->len = 0;
    if (resp->fd >= 0)
        close(resp->fd);
    resp->fd = -1;
    resp->offset = 0;
    resp->content_range[0] = '\0';
    resp->etag[0] = '\0';
    resp->cache_control[0] = '\0';
}

/* The last-resort answer when even the error body cannot be built. */
static void resp_oom(rg_resp *resp)
{
    resp_clear(resp);
    resp->status = 500;
    resp->content_type = json_ctype;
}

int rg_resp_json(rg_resp *resp, int status, json_t *v)
{
    char *s = v ? rg_json_dump(v) : NULL;
    json_decref(v);
    resp_clear(resp);
    resp->content_type = json_ctype;
    if (!s) {
        resp->status = 500;
        return RG_ENOMEM;
    }
    resp->status = status;
    resp->body = s;
    resp->len = strlen(s);
    return 0;
}

int rg_resp_json_buf(rg_resp *resp, int status, rg_buf *b)
{
    size_t len = b->len;
    char *s = rg_buf_detach(b);
    resp_clear(resp);
    resp->content_type = json_ctype;
    if (!s) {
        resp->status = 500;
        return RG_ENOMEM;
    }
    resp->status = status;
    resp->body = s;
    resp->len = len;
    return 0;
}

/* Copies s into out (cap bytes) with every byte outside printable ASCII
 * replaced by '?': always valid UTF-8. */
static void ascii_copy(char *out, size_t cap, const char *s)
{
    size_t n = 0;
    for (; s[n] && n + 1 < cap; n++) {
        unsigned char c = (unsigned char)s[n];
        out[n] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    out[n] = '\0';
}

void rg_resp_error(rg_resp *resp, const rg_err *err)
{
    int code = err->code == RG_OK ? RG_EINTERNAL : err->code;
    const char *msg = err->msg[0] ? err->msg : rg_code_name(code);
    json_t *e =
        json_pack("{s:{s:s,s:s,s:s}}", "error", "code", rg_code_name(code),
                  "message", msg, "field", err->field);
    if (!e) {
        /* A message or field quoting invalid UTF-8 from the request (a
         * JSON parser's error excerpt, say): send it as ASCII. Found by
         * tests/fuzz/fuzz_server_request.c. */
        char m[sizeof err->msg], f[sizeof err->field];
        ascii_copy(m, sizeof m, msg);
        ascii_copy(f, sizeof f, err->field);
        e = json_pack("{s:{s:s,s:s,s:s}}", "error", "code", rg_code_name(code),
                      "message", m, "field", f);
    }
    if (!e) {
        resp_oom(resp);
        return;
    }
    rg_resp_json(resp, rg_code_http_status(code), e);
}

void rg_resp_errorf(rg_resp *resp, int code, const char *field, const char *fmt,
                    ...)
{
    rg_err err;
    rg_err_clear(&err);
    err.code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err.msg, sizeof err.msg, fmt, ap);
    va_end(ap);
    snprintf(err.field, sizeof err.field, "%s", field ? field : "");
    rg_resp_error(resp, &err);
}

/* Parses a decimal uint64 of s[0..n) (digits only, no overflow). */
static int parse_u64(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    if (n == 0 || n > 19)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return 0;
}

int rg_http_range_parse(const char *hdr, uint64_t size, uint64_t *start,
                        uint64_t *len)
{
    if (!hdr)
        return 0;
    if (strncmp(hdr, "bytes=", 6) != 0)
        return RG_ERANGE;
    const char *spec = hdr + 6;
    const char *dash = strchr(spec, '-');
    if (!dash || strchr(spec, ','))
        return RG_ERANGE;
    size_t first_n = (size_t)(dash - spec);
    const char *last = dash + 1;
    size_t last_n = strlen(last);
    uint64_t a, b;
    if (first_n == 0) { /* bytes=-N: the last N bytes */
        if (parse_u64(last, last_n, &b) != 0 || b == 0 || size == 0)
            return RG_ERANGE;
        if (b > size)
            b = size;
        *start = size - b;
        *len = b;
        return 1;
    }
    if (parse_u64(spec, first_n, &a) != 0 || a >= size)
        return RG_ERANGE;
    if (last_n == 0) { /* bytes=A- */
        *start = a;
        *len = size - a;
        return 1;
    }
    if (parse_u64(last, last_n, &b) != 0 || b < a)
        return RG_ERANGE;
    if (b >= size)
        b = size - 1;
    *start = a;
    *len = b - a + 1;
    return 1;
}

int rg_resp_file(rg_resp *resp, const rg_req *req, int fd, uint64_t size)
{
    uint64_t start = 0, len = size;
    int rc =
        rg_http_range_parse(rg_req_header(req, "Range"), size, &start, &len);
    if (rc < 0) {
        close(fd);
        rg_resp_errorf(resp, RG_ERANGE, "Range",
                       "range '%s' cannot be satisfied for %" PRIu64 " bytes",
                       rg_req_header(req, "Range"), size);
        snprintf(resp->content_range, sizeof resp->content_range,
                 "bytes */%" PRIu64, size);
        return RG_ERANGE;
    }
    resp_clear(resp);
    resp->fd = fd;
    resp->offset = start;
    resp->len = (size_t)len;
    resp->content_type = "application/octet-stream";
    resp->status = rc == 1 ? 206 : 200;
    if (rc == 1)
        snprintf(resp->content_range, sizeof resp->content_range,
                 "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, start,
                 start + len - 1, size);
    return 0;
}

/* A streamed answer's connection and reader (rg_resp_stream). */
typedef struct stream_ctx {
    rg_resp_stream s;
    struct MHD_Connection *mc;
} stream_ctx;

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    stream_ctx *sc = cls;
    (void)pos;
    long n = sc->s.read(sc->s.ctx, sc->mc, buf, max);
    return n < 0 ? MHD_CONTENT_READER_END_OF_STREAM : (ssize_t)n;
}

static void stream_free(void *cls)
{
    stream_ctx *sc = cls;
    if (sc->s.release)
        sc->s.release(sc->s.ctx);
    free(sc);
}

/* The response of a streamed answer; takes resp->stream in every case. */
static struct MHD_Response *stream_response(exchange *x)
{
    stream_ctx *sc = calloc(1, sizeof *sc);
    if (!sc)
        return NULL; /* resp_clear releases the stream */
    sc->s = x->resp.stream;
    sc->mc = x->mc;
    memset(&x->resp.stream, 0, sizeof x->resp.stream);
    struct MHD_Response *r = MHD_create_response_from_callback(
        MHD_SIZE_UNKNOWN, 4096, stream_read, sc, stream_free);
    if (!r)
        stream_free(sc);
    return r;
}

void rg_http_suspend(void *conn)
{
    MHD_suspend_connection(conn);
}

void rg_http_resume(void *conn)
{
    MHD_resume_connection(conn);
}

bool rg_http_peer_gone(void *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!ci)
        return false;
    struct pollfd p = {.fd = ci->connect_fd, .events = POLLRDHUP};
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

int rg_req_park(rg_req *req)
{
    exchange *x = (exchange *)req; /* req is the exchange's first member */
    rg_http *h = x->h;
    pthread_mutex_lock(&h->park_mu);
    bool ok = !h->stopping;
    if (ok)
        h->parked++;
    pthread_mutex_unlock(&h->park_mu);
    if (!ok)
        return RG_EUNAVAIL;
    x->parked = true;
    MHD_suspend_connection(x->mc); /* before anyone can wake it */
    return 0;
}

void rg_req_wake(rg_req *req)
{
    exchange *x = (exchange *)req;
    rg_http *h = x->h; /* x may be gone once resumed; h outlives parking */
    MHD_resume_connection(x->mc);
    pthread_mutex_lock(&h->park_mu);
    h->parked--;
    pthread_cond_broadcast(&h->park_cv);
    pthread_mutex_unlock(&h->park_mu);
}

/* Hands resp to libmicrohttpd. Returns MHD_YES or MHD_NO (close). */
static enum MHD_Result queue(exchange *x)
{
    rg_resp *resp = &x->resp;
    struct MHD_Response *r = NULL;
    rg_conns_answering(x->h->conns, x->conn);
    if (resp->status == 0)
        rg_resp_errorf(resp, RG_EINTERNAL, NULL, "handler sent no response");
    if (resp->stream.read) {
        r = stream_response(x);
    } else if (resp->fd >= 0) {
        r = MHD_create_response_from_fd_at_offset64(resp->len, resp->fd,
                                                    resp->offset);
        if (r)
            resp->fd = -1; /* the response closes it */
    } else {
        r = MHD_create_response_from_buffer(resp->len, resp->body,
                                            MHD_RESPMEM_MUST_FREE);
        if (r)
            resp->body = NULL; /* the response frees it */
    }
    if (!r)
        return MHD_NO;
    if (resp->content_type)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                resp->content_type);
    if (resp->content_range[0])
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_RANGE,
                                resp->content_range);
    if (resp->location[0])
        MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, resp->location);
    if (resp->etag[0])
        MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, resp->etag);
    if (resp->cache_control[0])
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
                                resp->cache_control);
    if (resp->retry_after_s > 0) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", resp->retry_after_s);
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, ra);
    }
    if (resp->content_type && strcmp(resp->content_type, json_ctype) != 0)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
    for (const char *const *hd = resp->headers; hd && hd[0]; hd += 2)
        MHD_add_response_header(r, hd[0], hd[1]);
    enum MHD_Result ret = MHD_queue_response(x->mc, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    x->queued = ret == MHD_YES;
    return ret;
}

/* --- the access handler --------------------------------------------- */

/* Counts the Content-Length headers of a request and whether their values
 * differ. */
typedef struct length_headers {
    unsigned n;
    bool differ;
    const char *first;
} length_headers;

static enum MHD_Result count_length(void *cls, enum MHD_ValueKind kind,
                                    const char *key, const char *value)
{
    length_headers *lh = cls;
    (void)kind;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) != 0)
        return MHD_YES;
    if (!value)
        value = "";
    if (lh->n++ == 0)
        lh->first = value;
    else if (strcmp(lh->first, value) != 0)
        lh->differ = true;
    return MHD_YES;
}

/* The request's framing is ambiguous (RFC 9112 6.1, 6.3): Content-Length
 * headers that disagree, or Content-Length beside Transfer-Encoding. Such
 * a request is answered 400 and its connection closed: a proxy in front
 * may have framed it otherwise (request smuggling). Fills resp then. */
static bool framing_invalid(struct MHD_Connection *mc, rg_resp *resp)
{
    length_headers lh = {0};
    MHD_get_connection_values(mc, MHD_HEADER_KIND, count_length, &lh);
    if (lh.differ) {
        rg_resp_errorf(resp, RG_EINVAL, "Content-Length",
                       "conflicting Content-Length headers");
        return true;
    }
    if (lh.n > 0 &&
        MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "Transfer-Encoding")) {
        rg_resp_errorf(resp, RG_EINVAL, "Content-Length",
                       "Content-Length and Transfer-Encoding together");
        return true;
    }
    return false;
}

/* Declared body length: 0 none, UINT64_MAX unknown (chunked). */
static uint64_t declared_length(struct MHD_Connection *mc)
{
    const char *te =
        MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "Transfer-Encoding");
    if (te && strcasestr(te, "chunked"))
        return UINT64_MAX;
    const char *cl =
        MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "Content-Length");
    uint64_t n = 0;
    if (cl && parse_u64(cl, strlen(cl), &n) != 0)
        return UINT64_MAX;
    return n;
}

static void peer_address(struct MHD_Connection *mc, char *out, size_t cap)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    out[0] = '\0';
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET && cap >= INET_ADDRSTRLEN) {
        /* Dotted quad by hand: inet_ntop formats through sprintf, a
         * visible cost on every check-in. */
        const unsigned char *b =
            (const unsigned char *)&(
                (const struct sockaddr_in *)(const void *)sa)
                ->sin_addr;
        size_t n = 0;
        for (int i = 0; i < 4; i++) {
            if (i)
                out[n++] = '.';
            if (b[i] >= 100)
                out[n++] = (char)('0' + b[i] / 100);
            if (b[i] >= 10)
                out[n++] = (char)('0' + b[i] / 10 % 10);
            out[n++] = (char)('0' + b[i] % 10);
        }
        out[n] = '\0';
    } else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6,
                  &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
                  out, (socklen_t)cap);
}

static exchange *exchange_new(rg_http *h, struct MHD_Connection *mc,
                              const char *url, const char *method)
{
    exchange *x = calloc(1, sizeof *x);
    if (!x)
        return NULL;
    x->mc = mc;
    x->h = h;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    x->conn = ci ? ci->socket_context : NULL;
    rg_conns_headers_in(h->conns, x->conn);
    x->req.method = method;
    x->req.path = url;
    x->req.conn = mc;
    peer_address(mc, x->client, sizeof x->client);
    x->req.client = x->client;
    rg_buf_init(&x->req.body, RG_HTTP_JSON_MAX);
    x->resp.fd = -1;
    h->app.begin(h->app.ctx, &x->req, &x->resp);
    x->limit = x->resp.status != 0 ? RG_HTTP_JSON_MAX /* discard budget */
               : x->has_sink       ? x->sink.max
                                   : RG_HTTP_JSON_MAX;
    return x;
}

static void too_large(exchange *x)
{
    rg_resp_errorf(&x->resp, RG_ETOOBIG, NULL,
                   "request body is larger than %" PRIu64 " bytes", x->limit);
}

/* Takes n body bytes: into the sink, the JSON buffer, or the bin when an
 * answer is already decided. libmicrohttpd accepts no response while a body
 * is arriving, so a body of unknown length that overflows its cap is
 * answered (413) when it ends; the bin takes at most RG_HTTP_JSON_MAX bytes
 * past the cap (or, for a request refused before its body, RG_HTTP_JSON_MAX
 * in all). Returns false when even that is exceeded: the connection is then
 * dropped without an answer. */
static bool take_body(exchange *x, const char *data, size_t n)
{
    if (n > x->limit - x->received) {
        if (x->resp.status != 0)
            return false; /* refused and past its discard budget */
        too_large(x);
        x->limit = x->received + RG_HTTP_JSON_MAX;
        if (n > RG_HTTP_JSON_MAX)
            return false;
    }
    x->received += n;
    rg_conns_body(x->conn, n);
    if (x->resp.status != 0)
        return true; /* discarded */
    rg_err err;
    rg_err_clear(&err);
    if (x->has_sink) {
        if (x->sink.write(x->sink.ctx, data, n, &err) != 0)
            rg_resp_error(&x->resp, &err);
    } else if (rg_buf_add(&x->req.body, data, n) != 0) {
        too_large(x);
        return false;
    }
    return true;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *mc,
                                 const char *url, const char *method,
                                 const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls)
{
    rg_http *h = cls;
    exchange *x = *con_cls;
    if (!x) {
        x = exchange_new(h, mc, url, method);
        if (!x)
            return MHD_NO;
        *con_cls = x;
        if (framing_invalid(mc, &x->resp))
            return queue(x); /* early: closes the connection */
        uint64_t declared = declared_length(mc);
        if (declared == UINT64_MAX && x->resp.status != 0)
            return queue(x); /* refused, body of unknown length: never read */
        if (declared != UINT64_MAX && declared > x->limit) {
            /* Cut short now: the body is never read. */
            if (x->resp.status == 0)
                too_large(x);
            return queue(x);
        }
        /* A JSON body of declared length: one allocation for all of it.
         * Failing here is no error (the buffer grows as bytes come). */
        if (declared != UINT64_MAX && declared > 0 && !x->has_sink &&
            x->resp.status == 0)
            (void)rg_buf_reserve(&x->req.body, (size_t)declared);
        return MHD_YES; /* answer on a later call: keeps the connection */
    }
    if (x->queued) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        bool go_on = take_body(x, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return go_on ? MHD_YES : MHD_NO;
    }
    rg_conns_answering(h->conns, x->conn); /* the handler is not timed */
    x->parked = false;
    if (x->resp.status == 0)
        h->app.handle(h->app.ctx, &x->req, &x->resp);
    return x->parked ? MHD_YES : queue(x);
}

static void on_completed(void *cls, struct MHD_Connection *mc, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    rg_http *h = cls;
    exchange *x = *con_cls;
    if (!x)
        return;
    rg_conns_waiting(h->conns, x->conn); /* for the next request, if any */
    h->app.end(h->app.ctx, &x->req, &x->resp);
    if (x->req.state && x->req.state_free)
        x->req.state_free(x->req.state);
    if (x->has_sink && x->sink.release)
        x->sink.release(x->sink.ctx);
    rg_buf_release(&x->req.body);
    resp_clear(&x->resp);
    free(x);
    *con_cls = NULL;
}

/* Connections opened and closed: tracked for their request deadlines. */
static void on_connection(void *cls, struct MHD_Connection *mc,
                          void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    rg_http *h = cls;
    if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        rg_conns_remove(h->conns, *socket_context);
        *socket_context = NULL;
        return;
    }
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
    *socket_context = ci ? rg_conns_add(h->conns, ci->connect_fd) : NULL;
}

/* libmicrohttpd logs every connection it refuses or loses: at most
 * LOG_BURST of its lines per LOG_WINDOW_MS, then a count of those not
 * shown, so a flood of connections cannot flood the log. */
#define LOG_BURST 20
#define LOG_WINDOW_MS 10000

static void on_log(void *cls, const char *fmt, va_list ap)
{
    rg_http *h = cls;
    /* A failed bind is told once, with the address and why, by the
     * caller ("cannot listen on ..."); libmicrohttpd's words (port 0:
     * the port of a socket it had not bound) only confused it. */
    if (strncmp(fmt, "Failed to bind to port", 22) == 0)
        return;
    int64_t now = rg_monotonic_ms();
    int64_t start = atomic_load(&h->log_window_ms);
    if (now - start >= LOG_WINDOW_MS &&
        atomic_compare_exchange_strong(&h->log_window_ms, &start, now)) {
        uint64_t hidden = atomic_exchange(&h->log_hidden, 0);
        atomic_store(&h->log_shown, 0);
        if (hidden)
            rg_warn("http: %llu more messages of libmicrohttpd in the last "
                    "%d s not shown (refused or broken connections)",
                    (unsigned long long)hidden, LOG_WINDOW_MS / 1000);
    }
    if (atomic_fetch_add(&h->log_shown, 1) >= LOG_BURST) {
        atomic_fetch_add(&h->log_hidden, 1);
        return;
    }
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    rg_warn("http: %s", line);
}

/* --- lifecycle ------------------------------------------------------ */

/* Parses "HOST:PORT" / "[V6]:PORT" into ss. */
static int parse_listen(const char *s, struct sockaddr_storage *ss,
                        socklen_t *sl, rg_err *err)
{
    char host[128];
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s)
        return rg_err_set(err, RG_EINVAL,
                          "listen address '%s': expected HOST:PORT", s);
    size_t hl = (size_t)(colon - s);
    if (s[0] == '[' && hl >= 2 && s[hl - 1] == ']') {
        s++;
        hl -= 2;
    }
    if (hl >= sizeof host)
        return rg_err_set(err, RG_EINVAL, "listen address '%s': host too long",
                          s);
    memcpy(host, s, hl);
    host[hl] = '\0';
    uint64_t port;
    if (parse_u64(colon + 1, strlen(colon + 1), &port) != 0 || port > 65535)
        return rg_err_set(err, RG_EINVAL, "listen address '%s': bad port", s);
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    if (strcmp(host, "localhost") == 0)
        memcpy(host, "127.0.0.1", sizeof "127.0.0.1");
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        *sl = sizeof *v4;
        return 0;
    }
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        *sl = sizeof *v6;
        return 0;
    }
    return rg_err_set(err, RG_EINVAL,
                      "listen address '%s': host must be an IP address", s);
}

int rg_http_start(const rg_http_opts *opts, const rg_http_app *app,
                  rg_http **out, rg_err *err)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    bool tls = opts->tls_cert_pem || opts->tls_key_pem;
    int rc = parse_listen(opts->listen, &ss, &sl, err);
    if (rc != 0)
        return rc;
    if (tls && !(opts->tls_cert_pem && opts->tls_key_pem))
        return rg_err_set(err, RG_EINVAL,
                          "http: TLS needs both a certificate and a key");
    if (tls && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
        return rg_err_set(err, RG_EUNAVAIL,
                          "http: this libmicrohttpd was built without TLS "
                          "support; cannot serve HTTPS");
    rg_http *h = calloc(1, sizeof *h);
    if (!h)
        return rg_err_set(err, RG_ENOMEM, "http: out of memory");
    h->app = *app;
    unsigned max_conn = opts->max_connections ? opts->max_connections : 4096;
    rg_conns_opts co = {.header_ms =
                            1000 * (int64_t)(opts->header_timeout_s
                                                 ? opts->header_timeout_s
                                                 : RG_HTTP_HEADER_TIMEOUT_S),
                        .min_rate = opts->min_body_rate ? opts->min_body_rate
                                                        : RG_HTTP_MIN_BODY_RATE,
                        .waiting_cap = max_conn - max_conn / 8};
    if (co.waiting_cap == 0)
        co.waiting_cap = 1;
    if (rg_conns_new(&co, &h->conns, err) != 0) {
        free(h);
        return err->code;
    }
    pthread_mutex_init(&h->park_mu, NULL);
    pthread_cond_init(&h->park_cv, NULL);
    unsigned threads = opts->threads ? opts->threads : 1;
    unsigned flags =
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_USE_TURBO |
        MHD_ALLOW_SUSPEND_RESUME; /* streamed answers park (stream.h) */
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (tls)
        flags |= MHD_USE_TLS;
    struct MHD_OptionItem o[16];
    size_t n = 0;
    o[n++] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER,
                                     (intptr_t)on_log, h};
    o[n++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, &ss};
    if (threads > 1)
        o[n++] =
            (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, threads, NULL};
    o[n++] =
        (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, max_conn, NULL};
    if (opts->max_per_address)
        o[n++] = (struct MHD_OptionItem){MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                                         opts->max_per_address, NULL};
    o[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_CONNECTION,
                                     (intptr_t)on_connection, h};
    o[n++] = (struct MHD_OptionItem){
        MHD_OPTION_CONNECTION_TIMEOUT,
        opts->conn_timeout_s ? opts->conn_timeout_s : 30, NULL};
    o[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED,
                                     (intptr_t)on_completed, h};
    o[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                                     CONN_MEMORY, NULL};
    if (tls) {
        o[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0,
                                         (void *)opts->tls_cert_pem};
        o[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0,
                                         (void *)opts->tls_key_pem};
    }
    o[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    h->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_access, h,
                                 MHD_OPTION_ARRAY, o, MHD_OPTION_END);
    if (!h->daemon) {
        rg_conns_free(h->conns);
        pthread_cond_destroy(&h->park_cv);
        pthread_mutex_destroy(&h->park_mu);
        free(h);
        return rg_err_set(
            err, RG_EIO, "http: cannot listen on '%s'%s: %s", opts->listen,
            tls ? " with TLS (check the certificate and key)" : "",
            strerror(errno));
    }
    const union MHD_DaemonInfo *di =
        MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
    h->port = di ? di->port : 0;
    *out = h;
    return 0;
}

unsigned rg_http_port(const rg_http *h)
{
    return h->port;
}

void rg_http_stop(rg_http *h)
{
    if (!h)
        return;
    /* libmicrohttpd must not stop with a connection suspended: wait for
     * the parked requests (each wakes when its work ends) and park no
     * more (the handlers answer 503 instead). */
    pthread_mutex_lock(&h->park_mu);
    h->stopping = true;
    while (h->parked > 0)
        pthread_cond_wait(&h->park_cv, &h->park_mu);
    pthread_mutex_unlock(&h->park_mu);
    MHD_stop_daemon(h->daemon); /* every connection removed from conns */
    rg_conns_free(h->conns);
    pthread_cond_destroy(&h->park_cv);
    pthread_mutex_destroy(&h->park_mu);
    free(h);
}
