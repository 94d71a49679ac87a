/* Unit tests for src/preflight/sandbox: exit codes, signals, the wall-clock
 * timeout, RLIMIT_CPU, RLIMIT_AS, RLIMIT_FSIZE, refused forks and network,
 * the empty working directory, stdin, output caps and concurrent runs.
 * The commands are /bin/sh builtins and /usr/bin/python3 (scripts/deps.sh).
 * Where a layer depends on the kernel (seccomp, namespaces), the test
 * asserts what the sandbox reports it enforced.
 * ctest-labels: preflight */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/err.h"
#include "preflight/sandbox.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The system's python3 (Debian package python3): a real interpreter, not a
 * version-manager shim, which would need to fork. */
#define PYTHON "/usr/bin/python3"

static rg_sandbox_config config(const char *const *argv)
{
    rg_sandbox_config c = {.argv = argv};
    c.limits = rg_sandbox_limits_default();
    return c;
}

/* Runs c, which must start; the caller releases r. */
static void run(const rg_sandbox_config *c, rg_sandbox_result *r)
{
    rg_err err;
    rg_err_clear(&err);
    int rc = rg_sandbox_run(c, r, &err);
    if (rc != 0)
        print_error("sandbox: %s\n", err.msg);
    assert_int_equal(rc, 0);
}

static void exit_zero_in_an_empty_directory(void **state)
{
    (void)state;
    char in[] = "/tmp/rg-test-sandbox-in-XXXXXX";
    int fd = mkstemp(in);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "from stdin\n", 11), 11);
    close(fd);
    /* Builtins only: the sandbox refuses new processes. */
    const char *argv[] = {"/bin/sh", "-c",
                          "read line; echo \"got: $line\"; "
                          "set -- * .[!.]*; echo \"entries: $1 $2\"; "
                          "pwd; echo \"$HOME\"",
                          NULL};
    rg_sandbox_config c = config(argv);
    c.stdin_path = in;
    rg_sandbox_result r;
    run(&c, &r);
    unlink(in);
    assert_true(r.exited);
    assert_int_equal(r.exit_code, 0);
    assert_int_equal(r.signal, 0);
    assert_false(r.timed_out);
    assert_false(r.memory_exhausted);
    /* stdin was the file; the directory is empty; it is also HOME. */
    const char *want = "got: from stdin\nentries: * .[!.]*\n";
    assert_non_null(r.out.data);
    assert_memory_equal(r.out.data, want, strlen(want));
    char cwd[512], home[512];
    assert_int_equal(
        sscanf(r.out.data + strlen(want), "%511s %511s", cwd, home), 2);
    assert_string_equal(cwd, home);
    assert_non_null(strstr(cwd, "/rg-sandbox-"));
    assert_int_equal(access(cwd, F_OK), -1); /* removed afterwards */
    assert_int_equal(r.err_len, 0);
    rg_sandbox_result_release(&r);
}

static void nonzero_exit_and_stderr(void **state)
{
    (void)state;
    const char *argv[] = {"sh", "-c", "echo oops >&2; exit 3", NULL};
    rg_sandbox_config c = config(argv);
    rg_sandbox_result r;
    run(&c, &r);
    assert_true(r.exited);
    assert_int_equal(r.exit_code, 3);
    assert_string_equal(r.err_tail, "oops\n");
    assert_false(r.memory_exhausted);
    assert_false(r.cpu_exceeded);
    rg_sandbox_result_release(&r);
}

static void segfault_is_a_signal(void **state)
{
    (void)state;
    const char *argv[] = {"/bin/sh", "-c", "kill -SEGV $$", NULL};
    rg_sandbox_config c = config(argv);
    rg_sandbox_result r;
    run(&c, &r);
    assert_false(r.exited);
    assert_int_equal(r.signal, SIGSEGV);
    assert_string_equal(rg_signal_name(r.signal), "SIGSEGV");
    assert_false(r.timed_out);
    rg_sandbox_result_release(&r);
}

static void wall_clock_timeout_kills(void **state)
{
    (void)state;
    const char *argv[] = {"/bin/sh", "-c", "while :; do :; done", NULL};
    rg_sandbox_config c = config(argv);
    c.limits.wall_ms = 300;
    c.limits.cpu_s = 0;
    rg_sandbox_result r;
    run(&c, &r);
    assert_true(r.timed_out);
    assert_int_equal(r.signal, SIGKILL);
    assert_false(r.cpu_exceeded);
    rg_sandbox_result_release(&r);
}

