/*
 * sandbox.c - fork, confine, execve, watch: the sandbox of sandbox.h.
 *
 * The parent prepares everything the child needs (resolved program path,
 * environment, descriptors, the seccomp program) so that the child, which
 * may be a fork of a threaded server, only makes system calls until
 * execve. The child reports the layers it put in place, or the step that
 * failed, on a close-on-exec status pipe: EOF there means execve
 * succeeded.
 */
#include "preflight/sandbox.h"

#include "common/clock.h"
#include "preflight/filter.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define ENV_EXTRA_MAX 64
#define CHUNK 16384

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* Steps of the child's set-up, named in error messages. */
enum step {
    STEP_STDIO,
    STEP_CHDIR,
    STEP_RLIMIT,
    STEP_NO_NEW_PRIVS,
    STEP_EXEC,
};

static const char *const step_names[] = {
    [STEP_STDIO] = "redirect stdio",
    [STEP_CHDIR] = "enter the working directory",
    [STEP_RLIMIT] = "set resource limits",
    [STEP_NO_NEW_PRIVS] = "set no_new_privs",
    [STEP_EXEC] = "execute",
};

/* What the child writes on the status pipe: first its layers, then, if a
 * step fails, the failure. */
typedef struct status_msg {
    int failed; /* 0: layers report; 1: failure at step */
    int step;
    int errnum;
    unsigned enforced; /* RG_SANDBOX_* */
    int userns_errno;  /* why unshare(CLONE_NEWUSER) failed, or 0 */
    int netns_errno;   /* why unshare(CLONE_NEWNET) failed, or 0 */
    int seccomp_errno; /* why installing the filter failed, or 0 */
} status_msg;

/* Everything the child uses, ready before fork. */
typedef struct launch {
    char *path; /* the program to execve */
    char *const *argv;
    char **envp;            /* NULL-ended, owned strings */
    size_t nenv;            /* entries allocated in envp */
    char workdir[PATH_MAX]; /* "" until created */
    int in_fd;
    int out[2], err[2], status[2];
    rg__filter filter;
    const rg_sandbox_limits *lim;
    bool nproc_binds;
    pid_t parent; /* the process that forked the command */
} launch;

rg_sandbox_limits rg_sandbox_limits_default(void)
{
    rg_sandbox_limits l = {
        .wall_ms = 30000,
        .cpu_s = 10,
        .as_bytes = (uint64_t)1 << 30,
        .fsize_bytes = (uint64_t)16 << 20,
        .nofile = 64,
        .stdout_max = (size_t)16 << 20,
    };
    return l;
}

const char *rg_signal_name(int sig)
{
    static const char *const names[] = {
        [SIGHUP] = "SIGHUP",   [SIGINT] = "SIGINT",
        [SIGQUIT] = "SIGQUIT", [SIGILL] = "SIGILL",
        [SIGTRAP] = "SIGTRAP", [SIGABRT] = "SIGABRT",
        [SIGBUS] = "SIGBUS",   [SIGFPE] = "SIGFPE",
        [SIGKILL] = "SIGKILL", [SIGUSR1] = "SIGUSR1",
        [SIGSEGV] = "SIGSEGV", [SIGUSR2] = "SIGUSR2",
        [SIGPIPE] = "SIGPIPE", [SIGALRM] = "SIGALRM",
        [SIGTERM] = "SIGTERM", [SIGSTKFLT] = "SIGSTKFLT",
        [SIGCHLD] = "SIGCHLD", [SIGCONT] = "SIGCONT",
        [SIGSTOP] = "SIGSTOP", [SIGTSTP] = "SIGTSTP",
        [SIGTTIN] = "SIGTTIN", [SIGTTOU] = "SIGTTOU",
        [SIGURG] = "SIGURG",   [SIGXCPU] = "SIGXCPU",
        [SIGXFSZ] = "SIGXFSZ", [SIGVTALRM] = "SIGVTALRM",
        [SIGPROF] = "SIGPROF", [SIGWINCH] = "SIGWINCH",
        [SIGIO] = "SIGIO",     [SIGPWR] = "SIGPWR",
        [SIGSYS] = "SIGSYS",
    };
    if (sig > 0 && (size_t)sig < sizeof names / sizeof names[0] && names[sig])
        return names[sig];
    return "SIG?";
}

