/*
 * semver.h - semantic versions as node-semver's strict parser reads them
 * (what the Unleash SEMVER_* operators use): MAJOR.MINOR.PATCH without
 * leading zeros, an optional "-" pre-release of dot-separated identifiers,
 * an optional "+" build that is ignored when comparing, an optional leading
 * "v", surrounding white space ignored. Pure; thread-safe.
 */
#ifndef RG_FLAGS_SEMVER_H
#define RG_FLAGS_SEMVER_H

#include <stdbool.h>
#include <stdint.h>

#define RG_SEMVER_MAX_LEN 256 /* node-semver refuses longer versions */

typedef struct rg_semver {
    uint64_t major, minor, patch;
    const char *pre; /* pre-release, into the parsed string; NULL if none */
    int pre_len;
} rg_semver;

/* Parses s into *out (which points into s: keep s alive). Returns true on
 * success, false if s is not a valid version. */
bool rg_semver_parse(const char *s, rg_semver *out);

/* Returns <0, 0 or >0 as a precedes, equals or follows b (semver 2.0.0
 * precedence: a pre-release precedes its release; numeric identifiers
 * compare as numbers and precede alphanumeric ones). */
int rg_semver_cmp(const rg_semver *a, const rg_semver *b);

#endif
