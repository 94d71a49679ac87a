/*
 * quarantine.h - digests the agent refuses to apply again.
 *
 *   STATE/quarantine/<sha256>   {"channel","release","version","reason","at_ms"}
 *
 * A digest lands here when its trial reverts or its validate hook fails;
 * it is never applied again until lifted (`rollgate-agent unquarantine`).
 * Each entry is written durably.
 */
#ifndef RG_AGENT_QUARANTINE_H
#define RG_AGENT_QUARANTINE_H

#include "common/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* Quarantines sha256 (idempotent). Returns 0, RG_EINVAL or RG_EIO. */
int rg_quarantine_add(const char *state_dir, const char *sha256,
                      const char *channel, int64_t release, int64_t version,
                      const char *reason, int64_t now_ms, rg_err *err);

/* True when sha256 is quarantined. */
bool rg_quarantine_has(const char *state_dir, const char *sha256);

/* Lifts the quarantine of sha256. Returns 0, RG_ENOTFOUND, RG_EINVAL or RG_EIO. */
int rg_quarantine_lift(const char *state_dir, const char *sha256, rg_err *err);

/* A new JSON array (caller decrefs) of entries, each with "sha256" added. */
json_t *rg_quarantine_list(const char *state_dir);

#endif
