/*
 * desired.h - per-channel desired state for the check-in path.
 *
 * A read-mostly cache, one entry per channel: the channel's current
 * release, its latest rollout (active or last: plan, status, salt) with the
 * rollout's release and its previous release (the channel's current release
 * when the rollout was created, or none). rg_server_state_changed reloads
 * it from the store after every committed change; readers hold a read lock
 * only while they compute one answer, the reload builds a new snapshot
 * outside the lock and swaps the pointer.
 *
 * For one endpoint and channel (rg_desired_pick, pure):
 *   - latest rollout R: rg_rollout_assigns(R.plan, R.status,
 *     rg_bucket(R.salt, endpoint_id), internal) ? R's release : R's
 *     previous release (none when the channel had none);
 *   - no rollout: the channel's current release (or none).
 * A notice announces R's release to an endpoint R does not assign yet while
 * R is pending, running or paused. Its earliest_ms is a best estimate: the
 * time the endpoint's bucket would enter R if every wave passed exactly at
 * its minimum bake time from now on (the current wave's bake counting from
 * its start, or from now when paused or pending), with wave shares for the
 * present fleet size; never before now.
 *
 * Group policies (policy.h) are part of the snapshot. At check-in an
 * endpoint a policy holds on a channel (matched by its attribute profile:
 * which policies match each profile is worked out once per snapshot and
 * profile, so a check-in costs a table look-up plus the policies that
 * match) gets rg_desired_pick_held instead: no rollout and no exposure
 * control apply to it.
 */
#ifndef RG_DESIRED_H
#define RG_DESIRED_H

#include "common/buf.h"
#include "common/err.h"
#include "server/canary.h"
#include "server/fleet.h"
#include "server/policy.h"
#include "server/server.h"
#include "server/strata.h"
#include "store/store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* One channel's cached state. A plain value. */
typedef struct rg_desired_channel {
    rg_channel_rec channel;
    rg_release_rec current; /* current.id == 0: the channel has none */
    bool has_rollout;
    rg_rollout_rec rollout; /* the channel's newest rollout */
    rg_release_rec release; /* the rollout's release */
    rg_release_rec prev;    /* prev.id == 0: none */
} rg_desired_channel;

/* A group policy as the snapshot keeps it. A plain value. */
typedef struct rg_desired_policy {
    int64_t id;
    int64_t channel_id;
    int mode; /* rg_policy_mode */
    rg_policy_selector sel;
    rg_release_rec pinned; /* pin: the pinned release; n-1: unused */
} rg_desired_policy;

/* What one endpoint should have on one channel. Pointers borrow from the
 * rg_desired_channel given to rg_desired_pick. */
typedef struct rg_desired_pick {
    const rg_release_rec *release; /* NULL: nothing desired */
    int64_t rollout_id;            /* the rollout giving release, or 0 */
    const rg_release_rec *notice;  /* NULL: nothing to announce */
    int64_t earliest_ms;           /* the notice's estimate */
} rg_desired_pick;

/* Computes the desired release and notice of endpoint_id (internal: it has
 * the `internal` tag) on channel c at now_ms in a fleet of fleet_size
 * endpoints. Pure. */
void rg_desired_pick_for(const rg_desired_channel *c, const char *endpoint_id,
                         bool internal, int64_t now_ms, uint64_t fleet_size,
                         rg_desired_pick *out);

/* Computes what an endpoint held by pol on channel c should have at
 * now_ms: the pinned release (pin), or the channel's current release
 * (n-1; none when it has none) with a notice of a running, paused or
 * pending rollout's release, estimated at the rollout's completion if
 * every wave passed at its minimum bake. Never a rollout id. Pointers
 * borrow from c and pol. Pure. */
void rg_desired_pick_held(const rg_desired_channel *c,
                          const rg_desired_policy *pol, int64_t now_ms,
                          uint64_t fleet_size, rg_desired_pick *out);

/* Which attribute profiles of fleet f (rg_fleet_profiles) a policy holds
 * on channel channel_id: *held receives a malloc'd table of *n bytes, 1
 * for a held profile (caller frees), or NULL and 0 when no policy names
 * the channel. Returns 0 or RG_ENOMEM. */
int rg_desired_held(rg_desired *d, rg_fleet *f, int64_t channel_id,
                    uint8_t **held, uint32_t *n, rg_err *err);

/* Creates the cache and loads it from srv->store. *out is owned by the
 * caller (rg_desired_close). Returns 0, RG_ENOMEM or the store's error. */
int rg_desired_open(rg_server *srv, rg_desired **out, rg_err *err);

/* Frees the cache. NULL is a no-op. */
void rg_desired_close(rg_desired *d);

/* Reloads the cache from the store. Returns 0 or the store's error (the
 * old snapshot stays in place). */
int rg_desired_reload(rg_desired *d, rg_err *err);

