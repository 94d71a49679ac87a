/* Unit tests for the HTTP adapter (src/server/http.c): a real daemon on a
 * free loopback port with a tiny app, driven over raw sockets. Covers
 * keep-alive, body caps (declared and streamed), the body sink, the error
 * shape and Range handling.
 * ctest-labels: foundation */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "server/http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* --- the app under test --------------------------------------------- */

typedef struct sink_ctx {
    uint64_t n;
    int *released;
} sink_ctx;

static int released_count;

static int sink_write(void *ctx, const void *p, size_t n, rg_err *err)
{
    sink_ctx *s = ctx;
    (void)p;
    (void)err;
    s->n += n;
    return 0;
}

static void sink_release(void *ctx)
{
    sink_ctx *s = ctx;
    (*s->released)++;
    free(s);
}

static void app_begin(void *ctx, rg_req *req, rg_resp *resp)
{
    (void)ctx;
    if (strcmp(req->path, "/deny") == 0) {
        rg_resp_errorf(resp, RG_EAUTH, "", "no entry");
    } else if (strcmp(req->path, "/sink") == 0) {
        sink_ctx *s = calloc(1, sizeof *s);
        s->released = &released_count;
        rg_body_sink k = {sink_write, sink_release, s, 1000};
        rg_req_set_sink(req, &k);
    }
}

static const char file_bytes[] = "0123456789";

static void app_handle(void *ctx, rg_req *req, rg_resp *resp)
{
    (void)ctx;
    if (strcmp(req->path, "/sink") == 0) {
        sink_ctx *s = rg_req_sink_ctx(req);
        rg_resp_json(resp, 200, json_pack("{s:I}", "n", (json_int_t)s->n));
    } else if (strcmp(req->path, "/file") == 0) {
        char path[] = "/tmp/rg-test-http-XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        unlink(path);
        assert_int_equal(write(fd, file_bytes, 10), 10);
        rg_resp_file(resp, req, fd, 10);
    } else {
        const char *q = rg_req_query(req, "q");
        rg_resp_json(resp, 200,
                     json_pack("{s:I,s:s}", "len", (json_int_t)req->body.len,
                               "q", q ? q : ""));
    }
}

static void app_end(void *ctx, rg_req *req, const rg_resp *resp)
{
    (void)resp;
    (void)ctx;
    (void)req;
}

/* --- a minimal client ------------------------------------------------ */

static int dial(unsigned port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

static void send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        assert_true(w > 0);
        p += w;
        n -= (size_t)w;
    }
}

/* Reads one response (headers + Content-Length body) into buf. Returns
 * its status; *body points into buf. */
static int read_resp(int fd, char *buf, size_t cap, const char **body)
{
    size_t n = 0;
    char *end = NULL;
    long clen = -1;
    for (;;) {
        if (!end) {
            buf[n] = '\0';
            end = strstr(buf, "\r\n\r\n");
            if (end) {
                const char *cl = strcasestr(buf, "\r\nContent-Length:");
                clen = cl ? strtol(cl + 17, NULL, 10) : 0;
            }
        }
        if (end && n >= (size_t)(end + 4 - buf) + (size_t)clen)
            break;
        ssize_t r = recv(fd, buf + n, cap - 1 - n, 0);
        assert_true(r > 0);
        n += (size_t)r;
    }
    buf[n] = '\0';
    *body = end + 4;
    return (int)strtol(buf + 9, NULL, 10);
}

static rg_http *start(void)
{
    rg_http_opts o = {.listen = "127.0.0.1:0", .threads = 2};
    rg_http_app app = {app_begin, app_handle, app_end, NULL};
    rg_http *h = NULL;
    rg_err err;
    assert_int_equal(rg_http_start(&o, &app, &h, &err), 0);
    assert_true(rg_http_port(h) > 0);
    return h;
}

static void keep_alive_and_json(void **state)
{
    (void)state;
    rg_http *h = start();
    int fd = dial(rg_http_port(h));
    char buf[8192];
    const char *body;
    for (int i = 0; i < 3; i++) {
        const char req[] = "POST /echo?q=a%20b HTTP/1.1\r\nHost: x\r\n"
                           "Content-Length: 5\r\n\r\nhello";
        send_all(fd, req, sizeof req - 1);
        assert_int_equal(read_resp(fd, buf, sizeof buf, &body), 200);
        assert_null(strcasestr(buf, "Connection: close"));
        assert_string_equal(body, "{\"len\":5,\"q\":\"a b\"}");
    }
    close(fd);
    rg_http_stop(h);
}

