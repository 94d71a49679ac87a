/*
 * cidr.h - IPv4 and IPv6 addresses and ranges ("10.0.0.0/8",
 * "2001:db8::/32", or a single address) for the IN_CIDR operator and the
 * remoteAddress strategy. Pure; thread-safe.
 */
#ifndef RG_FLAGS_CIDR_H
#define RG_FLAGS_CIDR_H

#include <stdbool.h>
#include <stdint.h>

typedef struct rg_cidr {
    int family;       /* 4 or 6 */
    uint8_t addr[16]; /* network byte order; the first 4 bytes for IPv4 */
    int prefix;       /* bits that must match: 0..32 or 0..128 */
} rg_cidr;

/* Parses an address, or an address "/" prefix length, into *out. Returns
 * false for anything else (bad address, prefix out of range). */
bool rg_cidr_parse(const char *s, rg_cidr *out);

/* Returns true when addr (a single address, prefix = full width) lies in
 * range; false when the families differ. */
bool rg_cidr_contains(const rg_cidr *range, const rg_cidr *addr);

#endif
