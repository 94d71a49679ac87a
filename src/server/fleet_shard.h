/*
 * fleet_shard.h - the fleet table's shards: record storage and the id
 * index (internal to the fleet_*.c files).
 *
 * An id picks its shard by its hash (rg__fleet_id_hash % RG_FLEET_SHARDS).
 * A shard keeps its records in chunks of RG__FLEET_CHUNK_RECS mapped
 * straight from the kernel (records never move), the ids in append-only
 * arena chunks, an open-addressing (linear probing) index of id -> record
 * whose slots carry a tag of the hash, a dirty bit per record, its interned
 * tuples (fleet_tuple.h) and its pool of canary slot pairs.
 * Every function that takes a shard expects its mutex held by the caller,
 * unless it says otherwise.
 */
#ifndef RG_FLEET_SHARD_H
#define RG_FLEET_SHARD_H

#include "server/fleet_table.h"

/* The hash of an id, which picks its shard and its index slots. */
uint32_t rg__fleet_id_hash(const char *id, size_t len);

/* The shard of hash h; *no receives its number. */
rg__fleet_shard *rg__fleet_shard_of(rg_fleet *f, uint32_t h, size_t *no);

/* Record index of id (len bytes, hash h) in s, or -1. */
int64_t rg__fleet_shard_find(rg__fleet_shard *s, const char *id, size_t len,
                             uint32_t h);

/* Appends a zeroed record for id and indexes it; returns its index, or -1
 * when out of memory or the shard is full. */
int64_t rg__fleet_shard_append(rg__fleet_shard *s, const char *id, size_t len,
                               uint32_t h);

/* Marks record idx dirty (queued for the next flush): a bit per record,
 * grown with the record chunks, so marking cannot fail. */
void rg__fleet_mark_dirty(rg__fleet_shard *s, uint32_t idx);

/* Clears one dirty mark and returns its record index, or -1 when none is
 * left. */
int64_t rg__fleet_take_dirty(rg__fleet_shard *s);

/* r's canary slots (RG_FLEET_CANARY_SLOTS, in s's pool), NULL when it has
 * none (fleet_canary.c takes them on its first canary event). */
rg_fleet_canary *rg__fleet_canary_pair(rg__fleet_shard *s, const rg__ep *r);

/* Finds id's record and locks its shard (*sp); NULL, nothing locked, when
 * id is unknown. The caller unlocks (*sp)->mu. */
rg__ep *rg__fleet_find_locked(rg_fleet *f, const char *id,
                              rg__fleet_shard **sp);

/* Frees s's storage, index, dirty bits, tuples and canary pool and destroys its
 * mutex (not locked). */
void rg__fleet_shard_release(rg__fleet_shard *s);

/* Grows *arr (elements of elem bytes, *cap of them) to hold need, doubling.
 * Returns 0 or RG_ENOMEM (*arr unchanged). */
int rg__fleet_grow(void **arr, size_t *cap, size_t need, size_t elem);

#endif
