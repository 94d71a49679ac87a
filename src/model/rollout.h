/*
 * rollout.h - the rollout state machine (pure: no I/O, no clock reads).
 *
 *   pending --start--> running(wave 0) --gate pass--> running(wave 1) ...
 *   running(last wave) --gate pass--> completed
 *   running --pause--> paused --resume--> running (same wave, bake restarts)
 *   running --gate hold--> held (the gate's own stop, never a human pause)
 *   held --resume--> running (same wave, bake restarts)
 *   held|paused --promote--> running(next wave), or completed from the last
 *   running|held|completed --gate halt--> halted (held and completed
 *       rollouts are still watched: rg_rollout_watch)
 *   pending|running|paused|held --abort--> aborted
 *   running|paused|held|halted|completed --rollback--> rolled_back
 *
 * States are stored by their number: new ones are only ever appended.
 * The orchestrator measures a wave (rg_wave_counts), calls rg_rollout_tick
 * with the plan, the current status and the time, and persists whatever
 * transition comes back together with its reason and evidence. The health
 * gate is a function the state machine calls (rg_gate_fn); until the
 * canary analyzer supplies one, rg_gate_bake passes a wave after its
 * minimum bake time once enough endpoints reported healthy.
 */
#ifndef RG_ROLLOUT_H
#define RG_ROLLOUT_H

#include "common/err.h"
#include "model/plan.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

typedef enum rg_rollout_state {
    RG_RO_PENDING = 0,
    RG_RO_RUNNING,
    RG_RO_PAUSED,
    RG_RO_COMPLETED,
    RG_RO_HALTED,
    RG_RO_ABORTED,
    RG_RO_ROLLED_BACK,
    RG_RO_HELD, /* stopped by the gate (hold verdict); an operator decides */
} rg_rollout_state;

#define RG_RO_N_STATES (RG_RO_HELD + 1) /* states are 0..RG_RO_N_STATES-1 */

/* "pending", "running", "paused", "completed", "halted", "aborted",
 * "rolled_back", "held". */
const char *rg_rollout_state_name(int state);
/* Inverse of rg_rollout_state_name; -1 for an unknown name. */
int rg_rollout_state_parse(const char *name);
/* True for completed, halted, aborted and rolled_back. */
bool rg_rollout_state_final(int state);

#define RG_RO_NEVER_STARTED                                                    \
    (-1) /* wave_started_ms of an aborted pending rollout */

/* Where a rollout stands. A plain value. A new rollout is
 * {RG_RO_PENDING, wave 0, share 0, ...}; RG_CMD_START makes it run. */
typedef struct rg_rollout_status {
    int state;          /* rg_rollout_state */
    int wave;           /* current wave index (0-based) */
    uint32_t share_ppm; /* effective share assigned so far (never shrinks) */
    int64_t wave_started_ms; /* when the current wave (or its resume) began;
                                RG_RO_NEVER_STARTED once a pending rollout
                                is aborted (it never assigned anything) */
    int64_t updated_ms;      /* time of the last transition */
} rg_rollout_status;

/* What the orchestrator measured for the current wave (cumulative over
 * every wave so far: an endpoint counts from the wave it entered). */
typedef struct rg_wave_counts {
    uint64_t fleet;    /* endpoints in the rollout's target fleet */
    uint64_t targeted; /* endpoints the current share assigns the release */
    uint64_t exposed;  /* reported `applying` for the release */
    uint64_t healthy;  /* reported `healthy` for the release */
    uint64_t failed;   /* reported `failed`, `reverted` or `crashed` */
    uint64_t silent;   /* exposed, no report within the window W */
} rg_wave_counts;

typedef enum rg_verdict {
    RG_VERDICT_CONTINUE = 0, /* keep baking */
    RG_VERDICT_PASS = 1,     /* the wave is healthy: advance */
    RG_VERDICT_HOLD = 2,     /* stop advancing, do not revert (max bake hit) */
    RG_VERDICT_HALT = 3,     /* the release is bad: halt */
} rg_verdict;

/* "continue", "pass", "hold", "halt". */
const char *rg_verdict_name(int verdict);

typedef struct rg_gate_result {
    int verdict;      /* rg_verdict */
    char reason[256]; /* one line for humans */
    json_t *evidence; /* new reference or NULL; whoever receives the
                         result owns it (rg_gate_result_release) */
} rg_gate_result;

void rg_gate_result_release(rg_gate_result *r);

/* A health gate: judges the current wave. Pure: must not read a clock or
 * do I/O. elapsed_ms is the time since the wave (or its resume) started.
 * ctx carries whatever the gate needs (per-stratum counts, ...). Fills out
 * and returns 0, or a negative rg_code with err filled. */
typedef int (*rg_gate_fn)(const rg_wave *wave, const rg_wave_counts *counts,
                          int64_t elapsed_ms, void *ctx, rg_gate_result *out,
                          rg_err *err);

/* The foundation gate: pass once elapsed >= min_bake and healthy >=
 * min(min_endpoints, targeted) with targeted > 0; halt when any endpoint
 * failed; hold past max_bake; continue otherwise. An internal wave with
 * targeted == 0 passes after min_bake (there is nothing to test). ctx
 * unused. out->evidence is an object with the counts and thresholds. */
