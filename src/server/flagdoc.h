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

#define RG_FLAGS_PER_ENV_MAX 5000 /* flags in one environment */
#define RG_FLAG_ENV_DEFAULT "default"
#define RG_FLAG_STAMP_MAX 48 /* "VERSIONS-NEWEST_MS" and its NUL */

/* Returns a new {"version": 1, "features": [...], "segments": []} of the
 * current flags of env, by name; when name is not NULL, that flag's
 * definition is replaced by feature (added when it does not exist), or
 * left out when feature is NULL. NULL with err filled on a store failure
 * or RG_ETOOBIG past RG_FLAGS_PER_ENV_MAX flags. */
json_t *rg_flagdoc_build(rg_store *s, const char *env, const char *name,
                         const json_t *feature, rg_err *err);

/* Writes env's change stamp into out: "VERSIONS-NEWEST_MS" (how many
 * versions its flags have had, which only grows, and when the newest was
 * written; "0-0" without flags). The ETag of GET /api/client/features and
 * the "stamp" of the check-in's flags. Returns 0 or the store's error. */
int rg_flagdoc_stamp(rg_store *s, const char *env, char out[RG_FLAG_STAMP_MAX],
                     rg_err *err);

/* Each environment's document as compact JSON text at its stamp, kept so
 * that a flag change costs one build per environment, not one per
 * endpoint checking in or SDK polling (the check-in path and GET
 * /api/client/features share it). Thread-safe; the server owns one. */
typedef struct rg_flagdoc_cache rg_flagdoc_cache;

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
