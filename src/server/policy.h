/*
 * policy.h - group policies (issue 4): a selector over endpoint attributes
 * and what it does to the matching endpoints on one channel.
 *
 *   selector {"tag": "pos-terminals"}: endpoints carrying that tag;
 *            {"attribute": {"os": "windows", "os_version": "10"}}:
 *            endpoints whose attributes have every value given (keys: os,
 *            os_version, arch, hw, region; at least one).
 *   mode     "n-1": a member gets a release only once that release's
 *            rollout completed on the general fleet: it always has the
 *            channel's current release (the last completed rollout's);
 *            "pin": a member always has the pinned release.
 *
 * Members are held: they are not part of the channel's rollouts (never
 * admitted, exposed or used as control endpoints). When several policies
 * of one channel match an endpoint, a pin wins over n-1 and the oldest
 * policy (lowest id) wins among equals (rg_policy_precedes).
 *
 * Pure: parsing, matching and ordering; no I/O. Stored as
 * rg_policy_rec (store.h); desired.c applies them at check-in.
 */
#ifndef RG_POLICY_H
#define RG_POLICY_H

#include "common/err.h"
#include "server/fleet.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define RG_POLICY_KEYS 5 /* os, os_version, arch, hw, region */

typedef enum rg_policy_mode {
    RG_POLICY_N1 = 0,  /* "n-1" */
    RG_POLICY_PIN = 1, /* "pin" */
} rg_policy_mode;

/* The attribute keys a selector may name, in rg_policy_selector.attr
 * order: "os", "os_version", "arch", "hw", "region". */
extern const char *const rg_policy_keys[RG_POLICY_KEYS];

/* A parsed selector. A plain value. */
typedef struct rg_policy_selector {
    char tag[RG_FLEET_ATTR_MAX + 1]; /* "": an attribute selector */
    char attr[RG_POLICY_KEYS][RG_FLEET_ATTR_MAX + 1]; /* "": any value */
} rg_policy_selector;

/* Reads a selector object (see above): exactly one of "tag" (a string of
 * 1..64 bytes) and "attribute" (an object of 1..5 of the keys, string
 * values of 1..64 bytes). Returns 0 or RG_EINVAL with err->field
 * "selector", "selector.tag", "selector.attribute" or
 * "selector.attribute.<key>". */
int rg_policy_selector_parse(const json_t *v, rg_policy_selector *out,
                             rg_err *err);

/* The selector's canonical JSON object (keys in rg_policy_keys order), a
 * new reference (caller json_decref's) or NULL on allocation failure. */
json_t *rg_policy_selector_json(const rg_policy_selector *s);

/* Whether an endpoint with attributes a matches s. */
bool rg_policy_matches(const rg_policy_selector *s, const rg_fleet_attrs *a);

/* "n-1" -> RG_POLICY_N1, "pin" -> RG_POLICY_PIN, anything else -1. */
int rg_policy_mode_parse(const char *name);

/* "n-1" or "pin" ("?" for anything else). */
const char *rg_policy_mode_name(int mode);

/* Whether a policy (mode_a, id_a) takes precedence over (mode_b, id_b)
 * when both match one endpoint on one channel: a pin before n-1, then
 * the lower id. */
bool rg_policy_precedes(int mode_a, int64_t id_a, int mode_b, int64_t id_b);

#endif
