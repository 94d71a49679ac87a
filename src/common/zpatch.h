/*
 * zpatch.h - binary deltas between two versions of a file: zstd frames
 * compressed with the old version (the base) as a referenced prefix, as
 * `zstd --patch-from=BASE` makes them (long-distance matching, a window
 * that covers the base), so a delta applies with the plain zstd CLI too:
 * `zstd -d --patch-from=BASE --long=27 DELTA`.
 *
 * Limits (docs/caching.md, "Delta updates"): deltas are made only when
 * both files fit RG_ZPATCH_INPUT_MAX, so the window is at most
 * 2^RG_ZPATCH_WINDOW_LOG_MAX bytes, and an applier refuses any frame that
 * asks for more: applying never needs more memory than that window (plus
 * zstd's fixed buffers) besides the base, which is mapped, not copied.
 * Applying writes at most max_out bytes and stops there.
 *
 * Thread-safe: no shared state.
 */
#ifndef RG_ZPATCH_H
#define RG_ZPATCH_H

#include "common/err.h"

#include <stddef.h>
#include <stdint.h>

#define RG_ZPATCH_WINDOW_LOG_MAX 27 /* 128 MiB */
/* The largest base or target a delta is made for: the window (the next
 * power of two above the larger file) stays within the maximum. */
#define RG_ZPATCH_INPUT_MAX ((uint64_t)1 << (RG_ZPATCH_WINDOW_LOG_MAX - 1))
#define RG_ZPATCH_LEVEL 19 /* zstd level the server makes deltas at */

/* Receives n bytes of output. Returns 0, or an rg_code to stop. */
typedef int (*rg_zpatch_sink)(void *ctx, const void *p, size_t n, rg_err *err);

/* Compresses the file target_path with the file base_path as prefix at
 * zstd level, passing the delta to sink in pieces. Memory: both files
 * mapped, zstd's context for the window. Returns 0; RG_ETOOBIG when a
 * file exceeds RG_ZPATCH_INPUT_MAX; RG_EIO (unreadable) or RG_EINTERNAL
 * (zstd's error); or sink's error. */
int rg_zpatch_make(const char *base_path, const char *target_path, int level,
                   rg_zpatch_sink sink, void *ctx, rg_err *err);

/* Applies the delta read from delta_fd (at its current offset) to the
 * file base_path and writes the result to out_fd, at most max_out bytes;
 * *out_size receives the bytes written. Returns 0 when the delta was one
 * complete frame and checked (zstd's content checksum); RG_ETOOBIG when
 * it would write more than max_out (cut off there); RG_EINVAL for a
 * corrupt, truncated or trailing-data delta, a wrong base, or one that
 * needs a window beyond RG_ZPATCH_WINDOW_LOG_MAX; RG_EIO for a read or
 * write error. Whatever it returns, out_fd may hold partial output: the
 * caller verifies the result (size and sha256) before using it. */
int rg_zpatch_apply(const char *base_path, int delta_fd, int out_fd,
                    uint64_t max_out, uint64_t *out_size, rg_err *err);

#endif
