/*
 * relmeta.h - a release's signed metadata (docs/signing.md).
 *
 *   {"signed": {"type": "rollgate-release", "channel": "detections",
 *               "version": 7, "sha256": "<hex>", "size": 4096,
 *               "expires": "2026-06-01T00:00:00Z",
 *               "notes_sha256": "<sha256 of the notes' UTF-8 bytes>"},
 *    "signatures": [...]}
 *
 * Publishers build and sign it offline (`rollgate sign`); rollgated only
 * checks its shape and that it describes the release it is attached to;
 * the agent decides whether to trust it (rg_relmeta_verify).
 */
#ifndef RG_TRUST_RELMETA_H
#define RG_TRUST_RELMETA_H

#include "root.h"

#include <stdint.h>

typedef struct rg_relmeta {
    char channel[65];
    int64_t version;
    char sha256[RG_KEYID_HEX];
    int64_t size;
    int64_t expires_ms;
    char notes_sha256[RG_KEYID_HEX];
} rg_relmeta;

/* What the metadata must describe. */
typedef struct rg_relmeta_expect {
    const char *channel;      /* the channel it is offered on */
    int64_t version;          /* the offered version */
    const char *sha256;       /* the offered digest */
    int64_t size;             /* the offered size */
    const char *notes_sha256; /* NULL: not checked (the agent) */
} rg_relmeta_expect;

/* A new unsigned document for m. NULL with err filled on bad fields or
 * out of memory. */
json_t *rg_relmeta_build(const rg_relmeta *m, rg_err *err);

/* Checks doc's shape and fields (not signatures) into *out. Returns 0 or
 * RG_EINVAL naming the field. */
int rg_relmeta_parse(const json_t *doc, rg_relmeta *out, rg_err *err);

/* Compares m with e: channel, version, sha256, size, and the notes digest
 * when e has one. Returns 0, or RG_EINVAL with *why (may be NULL) and a
 * message naming the first difference (err->field names the field). */
int rg_relmeta_match(const rg_relmeta *m, const rg_relmeta_expect *e,
                     rg_trust_reason *why, rg_err *err);

/* The agent's whole decision on doc: well formed, signed by root's
 * threshold, for e->channel, not expired at now_ms (expiry + skew_ms
 * still passes), version above highest (the highest applied on the
 * channel, 0: none), and describing exactly what is offered (e). Fills
 * *out. Returns 0, or RG_EINVAL with *why set and a message that starts
 * with what (e.g. "release 12") and the reason's name. */
int rg_relmeta_verify(const rg_root *root, const json_t *doc,
                      const rg_relmeta_expect *e, int64_t highest,
                      int64_t now_ms, int64_t skew_ms, const char *what,
                      rg_relmeta *out, rg_trust_reason *why, rg_err *err);

#endif
