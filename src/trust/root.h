/*
 * root.h - root metadata: which publisher keys are trusted, and how many
 * of them must sign (the threshold k of n). docs/signing.md.
 *
 *   {"signed": {"type": "rollgate-root", "version": 1,
 *               "expires": "2027-01-01T00:00:00Z", "threshold": 2,
 *               "keys": {"<keyid>": "<public key hex>", ...}},
 *    "signatures": [...]}
 *
 * Version 1 is trusted by pinning (a file, or the SHA-256 of its canonical
 * "signed"); every later version N+1 is accepted only when signed by the
 * threshold of root N's keys AND by its own threshold of its own keys.
 */
#ifndef RG_TRUST_ROOT_H
#define RG_TRUST_ROOT_H

#include "signed.h"

#include <stdint.h>

#define RG_ROOT_MAX_KEYS 16

typedef struct rg_root {
    int64_t version; /* >= 1 */
    int64_t expires_ms;
    int threshold; /* 1..nkeys */
    size_t nkeys;
    rg_key keys[RG_ROOT_MAX_KEYS]; /* public halves only */
    char digest[RG_KEYID_HEX];     /* sha256 of the canonical "signed" */
} rg_root;

/* A new unsigned root document of the n keys (public halves are used;
 * duplicates refused) with threshold, version and expiry. Returns NULL
 * with err filled (RG_EINVAL: threshold not in 1..n, too many keys). */
json_t *rg_root_build(const rg_key *keys, size_t n, int threshold,
                      int64_t version, int64_t expires_ms, rg_err *err);

/* Checks doc's shape and fields (not its signatures) into *out. Returns
 * 0 or RG_EINVAL naming the field. */
int rg_root_parse(const json_t *doc, rg_root *out, rg_err *err);

/* Parses doc and checks it carries its own threshold of signatures (what
 * a first, pinned root must have). Returns 0 or RG_EINVAL with *why (may
 * be NULL) set. */
int rg_root_verify_self(const json_t *doc, rg_root *out, rg_trust_reason *why,
                        rg_err *err);

/* Checks that next is the rotation that follows trusted: version
 * trusted->version + 1, signed by the threshold of trusted's keys and by
 * its own threshold of its own keys. Fills *out. Returns 0, or RG_EINVAL
 * with *why (may be NULL) set, RG_TRUST_ROLLBACK for a wrong version. */
int rg_root_verify_next(const rg_root *trusted, const json_t *next,
                        rg_root *out, rg_trust_reason *why, rg_err *err);

#endif
