/* Unit tests for the route table (src/server/router.c): every route of
 * docs/api.md is present with its role, patterns match exactly, path
 * parameters are extracted, and a known path with another method is told
 * apart from an unknown path (405 vs 404).
 * ctest-labels: foundation */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "server/auth.h"
#include "server/router.h"

#include <string.h>

static const rg_route *match(const char *method, const char *path, bool *known,
                             const char **params, size_t *n, char *scratch,
                             size_t cap)
{
    return rg_router_match(method, path, known, params, n, scratch, cap);
}

static void every_documented_route_has_its_role(void **state)
{
    (void)state;
    static const struct {
        const char *method, *path;
        int role;
    } want[] = {
        {"GET", "/healthz", RG_ROLE_NONE},
        {"GET", "/metrics", RG_ROLE_NONE},
        {"GET", "/v1/cluster", RG_ROLE_VIEWER},
        {"PUT", "/v1/artifacts", RG_ROLE_OPERATOR},
        {"POST", "/v1/channels", RG_ROLE_OPERATOR},
        {"GET", "/v1/channels", RG_ROLE_VIEWER},
        {"PUT", "/v1/channels/detections/preflight", RG_ROLE_OPERATOR},
        {"POST", "/v1/releases", RG_ROLE_OPERATOR},
        {"GET", "/v1/releases", RG_ROLE_VIEWER},
        {"GET", "/v1/releases/3", RG_ROLE_VIEWER},
        {"POST", "/v1/releases/3/lift-quarantine", RG_ROLE_OPERATOR},
        {"POST", "/v1/rollouts", RG_ROLE_OPERATOR},
        {"GET", "/v1/rollouts", RG_ROLE_VIEWER},
        {"GET", "/v1/rollouts/5", RG_ROLE_VIEWER},
        {"GET", "/v1/rollouts/5/band", RG_ROLE_VIEWER},
        {"POST", "/v1/rollouts/5/pause", RG_ROLE_OPERATOR},
        {"POST", "/v1/rollouts/5/resume", RG_ROLE_OPERATOR},
        {"POST", "/v1/rollouts/5/abort", RG_ROLE_OPERATOR},
        {"POST", "/v1/rollouts/5/rollback", RG_ROLE_OPERATOR},
        {"POST", "/v1/rollouts/5/promote", RG_ROLE_OPERATOR},
        {"POST", "/v1/policies", RG_ROLE_OPERATOR},
        {"GET", "/v1/policies", RG_ROLE_VIEWER},
        {"DELETE", "/v1/policies/3", RG_ROLE_OPERATOR},
        {"POST", "/v1/webhooks", RG_ROLE_ADMIN},
        {"GET", "/v1/webhooks", RG_ROLE_ADMIN},
        {"GET", "/v1/webhooks/2", RG_ROLE_ADMIN},
        {"DELETE", "/v1/webhooks/2", RG_ROLE_ADMIN},
        {"GET", "/v1/webhooks/2/deliveries", RG_ROLE_ADMIN},
        {"POST", "/v1/webhooks/2/test", RG_ROLE_ADMIN},
        {"GET", "/v1/endpoints", RG_ROLE_VIEWER},
        {"GET", "/v1/endpoints/host-1", RG_ROLE_VIEWER},
        {"POST", "/v1/endpoints/host-1/reset-identity", RG_ROLE_OPERATOR},
        {"GET", "/v1/audit", RG_ROLE_VIEWER},
        {"POST", "/v1/tokens", RG_ROLE_ADMIN},
        {"GET", "/v1/tokens", RG_ROLE_ADMIN},
        {"DELETE", "/v1/tokens/2", RG_ROLE_ADMIN},
        {"POST", "/v1/enrollment-keys", RG_ROLE_OPERATOR},
        {"GET", "/v1/enrollment-keys", RG_ROLE_OPERATOR},
        {"DELETE", "/v1/enrollment-keys/4", RG_ROLE_OPERATOR},
        {"PUT", "/v1/root", RG_ROLE_ADMIN},
        {"GET", "/v1/root", RG_ROLE_VIEWER},
        {"GET", "/v1/agent/root", RG_ROLE_NONE},
        {"POST", "/v1/agent/enroll", RG_ROLE_NONE},
        {"POST", "/v1/agent/checkin", RG_ROLE_NONE},
        {"GET", "/v1/agent/artifacts/abc", RG_ROLE_NONE},
        {"GET", "/v1/artifacts/abc", RG_ROLE_NONE},
        {"GET", "/v1/public/artifacts/abc", RG_ROLE_NONE},
        {"POST", "/v1/flags", RG_ROLE_OPERATOR},
        {"GET", "/v1/flags", RG_ROLE_VIEWER},
        {"GET", "/v1/flags/new-parser", RG_ROLE_VIEWER},
        {"PUT", "/v1/flags/new-parser", RG_ROLE_OPERATOR},
        {"POST", "/v1/flags/new-parser/enable", RG_ROLE_OPERATOR},
        {"POST", "/v1/flags/new-parser/disable", RG_ROLE_OPERATOR},
        {"POST", "/v1/flags/new-parser/eval", RG_ROLE_VIEWER},
        {"POST", "/v1/segments", RG_ROLE_OPERATOR},
        {"GET", "/v1/segments", RG_ROLE_VIEWER},
        {"GET", "/v1/segments/linux", RG_ROLE_VIEWER},
        {"PUT", "/v1/segments/linux", RG_ROLE_OPERATOR},
        {"DELETE", "/v1/segments/linux", RG_ROLE_OPERATOR},
        {"POST", "/v1/flags/new-parser/rollout", RG_ROLE_OPERATOR},
        {"GET", "/v1/flags/new-parser/rollout", RG_ROLE_VIEWER},
        {"POST", "/v1/flags/new-parser/rollout/pause", RG_ROLE_OPERATOR},
        {"POST", "/v1/flags/new-parser/rollout/resume", RG_ROLE_OPERATOR},
        {"POST", "/v1/flags/new-parser/rollout/abort", RG_ROLE_OPERATOR},
        {"POST", "/v1/client-tokens", RG_ROLE_ADMIN},
        {"GET", "/v1/client-tokens", RG_ROLE_ADMIN},
        {"DELETE", "/v1/client-tokens/3", RG_ROLE_ADMIN},
        {"GET", "/api/client/features", RG_ROLE_NONE},
        {"POST", "/api/client/register", RG_ROLE_NONE},
        {"POST", "/api/client/metrics", RG_ROLE_NONE},
        {"GET", "/", RG_ROLE_NONE},
        {"GET", "/ui/app.js", RG_ROLE_NONE},
        {"GET", "/v1/whoami", RG_ROLE_VIEWER},
        {"GET", "/v1/fleet", RG_ROLE_VIEWER},
        {"GET", "/v1/stream", RG_ROLE_VIEWER},
    };
    size_t n_routes;
    rg_router_routes(&n_routes);
    assert_int_equal(n_routes, sizeof want / sizeof *want);
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        bool known;
        const rg_route *r =
            match(want[i].method, want[i].path, &known, NULL, NULL, NULL, 0);
        assert_non_null(r);
        assert_true(known);
        assert_int_equal(r->role, want[i].role);
        assert_non_null(r->handler);
        assert_int_equal(r->upload, strcmp(want[i].path, "/v1/artifacts") == 0);
    }
}

