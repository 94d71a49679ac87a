/*
 * activation.h - how a release becomes active on an endpoint after
 * `applying`, as its publisher declares it (docs/api.md, POST
 * /v1/releases "activation"): at once (none), after a service restart
 * (restart) or after a reboot (reboot), within at most max_ms. The health
 * gate treats an endpoint still inside that time as pending, not silent
 * (docs/health.md). Pure; thread-safe.
 *
 * Defaults when a release declares nothing: kind none; max 120 s for
 * none, 600 s for restart, 1800 s for reboot. A declared max is 1 s to
 * 24 h (RG_ACTIVATION_MAX_MS_LIMIT).
 */
#ifndef RG_ACTIVATION_H
#define RG_ACTIVATION_H

#include "common/err.h"

#include <stdint.h>

enum {
    RG_ACTIVATION_NONE = 0,
    RG_ACTIVATION_RESTART = 1,
    RG_ACTIVATION_REBOOT = 2,
};

#define RG_ACTIVATION_MAX_MS_MIN INT64_C(1000)
#define RG_ACTIVATION_MAX_MS_LIMIT (INT64_C(24) * 3600 * 1000)

/* "none", "restart", "reboot"; "" for an unknown kind (static string). */
const char *rg_activation_name(int kind);

/* Parses "none", "restart" or "reboot" into *kind. Returns 0 or RG_EINVAL
 * (err says which names are known; field "activation.kind"). */
int rg_activation_parse(const char *name, int *kind, rg_err *err);

/* The default maximum activation time of kind, ms (0 for an unknown
 * kind). */
int64_t rg_activation_default_max_ms(int kind);

/* Checks kind and max_ms (RG_ACTIVATION_MAX_MS_MIN..LIMIT). Returns 0 or
 * RG_EINVAL with field "activation.kind" or "activation.max_s". */
int rg_activation_check(int kind, int64_t max_ms, rg_err *err);

#endif
