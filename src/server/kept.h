/* kept.h - answers kept by a key for a period: a read that many open
 * pages ask for again and again (the dashboard's fleet overview, its lists
 * of a rollout's failing and silent endpoints) scans the fleet at most once
 * per period per key, however many ask (docs/dashboard.md). */
#ifndef RG_SERVER_KEPT_H
#define RG_SERVER_KEPT_H

#include "common/buf.h"
#include "server/server.h"

#include <stdint.h>

#define RG_KEPT_KEYS 64     /* answers kept at once; the oldest goes first */
#define RG_KEPT_KEY_MAX 512 /* a longer key is answered, never kept */

/* Builds the answer for a key into *text (malloc'd, taken by the caller).
 * Returns 0 or a negative rg error code (then *text is NULL). */
typedef int (*rg_kept_build)(rg_server *srv, void *ctx, char **text);

/* Appends to out the answer kept under key for srv's fleet when it is at
 * most max_age_ms old by srv->clock (0: never reuse), else builds it with
 * build(srv, ctx), keeps it and appends it. Thread-safe; builds run one at
 * a time, so concurrent askers of one key cause one build. Returns 0,
 * RG_ENOMEM, or build's error (then out is unchanged). */
int rg_kept_answer(rg_server *srv, const char *key, int64_t max_age_ms,
                   rg_kept_build build, void *ctx, rg_buf *out);

#endif