static void error_shape_keeps_connection(void **state)
{
    (void)state;
    rg_http *h = start();
    int fd = dial(rg_http_port(h));
    char buf[8192];
    const char *body;
    const char req[] = "POST /deny HTTP/1.1\r\nHost: x\r\n"
                       "Content-Length: 2\r\n\r\n{}";
    send_all(fd, req, sizeof req - 1);
    assert_int_equal(read_resp(fd, buf, sizeof buf, &body), 401);
    assert_null(strcasestr(buf, "Connection: close"));
    assert_string_equal(body, "{\"error\":{\"code\":\"unauthorized\","
                              "\"message\":\"no entry\",\"field\":\"\"}}");
    /* The same connection still serves. */
    const char again[] = "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n";
    send_all(fd, again, sizeof again - 1);
    assert_int_equal(read_resp(fd, buf, sizeof buf, &body), 200);
    close(fd);
    rg_http_stop(h);
}

static void declared_oversize_is_413_before_the_body(void **state)
{
    (void)state;
    rg_http *h = start();
    int fd = dial(rg_http_port(h));
    char buf[8192];
    const char *body;
    char req[256];
    snprintf(req, sizeof req,
             "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %u\r\n\r\n",
             RG_HTTP_JSON_MAX + 1);
    send_all(fd, req, strlen(req)); /* the body is never sent */
    assert_int_equal(read_resp(fd, buf, sizeof buf, &body), 413);
    assert_non_null(strstr(body, "\"code\":\"too_large\""));
    close(fd);
    /* Same for the sink's own cap (1000 here). */
    fd = dial(rg_http_port(h));
    const char put[] =
        "PUT /sink HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n";
    send_all(fd, put, sizeof put - 1);
    assert_int_equal(read_resp(fd, buf, sizeof buf, &body), 413);
    close(fd);
    rg_http_stop(h);
}

static void streamed_oversize_is_413(void **state)
{
    (void)state;
    rg_http *h = start();
    int fd = dial(rg_http_port(h));
    char buf[8192];
    const char *body;
    const char head[] = "PUT /sink HTTP/1.1\r\nHost: x\r\n"
                        "Transfer-Encoding: chunked\r\n\r\n";
    send_all(fd, head, sizeof head - 1);
    char chunk[600 + 16];
    int n = snprintf(chunk, sizeof chunk, "258\r\n"); /* 600 bytes */
    memset(chunk + n, 'a', 600);
    memcpy(chunk + n + 600, "\r\n", 2);
    send_all(fd, chunk, (size_t)n + 602);
    send_all(fd, chunk, (size_t)n + 602); /* 1200 > 1000 */
    send_all(fd, "0\r\n\r\n", 5);
    assert_int_equal(read_resp(fd, buf, sizeof buf, &body), 413);
    assert_non_null(strstr(body, "\"code\":\"too_large\""));
    close(fd);
    /* A JSON body of unknown length over RG_HTTP_JSON_MAX: 413 at its end. */
    fd = dial(rg_http_port(h));
    const char post[] = "POST /echo HTTP/1.1\r\nHost: x\r\n"
                        "Transfer-Encoding: chunked\r\n\r\n";
    send_all(fd, post, sizeof post - 1);
    static char big[65536 + 16];
    n = snprintf(big, sizeof big, "10000\r\n");
    memset(big + n, 'b', 65536);
    memcpy(big + n + 65536, "\r\n", 2);
    for (unsigned i = 0; i < RG_HTTP_JSON_MAX / 65536 + 2; i++)
        send_all(fd, big, (size_t)n + 65538);
    send_all(fd, "0\r\n\r\n", 5);
    assert_int_equal(read_resp(fd, buf, sizeof buf, &body), 413);
    close(fd);
    rg_http_stop(h);
}

static void sink_receives_the_body(void **state)
{
    (void)state;
    released_count = 0;
    rg_http *h = start();
    int fd = dial(rg_http_port(h));
    char buf[8192];
    const char *body;
    char req[2048];
    int n = snprintf(
        req, sizeof req,
        "PUT /sink HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n");
    memset(req + n, 'z', 1000);
    send_all(fd, req, (size_t)n + 1000);
    assert_int_equal(read_resp(fd, buf, sizeof buf, &body), 200);
    assert_string_equal(body, "{\"n\":1000}");
    close(fd);
    rg_http_stop(h);
    assert_int_equal(released_count, 1);
}

