/* main.c - rollgated: `rollgated init --data DIR` creates a data directory
 * with its database and first admin token; `rollgated --data DIR --listen
 * HOST:PORT ...` serves it until SIGTERM or SIGINT. */
#include "common/buf.h"
#include "common/file.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/log.h"
#include "common/sdnotify.h"
#include "server/access_log.h"
#include "server/admin_token.h"
#include "server/artifacts.h"
#include "server/auth.h"
#include "server/cluster.h"
#include "server/datadir.h"
#include "server/http.h"
#include "server/options.h"
#include "server/orchestrator.h"
#include "server/deltas.h"
#include "server/preflight_worker.h"
#include "server/reload.h"
#include "server/webhooks.h"
#include "server/router.h"
#include "server/stream.h"
#include "server/web.h"
#include "server/server.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage[] =
    "usage: rollgated init --data DIR (or --config FILE)\n"
    "       rollgated admin-token --data DIR [--name NAME] [--store URL]\n"
    "       rollgated --data DIR [--listen HOST:PORT] [options]\n"
    "       rollgated --config FILE [options] [--print-config]\n"
    "\n"
    "  init                 create DIR (mode 0700), its database and an admin\n"
    "                       token named \"admin\", printed alone on the last "
    "line\n"
    "  admin-token          offline recovery: add a non-expiring admin token\n"
    "                       to DIR while no rollgated serves it (--help)\n"
    "  --config FILE        read the options below from FILE too, one\n"
    "                       `name = value` a line (name: the option without\n"
    "                       --, '_' for '-'); flags win over the file. SIGHUP\n"
    "                       reads it again and applies what can change live\n"
    "                       (docs/operations.md, \"Configuration file\")\n"
    "  --print-config       print the effective configuration, where each\n"
    "                       value came from and whether it is live; exit\n"
    "  --data DIR           data directory (database, artifacts); required\n"
    "  --store URL          keep the database in PostgreSQL instead of DIR:\n"
    "                       postgres://USER@HOST/DB (docs/store.md)\n"
    "  --listen HOST:PORT   address to serve on (default 127.0.0.1:7400)\n"
    "  --node-id ID         this node's name among several on one --store\n"
    "                       database (default HOSTNAME:PORT; docs/scale.md)\n"
    "  --artifact-max BYTES largest artifact upload (default 268435456)\n"
    "  --signed-url-window S offer artifacts at signed URLs, valid S to 2S\n"
    "                       seconds, that HTTP caches can serve (default 0:\n"
    "                       token URLs; docs/caching.md)\n"
    "  --threads N          HTTP worker threads (default: online cores)\n"
    "  --interval S         check-in interval handed to agents (default 60)\n"
    "  --tick-ms MS         orchestrator tick period (default 1000)\n"
    "  --activation-cap S   longest activation time the health gate learns\n"
    "                       for a release that declares none (default 600)\n"
    "  --flush-ms MS        fleet persistence period (default 2000)\n"
    "  --max-connections N  concurrent connections (default 4096)\n"
    "  --timeout S          idle connection timeout (default 30)\n"
    "  --max-per-address N  concurrent connections from one client address\n"
    "                       (default 256; 0: no limit)\n"
    "  --header-timeout S   each request's headers must arrive within S of\n"
    "                       the connection opening or the previous answer;\n"
    "                       its body then gets S more (default 10)\n"
    "  --min-body-rate B    ... plus one second per B bytes (default 16384)\n"
    "  --tls-cert FILE      serve HTTPS with this PEM certificate (chain)\n"
    "  --tls-key FILE       ... and this PEM private key (docs/tls.md)\n"
    "  --web-dir DIR        the dashboard's files, served at / (default: web/\n"
    "                       beside rollgated, else ../share/rollgate/web;\n"
    "                       docs/dashboard.md)\n"
    "  --stream-per-token N   open dashboard push streams per token "
    "(default 8)\n"
    "  --stream-per-address N ... per client address (default 32)\n"
    "  --engine-dir DIR     preflight engines named without a path are found\n"
    "                       in DIR only (default: in rollgated's PATH)\n"
    "  --enroll-burst N     enrollments per address in a burst (default 1000;\n"
    "                       0: no limit)\n"
    "  --enroll-per-min N   enrollments per address and minute after the "
    "burst\n"
    "                       (default 600)\n"
    "  --auth-fail-burst N  failed authentications per address in a burst\n"
    "                       before 429 (default 30; 0: no limit)\n"
    "  --auth-fail-per-min N  failed authentications per address and minute\n"
    "                       after the burst (default 30)\n"
    "  --auth-audit-per-min N  failed authentications audited one by one per\n"
    "                       address and minute, the rest summarised (default "
    "10)\n"
    "  --event-burst N      agent events per endpoint in a burst before 429\n"
    "                       (default 256; 0: no limit)\n"
    "  --events-per-min N   agent events per endpoint and minute after the\n"
    "                       burst (default 120)\n"
    "  --event-retention S  seconds agent events of releases without an "
    "active\n"
    "                       rollout are kept (default 7776000: 90 days; 0:\n"
    "                       forever)\n"
    "  --rate-table N       addresses (endpoints) each limiter tracks "
    "(default\n"
    "                       16384)\n"
    "  --log-level L        debug, info, warn or error (default info)\n"
    "  --access-log W       a line per request to W: off, stderr (default) or\n"
    "                       a file, appended to (docs/operations.md)\n"
    "  --version            print the version\n"
    "  --help               print this help\n";

