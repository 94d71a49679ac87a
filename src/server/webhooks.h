/*
 * webhooks.h - the sender of webhook deliveries (docs/webhooks.md).
 *
 * A rollout transition that is a notable event (model/rollout_event.h)
 * queues one delivery per matching subscription in the store, in the
 * transition's own transaction (store.h, webhooks): nothing is sent
 * while a transition commits, and a committed transition's deliveries
 * survive a crash. One sender thread then takes the due deliveries from
 * that outbox, oldest first, RG_WEBHOOK_BATCH at a time, and POSTs each
 * (rg_webhook_body, signed by webhook_sign.h). Each attempt is recorded.
 * An answer 2xx delivers it; no answer, a timeout, 408, 429 or 5xx is
 * tried again after rg_webhook_backoff_ms; any other answer (a redirect,
 * which is never followed, or a 4xx) fails it at once, and so does the
 * RG_WEBHOOK_ATTEMPTS_MAX-th failed attempt or a delivery older than
 * RG_WEBHOOK_AGE_MAX_MS when it falls due. Delivery is at least once: a
 * kill between the receiver's answer and its record sends it again, with
 * the same delivery id. Memory is bounded by the batch, whatever the
 * outbox holds; finished deliveries are pruned with agent events
 * (retention.h). The limits are the constants below (change them and
 * rebuild).
 */
#ifndef RG_WEBHOOKS_H
#define RG_WEBHOOKS_H

#include "server/server.h"

#include <stdbool.h>
#include <stdint.h>

#define RG_WEBHOOK_ATTEMPTS_MAX 15
#define RG_WEBHOOK_AGE_MAX_MS (INT64_C(24) * 3600 * 1000)
#define RG_WEBHOOK_BACKOFF_BASE_MS 1000
#define RG_WEBHOOK_BACKOFF_CAP_MS (15 * 60 * 1000)
#define RG_WEBHOOK_TIMEOUT_MS 10000        /* one attempt, in all */
#define RG_WEBHOOK_CONNECT_TIMEOUT_MS 5000 /* its connection */
#define RG_WEBHOOK_BATCH 16                /* deliveries read at once */
#define RG_WEBHOOK_POLL_MS 500             /* how often the outbox is read */
#define RG_WEBHOOK_ANSWER_MAX 4096         /* a receiver's answer kept */

/* Starts the sender thread (curl_global_init is called here). Returns 0,
 * RG_ECONFLICT when it runs already, or RG_EINTERNAL. */
int rg_webhooks_start(rg_server *srv, rg_err *err);

/* Stops it, after the attempt in flight (at most RG_WEBHOOK_TIMEOUT_MS).
 * Safe when it was not started. */
void rg_webhooks_stop(rg_server *srv);

/* Attempts made since start, by what they left the delivery as (for
 * /metrics). */
typedef struct rg_webhooks_stats {
    uint64_t delivered, retry, failed;
} rg_webhooks_stats;
void rg_webhooks_stats_get(rg_webhooks_stats *out);

/* The body of delivery d (webhook_id, uid, event and its rollout
 * fields, "kind" "release" or "flag": a flag rollout's delivery has its
 * "rollout" object in d->flag): compact JSON with sorted keys, the same
 * for every attempt.
 * Returns a malloc'd string, or NULL when out of memory. */
char *rg_webhook_body(const rg_delivery_rec *d);

/* The wait before attempt n + 1 after n failed ones (n >= 1):
 * RG_WEBHOOK_BACKOFF_BASE_MS doubled n - 1 times, capped at
 * RG_WEBHOOK_BACKOFF_CAP_MS, then scaled into its upper half by jitter
 * (0 .. UINT32_MAX): delay/2 + delay/2 * jitter / UINT32_MAX. */
int64_t rg_webhook_backoff_ms(int n, uint32_t jitter);

/* Whether an attempt that got status (0: no answer) is worth another:
 * no answer, 408, 429 and 5xx are; 2xx, redirects and other 4xx not. */
bool rg_webhook_retryable(long status);

#endif
