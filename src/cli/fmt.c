/* fmt.c - see fmt.h. */
#include "fmt.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_DURATION_S (100LL * 366 * 86400)

void rg_cli_fmt_size(char *out, size_t n, uint64_t bytes)
{
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
    if (bytes < 1024) {
        snprintf(out, n, "%llu B", (unsigned long long)bytes);
        return;
    }
    double v = (double)bytes / 1024.0;
    size_t u = 0;
    while (v >= 1023.95 && u + 1 < sizeof units / sizeof units[0]) {
        v /= 1024.0;
        u++;
    }
    snprintf(out, n, "%.1f %s", v, units[u]);
}

void rg_cli_fmt_duration(char *out, size_t n, int64_t seconds)
{
    static const struct {
        char unit;
        int64_t s;
    } units[] = {{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};
    const char *sign = "";
    uint64_t left;
    if (seconds < 0) {
        sign = "-";
        left = (uint64_t)0 - (uint64_t)seconds;
    } else {
        left = (uint64_t)seconds;
    }
    if (left == 0) {
        snprintf(out, n, "0s");
        return;
    }
    char text[RG_CLI_FMT_MAX] = "";
    size_t len = 0;
    int parts = 0;
    for (size_t i = 0; i < 4 && parts < 2; i++) {
        uint64_t q = left / (uint64_t)units[i].s;
        if (q == 0) {
            if (parts)
                break; /* "1h" not "1h0m5s": two adjacent units at most */
            continue;
        }
        left -= q * (uint64_t)units[i].s;
        len += (size_t)snprintf(text + len, sizeof text - len, "%llu%c",
                                (unsigned long long)q, units[i].unit);
        parts++;
    }
    snprintf(out, n, "%s%s", sign, text);
}

void rg_cli_fmt_iso(char *out, size_t n, int64_t ms)
{
    if (ms <= 0) {
        snprintf(out, n, "-");
        return;
    }
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        snprintf(out, n, "-");
        return;
    }
    if (n > 0 && strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        out[0] = '\0';
}

void rg_cli_fmt_ago(char *out, size_t n, int64_t now_ms, int64_t ms)
{
    if (ms <= 0) {
        snprintf(out, n, "-");
        return;
    }
    int64_t d = now_ms - ms;
    bool future = d < 0;
    int64_t s = (future ? -d : d) / 1000;
    if (s == 0) {
        snprintf(out, n, "just now");
        return;
    }
    char amount[RG_CLI_FMT_MAX];
    if (s < 60)
        snprintf(amount, sizeof amount, "%llds", (long long)s);
    else if (s < 3600)
        snprintf(amount, sizeof amount, "%lldm", (long long)(s / 60));
    else if (s < 86400)
        snprintf(amount, sizeof amount, "%lldh", (long long)(s / 3600));
    else
        snprintf(amount, sizeof amount, "%lldd", (long long)(s / 86400));
    if (future)
        snprintf(out, n, "in %s", amount);
    else
        snprintf(out, n, "%s ago", amount);
}

int rg_cli_parse_int(const char *s, int64_t min, int64_t max, int64_t *out,
                     rg_err *err)
{
    char *end = NULL;
    bool starts_ok = (s[0] >= '0' && s[0] <= '9') || s[0] == '-';
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!starts_ok || end == s || *end || errno == ERANGE)
        return rg_err_set(err, RG_EINVAL, "'%s' is not an integer", s);
    if (v < min || v > max)
        return rg_err_set(err, RG_EINVAL, "'%s' is out of range %lld..%lld", s,
                          (long long)min, (long long)max);
    *out = v;
    return 0;
}

static int64_t unit_seconds(char c)
{
    switch (c) {
    case 's':
        return 1;
    case 'm':
        return 60;
    case 'h':
        return 3600;
    case 'd':
        return 86400;
    case 'w':
        return 7 * 86400;
    default:
        return 0;
    }
}

int rg_cli_parse_duration(const char *s, int64_t *seconds, rg_err *err)
{
    const char *p = s;
    int64_t total = 0;
    bool plain = true;
    if (!*p)
        return rg_err_set(err, RG_EINVAL, "empty duration");
    while (*p) {
        if (*p < '0' || *p > '9')
            goto bad;
        int64_t v = 0;
        while (*p >= '0' && *p <= '9') {
            v = v * 10 + (*p - '0');
            if (v > MAX_DURATION_S)
                goto bad;
            p++;
        }
        int64_t unit = 1;
        if (*p) {
            unit = unit_seconds(*p);
            if (!unit)
                goto bad;
            plain = false;
            p++;
        } else if (!plain) {
            goto bad; /* "1h30": a trailing number without its unit */
        }
        if (v > MAX_DURATION_S / unit)
            goto bad;
        total += v * unit;
        if (total > MAX_DURATION_S)
            goto bad;
    }
    if (total <= 0)
        return rg_err_set(err, RG_EINVAL, "duration '%s' must be positive", s);
    *seconds = total;
    return 0;
bad:
    return rg_err_set(err, RG_EINVAL,
                      "'%s' is not a duration (like 90s, 15m, 24h, 7d, 1h30m)",
                      s);
}

/* Parses an ISO 8601 UTC date or date-time; returns 0 or -1. */
static int parse_iso(const char *s, int64_t *ms)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *rest = strptime(s, "%Y-%m-%d", &tm);
    if (!rest)
        return -1;
    if (*rest == 'T' || *rest == ' ') {
        rest = strptime(rest + 1, "%H:%M:%S", &tm);
        if (!rest)
            return -1;
    }
    if (*rest == 'Z')
        rest++;
    if (*rest)
        return -1;
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    *ms = (int64_t)t * 1000;
    return 0;
}

int rg_cli_parse_time(const char *s, int64_t now_ms, int64_t *ms, rg_err *err)
{
    size_t digits = strspn(s, "0123456789");
    if (digits > 0 && s[digits] == '\0')
        return rg_cli_parse_int(s, 0, INT64_MAX, ms, err);
    if (parse_iso(s, ms) == 0)
        return 0;
    int64_t ago = 0;
    if (digits > 0 && rg_cli_parse_duration(s, &ago, NULL) == 0) {
        *ms = now_ms - ago * 1000;
        return 0;
    }
    return rg_err_set(err, RG_EINVAL,
                      "'%s' is not a time (ISO like 2026-11-26T03:40:00Z, "
                      "epoch ms, or an age like 1h)",
                      s);
}
