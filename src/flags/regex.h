/*
 * regex.h - the REGEX constraint's patterns: PCRE2 restricted to what the
 * Rust regex crate and RE2 accept (the reference SDK uses RE2), so a
 * pattern matches the same strings in every Unleash SDK. Refused: look-ahead
 * and look-behind, back-references (\1, \g, \k, (?P=)), atomic groups,
 * possessive quantifiers, recursion, conditionals, \K and (*VERBS). `$`
 * matches only at the very end (unless (?m)); \d, \w, \b are ASCII.
 * A match is unanchored (a find). Backtracking is capped so a pathological
 * pattern fails instead of running for long.
 */
#ifndef RG_FLAGS_REGEX_H
#define RG_FLAGS_REGEX_H

#include "common/err.h"

#include <stdbool.h>

typedef struct rg_flag_regex rg_flag_regex;

/* Compiles pattern (case-insensitively when icase). Returns a new regex
 * the caller frees with rg_flag_regex_free, or NULL with err filled
 * (RG_EINVAL, message naming the construct or PCRE2's complaint). */
rg_flag_regex *rg_flag_regex_compile(const char *pattern, bool icase,
                                     rg_err *err);

/* Returns true when subject contains a match. Thread-safe: re is not
 * modified. Allocates nothing after a thread's first call (its match data,
 * one pair, serves every pattern and is freed when the thread exits);
 * false when that first allocation fails. */
bool rg_flag_regex_find(const rg_flag_regex *re, const char *subject);

/* Frees re; NULL is a no-op. */
void rg_flag_regex_free(rg_flag_regex *re);

#endif
