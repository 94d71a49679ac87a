/*
 * fleet.h - the in-memory endpoint table behind the check-in path.
 *
 * One fixed-size record (56 bytes, fleet_table.h) per enrolled endpoint: its
 * id (kept in an append-only arena, the record holds an offset), the first
 * 128 bits of its token's SHA-256, the last RG_FLEET_OFFERED releases
 * check-ins offered it (which bounds what it may download) and the
 * installed release of up to RG_FLEET_CHANNELS channels (both as interned
 * tuples its shard shares among records, fleet_tuple.h), an interned
 * attribute profile (os, os_version, arch, hw, region, tags; the stratum
 * os-os_version-arch derives from it), the `internal` ring flag, enrolled
 * and last-seen times (milliseconds in 48 bits), a dirty bit, the time of
 * the check-in before the last one and the canary slots of the health
 * analysis (below; in a per-shard pool, taken by an endpoint's first
 * canary event and given back when its rollouts are cleared).
 *
 * The table is split into RG_FLEET_SHARDS shards by a hash of the id; each
 * shard has its own mutex, chunked record storage (records never move), an
 * open-addressing (linear probing) id index and a list of dirty records.
 * A global token index (token hash -> record) finds the owner of a token,
 * for artifact downloads and to tell a foreign token (403) from an unknown
 * one (401). A check-in is O(1): hash, probe, constant-time compare,
 * update, mark dirty. Nothing is written to the store per check-in:
 * rg_fleet_flush writes the dirty records in batches with
 * rg_store_endpoint_flush (the orchestrator's flush thread calls it every
 * cfg.flush_ms; rg_fleet_close calls it a last time). A check-in makes its
 * record dirty when the installed releases change or when its last-seen
 * time enters another RG_FLEET_SEEN_MS period: an agent on the usual
 * interval (60 s) is written after each check-in, one checking in faster
 * (retries, a benchmark) at most once a period, and rg_fleet_close writes
 * every last-seen time still held back. After a crash a stored last-seen
 * time may be up to RG_FLEET_SEEN_MS + cfg.flush_ms old (events are
 * durable before they are acknowledged: this is only the time).
 *
 * Enrollment is written to the store by the caller (rg_store_endpoint_enroll)
 * BEFORE rg_fleet_put makes the endpoint known here.
 *
 * Installed releases: the first RG_FLEET_CHANNELS channels an endpoint
 * reports are kept (further ones are ignored), and at most
 * RG_FLEET_CHANNEL_NAMES distinct channel names fleet-wide; release ids
 * above UINT32_MAX are refused. Only release ids are kept: versions are
 * the store's (the release's) when shown.
 *
 * Every function is thread-safe. The implementation is one file per part,
 * listed at the top of fleet.c; fleet_table.h is the layout they share.
 */
#ifndef RG_FLEET_H
#define RG_FLEET_H

#include "common/err.h"
#include "common/event_type.h"
#include "server/server.h"
#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RG_FLEET_SHARDS 64
#define RG_FLEET_CHANNELS 4        /* installed channels kept per endpoint */
#define RG_FLEET_CHANNEL_NAMES 255 /* distinct channel names fleet-wide */
#define RG_FLEET_TOKEN_BYTES 32    /* binary SHA-256 of the token */
#define RG_FLEET_FLUSH_BATCH 1000  /* records per store transaction */
#define RG_FLEET_ATTR_MAX 64       /* os, os_version, arch, hw, region, tag */
#define RG_FLEET_TAGS_MAX 16
#define RG_FLEET_SEEN_MS 30000 /* last-seen write period (see above) */
#define RG_FLEET_OFFERED 4     /* offered releases kept per endpoint */

/* Validated endpoint attributes. */
typedef struct rg_fleet_attrs {
    char os[RG_FLEET_ATTR_MAX + 1];
    char os_version[RG_FLEET_ATTR_MAX + 1];
    char arch[RG_FLEET_ATTR_MAX + 1];
    char hw[RG_FLEET_ATTR_MAX + 1];     /* "" when not given */
    char region[RG_FLEET_ATTR_MAX + 1]; /* "" when not given */
    size_t n_tags;
    char tags[RG_FLEET_TAGS_MAX][RG_FLEET_ATTR_MAX + 1];
    /* the flag environments it may read, set by its enrollment key, never
     * by the endpoint (0: the default one only; docs/flags.md) */
    size_t n_envs;
    char envs[RG_FLAG_ENVS_MAX][RG_NAME_MAX + 1];
} rg_fleet_attrs;

/* One installed entry (channel name, release id). */
typedef struct rg_fleet_installed {
    char channel[RG_NAME_MAX + 1];
    int64_t release_id;
} rg_fleet_installed;

