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

/* White space as isspace() has it in the "C" locale (what JavaScript's
 * trim() strips of ASCII), whatever the program's locale. */
static bool space(char c)
{
    return c == ' ' || (unsigned char)(c - '\t') < 5; /* \t \n \v \f \r */
}

/* A numeric identifier: 0 or digits without a leading zero, at most
 * MAX_SAFE_INTEGER (16 digits at most: a 17th is always above it). */
static bool number(const char **p, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    for (; digit(*s); s++) {
        if (s - *p == 16)
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    if (s == *p || (s - *p > 1 && **p == '0') || v > MAX_SAFE_INTEGER)
        return false;
    *p = s;
    *out = v;
    return true;
}

static bool ident_char(char c)
{
    return digit(c) || (unsigned char)((c | 0x20) - 'a') < 26 || c == '-';
}

/* Dot-separated identifiers up to the first other character; numeric ones
 * (all digits) must not have a leading zero when pre is true. */
static bool identifiers(const char **p, bool pre)
{
    const char *s = *p;
    for (;;) {
        const char *start = s;
        bool all_digits = true;
        while (ident_char(*s)) {
            all_digits &= digit(*s);
            s++;
        }
        if (s == start)
            return false;
        if (pre && all_digits && s - start > 1 && *start == '0')
            return false;
        if (*s != '.')
            break;
        s++;
    }
    *p = s;
    return true;
}

/* One pass, left to right: the version, then nothing but white space up
 * to the end (the string trimmed, as node-semver trims it). */
bool rg_semver_parse(const char *s, rg_semver *out)
{
    if (!s)
        return false;
    const char *begin = s;
    while (space(*s))
        s++;
    if (*s == 'v')
        s++;
    memset(out, 0, sizeof *out);
    if (!number(&s, &out->major) || *s++ != '.' || !number(&s, &out->minor) ||
        *s++ != '.' || !number(&s, &out->patch))
        return false;
    if (*s == '-') {
        out->pre = ++s;
        if (!identifiers(&s, true))
            return false;
        out->pre_len = (int)(s - out->pre);
    }
    if (*s == '+') {
        s++;
        if (!identifiers(&s, false))
            return false;
    }
    while (space(*s))
        s++;
    return *s == '\0' && s - begin <= RG_SEMVER_MAX_LEN;
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
