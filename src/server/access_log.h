/*
 * access_log.h - one line per HTTP request rollgated answers
 * (docs/operations.md, "Access log"):
 *
 *   2026-12-03T10:59:00.123Z GET /v1/rollouts/{} 200 1.234ms actor=ci
 *   client=127.0.0.1 path=/v1/rollouts/7
 *
 * (one line): time the answer was done, method, route pattern ("-" when
 * no route matched), status, time from the request's headers to its
 * answer, who it was authenticated as (a token name, "endpoint:ID", or
 * "-"), the client address and the path. Bytes outside printable ASCII,
 * spaces, '"' and '%' in the path and actor are %-escaped, so a line is
 * one line whatever a client sends. `rollgated --access-log off|stderr|
 * FILE` (default stderr); a file is opened for appending (mode 0640,
 * created if missing) and each line is one write(2), so lines from
 * concurrent requests never interleave.
 *
 * Thread-safe.
 */
#ifndef RG_ACCESS_LOG_H
#define RG_ACCESS_LOG_H

#include "common/err.h"

#include <stdint.h>

#define RG_ACCESS_LOG_PATH_MAX 256 /* path bytes logged (escaped) */

typedef struct rg_access_log rg_access_log;

/* One answered request (strings borrowed; NULL reads as "-"). */
typedef struct rg_access_entry {
    int64_t at_ms; /* wall clock, when the answer was done */
    const char *method, *route, *path, *actor, *client;
    int status;
    int64_t micros; /* headers to answer */
} rg_access_entry;

/* Opens the log spec names: "off" (nothing is logged until a reopen),
 * "stderr", or a file path. Returns 0 or RG_EIO (err says why). Close
 * with rg_access_log_close (NULL is a no-op). */
int rg_access_log_open(const char *spec, rg_access_log **out, rg_err *err);

/* Points l at spec (as rg_access_log_open) while requests keep writing:
 * a file is opened again (after logrotate moved it, the new file is
 * created). Returns 0, or RG_EIO with l unchanged. */
int rg_access_log_reopen(rg_access_log *l, const char *spec, rg_err *err);
void rg_access_log_close(rg_access_log *l);

/* Writes e's line (l NULL: nothing). Write errors are counted, not
 * reported per line (rg_access_log_errors). */
void rg_access_log_write(rg_access_log *l, const rg_access_entry *e);

/* Lines that could not be written so far. */
uint64_t rg_access_log_errors(rg_access_log *l);

#endif
