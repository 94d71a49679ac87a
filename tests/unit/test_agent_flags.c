/* Unit tests for src/agent/flagstate.c (flag sets on trial, last known
 * good, refused stamps, repair after a kill) and src/agent/sdk_flags.c
 * (rollgate/flags.h: evaluation, refresh, readers racing a refresh).
 * ctest-labels: flags agent */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agent/durable.h"
#include "agent/flagstate.h"
#include "rollgate/flags.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char root[64];

static int setup(void **state)
{
    (void)state;
    snprintf(root, sizeof root, "/tmp/rg-flags-XXXXXX");
    return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];
    (void)state;
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    return system(cmd) == 0 ? 0 : -1;
}

/* A set where flag `name` is on (enabled) or off. */
static json_t *set_with(const char *name, bool enabled)
{
    return json_pack("{si s[{ss sb s[]}] s[]}", "version", 1, "features",
                     "name", name, "enabled", enabled, "strategies",
                     "segments");
}

static bool on(const char *name)
{
    char msg[256];
    rg_sdk *sdk = rg_sdk_open(root, msg, sizeof msg);
    assert_non_null(sdk);
    bool v = rg_flag_enabled(sdk, name, NULL);
    rg_sdk_close(sdk);
    return v;
}

static void offer(rg_flagstate *fs, const char *stamp, json_t *set,
                  bool want_taken)
{
    bool taken = !want_taken;
    assert_int_equal(
        rg_flagstate_offer(fs, "default", stamp, set, &taken, NULL), 0);
    assert_int_equal(taken, want_taken);
    json_decref(set);
}

static void crash_loop(rg_flagstate *fs, int k, bool *reverted)
{
    for (int i = 0; i < k; i++)
        assert_int_equal(
            rg_flagstate_crashed(fs, k, "exited 1", 1000 + i, reverted, NULL),
            0);
}

static void test_trial_revert_and_refuse(void **state)
{
    rg_flagstate fs;
    bool reverted = false;
    (void)state;
    assert_int_equal(rg_flagstate_open(&fs, root, NULL), 0);
    offer(&fs, "1-100", set_with("x", false), true);
    assert_int_equal(rg_flagstate_confirm(&fs, NULL), 0);
    assert_string_equal(fs.good, "1-100");

    offer(&fs, "2-200", set_with("x", true), true);
    assert_true(on("x"));
    crash_loop(&fs, 3, &reverted);
    assert_true(reverted);
    assert_false(on("x")); /* the last known good set is back */
    assert_string_equal(fs.active, "1-100");
    assert_string_equal(fs.seen, "2-200");

    /* Not taken again, after a restart too; reported until stored. */
    assert_int_equal(rg_flagstate_open(&fs, root, NULL), 0);
    offer(&fs, "2-200", set_with("x", true), false);
    json_t *rep = rg_flagstate_report(&fs, "default");
    json_t *rev = json_object_get(rep, "reverted");
    assert_int_equal(json_array_size(rev), 1);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(rev, 0), "stamp")),
        "2-200");
    json_t *stored = json_pack("[s]", "2-200");
    assert_int_equal(rg_flagstate_stored(&fs, stored, NULL), 0);
    json_decref(stored);
    json_decref(rep);
    rep = rg_flagstate_report(&fs, "default");
    assert_int_equal(json_array_size(json_object_get(rep, "reverted")), 0);
    json_decref(rep);

    /* A newer set is taken. */
    offer(&fs, "3-300", set_with("x", false), true);
    assert_string_equal(fs.trial, "3-300");
}

static void test_first_set_reverts_to_none(void **state)
{
    rg_flagstate fs;
    bool reverted = false;
    (void)state;
    assert_int_equal(rg_flagstate_open(&fs, root, NULL), 0);
    offer(&fs, "1-1", set_with("x", true), true);
    crash_loop(&fs, 2, &reverted);
    assert_true(reverted);
    assert_string_equal(fs.active, "");
    assert_false(on("x"));
}

/* Killed after state.json names the revert but before active.json is
 * restored: the next open restores the good set. */
