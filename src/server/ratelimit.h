/*
 * ratelimit.h - token buckets per source address, in a bounded table.
 *
 * Each key (a client address as text) has a bucket of at most `burst`
 * tokens refilled at `per_min` tokens a minute; a take succeeds while the
 * bucket holds a whole token. The table is set-associative: a key hashes
 * (murmur3 with a random per-table seed, so nobody can aim at one set) to
 * a set of RG_RATELIMIT_WAYS slots; a new key takes a free slot or evicts
 * the least recently used one of its set. Memory is fixed at creation:
 * a flood of distinct addresses can only evict, never grow the table. An
 * evicted address starts again with a full bucket.
 *
 * A slot also counts the takes refused since its last successful one
 * (`denied`): the auth-failure audit (authlog.h) uses it to summarise what
 * it did not record one by one. Denials lost to eviction are added to a
 * table-wide counter.
 *
 * Time is passed in (milliseconds, the server's clock). Every function is
 * thread-safe (one mutex per table).
 */
#ifndef RG_RATELIMIT_H
#define RG_RATELIMIT_H

#include "common/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RG_RATELIMIT_WAYS 8
#define RG_RATELIMIT_KEY_MAX 63 /* longer keys are cut (IPv6 text is 45) */

typedef struct rg_ratelimit rg_ratelimit;

typedef struct rg_ratelimit_opts {
    uint32_t burst;    /* bucket size; 0 disables the limiter (every take
                          succeeds) */
    uint32_t per_min;  /* refill, tokens per minute (>= 1 when burst > 0) */
    uint32_t capacity; /* addresses tracked; rounded up to a multiple of
                          RG_RATELIMIT_WAYS; 0: 4096 */
} rg_ratelimit_opts;

/* Creates a table. *out is owned by the caller (rg_ratelimit_free).
 * Returns 0, RG_EINVAL for burst > 0 with per_min 0, or RG_ENOMEM. */
int rg_ratelimit_new(const rg_ratelimit_opts *opts, rg_ratelimit **out,
                     rg_err *err);

/* Frees rl. NULL is a no-op. */
void rg_ratelimit_free(rg_ratelimit *rl);

/* Changes rl's burst and refill while it is in use (a reload): buckets
 * keep their tokens, capped at the new burst. Returns 0, or RG_EINVAL
 * (nothing changed) for burst > 0 with per_min 0. */
int rg_ratelimit_set(rg_ratelimit *rl, uint32_t burst, uint32_t per_min,
                     rg_err *err);

/* Whether the limiter limits at all (burst > 0). */
bool rg_ratelimit_enabled(const rg_ratelimit *rl);

/* Takes one token from key's bucket at now_ms. Returns true when it had
 * one; *denied (may be NULL) then receives the takes refused for key
 * since its last successful one, and the slot's count restarts at 0.
 * Returns false when the bucket is empty (the refusal is counted);
 * *retry_after_s (may be NULL) then receives the whole seconds, at least
 * 1, until the next token. A disabled limiter always returns true. */
bool rg_ratelimit_take(rg_ratelimit *rl, const char *key, int64_t now_ms,
                       int *retry_after_s, uint64_t *denied);

/* Like rg_ratelimit_take for cost tokens at once (a cost above the burst
 * takes the whole burst): all of them or none. */
bool rg_ratelimit_take_n(rg_ratelimit *rl, const char *key, uint32_t cost,
                         int64_t now_ms, int *retry_after_s, uint64_t *denied);

/* Calls fn(ctx, key, denied) for every slot whose refusals were counted
 * and whose last refusal is at least idle_ms old at now_ms, and for the
 * denials lost to eviction (key "*"), clearing those counts. fn runs with
 * the table locked: it must not call back into rl. Returns how many
 * calls were made. */
size_t rg_ratelimit_drain(rg_ratelimit *rl, int64_t now_ms, int64_t idle_ms,
                          void (*fn)(void *ctx, const char *key,
                                     uint64_t denied),
                          void *ctx);

#endif
