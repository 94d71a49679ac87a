/* Unit tests for src/preflight/preflight: the real rollgate-engine on the
 * sample content (good.chan passes; incident-291.chan is a clean failure
 * with the safe engine, a crash with the unsafe ASan engine, and accepted
 * by `check` either way), and the classification of every way an engine
 * can fail, with small shell-script engines.
 *
 * The engine is $RG_ENGINE, or the rollgate-engine of this build tree
 * (src/engine/ next to tests/unit/, found from /proc/self/exe).
 * ctest-labels: preflight */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/err.h"
#include "engine/interp.h"
#include "preflight/preflight.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#else
#define SANITIZED 0
#endif

static char engine[PATH_MAX];
static char data[PATH_MAX];
static char scratch[] = "/tmp/rg-test-preflight-XXXXXX";

static int setup(void **state)
{
    (void)state;
    const char *e = getenv("RG_ENGINE");
    if (e) {
        snprintf(engine, sizeof engine, "%s", e);
    } else {
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n <= 0)
            return -1;
        self[n] = '\0';
        *strrchr(self, '/') = '\0'; /* .../tests/unit */
        int w = snprintf(engine, sizeof engine,
                         "%.3900s/../../src/engine/rollgate-engine", self);
        if (w < 0 || (size_t)w >= sizeof engine)
            return -1;
    }
    /* Absolute: the sandboxed command runs in its own directory. */
    const char *d = getenv("RG_TEST_DATA");
    char rel[PATH_MAX];
    snprintf(rel, sizeof rel, "%.4000s/engine", d ? d : "tests/data");
    if (!realpath(rel, data))
        return -1;
    if (access(engine, X_OK) != 0 || !mkdtemp(scratch))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char path[PATH_MAX + 32];
    const char *names[] = {"engine.sh", "content", NULL};
    for (size_t i = 0; names[i]; i++) {
        snprintf(path, sizeof path, "%s/%s", scratch, names[i]);
        unlink(path);
    }
    rmdir(scratch);
    return 0;
}

/* A config for the real engine; a sanitizer build cannot run under an
 * address space limit. */
static rg_preflight_config real(const char *corpus)
{
    rg_preflight_config c;
    rg_preflight_config_init(&c, engine, corpus);
    if (SANITIZED)
        c.limits.as_bytes = 0;
    return c;
}

static char *datafile(const char *name)
{
    static char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", data, name);
    return path;
}

/* Runs the preflight, which must complete. */
static void run(const rg_preflight_config *c, const char *content,
                rg_preflight_result *r)
{
    rg_err err;
    rg_err_clear(&err);
    int rc = rg_preflight_run(c, content, r, &err);
    if (rc != 0)
        print_error("preflight: %s\n", err.msg);
    assert_int_equal(rc, 0);
}

static void good_content_passes(void **state)
{
    (void)state;
    char events[PATH_MAX + 64];
    snprintf(events, sizeof events, "%s", datafile("events-20.tsv"));
    rg_preflight_config c = real(events);
    rg_preflight_result r;
    run(&c, datafile("good.chan"), &r);
    if (!r.passed)
        print_error("%s\n%s\n", r.detail, r.stderr_tail);
    assert_true(r.passed);
    assert_int_equal(r.reason, RG_PREFLIGHT_NONE);
    assert_int_equal(r.exit_code, 0);
    assert_int_equal(r.signal, 0);
    assert_string_equal(r.stage, "");
    assert_true(r.events_bytes > 0);

    json_t *j = rg_preflight_result_json(&r);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "status")),
                        "passed");
    assert_true(json_is_null(json_object_get(j, "reason")));
    assert_true(json_is_null(json_object_get(j, "signal")));
    assert_int_equal(json_integer_value(json_object_get(j, "exit_code")), 0);
    assert_true(json_is_integer(json_object_get(j, "duration_ms")));
    json_t *sb = json_object_get(j, "sandbox");
    assert_true(json_is_boolean(json_object_get(sb, "seccomp")));
    json_decref(j);
}

