/* Unit tests for the rollgate CLI's HTTP side against a one-shot fake
 * server (a thread answering one connection with a canned reply): the
 * requests the commands send (method, path, headers, JSON body), and how
 * answers become exit statuses and error lines: 4xx -> 1, 5xx, nonsense,
 * oversize and timeouts -> 3.
 * ctest-labels: foundation */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cli/cli.h"
#include "cli/client.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* One connection: the request it received and the reply it sends (NULL:
 * no reply; it waits until the client hangs up). */
typedef struct fake {
    int listen_fd;
    int port;
    const char *reply;
    char request[8192];
    size_t request_len;
    pthread_t thread;
} fake;

/* Reads the request: headers, then Content-Length bytes of body. */
static void read_request(fake *f, int fd)
{
    size_t want = 0;
    bool have_headers = false;
    while (f->request_len < sizeof f->request - 1) {
        ssize_t n = read(fd, f->request + f->request_len,
                         sizeof f->request - 1 - f->request_len);
        if (n <= 0)
            return;
        f->request_len += (size_t)n;
        f->request[f->request_len] = '\0';
        char *end = strstr(f->request, "\r\n\r\n");
        if (end && !have_headers) {
            have_headers = true;
            const char *cl = strcasestr(f->request, "\r\nContent-Length:");
            want = (size_t)(end + 4 - f->request) +
                   (cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0);
        }
        if (have_headers && f->request_len >= want)
            return;
    }
}

static void *serve(void *arg)
{
    fake *f = arg;
    int fd = accept(f->listen_fd, NULL, NULL);
    if (fd < 0)
        return NULL;
    read_request(f, fd);
    if (f->reply) {
        size_t len = strlen(f->reply), off = 0;
        while (off < len) {
            ssize_t n = write(fd, f->reply + off, len - off);
            if (n <= 0)
                break;
            off += (size_t)n;
        }
    } else {
        char sink[256];
        while (read(fd, sink, sizeof sink) > 0) {
        }
    }
    close(fd);
    return NULL;
}

