/*
 * jsonw.h - writing JSON text straight into a capped rg_buf.
 *
 * For hot paths that answer with a fixed JSON shape (the check-in answer)
 * without building a jansson tree first. The caller writes the structure
 * (braces, keys, commas) as literals and the values with these helpers,
 * which produce exactly what jansson's compact json_dumps would: integers
 * in plain decimal, strings quoted with '"', '\\' and control characters
 * escaped (\b \f \n \r \t, others \u00XX, upper-case hex) and every other
 * byte copied, after checking that the string is valid UTF-8 (jansson
 * refuses invalid UTF-8 too).
 *
 * Each writer returns 0, RG_EINVAL (invalid UTF-8; nothing appended),
 * RG_ETOOBIG past the buffer's cap or RG_ENOMEM (the buffer may then hold
 * a partial value: discard it).
 */
#ifndef RG_JSONW_H
#define RG_JSONW_H

#include "buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Appends s (NUL-terminated) as a JSON string, quotes included. */
int rg_jsonw_str(rg_buf *b, const char *s);

/* Appends the n bytes of s (NUL bytes included, escaped) as a JSON string,
 * quotes included, with the escapes above; the hex digits of \u00XX are
 * lower-case when lower (the canonical form of trust/canon.h), else
 * upper-case. Does not check UTF-8. */
int rg_jsonw_strn(rg_buf *b, const char *s, size_t n, bool lower);

/* Appends v in decimal. */
int rg_jsonw_int(rg_buf *b, int64_t v);

#endif