/* `rollgate-engine check` alone, in the same sandbox. */
static void check_accepts(const char *content)
{
    const char *argv[] = {engine, "check", content, NULL};
    /* LeakSanitizer needs ptrace, which the sandbox refuses. */
    const char *env[] = {"ASAN_OPTIONS=detect_leaks=0", NULL};
    rg_sandbox_config sc = {.argv = argv, .env = env};
    sc.limits = rg_sandbox_limits_default();
    if (SANITIZED)
        sc.limits.as_bytes = 0;
    rg_sandbox_result sr;
    assert_int_equal(rg_sandbox_run(&sc, &sr, NULL), 0);
    if (sr.exit_code != 0)
        print_error("check: %s\n", sr.err_tail);
    assert_true(sr.exited);
    assert_int_equal(sr.exit_code, 0);
    assert_non_null(strstr(sr.out.data, ": ok: 1 templates, 5 instances"));
    rg_sandbox_result_release(&sr);
}

static void incident_content_fails(void **state)
{
    (void)state;
    char content[PATH_MAX + 64];
    snprintf(content, sizeof content, "%s", datafile("incident-291.chan"));
    check_accepts(content);

    /* Coverage alone (no recorded corpus) already drives field 21 with
     * the sample sensor's 20-field events. */
    rg_preflight_config c = real(NULL);
    rg_preflight_result r;
    run(&c, content, &r);
    print_message("%s\n", r.detail);
    assert_false(r.passed);
    assert_string_equal(r.stage, "run");
    json_t *j = rg_preflight_result_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "status")),
                        "failed");
    if (!rg_engine_unsafe()) {
        /* The safe engine: a clean error naming the field. */
        assert_int_equal(r.reason, RG_PREFLIGHT_EXIT);
        assert_int_equal(r.exit_code, 1);
        assert_int_equal(r.signal, 0);
        assert_non_null(strstr(r.stderr_tail, "instance 'named_pipe_c2' "
                                              "matches on field 21 "
                                              "('named_pipe')"));
        assert_non_null(strstr(r.stderr_tail, "carries 20 fields"));
        assert_string_equal(json_string_value(json_object_get(j, "reason")),
                            "exit");
        assert_int_equal(json_integer_value(json_object_get(j, "exit_code")),
                         1);
        assert_true(json_is_null(json_object_get(j, "signal")));
    } else if (SANITIZED) {
        /* The unsafe ASan engine reads past the event's fields: a crash. */
        assert_int_equal(r.reason, RG_PREFLIGHT_CRASH);
        assert_int_equal(r.signal, SIGABRT);
        assert_int_equal(r.exit_code, -1);
        assert_non_null(strstr(r.stderr_tail, "heap-buffer-overflow"));
        assert_string_equal(json_string_value(json_object_get(j, "reason")),
                            "crash");
        assert_string_equal(json_string_value(json_object_get(j, "signal")),
                            "SIGABRT");
    } else {
        /* Unsafe without ASan: undefined behaviour; it fails somehow. */
        assert_int_not_equal(r.reason, RG_PREFLIGHT_NONE);
    }
    json_decref(j);
}

/* Writes a /bin/sh engine whose `coverage` and `run` commands run the
 * given shell code (builtins only: the sandbox refuses new processes). */
static const char *fake_engine(const char *coverage, const char *runcode)
{
    static char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/engine.sh", scratch);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f,
            "#!/bin/sh\n"
            "case \"$1\" in\n"
            "coverage) %s ;;\n"
            "run) %s ;;\n"
            "*) exit 2 ;;\n"
            "esac\n",
            coverage, runcode);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, 0755), 0);
    return path;
}

static const char *content_file(void)
{
    static char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/content", scratch);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("rollgate-channel 1\n", f);
    assert_int_equal(fclose(f), 0);
    return path;
}

static rg_preflight_result fake_run(const char *coverage, const char *runcode,
                                    const rg_sandbox_limits *lim)
{
    rg_preflight_config c;
    rg_preflight_config_init(&c, fake_engine(coverage, runcode), NULL);
    if (lim)
        c.limits = *lim;
    rg_preflight_result r;
    run(&c, content_file(), &r);
    return r;
}

