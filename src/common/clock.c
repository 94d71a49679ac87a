/* clock.c - see clock.h. */
#include "clock.h"

#include <time.h>

static int64_t system_now(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const rg_clock system_clock = {system_now, NULL};

const rg_clock *rg_clock_system(void)
{
    return &system_clock;
}

static int64_t manual_now(void *ctx)
{
    return *(int64_t *)ctx;
}

rg_clock rg_clock_manual(int64_t *ms)
{
    rg_clock c = {manual_now, ms};
    return c;
}

int64_t rg_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
