/*
 * flagdoc.h - an environment's flags as one Unleash client-features
 * document, built from the store: what GET /api/client/features serves,
 * what `rollgate flag eval` evaluates, and what a change is validated
 * against (strictly, src/flags/parse.h) before it is written.
 */
#ifndef RG_FLAGDOC_H
#define RG_FLAGDOC_H

#include "store/store.h"

#include <jansson.h>

#define RG_FLAGS_PER_ENV_MAX                                                   \
    5000 /* flags, and segments, in one environment                            \
          */
#define RG_FLAG_ENV_DEFAULT "default"
#define RG_FLAG_STAMP_MAX 48 /* "VERSIONS-NEWEST_MS" and its NUL */

/* What a document is built with instead of the stored state (a change
 * being validated): the flag named flag replaced by feature (added when it
 * does not exist, left out when feature is NULL), and the segment named
 * segment replaced by seg, a {"id", "name", "constraints"} object (left out
 * when NULL). A NULL name replaces nothing. */
typedef struct rg_flagdoc_change {
    const char *flag;
    const json_t *feature;
    const char *segment;
    const json_t *seg;
} rg_flagdoc_change;

/* Returns a new {"version": 1, "features": [...], "segments": [...]} of
 * the current flags of env, by name, and its segments, by id, with chg
 * applied (NULL: none). NULL with err filled on a store failure or
 * RG_ETOOBIG past RG_FLAGS_PER_ENV_MAX flags or segments. */
json_t *rg_flagdoc_build(rg_store *s, const char *env,
                         const rg_flagdoc_change *chg, rg_err *err);

/* Returns a new {"id", "name", "constraints"} of segment g (its stored
 * definition with id and name), or NULL with err filled (RG_EIO: stored
 * JSON unreadable, RG_ENOMEM). */
json_t *rg_flagdoc_segment(const rg_segment_rec *g, rg_err *err);

/* How long a stamp read from the store is trusted while no flag or segment
 * is written through this server (rg_store_flag_writes): it bounds how
 * late a change written by another node sharing the database is seen. */
#define RG_FLAGDOC_STAMP_TTL_MS 1000

/* Each environment's document as compact JSON text at its stamp, and its
 * stamp, kept so that a flag change costs one build per environment, not
 * one per endpoint checking in or SDK polling, and an unchanged set no
 * store read (the check-in path and GET /api/client/features share it).
 * Thread-safe; the server owns one. */
typedef struct rg_flagdoc_cache rg_flagdoc_cache;

/* Writes env's change stamp into out: "VERSIONS-NEWEST_MS" (how many
 * versions its flags and segments have had, which only grows, and when
 * the newest was written; "0-0" without any). The ETag of GET
 * /api/client/features and the "stamp" of the check-in's flags. From c
 * (NULL: no cache) when it read env's stamp less than
 * RG_FLAGDOC_STAMP_TTL_MS before now_ms and nothing was written through s
 * since; else from the store (and kept in c). Returns 0 or the store's
 * error. */
int rg_flagdoc_stamp(rg_flagdoc_cache *c, rg_store *s, const char *env,
                     int64_t now_ms, char out[RG_FLAG_STAMP_MAX], rg_err *err);

/* Returns a new empty cache in *out, or RG_ENOMEM. */
int rg_flagdoc_cache_new(rg_flagdoc_cache **out, rg_err *err);

/* Frees c and its texts. NULL is fine. */
void rg_flagdoc_cache_free(rg_flagdoc_cache *c);

/* A new copy (the caller frees it) of env's document as compact JSON
 * text, its length in *len, for the stamp the caller read with
 * rg_flagdoc_stamp: from c when it holds env at that stamp, else built
 * from the store (and kept in c; c NULL: no cache). A build that races a
 * flag change may be newer than stamp, never older. NULL with err filled
 * as rg_flagdoc_build does. */
char *rg_flagdoc_text(rg_flagdoc_cache *c, rg_store *s, const char *env,
                      const char *stamp, size_t *len, rg_err *err);

#endif
