/*
 * fleet_table.h - the layout of the fleet table, shared by the fleet_*.c
 * files and by nothing else (callers use fleet.h).
 *
 * A record (rg__ep, 56 bytes) per endpoint lives in a shard's chunked
 * storage and never moves; a ref names it across shards:
 * (shard << RG__FLEET_IDX_BITS | index) + 1, 0 meaning none. The table
 * (struct rg_fleet) holds the shards (fleet_shard.h), the token index
 * (fleet_token.h), the interned attribute profiles and strata
 * (fleet_profile.h), the channel names (fleet_installed.h) and the
 * counters (fleet_stats.c). Locks: tok_lock before a shard's mutex;
 * prof_mu and ch_mu are never held with a shard's.
 */
#ifndef RG_FLEET_TABLE_H
#define RG_FLEET_TABLE_H

#include "server/fleet.h"

#include <pthread.h>
#include <stdatomic.h>

#define RG__FLEET_CHUNK_RECS 1024u          /* records per storage chunk */
#define RG__FLEET_ARENA_CHUNK (64u * 1024u) /* bytes per id arena chunk */
#define RG__FLEET_IDX_BITS 26               /* record index bits in a ref */
#define RG__FLEET_SEED 0x5eedu /* murmur3 seed of ids and profiles */
#define RG__FLEET_F_INTERNAL 2u
#define RG__FLEET_F_SEEN 4u /* last_seen_ms changed since the store had it */

_Static_assert(RG_FLEET_SHARDS == 64, "refs keep the shard in 6 bits");

/* Times in a record: milliseconds since 1970 in 48 bits (to the year
 * 10889), 2-byte aligned so that records pack tightly. */
typedef struct rg__t48 {
    uint16_t w[3];
} rg__t48;

/* The milliseconds t holds. */
static inline int64_t rg__t48_get(rg__t48 t)
{
    return (int64_t)t.w[0] | (int64_t)t.w[1] << 16 | (int64_t)t.w[2] << 32;
}

/* ms as an rg__t48 (clamped to 0 .. 2^48 - 1). */
static inline rg__t48 rg__t48_of(int64_t ms)
{
    uint64_t u = ms < 0                  ? 0
                 : ms > 0xffffffffffffLL ? 0xffffffffffffu
                                         : (uint64_t)ms;
    return (rg__t48){{(uint16_t)u, (uint16_t)(u >> 16), (uint16_t)(u >> 32)}};
}

/* A record keeps the first RG__FLEET_TOKEN_KEPT bytes of its token's
 * SHA-256 (128 bits: finding a token that matches them is a 2^128
 * search); the token index keys on the first 4 of them. */
#define RG__FLEET_TOKEN_KEPT 16
#define RG__FLEET_PROFILE_BITS 20 /* profile index bits in prof_stratum */
#define RG__FLEET_PROFILES_MAX 1000000u
_Static_assert(RG__FLEET_PROFILES_MAX <= 1u << RG__FLEET_PROFILE_BITS,
               "profile indexes fit their bits");
_Static_assert(RG_FLEET_MAX_STRATA <= 1u << (32 - RG__FLEET_PROFILE_BITS),
               "stratum indexes fit the rest");

/* One endpoint: 56 bytes. What most endpoints share lives beside the
 * records in its shard: installed sets and offered lists as interned
 * tuples (fleet_tuple.h), canary slots in a pool that only endpoints under
 * a rollout use. */
typedef struct rg__ep {
    uint8_t token[RG__FLEET_TOKEN_KEPT]; /* its token's SHA-256, cut */
    uint32_t id_off;                     /* id offset in the shard arena */
    uint32_t prof_stratum; /* profile index | stratum << PROFILE_BITS */
    uint32_t installed;    /* tuple of (channel, release), 0: none */
    uint32_t offered;      /* tuple of releases offered, newest first */
    uint32_t canary;       /* its slot pair in the shard's pool + 1; 0: none */
    rg__t48 enrolled, last_seen;
    rg__t48 prev_seen; /* the check-in before the last one */
    uint8_t id_len;
    uint8_t flags; /* RG__FLEET_F_* */
} rg__ep;
_Static_assert(sizeof(rg__ep) == 56, "the record stays 56 bytes");

/* r's profile index (into f->profiles). */
static inline uint32_t rg__ep_profile(const rg__ep *r)
{
    return r->prof_stratum & ((1u << RG__FLEET_PROFILE_BITS) - 1u);
}

/* r's stratum index (into f->strata). */
static inline uint32_t rg__ep_stratum(const rg__ep *r)
{
    return r->prof_stratum >> RG__FLEET_PROFILE_BITS;
}

/* One interned tuple: up to 4 (tag, value) pairs. Installed sets tag each
 * release id with its channel name index + 1, offered lists tag nothing
 * (0). Tuple 0 is the empty one and is never stored. */
