/* http_metrics.c - see http_metrics.h. */
#include "http_metrics.h"

#include "server/router.h"

#include <stdatomic.h>

/* Upper bounds of the buckets, in microseconds (the +Inf bucket is the
 * count). */
static const int64_t bounds_us[] = {1000,   5000,   10000,   50000,
                                    100000, 500000, 1000000, 5000000};
#define N_BOUNDS (sizeof bounds_us / sizeof *bounds_us)
#define SLOTS (RG_HTTP_METRICS_ROUTES + 1) /* the last: no route */

static _Atomic uint64_t buckets[SLOTS][N_BOUNDS], counts[SLOTS], sums_us[SLOTS];

void rg_http_metrics_observe(size_t route, int64_t micros)
{
    size_t s = route < RG_HTTP_METRICS_ROUTES ? route : SLOTS - 1;
    if (micros < 0)
        micros = 0;
    for (size_t i = 0; i < N_BOUNDS; i++)
        if (micros <= bounds_us[i])
            atomic_fetch_add(&buckets[s][i], 1);
    atomic_fetch_add(&sums_us[s], (uint64_t)micros);
    atomic_fetch_add(&counts[s], 1);
}

static void render_one(rg_buf *b, const char *method, const char *route,
                       size_t s)
{
    uint64_t n = atomic_load(&counts[s]);
    if (n == 0)
        return;
    for (size_t i = 0; i < N_BOUNDS; i++)
        rg_buf_printf(b,
                      "rollgate_http_request_duration_seconds_bucket{method="
                      "\"%s\",route=\"%s\",le=\"%g\"} %llu\n",
                      method, route, (double)bounds_us[i] / 1e6,
                      (unsigned long long)atomic_load(&buckets[s][i]));
    rg_buf_printf(b,
                  "rollgate_http_request_duration_seconds_bucket{method="
                  "\"%s\",route=\"%s\",le=\"+Inf\"} %llu\n"
                  "rollgate_http_request_duration_seconds_sum{method=\"%s\","
                  "route=\"%s\"} %.6f\n"
                  "rollgate_http_request_duration_seconds_count{method=\"%s\","
                  "route=\"%s\"} %llu\n",
                  method, route, (unsigned long long)n, method, route,
                  (double)atomic_load(&sums_us[s]) / 1e6, method, route,
                  (unsigned long long)n);
}

void rg_http_metrics_render(rg_buf *b)
{
    size_t n;
    const rg_route *routes = rg_router_routes(&n);
    rg_buf_printf(b, "# HELP rollgate_http_request_duration_seconds Time "
                     "from a request's headers to its answer, by route.\n"
                     "# TYPE rollgate_http_request_duration_seconds "
                     "histogram\n");
    for (size_t r = 0; r < n && r < RG_HTTP_METRICS_ROUTES; r++)
        render_one(b, routes[r].method, routes[r].pattern, r);
    render_one(b, "-", "-", SLOTS - 1);
}
