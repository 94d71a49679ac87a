/*
 * parse.h - builds a flag set (model.h) from the Unleash client-features
 * JSON document ({"version": 1, "features": [...], "segments": [...]}).
 *
 * Two modes. RG_FLAGS_LENIENT reads what a Unleash server may send as every
 * SDK does: an unknown operator or strategy, an invalid regex or a missing
 * segment is kept and evaluates to false. RG_FLAGS_STRICT is for input a
 * user gives Rollgate: each of those, a wrong type, a duplicate name, a
 * dependency on an unknown feature or a dependency cycle fails with
 * RG_EINVAL, a message, and err->field naming the offending field as a path
 * ("features[2].strategies[0].constraints[1].operator").
 */
#ifndef RG_FLAGS_PARSE_H
#define RG_FLAGS_PARSE_H

#include "common/err.h"
#include "model.h"

#include <jansson.h>

typedef enum rg_flags_mode {
    RG_FLAGS_LENIENT = 0,
    RG_FLAGS_STRICT = 1,
} rg_flags_mode;

/* Parses doc into a new flag set stored in *out (the caller frees it with
 * rg_flagset_free). doc is only read and may be freed afterwards. Returns
 * 0, or a negative rg_code with err filled and *out untouched. */
int rg_flagset_parse(const json_t *doc, rg_flags_mode mode, rg_flagset **out,
                     rg_err *err);

#endif