/* A copy of one endpoint, for admin views. */
typedef struct rg_fleet_endpoint {
    char id[RG_EPID_MAX + 1];
    char attrs_json[RG_ATTRS_MAX +
                    1]; /* {"os":..,"os_version":..,"arch":..,"tags":[..]} */
    char stratum[3 * RG_FLEET_ATTR_MAX + 3];
    bool internal;
    int64_t enrolled_ms;
    int64_t last_seen_ms;
    size_t n_installed;
    rg_fleet_installed installed[RG_FLEET_CHANNELS];
} rg_fleet_endpoint;

/* Counters for /metrics. */
typedef struct rg_fleet_stats {
    uint64_t endpoints;
    uint64_t checkins;        /* successful check-ins since start */
    uint64_t page_scans;      /* passes of rg_fleet_page (endpoint lists) */
    uint64_t flushes;         /* flush passes that wrote something */
    uint64_t flushed_records; /* records written by flushes */
    uint64_t flush_errors;
    uint64_t dirty;        /* records waiting for the next flush */
    int64_t last_flush_ms; /* duration of the last writing pass */
    int64_t max_flush_ms;
} rg_fleet_stats;

/* Creates the table and loads every endpoint from srv->store. *out is owned
 * by the caller (rg_fleet_close). Returns 0, RG_ENOMEM or the store's
 * error. */
int rg_fleet_open(rg_server *srv, rg_fleet **out, rg_err *err);

/* Flushes dirty records (errors are logged), then frees the table. NULL is
 * a no-op. */
void rg_fleet_close(rg_fleet *f);

/* Number of endpoints in the table. */
uint64_t rg_fleet_size(rg_fleet *f);

/* Checks an endpoint id: 1..RG_EPID_MAX bytes of [A-Za-z0-9._:-]. */
bool rg_fleet_id_valid(const char *id);

/* Reads and validates attributes from JSON ({"os","os_version","arch"
 * required strings <= 64 bytes; "hw", "region" optional strings; "tags"
 * optional array of <= 16 strings; "flag_environments" optional array of
 * <= RG_FLAG_ENVS_MAX environment names, which only the server writes});
 * err->field names "attributes.<x>". Returns 0 or RG_EINVAL. */
int rg_fleet_attrs_from_json(const json_t *v, rg_fleet_attrs *out, rg_err *err);

/* Serialises attributes in the stored form (the object rg_fleet_attrs_
 * from_json reads, keys in a fixed order). Returns a new malloc'd string
 * (caller frees) or NULL on allocation failure. */
char *rg_fleet_attrs_json(const rg_fleet_attrs *a);

/* Inserts endpoint e, or replaces the token and attributes of an existing
 * one (keeping its last_seen and installed; a new one takes e's). e->attrs_
 * json must be the stored attribute form, e->token_hash the hex SHA-256 of
 * the token. Returns 0, RG_EINVAL for a bad id, hash or attributes,
 * RG_ENOMEM, or RG_ETOOBIG when a table limit is reached. */
int rg_fleet_put(rg_fleet *f, const rg_endpoint_rec *e, rg_err *err);

/* Health state of an endpoint for one release under rollout (the canary
 * slots, RG_FLEET_CANARY_SLOTS per record, in memory only: after a restart
 * the orchestrator rebuilds them from the stored events). */
#define RG_FLEET_CANARY_SLOTS 2
/* A guarded flag rollout's slots carry RG_FLEET_FLAG_KEY + its id in place
 * of a release id (server/flag_rollout.h). Such a slot is taken only when
 * free and no other flag rollout holds one, so releases keep a slot; it
 * is never listed as a release (rg_fleet_releases_of). */
#define RG_FLEET_FLAG_KEY 0x80000000u
#define RG_CN_ASSIGNED 1u  /* the rollout gave it the release (admitted) */
#define RG_CN_EXPOSED 2u   /* reported `applying` */
#define RG_CN_HEALTHY 4u   /* reported `healthy` */
#define RG_CN_FAILED 8u    /* reported `failed`, `reverted` or `crashed` */
#define RG_CN_QUEUED 16u   /* the orchestrator took the exposure in */
#define RG_CN_JUDGED 32u   /* its judged span ended (canary.c resolve) */
#define RG_CN_SILENT 64u   /* ... and the gate counted it silent */
#define RG_CN_COUNTED 128u /* the orchestrator counted its failure */
#define RG_FLEET_MAX_STRATA 4096

