/*
 * eval.h - evaluating a flag set: isEnabled and getVariant of the Unleash
 * client specification, decided as the Unleash Node SDK decides them
 * (dependencies one level deep: a parent that has dependencies of its own
 * is unsatisfied, which also ends any cycle). Pure: the time and any
 * randomness come from the context. Thread-safe over one flag set.
 */
#ifndef RG_FLAGS_EVAL_H
#define RG_FLAGS_EVAL_H

#include "context.h"
#include "model.h"

#include <stdbool.h>

typedef struct rg_flag_result {
    const char *name;          /* the variant's name, or "disabled" */
    const char *payload_type;  /* NULL when the variant has no payload */
    const char *payload_value; /* NULL when the variant has no payload */
    bool enabled;              /* a variant was chosen */
    bool feature_enabled;      /* the feature is on for the context */
} rg_flag_result;

/* Returns true when feature name is on for ctx; an unknown feature is off.
 * fs and ctx are only read. */
bool rg_flags_enabled(const rg_flagset *fs, const char *name,
                      const rg_flag_ctx *ctx);

/* Fills *out with feature name's variant for ctx (strategy variants of the
 * first strategy that is on, else the feature's variants). Strings in *out
 * point into fs (or are static) and live as long as fs. */
void rg_flags_variant(const rg_flagset *fs, const char *name,
                      const rg_flag_ctx *ctx, rg_flag_result *out);

#endif
