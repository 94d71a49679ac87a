/*
 * trial.h - the trial of a newly active release, and reverting it.
 *
 *   STATE/channels/NAME/trial.json
 *
 * Written before the switch (so a crash right after it still knows the
 * trial and the last known good slot), it holds the attempt counter. Each
 * start of the consumer is counted and fsynced BEFORE the consumer loads
 * the content; when a start would exceed K the agent reverts instead.
 * Ending a trial is two-phase: the outcome (confirmed / reverting) is
 * written first, then the steps run, each idempotent, so a restart
 * finishes what a killed process began, and its one terminal event
 * (`healthy` or `reverted`, id fixed in trial.json) is queued exactly once.
 * Nothing here needs the network.
 *
 * The deadline is judged on trial time, never on the wall clock (which
 * may jump): time since boot (uptime.h) counted from an anchor (boot id,
 * time since boot, trial time elapsed then) that every save moves
 * forward. After a reboot the trial time recorded at the last save carries
 * over and counting resumes from the new boot; the time the machine was
 * down does not count (the start counter still bounds a boot loop).
 *
 * Callers hold the channel lock (rg_slots_lock) around every call.
 */
#ifndef RG_AGENT_TRIAL_H
#define RG_AGENT_TRIAL_H

#include "outbox.h"
#include "slots.h"
#include "uptime.h"

#include <stdbool.h>

typedef enum rg_trial_phase {
    RG_TRIAL_RUNNING = 0,
    RG_TRIAL_CONFIRMED = 1, /* finishing: healthy queued, trial removed */
    RG_TRIAL_REVERTING = 2, /* finishing: quarantine, reverted, switch back */
} rg_trial_phase;

typedef struct rg_trial {
    rg_artifact_want rel;            /* the release on trial */
    rg_slot_id slot;                 /* its slot */
    rg_slot_id good;                 /* last known good slot, 0 when none */
    int starts;                      /* counted starts of the consumer */
    int crashes;                     /* starts that ended in a crash */
    int64_t started_ms, deadline_ms; /* wall clock: shown, never judged */
    int64_t limit_ms;                /* the deadline as trial time (duration) */
    int64_t elapsed_ms;              /* trial time elapsed at the anchor */
    char boot_id[RG_BOOT_ID_MAX];    /* the anchor: this boot ... */
    int64_t boot_ms;                 /* ... at this time since boot */
    rg_trial_phase phase;
    char reason[200];               /* why it is reverting */
    char event_id[RG_EVENT_ID_MAX]; /* id of the terminal event */
} rg_trial;

/* What trial operations work on: one channel of one state directory. */
typedef struct rg_trial_env {
    const char *state_dir;
    rg_slots *slots;
    rg_outbox *outbox;
    int max_starts;      /* K */
    const rg_uptime *up; /* time since boot; NULL: the system's (tests
                            inject theirs) */
} rg_trial_env;

/* Loads the channel's trial. Returns 0, RG_ENOTFOUND (no trial) or RG_EIO. */
int rg_trial_load(const rg_trial_env *env, rg_trial *t, rg_err *err);

/* Writes t durably. Returns 0 or RG_EIO. */
int rg_trial_save(const rg_trial_env *env, const rg_trial *t, rg_err *err);

/* Records a new trial of rel in slot (not yet active); the currently
 * active slot becomes the last known good one. Returns 0 or RG_EIO. */
int rg_trial_begin(const rg_trial_env *env, const rg_artifact_want *rel,
                   rg_slot_id slot, int64_t now_ms, int64_t deadline_ms,
                   rg_err *err);

/* Counts a start (fsynced) before the consumer loads the content. When
 * the count exceeds K the trial is reverted first and *reverted set.
 * Without a trial it does nothing. Returns 0 or an rg_code. */
int rg_trial_count_start(const rg_trial_env *env, int64_t now_ms,
                         bool *reverted, rg_err *err);

/* Records a crash of the consumer during the trial: queues `crashed`
 * (a fresh id each time). No-op without a running trial. */
int rg_trial_crashed(const rg_trial_env *env, const char *detail,
                     int64_t now_ms, rg_err *err);

/* Confirms the running trial: queues `healthy` and ends it. */
int rg_trial_confirm(const rg_trial_env *env, const char *detail,
                     int64_t now_ms, rg_err *err);

/* Reverts the running trial: quarantine the digest, queue `reverted`
 * with reason, switch back to the last known good slot (or to nothing on
 * a first install), end the trial. */
int rg_trial_revert(const rg_trial_env *env, const char *reason, int64_t now_ms,
                    rg_err *err);

/* Reverts when the trial time reached the deadline; sets *reverted. After
 * a reboot it re-anchors the trial on the new boot (saved). */
int rg_trial_check_deadline(const rg_trial_env *env, int64_t now_ms,
                            bool *reverted, rg_err *err);

/* Startup repair: finishes a trial killed while confirming or reverting;
 * drops a trial whose switch never happened. A running trial keeps
 * counting. Returns 0 or an rg_code. */
int rg_trial_reconcile(const rg_trial_env *env, int64_t now_ms, rg_err *err);

/* Ends a trial because the server's desired release moved back to the
 * last known good one: switches back without quarantine or event (the
 * next check-in reports what is installed). */
int rg_trial_abandon(const rg_trial_env *env, rg_err *err);

#endif