static void cpu_limit_kills(void **state)
{
    (void)state;
    const char *argv[] = {"/bin/sh", "-c", "while :; do :; done", NULL};
    rg_sandbox_config c = config(argv);
    c.limits.wall_ms = 120000; /* a backstop only */
    c.limits.cpu_s = 1;
    rg_sandbox_result r;
    run(&c, &r);
    assert_false(r.timed_out);
    assert_true(r.cpu_exceeded);
    assert_int_equal(r.signal, SIGXCPU);
    rg_sandbox_result_release(&r);
}

static void address_space_limit_is_memory_exhaustion(void **state)
{
    (void)state;
    const char *argv[] = {PYTHON, "-c", "b = bytearray(1 << 30)", NULL};
    rg_sandbox_config c = config(argv);
    c.limits.as_bytes = (uint64_t)256 << 20;
    rg_sandbox_result r;
    run(&c, &r);
    assert_true(r.exited);
    assert_int_equal(r.exit_code, 1);
    assert_non_null(strstr(r.err_tail, "MemoryError"));
    assert_true(r.memory_exhausted);
    rg_sandbox_result_release(&r);

    /* The same program with room to spare is fine. */
    c.limits.as_bytes = (uint64_t)4 << 30;
    run(&c, &r);
    assert_true(r.exited);
    assert_int_equal(r.exit_code, 0);
    assert_false(r.memory_exhausted);
    rg_sandbox_result_release(&r);
}

static void file_size_limit(void **state)
{
    (void)state;
    const char *argv[] = {"/bin/sh", "-c", "echo data > f; echo written", NULL};
    rg_sandbox_config c = config(argv);
    c.limits.fsize_bytes = 0;
    rg_sandbox_result r;
    /* Ignored or blocked in the caller (a server might), the signals still
     * reach the command with their default action. */
    void (*old)(int) = signal(SIGXFSZ, SIG_IGN);
    sigset_t block, saved;
    sigemptyset(&block);
    sigaddset(&block, SIGXFSZ);
    pthread_sigmask(SIG_BLOCK, &block, &saved);
    run(&c, &r);
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    signal(SIGXFSZ, old);
    assert_int_equal(r.signal, SIGXFSZ);
    assert_int_equal(r.out_total, 0);
    rg_sandbox_result_release(&r);
}

static void fork_refused(void **state)
{
    (void)state;
    /* /bin/true is not the last command, so sh must fork for it. */
    const char *argv[] = {"/bin/sh", "-c", "/bin/true && echo forked; :", NULL};
    rg_sandbox_config c = config(argv);
    rg_sandbox_result r;
    run(&c, &r);
    print_message("enforced 0x%x notes: %s\n", r.enforced, r.notes);
    if (r.enforced & (RG_SANDBOX_SECCOMP | RG_SANDBOX_NPROC)) {
        assert_null(strstr(r.out.data ? r.out.data : "", "forked"));
        assert_non_null(strcasestr(r.err_tail, "fork"));
    } else {
        assert_non_null(strstr(r.out.data ? r.out.data : "", "forked"));
        assert_true(strlen(r.notes) > 0);
    }
    rg_sandbox_result_release(&r);
}

static void network_refused(void **state)
{
    (void)state;
    const char *script =
        "import socket\n"
        "try:\n"
        "    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n"
        "except OSError as e:\n"
        "    print('socket refused:', e.errno); raise SystemExit(0)\n"
        "try:\n"
        "    s.connect(('127.0.0.1', 9))\n"
        "except OSError as e:\n"
        "    print('connect refused:', e.errno); raise SystemExit(0)\n"
        "print('connected')\n";
    const char *argv[] = {PYTHON, "-c", script, NULL};
    rg_sandbox_config c = config(argv);
    rg_sandbox_result r;
    run(&c, &r);
    const char *out = r.out.data ? r.out.data : "";
    print_message("enforced 0x%x out: %s err: %s", r.enforced, out, r.err_tail);
    assert_true(r.exited);
    assert_int_equal(r.exit_code, 0);
    if (r.enforced & RG_SANDBOX_SECCOMP) {
        assert_string_equal(out, "socket refused: 1\n"); /* EPERM */
    } else if (r.enforced & RG_SANDBOX_NETNS) {
        /* Only a down loopback: ENETUNREACH (101). */
        assert_string_equal(out, "connect refused: 101\n");
    } else {
        assert_true(strlen(r.notes) > 0);
    }
    rg_sandbox_result_release(&r);
}

