/*
 * constraint.h - whether a context satisfies a constraint, with each
 * operator decided as the Unleash Node SDK decides it (constraint values
 * were cleaned and precomputed by the parser). Pure; thread-safe.
 */
#ifndef RG_FLAGS_CONSTRAINT_H
#define RG_FLAGS_CONSTRAINT_H

#include "context.h"
#include "model.h"

#include <stdbool.h>

/* Returns true when ctx satisfies c (inverted applied; an unknown operator
 * is false whatever inverted says). */
bool rg_flag_constraint_holds(const rg_flag_constraint *c,
                              const rg_flag_ctx *ctx);

/* Returns true when every constraint of n holds (n == 0: true). */
bool rg_flag_constraints_hold(const rg_flag_constraint *c, size_t n,
                              const rg_flag_ctx *ctx);

#endif
