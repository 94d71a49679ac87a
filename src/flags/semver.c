/* semver.c - see semver.h. */
#include "semver.h"

#include <ctype.h>
#include <string.h>

#define MAX_SAFE_INTEGER 9007199254740991ULL

/* An ASCII digit: what isdigit() accepts in every locale (C17 7.4.1.5),
 * without its call through the locale's table. */
static bool digit(char c)
{
    return (unsigned char)(c - '0') < 10;
}

/* A numeric identifier: 0 or digits without a leading zero. */
static bool number(const char **p, const char *end, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    while (s < end && digit(*s)) {
        if (v > MAX_SAFE_INTEGER / 10)
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
        s++;
    }
    if (s == *p || (s - *p > 1 && **p == '0') || v > MAX_SAFE_INTEGER)
        return false;
    *p = s;
    *out = v;
    return true;
}

static bool ident_char(char c)
{
    return isalnum((unsigned char)c) || c == '-';
}

/* Dot-separated identifiers up to end or stop; numeric ones (all digits)
 * must not have a leading zero when pre is true. */
static bool identifiers(const char **p, const char *end, char stop, bool pre)
{
    const char *s = *p;
    for (;;) {
        const char *start = s;
        bool all_digits = true;
        while (s < end && ident_char(*s)) {
            all_digits &= digit(*s);
            s++;
        }
        if (s == start)
            return false;
        if (pre && all_digits && s - start > 1 && *start == '0')
            return false;
        if (s < end && *s == '.') {
            s++;
            continue;
        }
        break;
    }
    if (s < end && *s != stop)
        return false;
    *p = s;
    return true;
}

bool rg_semver_parse(const char *s, rg_semver *out)
{
    size_t len = s ? strlen(s) : 0;
    if (!s || len > RG_SEMVER_MAX_LEN)
        return false;
    const char *end = s + len;
    while (isspace((unsigned char)*s))
        s++;
    while (end > s && isspace((unsigned char)end[-1]))
        end--;
    if (s < end && *s == 'v')
        s++;
    memset(out, 0, sizeof *out);
    if (!number(&s, end, &out->major) || s >= end || *s++ != '.' ||
        !number(&s, end, &out->minor) || s >= end || *s++ != '.' ||
        !number(&s, end, &out->patch))
        return false;
    if (s < end && *s == '-') {
        s++;
        out->pre = s;
        if (!identifiers(&s, end, '+', true))
            return false;
        out->pre_len = (int)(s - out->pre);
    }
    if (s < end && *s == '+') {
        s++;
        if (!identifiers(&s, end, '\0', false))
            return false;
    }
    return s == end;
}

/* Length of the identifier at s (up to '.' or the end of n bytes). */
static int ident_len(const char *s, int n)
{
    int i = 0;
    while (i < n && s[i] != '.')
        i++;
    return i;
}

static bool numeric(const char *s, int n)
{
    for (int i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

/* Compares one identifier of each pre-release. */
static int ident_cmp(const char *a, int an, const char *b, int bn)
{
    bool na = numeric(a, an), nb = numeric(b, bn);
    if (na && nb) {
        if (an != bn)
            return an < bn ? -1 : 1; /* no leading zeros: longer is larger */
        return memcmp(a, b, (size_t)an);
    }
    if (na != nb)
        return na ? -1 : 1;
    int c = memcmp(a, b, (size_t)(an < bn ? an : bn));
    return c ? c : an - bn;
}

static int pre_cmp(const rg_semver *a, const rg_semver *b)
{
    if (!a->pre || !b->pre)
        return (a->pre ? -1 : 0) + (b->pre ? 1 : 0);
    const char *x = a->pre, *y = b->pre;
    int xn = a->pre_len, yn = b->pre_len;
    while (xn > 0 && yn > 0) {
        int xl = ident_len(x, xn), yl = ident_len(y, yn);
        int c = ident_cmp(x, xl, y, yl);
        if (c)
            return c;
        x += xl + (xl < xn), xn -= xl + (xl < xn);
        y += yl + (yl < yn), yn -= yl + (yl < yn);
    }
    return (xn > 0) - (yn > 0);
}

int rg_semver_cmp(const rg_semver *a, const rg_semver *b)
{
    if (a->major != b->major)
        return a->major < b->major ? -1 : 1;
    if (a->minor != b->minor)
        return a->minor < b->minor ? -1 : 1;
    if (a->patch != b->patch)
        return a->patch < b->patch ? -1 : 1;
    return pre_cmp(a, b);
}
