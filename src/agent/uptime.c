/* uptime.c - see uptime.h. */
#include "uptime.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

void rg_uptime_now(rg_uptime *u)
{
    struct timespec ts;
    memset(u, 0, sizeof *u);
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
    if (f) {
        if (!fgets(u->boot_id, sizeof u->boot_id, f))
            u->boot_id[0] = '\0';
        u->boot_id[strcspn(u->boot_id, "\r\n")] = '\0';
        fclose(f);
    }
    clock_gettime(CLOCK_BOOTTIME, &ts);
    u->ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
