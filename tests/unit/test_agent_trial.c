/* Unit tests for src/agent/trial.c: the start counter, revert after K
 * failed starts with no network, deadline, confirm, and finishing a trial
 * that was killed half-way through reverting.
 * ctest-labels: agent */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agent/durable.h"
#include "agent/quarantine.h"
#include "agent/trial.h"
#include "common/crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct fixture {
    char root[64];
    rg_slots slots;
    rg_outbox outbox;
    rg_trial_env env;
    rg_uptime up; /* the injected time since boot */
    rg_artifact_want v1, v2;
} fixture;

static void put(fixture *f, rg_slot_id id, const char *text, int64_t release,
                rg_artifact_want *w)
{
    char p[RG_PATH_MAX];
    snprintf(p, sizeof p, "%s/dl", f->root);
    FILE *fp = fopen(p, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    w->release = release;
    w->version = release;
    w->size = (int64_t)strlen(text);
    rg_sha256_hex(text, strlen(text), w->sha256);
    assert_int_equal(rg_slots_install(&f->slots, id, p, w, NULL), 0);
}

/* v1 active and good in slot a, v2 staged in slot b. */
static int setup(void **state)
{
    rg_crypto_init();
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->root, sizeof f->root, "/tmp/rg-trial-XXXXXX");
    if (!mkdtemp(f->root))
        return -1;
    assert_int_equal(rg_slots_open(&f->slots, f->root, "detections", NULL), 0);
    assert_int_equal(rg_outbox_open(&f->outbox, f->root, NULL), 0);
    f->up = (rg_uptime){"boot-1", 5000};
    f->env = (rg_trial_env){f->root, &f->slots, &f->outbox, 3, &f->up};
    put(f, 'a', "good content", 1, &f->v1);
    assert_int_equal(rg_slots_switch(&f->slots, 'a', NULL), 0);
    put(f, 'b', "crash", 2, &f->v2);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->root);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

/* Begins the trial of v2 and switches to it, as the apply pipeline does. */
static void switch_to_v2(fixture *f, int64_t now)
{
    assert_int_equal(rg_trial_begin(&f->env, &f->v2, 'b', now, 60000, NULL), 0);
    assert_int_equal(rg_slots_switch(&f->slots, 'b', NULL), 0);
}

/* The only pending event, which must be of type. */
static void expect_events(fixture *f, size_t n, const char *last_type,
                          const char *detail)
{
    json_t *arr = rg_outbox_pending(&f->outbox, 256, NULL);
    assert_int_equal(json_array_size(arr), n);
    json_t *last = json_array_get(arr, n - 1);
    assert_string_equal(json_string_value(json_object_get(last, "type")),
                        last_type);
    assert_int_equal(json_integer_value(json_object_get(last, "release")), 2);
    if (detail)
        assert_string_equal(json_string_value(json_object_get(last, "detail")),
                            detail);
    json_decref(arr);
}

static void reverts_after_k_failed_starts(void **state)
{
    fixture *f = *state;
    rg_trial t;
    bool reverted = true;
    switch_to_v2(f, 1000);
    for (int i = 1; i <= 3; i++) {
        assert_int_equal(
            rg_trial_count_start(&f->env, 1000 + i, &reverted, NULL), 0);
        assert_false(reverted);
        /* The count is on disk before the consumer would start. */
        assert_int_equal(rg_trial_load(&f->env, &t, NULL), 0);
        assert_int_equal(t.starts, i);
        assert_int_equal(rg_slots_active(&f->slots), 'b');
        assert_int_equal(rg_trial_crashed(&f->env, "exit 3", 1000 + i, NULL),
                         0);
    }
    expect_events(f, 3, "crashed", "exit 3");
    assert_int_equal(rg_trial_count_start(&f->env, 2000, &reverted, NULL), 0);
    assert_true(reverted);
    assert_int_equal(rg_slots_active(&f->slots), 'a');
    assert_true(rg_quarantine_has(f->root, f->v2.sha256));
    assert_false(rg_quarantine_has(f->root, f->v1.sha256));
    assert_int_equal(rg_trial_load(&f->env, &t, NULL), RG_ENOTFOUND);
    expect_events(f, 4, "reverted", "3 failed starts");
    /* Without a trial, starts are not counted and nothing changes. */
    assert_int_equal(rg_trial_count_start(&f->env, 3000, &reverted, NULL), 0);
    assert_false(reverted);
    assert_int_equal(rg_outbox_count(&f->outbox), 4);
}

static void confirm_queues_healthy_once(void **state)
{
    fixture *f = *state;
    bool reverted = false;
    rg_trial t;
    switch_to_v2(f, 1000);
    assert_int_equal(rg_trial_count_start(&f->env, 1001, &reverted, NULL), 0);
    assert_int_equal(rg_trial_confirm(&f->env, "probe passed", 1002, NULL), 0);
    assert_int_equal(rg_trial_load(&f->env, &t, NULL), RG_ENOTFOUND);
    assert_int_equal(rg_slots_active(&f->slots), 'b');
    expect_events(f, 1, "healthy", "probe passed");
    assert_int_equal(rg_trial_confirm(&f->env, "again", 1003, NULL),
                     RG_ENOTFOUND);
    assert_false(rg_quarantine_has(f->root, f->v2.sha256));
}

/* The deadline (60 s here) is trial time: time since boot, whatever the
 * wall clock does. */
