/*
 * cluster.h - several identical rollgated nodes on one PostgreSQL
 * (docs/scale.md, "Several nodes").
 *
 * Each node keeps a session of its own with the database
 * (store/session.h) and a thread that, every RG_CLUSTER_POLL_MS:
 *  - leads or follows: the node whose session holds the leader's advisory
 *    lock leads; only the leader moves rollouts (the orchestrator's
 *    transitions and stored evaluations), ticks flag rollouts, runs
 *    preflights, delivers webhooks and prunes (retention). Its session
 *    lost, it stops at once; another node takes the lock within a second
 *    of PostgreSQL ending the dead leader's session;
 *  - reloads what check-in answers are made of (desired state; on a
 *    follower the strata verdicts the leader stored) when the store
 *    announces a change (NOTIFY), and every RG_CLUSTER_RELOAD_MS anyway;
 *  - tails what the other nodes made durable (store.h, "tails") into its
 *    fleet table: endpoints enrolled elsewhere, every node's check-in
 *    times (flushed in batches), agent events and offers. Every node's
 *    canary therefore counts the whole fleet: followers measure each tick
 *    too (to admit endpoints within the published shares and budgets),
 *    the leader also decides.
 * On SQLite there is one node: it leads, nothing is tailed or announced.
 *
 * Thread-safety: every function may be called from any thread.
 */
#ifndef RG_CLUSTER_H
#define RG_CLUSTER_H

#include "common/buf.h"
#include "common/err.h"
#include "server/server.h"

#include <jansson.h>
#include <stdbool.h>

#define RG_CLUSTER_POLL_MS 200     /* wait for announcements, then tail */
#define RG_CLUSTER_RELOAD_MS 5000  /* reload even without announcement */
#define RG_CLUSTER_TAIL_BATCH 5000 /* rows per tail query */
#define RG_CLUSTER_CATCH_UP_MS                                                 \
    50 /* tails at most this often: unknown                                    \
          tokens cannot flood the database */

/* Starts srv's cluster membership as node node_id (srv->cluster): opens
 * the session, starts the tails at srv->tail_from (read before the fleet
 * was loaded: rows written meanwhile are read again, which is harmless),
 * makes every check-in time flushed (fleet.h, rg_fleet_seen_period) and
 * starts the thread. On SQLite: srv->cluster
 * stays NULL (always leading). Returns 0 or the error. */
int rg_cluster_start(rg_server *srv, const char *node_id, rg_err *err);

/* Stops the thread and closes the session (the lock goes with it). A
 * no-op when not started. */
void rg_cluster_stop(rg_server *srv);

/* Whether this node leads: always on SQLite. */
bool rg_cluster_leads(const rg_server *srv);

/* Reads what other nodes wrote since the last tail into the fleet table
 * now (a check-in from an endpoint enrolled through another node a
 * moment ago); unless force, not when a tail started less than
 * RG_CLUSTER_CATCH_UP_MS ago. Returns 0 or the store's error. */
int rg_cluster_catch_up(rg_server *srv, bool force, rg_err *err);

/* {"node", "leader" (bool), "leader_node" ("" none known), "store"
 * ("sqlite", "postgres"), "session" (connected), "tailed": {"endpoints",
 * "events", "offers"}, "reloads", "announcements"}: a new reference or
 * NULL on allocation failure. */
json_t *rg_cluster_json(rg_server *srv);

/* Appends the cluster's /metrics lines to out. Returns 0 or RG_ENOMEM. */
int rg_cluster_metrics(rg_server *srv, rg_buf *out);

#endif