static void test_open_repairs(void **state)
{
    rg_flagstate fs;
    char dir[128];
    (void)state;
    assert_int_equal(rg_flagstate_open(&fs, root, NULL), 0);
    offer(&fs, "1-1", set_with("x", false), true);
    assert_int_equal(rg_flagstate_confirm(&fs, NULL), 0);
    offer(&fs, "2-2", set_with("x", true), true);
    fs.trial[0] = '\0'; /* what the revert writes first */
    json_t *st = json_pack("{ss ss si s[]}", "seen", "2-2", "trial", "",
                           "crashes", 0, "refused");
    snprintf(dir, sizeof dir, "%s/flags", root);
    assert_int_equal(rg__write_json(dir, "state.json", st, NULL), 0);
    json_decref(st);
    assert_true(on("x"));
    assert_int_equal(rg_flagstate_open(&fs, root, NULL), 0);
    assert_string_equal(fs.active, "1-1");
    assert_false(on("x"));
}

static void test_variant_and_refresh(void **state)
{
    rg_flagstate fs;
    char msg[256], payload[8];
    (void)state;
    assert_int_equal(rg_flagstate_open(&fs, root, NULL), 0);
    rg_sdk *sdk = rg_sdk_open(root, msg, sizeof msg);
    assert_non_null(sdk);
    assert_false(rg_flag_enabled(sdk, "v", NULL)); /* no set yet */
    assert_int_equal(rg_sdk_refresh(sdk, msg, sizeof msg), 0);
    json_t *set = json_pack("{si s[{ss sb s[] s[{ss si ss s{ss ss}}]}]}",
                            "version", 1, "features", "name", "v", "enabled",
                            true, "strategies", "variants", "name", "blue",
                            "weight", 1000, "stickiness", "default", "payload",
                            "type", "string", "value", "a long payload");
    offer(&fs, "1-1", set, true);
    assert_int_equal(rg_sdk_refresh(sdk, msg, sizeof msg), 1);
    char stamp[64];
    rg_sdk_stamp(sdk, stamp, sizeof stamp);
    assert_string_equal(stamp, "1-1");
    rg_flag_context ctx = {.user_id = "u1"};
    rg_flag_variant_out out = {.payload = payload,
                               .payload_cap = sizeof payload};
    assert_int_equal(rg_flag_variant(sdk, "v", &ctx, &out), 1);
    assert_string_equal(out.name, "blue");
    assert_string_equal(out.payload_type, "string");
    assert_string_equal(out.payload, "a long ");
    assert_int_equal(out.payload_len, strlen("a long payload"));
    assert_int_equal(rg_flag_variant(sdk, "none", &ctx, &out), 0);
    assert_string_equal(out.name, "disabled");
    rg_sdk_close(sdk);
}

typedef struct race {
    rg_sdk *sdk;
    atomic_int stop;
    atomic_long seen_on, seen_off;
} race;

static void *reader(void *arg)
{
    race *r = arg;
    rg_flag_context ctx = {.user_id = "u"};
    while (!atomic_load(&r->stop)) {
        if (rg_flag_enabled(r->sdk, "x", &ctx))
            atomic_fetch_add(&r->seen_on, 1);
        else
            atomic_fetch_add(&r->seen_off, 1);
    }
    return NULL;
}

/* Readers evaluate while the set is replaced many times: no reader ever
 * reads a freed set (the sanitizer build checks it), and they see both. */
static void test_readers_race_refresh(void **state)
{
    rg_flagstate fs;
    char msg[256], stamp[32];
    pthread_t t[3];
    race r = {0};
    (void)state;
    assert_int_equal(rg_flagstate_open(&fs, root, NULL), 0);
    r.sdk = rg_sdk_open(root, msg, sizeof msg);
    assert_non_null(r.sdk);
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&t[i], NULL, reader, &r), 0);
    for (int i = 1;
         i <= 50 || ((!atomic_load(&r.seen_on) || !atomic_load(&r.seen_off)) &&
                     i < 100000);
         i++) {
        snprintf(stamp, sizeof stamp, "%d-%d", i, i);
        offer(&fs, stamp, set_with("x", i % 2), true);
        assert_int_equal(rg_sdk_refresh(r.sdk, msg, sizeof msg), 1);
    }
    atomic_store(&r.stop, 1);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    assert_true(atomic_load(&r.seen_on) > 0 && atomic_load(&r.seen_off) > 0);
    rg_sdk_close(r.sdk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_trial_revert_and_refuse, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_first_set_reverts_to_none, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_open_repairs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_variant_and_refresh, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_readers_race_refresh, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
