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

int rg_jsonw_str(rg_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF"; /* as jansson */
    if (!utf8_valid(s))
        return RG_EINVAL;
    int rc = rg_buf_add(b, "\"", 1);
    const char *run = s; /* bytes copied as they are, from run to p */
    const char *p = s;
    for (; rc == 0 && *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        size_t n = 2;
        switch (c) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            n = 6;
        }
        rc = rg_buf_add(b, run, (size_t)(p - run));
        if (rc == 0)
            rc = rg_buf_add(b, esc, n);
        run = p + 1;
    }
    if (rc == 0)
        rc = rg_buf_add(b, run, (size_t)(p - run));
    if (rc == 0)
        rc = rg_buf_add(b, "\"", 1);
    return rc;
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