int rg_gate_bake(const rg_wave *wave, const rg_wave_counts *counts,
                 int64_t elapsed_ms, void *ctx, rg_gate_result *out,
                 rg_err *err);

/* A state change with its reason: whole, never cut (an operator's reason
 * is at most 512 bytes; a gate's reason is at most 255 after a wave label
 * of at most 63). */
#define RG_TRANSITION_REASON_MAX 1024
typedef struct rg_transition {
    int from_state, to_state;
    int from_wave, to_wave;
    char reason[RG_TRANSITION_REASON_MAX];
} rg_transition;

typedef enum rg_rollout_cmd {
    RG_CMD_START,
    RG_CMD_PAUSE,
    RG_CMD_RESUME,
    RG_CMD_ABORT,
    RG_CMD_ROLLBACK,
    RG_CMD_PROMOTE, /* held or paused: to the next wave without the gate */
} rg_rollout_cmd;

/* Applies an operator command at now_ms. On success fills *next and *tr
 * (tr->reason is the operator's reason) and returns 0; an invalid command
 * for the state returns RG_ECONFLICT with a message like
 * "rollout is completed; cannot pause" and leaves *next untouched; a status
 * outside the plan (bad state or wave) or an unknown command: RG_EINVAL.
 * start enters wave 0 at share rg_plan_wave_share(plan, 0, fleet); resume
 * restarts the bake clock (wave_started_ms = now_ms); promote enters the
 * next wave as a gate pass would (share never shrinks; from the last wave
 * it completes, share RG_PPM) and runs; abort of a pending
 * rollout sets wave_started_ms = RG_RO_NEVER_STARTED. A NULL or empty
 * reason becomes "operator: <command>". */
int rg_rollout_command(const rg_plan *plan, const rg_rollout_status *cur,
                       rg_rollout_cmd cmd, const char *reason, int64_t now_ms,
                       uint64_t fleet, rg_rollout_status *next,
                       rg_transition *tr, rg_err *err);

/* One orchestrator step for a running rollout: asks gate about the current
 * wave and moves on (next wave, completed, halted or hold-as-paused).
 * Returns 1 when a transition happened (*next, *tr filled), 0 when nothing
 * changed (*next = *cur), negative on gate error. *gate_out always receives
 * the gate's result (caller releases it); non-running rollouts return 0
 * without calling the gate. The effective share of a new wave is computed
 * from counts->fleet with rg_wave_effective_share and never shrinks: the
 * new wave's share is max(cur->share_ppm, rg_plan_wave_share(plan, wave,
 * counts->fleet)); completing sets it to RG_PPM. A hold makes the rollout
 * held; tr->reason reads "wave 2 (1%) passed: <gate reason>". */
int rg_rollout_tick(const rg_plan *plan, const rg_rollout_status *cur,
                    const rg_wave_counts *counts, rg_gate_fn gate,
                    void *gate_ctx, int64_t now_ms, rg_rollout_status *next,
                    rg_transition *tr, rg_gate_result *gate_out, rg_err *err);

/* The gate's watch over a held or completed rollout (the state diagram):
 * asks gate about the current (for completed: the last) wave and halts on
 * a halt verdict; every other verdict changes nothing. Same contract as
 * rg_rollout_tick otherwise; other states return 0 without calling the
 * gate. tr->reason reads "wave 5 (100%) halted after completion: ...". */
int rg_rollout_watch(const rg_plan *plan, const rg_rollout_status *cur,
                     const rg_wave_counts *counts, rg_gate_fn gate,
                     void *gate_ctx, int64_t now_ms, rg_rollout_status *next,
                     rg_transition *tr, rg_gate_result *gate_out, rg_err *err);

/* Whether an endpoint gets the rollout's release now. Internal endpoints
 * are assigned as soon as the rollout runs (the internal ring goes first
 * whatever the plan), the others when bucket < st->share_ppm. bucket is its
 * rg_bucket(salt, id); internal says it carries the `internal` tag.
 *  - pending, aborted-before-start: no
 *  - running, paused, held, halted with on_halt=pause, aborted: yes when
 *    inside the share reached so far (internal endpoints: from wave 0 on)
 *  - completed: yes
 *  - halted with on_halt revert_all or revert_stratum, rolled_back: no
 *    (back to previous; with revert_stratum the check-in path, which knows
 *    strata, lets the endpoints it admitted keep the release:
 *    rg_rollout_keeps) */
bool rg_rollout_assigns(const rg_plan *plan, const rg_rollout_status *st,
                        uint32_t bucket, bool internal);

/* Whether an endpoint that was assigned the release (admitted by the
 * check-in path) keeps it now, its stratum halted or not (named by the
 * halt's evidence): no when rolled back, pending or aborted before it
 * started; after a halt, per on_halt: pause yes, revert_all no,
 * revert_stratum yes unless stratum_halted; yes otherwise. Keeping is
 * never gaining: nothing new is assigned after a halt. */
bool rg_rollout_keeps(const rg_plan *plan, const rg_rollout_status *st,
                      bool stratum_halted);

#endif
