/* log.c - see log.h. */
#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *log_prog = "rollgate";
static _Atomic int log_min = RG_LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void rg_log_init(const char *prog, rg_log_level min)
{
    log_prog = prog;
    log_min = min;
}

void rg_log_set_level(rg_log_level min)
{
    log_min = (int)min;
}

const char *rg_log_level_name(int level)
{
    return level >= 0 && level < 4 ? level_names[level] : "?";
}

int rg_log_level_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(s, level_names[i]) == 0)
            return i;
    return -1;
}

void rg_log(rg_log_level level, const char *fmt, ...)
{
    if ((int)level < atomic_load(&log_min))
        return;
    char line[2048];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    int n = (int)strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%SZ ", &tm);
    n += snprintf(line + n, sizeof line - (size_t)n,
                  "%s %s: ", level_names[level], log_prog);
    va_list ap;
    va_start(ap, fmt);
    if (n < (int)sizeof line)
        n += vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof line - 2)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w;
}