/* mkdir -p with mode for the last component and its missing parents. */
static int make_dirs(const char *path, rg_err *err)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s", path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST)
            return rg_err_set(err, RG_EIO, "cannot create '%s': %s", p,
                              strerror(errno));
        *s = '/';
    }
    if (mkdir(p, 0700) != 0 && errno != EEXIST)
        return rg_err_set(err, RG_EIO, "cannot create '%s': %s", p,
                          strerror(errno));
    return 0;
}

static int stop_at_token(void *ctx, const rg_token_rec *t)
{
    (void)ctx;
    (void)t;
    return 1;
}

/* RG_ECONFLICT when the store at url (open as s) was initialised before:
 * an SQLite file that exists already, a database elsewhere that holds
 * admin tokens. */
static int store_fresh(const rg_server_config *cfg, const char *url,
                       rg_store *s, rg_err *err)
{
    if (!s && !cfg->store[0] && access(url, F_OK) == 0)
        return rg_err_set(err, RG_ECONFLICT,
                          "'%s' already has a database; refusing to init it "
                          "again",
                          cfg->data_dir);
    if (s && cfg->store[0] && rg_store_token_list(s, stop_at_token, NULL, err))
        return rg_err_set(err, RG_ECONFLICT,
                          "the --store database has admin tokens already; "
                          "refusing to init it again");
    return 0;
}

/* rollgated init: data directory, database, first admin token. */
static int cmd_init(const rg_server_config *cfg)
{
    char db[sizeof cfg->store + PATH_MAX], secret[RG_HASH_HEX];
    rg_server dir = {.cfg = *cfg}; /* for the artifacts directory */
    rg_datadir_lock *lock = NULL;
    rg_store *store = NULL;
    rg_err err;
    int status = 1;
    rg_err_clear(&err);
    if (rg_server_store_url(cfg, db, sizeof db, &err) != 0)
        goto cleanup;
    if (make_dirs(cfg->data_dir, &err) != 0)
        goto cleanup;
    if (rg_datadir_lock_take(cfg->data_dir, &lock, &err) != 0)
        goto cleanup;
    if (store_fresh(cfg, db, NULL, &err) != 0)
        goto cleanup;
    if (rg_store_open(db, &store, &err) != 0 ||
        store_fresh(cfg, db, store, &err) != 0 ||
        rg_artifacts_init(&dir, &err) != 0) {
        rg_datadir_explain(cfg->data_dir, &err);
        goto cleanup;
    }
    printf("created data directory %s\n", cfg->data_dir);
    if (cfg->store[0]) /* the URL may hold a password: not printed */
        printf("initialised the --store database (schema version %d)\n",
               rg_store_schema_version(store));
    else
        printf("created database %s (schema version %d)\n", db,
               rg_store_schema_version(store));
    if (rg_admin_token_issue(store, "admin", "rollgated init", secret, &err) !=
        0) {
        rg_datadir_explain(cfg->data_dir, &err);
        goto cleanup;
    }
    printf("created admin token \"admin\" (shown once; keep it secret):\n");
    printf("%s\n", secret);
    fflush(stdout);
    status = 0;
cleanup:
    rg_store_close(store);
    rg_datadir_unlock(lock);
    if (status != 0)
        fprintf(stderr, "rollgated: init: %s\n", err.msg);
    return status;
}