static void range_parsing(void **state)
{
    (void)state;
    uint64_t s = 0, l = 0;
    assert_int_equal(rg_http_range_parse(NULL, 10, &s, &l), 0);
    assert_int_equal(rg_http_range_parse("bytes=2-4", 10, &s, &l), 1);
    assert_true(s == 2 && l == 3);
    assert_int_equal(rg_http_range_parse("bytes=7-", 10, &s, &l), 1);
    assert_true(s == 7 && l == 3);
    assert_int_equal(rg_http_range_parse("bytes=-3", 10, &s, &l), 1);
    assert_true(s == 7 && l == 3);
    assert_int_equal(rg_http_range_parse("bytes=-30", 10, &s, &l), 1);
    assert_true(s == 0 && l == 10);
    assert_int_equal(rg_http_range_parse("bytes=5-99", 10, &s, &l), 1);
    assert_true(s == 5 && l == 5);
    assert_int_equal(rg_http_range_parse("bytes=10-", 10, &s, &l), RG_ERANGE);
    assert_int_equal(rg_http_range_parse("bytes=4-2", 10, &s, &l), RG_ERANGE);
    assert_int_equal(rg_http_range_parse("bytes=-0", 10, &s, &l), RG_ERANGE);
    assert_int_equal(rg_http_range_parse("bytes=1-2,4-5", 10, &s, &l),
                     RG_ERANGE);
    assert_int_equal(rg_http_range_parse("items=1-2", 10, &s, &l), RG_ERANGE);
    assert_int_equal(rg_http_range_parse("bytes=a-b", 10, &s, &l), RG_ERANGE);
    assert_int_equal(rg_http_range_parse("bytes=-", 10, &s, &l), RG_ERANGE);
    assert_int_equal(rg_http_range_parse("bytes=0-", 0, &s, &l), RG_ERANGE);
    assert_int_equal(
        rg_http_range_parse("bytes=99999999999999999999-", 10, &s, &l),
        RG_ERANGE);
}

static void file_responses_honour_range(void **state)
{
    (void)state;
    rg_http *h = start();
    int fd = dial(rg_http_port(h));
    char buf[8192];
    const char *body;
    const char full[] = "GET /file HTTP/1.1\r\nHost: x\r\n\r\n";
    send_all(fd, full, sizeof full - 1);
    assert_int_equal(read_resp(fd, buf, sizeof buf, &body), 200);
    assert_string_equal(body, "0123456789");
    const char part[] =
        "GET /file HTTP/1.1\r\nHost: x\r\nRange: bytes=3-5\r\n\r\n";
    send_all(fd, part, sizeof part - 1);
    assert_int_equal(read_resp(fd, buf, sizeof buf, &body), 206);
    assert_string_equal(body, "345");
    assert_non_null(strcasestr(buf, "Content-Range: bytes 3-5/10"));
    const char tail[] =
        "GET /file HTTP/1.1\r\nHost: x\r\nRange: bytes=-2\r\n\r\n";
    send_all(fd, tail, sizeof tail - 1);
    assert_int_equal(read_resp(fd, buf, sizeof buf, &body), 206);
    assert_string_equal(body, "89");
    const char bad[] =
        "GET /file HTTP/1.1\r\nHost: x\r\nRange: bytes=10-\r\n\r\n";
    send_all(fd, bad, sizeof bad - 1);
    assert_int_equal(read_resp(fd, buf, sizeof buf, &body), 416);
    assert_non_null(strcasestr(buf, "Content-Range: bytes */10"));
    assert_non_null(strstr(body, "\"code\":\"range_not_satisfiable\""));
    close(fd);
    rg_http_stop(h);
}

static void bad_listen_addresses(void **state)
{
    (void)state;
    rg_http_app app = {app_begin, app_handle, app_end, NULL};
    rg_http *h = NULL;
    rg_err err;
    const char *bad[] = {"nohost", ":80", "127.0.0.1:99999", "127.0.0.1:x",
                         "example.com:80"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        rg_http_opts o = {.listen = bad[i]};
        assert_int_equal(rg_http_start(&o, &app, &h, &err), RG_EINVAL);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keep_alive_and_json),
        cmocka_unit_test(error_shape_keeps_connection),
        cmocka_unit_test(declared_oversize_is_413_before_the_body),
        cmocka_unit_test(streamed_oversize_is_413),
        cmocka_unit_test(sink_receives_the_body),
        cmocka_unit_test(range_parsing),
        cmocka_unit_test(file_responses_honour_range),
        cmocka_unit_test(bad_listen_addresses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
