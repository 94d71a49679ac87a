/*
 * ctxjson.h - an Unleash context read from JSON, as the specification's
 * test cases and `rollgate flag eval` give it: {"userId": "u1",
 * "properties": {"plan": "pro"}, "currentTime": "2024-01-01T00:00:00Z",
 * ...}. Numbers and booleans become their text (as String() shows them);
 * null is absent. Pure.
 */
#ifndef RG_FLAGS_CTXJSON_H
#define RG_FLAGS_CTXJSON_H

#include "common/err.h"
#include "context.h"

#include <jansson.h>

#define RG_FLAG_CTX_MAX_FIELDS 64 /* top-level fields, and properties */

typedef struct rg_flag_ctx_json {
    rg_flag_ctx ctx; /* what evaluation reads; points into this struct */
    rg_flag_field fields[RG_FLAG_CTX_MAX_FIELDS];
    rg_flag_field props[RG_FLAG_CTX_MAX_FIELDS];
    char *owned[2 * RG_FLAG_CTX_MAX_FIELDS + 8]; /* converted values */
    size_t nowned;
} rg_flag_ctx_json;

/* Fills *out from the JSON object j (NULL: an empty context), with now_ms
 * as the time when j has no currentTime. String values point into j, which
 * must outlive *out. Returns 0, or RG_EINVAL (more than
 * RG_FLAG_CTX_MAX_FIELDS fields, properties not an object, a value that is
 * an object or array) with err naming the field. Release with
 * rg_flag_ctx_json_release. */
int rg_flag_ctx_json_init(rg_flag_ctx_json *out, const json_t *j, double now_ms,
                          rg_err *err);

/* Frees the converted values of c; c may then be initialised again. */
void rg_flag_ctx_json_release(rg_flag_ctx_json *c);

#endif
