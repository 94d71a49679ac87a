/* cidr.c - see cidr.h. */
#include "cidr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>

bool rg_cidr_parse(const char *s, rg_cidr *out)
{
    char host[64];
    const char *slash = s ? strchr(s, '/') : NULL;
    size_t n = s ? (slash ? (size_t)(slash - s) : strlen(s)) : 0;
    if (n == 0 || n >= sizeof host)
        return false;
    memcpy(host, s, n);
    host[n] = '\0';
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, host, out->addr) == 1)
        out->family = 4;
    else if (inet_pton(AF_INET6, host, out->addr) == 1)
        out->family = 6;
    else
        return false;
    int width = out->family == 4 ? 32 : 128;
    out->prefix = width;
    if (!slash)
        return true;
    const char *p = slash + 1;
    int bits = 0, len = 0;
    for (; isdigit((unsigned char)*p) && len < 4; p++, len++)
        bits = bits * 10 + (*p - '0');
    if (len == 0 || *p || bits > width)
        return false;
    out->prefix = bits;
    return true;
}

bool rg_cidr_contains(const rg_cidr *range, const rg_cidr *addr)
{
    if (range->family != addr->family)
        return false;
    int full = range->prefix / 8, rest = range->prefix % 8;
    if (memcmp(range->addr, addr->addr, (size_t)full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (range->addr[full] & mask) == (addr->addr[full] & mask);
}
