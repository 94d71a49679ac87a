/* sdnotify.c - see sdnotify.h. */
#include "sdnotify.h"

#include "common/clock.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>

static pthread_once_t wd_once = PTHREAD_ONCE_INIT;
static int64_t wd_period_ms;
static _Atomic int64_t wd_last_ms = -1; /* monotonic ms of the last ping */

static void wd_read(void)
{
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
        int64_t ms = (int64_t)(usec / 2000);
        wd_period_ms = ms > 0 ? ms : 1;
    }
}

int64_t rg_sd_watchdog_period_ms(void)
{
    pthread_once(&wd_once, wd_read);
    return wd_period_ms;
}

void rg_sd_watchdog(void)
{
    int64_t period = rg_sd_watchdog_period_ms();
    if (period == 0)
        return;
    int64_t now = rg_monotonic_ms();
    int64_t last = atomic_load(&wd_last_ms);
    if (last >= 0 && now - last < period)
        return;
    /* One sender per period, whichever thread wins. */
    if (atomic_compare_exchange_strong(&wd_last_ms, &last, now))
        sd_notify(0, "WATCHDOG=1");
}

/* Sends head (NULL: none) and STATUS=fmt(ap), newlines flattened. */
static void send_status(const char *head, const char *fmt, va_list ap)
{
    char text[512];
    vsnprintf(text, sizeof text, fmt, ap);
    for (char *p = text; *p; p++)
        if (*p == '\n')
            *p = ' ';
    sd_notifyf(0, "%s%sSTATUS=%s", head ? head : "", head ? "\n" : "", text);
}

void rg_sd_ready(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    send_status("READY=1", fmt, ap);
    va_end(ap);
}

void rg_sd_status(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    send_status(NULL, fmt, ap);
    va_end(ap);
}

void rg_sd_reloading(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    send_status("RELOADING=1", fmt, ap);
    va_end(ap);
}

void rg_sd_stopping(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    send_status("STOPPING=1", fmt, ap);
    va_end(ap);
}
