/* value.c - see value.h. */
#include "value.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const type_names[] = {"string", "int", "ip", "path",
                                         "sha256"};

const char *rg_ftype_name(rg_ftype t)
{
    if ((size_t)t < sizeof type_names / sizeof type_names[0])
        return type_names[t];
    return "?";
}

int rg_ftype_parse(const char *s, rg_ftype *t)
{
    for (size_t i = 0; i < sizeof type_names / sizeof type_names[0]; i++) {
        if (strcmp(s, type_names[i]) == 0) {
            *t = (rg_ftype)i;
            return 0;
        }
    }
    return -1;
}

bool rg_value_int(const char *s, int64_t *v)
{
    const char *d = (*s == '-' || *s == '+') ? s + 1 : s;
    if (*d < '0' || *d > '9')
        return false; /* strtoll would accept leading blanks */
    errno = 0;
    char *end = NULL;
    long long x = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *v = (int64_t)x;
    return true;
}

bool rg_value_ip(const char *s, rg_ip *ip)
{
    memset(ip, 0, sizeof *ip);
    if (inet_pton(AF_INET, s, ip->b) == 1) {
        ip->family = 4;
        return true;
    }
    if (inet_pton(AF_INET6, s, ip->b) == 1) {
        ip->family = 6;
        return true;
    }
    return false;
}

bool rg_value_hex(const char *s, bool full)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return full ? n == 64 : (n >= 1 && n <= 64);
}

bool rg_value_printable(const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f)
            return false;
    }
    return true;
}

unsigned rg_ip_bits(const rg_ip *ip)
{
    return ip->family == 4 ? 32u : 128u;
}

bool rg_ip_prefix_eq(const rg_ip *a, const rg_ip *b, unsigned bits)
{
    if (a->family != b->family)
        return false;
    unsigned whole = bits / 8, rest = bits % 8;
    if (memcmp(a->b, b->b, whole) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xffu << (8 - rest));
    return (a->b[whole] & mask) == (b->b[whole] & mask);
}