static void parameters_are_extracted(void **state)
{
    (void)state;
    const char *params[RG_HTTP_MAX_PARAMS];
    size_t n = 0;
    char scratch[64];
    bool known;
    const rg_route *r = match("POST", "/v1/rollouts/42/pause", &known, params,
                              &n, scratch, sizeof scratch);
    assert_non_null(r);
    assert_int_equal(n, 1);
    assert_string_equal(params[0], "42");
    assert_string_equal(r->pattern, "/v1/rollouts/{}/pause");
    /* A parameter longer than the scratch space does not match. */
    char tiny[2];
    r = match("GET", "/v1/releases/12345", &known, params, &n, tiny,
              sizeof tiny);
    assert_null(r);
}

static void unknown_paths_and_methods(void **state)
{
    (void)state;
    bool known;
    assert_null(match("GET", "/v1/nothing", &known, NULL, NULL, NULL, 0));
    assert_false(known);
    assert_null(match("DELETE", "/v1/channels", &known, NULL, NULL, NULL, 0));
    assert_true(known); /* 405, not 404 */
    assert_null(match("GET", "/v1/channels/", &known, NULL, NULL, NULL, 0));
    assert_false(known);
    assert_null(match("GET", "/v1/releases/", &known, NULL, NULL, NULL, 0));
    assert_false(known); /* an empty segment is not a parameter */
    assert_null(
        match("GET", "/v1/rollouts/1/pause/x", &known, NULL, NULL, NULL, 0));
    assert_false(known);
    assert_null(match("GET", "", &known, NULL, NULL, NULL, 0));
    assert_false(known);
    assert_null(match("get", "/healthz", &known, NULL, NULL, NULL, 0));
    assert_true(known); /* methods are case-sensitive */
}

static void role_names_round_trip(void **state)
{
    (void)state;
    for (int r = RG_ROLE_VIEWER; r <= RG_ROLE_ADMIN; r++)
        assert_int_equal(rg_role_parse(rg_role_name(r)), r);
    assert_int_equal(rg_role_parse("none"), -1);
    assert_int_equal(rg_role_parse("root"), -1);
    assert_true(RG_ROLE_VIEWER < RG_ROLE_OPERATOR &&
                RG_ROLE_OPERATOR < RG_ROLE_ADMIN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_documented_route_has_its_role),
        cmocka_unit_test(parameters_are_extracted),
        cmocka_unit_test(unknown_paths_and_methods),
        cmocka_unit_test(role_names_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
