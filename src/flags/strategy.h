/*
 * strategy.h - whether one activation strategy of a feature is on for a
 * context (its constraints, its segments' constraints, then its kind's
 * rule), and which of its variants applies, as the Unleash Node SDK's
 * Strategy.getResult decides. Pure; thread-safe.
 */
#ifndef RG_FLAGS_STRATEGY_H
#define RG_FLAGS_STRATEGY_H

#include "context.h"
#include "model.h"

#include <stdbool.h>

/* Returns true when s is on for ctx in flag set fs (whose segments s may
 * name); an unknown strategy is off. When on and s has variants, *variant
 * is set to the chosen one (or NULL); otherwise *variant is NULL. */
bool rg_flag_strategy_on(const rg_flagset *fs, const rg_flag_strategy *s,
                         const rg_flag_ctx *ctx,
                         const rg_flag_variant_def **variant);

#endif
