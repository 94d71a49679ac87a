/*
 * variant.h - choosing one of a list of weighted variants for a context,
 * as the Unleash Node SDK's selectVariantDefinition does: an override that
 * names the context's value wins; otherwise the stickiness value is hashed
 * with the group id and RG_FLAG_VARIANT_SEED into 1..sum of weights and the
 * weights are walked in order. Pure; thread-safe.
 */
#ifndef RG_FLAGS_VARIANT_H
#define RG_FLAGS_VARIANT_H

#include "context.h"
#include "model.h"

/* Returns the chosen variant of v[0..n), or NULL when the weights sum to
 * 0 or none is reached. group is the feature name (feature variants) or
 * the strategy's groupId (strategy variants; NULL is hashed as
 * "undefined", as the SDK does); stickiness NULL means "default". */
const rg_flag_variant_def *rg_flag_variant_select(const rg_flag_variant_def *v,
                                                  size_t n, const char *group,
                                                  const char *stickiness,
                                                  const rg_flag_ctx *ctx);

#endif
