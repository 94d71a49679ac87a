/*
 * apply.h - the apply pipeline of one channel, one step at a time.
 *
 * download (a delta from the active slot when offered, else or when it
 * fails the whole artifact: delta.h) -> verify -> install in the inactive slot
 * (fsynced) -> validate hook -> notify hook -> queue `applying R` -> WAIT for
 * its ack -> begin trial -> atomic switch -> activate hook. Then, in
 * rg_apply_trial_tick: probe -> `healthy R` (or revert). Every step is
 * re-derived from the state directory (slots,
 * STATE/channels/NAME/applying.json, trial.json, the outbox), so a step killed
 * anywhere resumes where it stopped.
 *
 * When the desired release moves back to the previous one (halt,
 * rollback) and that release is still in the other slot, older by the
 * version recorded in the slot (never by the offer's), the agent switches
 * back to it in the same step, without `applying`, under a trial. A trial
 * left this way after its consumer already crashed is reverted
 * (quarantine, `reverted`), else simply abandoned.
 *
 * Signed releases (docs/signing.md): with a pinned root, every other
 * release is judged by rg_agent_verify_release BEFORE it is downloaded or
 * exposed (and the download stops at the signed size); a refusal writes
 * STATE/channels/NAME/rejected.json and queues one `failed` event per
 * (release, reason), without quarantining the digest (a tampered offer
 * must not ban the genuine content). A switch back needs signed metadata
 * for exactly the slot's version and bytes too; it is the only exception
 * to anti-rollback (for that version alone). The server's lift of a
 * quarantine is refused under a root (reason "quarantined"): only
 * `rollgate-agent unquarantine` lifts it.
 */
#ifndef RG_AGENT_APPLY_H
#define RG_AGENT_APPLY_H

#include "client.h"
#include "config.h"
#include "outbox.h"
#include "slots.h"

#include <jansson.h>

#define RG_DESIRED_METADATA_MAX 8192

/* One entry of a check-in answer's "desired". */
typedef struct rg_desired {
    rg_artifact_want want;
    char url[512]; /* artifact path, e.g. /v1/agent/artifacts/<sha256> */
    char metadata[RG_DESIRED_METADATA_MAX + 1]; /* signed metadata as
                                                   canonical JSON, "" none */
    bool lift_quarantine; /* an operator lifted the release's quarantine */
    /* A delta to it from what the endpoint has (docs/caching.md): the
     * delta's own digest and size (delta.release, delta.version unused),
     * the digest it applies to, and its path. delta_url "": none. */
    rg_artifact_want delta;
    char delta_base[RG_SHA256_HEX];
    char delta_url[512];
} rg_desired;

typedef struct rg_apply_env {
    const rg_agent_config *conf;
    rg_outbox *outbox;
    rg_client *client;     /* NULL offline: nothing is downloaded */
    const json_t *notices; /* latest notices array, borrowed, may be NULL */
    int64_t now_ms;
    const rg_root *root; /* pinned root; NULL: insecure (no verification) */
} rg_apply_env;

typedef enum rg_apply_result {
    RG_APPLY_IDLE = 0,        /* up to date, or nothing to do now */
    RG_APPLY_WAITING = 1,     /* `applying` queued, waiting for its ack */
    RG_APPLY_SWITCHED = 2,    /* the new release is active, trial running */
    RG_APPLY_ROLLED_BACK = 3, /* returned to the older desired release */
    RG_APPLY_REFUSED = 4,     /* quarantined or failed validation */
} rg_apply_result;

/* Parses one "desired" entry (with its optional "metadata" object,
 * "lift_quarantine" flag and "delta" object).
 * Returns 0 or RG_EINVAL naming the field. */
int rg_desired_parse(const json_t *v, rg_desired *d, rg_err *err);

/* Advances channel s towards d by as many steps as it can without
 * waiting. Takes the channel lock itself (released while downloading).
 * Returns 0 with *result set, or an rg_code (RG_EUNAVAIL: server away). */
int rg_apply_step(const rg_apply_env *env, rg_slots *s, const rg_desired *d,
                  rg_apply_result *result, rg_err *err);

/* Runs the trial's checks for channel s: the deadline; then, when the
 * trial is ready to be judged (consumer_up_ms >= settle for a supervised
 * consumer, -1 when the channel has none), the probe hook: exit 0
 * confirms (`healthy`), else reverts. Sets *ended when the trial ended.
 * Takes the channel lock. Returns 0 or an rg_code. */
int rg_apply_trial_tick(const rg_apply_env *env, rg_slots *s,
                        int64_t consumer_up_ms, bool *ended, rg_err *err);

#endif