static void fake_start(fake *f, const char *reply)
{
    memset(f, 0, sizeof *f);
    f->reply = reply;
    f->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(f->listen_fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(f->listen_fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(f->listen_fd, 1), 0);
    socklen_t sl = sizeof sa;
    assert_int_equal(getsockname(f->listen_fd, (struct sockaddr *)&sa, &sl), 0);
    f->port = ntohs(sa.sin_port);
    assert_int_equal(pthread_create(&f->thread, NULL, serve, f), 0);
}

static void fake_join(fake *f)
{
    pthread_join(f->thread, NULL);
    close(f->listen_fd);
}

/* A reply with a JSON body and the right Content-Length. */
static char *json_reply(int status, const char *body)
{
    size_t n = strlen(body) + 200;
    char *r = malloc(n);
    assert_non_null(r);
    snprintf(r, n,
             "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
             "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
             status, strlen(body), body);
    return r;
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

typedef struct run_result {
    int status;
    char out[8192];
    char err[1024];
} run_result;

static void slurp(FILE *f, char *buf, size_t n)
{
    rewind(f);
    size_t got = fread(buf, 1, n - 1, f);
    buf[got] = '\0';
    fclose(f);
}

/* Runs `rollgate --server http://127.0.0.1:PORT --token tok ARGS...`
 * against a fake answering reply. */
static void run_against(fake *f, const char *reply, run_result *r, int argc,
                        char **args)
{
    fake_start(f, reply);
    char server[64];
    snprintf(server, sizeof server, "http://127.0.0.1:%d", f->port);
    char *argv[32] = {"rollgate", "--server", server, "--token", "tok"};
    assert_true(argc + 5 < 32);
    for (int i = 0; i < argc; i++)
        argv[5 + i] = args[i];
    FILE *out = tmpfile(), *errf = tmpfile();
    assert_non_null(out);
    assert_non_null(errf);
    r->status = rg_cli_run(argc + 5, argv, out, errf);
    fake_join(f);
    slurp(out, r->out, sizeof r->out);
    slurp(errf, r->err, sizeof r->err);
}

static void action_sends_the_documented_request(void **state)
{
    (void)state;
    fake f;
    run_result r;
    char *reply = json_reply(200, "{\"id\": 5, \"state\": \"paused\", "
                                  "\"wave\": 0, \"decisions\": []}");
    char *args[] = {"--json", "rollout",  "pause",
                    "5",      "--reason", "ticket 4411"};
    run_against(&f, reply, &r, 6, args);
    free(reply);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.err, "");
    assert_true(
        starts_with(f.request, "POST /v1/rollouts/5/pause HTTP/1.1\r\n"));
    assert_non_null(strstr(f.request, "\r\nAuthorization: Bearer tok\r\n"));
    assert_non_null(
        strstr(f.request, "\r\nContent-Type: application/json\r\n"));
    assert_non_null(strstr(f.request, "\r\n\r\n{\"reason\":\"ticket 4411\"}"));
    /* --json prints the server's answer, indented. */
    assert_non_null(strstr(r.out, "\"state\": \"paused\""));
}

static void queries_are_escaped(void **state)
{
    (void)state;
    fake f;
    run_result r;
    char *reply = json_reply(200, "{\"audit\": []}");
    char *args[] = {"audit",         "--target", "rollout:1",
                    "--actor",       "ci bot",   "--since",
                    "1795664400000", "--limit",  "3"};
    run_against(&f, reply, &r, 9, args);
    free(reply);
    assert_int_equal(r.status, 0);
    assert_true(starts_with(f.request,
                            "GET /v1/audit?actor=ci%20bot&target=rollout%3A1"
                            "&since_ms=1795664400000&limit=3 HTTP/1.1\r\n"));
    assert_string_equal(r.out,
                        "AT  ACTOR  ROLE  ACTION  TARGET  SOURCE  REASON\n");
}

static void refusal_exits_1_with_the_servers_words(void **state)
{
    (void)state;
    fake f;
    run_result r;
    char *reply = json_reply(409, "{\"error\": {\"code\": \"conflict\", "
                                  "\"message\": \"version 7 is not above 7\", "
                                  "\"field\": \"version\"}}");
    char *args[] = {"release",   "create", "--channel", "d", "--artifact", "ab",
                    "--version", "7",      "--notes",   "n"};
    run_against(&f, reply, &r, 10, args);
    free(reply);
    assert_int_equal(r.status, RG_CLI_EXIT_REFUSED);
    assert_string_equal(r.err, "rollgate: release create: conflict: version 7 "
                               "is not above 7 (field: version)\n");
    assert_string_equal(r.out, "");
    assert_non_null(strstr(f.request, "\"urgency\":\"standard\""));
    assert_non_null(strstr(f.request, "\"version\":7"));
}

static void server_failures_exit_3(void **state)
{
    (void)state;
    fake f;
    run_result r;
    char *args[] = {"channel", "list"};

    char *reply =
        json_reply(500, "{\"error\": {\"code\": \"io_error\", "
                        "\"message\": \"disk full\", \"field\": \"\"}}");
    run_against(&f, reply, &r, 2, args);
    free(reply);
    assert_int_equal(r.status, RG_CLI_EXIT_UNAVAILABLE);
    assert_string_equal(r.err, "rollgate: channel list: io_error: disk full\n");

    run_against(&f,
                "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\n"
                "Content-Length: 9\r\nConnection: close\r\n\r\n<h1>x</h1",
                &r, 2, args);
    assert_int_equal(r.status, RG_CLI_EXIT_UNAVAILABLE);
    assert_string_equal(
        r.err, "rollgate: channel list: internal: HTTP 502 from server\n");

    reply = json_reply(200, "[1, 2]");
    run_against(&f, reply, &r, 2, args);
    free(reply);
    assert_int_equal(r.status, RG_CLI_EXIT_UNAVAILABLE);
    assert_non_null(strstr(r.err, "internal: bad answer from"));
    assert_string_equal(r.out, "");
}

static void client_caps_and_timeouts(void **state)
{
    (void)state;
    fake f;
    rg_cli_http h;
    rg_err err;
    json_t *out = NULL;
    char url[64];

    char *reply = json_reply(200, "{\"channels\": [\"a long enough answer\"]}");
    fake_start(&f, reply);
    snprintf(url, sizeof url, "http://127.0.0.1:%d", f.port);
    assert_int_equal(rg_cli_http_init(&h, url, "", &err), 0);
    h.max_response = 16;
    assert_int_equal(
        rg_cli_http_json(&h, "GET", "/v1/channels", NULL, &out, &err),
        RG_ETOOBIG);
    assert_null(out);
    assert_int_equal(h.status, 0);
    assert_null(strstr(f.request, "Authorization")); /* no token, no header */
    rg_cli_http_release(&h);
    fake_join(&f);
    free(reply);

    /* An accepted connection that never answers: the total timeout. */
    fake_start(&f, NULL);
    snprintf(url, sizeof url, "http://127.0.0.1:%d", f.port);
    assert_int_equal(rg_cli_http_init(&h, url, "t", &err), 0);
    h.timeout_ms = 200;
    assert_int_equal(rg_cli_http_json(&h, "GET", "/healthz", NULL, &out, &err),
                     RG_EUNAVAIL);
    assert_non_null(strstr(err.msg, "cannot reach"));
    assert_int_equal(h.status, 0);
    rg_cli_http_release(&h);
    fake_join(&f);
}

static int setup(void **state)
{
    (void)state;
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    curl_global_cleanup();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(action_sends_the_documented_request),
        cmocka_unit_test(queries_are_escaped),
        cmocka_unit_test(refusal_exits_1_with_the_servers_words),
        cmocka_unit_test(server_failures_exit_3),
        cmocka_unit_test(client_caps_and_timeouts),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
