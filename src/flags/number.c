/* number.c - see number.h. */
#include "number.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Integer in base 2, 8 or 16 (after its prefix), all digits, or NaN. */
static double radix_number(const char *s, size_t len, int base)
{
    if (len == 0)
        return NAN;
    double v = 0;
    for (size_t i = 0; i < len; i++) {
        int c = tolower((unsigned char)s[i]);
        int d = isdigit(c)               ? c - '0'
                : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                                         : 99;
        if (d >= base)
            return NAN;
        v = v * base + d;
    }
    return v;
}

/* A decimal literal: digits, at most one '.', an optional exponent. */
static bool decimal_shape(const char *s, size_t len)
{
    size_t i = 0, digits = 0;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        i++;
    while (i < len && isdigit((unsigned char)s[i]))
        i++, digits++;
    if (i < len && s[i] == '.')
        for (i++; i < len && isdigit((unsigned char)s[i]); i++)
            digits++;
    if (digits == 0)
        return false;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t exp = 0;
        while (i < len && isdigit((unsigned char)s[i]))
            i++, exp++;
        if (exp == 0)
            return false;
    }
    return i == len;
}

double rg_flag_js_number(const char *s)
{
    if (!s)
        return NAN;
    while (isspace((unsigned char)*s))
        s++;
    size_t len = strlen(s);
    while (len > 0 && isspace((unsigned char)s[len - 1]))
        len--;
    if (len == 0)
        return 0;
    if (len > 2 && s[0] == '0') {
        int c = tolower((unsigned char)s[1]);
        if (c == 'x' || c == 'o' || c == 'b')
            return radix_number(s + 2, len - 2,
                                c == 'x'   ? 16
                                : c == 'o' ? 8
                                           : 2);
    }
    const char *body = s;
    size_t blen = len;
    bool neg = false;
    if (*body == '+' || *body == '-') {
        neg = *body == '-';
        body++, blen--;
    }
    if (blen == 8 && memcmp(body, "Infinity", 8) == 0)
        return neg ? -INFINITY : INFINITY;
    if (!decimal_shape(s, len) || len > 400)
        return NAN;
    char tmp[401];
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    return strtod(tmp, NULL);
}

/* Reads exactly n digits at *p into *out and advances *p. */
static bool digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return false;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return true;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static bool valid_day(int y, int m, int d)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m != 2 || d <= 28 || leap;
}

/* Parses [THH:MM[:SS[.fff]]] into milliseconds of the day. */
static bool time_of_day(const char **p, double *ms)
{
    int hh, mi, ss = 0;
    if (!digits(p, 2, &hh) || **p != ':')
        return false;
    (*p)++;
    if (!digits(p, 2, &mi))
        return false;
    double frac = 0;
    if (**p == ':') {
        (*p)++;
        if (!digits(p, 2, &ss))
            return false;
        if (**p == '.') {
            (*p)++;
            double scale = 100;
            if (!isdigit((unsigned char)**p))
                return false;
            for (; isdigit((unsigned char)**p); (*p)++, scale /= 10)
                frac += (**p - '0') * scale;
            frac = floor(frac);
        }
    }
    if (hh > 24 || mi > 59 || ss > 59 || (hh == 24 && (mi || ss || frac)))
        return false;
    *ms = ((hh * 60.0 + mi) * 60 + ss) * 1000 + frac;
    return true;
}

/* Parses Z, +HH:MM or -HH:MM into an offset in minutes east of UTC. */
static bool zone(const char **p, int *minutes)
{
    if (**p == 'Z') {
        (*p)++;
        *minutes = 0;
        return true;
    }
    if (**p != '+' && **p != '-')
        return false;
    int sign = **p == '-' ? -1 : 1, hh, mm;
    (*p)++;
    if (!digits(p, 2, &hh) || **p != ':')
        return false;
    (*p)++;
    if (!digits(p, 2, &mm) || hh > 23 || mm > 59)
        return false;
    *minutes = sign * (hh * 60 + mm);
    return true;
}

bool rg_flag_js_date(const char *s, double *ms)
{
    int y, m, d, offset = 0;
    if (!s || !digits(&s, 4, &y) || *s++ != '-' || !digits(&s, 2, &m) ||
        *s++ != '-' || !digits(&s, 2, &d) || !valid_day(y, m, d))
        return false;
    double day_ms = 0;
    if (*s == 'T') {
        s++;
        if (!time_of_day(&s, &day_ms))
            return false;
        if (*s && !zone(&s, &offset))
            return false;
    }
    if (*s)
        return false;
    *ms = (double)days_from_civil(y, m, d) * 86400000.0 + day_ms -
          offset * 60000.0;
    return true;
}