typedef struct rg_fleet_canary {
    uint32_t release;   /* release id, 0: free slot */
    uint32_t flags;     /* RG_CN_* */
    int64_t apply_ms;   /* server time of the first `applying`, 0: none */
    int64_t healthy_ms; /* server time of the first `healthy`, 0: none */
} rg_fleet_canary;

/* What a successful check-in tells the caller about the endpoint. */
typedef struct rg_fleet_checkin_out {
    bool internal;
    uint32_t stratum; /* index, see rg_fleet_stratum_name */
    uint32_t profile; /* its interned attribute set (rg_fleet_profile_json) */
} rg_fleet_checkin_out;

/* One endpoint as the orchestrator's scan sees it. id borrows from the
 * table (valid until rg_fleet_close). */
typedef struct rg_fleet_view {
    uint32_t ref; /* stable handle for rg_fleet_view_ref */
    const char *id;
    uint32_t stratum;
    uint32_t profile; /* its interned attribute set */
    bool internal;
    int64_t last_seen_ms, prev_seen_ms; /* the last two check-ins, 0: none */
    rg_fleet_canary canary[RG_FLEET_CANARY_SLOTS];
    uint32_t installed[RG_FLEET_CHANNELS]; /* release ids, 0: none */
} rg_fleet_view;

/* The canary slot for release in v, or NULL. */
const rg_fleet_canary *rg_fleet_canary_of(const rg_fleet_view *v,
                                          int64_t release);

/* Applies an agent event (type: an rg_event_type code: applying, healthy,
 * or failed/reverted/crashed) received at at_ms to
 * endpoint id's slot for release: applying takes a slot (a free one, or
 * the one of the oldest release when that is older) and sets EXPOSED and
 * ASSIGNED with apply_ms; the others only update an existing slot. O(1).
 * Returns 0, RG_ENOTFOUND for an unknown endpoint, or RG_ENOMEM when no
 * slot could be had. */
int rg_fleet_canary_event(rg_fleet *f, const char *id, int64_t release,
                          int type, int64_t at_ms, rg_err *err);

/* Sets flags in endpoint id's slot for release (taking one as above).
 * Returns 0, RG_ENOTFOUND or RG_ENOMEM. */
int rg_fleet_canary_set(rg_fleet *f, const char *id, int64_t release,
                        uint32_t flags, rg_err *err);

/* The same through a view's ref. Returns 0, RG_ENOTFOUND or RG_ENOMEM. */
int rg_fleet_canary_set_ref(rg_fleet *f, uint32_t ref, int64_t release,
                            uint32_t flags);

/* Frees every endpoint's slot for release (flags and times gone), so
 * that a new rollout of a release starts from nothing (canary.h). O(fleet),
 * shard by shard. */
void rg_fleet_canary_clear(rg_fleet *f, int64_t release);

/* Copies endpoint id's view (id pointer included). Returns 0 or
 * RG_ENOTFOUND. */
int rg_fleet_view_id(rg_fleet *f, const char *id, rg_fleet_view *out,
                     rg_err *err);

/* Copies the endpoint with handle ref into *out. Returns 0, or
 * RG_ENOTFOUND for a ref the table never gave out. */
int rg_fleet_view_ref(rg_fleet *f, uint32_t ref, rg_fleet_view *out);

/* Calls fn for every endpoint, shard by shard with the shard locked (fn
 * must be quick and must not call into the fleet). Stops when fn returns
 * non-zero and returns that value; 0 otherwise. */
int rg_fleet_scan(rg_fleet *f, int (*fn)(void *ctx, const rg_fleet_view *v),
                  void *ctx);

/* Number of distinct strata so far (indexes 0..n-1). */
uint32_t rg_fleet_strata(rg_fleet *f);

/* Copies stratum s's name (os-os_version-arch) into out ("" if unknown). */
void rg_fleet_stratum_name(rg_fleet *f, uint32_t s, char *out, size_t n);

/* Number of distinct attribute sets (profiles 0..n-1) so far. */
uint32_t rg_fleet_profiles(rg_fleet *f);

/* Copies the stored attribute JSON of profile p into out ("" if unknown). */
void rg_fleet_profile_json(rg_fleet *f, uint32_t p, char *out, size_t n);

/* Whether endpoints of profile p may read the flags of environment env:
 * env is among its attributes' flag_environments, or, when it has none,
 * env is the default one. */
bool rg_fleet_profile_reads(rg_fleet *f, uint32_t p, const char *env);

/* Verifies that token_hash (binary SHA-256 of the presented token) is the
 * token of endpoint id (constant-time), then records now_ms as last seen
 * and the n installed entries (n <= RG_FLEET_CHANNELS kept) and marks the
 * record dirty. Returns 0; RG_ENOMEM when a new installed set cannot be
 * kept; RG_EAUTH when the token belongs to no endpoint
 * (or the id is unknown and the token too); RG_EFORBIDDEN when the token is
 * another endpoint's. */
