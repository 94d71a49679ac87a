/* rollgate/flags.h promises no allocation per evaluation: with malloc,
 * calloc and realloc counted (--wrap), a thousand rg_flag_enabled and
 * rg_flag_variant calls over a set with a flexibleRollout, constraints of
 * every kind but REGEX (whose match data a thread makes once), a segment,
 * variants and a dependency allocate nothing.
 * ctest-labels: flags agent */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agent/flagstate.h"
#include "rollgate/flags.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static atomic_long allocations;

void *__real_malloc(size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_malloc(size_t n)
{
    atomic_fetch_add(&allocations, 1);
    return __real_malloc(n);
}
void *__real_calloc(size_t n, size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_calloc(size_t n, size_t size)
{
    atomic_fetch_add(&allocations, 1);
    return __real_calloc(n, size);
}
void *__real_realloc(void *p, size_t n);
void *__wrap_realloc(void *p, size_t n);
void *__wrap_realloc(void *p, size_t n)
{
    atomic_fetch_add(&allocations, 1);
    return __real_realloc(p, n);
}

static const char *const SET =
    "{\"version\":1,\"segments\":[{\"id\":1,\"constraints\":[{\"contextName\":"
    "\"region\",\"operator\":\"IN\",\"values\":[\"eu\",\"us\"]}]}],"
    "\"features\":[{\"name\":\"parent\",\"enabled\":true,\"strategies\":[]},"
    "{\"name\":\"f\",\"enabled\":true,\"dependencies\":[{\"feature\":"
    "\"parent\"}],\"strategies\":[{\"name\":\"flexibleRollout\","
    "\"parameters\":{\"rollout\":\"60\",\"stickiness\":\"default\","
    "\"groupId\":\"f\"},\"segments\":[1],\"constraints\":["
    "{\"contextName\":\"os\",\"operator\":\"STR_STARTS_WITH\",\"values\":"
    "[\"LIN\"],\"caseInsensitive\":true},"
    "{\"contextName\":\"version\",\"operator\":\"SEMVER_GTE\",\"value\":"
    "\"1.2.0\"},{\"contextName\":\"cores\",\"operator\":\"NUM_GT\","
    "\"value\":\"2\"},{\"contextName\":\"currentTime\",\"operator\":"
    "\"DATE_AFTER\",\"value\":\"2020-01-01T00:00:00Z\"},"
    "{\"contextName\":\"remoteAddress\",\"operator\":\"IN_CIDR\","
    "\"values\":[\"10.0.0.0/8\"]}]}],\"variants\":[{\"name\":\"a\","
    "\"weight\":500,\"stickiness\":\"default\",\"payload\":{\"type\":"
    "\"string\",\"value\":\"x\"}},{\"name\":\"b\",\"weight\":500,"
    "\"stickiness\":\"default\"}]}]}";

static void evaluations_allocate_nothing(void **state)
{
    (void)state;
    char root[64], msg[256], user[32], payload[8];
    snprintf(root, sizeof root, "/tmp/rg-noalloc-XXXXXX");
    assert_non_null(mkdtemp(root));
    rg_flagstate fs;
    assert_int_equal(rg_flagstate_open(&fs, root, NULL), 0);
    json_t *set = json_loads(SET, 0, NULL);
    bool taken = false;
    assert_int_equal(
        rg_flagstate_offer(&fs, "default", "1-1", set, &taken, NULL), 0);
    assert_true(taken);
    json_decref(set);
    rg_sdk *sdk = rg_sdk_open(root, msg, sizeof msg);
    assert_non_null(sdk);
    rg_flag_field props[] = {{"os", "linux"},
                             {"version", "1.4.2"},
                             {"cores", "8"},
                             {"region", "eu"}};
    rg_flag_context ctx = {.remote_address = "10.1.2.3",
                           .current_time = "2024-05-01T00:00:00Z",
                           .properties = props,
                           .nproperties = 4};
    rg_flag_variant_out out = {.payload = payload,
                               .payload_cap = sizeof payload};
    int on = 0, variants = 0;
    long before = atomic_load(&allocations);
    assert_true(before > 0); /* loading the set was counted */
    for (int i = 0; i < 1000; i++) {
        snprintf(user, sizeof user, "user-%d", i);
        ctx.user_id = user;
        on += rg_flag_enabled(sdk, "f", &ctx);
        variants += rg_flag_variant(sdk, "f", &ctx, &out) && out.enabled;
    }
    long during = atomic_load(&allocations) - before;
    assert_int_equal(during, 0);
    assert_true(on > 450 && on < 750); /* the 60% share, really evaluated */
    assert_int_equal(variants, on);
    rg_sdk_close(sdk);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(evaluations_allocate_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
