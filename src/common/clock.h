/*
 * clock.h - injected time. Nothing that decides reads the system clock:
 * the server passes rg_clock_system(), tests and the simulator pass a
 * manual clock they advance themselves.
 *
 * Times are int64 milliseconds since the Unix epoch.
 */
#ifndef RG_CLOCK_H
#define RG_CLOCK_H

#include <stdint.h>

typedef struct rg_clock {
    int64_t (*now_ms)(void *ctx); /* current time in ms */
    void *ctx;                    /* passed to now_ms; owned by the creator */
} rg_clock;

/* The wall clock (CLOCK_REALTIME). A static object; never freed. */
const rg_clock *rg_clock_system(void);

/* A clock that returns *ms; the caller owns ms and moves it as it likes. */
rg_clock rg_clock_manual(int64_t *ms);

/* Shorthand for c->now_ms(c->ctx). */
static inline int64_t rg_clock_now(const rg_clock *c)
{
    return c->now_ms(c->ctx);
}

/* Monotonic milliseconds, for timeouts and durations only (never stored). */
int64_t rg_monotonic_ms(void);

#endif
