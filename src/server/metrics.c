/* metrics.c - GET /metrics (declared in agent_api.h): Prometheus text
 * exposition of the fleet, agent, orchestrator and rollout counters. */
#include "agent_api.h"

#include "common/buf.h"
#include "model/rollout.h"
#include "server/fleet.h"
#include "server/orchestrator.h"
#include "server/retention.h"

#include <stdlib.h>
#include <string.h>

#define METRICS_MAX (64 * 1024)
#define N_STATES RG_RO_N_STATES

static int count_state(void *ctx, const rg_rollout_rec *r)
{
    uint64_t *by_state = ctx;
    if (r->status.state >= 0 && r->status.state < N_STATES)
        by_state[r->status.state]++;
    return 0;
}

static void metric(rg_buf *b, const char *name, const char *type,
                   const char *help, uint64_t v)
{
    rg_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name,
                  type, name, (unsigned long long)v);
}

void rg_api_metrics(rg_server *srv, rg_req *req, rg_resp *resp)
{
    rg_err err;
    rg_err_clear(&err);
    rg_buf b;
    rg_buf_init(&b, METRICS_MAX);
    rg_fleet_stats fs;
    rg_agent_stats as;
    rg_orchestrator_stats os;
    uint64_t by_state[N_STATES] = {0};
    rg_fleet_stats_get(srv->fleet, &fs);
    rg_agent_stats_get(&as);
    rg_orchestrator_stats_get(&os);
    if (rg_store_rollout_list(srv->store, false, count_state, by_state, &err) <
        0) {
        rg_resp_error(resp, &err);
        goto cleanup;
    }

    metric(&b, "rollgate_checkins_total", "counter",
           "Accepted agent check-ins.", fs.checkins);
    metric(&b, "rollgate_checkins_rejected_total", "counter",
           "Check-ins refused for a missing, unknown or foreign token.",
           as.checkins_rejected);
    metric(&b, "rollgate_endpoints", "gauge", "Enrolled endpoints.",
           fs.endpoints);
    metric(&b, "rollgate_enrollments_total", "counter",
           "Successful enrollments (including re-enrollments).",
           as.enrollments);
    rg_buf_printf(&b, "# HELP rollgate_events_received_total Agent events "
                      "received, retries included.\n"
                      "# TYPE rollgate_events_received_total counter\n");
    for (size_t i = 0; i < RG_EVENT_TYPES; i++)
        rg_buf_printf(&b, "rollgate_events_received_total{type=\"%s\"} %llu\n",
                      rg_event_type_names[i], (unsigned long long)as.events[i]);
    metric(&b, "rollgate_events_stored_total", "counter",
           "Agent events stored for the first time.", as.events_new);
    rg_buf_printf(&b,
                  "# HELP rollgate_events_refused_total Agent events "
                  "acknowledged and dropped: their release was never "
                  "offered to the endpoint, or is unknown.\n"
                  "# TYPE rollgate_events_refused_total counter\n"
                  "rollgate_events_refused_total{reason=\"not_offered\"} "
                  "%llu\n"
                  "rollgate_events_refused_total{reason=\"unknown_"
                  "release\"} %llu\n",
                  (unsigned long long)as.events_not_offered,
                  (unsigned long long)as.events_unknown_release);
    metric(&b, "rollgate_events_pruned_total", "counter",
           "Agent events deleted by retention (--event-retention).",
           rg_retention_pruned());
    metric(&b, "rollgate_artifact_downloads_total", "counter",
           "Artifact downloads by agents.", as.artifact_downloads);
    rg_buf_printf(&b, "# HELP rollgate_rollouts Rollouts by state.\n"
                      "# TYPE rollgate_rollouts gauge\n");
    for (int s = 0; s < N_STATES; s++)
        rg_buf_printf(&b, "rollgate_rollouts{state=\"%s\"} %llu\n",
                      rg_rollout_state_name(s),
                      (unsigned long long)by_state[s]);
    metric(&b, "rollgate_orchestrator_ticks_total", "counter",
           "Orchestrator passes.", os.ticks);
    metric(&b, "rollgate_orchestrator_transitions_total", "counter",
           "Rollout transitions made by the orchestrator.", os.transitions);
    metric(&b, "rollgate_orchestrator_conflicts_total", "counter",
           "Transitions lost to a concurrent operator action.", os.conflicts);
    metric(&b, "rollgate_orchestrator_errors_total", "counter",
           "Failed rollout ticks.", os.errors);
    metric(&b, "rollgate_fleet_dirty", "gauge",
           "Endpoint records waiting for the next flush.", fs.dirty);
    metric(&b, "rollgate_fleet_flushes_total", "counter",
           "Fleet flush passes that wrote records.", fs.flushes);
    metric(&b, "rollgate_fleet_flushed_records_total", "counter",
           "Endpoint records written by flushes.", fs.flushed_records);
    metric(&b, "rollgate_fleet_flush_errors_total", "counter",
           "Failed fleet flush batches.", fs.flush_errors);
    rg_buf_printf(&b,
                  "# HELP rollgate_fleet_flush_seconds Duration of the "
                  "last writing flush.\n# TYPE rollgate_fleet_flush_seconds "
                  "gauge\nrollgate_fleet_flush_seconds %.3f\n",
                  (double)fs.last_flush_ms / 1000.0);
    rg_buf_printf(&b,
                  "# HELP rollgate_fleet_flush_seconds_max Longest writing "
                  "flush.\n# TYPE rollgate_fleet_flush_seconds_max gauge\n"
                  "rollgate_fleet_flush_seconds_max %.3f\n",
                  (double)fs.max_flush_ms / 1000.0);
    char *body = rg_buf_detach(&b);
    if (!body) {
        rg_resp_errorf(resp, RG_ENOMEM, "", "out of memory");
        goto cleanup;
    }
    resp->status = 200;
    resp->content_type = "text/plain; version=0.0.4";
    free(resp->body);
    resp->body = body;
    resp->len = strlen(body);
cleanup:
    rg_buf_release(&b);
}
