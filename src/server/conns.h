/*
 * conns.h - request deadlines for the HTTP adapter's live connections.
 *
 * A connection is in one of three phases:
 *   waiting  no request yet, or the previous one answered: the next
 *            request's headers must be in within header_ms of the
 *            connection opening or of the previous answer;
 *   body     headers in, body arriving: it must keep an average of
 *            min_rate bytes/s after a grace of header_ms (the whole
 *            request, not only the gaps between bytes, is timed, so a
 *            trickle cannot keep a connection forever);
 *   answering the request is complete: the handler runs and the answer
 *            is sent (timed by the adapter's idle timeout only).
 * A connection past its deadline is cut: its socket is shut down, and the
 * adapter then sees the peer gone and closes it. Waiting connections may
 * fill at most waiting_cap places: when a new one would pass it, the
 * oldest waiting connection is cut, so idle and slow clients cannot take
 * the places that working clients need.
 *
 * A background thread checks the deadlines twice a second. Thread-safe:
 * every function may be called from any thread.
 */
#ifndef RG_CONNS_H
#define RG_CONNS_H

#include "common/err.h"

#include <stddef.h>
#include <stdint.h>

typedef struct rg_conns rg_conns;
typedef struct rg_conn rg_conn;

typedef struct rg_conns_opts {
    int64_t header_ms;  /* > 0 */
    uint64_t min_rate;  /* body bytes per second, > 0 */
    size_t waiting_cap; /* > 0 */
} rg_conns_opts;

/* Counters since rg_conns_new. */
typedef struct rg_conns_stats {
    uint64_t cut_late;    /* past a header or body deadline */
    uint64_t cut_evicted; /* oldest waiting, to make room */
} rg_conns_stats;

/* Starts the deadline thread. *out is owned by the caller and freed with
 * rg_conns_free. Returns 0, RG_ENOMEM or RG_EIO (no thread). */
int rg_conns_new(const rg_conns_opts *opts, rg_conns **out, rg_err *err);

/* Stops the thread and frees cs and every connection still tracked.
 * NULL is ok. */
void rg_conns_free(rg_conns *cs);

/* Tracks a new connection on socket fd, waiting for its first request
 * (may cut the oldest waiting connection). The fd stays the caller's; it
 * must stay open until rg_conns_remove. Returns the record (owned by cs,
 * freed by rg_conns_remove) or NULL when out of memory (then the
 * connection is simply not timed). */
rg_conn *rg_conns_add(rg_conns *cs, int fd);

/* Stops tracking c and frees it. NULL is ok. */
void rg_conns_remove(rg_conns *cs, rg_conn *c);

/* Phase changes; NULL c is ignored, as is a change to the current phase
 * or of a connection already cut. */
void rg_conns_headers_in(rg_conns *cs, rg_conn *c);
void rg_conns_answering(rg_conns *cs, rg_conn *c);
void rg_conns_waiting(rg_conns *cs, rg_conn *c);

/* Counts n body bytes received on c (lock-free). NULL c is ignored. */
void rg_conns_body(rg_conn *c, uint64_t n);

/* Copies the counters into out. */
void rg_conns_stats_get(rg_conns *cs, rg_conns_stats *out);

#endif
