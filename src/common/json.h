/*
 * json.h - type-checked field extraction over jansson.
 *
 * Each getter reads obj[field], checks its type and bounds, and on failure
 * fills err with RG_EINVAL, a message naming the field and the expected
 * type, and err->field = field. With required == false a missing (or null)
 * field leaves *out untouched and returns 0; the getter's return tells the
 * caller nothing was present via *present when that pointer is non-NULL.
 *
 * Strings returned point into the json_t and live as long as it does.
 */
#ifndef RG_JSON_H
#define RG_JSON_H

#include "err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RG_JSON_MAX_DEPTH 32 /* deeper request bodies are refused */

/* Parses len bytes as a JSON object (not array, not scalar), refusing
 * nesting deeper than RG_JSON_MAX_DEPTH. Returns a new reference the caller
 * must json_decref, or NULL with err filled (RG_EINVAL). */
json_t *rg_json_parse_object(const char *data, size_t len, rg_err *err);

/* String field, 1..maxlen bytes, valid UTF-8 (jansson guarantees it). */
int rg_json_string(const json_t *obj, const char *field, bool required,
                   size_t maxlen, const char **out, rg_err *err);

/* Integer field in [min, max]. */
int rg_json_int(const json_t *obj, const char *field, bool required,
                int64_t min, int64_t max, int64_t *out, rg_err *err);

/* Number field (integer or real) in [min, max]. */
int rg_json_number(const json_t *obj, const char *field, bool required,
                   double min, double max, double *out, rg_err *err);

/* Boolean field. */
int rg_json_bool(const json_t *obj, const char *field, bool required, bool *out,
                 rg_err *err);

/* Object field; *out is a borrowed reference. */
int rg_json_object(const json_t *obj, const char *field, bool required,
                   json_t **out, rg_err *err);

/* Array field of at most maxlen items; *out is a borrowed reference. */
int rg_json_array(const json_t *obj, const char *field, bool required,
                  size_t maxlen, json_t **out, rg_err *err);

/* Fails with RG_EINVAL naming the first key of obj not in the NULL-ended
 * list allowed. Use it to refuse typos in request bodies. */
int rg_json_only(const json_t *obj, const char *const *allowed, rg_err *err);

/* Serialises v compactly (reals with 12 significant digits, so 0.1 prints
 * as 0.1) into a new malloc'd string (caller frees), or
 * NULL on allocation failure. Does not steal v. */
char *rg_json_dump(const json_t *v);

#endif