static void stderr_tail_is_capped(void **state)
{
    (void)state;
    const char *argv[] = {"/bin/sh", "-c",
                          "i=0; while [ $i -lt 2000 ]; do "
                          "echo \"line $i\" >&2; i=$((i+1)); done; "
                          "echo 0123456789abcdef",
                          NULL};
    rg_sandbox_config c = config(argv);
    c.limits.stdout_max = 10;
    rg_sandbox_result r;
    run(&c, &r);
    assert_true(r.exited);
    assert_int_equal(r.exit_code, 0);
    assert_true(r.err_total > RG_SANDBOX_TAIL_MAX);
    assert_int_equal(r.err_len, RG_SANDBOX_TAIL_MAX);
    assert_int_equal(strlen(r.err_tail), RG_SANDBOX_TAIL_MAX);
    const char *end = "line 1998\nline 1999\n";
    assert_string_equal(r.err_tail + r.err_len - strlen(end), end);
    assert_null(strstr(r.err_tail, "line 0\n"));
    /* stdout keeps its head up to the cap and counts the rest. */
    assert_int_equal(r.out.len, 10);
    assert_memory_equal(r.out.data, "0123456789", 10);
    assert_int_equal(r.out_total, 17);
    rg_sandbox_result_release(&r);
}

static void bad_configs_are_errors(void **state)
{
    (void)state;
    rg_err err;
    rg_sandbox_result r;
    const char *missing[] = {"rg-no-such-program-here", NULL};
    rg_sandbox_config c = config(missing);
    assert_int_equal(rg_sandbox_run(&c, &r, &err), RG_ENOTFOUND);
    rg_sandbox_result_release(&r);

    const char *sh[] = {"/bin/sh", "-c", "exit 0", NULL};
    c = config(sh);
    c.stdin_path = "/nonexistent/stdin";
    assert_int_equal(rg_sandbox_run(&c, &r, &err), RG_ENOTFOUND);
    assert_string_equal(err.field, "stdin_path");
    rg_sandbox_result_release(&r);

    const char *env[] = {"NOEQUALS", NULL};
    c = config(sh);
    c.env = env;
    assert_int_equal(rg_sandbox_run(&c, &r, &err), RG_EINVAL);
    rg_sandbox_result_release(&r);

    /* A file that is not executable: execve fails in the child. */
    const char *notexec[] = {"/etc/hostname", NULL};
    c = config(notexec);
    assert_int_equal(rg_sandbox_run(&c, &r, &err), RG_EIO);
    assert_non_null(strstr(err.msg, "cannot execute"));
    rg_sandbox_result_release(&r);
}

static void environment_is_minimal(void **state)
{
    (void)state;
    setenv("RG_TEST_SECRET", "leak", 1);
    const char *argv[] = {"/bin/sh", "-c",
                          "echo \"${RG_TEST_SECRET:-none} $EXTRA $LC_ALL\"",
                          NULL};
    const char *env[] = {"EXTRA=given", NULL};
    rg_sandbox_config c = config(argv);
    c.env = env;
    rg_sandbox_result r;
    run(&c, &r);
    assert_string_equal(r.out.data, "none given C\n");
    rg_sandbox_result_release(&r);
    unsetenv("RG_TEST_SECRET");
}

typedef struct par {
    int code;
    rg_sandbox_result r;
    int rc;
} par;

static void *par_run(void *arg)
{
    par *p = arg;
    char script[64];
    snprintf(script, sizeof script, "echo %d; exit %d", p->code, p->code);
    const char *argv[] = {"/bin/sh", "-c", script, NULL};
    rg_sandbox_config c = config(argv);
    p->rc = rg_sandbox_run(&c, &p->r, NULL);
    return NULL;
}

static void concurrent_runs_are_independent(void **state)
{
    (void)state;
    enum { N = 6 };
    par ps[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        ps[i].code = 10 + i;
        assert_int_equal(pthread_create(&th[i], NULL, par_run, &ps[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        char want[16];
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(ps[i].rc, 0);
        assert_true(ps[i].r.exited);
        assert_int_equal(ps[i].r.exit_code, 10 + i);
        snprintf(want, sizeof want, "%d\n", 10 + i);
        assert_string_equal(ps[i].r.out.data, want);
        rg_sandbox_result_release(&ps[i].r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exit_zero_in_an_empty_directory),
        cmocka_unit_test(nonzero_exit_and_stderr),
        cmocka_unit_test(segfault_is_a_signal),
        cmocka_unit_test(wall_clock_timeout_kills),
        cmocka_unit_test(cpu_limit_kills),
        cmocka_unit_test(address_space_limit_is_memory_exhaustion),
        cmocka_unit_test(file_size_limit),
        cmocka_unit_test(fork_refused),
        cmocka_unit_test(network_refused),
        cmocka_unit_test(stderr_tail_is_capped),
        cmocka_unit_test(bad_configs_are_errors),
        cmocka_unit_test(environment_is_minimal),
        cmocka_unit_test(concurrent_runs_are_independent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
