/*
 * deltas.h - binary deltas between a channel's releases (docs/caching.md,
 * "Delta updates").
 *
 * When a release R is created, a background thread makes zstd deltas
 * (common/zpatch.h) to R's artifact from the artifacts of the channel's
 * RG_DELTA_BASES newest releases below R's version (distinct digests,
 * other than R's), never on a request's path. A delta is stored like any
 * artifact, content-addressed under DATA/artifacts, and indexed by one
 * small file DATA/deltas/<target sha256>/<base sha256> holding
 * "<delta sha256> <size>\n", or "none\n" when no delta is worth sending
 * (not smaller than RG_DELTA_MAX_PCT % of the target, or a file beyond
 * RG_ZPATCH_INPUT_MAX). The delta's file is durable before its index
 * entry is written, so after kill -9 an entry always names a complete
 * file; on start the index is read back and the newest release of every
 * channel is queued again, which makes whatever a kill interrupted.
 *
 * The index is kept in memory too (read-mostly, under a read-write
 * lock): the check-in answer looks a delta up only for an endpoint whose
 * installed digest differs from its desired one.
 */
#ifndef RG_DELTAS_H
#define RG_DELTAS_H

#include "common/err.h"
#include "server/server.h"

#include <stdbool.h>
#include <stdint.h>

#define RG_DELTA_BASES 2    /* previous releases a new one gets deltas from */
#define RG_DELTA_MAX_PCT 90 /* a delta is kept only below this % of full */

/* One delta: target's bytes rebuilt from base's. */
typedef struct rg_delta_rec {
    char target[65]; /* sha256 of the full artifact it rebuilds */
    char base[65];   /* sha256 of the artifact it applies to */
    char sha256[65]; /* the delta's own digest ("" : none worth sending) */
    uint64_t size;
} rg_delta_rec;

/* Reads the index under DATA/deltas, starts the worker and queues the
 * newest release of every channel. Sets srv->deltas. Returns 0, RG_EIO,
 * RG_ENOMEM, the store's error, or RG_EINTERNAL (thread); nothing is left
 * started on failure. */
int rg_deltas_start(rg_server *srv, rg_err *err);

/* Stops and joins the worker (a delta under way is finished first),
 * frees everything, sets srv->deltas to NULL. A no-op when not started. */
void rg_deltas_stop(rg_server *srv);

/* Queues the deltas of release_id. A no-op without a started worker.
 * Never blocks on making a delta. Thread-safe. */
void rg_deltas_enqueue(rg_server *srv, int64_t release_id);

/* Makes release_id's missing deltas now on the calling thread (what the
 * worker runs). Returns 0 or the error of the store, a file or zstd. */
int rg_deltas_make(rg_server *srv, int64_t release_id, rg_err *err);

/* The delta rebuilding target from base into *out. Returns true when one
 * worth sending exists (false too without a started worker). Takes the
 * index's read lock. */
bool rg_deltas_find(rg_server *srv, const char *target, const char *base,
                    rg_delta_rec *out);

/* Whether sha256 is a delta's digest; its record into *out. Takes the
 * index's read lock. */
bool rg_deltas_of_digest(rg_server *srv, const char *sha256, rg_delta_rec *out);

/* Counters for /metrics: deltas made since start, and make failures. */
void rg_deltas_stats(rg_server *srv, uint64_t *made, uint64_t *failed);

#endif