/* Reads a PEM file of at most 1 MiB into *out (malloc'd, NUL-terminated,
 * the caller frees). Returns 0 or RG_EIO / RG_ETOOBIG. */
static int read_pem(const char *path, char **out, rg_err *err)
{
    rg_buf b;
    rg_err why;
    rg_buf_init(&b, 1u << 20);
    int rc = rg_file_read(path, &b, &why);
    if (rc == RG_ENOTFOUND)
        rc = rg_err_set(err, RG_EIO, "cannot read '%s': %s", path,
                        strerror(ENOENT));
    else if (rc == RG_EIO)
        rc = rg_err_set(err, RG_EIO, "cannot read %s", why.msg);
    else if (rc < 0)
        rc = rg_err_set(err, RG_ETOOBIG, "'%s' is over 1 MiB", path);
    else if (b.len == 0)
        rc = rg_err_set(err, RG_EIO, "cannot read '%s': empty file", path);
    if (rc == 0)
        *out = b.data; /* rg_buf keeps its data NUL-terminated */
    else
        rg_buf_release(&b);
    return rc;
}

/* This node's id: --node-id, else HOSTNAME:PORT of --listen (PORT 0, a
 * port chosen at start: HOSTNAME:pPID). */
static void node_name(const rg_server_config *cfg, char *out, size_t cap)
{
    char host[64] = "localhost";
    const char *port = strrchr(cfg->listen, ':');
    port = port ? port + 1 : "0";
    gethostname(host, sizeof host - 1);
    if (cfg->node_id[0])
        snprintf(out, cap, "%s", cfg->node_id);
    else if (strcmp(port, "0") == 0)
        snprintf(out, cap, "%.63s:p%ld", host, (long)getpid());
    else
        snprintf(out, cap, "%.63s:%.16s", host, port);
}

