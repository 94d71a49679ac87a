/*
 * verify.h - the one place that decides whether bytes may reach a slot.
 *
 * Two checks, both here: rg_agent_verify_release decides BEFORE anything
 * is downloaded whether a release offered by the server may be applied at
 * all (signed metadata against the pinned root: signatures and threshold,
 * channel, expiry, anti-rollback, and that the offered digest, size and
 * version are the signed ones; docs/signing.md). rg_agent_verify_file then
 * checks the downloaded bytes against that (signed) size and sha256, and
 * is what slots re-check at start-up.
 */
#ifndef RG_AGENT_VERIFY_H
#define RG_AGENT_VERIFY_H

#include "common/crypto.h"
#include "common/err.h"
#include "trust/root.h"

#include <stdint.h>

/* What a release's artifact must be. */
typedef struct rg_artifact_want {
    int64_t release;            /* release id (for messages) */
    int64_t version;            /* release version */
    int64_t size;               /* exact size in bytes */
    char sha256[RG_SHA256_HEX]; /* lower-case hex */
} rg_artifact_want;

/* Verifies the file at path against want. Returns 0, RG_ENOTFOUND when
 * the file is missing, RG_EINVAL on a size or digest mismatch (message
 * names the release; err->field is "size" or "sha256"), RG_EIO on read
 * errors. */
int rg_agent_verify_file(const char *path, const rg_artifact_want *want,
                         rg_err *err);

/* What rg_agent_verify_release judges a release by. */
typedef struct rg_release_check {
    const rg_root *root;  /* the pinned root; NULL: none (insecure mode) */
    const char *channel;  /* the channel the release is offered on */
    const char *metadata; /* the offered signed metadata (JSON text), "" */
    int64_t highest;      /* highest version applied on the channel, 0 */
    int64_t now_ms;
    int64_t skew_ms; /* clock-skew allowance on expiry */
} rg_release_check;

/* Decides whether the offered release want may be downloaded and
 * installed. With no root pinned every release passes (insecure, logged
 * by the daemon). With a root: the metadata must be well formed, carry
 * the root's threshold of valid signatures (a key counts once; unknown
 * keys never count), be for c->channel, not be expired (beyond skew),
 * have a version above c->highest, and describe exactly want's version,
 * sha256 and size. Returns 0, or RG_EINVAL with *why set and a message
 * "release R: <reason>: ..." (rg_trust_reason_name). */
int rg_agent_verify_release(const rg_release_check *c,
                            const rg_artifact_want *want, rg_trust_reason *why,
                            rg_err *err);

/* Streams the file's SHA-256 into hex and its size into *size. Returns 0,
 * RG_ENOTFOUND or RG_EIO. */
int rg_agent_hash_file(const char *path, char hex[RG_SHA256_HEX], int64_t *size,
                       rg_err *err);

#endif