/* ---- the child: system calls only, then execve ---- */

static void report(int fd, const status_msg *m)
{
    ssize_t n;
    do
        n = write(fd, m, sizeof *m);
    while (n < 0 && errno == EINTR);
}

static _Noreturn void child_fail(const launch *l, status_msg *m, int step)
{
    m->failed = 1;
    m->step = step;
    m->errnum = errno;
    report(l->status[1], m);
    _exit(127);
}

static int limit(int resource, uint64_t soft, uint64_t hard)
{
    struct rlimit r = {.rlim_cur = (rlim_t)soft, .rlim_max = (rlim_t)hard};
    return setrlimit(resource, &r);
}

/* Marks every descriptor from 3 up close-on-exec. */
static void cloexec_from_3(void)
{
    if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
        return;
    long max = sysconf(_SC_OPEN_MAX);
    if (max < 0 || max > 65536)
        max = 65536;
    for (int fd = 3; fd < max; fd++)
        fcntl(fd, F_SETFD, FD_CLOEXEC);
}

static _Noreturn void child(const launch *l)
{
    status_msg m = {0};
    const rg_sandbox_limits *lim = l->lim;
    setpgid(0, 0);
    /* A server thread may block or ignore signals; both survive execve.
     * The command starts with none blocked and every disposition default
     * (so SIGXCPU and SIGXFSZ do end it). */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            sigaction(sig, &dfl, NULL);
    /* The wall-clock limit is the parent's to enforce: if the parent dies
     * (rollgated killed mid-preflight), the command dies with it. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != l->parent)
        _exit(127);
    /* Every descriptor the parent made is >= 3 and close-on-exec. */
    if (dup2(l->in_fd, 0) < 0 || dup2(l->out[1], 1) < 0 ||
        dup2(l->err[1], 2) < 0)
        child_fail(l, &m, STEP_STDIO);
    cloexec_from_3();

    if (unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0) {
        m.enforced |= RG_SANDBOX_USERNS | RG_SANDBOX_NETNS;
    } else {
        m.userns_errno = errno;
        if (unshare(CLONE_NEWNET) == 0)
            m.enforced |= RG_SANDBOX_NETNS;
        else
            m.netns_errno = errno;
    }
    if (chdir(l->workdir) != 0)
        child_fail(l, &m, STEP_CHDIR);

    if ((lim->cpu_s && limit(RLIMIT_CPU, lim->cpu_s, lim->cpu_s + 1u)) ||
        (lim->as_bytes && limit(RLIMIT_AS, lim->as_bytes, lim->as_bytes)) ||
        limit(RLIMIT_FSIZE, lim->fsize_bytes, lim->fsize_bytes) ||
        (lim->nofile && limit(RLIMIT_NOFILE, lim->nofile, lim->nofile)) ||
        limit(RLIMIT_NPROC, 0, 0) || limit(RLIMIT_CORE, 0, 0))
        child_fail(l, &m, STEP_RLIMIT);
    if (l->nproc_binds)
        m.enforced |= RG_SANDBOX_NPROC;

    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        child_fail(l, &m, STEP_NO_NEW_PRIVS);
    if (l->filter.len) {
        struct sock_fprog prog = {.len = l->filter.len,
                                  .filter = l->filter.insns};
        if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0)
            m.enforced |= RG_SANDBOX_SECCOMP;
        else
            m.seccomp_errno = errno;
    }
    report(l->status[1], &m);
    execve(l->path, l->argv, l->envp);
    child_fail(l, &m, STEP_EXEC);
}

/* ---- the parent: preparation ---- */

/* Moves *fd to a descriptor >= 3 (close-on-exec), so that the child's
 * dup2 onto 0, 1 and 2 never overwrites another of its descriptors. */
static int above_stdio(int *fd)
{
    if (*fd >= 3)
        return 0;
    int nfd = fcntl(*fd, F_DUPFD_CLOEXEC, 3);
    if (nfd < 0)
        return -1;
    close(*fd);
    *fd = nfd;
    return 0;
}

