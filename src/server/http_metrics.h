/*
 * http_metrics.h - latency histograms of answered requests, per route
 * (the router's table, router.h) and one for requests no route matched,
 * exposed on /metrics as rollgate_http_request_duration_seconds
 * (docs/api.md, "/metrics"). The router observes each answer
 * (rg_http_metrics_observe); counters are atomic, process-wide.
 *
 * Thread-safe.
 */
#ifndef RG_HTTP_METRICS_H
#define RG_HTTP_METRICS_H

#include "common/buf.h"

#include <stddef.h>
#include <stdint.h>

#define RG_HTTP_METRICS_ROUTES 64 /* routes counted; others share the last */

/* Counts one answer of route index route (its place in rg_router_routes;
 * SIZE_MAX: no route matched) that took micros. */
void rg_http_metrics_observe(size_t route, int64_t micros);

/* Appends the histograms of the routes answered at least once, in
 * Prometheus text, to b. */
void rg_http_metrics_render(rg_buf *b);

#endif
