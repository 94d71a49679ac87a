/*
 * match.h - the criteria of a template instance and how they match.
 *
 * One criterion per template field. Kinds, with the field types each
 * applies to:
 *
 *   any             wildcard, every type; never reads the field
 *   eq VALUE        literal, every type (int and ip compare as numbers and
 *                   addresses, the others byte for byte)
 *   prefix TEXT     string, path, sha256 (then TEXT is 1-64 hex digits)
 *   glob PATTERN    string, path; '*' matches any run of bytes, '?' one
 *                   byte, every other byte itself (no escapes, no classes)
 *   range LO HI     int; inclusive bounds, LO <= HI
 *   cidr ADDR/BITS  ip; IPv4 or IPv6, the address family must match
 *
 * An event field that is not a valid value of the field's type (say "x"
 * in an int field) matches only `any`. Pure and thread-safe.
 */
#ifndef RG_ENGINE_MATCH_H
#define RG_ENGINE_MATCH_H

#include "common/err.h"
#include "engine/value.h"

#include <stdbool.h>
#include <stdint.h>

typedef enum rg_crit_kind {
    RG_CRIT_ANY = 0,
    RG_CRIT_EQ = 1,
    RG_CRIT_PREFIX = 2,
    RG_CRIT_GLOB = 3,
    RG_CRIT_RANGE = 4,
    RG_CRIT_CIDR = 5,
} rg_crit_kind;

typedef struct rg_crit {
    rg_crit_kind kind;
    char *text;     /* eq, prefix, glob: the literal as written (owned);
                       NULL for the others */
    int64_t lo, hi; /* range; eq on int has lo == hi */
    rg_ip addr;     /* cidr and eq on ip; host bits of cidr cleared */
    unsigned bits;  /* cidr prefix length; eq on ip: the full width */
} rg_crit;

/* Name of a kind ("any", "eq", ...). */
const char *rg_crit_kind_name(rg_crit_kind k);

/* Parses a criterion for a field of type t: kind is the keyword, arg the
 * rest of the line ("" when absent). On success fills *c (which owns a
 * copy of the text; release it with rg_crit_release) and returns 0. On
 * failure returns RG_EINVAL (RG_ENOMEM) with a message naming the kind
 * and type, and leaves *c empty. */
int rg_crit_parse(const char *kind, const char *arg, rg_ftype t, rg_crit *c,
                  rg_err *err);

/* Frees what the criterion owns; it becomes `any`. */
void rg_crit_release(rg_crit *c);

/* True when value (an event field, NUL-terminated) satisfies c for a
 * field of type t. `any` is true without looking at value. */
bool rg_crit_match(const rg_crit *c, rg_ftype t, const char *value);

/* Glob matching as described above; linear in |pattern| * |s| at worst. */
bool rg_glob_match(const char *pattern, const char *s);

#endif
