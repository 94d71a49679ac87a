/* hooks.c - see hooks.h. */
#include "hooks.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static void set_env(const char *k, const char *v)
{
    if (v)
        setenv(k, v, 1);
    else
        unsetenv(k);
}

static void set_env_int(const char *k, int64_t v)
{
    char s[32];
    if (v > 0) {
        snprintf(s, sizeof s, "%" PRId64, v);
        setenv(k, s, 1);
    } else {
        unsetenv(k);
    }
}

/* In the child (all signals blocked by spawn): parent-death signal,
 * default dispositions, then unblock, so a SIGTERM sent right after the
 * fork is not swallowed by the agent's handler; environment; exec. */
static void exec_child(const char *cmd, const rg_hook_env *env,
                       unsigned alarm_s, pid_t parent, bool group)
{
    if (group)
        setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) /* the agent died before prctl took effect */
        _exit(127);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGCHLD, SIG_DFL);
    signal(SIGALRM, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    set_env("RG_CHANNEL", env->channel);
    set_env("RG_STATE_DIR", env->state_dir);
    char flags[4096];
    if (env->state_dir && snprintf(flags, sizeof flags, "%s/flags/active.json",
                                   env->state_dir) < (int)sizeof flags)
        set_env("RG_FLAGS", flags); /* flagstate.h */
    set_env("RG_CONTENT", env->content);
    set_env_int("RG_RELEASE", env->release);
    set_env_int("RG_VERSION", env->version);
    set_env("RG_SHA256", env->sha256);
    set_env("RG_NOTES", env->notes);
    set_env("RG_URGENCY", env->urgency);
    if (alarm_s)
        alarm(alarm_s); /* survives exec: SIGALRM ends an overdue hook */
    execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
    _exit(127);
}

/* fork with every signal blocked around it; the parent's mask is restored.
 * With group the child leads a new process group, set on both sides of
 * the fork so that it holds before either one runs on. */
static pid_t spawn(const char *cmd, const rg_hook_env *env, unsigned alarm_s,
                   bool group)
{
    sigset_t all, old;
    pid_t parent = getpid();
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, &old);
    pid_t pid = fork();
    if (pid == 0)
        exec_child(cmd, env, alarm_s, parent, group);
    if (pid > 0 && group)
        setpgid(pid, pid); /* EACCES once it exec'd: it did it itself */
    sigprocmask(SIG_SETMASK, &old, NULL);
    return pid;
}

pid_t rg_hook_spawn(const char *cmd, const rg_hook_env *env)
{
    return spawn(cmd, env, 0, true);
}

int rg_hook_run(const char *cmd, const rg_hook_env *env, unsigned timeout_s)
{
    if (!cmd)
        return 0;
    pid_t pid = spawn(cmd, env, timeout_s, false);
    if (pid < 0)
        return -1;
    int st = 0;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    return 128 + WTERMSIG(st);
}
