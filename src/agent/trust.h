/*
 * trust.h - the agent's trust state for signed releases (docs/signing.md).
 *
 *   STATE/trust/root.json      the root it trusts now (pinned version 1 or
 *                              a rotation it verified), written durably
 *   STATE/trust/highest.json   {"channel": highest version applied}
 *   STATE/channels/NAME/rejected.json   the last release refused and why
 *
 * The first root comes from the config: `trust_root = FILE` (checked
 * against `trust_root_sha256 =` when both are given), or
 * `trust_root_sha256 = HEX` alone, in
 * which case the matching version is fetched from the server
 * (GET /v1/agent/root) and accepted only when its digest is the pin.
 * Later roots come from the server and are accepted only when they verify
 * against the trusted one (rg_root_verify_next). No root configured and
 * none stored: the daemon applies nothing, unless `insecure = true` (or
 * --insecure) asks for every release to be accepted unverified.
 */
#ifndef RG_AGENT_TRUST_H
#define RG_AGENT_TRUST_H

#include "client.h"
#include "config.h"
#include "trust/root.h"

#include <stdbool.h>

/* Loads the trusted root into *root, first from STATE/trust/root.json,
 * else from the config (fetching it through client when only
 * root_sha256 is pinned; client may be NULL offline). Sets *pinned false
 * when no root is configured (insecure mode). Returns 0 or an rg_code:
 * a configured root that is missing, malformed, not self-signed, or not
 * the pinned digest is an error (the agent must not run unverified when
 * asked to verify). */
int rg_agent_trust_load(const rg_agent_config *conf, rg_client *client,
                        rg_root *root, bool *pinned, rg_err *err);

/* Follows the server's root rotations after root->version: each next
 * version is adopted (and stored) only when it verifies against the
 * current one; the first that does not is logged and ends the walk.
 * Returns 0 or an rg_code (RG_EUNAVAIL: server away; root unchanged). */
int rg_agent_trust_update(const rg_agent_config *conf, rg_client *client,
                          rg_root *root, rg_err *err);

/* Records how the daemon judges releases, for `status`: mode is
 * "pinned", "insecure" (no root, insecure = true: applied unverified) or
 * "refusing" (no root: nothing applied), in STATE/trust/mode.json.
 * Returns 0 or RG_EIO. */
int rg_agent_trust_mode_write(const char *state_dir, const char *mode,
                              rg_err *err);

/* The highest version applied on channel (0: none recorded). */
int64_t rg_agent_trust_highest(const char *state_dir, const char *channel);

/* Records that version was applied on channel when it is above the
 * highest recorded. Returns 0 or RG_EIO. */
int rg_agent_trust_note_applied(const char *state_dir, const char *channel,
                                int64_t version, rg_err *err);

#endif
