/*
 * server.h - rollgated's shared context and the seams between its parts.
 *
 *   http.c        adapter over libmicrohttpd (the only MHD user)
 *   router.c      method + path -> handler, role required
 *   auth.c        bearer tokens -> caller and role; audit records
 *   artifacts.c   content-addressed files under DATA/artifacts
 *   api_*.c       admin handlers (channels, releases, rollouts, tokens...)
 *   fleet*.c      in-memory endpoint table (fixed-size records, O(1) lookup;
 *                 fleet.h the interface, fleet_table.h the layout)
 *   desired.c     per-channel desired state (current release, active rollout)
 *   agent_api.c   enroll, check-in, artifact download for agents
 *   orchestrator.c  the tick: state machine over every active rollout
 *   preflight_worker.c  runs new releases through their channel's engine
 *   options.c     the settings: defaults, --config file, flags
 *   reload.c      SIGHUP: a changed configuration applied while serving
 *   webhooks.c    delivers rollout events from the store's outbox
 *
 * One rg_server lives for the process; it owns everything it points to.
 */
#ifndef RG_SERVER_H
#define RG_SERVER_H

#include "common/clock.h"
#include "server/flagdoc.h"
#include "server/http.h"
#include "store/store.h"

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct rg_fleet rg_fleet;
typedef struct rg_desired rg_desired;
typedef struct rg_flag_rollouts rg_flag_rollouts;
typedef struct rg_access_log rg_access_log;
typedef struct rg_preflight_worker rg_preflight_worker;
typedef struct rg_deltas rg_deltas;
typedef struct rg_guard rg_guard;
typedef struct rg_datadir_lock rg_datadir_lock;
typedef struct rg_stream rg_stream;
typedef struct rg_cluster rg_cluster;

typedef struct rg_server_config {
    char data_dir[PATH_MAX]; /* --data; holds rollgate.db, artifacts/ */
    char store[1024];        /* --store URL: the database elsewhere,
                                postgres://... (docs/store.md); "":
                                DATA/rollgate.db (SQLite) */
    char listen[128];        /* --listen HOST:PORT, default 127.0.0.1:7400 */
    char node_id[128];       /* --node-id: this node among several on one
                                database (cluster.h); "": hostname:port */
    uint64_t artifact_max;   /* --artifact-max bytes, default 256 MiB */
    unsigned signed_url_window_s; /* --signed-url-window: offer artifact
                                     URLs that need no token, valid one to
                                     two windows (url_sign.h); 0 (default):
                                     token URLs */
    int checkin_interval_s;       /* interval handed to agents, default 60 */
    int tick_ms;                  /* orchestrator period, default 1000 */
    int activation_cap_s;         /* largest learned activation allowance
                                     (health/silence.h), default 600 */
    int flush_ms;                 /* fleet persistence period, default 2000 */
    unsigned threads;             /* HTTP threads, default: cores */
    unsigned max_connections;     /* default 4096 */
    unsigned conn_timeout_s;      /* idle connection timeout, default 30 */
    unsigned max_per_address;     /* connections per client address,
                                     default 256; 0: no limit */
    unsigned header_timeout_s;    /* request header deadline, default 10 */
    uint64_t min_body_rate;       /* bytes/s a body keeps, default 16384 */
    char tls_cert[PATH_MAX];      /* --tls-cert PEM file, "" for plain HTTP */
    char tls_key[PATH_MAX];       /* --tls-key PEM file */
    char engine_dir[PATH_MAX];    /* --engine-dir: where preflight engine
                                     names are found (absolute), "": $PATH */
    unsigned stream_per_token;    /* --stream-per-token: open push streams
                                     per admin token, default 8 (stream.h) */
    unsigned stream_per_address;  /* --stream-per-address: per client
                                     address, default 32 */
    char web_dir[PATH_MAX];       /* --web-dir: the dashboard's files (web.h);
                                     "": none found, / answers 404 */
    char access_log[PATH_MAX];    /* --access-log: off, stderr (default) or a
                                     file (access_log.h) */
    /* Rate limits per source address (guard.h); a burst of 0 disables. */
    unsigned enroll_burst;       /* --enroll-burst, default 1000 */
    unsigned enroll_per_min;     /* --enroll-per-min, default 600 */
    unsigned auth_fail_burst;    /* --auth-fail-burst, default 30 */
    unsigned auth_fail_per_min;  /* --auth-fail-per-min, default 30 */
    unsigned rate_table;         /* --rate-table: addresses tracked per
                                    limiter, default 16384 */
    unsigned auth_audit_per_min; /* --auth-audit-per-min: failed
                                    authentications audited one by one per
                                    address and minute, default 10 */
    unsigned event_burst;        /* --event-burst: agent events per endpoint
                                    in a burst, default 256; 0: no limit */
    unsigned events_per_min;     /* --events-per-min: after the burst,
                                    default 120 */
    unsigned event_retention_s;  /* --event-retention: seconds events of
                                    releases without an active rollout are
                                    kept, default 90 days; 0: forever */
    int log_level;               /* --log-level (common/log.h), default info */
} rg_server_config;