static void deadline_reverts(void **state)
{
    fixture *f = *state;
    bool reverted = true;
    switch_to_v2(f, 1000);
    /* The wall clock jumps 2 h ahead one second in: nothing happens. */
    f->up.ms += 1000;
    assert_int_equal(
        rg_trial_check_deadline(&f->env, 1000 + 7200000, &reverted, NULL), 0);
    assert_false(reverted);
    /* ... or back a day: the deadline still comes after 60 s of trial. */
    f->up.ms = 5000 + 59999;
    assert_int_equal(
        rg_trial_check_deadline(&f->env, 1000 - 86400000, &reverted, NULL), 0);
    assert_false(reverted);
    f->up.ms = 5000 + 60000;
    assert_int_equal(rg_trial_check_deadline(&f->env, 1000, &reverted, NULL),
                     0);
    assert_true(reverted);
    assert_int_equal(rg_slots_active(&f->slots), 'a');
    expect_events(f, 1, "reverted", "no confirmation before the deadline");
}

/* Across a reboot the trial time recorded at the last save carries over;
 * the new boot's clock, which starts again near 0, counts on from there. */
static void deadline_survives_a_reboot(void **state)
{
    fixture *f = *state;
    bool reverted = true;
    switch_to_v2(f, 1000);
    f->up.ms += 20000; /* the consumer starts 20 s into the trial */
    assert_int_equal(rg_trial_count_start(&f->env, 2000, &reverted, NULL), 0);
    assert_false(reverted);
    f->up = (rg_uptime){"boot-2", 3000}; /* rebooted: 20 s of trial so far */
    assert_int_equal(rg_trial_check_deadline(&f->env, 1000, &reverted, NULL),
                     0);
    assert_false(reverted);
    rg_trial t;
    assert_int_equal(rg_trial_load(&f->env, &t, NULL), 0);
    assert_string_equal(t.boot_id, "boot-2");
    assert_int_equal(t.elapsed_ms, 20000);
    f->up.ms = 3000 + 39999;
    assert_int_equal(rg_trial_check_deadline(&f->env, 1000, &reverted, NULL),
                     0);
    assert_false(reverted);
    f->up.ms = 3000 + 40000;
    assert_int_equal(rg_trial_check_deadline(&f->env, 1000, &reverted, NULL),
                     0);
    assert_true(reverted);
    expect_events(f, 1, "reverted", "no confirmation before the deadline");
}

static void reconcile_finishes_a_killed_revert_once(void **state)
{
    fixture *f = *state;
    rg_trial t;
    switch_to_v2(f, 1000);
    /* Killed right after recording the intent to revert. */
    assert_int_equal(rg_trial_load(&f->env, &t, NULL), 0);
    t.phase = RG_TRIAL_REVERTING;
    snprintf(t.reason, sizeof t.reason, "probe failed");
    assert_int_equal(rg_trial_save(&f->env, &t, NULL), 0);
    /* ... and again after queueing `reverted` but before the switch. */
    rg_event ev = {.type = "reverted", .release = 2};
    snprintf(ev.id, sizeof ev.id, "%s", t.event_id);
    snprintf(ev.channel, sizeof ev.channel, "detections");
    assert_int_equal(rg_outbox_add(&f->outbox, &ev, NULL), 0);
    assert_int_equal(rg_trial_reconcile(&f->env, 2000, NULL), 0);
    assert_int_equal(rg_slots_active(&f->slots), 'a');
    assert_true(rg_quarantine_has(f->root, f->v2.sha256));
    assert_int_equal(rg_trial_load(&f->env, &t, NULL), RG_ENOTFOUND);
    assert_int_equal(rg_outbox_count(&f->outbox), 1); /* exactly once */
}

static void reconcile_drops_trial_without_switch(void **state)
{
    fixture *f = *state;
    rg_trial t;
    assert_int_equal(rg_trial_begin(&f->env, &f->v2, 'b', 1000, 60000, NULL),
                     0);
    assert_int_equal(rg_trial_reconcile(&f->env, 2000, NULL), 0);
    assert_int_equal(rg_trial_load(&f->env, &t, NULL), RG_ENOTFOUND);
    assert_int_equal(rg_slots_active(&f->slots), 'a');
    assert_int_equal(rg_outbox_count(&f->outbox), 0);
    /* A running trial that did switch keeps counting across restarts. */
    switch_to_v2(f, 3000);
    bool reverted = false;
    assert_int_equal(rg_trial_count_start(&f->env, 3001, &reverted, NULL), 0);
    assert_int_equal(rg_trial_reconcile(&f->env, 3002, NULL), 0);
    assert_int_equal(rg_trial_load(&f->env, &t, NULL), 0);
    assert_int_equal(t.starts, 1);
    assert_int_equal(t.good, 'a');
}

static void first_install_reverts_to_nothing(void **state)
{
    fixture *f = *state;
    bool reverted = false;
    assert_int_equal(rg_slots_switch(&f->slots, 0, NULL), 0);
    switch_to_v2(f, 1000);
    for (int i = 0; i < 4; i++)
        assert_int_equal(rg_trial_count_start(&f->env, 1001, &reverted, NULL),
                         0);
    assert_true(reverted);
    assert_int_equal(rg_slots_active(&f->slots), 0);
    expect_events(f, 1, "reverted", "3 failed starts");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(reverts_after_k_failed_starts, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(confirm_queues_healthy_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(deadline_reverts, setup, teardown),
        cmocka_unit_test_setup_teardown(deadline_survives_a_reboot, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(reconcile_finishes_a_killed_revert_once,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(reconcile_drops_trial_without_switch,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(first_install_reverts_to_nothing, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
