/* rfc3339.c - see rfc3339.h. */
#include "rfc3339.h"

#include "common/err.h"

#include <ctype.h>
#include <string.h>
#include <time.h>

static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int rg_rfc3339_parse(const char *s, int64_t *ms)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
    if (!s || strlen(s) != sizeof shape - 1)
        return RG_EINVAL;
    for (size_t i = 0; i < sizeof shape - 1; i++)
        if (shape[i] != 'd' && s[i] != shape[i])
            return RG_EINVAL;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
    int h = digits(s + 11, 2), mi = digits(s + 14, 2), se = digits(s + 17, 2);
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 ||
        mi < 0 || mi > 59 || se < 0 || se > 59)
        return RG_EINVAL;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    time_t t = timegm(&tm);
    /* timegm normalises 31 February: a changed day means a bad date. */
    if (t == (time_t)-1 || tm.tm_mday != d || tm.tm_mon != mo - 1)
        return RG_EINVAL;
    *ms = (int64_t)t * 1000;
    return 0;
}

void rg_rfc3339_format(int64_t ms, char out[RG_RFC3339_LEN])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, RG_RFC3339_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
