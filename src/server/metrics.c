/* metrics.c - GET /metrics (declared in agent_api.h): Prometheus text
 * exposition of the fleet, agent, orchestrator and rollout counters. */
#include "agent_api.h"

#include "common/buf.h"
#include "model/rollout.h"
#include "server/cluster.h"
#include "server/deltas.h"
#include "server/access_log.h"
#include "server/canary.h"
#include "server/desired.h"
#include "server/fleet.h"
#include "server/http_metrics.h"
#include "server/orchestrator.h"
#include "server/retention.h"
#include "server/webhooks.h"

#include <stdlib.h>
#include <string.h>

#define METRICS_MAX (1024 * 1024)
#define N_STATES RG_RO_N_STATES

static int count_state(void *ctx, const rg_rollout_rec *r)
{
    uint64_t *by_state = ctx;
    if (r->status.state >= 0 && r->status.state < N_STATES)
        by_state[r->status.state]++;
    return 0;
}

/* What one pass of the per-rollout gauges writes. */
typedef struct gauges {
    rg_server *srv;
    rg_buf *b;
    int which; /* 0: state, 1: wave, 2: endpoints */
} gauges;

/* One active rollout's sample(s) of the pass's gauge: its state, its
 * wave, or its summary at the gate's latest measure (canary.h; none before
 * its first): the counts GET /v1/rollouts shows. */
static int rollout_gauge(void *ctx, const rg_rollout_rec *r)
{
    gauges *g = ctx;
    long long id = (long long)r->id;
    if (g->which == 0)
        rg_buf_printf(g->b,
                      "rollgate_rollout_state{rollout=\"%lld\",channel="
                      "\"%s\",state=\"%s\"} 1\n",
                      id, r->channel, rg_rollout_state_name(r->status.state));
    if (g->which == 1)
        rg_buf_printf(g->b,
                      "rollgate_rollout_wave{rollout=\"%lld\",channel=\"%s\"} "
                      "%d\n",
                      id, r->channel, r->status.wave);
    rg_ep_summary s;
    if (g->which != 2 ||
        !rg_canary_summary(rg_desired_canary(g->srv->desired), r->id, &s))
        return 0;
    const uint64_t *n = s.by_state.n;
    const struct {
        const char *name;
        uint64_t v;
    } kinds[] = {{"targeted", s.targeted},
                 {"exposed", rg_ep_tally_exposed(&s.by_state)},
                 {"pending", n[RG_EP_PENDING]},
                 {"healthy", n[RG_EP_HEALTHY]},
                 {"silent", n[RG_EP_SILENT]},
                 {"failed", n[RG_EP_FAILED]}};
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        rg_buf_printf(g->b,
                      "rollgate_rollout_endpoints{rollout=\"%lld\",channel="
                      "\"%s\",count=\"%s\"} %llu\n",
                      id, r->channel, kinds[i].name,
                      (unsigned long long)kinds[i].v);
    return 0;
}

/* The per-rollout gauges of the active rollouts (docs/api.md), each
 * metric's samples together. */
static int rollouts_gauges(rg_server *srv, rg_buf *b, rg_err *err)
{
    static const char *const heads[] = {
        "# HELP rollgate_rollout_state An active rollout's state (1 on its "
        "state's series).\n# TYPE rollgate_rollout_state gauge\n",
        "# HELP rollgate_rollout_wave An active rollout's current wave (0 "
        "first).\n# TYPE rollgate_rollout_wave gauge\n",
        "# HELP rollgate_rollout_endpoints An active rollout's endpoints by "
        "state, as the health gate last judged them (GET /v1/rollouts).\n"
        "# TYPE rollgate_rollout_endpoints gauge\n"};
    for (int k = 0; k < 3; k++) {
        gauges g = {srv, b, k};
        rg_buf_adds(b, heads[k]);
        if (rg_store_rollout_list(srv->store, true, rollout_gauge, &g, err) < 0)
            return -1;
    }
    return 0;
}

static void metric(rg_buf *b, const char *name, const char *type,
                   const char *help, uint64_t v)
{
    rg_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name,
                  type, name, (unsigned long long)v);
}

/* The store's group commit (store.h): transactions, the writes in them
 * (a check-in's events or offers each), failures, the largest batch. */
static void group_metrics(rg_buf *b, rg_store *store)
{
    rg_store_group_stats g;
    rg_store_group_stats_get(store, &g);
    metric(b, "rollgate_store_group_commits_total", "counter",
           "Group commits: transactions of check-in writes.", g.commits);
    metric(b, "rollgate_store_group_writes_total", "counter",
           "Check-in writes (events, offers) made durable by group commits.",
           g.writes);
    metric(b, "rollgate_store_group_failed_total", "counter",
           "Check-in writes failed with their transaction (answered 5xx).",
           g.failed);
    metric(b, "rollgate_store_group_max_batch", "gauge",
           "Most check-in writes in one group commit so far.", g.max_batch);
    metric(b, "rollgate_store_group_queued", "gauge",
           "Check-in writes waiting for the next group commit now.", g.queued);
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
    group_metrics(&b, srv->store);
    rg_cluster_metrics(srv, &b);
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
    uint64_t deltas_made = 0, delta_failures = 0;
    rg_deltas_stats(srv, &deltas_made, &delta_failures);
    metric(&b, "rollgate_deltas_made_total", "counter",
           "Release deltas made since start (docs/caching.md).", deltas_made);
    metric(&b, "rollgate_delta_failures_total", "counter",
           "Releases whose deltas could not be made.", delta_failures);
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
    metric(&b, "rollgate_fleet_page_scans_total", "counter",
           "Passes over the fleet table listing endpoints (GET /v1/endpoints).",
           fs.page_scans);
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
    metric(&b, "rollgate_access_log_errors_total", "counter",
           "Access log lines that could not be written.",
           rg_access_log_errors(srv->access));
    rg_webhooks_stats ws;
    rg_webhooks_stats_get(&ws);
    rg_buf_printf(&b,
                  "# HELP rollgate_webhook_attempts_total Webhook delivery "
                  "attempts, by what they left the delivery as.\n"
                  "# TYPE rollgate_webhook_attempts_total counter\n"
                  "rollgate_webhook_attempts_total{result=\"delivered\"} %llu\n"
                  "rollgate_webhook_attempts_total{result=\"retry\"} %llu\n"
                  "rollgate_webhook_attempts_total{result=\"failed\"} %llu\n",
                  (unsigned long long)ws.delivered,
                  (unsigned long long)ws.retry, (unsigned long long)ws.failed);
    rg_http_metrics_render(&b);
    if (rollouts_gauges(srv, &b, &err) < 0) {
        rg_resp_error(resp, &err);
        goto cleanup;
    }
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
