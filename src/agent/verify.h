/*
 * verify.h - the one place that decides whether bytes may reach a slot.
 *
 * Today: size and sha256 against what the server announced. The
 * supply-chain work extends rg_agent_verify_file (signature, version,
 * expiry) and every caller gets the stronger check.
 */
#ifndef RG_AGENT_VERIFY_H
#define RG_AGENT_VERIFY_H

#include "common/crypto.h"
#include "common/err.h"

#include <stdint.h>

/* What a release's artifact must be. */
typedef struct rg_artifact_want {
    int64_t release;              /* release id (for messages) */
    int64_t version;              /* release version */
    int64_t size;                 /* exact size in bytes */
    char sha256[RG_SHA256_HEX];   /* lower-case hex */
} rg_artifact_want;

/* Verifies the file at path against want. Returns 0, RG_ENOTFOUND when
 * the file is missing, RG_EINVAL on a size or digest mismatch (message
 * names the release), RG_EIO on read errors. */
int rg_agent_verify_file(const char *path, const rg_artifact_want *want,
                         rg_err *err);

/* Streams the file's SHA-256 into hex and its size into *size. Returns 0,
 * RG_ENOTFOUND or RG_EIO. */
int rg_agent_hash_file(const char *path, char hex[RG_SHA256_HEX],
                       int64_t *size, rg_err *err);

#endif
