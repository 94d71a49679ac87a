/*
 * server.h - rollgated's shared context and the seams between its parts.
 *
 *   http.c        adapter over libmicrohttpd (the only MHD user)
 *   router.c      method + path -> handler, role required
 *   auth.c        bearer tokens -> caller and role; audit records
 *   artifacts.c   content-addressed files under DATA/artifacts
 *   api_*.c       admin handlers (channels, releases, rollouts, tokens...)
 *   fleet.c       in-memory endpoint table (fixed-size records, O(1) lookup)
 *   desired.c     per-channel desired state (current release, active rollout)
 *   agent_api.c   enroll, check-in, artifact download for agents
 *   orchestrator.c  the tick: state machine over every active rollout
 *
 * One rg_server lives for the process; it owns everything it points to.
 */
#ifndef RG_SERVER_H
#define RG_SERVER_H

#include "common/clock.h"
#include "server/http.h"
#include "store/store.h"

#include <limits.h>
#include <stdint.h>

typedef struct rg_fleet rg_fleet;
typedef struct rg_desired rg_desired;

typedef struct rg_server_config {
    char data_dir[PATH_MAX];     /* --data; holds rollgate.db, artifacts/ */
    char listen[128];            /* --listen HOST:PORT, default 127.0.0.1:7400 */
    uint64_t artifact_max;       /* --artifact-max bytes, default 256 MiB */
    int checkin_interval_s;      /* interval handed to agents, default 60 */
    int tick_ms;                 /* orchestrator period, default 1000 */
    int flush_ms;                /* fleet persistence period, default 2000 */
    unsigned threads;            /* HTTP threads, default: cores */
    unsigned max_connections;    /* default 4096 */
    unsigned conn_timeout_s;     /* idle connection timeout, default 30 */
} rg_server_config;

typedef struct rg_server {
    rg_server_config cfg;
    const rg_clock *clock;       /* injected; the system clock in rollgated */
    rg_store *store;
    rg_fleet *fleet;
    rg_desired *desired;
} rg_server;

/* A route handler: reads req, fills resp. Errors go into resp with
 * rg_resp_error; handlers never fail silently. */
typedef void (*rg_handler)(rg_server *srv, rg_req *req, rg_resp *resp);

/* Tells the check-in path that channels, releases or rollouts changed in
 * the store (reloads the desired-state cache). Call after every committed
 * change to a rollout's status, a new rollout, or a channel's current
 * release. Returns 0 or the store's error. */
int rg_server_state_changed(rg_server *srv, rg_err *err);

#endif
