/*
 * consumer.h - supervising a channel's consumer process.
 *
 * The consumer is (re)started on the active content; during a trial each
 * start is counted (fsynced) before the process is spawned, so a consumer
 * that crashes while loading new content makes the agent revert after K
 * starts. A consumer whose content changed under it (switch, revert) is
 * stopped with SIGTERM and started again, and so is one whose flag set
 * changed (c->flags, flagstate.h). Restarts back off from 100 ms
 * to 5 s; the backoff resets once a start has stayed up for `settle`.
 * Single-threaded: the owner reaps children and calls rg_consumer_exited.
 *
 * A consumer is its whole process group (hooks.h): SIGTERM goes to the
 * group, and when its first process has exited, whatever it forked that
 * is still there is killed (SIGKILL) and reaped before the next start,
 * so no process of an older start can touch the content or what the
 * consumer publishes while the next start (and its trial) runs. Reaping
 * them needs the owner to be their subreaper (rg_consumer_subreaper);
 * without it they go to init and are only killed.
 */
#ifndef RG_AGENT_CONSUMER_H
#define RG_AGENT_CONSUMER_H

#include "trial.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct rg_consumer {
    const char *cmd;         /* shell command, borrowed */
    rg_slots *slots;         /* its channel, borrowed */
    pid_t pid;               /* 0 when not running */
    int64_t started_mono;    /* when the running process started */
    int64_t next_start_mono; /* earliest next start */
    int64_t backoff_ms;
    rg_slot_id loaded_slot; /* what the running process loaded */
    int64_t loaded_release;
    const char *flags;     /* the flag set in force (its stamp), borrowed and
                              updated by the owner; NULL: no flags */
    char loaded_flags[64]; /* the stamp in force when it started */
    bool stopping;         /* we sent SIGTERM: its exit is not a crash */
    pid_t group; /* process group of an exited start while members of it
                    are left to reap, else 0 */
} rg_consumer;

/* Makes the calling process the subreaper of its descendants
 * (PR_SET_CHILD_SUBREAPER), so that a consumer's orphaned processes
 * become its children and can be reaped. Returns 0 or -1 (errno). */
int rg_consumer_subreaper(void);

/* Sets up c; nothing runs until rg_consumer_tick. */
void rg_consumer_init(rg_consumer *c, const char *cmd, rg_slots *slots);

/* Starts the consumer when it is due and nothing of the previous start is
 * left (counting the start during a trial, which may revert first), or
 * stops it when its content went stale.
 * Returns 0 or an rg_code. */
int rg_consumer_tick(rg_consumer *c, const rg_trial_env *env, int64_t mono,
                     int64_t now_ms, rg_err *err);

/* Handles the exit of c->pid with wait status st: the rest of its group
 * is killed; a crash during a trial queues `crashed`; a restart is
 * scheduled. */
int rg_consumer_exited(rg_consumer *c, const rg_trial_env *env, int st,
                       int64_t mono, int64_t now_ms, rg_err *err);

/* How long the current process has run on the active content, or 0. */
int64_t rg_consumer_uptime(const rg_consumer *c, int64_t mono);

/* Milliseconds until the consumer needs attention (start), or -1. */
int64_t rg_consumer_wake_in(const rg_consumer *c, int64_t mono);

/* Stops the consumer: SIGTERM to its group, then SIGKILL after 5 s;
 * reaps it and what is left of its group. */
void rg_consumer_stop(rg_consumer *c);

#endif
