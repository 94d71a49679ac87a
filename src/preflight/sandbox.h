/*
 * sandbox.h - run one command in a sandbox and report how it ended.
 *
 * The command runs in a separate process (fork + execve, no shell) with:
 *   - its own process group; the parent enforces a wall-clock timeout by
 *     killing the whole group with SIGKILL;
 *   - resource limits: RLIMIT_CPU (SIGXCPU at the limit, SIGKILL one
 *     second later), RLIMIT_AS, RLIMIT_FSIZE, RLIMIT_NPROC = 0 (no new
 *     processes), RLIMIT_NOFILE, RLIMIT_CORE = 0 (no core dumps);
 *   - a seccomp filter when libseccomp was found at build time (deny
 *     list; the call fails with EPERM): socket, socketpair, connect, bind,
 *     listen, accept, accept4; fork, vfork, clone without CLONE_THREAD
 *     (clone3 fails with ENOSYS so that thread libraries fall back to
 *     clone); ptrace, process_vm_readv/writev; unshare, setns, mount,
 *     umount2, pivot_root, chroot; module, kexec, bpf, perf_event_open,
 *     userfaultfd, io_uring_setup, keyctl, add_key, request_key, reboot,
 *     swapon, swapoff, acct. Other architectures' system calls are killed.
 *     no_new_privs is always set;
 *   - no network: unshare(CLONE_NEWUSER | CLONE_NEWNET) when the kernel
 *     permits it (then unshare(CLONE_NEWNET) alone), so the process sees
 *     only a down loopback, plus seccomp denying socket();
 *   - an empty, private (0700) temporary working directory, also HOME and
 *     TMPDIR, removed with its content afterwards;
 *   - stdin from a file (or /dev/null), every other descriptor closed, an
 *     environment of only PATH, LC_ALL, HOME, TMPDIR and the caller's
 *     extra entries;
 *   - stdout kept up to a cap (the head), stderr's last
 *     RG_SANDBOX_TAIL_MAX bytes kept (the tail); both are drained to the
 *     end so the command never blocks on a full pipe.
 *
 * What could not be enforced is reported, never silently skipped: the
 * result's `enforced` flags say which layers were in place and `notes`
 * says why a layer is missing (no libseccomp, unshare refused). Running
 * as root, RLIMIT_NPROC is not enforced by the kernel (root bypasses it);
 * the seccomp filter is then what refuses new processes.
 *
 * Memory exhaustion is a heuristic (documented on rg_sandbox_result).
 * The ASan runtime reserves terabytes of address space: a sanitizer build
 * cannot run under RLIMIT_AS, so pass as_bytes = 0 for one.
 *
 * Pure of global state and thread-safe: nothing between fork and execve
 * allocates or takes a lock (the seccomp program, argv and environment
 * are prepared before fork), no signal handler is installed, and the
 * child is waited for through a pidfd (its pid only, never waitpid(-1)).
 */
#ifndef RG_PREFLIGHT_SANDBOX_H
#define RG_PREFLIGHT_SANDBOX_H

#include "common/buf.h"
#include "common/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RG_SANDBOX_TAIL_MAX 4096 /* bytes of stderr kept: the last ones */

/* Layers of the sandbox that were in place for a run. */
enum {
    RG_SANDBOX_SECCOMP = 1 << 0, /* the seccomp filter above */
    RG_SANDBOX_USERNS = 1 << 1,  /* a new user namespace */
    RG_SANDBOX_NETNS = 1 << 2,   /* a new network namespace */
    RG_SANDBOX_NPROC = 1 << 3,   /* RLIMIT_NPROC = 0 binds (not root) */
};

/* Limits of one run. 0 means "no limit" for every field except
 * fsize_bytes, where 0 means the command may not write to any file. */
typedef struct rg_sandbox_limits {
    int64_t wall_ms;      /* wall-clock timeout, enforced by the parent */
    unsigned cpu_s;       /* RLIMIT_CPU, seconds */
    uint64_t as_bytes;    /* RLIMIT_AS; 0 for sanitizer builds */
    uint64_t fsize_bytes; /* RLIMIT_FSIZE */
    unsigned nofile;      /* RLIMIT_NOFILE */
    size_t stdout_max;    /* bytes of stdout kept; the rest is counted */
} rg_sandbox_limits;

/* One command to run. Nothing here is taken over by the sandbox. */
typedef struct rg_sandbox_config {
    const char *const *argv; /* NULL-ended; argv[0] is the program: a path,
                                or a name searched in $PATH */
    const char *const *env;  /* extra "NAME=VALUE" entries, NULL-ended;
                                may be NULL */
    const char *stdin_path;  /* file read as stdin; NULL: /dev/null */
    const char *tmp_base;    /* parent of the working directory; NULL:
                                "/tmp" */
    rg_sandbox_limits limits;
} rg_sandbox_config;

/* How a run ended. Exactly one of `exited` (exit_code valid) and
 * `signal` != 0 holds.
 *
 * memory_exhausted is a heuristic, true when the run failed, an address
 * space limit was set and either stderr's tail says so (case-insensitive
 * "out of memory", "cannot allocate memory", "memoryerror", "bad_alloc",
 * "memory exhausted", "failed to allocate", "allocation failed") or the
 * process died of SIGSEGV, SIGBUS, SIGABRT or SIGKILL (not the timeout's)
 * with a peak resident size of at least 3/4 of the limit. A program that
 * hits the limit and fails silently without touching its memory is
 * reported as a plain exit or signal. */
typedef struct rg_sandbox_result {
    bool exited; /* ended by exit(); exit_code is its status */
    int exit_code;
    int signal;            /* the signal that killed it, or 0 */
    bool timed_out;        /* killed by the wall-clock timeout */
    bool cpu_exceeded;     /* killed by RLIMIT_CPU (SIGXCPU, or SIGKILL
                              after at least cpu_s of CPU time) */
    bool memory_exhausted; /* see above */
    int64_t wall_ms;       /* from fork to reaping */
    int64_t cpu_ms;        /* user + system CPU time of the command */
    int64_t maxrss_kb;     /* peak resident set size */
    rg_buf out;            /* stdout's first limits.stdout_max bytes */
    uint64_t out_total;    /* bytes written to stdout in all */
    char err_tail[RG_SANDBOX_TAIL_MAX + 1]; /* last bytes of stderr, NUL-
                                               terminated */
    size_t err_len;                         /* bytes in err_tail */
    uint64_t err_total;                     /* bytes written to stderr in all */
    unsigned enforced;                      /* RG_SANDBOX_* layers in place */
    char notes[256];                        /* why a layer is missing, or "" */
} rg_sandbox_result;

/* Default limits: 30 s wall, 10 s CPU, 1 GiB address space, 16 MiB
 * files, 64 descriptors, 16 MiB of stdout kept. */
rg_sandbox_limits rg_sandbox_limits_default(void);

/* Runs cfg's command and fills *res (initially anything; release it with
 * rg_sandbox_result_release, also after a failure). Returns 0 when the
 * command ran, whatever its outcome; RG_EINVAL for a bad config,
 * RG_ENOTFOUND when the program is not found, RG_EIO when the sandbox
 * could not be set up or the program could not be executed (err names
 * the step and the errno), RG_ENOMEM. */
int rg_sandbox_run(const rg_sandbox_config *cfg, rg_sandbox_result *res,
                   rg_err *err);

/* Frees what res owns (the stdout buffer). */
void rg_sandbox_result_release(rg_sandbox_result *res);

/* "SIGSEGV" for SIGSEGV and so on for the standard signals; "SIG?" for
 * others. A static string. */
const char *rg_signal_name(int sig);

#endif
