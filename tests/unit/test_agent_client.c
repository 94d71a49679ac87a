/* Unit tests for src/agent/client.c's URL resolution (issue 11, item 13):
 * artifact URLs from a check-in answer are parsed with libcurl's URL API,
 * never concatenated to the server's base, and only URLs on the server's
 * origin get the endpoint's token.
 * ctest-labels: agent security */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agent/client.h"

#include <curl/curl.h>
#include <string.h>

typedef struct resolved {
    const char *base, *ref, *url; /* url NULL: refused */
    bool origin;
} resolved;

static void resolves_against_the_base(void **state)
{
    (void)state;
    static const resolved cases[] = {
        {"http://127.0.0.1:7400", "/v1/agent/artifacts/ab",
         "http://127.0.0.1:7400/v1/agent/artifacts/ab", true},
        /* the attack: once concatenated, user information for evil:9 */
        {"http://127.0.0.1:7400", "@evil:9/x",
         "http://127.0.0.1:7400/@evil:9/x", true},
        {"https://h.example/rollgate", "/v1/agent/artifacts/ab",
         "https://h.example/rollgate/v1/agent/artifacts/ab", true},
        {"https://h.example:443", "https://h.example/v1/x",
         "https://h.example/v1/x", true},
        {"http://127.0.0.1:7400", "http://127.0.0.1:7401/v1/x",
         "http://127.0.0.1:7401/v1/x", false},
        {"http://127.0.0.1:7400", "//mirror.example/v1/x",
         "http://mirror.example/v1/x", false},
        {"http://127.0.0.1:7400", "https://127.0.0.1:7400/v1/x",
         "https://127.0.0.1:7400/v1/x", false},
        {"http://127.0.0.1:7400", "http://user:pw@127.0.0.1:7400/v1/x", NULL,
         false},
        {"http://127.0.0.1:7400", "file:///etc/passwd", NULL, false},
        {"http://127.0.0.1:7400", "gopher://127.0.0.1:7400/x", NULL, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const resolved *t = &cases[i];
        rg_client c;
        char out[2048];
        bool origin = !t->origin;
        rg_err err;
        assert_int_equal(rg_client_init(&c, t->base, 1000, 1 << 20, NULL), 0);
        int rc = rg_client_resolve(&c, t->ref, out, sizeof out, &origin, &err);
        if (!t->url) {
            assert_int_equal(rc, RG_EINVAL);
            assert_false(origin);
        } else {
            assert_int_equal(rc, 0);
            assert_string_equal(out, t->url);
            assert_int_equal(origin, t->origin);
        }
        rg_client_release(&c);
    }
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(resolves_against_the_base),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
