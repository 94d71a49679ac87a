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

/* Returns a new {"version": 1, "features": [...], "segments": []} of the
 * current flags of env, by name; when name is not NULL, that flag's
 * definition is replaced by feature (added when it does not exist), or
 * left out when feature is NULL. NULL with err filled on a store failure
 * or RG_ETOOBIG past RG_FLAGS_PER_ENV_MAX flags. */
json_t *rg_flagdoc_build(rg_store *s, const char *env, const char *name,
                         const json_t *feature, rg_err *err);

#endif
