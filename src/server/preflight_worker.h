/*
 * preflight_worker.h - rollgated's preflight worker: runs every new
 * release of a channel that registered a preflight through the channel's
 * engine, sandboxed (src/preflight), and records "passed" or "failed"
 * with the result (docs/preflight.md).
 *
 * One background thread takes release ids from a queue. The HTTP handler
 * that creates a release only enqueues its id: rg_preflight_run blocks up
 * to twice the spec's timeout and never runs on an HTTP thread. The queue
 * lives in memory; the truth is the store: a release is created
 * "pending" in the same transaction as its row, so on start-up the worker
 * queues every release still pending, and a kill -9 during a preflight
 * loses nothing (the preflight runs again).
 *
 * Staging and the sandbox's working directories live under
 * DATA/preflight, emptied on start (a killed run leaves its directories).
 */
#ifndef RG_PREFLIGHT_WORKER_H
#define RG_PREFLIGHT_WORKER_H

#include "server/server.h"
#include "store/store.h"

#include <stdint.h>

/* Starts srv's worker (srv->store must be open and outlive
 * rg_preflight_worker_stop) and queues every pending release. Sets
 * srv->preflight. Returns 0, RG_ECONFLICT when already started, RG_EIO
 * (DATA/preflight), RG_ENOMEM, the store's error, or RG_EINTERNAL when
 * the thread cannot start; nothing is left started on failure. */
int rg_preflight_worker_start(rg_server *srv, rg_err *err);

/* Stops and joins the thread (a preflight under way is finished first:
 * at most twice its timeout), frees the worker, sets srv->preflight to
 * NULL. Releases still queued stay pending in the store. A no-op when not
 * started. */
void rg_preflight_worker_stop(rg_server *srv);

/* Queues release_id's preflight. A no-op without a started worker (the
 * release stays pending until a worker starts). Never blocks on a
 * preflight. Thread-safe. */
void rg_preflight_worker_enqueue(rg_server *srv, int64_t release_id);

/* Queues every release whose preflight is pending in the store (a node
 * that leads takes over those queued by others; cluster.h). Returns 0 or
 * the store's error. */
int rg_preflight_worker_rescan(rg_server *srv, rg_err *err);

/* Runs release_id's preflight now, on the calling thread, and records its
 * outcome with rg_store_release_preflight_finish (audited as
 * release.preflight by actor "preflight"). A preflight that could not be
 * carried out at all (engine or artifact missing, sandbox failure) is
 * recorded as failed with reason "error". A release that is not pending
 * (anymore) is left alone. tmp_base is the staging directory (NULL:
 * "/tmp"). Returns 0, or the store's error (the release then stays
 * pending). Blocks up to twice the spec's timeout. */
int rg_preflight_worker_run(rg_server *srv, int64_t release_id,
                            const char *tmp_base, rg_err *err);

#endif
