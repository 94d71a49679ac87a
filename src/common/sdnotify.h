/*
 * sdnotify.h - telling the service manager how a daemon is doing, for
 * systemd's Type=notify units (dist/systemd/, docs/operations.md):
 * READY=1 once the daemon really serves, STATUS= lines for `systemctl
 * status`, RELOADING=1 while it reloads, STOPPING=1 on shutdown, and WATCHDOG=1
 * keep-alives sent by the loop whose progress proves the daemon alive.
 *
 * Messages go through libsystemd's sd_notify, which does nothing when
 * NOTIFY_SOCKET is not set: outside systemd the programs behave as
 * before. Sending never fails the caller (a lost message is the service
 * manager's business). Every function is thread-safe.
 */
#ifndef RG_SDNOTIFY_H
#define RG_SDNOTIFY_H

#include <stdint.h>

/* Sends READY=1 with STATUS= set to the formatted text. */
void rg_sd_ready(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Sends STATUS= with the formatted text (one line; newlines become
 * spaces). */
void rg_sd_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Sends RELOADING=1 with STATUS= set to the formatted text; rg_sd_ready
 * says when the reload is done (systemctl reload waits for it). */
void rg_sd_reloading(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* Sends STOPPING=1 with STATUS= set to the formatted text. */
void rg_sd_stopping(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Milliseconds between keep-alives: half the WATCHDOG_USEC the service
 * manager set for this process (sd_watchdog_enabled, which also checks
 * WATCHDOG_PID), at least 1; 0 when no watchdog is asked for. Read from
 * the environment once. A loop that proves liveness wakes at least this
 * often and calls rg_sd_watchdog. */
int64_t rg_sd_watchdog_period_ms(void);

/* Sends WATCHDOG=1 when a watchdog is asked for and a period has passed
 * since the last keep-alive sent (the first call always sends), so a loop
 * may call it on every turn. */
void rg_sd_watchdog(void);

#endif