typedef struct rg_server {
    rg_server_config cfg;
    const rg_clock *clock; /* injected; the system clock in rollgated */
    rg_store *store;
    rg_fleet *fleet;
    rg_desired *desired;
    rg_preflight_worker *preflight; /* NULL unless started
                                       (preflight_worker.h) */
    rg_deltas *deltas;              /* NULL unless started (deltas.h) */
    rg_guard *guard;                /* rate limits, failed-auth audit (guard.h);
                                       NULL: none */
    rg_datadir_lock *lock;          /* DATA/lock, held while open (datadir.h) */
    rg_access_log *access;          /* NULL: no access log (access_log.h;
                                       rollgated's main opens it) */
    rg_stream *stream;              /* the dashboard's push stream
                                       (stream.h; rollgated's main opens
                                       it); NULL: none */
    rg_flagdoc_cache *flagdocs;     /* flag documents by stamp (flagdoc.h);
                                       NULL: none (built per request) */
    rg_flag_rollouts *flag_rollouts; /* guarded flag rollouts
                                        (flag_rollout.h); NULL: none
                                        tick or count */
    pthread_rwlock_t cfg_lock;       /* a reload writes cfg under it (reload.h);
                                        set up by rg_server_open */
    bool cfg_locking;                /* cfg_lock is set up */
    uint8_t url_key[32];             /* DATA/url.key (url_sign.h), loaded
                                        when cfg.signed_url_window_s > 0 */
    rg_cluster *cluster;             /* several nodes (cluster.h); NULL: one
                                        node (SQLite), always leading */
    char node_id[128];               /* cfg.node_id or hostname:port */
    rg_tail_heads tail_from;         /* the store's tail numbers before the
                                        fleet was loaded: where this node's
                                        tails start (cluster.h) */
} rg_server;

/* A route handler: reads req, fills resp. Errors go into resp with
 * rg_resp_error; handlers never fail silently. */
typedef void (*rg_handler)(rg_server *srv, rg_req *req, rg_resp *resp);

/* Tells the check-in path that channels, releases or rollouts changed in
 * the store (reloads the desired-state cache). Call after every committed
 * change to a rollout's status, a new rollout, or a channel's current
 * release. Returns 0 or the store's error. */
int rg_server_state_changed(rg_server *srv, rg_err *err);

/* Holds srv->cfg for reading against a reload (reload.h) until
 * rg_server_cfg_unlock. Take it only while holding no other lock (the
 * router around each request's begin and handling, the orchestrator around
 * a tick, the flush thread around retention, the preflight worker around
 * its engine's lookup); it does nothing on a server that rg_server_open did
 * not open (unit tests). */
void rg_server_cfg_rdlock(rg_server *srv);
void rg_server_cfg_unlock(rg_server *srv);

/* --- lifecycle (server.c) ---------------------------------------------- */

/* Fills cfg with the defaults above (data_dir "", listen 127.0.0.1:7400,
 * threads = online cores). */
void rg_server_config_defaults(rg_server_config *cfg);

/* Path of the SQLite database inside the data directory
 * (DATA/rollgate.db) into out. Returns 0 or RG_EINVAL when too long. */
int rg_server_db_path(const char *data_dir, char *out, size_t cap, rg_err *err);

/* The store URL cfg serves from into out: cfg->store when set, else the
 * SQLite database in the data directory. 0 or RG_EINVAL when too long. */
int rg_server_store_url(const rg_server_config *cfg, char *out, size_t cap,
                        rg_err *err);

/* Opens srv's state for serving: takes the data directory's lock
 * (RG_ECONFLICT when another process holds it), checks that its database
 * was not lost (rg_datadir_check), opens the store (which must exist:
 * rollgated init creates it), the artifacts directory (unfinished uploads
 * of a crash removed), the fleet table (loaded from
 * the store), the desired-state cache and the guard. srv->cfg and srv->clock
 * must be set. Does not start threads or listen. On failure everything opened
 * is closed again. Returns 0 or the first error. */
int rg_server_open(rg_server *srv, rg_err *err);

/* Closes what rg_server_open opened, in reverse order: the guard (its
 * pending failed-auth summaries written), the fleet (which flushes its
 * dirty records), the desired cache, the store. Stop the HTTP
 * daemon and the orchestrator first. Safe on a partly opened server. */
void rg_server_close(rg_server *srv);

#endif
