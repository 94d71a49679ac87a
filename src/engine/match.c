/* match.c - see match.h. */
#include "match.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[] = {"any",  "eq",    "prefix",
                                         "glob", "range", "cidr"};

const char *rg_crit_kind_name(rg_crit_kind k)
{
    if ((size_t)k < sizeof kind_names / sizeof kind_names[0])
        return kind_names[k];
    return "?";
}

/* Which field types each kind applies to, as a bit set over rg_ftype. */
#define T(x) (1u << (x))
static const unsigned kind_types[] = {
    [RG_CRIT_ANY] = T(RG_FT_STRING) | T(RG_FT_INT) | T(RG_FT_IP) |
                    T(RG_FT_PATH) | T(RG_FT_SHA256),
    [RG_CRIT_EQ] = T(RG_FT_STRING) | T(RG_FT_INT) | T(RG_FT_IP) |
                   T(RG_FT_PATH) | T(RG_FT_SHA256),
    [RG_CRIT_PREFIX] = T(RG_FT_STRING) | T(RG_FT_PATH) | T(RG_FT_SHA256),
    [RG_CRIT_GLOB] = T(RG_FT_STRING) | T(RG_FT_PATH),
    [RG_CRIT_RANGE] = T(RG_FT_INT),
    [RG_CRIT_CIDR] = T(RG_FT_IP),
};
#undef T

static int parse_eq(const char *arg, rg_ftype t, rg_crit *c, rg_err *err)
{
    switch (t) {
    case RG_FT_INT:
        if (!rg_value_int(arg, &c->lo))
            return rg_err_set(err, RG_EINVAL, "'eq %s': not an int", arg);
        c->hi = c->lo;
        break;
    case RG_FT_IP:
        if (!rg_value_ip(arg, &c->addr))
            return rg_err_set(err, RG_EINVAL, "'eq %s': not an ip address",
                              arg);
        c->bits = rg_ip_bits(&c->addr);
        break;
    case RG_FT_SHA256:
        if (!rg_value_hex(arg, true))
            return rg_err_set(err, RG_EINVAL,
                              "'eq %s': not 64 lower-case hex digits", arg);
        break;
    case RG_FT_STRING:
    case RG_FT_PATH:
        break;
    }
    return 0;
}

static int parse_range(const char *arg, rg_crit *c, rg_err *err)
{
    char lo[32], hi[32], extra[2];
    if (sscanf(arg, "%31s %31s %1s", lo, hi, extra) != 2 ||
        !rg_value_int(lo, &c->lo) || !rg_value_int(hi, &c->hi))
        return rg_err_set(err, RG_EINVAL, "'range %s': expected two ints LO HI",
                          arg);
    if (c->lo > c->hi)
        return rg_err_set(err, RG_EINVAL, "'range %s': LO is above HI", arg);
    return 0;
}

static int parse_cidr(const char *arg, rg_crit *c, rg_err *err)
{
    char addr[64];
    const char *slash = strchr(arg, '/');
    size_t alen = slash ? (size_t)(slash - arg) : 0;
    int64_t bits = 0;
    if (!slash || alen == 0 || alen >= sizeof addr)
        return rg_err_set(err, RG_EINVAL, "'cidr %s': expected ADDR/BITS", arg);
    memcpy(addr, arg, alen);
    addr[alen] = '\0';
    if (!rg_value_ip(addr, &c->addr))
        return rg_err_set(err, RG_EINVAL, "'cidr %s': bad address", arg);
    if (!rg_value_int(slash + 1, &bits) || bits < 0 ||
        bits > (int64_t)rg_ip_bits(&c->addr))
        return rg_err_set(err, RG_EINVAL,
                          "'cidr %s': prefix length out of "
                          "range 0-%u",
                          arg, rg_ip_bits(&c->addr));
    c->bits = (unsigned)bits;
    /* Clear the host bits so generated and printed networks are canonical. */
    for (unsigned i = c->bits; i < rg_ip_bits(&c->addr); i++)
        c->addr.b[i / 8] &= (uint8_t) ~(0x80u >> (i % 8));
    return 0;
}

