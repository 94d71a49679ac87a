/* Unit tests for admin authentication (src/server/auth.c) through the real
 * router and HTTP adapter, with an SQLite store in a temp directory and a
 * manual clock: valid, expired, revoked, malformed and unknown tokens, role
 * order, and the audit record filled from the caller.
 * ctest-labels: foundation */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/crypto.h"
#include "server/auth.h"
#include "server/router.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct fixture {
    char dir[64];
    int64_t now;
    rg_clock clock;
    rg_server srv;
    rg_http *http;
    char viewer[65], expiring[65], revoked[65];
} fixture;

static void make_token(fixture *f, const char *name, const char *role,
                       int64_t expires_ms, char secret[65], int64_t *id)
{
    rg_token_rec t;
    rg_err err;
    memset(&t, 0, sizeof t);
    snprintf(t.name, sizeof t.name, "%s", name);
    snprintf(t.role, sizeof t.role, "%s", role);
    rg_auth_token_new(secret, t.hash);
    t.created_ms = f->now;
    t.expires_ms = expires_ms;
    assert_int_equal(rg_store_token_create(f->srv.store, &t, NULL, &err), 0);
    assert_string_not_equal(secret, t.hash); /* only the hash is stored */
    if (id)
        *id = t.id;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    rg_err err;
    char db[128];
    assert_int_equal(rg_crypto_init(), 0);
    snprintf(f->dir, sizeof f->dir, "/tmp/rg-test-auth-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(db, sizeof db, "%s/rollgate.db", f->dir);
    f->now = 1000000;
    f->clock = rg_clock_manual(&f->now);
    rg_server_config_defaults(&f->srv.cfg);
    snprintf(f->srv.cfg.data_dir, sizeof f->srv.cfg.data_dir, "%s", f->dir);
    f->srv.clock = &f->clock;
    assert_int_equal(rg_store_open(db, &f->srv.store, &err), 0);
    int64_t rid;
    make_token(f, "v", "viewer", 0, f->viewer, NULL);
    make_token(f, "soon", "admin", f->now + 1000, f->expiring, NULL);
    make_token(f, "gone", "operator", 0, f->revoked, &rid);
    assert_int_equal(
        rg_store_token_revoke(f->srv.store, rid, f->now, NULL, &err), 0);
    rg_http_app app;
    rg_router_app(&f->srv, &app);
    rg_http_opts o = {.listen = "127.0.0.1:0", .threads = 1};
    assert_int_equal(rg_http_start(&o, &app, &f->http, &err), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[128];
    rg_http_stop(f->http);
    rg_store_close(f->srv.store);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* Sends one request with an optional bearer token; returns the status and
 * copies the body into out. */
static int call(fixture *f, const char *method, const char *path,
                const char *auth, const char *body, char *out, size_t cap)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)rg_http_port(f->http))};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    char req[1024];
    int n =
        snprintf(req, sizeof req,
                 "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                 "%s%s%sContent-Length: %zu\r\n\r\n%s",
                 method, path, auth ? "Authorization: " : "", auth ? auth : "",
                 auth ? "\r\n" : "", body ? strlen(body) : 0, body ? body : "");
    assert_int_equal(send(fd, req, (size_t)n, MSG_NOSIGNAL), n);
    size_t got = 0;
    ssize_t r;
    while (got < cap - 1 && (r = recv(fd, out + got, cap - 1 - got, 0)) > 0)
        got += (size_t)r;
    out[got] = '\0';
    close(fd);
    return (int)strtol(out + 9, NULL, 10);
}

static void tokens_and_roles(void **state)
{
    fixture *f = *state;
    char out[4096], hdr[128];
    snprintf(hdr, sizeof hdr, "Bearer %s", f->viewer);
    assert_int_equal(call(f, "GET", "/v1/channels", hdr, NULL, out, sizeof out),
                     200);
    assert_int_equal(call(f, "POST", "/v1/channels", hdr, "{\"name\":\"x\"}",
                          out, sizeof out),
                     403);
    assert_non_null(strstr(out, "\"code\":\"forbidden\""));
    assert_int_equal(call(f, "GET", "/v1/tokens", hdr, NULL, out, sizeof out),
                     403);
    /* Scheme and header are case-insensitive; the token is not. */
    snprintf(hdr, sizeof hdr, "bearer %s", f->viewer);
    assert_int_equal(call(f, "GET", "/v1/channels", hdr, NULL, out, sizeof out),
                     200);
    for (char *p = hdr + 7; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    assert_int_equal(call(f, "GET", "/v1/channels", hdr, NULL, out, sizeof out),
                     401);
    assert_int_equal(
        call(f, "GET", "/v1/channels", NULL, NULL, out, sizeof out), 401);
    assert_non_null(strstr(out, "\"code\":\"unauthorized\""));
    assert_int_equal(
        call(f, "GET", "/v1/channels", "Bearer ", NULL, out, sizeof out), 401);
    assert_int_equal(
        call(f, "GET", "/v1/channels", "Token abc", NULL, out, sizeof out),
        401);
    /* Unknown but well-formed. */
    char unknown[65];
    rg_random_hex(unknown, 32);
    snprintf(hdr, sizeof hdr, "Bearer %s", unknown);
    assert_int_equal(call(f, "GET", "/v1/channels", hdr, NULL, out, sizeof out),
                     401);
    /* Revoked. */
    snprintf(hdr, sizeof hdr, "Bearer %s", f->revoked);
    assert_int_equal(call(f, "GET", "/v1/channels", hdr, NULL, out, sizeof out),
                     401);
    assert_non_null(strstr(out, "revoked"));
    /* Health needs nothing. */
    assert_int_equal(call(f, "GET", "/healthz", NULL, NULL, out, sizeof out),
                     200);
}

static void expiry_follows_the_injected_clock(void **state)
{
    fixture *f = *state;
    char out[4096], hdr[128];
    snprintf(hdr, sizeof hdr, "Bearer %s", f->expiring);
    assert_int_equal(call(f, "GET", "/v1/tokens", hdr, NULL, out, sizeof out),
                     200);
    f->now += 999;
    assert_int_equal(call(f, "GET", "/v1/tokens", hdr, NULL, out, sizeof out),
                     200);
    f->now += 1;
    assert_int_equal(call(f, "GET", "/v1/tokens", hdr, NULL, out, sizeof out),
                     401);
    assert_non_null(strstr(out, "expired"));
}

static void audit_records_name_the_caller(void **state)
{
    fixture *f = *state;
    rg_caller c = {.token_id = 7, .role = RG_ROLE_OPERATOR};
    snprintf(c.name, sizeof c.name, "ci");
    rg_req req = {.method = "POST",
                  .path = "/v1/channels",
                  .client = "10.0.0.9",
                  .auth = &c};
    rg_audit_rec a;
    rg_audit_init(&a, &f->srv, &req, "channel.create", "channel:x", "because");
    assert_string_equal(a.actor, "ci");
    assert_string_equal(a.role, "operator");
    assert_string_equal(a.source, "10.0.0.9");
    assert_string_equal(a.action, "channel.create");
    assert_string_equal(a.target, "channel:x");
    assert_string_equal(a.reason, "because");
    assert_int_equal(a.at_ms, f->now);
    req.auth = NULL;
    rg_audit_init(&a, &f->srv, &req, "agent.enroll", NULL, NULL);
    assert_string_equal(a.actor, "anonymous");
    assert_string_equal(a.target, "");
    assert_string_equal(a.reason, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(tokens_and_roles, setup, teardown),
        cmocka_unit_test_setup_teardown(expiry_follows_the_injected_clock,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(audit_records_name_the_caller, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