static void classification(void **state)
{
    (void)state;
    /* The run sees the coverage output on stdin. */
    rg_preflight_result r = fake_run(
        "echo 'proc_exec\tx'",
        "read l; case \"$l\" in proc_exec*x) exit 0 ;; esac; exit 9", NULL);
    assert_true(r.passed);

    r = fake_run("echo bad >&2; exit 3", "exit 0", NULL);
    assert_false(r.passed);
    assert_int_equal(r.reason, RG_PREFLIGHT_EXIT);
    assert_string_equal(r.stage, "coverage");
    assert_int_equal(r.exit_code, 3);
    assert_string_equal(r.stderr_tail, "bad\n");

    r = fake_run("exit 0", "kill -SEGV $$", NULL);
    assert_int_equal(r.reason, RG_PREFLIGHT_CRASH);
    assert_string_equal(r.stage, "run");
    assert_int_equal(r.signal, SIGSEGV);
    assert_int_equal(r.exit_code, -1);
    json_t *j = rg_preflight_result_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "reason")),
                        "crash");
    assert_string_equal(json_string_value(json_object_get(j, "signal")),
                        "SIGSEGV");
    assert_true(json_is_null(json_object_get(j, "exit_code")));
    assert_string_equal(json_string_value(json_object_get(j, "stage")), "run");
    json_decref(j);

    /* A sanitizer report with an exit status is a crash too. */
    r = fake_run("exit 0",
                 "echo '==1==ERROR: AddressSanitizer: heap-buffer-overflow' "
                 ">&2; exit 1",
                 NULL);
    assert_int_equal(r.reason, RG_PREFLIGHT_CRASH);
    assert_int_equal(r.exit_code, 1);

    rg_sandbox_limits lim = rg_sandbox_limits_default();
    lim.wall_ms = 300;
    lim.cpu_s = 0;
    r = fake_run("exit 0", "while :; do :; done", &lim);
    assert_int_equal(r.reason, RG_PREFLIGHT_TIMEOUT);
    assert_int_equal(r.signal, SIGKILL);
    assert_non_null(strstr(r.detail, "wall-clock"));

    lim = rg_sandbox_limits_default();
    lim.cpu_s = 1;
    lim.wall_ms = 120000;
    r = fake_run("while :; do :; done", "exit 0", &lim);
    assert_int_equal(r.reason, RG_PREFLIGHT_TIMEOUT);
    assert_string_equal(r.stage, "coverage");
    assert_int_equal(r.signal, SIGXCPU);

    lim = rg_sandbox_limits_default();
    lim.stdout_max = 8;
    r = fake_run("echo 0123456789", "exit 0", &lim);
    assert_int_equal(r.reason, RG_PREFLIGHT_OUTPUT_LIMIT);

    r = fake_run("exit 0", "echo 'fatal: out of memory' >&2; exit 1", NULL);
    assert_int_equal(r.reason, RG_PREFLIGHT_MEMORY);
    j = rg_preflight_result_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "reason")),
                        "memory");
    json_decref(j);
}

static void stderr_tail_json_survives_bad_utf8(void **state)
{
    (void)state;
    rg_preflight_result r =
        fake_run("exit 0", "printf 'ok\\377\\376end' >&2; exit 4", NULL);
    assert_int_equal(r.reason, RG_PREFLIGHT_EXIT);
    json_t *j = rg_preflight_result_json(&r);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "stderr_tail")),
                        "ok??end");
    json_decref(j);
}

static void setup_errors(void **state)
{
    (void)state;
    rg_err err;
    rg_preflight_result r;
    rg_preflight_config c;
    rg_preflight_config_init(&c, "/nonexistent/engine", NULL);
    assert_int_equal(rg_preflight_run(&c, content_file(), &r, &err),
                     RG_ENOTFOUND);

    c = real(NULL);
    assert_int_equal(rg_preflight_run(&c, "/nonexistent/content", &r, &err),
                     RG_ENOTFOUND);
    assert_string_equal(err.field, "content");

    c = real("/nonexistent/corpus");
    assert_int_equal(rg_preflight_run(&c, content_file(), &r, &err),
                     RG_ENOTFOUND);
    assert_string_equal(err.field, "corpus");

    rg_preflight_config_init(&c, NULL, NULL);
    assert_int_equal(rg_preflight_run(&c, content_file(), &r, &err), RG_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(good_content_passes),
        cmocka_unit_test(incident_content_fails),
        cmocka_unit_test(classification),
        cmocka_unit_test(stderr_tail_json_survives_bad_utf8),
        cmocka_unit_test(setup_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
