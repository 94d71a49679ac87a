/*
 * flag_rollout.h - guarded flag rollouts in rollgated (docs/flags.md): a
 * flexibleRollout share (groupId = the flag, stickiness = the endpoint id
 * as userId) raised through a plan's waves by the rollout state machine
 * (model/rollout.h), judged by the health gate over the same counting as
 * releases (server/canary.h, health/cohort.h), reverted on a halt.
 *
 * What is a rollout's, and reused as it is: the plan, the status and its
 * transitions, the gate and its evidence, the canary's scan, cohort
 * tracker and control windows. What is a flag's:
 *  - the share: the state machine's share_ppm as a whole percentage
 *    (flags/share.h) written into the flag's strategy as a new version of
 *    the flag (audited `flag.rollout`), never below the share the flag
 *    had when the rollout started;
 *  - exposure, from what each check-in of an agent configured for the
 *    flag's environment reports (agent_flags.c: the newest stamp received,
 *    the active one, the last known good one): an endpoint whose bucket is
 *    in [from, share) (its evaluation flipped), or that the stratified
 *    floor names (flag_floor.h, from the first counted wave), is exposed
 *    once it runs a set at least as new as the share's write, healthy
 *    once such a set is its last known good one (the agent confirmed it),
 *    failed when it
 *    received such a set but fell back from it (its consumer crash-looped;
 *    the agent refuses that stamp for good). Every check-in says it again,
 *    so nothing per endpoint is stored: after a restart each endpoint's
 *    next check-in rebuilds it. The marks go to the fleet's canary slots
 *    under the key RG_FLEET_FLAG_KEY + id (fleet.h);
 *  - the end: on a halt the share goes back to the one before the rollout
 *    (on_halt "previous", the default) or the flag is disabled ("disable"),
 *    as a new version of the flag; abort keeps the share reached.
 * The rollout's state (plan, status, shares, the newest decisions with
 * their evidence) is one JSON document in the store (flag_rollouts,
 * schema 15), written before the flag: a kill -9 in between is repaired by
 * the next tick, which writes the share the state asks for (the share is
 * reconciled at every tick; only the strategy's percentage, and `enabled`
 * for a disable, are touched, so an operator's kill switch stays).
 *
 * Thread-safety: rg_flag_rollouts_checkin from any thread; tick and the
 * API functions are serialised by the caller's locks (the orchestrator's
 * tick; the store's seq check refuses a concurrent write).
 */
#ifndef RG_FLAG_ROLLOUT_H
#define RG_FLAG_ROLLOUT_H

#include "common/err.h"
#include "model/rollout.h"
#include "server/server.h"
#include "store/store.h"

#include <jansson.h>

#define RG_FLAG_ROLLOUT_DECISIONS 32 /* decisions kept in a rollout's state */

typedef struct rg_flag_rollouts rg_flag_rollouts;

/* Creates the server's flag rollout state. Returns 0 or RG_ENOMEM. Free
 * with rg_flag_rollouts_free (NULL is a no-op). */
int rg_flag_rollouts_new(rg_flag_rollouts **out, rg_err *err);
void rg_flag_rollouts_free(rg_flag_rollouts *f);

/* Check-in path: endpoint id, configured for environment env, reports the
 * newest stamp it received (seen), the one in force (active) and its last
 * known good one (good); each may be NULL. Marks its exposure, health or
 * failure for env's running flag rollouts (above); nothing when
 * srv->flag_rollouts is NULL. O(rollouts of env). */
void rg_flag_rollouts_checkin(rg_server *srv, const char *id, const char *env,
                              const char *seen, const char *active,
                              const char *good, int64_t now_ms);

/* Orchestrator tick: reconciles every active flag rollout's share, runs
 * the gate on the running, held and soaking ones and stores their
 * transitions; nothing when srv->flag_rollouts is NULL. Returns 0 or the
 * store's error listing them (err may be NULL); a rollout's own error is
 * logged and the others still run. */
int rg_flag_rollouts_tick(rg_server *srv, rg_err *err);

/* Starts a rollout of flag name in env with plan (a JSON string naming a
 * built-in plan or a plan object; only read), on_halt "previous" or
 * "disable" (NULL: previous); audit says who and why. The flag must have a
 * flexibleRollout strategy grouped by its name (RG_EINVAL, field
 * "name"); RG_ENOTFOUND for an unknown flag, RG_ECONFLICT when it has an
 * active rollout. *out receives the rollout (rg_flag_rollout_get's form;
 * caller decrefs). */
int rg_flag_rollout_start(rg_server *srv, const char *env, const char *name,
                          const json_t *plan, const char *on_halt,
                          const rg_audit_rec *audit, json_t **out, rg_err *err);

/* Applies an operator's pause, resume or abort to the newest rollout of
 * flag name in env (audit: who and why; its action is set here). Returns
 * 0 with *out as rg_flag_rollout_get, RG_ENOTFOUND, or RG_ECONFLICT when
 * the command does not apply to its state. */
int rg_flag_rollout_command(rg_server *srv, const char *env, const char *name,
                            rg_rollout_cmd cmd, rg_audit_rec *audit,
                            json_t **out, rg_err *err);

/* The newest rollout of flag name in env as {"id", "environment", "name",
 * "state", "wave", "share_percent", "from_percent", "on_halt", "plan",
 * "created_ms", "created_by", "reason", "decisions": [{"at_ms", "from",
 * "to", "from_wave", "to_wave", "reason", "actor", "evidence"?}, newest
 * last], "counts" (the latest evaluation's), "evaluation"?: the latest
 * {"at_ms", "verdict", "reason", "evidence"}} (new reference in *out). Returns
 * 0, RG_ENOTFOUND or a store error. */
int rg_flag_rollout_get(rg_server *srv, const char *env, const char *name,
                        json_t **out, rg_err *err);

#endif
