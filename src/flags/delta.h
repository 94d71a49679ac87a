/*
 * delta.h - Unleash's delta API (client-features "events"): hydration,
 * feature-updated, feature-removed, segment-updated, segment-removed,
 * applied in order to a client-features document, as the SDKs apply a
 * delta response to their repository. Pure.
 */
#ifndef RG_FLAGS_DELTA_H
#define RG_FLAGS_DELTA_H

#include "common/err.h"

#include <jansson.h>

/* Applies the events array to state, a client-features document
 * ({"features": [...], "segments": [...]}) changed in place; a feature is
 * replaced by name, a segment by id. Returns 0, or RG_EINVAL naming the
 * first malformed or unknown event (events before it stay applied). */
int rg_flags_delta_apply(json_t *state, const json_t *events, rg_err *err);

#endif
