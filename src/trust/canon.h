/*
 * canon.h - canonical JSON: the exact bytes that get signed.
 *
 * Objects with their keys sorted by byte value (UTF-8), no whitespace
 * anywhere, integers in plain decimal, strings with `"` and `\` escaped,
 * \b \f \n \r \t for those controls and \u00xx (lower-case hex) for the
 * other bytes below 0x20; every other character is written as itself
 * (UTF-8). Reals are refused: signed documents hold integers only. It is
 * what Python's json.dumps(v, sort_keys=True, separators=(",", ":"),
 * ensure_ascii=False) writes for the same document (docs/signing.md).
 */
#ifndef RG_TRUST_CANON_H
#define RG_TRUST_CANON_H

#include "common/buf.h"
#include "common/err.h"

#include <jansson.h>

/* Appends the canonical form of v to out (initialised by the caller, whose
 * cap applies). Returns 0, RG_EINVAL for a real number (nothing useful is
 * left in out), RG_ETOOBIG past the cap or RG_ENOMEM. */
int rg_canon_json(const json_t *v, rg_buf *out, rg_err *err);

/* The lower-case hex SHA-256 of v's canonical form into hex. Returns 0 or
 * the codes of rg_canon_json. */
int rg_canon_sha256(const json_t *v, char hex[65], rg_err *err);

#endif
