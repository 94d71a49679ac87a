/*
 * flagstate.h - the endpoint's feature flag sets on disk, applied like
 * content: a new set is a trial, and the last known good set comes back
 * by itself when the supervised consumers crash-loop on the new one.
 *
 *   STATE/flags/active.json  the set in force: an Unleash client-features
 *                            document plus "environment" and "stamp" (the
 *                            server's version of the set). What the SDK
 *                            (rollgate/flags.h) and consumers in any
 *                            language read; replaced by atomic rename.
 *   STATE/flags/good.json    the last known good set (same format)
 *   STATE/flags/state.json   the stamp on trial, its crashes, the newest
 *                            stamp received, and the refused stamps
 *
 * Every file is written durably (durable.h). The order of the writes
 * keeps one invariant a kill -9 cannot break for long: active.json is the
 * set on trial, or else good.json (none when there is no good set);
 * rg_flagstate_open restores it when a killed process left it otherwise.
 * A refused stamp is never taken again: the server's stamps only grow, so
 * a newer set has another stamp. Nothing here needs the network.
 * Single-threaded: the daemon owns it.
 */
#ifndef RG_AGENT_FLAGSTATE_H
#define RG_AGENT_FLAGSTATE_H

#include "common/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define RG_FLAGS_STAMP_MAX 64       /* a stamp, bytes with the NUL */
#define RG_FLAGS_REFUSED_KEEP 16    /* the newest refused stamps kept */
#define RG_FLAGS_FILE_MAX (8 << 20) /* cap on a flag set file */

/* A set the agent fell back from, and whether the server stored it. */
typedef struct rg_flags_refusal {
    char stamp[RG_FLAGS_STAMP_MAX];
    int64_t at_ms;
    char detail[160];
    bool reported;
} rg_flags_refusal;

typedef struct rg_flagstate {
    char dir[4096];                  /* STATE/flags */
    char seen[RG_FLAGS_STAMP_MAX];   /* newest stamp received, "" none */
    char active[RG_FLAGS_STAMP_MAX]; /* stamp of active.json, "" none */
    char good[RG_FLAGS_STAMP_MAX];   /* stamp of good.json, "" none */
    char trial[RG_FLAGS_STAMP_MAX];  /* stamp on trial, "" none */
    int crashes;                     /* consumer crashes during the trial */
    rg_flags_refusal refused[RG_FLAGS_REFUSED_KEEP]; /* oldest first */
    size_t nrefused;
} rg_flagstate;

/* Opens STATE/flags (created), loads its state and restores the invariant
 * above. Returns 0 or an rg_code. */
int rg_flagstate_open(rg_flagstate *fs, const char *state_dir, rg_err *err);

/* Takes the set the server sent for env with stamp: refused stamps and
 * the active stamp are ignored (*taken false); otherwise it becomes
 * active on trial (the previous good set stays the one to fall back to)
 * and *taken is true. set is only read. Returns 0 or an rg_code. */
int rg_flagstate_offer(rg_flagstate *fs, const char *env, const char *stamp,
                       const json_t *set, bool *taken, rg_err *err);

/* Counts a crash of a supervised consumer; without a trial it does
 * nothing. At max_crashes the trial's stamp is refused (with detail) and
 * the last known good set restored; *reverted says so. */
int rg_flagstate_crashed(rg_flagstate *fs, int max_crashes, const char *detail,
                         int64_t now_ms, bool *reverted, rg_err *err);

/* Ends the trial: the active set becomes the last known good one. No-op
 * without a trial. Returns 0 or an rg_code. */
int rg_flagstate_confirm(rg_flagstate *fs, rg_err *err);

/* The check-in's "flags" object for env (caller decrefs): {"environment",
 * "stamp": the newest stamp received, "active": the active stamp, "good":
 * the last known good one (each left out while there is none),
 * "reverted": [{"stamp","at_ms","detail"}] the refusals not yet stored by
 * the server}. NULL when out of memory. */
json_t *rg_flagstate_report(const rg_flagstate *fs, const char *env);

/* What `rollgate-agent status` shows of state_dir's flags, read only
 * (changes nothing): {"active", "good", "trial", "crashes", "refused":
 * [{"stamp","at_ms","detail","reported"}]}; JSON null when the agent has
 * no flags. A new reference (caller decrefs), NULL when out of memory. */
json_t *rg_flagstate_status(const char *state_dir);

/* Marks the refusals whose stamps the server lists as stored (an array
 * of strings; others are ignored). Returns 0 or an rg_code. */
int rg_flagstate_stored(rg_flagstate *fs, const json_t *stamps, rg_err *err);

#endif
