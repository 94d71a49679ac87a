/*
 * rfc3339.h - the one time format of signed metadata: UTC RFC 3339 with
 * whole seconds and a literal Z, "2026-05-01T12:00:00Z" (20 bytes).
 */
#ifndef RG_TRUST_RFC3339_H
#define RG_TRUST_RFC3339_H

#include <stdint.h>

#define RG_RFC3339_LEN 21 /* 20 characters + NUL */

/* Parses s (exactly the format above, a valid calendar date) into
 * milliseconds since the epoch. Returns 0 or RG_EINVAL. */
int rg_rfc3339_parse(const char *s, int64_t *ms);

/* Formats ms (truncated to the second) into out. */
void rg_rfc3339_format(int64_t ms, char out[RG_RFC3339_LEN]);

#endif