static int make_pipe(int p[2], rg_err *err)
{
    if (pipe2(p, O_CLOEXEC) != 0 || above_stdio(&p[0]) != 0 ||
        above_stdio(&p[1]) != 0)
        return rg_err_set(err, RG_EIO, "sandbox: pipe: %s", strerror(errno));
    return 0;
}

/* True when the kernel will apply RLIMIT_NPROC to us: it exempts root's
 * real uid and holders of CAP_SYS_RESOURCE or CAP_SYS_ADMIN. */
static bool nproc_binds(void)
{
    if (getuid() == 0)
        return false;
    struct __user_cap_header_struct hdr = {
        .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2];
    if (syscall(SYS_capget, &hdr, data) != 0)
        return false;
    uint32_t eff = data[0].effective;
    return !(eff & (1u << CAP_SYS_RESOURCE)) && !(eff & (1u << CAP_SYS_ADMIN));
}

/* Finds the program: a path with a '/' (made absolute, since the child
 * changes directory), or a name searched in $PATH. *out is malloc'd. */
static int resolve(const char *prog, char **out, rg_err *err)
{
    *out = NULL;
    if (strchr(prog, '/')) {
        *out = realpath(prog, NULL);
        if (!*out)
            return rg_err_set(err, errno == ENOMEM ? RG_ENOMEM : RG_ENOTFOUND,
                              "program '%s': %s", prog, strerror(errno));
        return 0;
    }
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        size_t n = strcspn(path, ":");
        char cand[PATH_MAX];
        int w = snprintf(cand, sizeof cand, "%.*s/%s", (int)n, path, prog);
        if (n > 0 && w > 0 && (size_t)w < sizeof cand &&
            access(cand, X_OK) == 0) {
            *out = strdup(cand);
            return *out ? 0 : rg_err_set(err, RG_ENOMEM, "out of memory");
        }
        path += n;
        if (*path == ':')
            path++;
    }
    return rg_err_set(err, RG_ENOTFOUND, "program '%s' not found in PATH",
                      prog);
}

static char *format(const char *fmt, const char *a)
{
    rg_buf b;
    rg_buf_init(&b, PATH_MAX + 64);
    if (rg_buf_printf(&b, fmt, a) != 0) {
        rg_buf_release(&b);
        return NULL;
    }
    return rg_buf_detach(&b);
}

/* Builds the child's environment: PATH, LC_ALL, HOME and TMPDIR (the
 * working directory), then the caller's extra entries. */
static int build_env(launch *l, const char *const *extra, rg_err *err)
{
    size_t nextra = 0;
    while (extra && extra[nextra]) {
        if (!strchr(extra[nextra], '=') || extra[nextra][0] == '=')
            return rg_err_field(err, RG_EINVAL, "env",
                                "env entry '%s' is not NAME=VALUE",
                                extra[nextra]);
        if (++nextra > ENV_EXTRA_MAX)
            return rg_err_field(err, RG_EINVAL, "env",
                                "more than %d env entries", ENV_EXTRA_MAX);
    }
    l->envp = calloc(nextra + 5, sizeof *l->envp);
    if (!l->envp)
        return rg_err_set(err, RG_ENOMEM, "out of memory");
    l->nenv = nextra + 4;
    size_t i = 0;
    l->envp[i++] = format("PATH=%s", "/usr/local/bin:/usr/bin:/bin");
    l->envp[i++] = format("LC_ALL=%s", "C");
    l->envp[i++] = format("HOME=%s", l->workdir);
    l->envp[i++] = format("TMPDIR=%s", l->workdir);
    for (size_t k = 0; k < nextra; k++)
        l->envp[i++] = format("%s", extra[k]);
    for (size_t k = 0; k < l->nenv; k++)
        if (!l->envp[k])
            return rg_err_set(err, RG_ENOMEM, "out of memory");
    return 0;
}

