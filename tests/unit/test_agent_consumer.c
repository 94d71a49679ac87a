/* Unit tests for src/agent/consumer.c: nothing of a consumer's earlier
 * start outlives it into the next one. A consumer that forked a process
 * which ignores SIGTERM is restarted on a switch, or crashes: the next
 * start must not happen while that process still runs (it could publish
 * the new release's bytes as if a live consumer ran on them, and a
 * crashing release would pass its probe).
 * ctest-labels: agent foundation */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agent/consumer.h"
#include "common/clock.h"
#include "common/crypto.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define WAIT_MS 20000 /* bound on waiting for observable state */

typedef struct fixture {
    char root[64];
    rg_slots slots;
    rg_outbox outbox;
    rg_trial_env env;
    rg_consumer c;
    char cmd[512];
} fixture;

static void put(fixture *f, rg_slot_id id, const char *text, int64_t release)
{
    char p[RG_PATH_MAX];
    rg_artifact_want w = {.release = release, .version = release};
    snprintf(p, sizeof p, "%s/dl", f->root);
    FILE *fp = fopen(p, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    w.size = (int64_t)strlen(text);
    rg_sha256_hex(text, strlen(text), w.sha256);
    assert_int_equal(rg_slots_install(&f->slots, id, p, &w, NULL), 0);
}

/* v1 active in slot a, v2 in slot b; the test process adopts orphans as
 * the daemon does (rg_daemon_run). */
static int setup(void **state)
{
    rg_crypto_init();
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->root, sizeof f->root, "/tmp/rg-consumer-XXXXXX");
    if (!f || !mkdtemp(f->root))
        return -1;
    assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1L, 0L, 0L, 0L), 0);
    assert_int_equal(rg_slots_open(&f->slots, f->root, "detections", NULL), 0);
    assert_int_equal(rg_outbox_open(&f->outbox, f->root, NULL), 0);
    f->env = (rg_trial_env){f->root, &f->slots, &f->outbox, 3, NULL};
    put(f, 'a', "release 1", 1);
    assert_int_equal(rg_slots_switch(&f->slots, 'a', NULL), 0);
    put(f, 'b', "release 2", 2);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[128];
    rg_consumer_stop(&f->c);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->root);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

/* A consumer that forks a process ignoring SIGTERM (its pid written to
 * ROOT/straggler), then runs `last`. */
static void init_consumer(fixture *f, const char *last)
{
    snprintf(f->cmd, sizeof f->cmd,
             "(trap '' TERM; exec sleep 60) & echo $! > '%s/straggler.tmp' && "
             "mv '%s/straggler.tmp' '%s/straggler'; %s",
             f->root, f->root, f->root, last);
    rg_consumer_init(&f->c, f->cmd, &f->slots);
}

/* Starts the consumer and returns the straggler's pid once written. */
static pid_t start_with_straggler(fixture *f)
{
    char p[RG_PATH_MAX];
    int64_t t0 = rg_monotonic_ms();
    assert_int_equal(rg_consumer_tick(&f->c, &f->env, t0, 0, NULL), 0);
    assert_true(f->c.pid > 0);
    snprintf(p, sizeof p, "%s/straggler", f->root);
    for (;;) {
        FILE *fp = fopen(p, "r");
        long pid = 0;
        if (fp && fscanf(fp, "%ld", &pid) == 1 && pid > 0) {
            fclose(fp);
            return (pid_t)pid;
        }
        if (fp)
            fclose(fp);
        assert_true(rg_monotonic_ms() - t0 < WAIT_MS);
        poll(NULL, 0, 10);
    }
}

/* Reaps the consumer's first process and tells the consumer. */
static void reap_leader(fixture *f)
{
    int st;
    while (waitpid(f->c.pid, &st, 0) < 0)
        assert_int_equal(errno, EINTR);
    assert_int_equal(
        rg_consumer_exited(&f->c, &f->env, st, rg_monotonic_ms(), 0, NULL), 0);
}

/* Ticks until the next start happens; then the straggler must be gone. */
static void next_start_after_straggler(fixture *f, pid_t straggler)
{
    int64_t t0 = rg_monotonic_ms();
    while (f->c.pid == 0) {
        assert_true(rg_monotonic_ms() - t0 < WAIT_MS);
        assert_int_equal(
            rg_consumer_tick(&f->c, &f->env, rg_monotonic_ms(), 0, NULL), 0);
        poll(NULL, 0, 5);
    }
    errno = 0;
    assert_int_equal(kill(straggler, 0), -1);
    assert_int_equal(errno, ESRCH);
}

static void restart_on_switch_ends_the_whole_start(void **state)
{
    fixture *f = *state;
    init_consumer(f, "exec sleep 60");
    pid_t straggler = start_with_straggler(f);
    assert_int_equal(rg_slots_switch(&f->slots, 'b', NULL), 0);
    assert_int_equal(
        rg_consumer_tick(&f->c, &f->env, rg_monotonic_ms(), 0, NULL), 0);
    assert_true(f->c.stopping);
    reap_leader(f);
    next_start_after_straggler(f, straggler);
    assert_int_equal(f->c.loaded_slot, 'b');
}

static void crash_ends_the_whole_start(void **state)
{
    fixture *f = *state;
    init_consumer(f, "exit 3");
    pid_t straggler = start_with_straggler(f);
    reap_leader(f);
    next_start_after_straggler(f, straggler);
}

static void stop_ends_the_whole_start(void **state)
{
    fixture *f = *state;
    init_consumer(f, "exec sleep 60");
    pid_t straggler = start_with_straggler(f);
    rg_consumer_stop(&f->c);
    assert_int_equal(f->c.pid, 0);
    errno = 0;
    assert_int_equal(kill(straggler, 0), -1);
    assert_int_equal(errno, ESRCH);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(restart_on_switch_ends_the_whole_start,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(crash_ends_the_whole_start, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(stop_ends_the_whole_start, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