/* Adds the endpoint's desired releases to desired (an object keyed by
 * channel name, entries {"release","version","sha256","size","url",
 * "rollout"}) and its notices to notices (an array of {"channel",
 * "release","version","notes","urgency","earliest_ms","rollout"}).
 *
 * Exposure control (issue 4, canary.h; issue 10, strata.h), for a
 * channel whose latest rollout R is not pending: the endpoint gets R's
 * release when its fleet canary slot for it says ASSIGNED (it was
 * admitted, or it reported `applying`) and R lets it keep it
 * (rg_rollout_keeps: not after a rollback, a halt with on_halt
 * revert_all, or a halt with revert_stratum when its stratum is halted or
 * unknown: back to the previous release). While R runs, an endpoint not
 * assigned yet is admitted only through rg_canary_admit (inside R's share
 * or its stratum's share raised by the stratified floor, and within the
 * stratum's exposure budget); after R completed, an endpoint of a cleared
 * stratum is admitted at once and one of an open stratum through
 * rg_canary_admit (its budget: completion never exposes a stratum
 * without healthy evidence); never one of a halted stratum, nor while R
 * is paused, held, halted or aborted. An admitted endpoint is
 * marked ASSIGNED and keeps R's release (also when the floor let it in
 * from outside R's share). Without a fleet (fleet
 * NULL) the pure rg_desired_pick_for answer is used as it is, and no
 * group policy applies (they need the endpoint's attributes).
 * Returns 0 or RG_ENOMEM. */
int rg_desired_for_endpoint(rg_desired *d, const char *endpoint_id,
                            bool internal, int64_t now_ms, uint64_t fleet_size,
                            json_t *desired, json_t *notices, rg_err *err);

/* The same with exposure control and group policies: who is what
 * rg_fleet_checkin returned for endpoint_id in fleet. */
int rg_desired_for_checkin(rg_desired *d, rg_fleet *fleet,
                           const char *endpoint_id,
                           const rg_fleet_checkin_out *who, int64_t now_ms,
                           json_t *desired, json_t *notices, rg_err *err);

/* What an endpoint's check-in says it has installed on one channel.
 * Pointers borrowed. */
typedef struct rg_desired_have {
    const char *channel;
    const char *sha256; /* 64 hex digits, or NULL: not said */
} rg_desired_have;

/* Told each release a check-in answer offers (rg_desired_write_checkin).
 * Returns 0 or a negative rg_code with err filled. */
typedef int (*rg_desired_offer)(void *ctx, int64_t release, rg_err *err);

/* rg_desired_for_checkin's answer as JSON text, for the check-in handler
 * (no jansson tree), with deltas: an entry whose release the endpoint
 * does not have, where the endpoint says it has (have, n_have) the base
 * of a delta to it (deltas.h), carries "delta":{"base","sha256","size",
 * "url"} too (docs/caching.md). Appends to desired the members of the "desired"
 * object (`"channel":{...}`, comma-separated) and to notices the items of
 * the "notices" array (`{...}`, comma-separated), each buffer from where
 * it stands (what it holds already is left alone; no comma is written
 * before the first member or item), the same content in the
 * same order that rg_desired_for_checkin gives (it is built from this
 * text). offer (may be NULL) is called with ctx for each desired release,
 * under the cache's read lock: it must not call into d. Returns 0, the
 * view's RG_ENOTFOUND, RG_ETOOBIG (a buffer's cap), RG_EINVAL (text that
 * is not UTF-8), RG_ENOMEM or offer's error; the buffers may then hold a
 * partial answer. */
int rg_desired_write_checkin(rg_desired *d, rg_fleet *fleet,
                             const char *endpoint_id,
                             const rg_fleet_checkin_out *who,
                             const rg_desired_have *have, size_t n_have,
                             int64_t now_ms, rg_buf *desired, rg_buf *notices,
                             rg_desired_offer offer, void *ctx, rg_err *err);

/* The health state the orchestrator keeps (canary.h), owned by d. */
rg_canary *rg_desired_canary(rg_desired *d);

/* The rollouts' per-stratum states (strata.h), owned by d: every reload
 * restores those of the channels' newest rollouts and forgets the rest. */
rg_strata *rg_desired_strata(rg_desired *d);

/* Copies of the channels' newest rollouts that completed (the gate keeps
 * watching them, orchestrator.h) into *out (malloc'd, caller frees; NULL
 * when *n is 0). Returns 0 or RG_ENOMEM. */
int rg_desired_watched(rg_desired *d, rg_rollout_rec **out, size_t *n,
                       rg_err *err);

/* The same for every channel's newest rollout, whatever its state. */
int rg_desired_rollouts(rg_desired *d, rg_rollout_rec **out, size_t *n,
                        rg_err *err);

/* Publishing a rollout's state: an API reader never sees a state that the
 * check-in path has not adopted yet. Whoever changes a rollout's status
 * (the orchestrator, operator actions, rollout creation) holds
 * rg_desired_publish_begin..end across its store commit and the cache
 * reload (rg_server_state_changed); handlers that report rollout state hold
 * rg_desired_observe_begin..end around their store reads. Lock order:
 * publish, then the cache's own lock. d may be NULL (then no locking). */
void rg_desired_publish_begin(rg_desired *d);
void rg_desired_publish_end(rg_desired *d);
void rg_desired_observe_begin(rg_desired *d);
void rg_desired_observe_end(rg_desired *d);

/* Number of cached channels (for tests and metrics). */
size_t rg_desired_channels(rg_desired *d);

#endif
