/*
 * number.h - JavaScript's Number(string) and Date.parse(string), the two
 * conversions the Unleash constraint operators apply to their operands, so
 * that NUM_* and DATE_* decide as the reference SDK does. Pure; thread-safe.
 */
#ifndef RG_FLAGS_NUMBER_H
#define RG_FLAGS_NUMBER_H

#include <stdbool.h>

/* Returns Number(s) as JavaScript computes it: surrounding white space
 * ignored, "" is 0, decimal and exponent forms, "Infinity" with a sign,
 * 0x/0o/0b integers; anything else (and s == NULL) is NaN. */
double rg_flag_js_number(const char *s);

/* Parses an ISO 8601 date-time as Date.parse does for the forms Unleash
 * uses: YYYY-MM-DD, optionally followed by THH:MM[:SS[.fff]] and Z or
 * +HH:MM/-HH:MM (no zone after a time means UTC here). On success stores
 * milliseconds since the epoch in *ms and returns true; returns false for
 * anything else (JavaScript's NaN date, which compares false). */
bool rg_flag_js_date(const char *s, double *ms);

#endif
