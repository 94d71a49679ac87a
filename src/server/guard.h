/*
 * guard.h - rollgated's defences per source address: rate limits on
 * enrollment and on failed authentication, and the audit of failed
 * authentications.
 *
 * Token-bucket tables (ratelimit.h), keyed by the client address
 * (events: by endpoint):
 *   - enroll:   every POST /v1/agent/enroll takes a token first; an empty
 *               bucket answers 429 before any work is done;
 *   - authfail: every failed authentication (admin bearer token, endpoint
 *               token, enrollment key) takes a token; with none left the
 *               answer is 429 instead of 401/403. Successful authenticated
 *               requests never touch it, so they are never limited;
 *   - the audit throttle: each failure is written to the audit log as
 *               action `auth.failed` (actor "anonymous", role "none",
 *               target what was claimed, reason "unknown token", "revoked
 *               token", "expired token", "wrong endpoint", ..., the source
 *               address; never the secret), at most cfg.auth_audit_per_min
 *               (default RG_GUARD_AUDIT_PER_MIN) rows a minute per address
 *               and RG_GUARD_AUDIT_GLOBAL_PER_MIN (or that, when larger)
 *               overall. What is over those is counted and summarised in
 *               one `auth.failed` row per address (target "source:ADDR",
 *               or "source:*" for the global overflow and addresses evicted
 *               from the table; detail {"suppressed": N}), written when the
 *               address is next recorded or after a quiet minute
 *               (rg_guard_tick).
 * 429 answers carry code `rate_limited` and a Retry-After header.
 *
 * srv->guard may be NULL (unit tests that build a server by hand): then
 * nothing is limited and every failure is audited. Thread-safe.
 */
#ifndef RG_GUARD_H
#define RG_GUARD_H

#include "server/http.h"
#include "server/server.h"

#include <stdbool.h>

#define RG_GUARD_AUDIT_PER_MIN 10
#define RG_GUARD_AUDIT_GLOBAL_PER_MIN 600
#define RG_GUARD_QUIET_MS 60000 /* a summary waits for a quiet minute */

/* Creates the guard from cfg's enroll_*, auth_fail_*, auth_audit_per_min
 * and rate_table settings. *out is owned by the caller (rg_guard_free). Returns
 * 0, RG_EINVAL for a bucket with no refill, or RG_ENOMEM. */
int rg_guard_new(const rg_server_config *cfg, rg_guard **out, rg_err *err);

/* Applies cfg's burst and per-minute settings to g's tables while
 * requests use them (a reload; rate_table is not changed). Buckets keep
 * their tokens, capped at a new burst. g NULL: nothing. Returns 0, or
 * RG_EINVAL for a bucket with no refill (nothing changed). */
int rg_guard_configure(rg_guard *g, const rg_server_config *cfg, rg_err *err);

/* Frees g. NULL is a no-op. Call rg_guard_flush first to keep the
 * pending summaries. */
void rg_guard_free(rg_guard *g);

/* Takes an enrollment token for req's address. Returns 0, or
 * RG_ERATELIMIT after filling resp with the 429. */
int rg_guard_enroll(rg_server *srv, const rg_req *req, rg_resp *resp);

/* Takes n event tokens (one per event of an authenticated check-in) from
 * endpoint_id's bucket: cfg.event_burst, refilled at cfg.events_per_min
 * (the table is keyed by the id's SHA-256, rate_table entries). Returns
 * 0, or RG_ERATELIMIT after filling resp with the 429 (field "events",
 * Retry-After): nothing of that check-in is recorded, and the agent
 * retries later. A check-in without events is never limited. */
int rg_guard_events(rg_server *srv, const char *endpoint_id, size_t n,
                    rg_resp *resp);

/* A failed authentication of req: err is the 401/403 to answer, reason a
 * short static text for the audit ("unknown token"), target what the
 * caller claimed to be ("token:ci", "endpoint:host-1", or ""). Audits it
 * (throttled, see above), charges the address and fills resp with err,
 * or with a 429 when the address has no failures left in its budget. */
void rg_guard_auth_failed(rg_server *srv, const rg_req *req, const rg_err *err,
                          const char *reason, const char *target,
                          rg_resp *resp);

/* Writes the summaries of addresses quiet for RG_GUARD_QUIET_MS; cheap
 * when called often (it works at most once every few seconds of srv's
 * clock). The router calls it on every request. */
void rg_guard_tick(rg_server *srv);

/* Writes every pending summary now (rollgated calls it before closing the
 * store). */
void rg_guard_flush(rg_server *srv);

#endif