int rg_crit_parse(const char *kind, const char *arg, rg_ftype t, rg_crit *c,
                  rg_err *err)
{
    int rc = 0;
    memset(c, 0, sizeof *c);
    size_t k = 0;
    while (k < sizeof kind_names / sizeof kind_names[0] &&
           strcmp(kind, kind_names[k]) != 0)
        k++;
    if (k == sizeof kind_names / sizeof kind_names[0])
        return rg_err_set(err, RG_EINVAL,
                          "unknown criterion '%s' (expected "
                          "any, eq, prefix, glob, range or cidr)",
                          kind);
    c->kind = (rg_crit_kind)k;
    if (!(kind_types[k] & (1u << t))) {
        rc = rg_err_set(err, RG_EINVAL,
                        "criterion '%s' does not apply to "
                        "type %s",
                        kind, rg_ftype_name(t));
        goto cleanup;
    }
    if (c->kind == RG_CRIT_ANY) {
        if (*arg)
            rc = rg_err_set(err, RG_EINVAL, "'any' takes no value");
        goto cleanup;
    }
    if (*arg == '\0') {
        rc = rg_err_set(err, RG_EINVAL, "'%s' needs a value", kind);
        goto cleanup;
    }
    if (!rg_value_printable(arg)) {
        rc = rg_err_set(err, RG_EINVAL,
                        "'%s': value has a control "
                        "character",
                        kind);
        goto cleanup;
    }
    switch (c->kind) {
    case RG_CRIT_EQ:
        rc = parse_eq(arg, t, c, err);
        break;
    case RG_CRIT_PREFIX:
        if (t == RG_FT_SHA256 && !rg_value_hex(arg, false))
            rc = rg_err_set(err, RG_EINVAL,
                            "'prefix %s': not 1-64 "
                            "lower-case hex digits",
                            arg);
        break;
    case RG_CRIT_RANGE:
        rc = parse_range(arg, c, err);
        break;
    case RG_CRIT_CIDR:
        rc = parse_cidr(arg, c, err);
        break;
    case RG_CRIT_GLOB:
    case RG_CRIT_ANY:
        break;
    }
    if (rc == 0 && (c->kind == RG_CRIT_EQ || c->kind == RG_CRIT_PREFIX ||
                    c->kind == RG_CRIT_GLOB)) {
        c->text = strdup(arg);
        if (!c->text)
            rc = rg_err_set(err, RG_ENOMEM, "out of memory");
    }
cleanup:
    if (rc != 0)
        rg_crit_release(c);
    return rc;
}

void rg_crit_release(rg_crit *c)
{
    free(c->text);
    memset(c, 0, sizeof *c);
}

bool rg_glob_match(const char *p, const char *s)
{
    const char *star = NULL, *resume = NULL;
    while (*s) {
        if (*p == '*') {
            star = p++;
            resume = s;
        } else if (*p != '\0' && (*p == '?' || *p == *s)) {
            p++;
            s++;
        } else if (star) {
            /* Let the last '*' swallow one more byte and retry. */
            p = star + 1;
            s = ++resume;
        } else {
            return false;
        }
    }
    while (*p == '*')
        p++;
    return *p == '\0';
}

static bool match_eq(const rg_crit *c, rg_ftype t, const char *v)
{
    int64_t x;
    rg_ip ip;
    switch (t) {
    case RG_FT_INT:
        return rg_value_int(v, &x) && x == c->lo;
    case RG_FT_IP:
        return rg_value_ip(v, &ip) && rg_ip_prefix_eq(&ip, &c->addr, c->bits);
    case RG_FT_STRING:
    case RG_FT_PATH:
    case RG_FT_SHA256:
        return strcmp(v, c->text) == 0;
    }
    return false;
}

bool rg_crit_match(const rg_crit *c, rg_ftype t, const char *v)
{
    int64_t x;
    rg_ip ip;
    switch (c->kind) {
    case RG_CRIT_ANY:
        return true;
    case RG_CRIT_EQ:
        return match_eq(c, t, v);
    case RG_CRIT_PREFIX:
        return strncmp(v, c->text, strlen(c->text)) == 0;
    case RG_CRIT_GLOB:
        return rg_glob_match(c->text, v);
    case RG_CRIT_RANGE:
        return rg_value_int(v, &x) && x >= c->lo && x <= c->hi;
    case RG_CRIT_CIDR:
        return rg_value_ip(v, &ip) && rg_ip_prefix_eq(&ip, &c->addr, c->bits);
    }
    return false;
}