int rg_fleet_checkin(rg_fleet *f, const char *id,
                     const uint8_t token_hash[RG_FLEET_TOKEN_BYTES],
                     int64_t now_ms, const rg_fleet_installed *installed,
                     size_t n, rg_fleet_checkin_out *out, rg_err *err);

/* Finds the endpoint whose token hashes to token_hash and copies its id
 * into id_out. Returns 0 or RG_EAUTH. */
int rg_fleet_token_owner(rg_fleet *f,
                         const uint8_t token_hash[RG_FLEET_TOKEN_BYTES],
                         char id_out[RG_EPID_MAX + 1], rg_err *err);

/* Notes that a check-in answer offered release to endpoint id: the last
 * RG_FLEET_OFFERED distinct releases offered are kept (in memory only: a
 * cache of the store's durable offers, rg_store_offers_record, which the
 * caller writes first). Returns 0, or
 * RG_ENOTFOUND for an unknown endpoint (RG_EINVAL for a release id that
 * no record can hold). */
int rg_fleet_offer(rg_fleet *f, const char *id, int64_t release, rg_err *err);

/* Whether release is among the last RG_FLEET_OFFERED releases offered to
 * endpoint id (rg_fleet_offer). Returns 1, 0, or RG_ENOTFOUND for an
 * unknown endpoint. */
int rg_fleet_offered(rg_fleet *f, const char *id, int64_t release, rg_err *err);

/* The releases endpoint id may download as far as memory knows: the last
 * ones offered to it (rg_fleet_offer) and those of its canary slots
 * (assigned or exposed; what it claims installed does not count). Copies up to
 * cap ids into out, *n of them, without duplicates. Returns 0 or RG_ENOTFOUND.
 */
int rg_fleet_releases_of(rg_fleet *f, const char *id, int64_t *out, size_t cap,
                         size_t *n, rg_err *err);

/* Several nodes (fleet_remote.c, docs/scale.md). Sets the last-seen write
 * period (default RG_FLEET_SEEN_MS): nodes sharing a database write every
 * check-in's time at the next flush (period 1), so that the leader sees
 * each contact. */
void rg_fleet_seen_period(rg_fleet *f, int64_t period_ms);

/* Another node's flush or enrollment of endpoint e (token_hash, attributes,
 * last_seen_ms, installed_json): an endpoint this table does not know, or
 * whose token changed, is put (rg_fleet_put); a later last-seen time
 * becomes the endpoint's last check-in (the one before moves back) with
 * the installed releases it reported, without marking it dirty. Returns
 * 0, or rg_fleet_put's error. */
int rg_fleet_remote_seen(rg_fleet *f, const rg_endpoint_rec *e, rg_err *err);

/* Copies endpoint id into *out. Returns 0 or RG_ENOTFOUND. */
int rg_fleet_get(rg_fleet *f, const char *id, rg_fleet_endpoint *out,
                 rg_err *err);

/* One page of endpoint ids in byte order, strictly after `after` (NULL or
 * "": from the start), at most limit, of the endpoints keep(ctx, view)
 * returns true for (keep NULL: every endpoint; keep is called with the
 * shard locked, as rg_fleet_scan's fn). *ids receives a malloc'd array of
 * *n ids each RG_EPID_MAX+1 bytes (caller frees; NULL when *n is 0);
 * *more says whether ids remain after the page. Returns 0 or RG_ENOMEM. */
int rg_fleet_page(rg_fleet *f, const char *after, size_t limit,
                  bool (*keep)(void *ctx, const rg_fleet_view *v), void *ctx,
                  char (**ids)[RG_EPID_MAX + 1], size_t *n, bool *more,
                  rg_err *err);

/* Calls fn(ctx, id, internal) for every endpoint, shard by shard with the
 * shard locked: fn must be quick and must not call back into the fleet.
 * Stops when fn returns non-zero and returns that value; 0 otherwise. */
int rg_fleet_foreach(rg_fleet *f,
                     int (*fn)(void *ctx, const char *id, bool internal),
                     void *ctx);

/* Writes every dirty record to the store in batches of
 * RG_FLEET_FLUSH_BATCH. Records that fail to write stay dirty. Returns 0
 * or the store's first error. */
int rg_fleet_flush(rg_fleet *f, rg_err *err);

/* Copies the counters. */
void rg_fleet_stats_get(rg_fleet *f, rg_fleet_stats *out);

#endif