typedef struct rg__fleet_tuple {
    uint32_t v[RG_FLEET_CHANNELS];
    uint8_t tag[RG_FLEET_CHANNELS];
    uint32_t refs; /* records holding it; 0: free (next free in v[0]) */
} rg__fleet_tuple;
_Static_assert(RG_FLEET_CHANNELS == RG_FLEET_OFFERED,
               "installed sets and offered lists share the tuple");

typedef struct rg__fleet_shard {
    pthread_mutex_t mu;
    rg__ep **chunks; /* RG__FLEET_CHUNK_RECS records each; never move */
    size_t n_chunks, cap_chunks;
    uint32_t n;   /* records in use */
    char **arena; /* RG__FLEET_ARENA_CHUNK bytes each; ids NUL-terminated */
    size_t n_arena, cap_arena;
    uint32_t arena_used;  /* bytes used in the last arena chunk */
    uint32_t *index;      /* open addressing (fleet_shard.c), 0 empty */
    uint32_t index_cap;   /* power of two, or 0 */
    uint64_t *dirty;      /* a bit per record: waiting for a flush */
    size_t cap_dirty;     /* 64-bit words */
    size_t dirty_next;    /* the word the last take found a bit in */
    uint32_t n_dirty;     /* bits set */
    rg__fleet_tuple *tup; /* interned tuples, tup[0] unused */
    uint32_t n_tup, cap_tup, free_tup; /* free_tup: first free + 1 */
    uint32_t *tup_index; /* open addressing of tuple numbers, 0 empty */
    uint32_t tup_index_cap, tup_live;
    rg_fleet_canary (*pairs)[RG_FLEET_CANARY_SLOTS]; /* the canary pool */
    uint32_t n_pairs, cap_pairs, free_pair; /* free_pair: first free + 1 */
} rg__fleet_shard;

/* One interned attribute set, shared by the endpoints that have it. */
typedef struct rg__fleet_profile {
    char *json;    /* stored attribute form */
    char *stratum; /* os-os_version-arch */
    uint32_t hash;
    uint32_t stratum_id; /* index into rg_fleet.strata */
    bool internal;
    char *envs; /* flag environments it may read, each followed by a NUL,
                   the list by another ("": the default one) */
} rg__fleet_profile;

/* Token index slot: the first 4 bytes of the token hash and a ref. */
typedef struct rg__fleet_tok_slot {
    uint32_t key;
    uint32_t ref; /* 0: empty */
} rg__fleet_tok_slot;

struct rg_fleet {
    rg_server *srv;
    rg__fleet_shard shards[RG_FLEET_SHARDS];

    pthread_rwlock_t tok_lock;
    rg__fleet_tok_slot *tok;
    uint32_t tok_cap, tok_n;

    pthread_mutex_t prof_mu;
    rg__fleet_profile *profiles;
    uint32_t n_profiles, cap_profiles;
    uint32_t *prof_index;
    uint32_t prof_index_cap;
    char *strata[RG_FLEET_MAX_STRATA]; /* names, owned; guarded by prof_mu */
    _Atomic uint32_t n_strata;

    pthread_mutex_t ch_mu; /* serialises appends to channel names */
    char ch_names[RG_FLEET_CHANNEL_NAMES][RG_NAME_MAX + 1];
    _Atomic uint32_t n_ch; /* published after the name is written */

    pthread_mutex_t flush_mu;       /* one flush at a time */
    _Atomic int64_t seen_period_ms; /* rg_fleet_seen_period; 0: default */

    _Atomic uint64_t size;
    _Atomic uint64_t checkins;
    _Atomic uint64_t page_scans; /* rg_fleet_page passes */
    _Atomic uint64_t flushes, flushed_records, flush_errors;
    _Atomic int64_t last_flush_ms, max_flush_ms;
};

/* The shard a ref names. */
static inline rg__fleet_shard *rg__fleet_ref_shard(rg_fleet *f, uint32_t ref)
{
    return &f->shards[(ref - 1) >> RG__FLEET_IDX_BITS];
}

/* The record index within its shard a ref names. */
static inline uint32_t rg__fleet_ref_index(uint32_t ref)
{
    return (ref - 1) & ((1u << RG__FLEET_IDX_BITS) - 1u);
}

/* The ref of record idx in shard shard_no. */
static inline uint32_t rg__fleet_make_ref(size_t shard_no, uint32_t idx)
{
    return (((uint32_t)shard_no << RG__FLEET_IDX_BITS) | idx) + 1u;
}

/* Record idx of s (idx < s->n). Caller holds s->mu. */
static inline rg__ep *rg__fleet_rec_at(rg__fleet_shard *s, uint32_t idx)
{
    return &s->chunks[idx / RG__FLEET_CHUNK_RECS][idx % RG__FLEET_CHUNK_RECS];
}

/* r's id (NUL-terminated, r->id_len bytes), borrowed from s's arena, which
 * lives until rg_fleet_close. */
static inline const char *rg__fleet_rec_id(rg__fleet_shard *s, const rg__ep *r)
{
    return s->arena[r->id_off / RG__FLEET_ARENA_CHUNK] +
           r->id_off % RG__FLEET_ARENA_CHUNK;
}

#endif
