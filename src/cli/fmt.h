/*
 * fmt.h - human-readable values for the rollgate CLI, both ways:
 * sizes ("4.0 KiB"), durations ("1h30m"), times (ISO 8601 UTC and
 * relative "5m ago"), and the parsers for what users type: durations
 * ("24h", "90m", "1h30m") and points in time (ISO, epoch ms, or a
 * duration meaning "that long ago").
 *
 * Formatters write a NUL-terminated string into the caller's buffer,
 * truncating to fit; RG_CLI_FMT_MAX bytes are always enough. Pure and
 * thread-safe: "now" is always passed in.
 */
#ifndef RG_CLI_FMT_H
#define RG_CLI_FMT_H

#include "common/err.h"

#include <stddef.h>
#include <stdint.h>

#define RG_CLI_FMT_MAX 48

/* Bytes with binary units: "512 B", "4.0 KiB", "1.5 MiB", "2.0 GiB". */
void rg_cli_fmt_size(char *out, size_t n, uint64_t bytes);

/* Seconds as the two largest non-zero units: "0s", "45s", "10m",
 * "1h30m", "2d3h". Negative values are prefixed with '-'. */
void rg_cli_fmt_duration(char *out, size_t n, int64_t seconds);

/* Milliseconds since the epoch as "2026-11-26T03:40:00Z" (UTC, seconds
 * precision); "-" for ms <= 0 (the API's "never" / "not set"). */
void rg_cli_fmt_iso(char *out, size_t n, int64_t ms);

/* ms relative to now_ms: "just now" (under a second), "5s ago", "3m ago",
 * "2h ago", "4d ago", or "in 10m" for the future; "-" for ms <= 0. */
void rg_cli_fmt_ago(char *out, size_t n, int64_t now_ms, int64_t ms);

/* Parses a duration: a plain number of seconds, or one or more
 * number+unit pairs with units s, m, h, d, w ("24h", "90m", "1h30m").
 * Must be positive and at most 100 years. Returns 0 with *seconds set, or
 * RG_EINVAL with a message quoting s. */
int rg_cli_parse_duration(const char *s, int64_t *seconds, rg_err *err);

/* Parses a point in time: epoch milliseconds ("1764128400000"), an ISO
 * 8601 UTC date or date-time ("2026-11-26", "2026-11-26T03:40:00Z",
 * "2026-11-26 03:40:00"), or a duration meaning that long before now_ms
 * ("1h"). Returns 0 with *ms set, or RG_EINVAL quoting s. */
int rg_cli_parse_time(const char *s, int64_t now_ms, int64_t *ms, rg_err *err);

/* Parses a decimal integer in [min, max] with nothing after it. Returns 0
 * with *out set, or RG_EINVAL quoting s (err->field left empty). */
int rg_cli_parse_int(const char *s, int64_t min, int64_t max, int64_t *out,
                     rg_err *err);

#endif
