/*
 * value.h - the typed values of the sample content engine.
 *
 * A template field has one of five types: string, int, ip, path, sha256.
 * This module names the types and parses values of each type, both the
 * literals a channel file writes and the fields an event carries. All
 * functions are pure and thread-safe; nothing here allocates.
 */
#ifndef RG_ENGINE_VALUE_H
#define RG_ENGINE_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum rg_ftype {
    RG_FT_STRING = 0, /* any text without tabs or control characters */
    RG_FT_INT = 1,    /* a signed 64-bit decimal integer */
    RG_FT_IP = 2,     /* an IPv4 or IPv6 address (inet_pton forms) */
    RG_FT_PATH = 3,   /* a file path, compared byte for byte */
    RG_FT_SHA256 = 4, /* 64 lower-case hex digits */
} rg_ftype;

/* An IP address: family 4 or 6 and its bytes in network order (4 or 16
 * bytes used). */
typedef struct rg_ip {
    int family;
    uint8_t b[16];
} rg_ip;

/* Name of a type ("string", "int", ...). */
const char *rg_ftype_name(rg_ftype t);

/* Parses a type name; returns 0 and sets *t, or -1 when s names no type. */
int rg_ftype_parse(const char *s, rg_ftype *t);

/* Parses a whole decimal integer (optional sign, digits, nothing else, in
 * int64 range). Returns true and sets *v on success. */
bool rg_value_int(const char *s, int64_t *v);

/* Parses an IPv4 or IPv6 address. Returns true and fills *ip on success. */
bool rg_value_ip(const char *s, rg_ip *ip);

/* True when s is n lower-case hex digits, 1 <= n <= 64; exactly 64 when
 * full is true. */
bool rg_value_hex(const char *s, bool full);

/* True when s is acceptable as a channel-file literal or event field:
 * no bytes below 0x20 and no 0x7f (so no tabs or newlines). */
bool rg_value_printable(const char *s);

/* Number of address bits of an IP family (32 or 128). */
unsigned rg_ip_bits(const rg_ip *ip);

/* True when the first `bits` bits of a and b are equal and they share a
 * family. bits must not exceed rg_ip_bits(a). */
bool rg_ip_prefix_eq(const rg_ip *a, const rg_ip *b, unsigned bits);

#endif
