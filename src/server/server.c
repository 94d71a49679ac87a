/* server.c - see server.h: opening and closing rollgated's state. */
#include "server.h"

#include "common/log.h"
#include "server/url_sign.h"
#include "server/artifacts.h"
#include "server/datadir.h"
#include "server/desired.h"
#include "server/flag_rollout.h"
#include "server/fleet.h"
#include "server/guard.h"
#include "server/retention.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

void rg_server_config_defaults(rg_server_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->listen, sizeof cfg->listen, "127.0.0.1:7400");
    snprintf(cfg->access_log, sizeof cfg->access_log, "stderr");
    cfg->artifact_max = 256ull << 20;
    cfg->checkin_interval_s = 60;
    cfg->tick_ms = 1000;
    cfg->activation_cap_s = 600;
    cfg->flush_ms = 2000;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    cfg->threads = cores > 0 ? (unsigned)cores : 1;
    cfg->max_connections = 4096;
    cfg->conn_timeout_s = 30;
    cfg->max_per_address = 256;
    cfg->header_timeout_s = RG_HTTP_HEADER_TIMEOUT_S;
    cfg->min_body_rate = RG_HTTP_MIN_BODY_RATE;
    cfg->enroll_burst = 1000;
    cfg->enroll_per_min = 600;
    cfg->auth_fail_burst = 30;
    cfg->auth_fail_per_min = 30;
    cfg->rate_table = 16384;
    cfg->auth_audit_per_min = RG_GUARD_AUDIT_PER_MIN;
    cfg->event_burst = 256;
    cfg->events_per_min = 120;
    cfg->event_retention_s = RG_RETENTION_DEFAULT_S;
    cfg->stream_per_token = 8;
    cfg->stream_per_address = 32;
    cfg->log_level = RG_LOG_INFO;
}

int rg_server_db_path(const char *data_dir, char *out, size_t cap, rg_err *err)
{
    int n = snprintf(out, cap, "%s/rollgate.db", data_dir);
    if (n < 0 || (size_t)n >= cap)
        return rg_err_set(err, RG_EINVAL,
                          "data directory '%.64s...' is too long", data_dir);
    return 0;
}

int rg_server_store_url(const rg_server_config *cfg, char *out, size_t cap,
                        rg_err *err)
{
    if (!cfg->store[0])
        return rg_server_db_path(cfg->data_dir, out, cap, err);
    if (strlen(cfg->store) >= cap)
        return rg_err_set(err, RG_EINVAL, "--store: longer than %zu bytes",
                          cap - 1);
    memcpy(out, cfg->store, strlen(cfg->store) + 1);
    return 0;
}

int rg_server_open(rg_server *srv, rg_err *err)
{
    char db[sizeof srv->cfg.store + PATH_MAX];
    int rc = rg_server_store_url(&srv->cfg, db, sizeof db, err);
    if (rc != 0)
        return rc;
    rc = rg_datadir_lock_take(srv->cfg.data_dir, &srv->lock, err);
    if (rc == RG_ENOTFOUND) /* no directory: say to run init */
        return rg_datadir_check(srv->cfg.data_dir, err);
    if (rc != 0)
        return rc;
    /* A database elsewhere (--store) is checked by opening it. */
    if ((rc = srv->cfg.store[0]
                  ? 0
                  : rg_datadir_check(srv->cfg.data_dir, err)) == 0 &&
        ((rc = rg_store_open(db, &srv->store, err)) != 0 ||
         (rc = rg_store_tail_heads(srv->store, &srv->tail_from, err)) != 0 ||
         (rc = rg_artifacts_init(srv, err)) != 0 ||
         (srv->cfg.signed_url_window_s &&
          (rc = rg_url_key_load(srv->cfg.data_dir, srv->url_key, err)) != 0) ||
         (rc = rg_fleet_open(srv, &srv->fleet, err)) != 0 ||
         (rc = rg_desired_open(srv, &srv->desired, err)) != 0 ||
         (rc = rg_guard_new(&srv->cfg, &srv->guard, err)) != 0 ||
         (rc = rg_flagdoc_cache_new(&srv->flagdocs, err)) != 0 ||
         (rc = rg_flag_rollouts_new(&srv->flag_rollouts, err)) != 0))
        rg_datadir_explain(srv->cfg.data_dir, err); /* a full disk? */
    if (rc != 0) {
        rg_server_close(srv);
        return rc;
    }
    /* Writers first: a reload waits for the requests in progress only,
     * not for a stream of new ones. */
    pthread_rwlockattr_t a;
    pthread_rwlockattr_init(&a);
    pthread_rwlockattr_setkind_np(&a,
                                  PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&srv->cfg_lock, &a);
    pthread_rwlockattr_destroy(&a);
    srv->cfg_locking = true;
    return 0;
}

void rg_server_cfg_rdlock(rg_server *srv)
{
    if (srv->cfg_locking)
        pthread_rwlock_rdlock(&srv->cfg_lock);
}

void rg_server_cfg_unlock(rg_server *srv)
{
    if (srv->cfg_locking)
        pthread_rwlock_unlock(&srv->cfg_lock);
}

void rg_server_close(rg_server *srv)
{
    if (srv->guard && srv->store)
        rg_guard_flush(srv);
    rg_guard_free(srv->guard);
    srv->guard = NULL;
    rg_flagdoc_cache_free(srv->flagdocs);
    srv->flagdocs = NULL;
    rg_flag_rollouts_free(srv->flag_rollouts);
    srv->flag_rollouts = NULL;
    if (srv->fleet)
        rg_fleet_close(srv->fleet);
    srv->fleet = NULL;
    if (srv->desired)
        rg_desired_close(srv->desired);
    srv->desired = NULL;
    rg_store_close(srv->store);
    srv->store = NULL;
    rg_datadir_unlock(srv->lock);
    srv->lock = NULL;
    if (srv->cfg_locking)
        pthread_rwlock_destroy(&srv->cfg_lock);
    srv->cfg_locking = false;
}
