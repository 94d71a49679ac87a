/* jsonw.c - see jsonw.h. */
#include "jsonw.h"

#include "err.h"

#include <stdbool.h>
#include <string.h>

/* Length of the valid UTF-8 sequence starting at s (1..4), or 0 when the
 * bytes there are not one (overlong forms, surrogates and code points above
 * U+10FFFF included). s is NUL-terminated. */
static size_t utf8_seq(const unsigned char *s)
{
    unsigned c = s[0];
    size_t n;
    unsigned cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) /* the NUL stops here too */
            return 0;
        cp = cp << 6 | (s[i] & 0x3fu);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return n;
}

static bool utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t n = utf8_seq(p);
        if (!n)
            return false;
        p += n;
    }
    return true;
}

/* The escape of byte c (a control character, '"' or '\\') into esc;
 * returns its length. */
static size_t escape(unsigned char c, bool lower, char esc[6])
{
    const char *hex = lower ? "0123456789abcdef" : "0123456789ABCDEF";
    static const char short_esc[][2] = {{'"', '"'},  {'\\', '\\'}, {'\b', 'b'},
                                        {'\f', 'f'}, {'\n', 'n'},  {'\r', 'r'},
                                        {'\t', 't'}};
    esc[0] = '\\';
    for (size_t i = 0; i < sizeof short_esc / sizeof short_esc[0]; i++)
        if (short_esc[i][0] == (char)c) {
            esc[1] = short_esc[i][1];
            return 2;
        }
    memcpy(esc + 1, "u00", 3);
    esc[4] = hex[c >> 4];
    esc[5] = hex[c & 15];
    return 6;
}

int rg_jsonw_strn(rg_buf *b, const char *s, size_t n, bool lower)
{
    int rc = rg_buf_add(b, "\"", 1);
    size_t run = 0; /* bytes copied as they are, from run to i */
    for (size_t i = 0; rc == 0 && i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        char esc[6];
        size_t len = escape(c, lower, esc);
        rc = rg_buf_add(b, s + run, i - run);
        if (rc == 0)
            rc = rg_buf_add(b, esc, len);
        run = i + 1;
    }
    if (rc == 0)
        rc = rg_buf_add(b, s + run, n - run);
    if (rc == 0)
        rc = rg_buf_add(b, "\"", 1);
    return rc;
}

int rg_jsonw_str(rg_buf *b, const char *s)
{
    /* Upper-case hex, as jansson writes it. */
    return utf8_valid(s) ? rg_jsonw_strn(b, s, strlen(s), false) : RG_EINVAL;
}

int rg_jsonw_int(rg_buf *b, int64_t v)
{
    char tmp[24];
    size_t i = sizeof tmp;
    /* Negate in unsigned arithmetic: INT64_MIN has no positive twin. */
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        tmp[--i] = '-';
    return rg_buf_add(b, tmp + i, sizeof tmp - i);
}