static int remove_entry(const char *path, const struct stat *sb, int flag,
                        struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

/* ---- the parent: watching ---- */

/* Keeps the last RG_SANDBOX_TAIL_MAX bytes of stderr. */
static void tail_add(rg_sandbox_result *res, const char *p, size_t n)
{
    res->err_total += n;
    if (n >= RG_SANDBOX_TAIL_MAX) {
        memcpy(res->err_tail, p + n - RG_SANDBOX_TAIL_MAX, RG_SANDBOX_TAIL_MAX);
        res->err_len = RG_SANDBOX_TAIL_MAX;
    } else {
        if (res->err_len + n > RG_SANDBOX_TAIL_MAX) {
            size_t drop = res->err_len + n - RG_SANDBOX_TAIL_MAX;
            memmove(res->err_tail, res->err_tail + drop, res->err_len - drop);
            res->err_len -= drop;
        }
        memcpy(res->err_tail + res->err_len, p, n);
        res->err_len += n;
    }
    res->err_tail[res->err_len] = '\0';
}

/* Reads what is available on fd into the result; clears *open at EOF. */
static int drain(int fd, bool is_err, rg_sandbox_result *res, bool *open,
                 rg_err *err)
{
    char chunk[CHUNK];
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0)
        return errno == EINTR || errno == EAGAIN
                   ? 0
                   : rg_err_set(err, RG_EIO, "sandbox: read: %s",
                                strerror(errno));
    if (n == 0) {
        *open = false;
        return 0;
    }
    if (is_err) {
        tail_add(res, chunk, (size_t)n);
        return 0;
    }
    res->out_total += (uint64_t)n;
    size_t room = res->out.max - res->out.len;
    size_t keep = (size_t)n < room ? (size_t)n : room;
    return keep ? rg_buf_add(&res->out, chunk, keep) : 0;
}

static bool ci_contains(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return true;
    return false;
}

/* The memory heuristic documented in sandbox.h. */
static bool memory_exhausted(const rg_sandbox_result *res,
                             const rg_sandbox_limits *lim)
{
    static const char *const words[] = {
        "out of memory",     "cannot allocate memory",
        "memoryerror",       "bad_alloc",
        "memory exhausted",  "failed to allocate",
        "allocation failed", NULL};
    if (!lim->as_bytes || (res->exited && res->exit_code == 0))
        return false;
    for (size_t i = 0; words[i]; i++)
        if (ci_contains(res->err_tail, words[i]))
            return true;
    int s = res->signal;
    bool fatal = s == SIGSEGV || s == SIGBUS || s == SIGABRT ||
                 (s == SIGKILL && !res->timed_out);
    return fatal && (uint64_t)res->maxrss_kb * 1024 >= lim->as_bytes / 4 * 3;
}

/* Fills the outcome from a wait status and resource usage. */
static void outcome(rg_sandbox_result *res, const rg_sandbox_limits *lim,
                    int status, const struct rusage *ru, bool killed_by_timer)
{
    if (WIFEXITED(status)) {
        res->exited = true;
        res->exit_code = WEXITSTATUS(status);
    } else {
        res->signal = WTERMSIG(status);
    }
    res->timed_out = killed_by_timer && res->signal == SIGKILL;
    res->cpu_ms = (int64_t)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) * 1000 +
                  (ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) / 1000;
    res->maxrss_kb = ru->ru_maxrss;
    res->cpu_exceeded =
        res->signal == SIGXCPU ||
        (res->signal == SIGKILL && !res->timed_out && lim->cpu_s &&
         res->cpu_ms >= (int64_t)lim->cpu_s * 1000);
    res->memory_exhausted = memory_exhausted(res, lim);
}

/* True when the child has ended (it stays a zombie: its pid, and so its
 * process group id, cannot be reused until it is reaped). */
static bool ended(pid_t pid)
{
    siginfo_t si = {0};
    return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
           si.si_pid == pid;
}

/* Watches the child until it has ended and both pipes are closed (or,
 * once it has ended, until they stay quiet for a second: nothing can be
 * left to write when the process group is gone). */
