/* consumer.c - see consumer.h. */
#include "consumer.h"

#include "common/clock.h"
#include "common/log.h"
#include "hooks.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define STOP_GRACE_MS 5000
#define NOTHING_RETRY_MS 250 /* nothing installed yet: look again soon */
#define GROUP_RETRY_MS 20    /* members of the last start still dying */

void rg_consumer_init(rg_consumer *c, const char *cmd, rg_slots *slots)
{
    memset(c, 0, sizeof *c);
    c->cmd = cmd;
    c->slots = slots;
    c->backoff_ms = BACKOFF_MIN_MS;
}

int rg_consumer_subreaper(void)
{
    return prctl(PR_SET_CHILD_SUBREAPER, 1L, 0L, 0L, 0L);
}

/* The first process of a start (leader) has exited and been reaped: the
 * rest of its group is killed now (c->group until it is reaped). */
static void end_group(rg_consumer *c, pid_t leader)
{
    c->group = leader;
    kill(-leader, SIGKILL);
}

/* Reaps what has died of the last start's group. True when none of it
 * is left among our children. */
static bool group_gone(rg_consumer *c)
{
    int st;
    pid_t p;
    if (c->group == 0)
        return true;
    while ((p = waitpid(-c->group, &st, WNOHANG)) > 0)
        ;
    if (p == 0 || (p < 0 && errno == EINTR))
        return false;
    c->group = 0; /* ECHILD: nothing of it left */
    return true;
}

/* True when the flag set in force is not the one c started with. */
static bool flags_changed(const rg_consumer *c)
{
    return c->flags && strcmp(c->flags, c->loaded_flags) != 0;
}

/* The active slot and its release (0 when none). */
static rg_slot_id current(const rg_consumer *c, int64_t *release)
{
    rg_artifact_want m;
    rg_slot_id a = rg_slots_active(c->slots);
    *release = (a && rg_slots_meta(c->slots, a, &m, NULL) == 0) ? m.release : 0;
    return *release ? a : 0;
}

static int start(rg_consumer *c, const rg_trial_env *env, int64_t mono,
                 int64_t now_ms, rg_err *err)
{
    char content[RG_PATH_MAX];
    bool reverted = false;
    int rc = rg_slots_lock(c->slots, err);
    if (rc != 0)
        return rc;
    rc = rg_trial_count_start(env, now_ms, &reverted, err);
    int64_t release = 0;
    rg_slot_id slot = current(c, &release);
    rg_slots_unlock(c->slots);
    if (rc != 0)
        return rc;
    if (!slot) { /* nothing installed: look again later */
        c->next_start_mono = mono + NOTHING_RETRY_MS;
        return 0;
    }
    /* The slot it is started for, not active/content: a consumer that
     * reads its content after a switch must not load another release
     * than the one this start counts for (it is restarted on a switch). */
    rg_slots_content_path(c->slots, slot, content);
    rg_hook_env he = {.channel = c->slots->name,
                      .state_dir = env->state_dir,
                      .content = content,
                      .release = release};
    pid_t pid = rg_hook_spawn(c->cmd, &he);
    if (pid < 0)
        return rg_err_set(err, RG_EIO, "channel '%s': fork: %s", c->slots->name,
                          strerror(errno));
    c->pid = pid;
    c->started_mono = mono;
    c->loaded_slot = slot;
    c->loaded_release = release;
    snprintf(c->loaded_flags, sizeof c->loaded_flags, "%s",
             c->flags ? c->flags : "");
    c->stopping = false;
    rg_info("channel '%s': consumer started (pid %d, release %lld)",
            c->slots->name, (int)pid, (long long)release);
    return 0;
}

int rg_consumer_tick(rg_consumer *c, const rg_trial_env *env, int64_t mono,
                     int64_t now_ms, rg_err *err)
{
    if (c->pid == 0 && mono < c->next_start_mono)
        return 0;
    if (c->pid == 0 && !group_gone(c)) {
        c->next_start_mono = mono + GROUP_RETRY_MS;
        return 0;
    }
    if (c->pid == 0)
        return start(c, env, mono, now_ms, err);
    int64_t release = 0;
    rg_slot_id slot = current(c, &release);
    if (!c->stopping && (slot != c->loaded_slot ||
                         release != c->loaded_release || flags_changed(c))) {
        rg_info("channel '%s': %s changed, restarting consumer", c->slots->name,
                flags_changed(c) ? "flag set" : "content");
        c->stopping = true;
        kill(-c->pid, SIGTERM);
    }
    return 0;
}

int rg_consumer_exited(rg_consumer *c, const rg_trial_env *env, int st,
                       int64_t mono, int64_t now_ms, rg_err *err)
{
    char detail[96];
    int rc = 0;
    int64_t up = mono - c->started_mono;
    bool requested = c->stopping;
    end_group(c, c->pid); /* what it forked ends with it */
    c->pid = 0;
    c->stopping = false;
    if (WIFEXITED(st))
        snprintf(detail, sizeof detail, "consumer exited %d after %lld ms",
                 WEXITSTATUS(st), (long long)up);
    else
        snprintf(detail, sizeof detail,
                 "consumer killed by signal %d after %lld ms",
                 WIFSIGNALED(st) ? WTERMSIG(st) : 0, (long long)up);
    if (requested) {
        c->next_start_mono = mono;
        c->backoff_ms = BACKOFF_MIN_MS;
        return 0;
    }
    rg_warn("channel '%s': %s", c->slots->name, detail);
    if ((rc = rg_slots_lock(c->slots, err)) == 0) {
        rc = rg_trial_crashed(env, detail, now_ms, err);
        rg_slots_unlock(c->slots);
    }
    if (up >= BACKOFF_MAX_MS)
        c->backoff_ms = BACKOFF_MIN_MS;
    c->next_start_mono = mono + c->backoff_ms;
    c->backoff_ms =
        c->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : c->backoff_ms * 2;
    return rc == RG_ETOOBIG ? 0 : rc;
}

int64_t rg_consumer_uptime(const rg_consumer *c, int64_t mono)
{
    int64_t release = 0;
    if (c->pid == 0 || c->stopping)
        return 0;
    rg_slot_id slot = current(c, &release);
    if (slot != c->loaded_slot || release != c->loaded_release ||
        flags_changed(c))
        return 0;
    return mono - c->started_mono;
}

int64_t rg_consumer_wake_in(const rg_consumer *c, int64_t mono)
{
    if (c->pid != 0)
        return -1;
    return c->next_start_mono > mono ? c->next_start_mono - mono : 0;
}

void rg_consumer_stop(rg_consumer *c)
{
    int st;
    int64_t t0 = rg_monotonic_ms();
    if (c->pid != 0) {
        kill(-c->pid, SIGTERM);
        /* Up to STOP_GRACE_MS for a clean exit, then SIGKILL. */
        while (waitpid(c->pid, &st, WNOHANG) != c->pid) {
            if (rg_monotonic_ms() - t0 >= STOP_GRACE_MS) {
                kill(-c->pid, SIGKILL);
                while (waitpid(c->pid, &st, 0) < 0 && errno == EINTR)
                    ;
                break;
            }
            poll(NULL, 0, 20);
        }
        end_group(c, c->pid);
        c->pid = 0;
    }
    /* The rest of its group: killed, reaped for a bounded time. */
    while (!group_gone(c) && rg_monotonic_ms() - t0 < 2 * STOP_GRACE_MS)
        poll(NULL, 0, 20);
}
