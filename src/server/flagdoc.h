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

#endif