static int serve(rg_server_options *settings)
{
    const rg_server_config *cfg = &settings->cfg;
    rg_server srv = {.cfg = *cfg, .clock = rg_clock_system()};
    rg_http *http = NULL;
    rg_http_app app;
    rg_err err;
    char *cert = NULL, *key = NULL;
    sigset_t stop;
    int sig = 0, status = 1;
    bool orchestrating = false;
    rg_err_clear(&err);

    /* Block the stop and reload signals before any thread starts: every
     * thread inherits the mask and only sigwait below receives them. */
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (cfg->tls_cert[0] && (read_pem(cfg->tls_cert, &cert, &err) != 0 ||
                             read_pem(cfg->tls_key, &key, &err) != 0))
        goto cleanup;
    if (rg_access_log_open(cfg->access_log, &srv.access, &err) != 0 ||
        rg_server_open(&srv, &err) != 0)
        goto cleanup;
    node_name(cfg, srv.node_id, sizeof srv.node_id);
    if (rg_cluster_start(&srv, srv.node_id, &err) != 0)
        goto cleanup;
    if (rg_orchestrator_start(&srv, &err) != 0)
        goto cleanup;
    orchestrating = true;
    if (rg_preflight_worker_start(&srv, &err) != 0 ||
        rg_deltas_start(&srv, &err) != 0 || rg_webhooks_start(&srv, &err) != 0)
        goto cleanup;
    if (!srv.cfg.web_dir[0] &&
        rg_web_default_dir(srv.cfg.web_dir, sizeof srv.cfg.web_dir) != 0)
        rg_warn("no dashboard files beside rollgated: / answers 404 "
                "(--web-dir DIR names them)");
    if (rg_stream_open(&srv.stream, &err) != 0)
        goto cleanup;
    rg_router_app(&srv, &app);
    rg_http_opts opts = {.listen = cfg->listen,
                         .tls_cert_pem = cert,
                         .tls_key_pem = key,
                         .threads = cfg->threads,
                         .max_connections = cfg->max_connections,
                         .conn_timeout_s = cfg->conn_timeout_s,
                         .max_per_address = cfg->max_per_address,
                         .header_timeout_s = cfg->header_timeout_s,
                         .min_body_rate = cfg->min_body_rate};
    if (rg_http_start(&opts, &app, &http, &err) != 0)
        goto cleanup;
    rg_info("listening on %s (port %u, %s, %u threads, data %s)", cfg->listen,
            rg_http_port(http), cert ? "https" : "http", cfg->threads,
            cfg->data_dir);
    /* Store migrated, caches loaded, socket bound: systemd may start
     * what depends on us (docs/operations.md, "systemd"). */
    char serving[2 * PATH_MAX];
    snprintf(serving, sizeof serving, "serving %s on %s (port %u), data %s",
             cert ? "https" : "http", cfg->listen, rg_http_port(http),
             cfg->data_dir);
    rg_sd_ready("%s", serving);
    while (sigwait(&stop, &sig) != 0 || sig == SIGHUP) {
        /* SIGHUP: the configuration again (reload.h), here in the main
         * thread, not in a signal handler. */
        if (sig == SIGHUP) {
            rg_sd_reloading("reloading the configuration");
            if (rg_reload(&srv, settings, &err) != 0)
                rg_err_clear(&err);
            rg_sd_ready("%s", serving);
        }
        sig = 0;
    }
    rg_info("signal %d: shutting down", sig);
    rg_sd_stopping("signal %d: shutting down", sig);
    status = 0;
cleanup:
    if (status != 0)
        rg_error("%s", err.msg);
    rg_stream_stop(srv.stream); /* no parked connection when it stops */
    rg_http_stop(http);
    rg_webhooks_stop(&srv);
    rg_deltas_stop(&srv);
    rg_preflight_worker_stop(&srv);
    if (orchestrating)
        rg_orchestrator_stop(&srv);
    rg_cluster_stop(&srv);
    /* Last: the request handlers and the orchestrator publish to it. */
    rg_stream_free(srv.stream);
    rg_server_close(&srv);
    rg_access_log_close(srv.access);
    if (key)
        sodium_memzero(key, strlen(key));
    free(key);
    free(cert);
    if (status == 0)
        rg_info("stopped");
    return status;
}

/* Prints --help or --version when argv[first..argc) asks for it.
 * Returns true when it did. */
static bool help_asked(int argc, char **argv, int first)
{
    for (int i = first; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage, stdout);
            return true;
        }
        if (strcmp(argv[i], "--version") == 0) {
            printf("rollgated %s\n", RG_VERSION);
            return true;
        }
    }
    return false;
}

int main(int argc, char **argv)
{
    static rg_server_options opts; /* large: not on the stack */
    rg_err err;
    rg_err_clear(&err);
    /* Fixed malloc thresholds: glibc otherwise raises them after each large
     * free, so scratch of O(fleet) size (the orchestrator's per-tick scan,
     * flush batches) ends up in thread heaps and stays resident after it
     * is freed (bench/checkin/README.md: RSS per endpoint). With them
     * fixed, blocks from 256 KiB are mapped and unmapped, and heaps give
     * back free tops above 1 MiB. */
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
    mallopt(M_TRIM_THRESHOLD, 1024 * 1024);
    if (argc > 1 && strcmp(argv[1], "admin-token") == 0)
        return rg_admin_token_main(argc - 1, argv + 1);
    bool init = argc > 1 && strcmp(argv[1], "init") == 0;
    int first = init ? 2 : 1;
    if (help_asked(argc, argv, first))
        return 0;
    if (rg_options_load(&opts, argc - first, argv + first, &err) != 0) {
        fprintf(stderr, "rollgated: %s\n", err.msg);
        return 2;
    }
    if (opts.print) {
        rg_options_print(&opts, stdout);
        return 0;
    }
    if (!opts.cfg.data_dir[0]) {
        fprintf(stderr, "rollgated: --data DIR (or data = DIR in the "
                        "--config file) is required (see --help)\n");
        return 2;
    }
    rg_log_init("rollgated", (rg_log_level)opts.cfg.log_level);
    if (rg_crypto_init() != 0) {
        fprintf(stderr, "rollgated: cannot initialise libsodium\n");
        return 1;
    }
    return init ? cmd_init(&opts.cfg) : serve(&opts);
}