static int watch(launch *l, pid_t pid, int64_t start, rg_sandbox_result *res,
                 rg_err *err)
{
    int rc = 0, pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    bool out_open = true, err_open = true, done = false, killed = false;
    int64_t deadline = l->lim->wall_ms > 0 ? start + l->lim->wall_ms : 0;
    while (!done || out_open || err_open) {
        struct pollfd p[3];
        nfds_t n = 0;
        int oi = -1, ei = -1, pi = -1;
        if (out_open)
            p[oi = (int)n++] =
                (struct pollfd){.fd = l->out[0], .events = POLLIN};
        if (err_open)
            p[ei = (int)n++] =
                (struct pollfd){.fd = l->err[0], .events = POLLIN};
        if (!done && pidfd >= 0)
            p[pi = (int)n++] = (struct pollfd){.fd = pidfd, .events = POLLIN};
        int timeout = -1;
        if (done)
            timeout = 1000;
        else if (deadline && !killed) {
            int64_t left = deadline - rg_monotonic_ms();
            timeout = left < 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
        }
        if (!done && pidfd < 0 && (timeout < 0 || timeout > 10))
            timeout = 10; /* no pidfd: look at the child every 10 ms */
        int pr = poll(p, n, timeout);
        if (pr < 0 && errno != EINTR) {
            rc = rg_err_set(err, RG_EIO, "sandbox: poll: %s", strerror(errno));
            break;
        }
        if (pr == 0 && done)
            break; /* pipes held open past the end: stop reading */
        if (!done && !killed && deadline && rg_monotonic_ms() >= deadline) {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            killed = true;
        }
        if (pr <= 0 && !(pidfd < 0 && !done))
            continue;
        if (oi >= 0 && p[oi].revents &&
            (rc = drain(l->out[0], false, res, &out_open, err)) != 0)
            break;
        if (ei >= 0 && p[ei].revents &&
            (rc = drain(l->err[0], true, res, &err_open, err)) != 0)
            break;
        if (!done && ((pi >= 0 && p[pi].revents) || pidfd < 0) && ended(pid)) {
            kill(-pid, SIGKILL); /* anything left in its group */
            done = true;
        }
    }
    if (rc != 0 && !done) {
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
    }
    int status = 0;
    struct rusage ru = {0};
    while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR)
        ;
    res->wall_ms = rg_monotonic_ms() - start;
    if (rc == 0)
        outcome(res, l->lim, status, &ru, killed);
    if (pidfd >= 0)
        close(pidfd);
    return rc;
}

/* Reads the child's status messages until EOF (its execve, or its end).
 * Returns 0, or the child's set-up failure as an error. */
static int read_status(launch *l, const char *prog, rg_sandbox_result *res,
                       rg_err *err)
{
    status_msg m;
    ssize_t n;
    int rc = 0;
    for (;;) {
        n = read(l->status[0], &m, sizeof m);
        if (n < 0 && errno == EINTR)
            continue;
        if (n != (ssize_t)sizeof m)
            break;
        if (m.failed) {
            const char *step = step_names[m.step];
            rc = rg_err_set(err, m.errnum == ENOENT ? RG_ENOTFOUND : RG_EIO,
                            "sandbox: cannot %s '%s': %s", step, prog,
                            strerror(m.errnum));
            continue;
        }
        res->enforced = m.enforced;
        rg_buf notes;
        rg_buf_init(&notes, sizeof res->notes - 1);
        if (m.userns_errno)
            rg_buf_printf(&notes, "no user namespace (%s); ",
                          strerror(m.userns_errno));
        if (m.netns_errno)
            rg_buf_printf(&notes, "no network namespace (%s); ",
                          strerror(m.netns_errno));
        if (m.seccomp_errno)
            rg_buf_printf(&notes, "seccomp refused (%s); ",
                          strerror(m.seccomp_errno));
        if (notes.len)
            snprintf(res->notes, sizeof res->notes, "%s", notes.data);
        rg_buf_release(&notes);
    }
    return rc;
}

static void add_note(rg_sandbox_result *res, const char *note)
{
    size_t len = strlen(res->notes);
    snprintf(res->notes + len, sizeof res->notes - len, "%s; ", note);
}

