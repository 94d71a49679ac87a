/*
 * uptime.h - time since boot and the boot's identity, for durations that
 * must survive wall-clock jumps and reboots (trial deadlines, trial.h).
 *
 * CLOCK_BOOTTIME counts from boot (suspend included) and never jumps with
 * the wall clock; it restarts at every boot, which the boot id
 * (/proc/sys/kernel/random/boot_id) tells apart. Tests inject their own.
 */
#ifndef RG_AGENT_UPTIME_H
#define RG_AGENT_UPTIME_H

#include <stdint.h>

#define RG_BOOT_ID_MAX 40

typedef struct rg_uptime {
    char boot_id[RG_BOOT_ID_MAX]; /* "" when the system does not say */
    int64_t ms;                   /* milliseconds since this boot */
} rg_uptime;

/* Reads the system's boot id and CLOCK_BOOTTIME into *u. */
void rg_uptime_now(rg_uptime *u);

#endif
