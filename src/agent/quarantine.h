/*
 * quarantine.h - digests the agent refuses to apply again.
 *
 *   STATE/quarantine/<sha256> {"channel","release","version","reason","at_ms"}
 *
 *   STATE/quarantine-lifted/<sha256>   {"at_ms"}: the server lifted it once
 *
 * A digest lands here when its trial reverts or its validate hook fails;
 * it is never applied again until lifted: locally (`rollgate-agent
 * unquarantine`) or once by the server (rg_quarantine_lift_once). A
 * digest that fails again after a server lift stays quarantined however
 * often the server's answer repeats the lift, so a bad release cannot
 * crash-loop the endpoint at every check-in. Each entry is written durably.
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

/* Lifts the quarantine of sha256. Returns 0, RG_ENOTFOUND, RG_EINVAL or RG_EIO.
 */
int rg_quarantine_lift(const char *state_dir, const char *sha256, rg_err *err);

/* Honours the server's lift of sha256 at most once per digest: when no
 * earlier server lift is recorded, records this one durably, then lifts
 * the quarantine and sets *lifted; otherwise leaves the quarantine and
 * clears *lifted. Returns 0, RG_EINVAL or RG_EIO. */
int rg_quarantine_lift_once(const char *state_dir, const char *sha256,
                            int64_t now_ms, bool *lifted, rg_err *err);

/* A new JSON array (caller decrefs) of entries, each with "sha256" added. */
json_t *rg_quarantine_list(const char *state_dir);

#endif