int rg_sandbox_run(const rg_sandbox_config *cfg, rg_sandbox_result *res,
                   rg_err *err)
{
    int rc = 0;
    pid_t pid = -1;
    launch l = {.in_fd = -1,
                .out = {-1, -1},
                .err = {-1, -1},
                .status = {-1, -1},
                .lim = &cfg->limits};
    memset(res, 0, sizeof *res);
    rg_buf_init(&res->out, cfg->limits.stdout_max);
    if (!cfg->argv || !cfg->argv[0] || !cfg->argv[0][0])
        return rg_err_field(err, RG_EINVAL, "argv", "no program to run");
    l.argv = (char *const *)cfg->argv;

    if ((rc = resolve(cfg->argv[0], &l.path, err)) != 0)
        goto cleanup;
    const char *base = cfg->tmp_base ? cfg->tmp_base : "/tmp";
    int w = snprintf(l.workdir, sizeof l.workdir, "%s/rg-sandbox-XXXXXX", base);
    if (w < 0 || (size_t)w >= sizeof l.workdir) {
        l.workdir[0] = '\0';
        rc = rg_err_field(err, RG_EINVAL, "tmp_base", "tmp_base too long");
        goto cleanup;
    }
    if (!mkdtemp(l.workdir)) {
        rc = rg_err_set(err, RG_EIO, "sandbox: mkdtemp '%s': %s", l.workdir,
                        strerror(errno));
        l.workdir[0] = '\0';
        goto cleanup;
    }
    if ((rc = build_env(&l, cfg->env, err)) != 0)
        goto cleanup;
    const char *in = cfg->stdin_path ? cfg->stdin_path : "/dev/null";
    l.in_fd = open(in, O_RDONLY | O_CLOEXEC);
    if (l.in_fd < 0 || above_stdio(&l.in_fd) != 0) {
        rc = rg_err_field(err, errno == ENOENT ? RG_ENOTFOUND : RG_EIO,
                          "stdin_path", "stdin '%s': %s", in, strerror(errno));
        goto cleanup;
    }
    if ((rc = make_pipe(l.out, err)) != 0 ||
        (rc = make_pipe(l.err, err)) != 0 ||
        (rc = make_pipe(l.status, err)) != 0)
        goto cleanup;
    rg_err filter_err;
    rg_err_clear(&filter_err);
    rg__filter_build(&l.filter, &filter_err); /* none: noted below */
    l.nproc_binds = nproc_binds();

    int64_t start = rg_monotonic_ms();
    l.parent = getpid();
    pid = fork();
    if (pid < 0) {
        rc = rg_err_set(err, RG_EIO, "sandbox: fork: %s", strerror(errno));
        goto cleanup;
    }
    if (pid == 0)
        child(&l);
    setpgid(pid, pid); /* also done by the child; whichever runs first */
    close(l.out[1]);
    close(l.err[1]);
    close(l.status[1]);
    l.out[1] = l.err[1] = l.status[1] = -1;

    rc = read_status(&l, cfg->argv[0], res, err);
    int wrc = watch(&l, pid, start, res, err);
    if (rc == 0)
        rc = wrc;
    if (filter_err.code != 0)
        add_note(res, filter_err.msg);
    if (!l.nproc_binds)
        add_note(res, "RLIMIT_NPROC not binding (root or CAP_SYS_RESOURCE)");
    size_t nl = strlen(res->notes);
    if (nl >= 2 && strcmp(res->notes + nl - 2, "; ") == 0)
        res->notes[nl - 2] = '\0';
cleanup:
    for (int i = 0; i < 2; i++) {
        if (l.out[i] >= 0)
            close(l.out[i]);
        if (l.err[i] >= 0)
            close(l.err[i]);
        if (l.status[i] >= 0)
            close(l.status[i]);
    }
    if (l.in_fd >= 0)
        close(l.in_fd);
    if (l.workdir[0] && nftw(l.workdir, remove_entry, 16,
                             FTW_DEPTH | FTW_PHYS | FTW_MOUNT) != 0)
        add_note(res, "working directory not fully removed");
    for (size_t i = 0; i < l.nenv; i++)
        free(l.envp[i]);
    free(l.envp);
    free(l.path);
    rg__filter_release(&l.filter);
    return rc;
}

void rg_sandbox_result_release(rg_sandbox_result *res)
{
    rg_buf_release(&res->out);
}
