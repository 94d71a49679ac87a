/*
 * retention.h - old agent events are deleted: those received more than
 * cfg.event_retention_s ago (--event-retention, default 90 days; 0 keeps
 * them forever) about releases no rollout is active for. An active
 * rollout keeps all its evidence; a finished one's counts then read from
 * what is left (docs/api.md, event limits). Finished webhook deliveries
 * older than the same age go too (docs/webhooks.md).
 *
 * The orchestrator's flush thread calls rg_retention_run every flush
 * period; each call deletes at most RG_RETENTION_BATCH events (one short
 * transaction), so a large backlog drains over several periods without
 * holding the store. Thread-safe.
 */
#ifndef RG_RETENTION_H
#define RG_RETENTION_H

#include "server/server.h"

#include <stdint.h>

#define RG_RETENTION_BATCH 10000
#define RG_RETENTION_DEFAULT_S (90 * 86400)

/* One retention pass at now_ms; a store failure is logged. */
void rg_retention_run(rg_server *srv, int64_t now_ms);

/* Events deleted since start (for /metrics). */
uint64_t rg_retention_pruned(void);

#endif
