/* main.c - rollgated: `rollgated init --data DIR` creates a data directory
 * with its database and first admin token; `rollgated --data DIR --listen
 * HOST:PORT ...` serves it until SIGTERM or SIGINT. */
#include "common/buf.h"
#include "common/file.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/log.h"
#include "server/access_log.h"
#include "server/admin_token.h"
#include "server/artifacts.h"
#include "server/auth.h"
#include "server/datadir.h"
#include "server/http.h"
#include "server/orchestrator.h"
#include "server/preflight_worker.h"
#include "server/webhooks.h"
#include "server/router.h"
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
    "usage: rollgated init --data DIR\n"
    "       rollgated admin-token --data DIR [--name NAME]\n"
    "       rollgated --data DIR [--listen HOST:PORT] [options]\n"
    "\n"
    "  init                 create DIR (mode 0700), its database and an admin\n"
    "                       token named \"admin\", printed alone on the last "
    "line\n"
    "  admin-token          offline recovery: add a non-expiring admin token\n"
    "                       to DIR while no rollgated serves it (--help)\n"
    "  --data DIR           data directory (database, artifacts); required\n"
    "  --listen HOST:PORT   address to serve on (default 127.0.0.1:7400)\n"
    "  --artifact-max BYTES largest artifact upload (default 268435456)\n"
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

/* Parses s as an unsigned integer in [min, max]. Returns 0 or -1. */
static int parse_uint(const char *s, unsigned long long min,
                      unsigned long long max, unsigned long long *out)
{
    char *end = NULL;
    if (!s || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int fail(const char *fmt, const char *a)
{
    fprintf(stderr, "rollgated: ");
    fprintf(stderr, fmt, a);
    fprintf(stderr, "\n");
    return 2;
}

static bool flag_known(const char *f)
{
    static const char *const flags[] = {"--data",
                                        "--listen",
                                        "--artifact-max",
                                        "--threads",
                                        "--interval",
                                        "--tick-ms",
                                        "--activation-cap",
                                        "--flush-ms",
                                        "--max-connections",
                                        "--timeout",
                                        "--max-per-address",
                                        "--header-timeout",
                                        "--min-body-rate",
                                        "--log-level",
                                        "--tls-cert",
                                        "--tls-key",
                                        "--engine-dir",
                                        "--enroll-burst",
                                        "--enroll-per-min",
                                        "--auth-fail-burst",
                                        "--auth-fail-per-min",
                                        "--auth-audit-per-min",
                                        "--event-burst",
                                        "--events-per-min",
                                        "--event-retention",
                                        "--rate-table",
                                        "--access-log",
                                        NULL};
    for (size_t i = 0; flags[i]; i++)
        if (strcmp(f, flags[i]) == 0)
            return true;
    return false;
}

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

/* Parses the serving flags into cfg. Returns 0, or 2 after printing a
 * one-line error, or 1 when help/version was printed. */
static int parse_flags(int argc, char **argv, int first, rg_server_config *cfg,
                       int *log_level)
{
    for (int i = first; i < argc; i++) {
        const char *f = argv[i];
        if (strcmp(f, "--help") == 0 || strcmp(f, "-h") == 0) {
            fputs(usage, stdout);
            return 1;
        }
        if (strcmp(f, "--version") == 0) {
            printf("rollgated %s\n", RG_VERSION);
            return 1;
        }
        if (strncmp(f, "--", 2) != 0)
            return fail("unexpected argument '%s' (see --help)", f);
        if (!flag_known(f))
            return fail("unknown flag '%s' (see --help)", f);
        if (i + 1 >= argc)
            return fail("flag %s needs a value", f);
        const char *v = argv[++i];
        unsigned long long n = 0;
        if (strcmp(f, "--data") == 0) {
            if (!*v || strlen(v) >= sizeof cfg->data_dir)
                return fail("--data: bad directory '%s'", v);
            snprintf(cfg->data_dir, sizeof cfg->data_dir, "%s", v);
        } else if (strcmp(f, "--listen") == 0) {
            if (!strchr(v, ':') || strlen(v) >= sizeof cfg->listen)
                return fail("--listen: expected HOST:PORT, got '%s'", v);
            snprintf(cfg->listen, sizeof cfg->listen, "%s", v);
        } else if (strcmp(f, "--artifact-max") == 0) {
            if (parse_uint(v, 1, 1ull << 40, &n) != 0)
                return fail(
                    "--artifact-max: expected bytes (1..2^40), got '%s'", v);
            cfg->artifact_max = n;
        } else if (strcmp(f, "--threads") == 0) {
            if (parse_uint(v, 1, 256, &n) != 0)
                return fail("--threads: expected 1..256, got '%s'", v);
            cfg->threads = (unsigned)n;
        } else if (strcmp(f, "--interval") == 0) {
            if (parse_uint(v, 1, 86400, &n) != 0)
                return fail("--interval: expected seconds (1..86400), got '%s'",
                            v);
            cfg->checkin_interval_s = (int)n;
        } else if (strcmp(f, "--activation-cap") == 0) {
            if (parse_uint(v, 1, 86400, &n) != 0)
                return fail(
                    "--activation-cap: expected seconds (1..86400), got '%s'",
                    v);
            cfg->activation_cap_s = (int)n;
        } else if (strcmp(f, "--tick-ms") == 0) {
            if (parse_uint(v, 1, 3600000, &n) != 0)
                return fail("--tick-ms: expected 1..3600000, got '%s'", v);
            cfg->tick_ms = (int)n;
        } else if (strcmp(f, "--flush-ms") == 0) {
            if (parse_uint(v, 1, 3600000, &n) != 0)
                return fail("--flush-ms: expected 1..3600000, got '%s'", v);
            cfg->flush_ms = (int)n;
        } else if (strcmp(f, "--max-connections") == 0) {
            if (parse_uint(v, 1, 1000000, &n) != 0)
                return fail("--max-connections: expected 1..1000000, got '%s'",
                            v);
            cfg->max_connections = (unsigned)n;
        } else if (strcmp(f, "--timeout") == 0) {
            if (parse_uint(v, 1, 86400, &n) != 0)
                return fail("--timeout: expected seconds (1..86400), got '%s'",
                            v);
            cfg->conn_timeout_s = (unsigned)n;
        } else if (strcmp(f, "--max-per-address") == 0) {
            if (parse_uint(v, 0, 1000000, &n) != 0)
                return fail("--max-per-address: expected 0..1000000, got '%s'",
                            v);
            cfg->max_per_address = (unsigned)n;
        } else if (strcmp(f, "--header-timeout") == 0) {
            if (parse_uint(v, 1, 3600, &n) != 0)
                return fail(
                    "--header-timeout: expected seconds (1..3600), got '%s'",
                    v);
            cfg->header_timeout_s = (unsigned)n;
        } else if (strcmp(f, "--min-body-rate") == 0) {
            if (parse_uint(v, 1, 1ull << 40, &n) != 0)
                return fail("--min-body-rate: expected bytes/s (1..2^40), got "
                            "'%s'",
                            v);
            cfg->min_body_rate = n;
        } else if (strcmp(f, "--tls-cert") == 0 ||
                   strcmp(f, "--tls-key") == 0) {
            char *dst = f[6] == 'c' ? cfg->tls_cert : cfg->tls_key;
            if (!*v || strlen(v) >= PATH_MAX)
                return fail("bad TLS file name '%s'", v);
            snprintf(dst, PATH_MAX, "%s", v);
        } else if (strcmp(f, "--engine-dir") == 0) {
            char *dir = realpath(v, NULL);
            struct stat st;
            bool ok = dir && stat(dir, &st) == 0 && S_ISDIR(st.st_mode) &&
                      strlen(dir) < sizeof cfg->engine_dir;
            if (ok)
                snprintf(cfg->engine_dir, sizeof cfg->engine_dir, "%s", dir);
            free(dir);
            if (!ok)
                return fail("--engine-dir: '%s' is not a directory", v);
        } else if (strcmp(f, "--enroll-burst") == 0 ||
                   strcmp(f, "--auth-fail-burst") == 0) {
            if (parse_uint(v, 0, 1000000, &n) != 0)
                return fail("burst: expected 0..1000000, got '%s'", v);
            *(f[2] == 'e' ? &cfg->enroll_burst : &cfg->auth_fail_burst) =
                (unsigned)n;
        } else if (strcmp(f, "--enroll-per-min") == 0 ||
                   strcmp(f, "--auth-fail-per-min") == 0 ||
                   strcmp(f, "--auth-audit-per-min") == 0) {
            if (parse_uint(v, 1, 1000000, &n) != 0)
                return fail("per minute: expected 1..1000000, got '%s'", v);
            if (f[2] == 'e')
                cfg->enroll_per_min = (unsigned)n;
            else if (f[7] == 'f')
                cfg->auth_fail_per_min = (unsigned)n;
            else
                cfg->auth_audit_per_min = (unsigned)n;
        } else if (strcmp(f, "--event-burst") == 0 ||
                   strcmp(f, "--events-per-min") == 0) {
            bool burst = strcmp(f, "--event-burst") == 0;
            if (parse_uint(v, burst ? 0 : 1, 1000000, &n) != 0)
                return fail("event limit: expected 0..1000000, got '%s'", v);
            *(burst ? &cfg->event_burst : &cfg->events_per_min) = (unsigned)n;
        } else if (strcmp(f, "--event-retention") == 0) {
            if (parse_uint(v, 0, UINT32_MAX, &n) != 0)
                return fail("--event-retention: expected seconds, got '%s'", v);
            cfg->event_retention_s = (unsigned)n;
        } else if (strcmp(f, "--rate-table") == 0) {
            if (parse_uint(v, 8, 1u << 24, &n) != 0)
                return fail("--rate-table: expected 8..16777216, got '%s'", v);
            cfg->rate_table = (unsigned)n;
        } else if (strcmp(f, "--access-log") == 0) {
            if (!*v || strlen(v) >= sizeof cfg->access_log)
                return fail("--access-log: expected off, stderr or a file, "
                            "got '%s'",
                            v);
            snprintf(cfg->access_log, sizeof cfg->access_log, "%s", v);
        } else if (strcmp(f, "--log-level") == 0) {
            int l = rg_log_level_parse(v);
            if (l < 0)
                return fail("--log-level: expected debug, info, warn or error, "
                            "got '%s'",
                            v);
            *log_level = l;
        } else {
            return fail("unknown flag '%s' (see --help)", f);
        }
    }
    if (!cfg->data_dir[0])
        return fail("%s", "--data DIR is required (see --help)");
    if (!cfg->tls_cert[0] != !cfg->tls_key[0])
        return fail("%s", "--tls-cert and --tls-key go together");
    return 0;
}

/* rollgated init: data directory, database, first admin token. */
static int cmd_init(const rg_server_config *cfg)
{
    char db[PATH_MAX], secret[RG_HASH_HEX];
    rg_server dir = {.cfg = *cfg}; /* for the artifacts directory */
    rg_datadir_lock *lock = NULL;
    rg_store *store = NULL;
    rg_err err;
    int status = 1;
    rg_err_clear(&err);
    if (rg_server_db_path(cfg->data_dir, db, sizeof db, &err) != 0)
        goto cleanup;
    if (make_dirs(cfg->data_dir, &err) != 0)
        goto cleanup;
    if (rg_datadir_lock_take(cfg->data_dir, &lock, &err) != 0)
        goto cleanup;
    if (access(db, F_OK) == 0) {
        rg_err_set(&err, RG_ECONFLICT,
                   "'%s' already has a database; refusing to init it again",
                   cfg->data_dir);
        goto cleanup;
    }
    if (rg_store_open(db, &store, &err) != 0 ||
        rg_artifacts_init(&dir, &err) != 0) {
        rg_datadir_explain(cfg->data_dir, &err);
        goto cleanup;
    }
    printf("created data directory %s\n", cfg->data_dir);
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

static int serve(rg_server_config *cfg)
{
    rg_server srv = {.cfg = *cfg, .clock = rg_clock_system()};
    rg_http *http = NULL;
    rg_http_app app;
    rg_err err;
    char *cert = NULL, *key = NULL;
    sigset_t stop;
    int sig = 0, status = 1;
    bool orchestrating = false;
    rg_err_clear(&err);

    /* Block the stop signals before any thread starts: every thread
     * inherits the mask and only sigwait below receives them. */
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (cfg->tls_cert[0] && (read_pem(cfg->tls_cert, &cert, &err) != 0 ||
                             read_pem(cfg->tls_key, &key, &err) != 0))
        goto cleanup;
    if (rg_access_log_open(cfg->access_log, &srv.access, &err) != 0 ||
        rg_server_open(&srv, &err) != 0)
        goto cleanup;
    if (rg_orchestrator_start(&srv, &err) != 0)
        goto cleanup;
    orchestrating = true;
    if (rg_preflight_worker_start(&srv, &err) != 0 ||
        rg_webhooks_start(&srv, &err) != 0)
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
    while (sigwait(&stop, &sig) != 0)
        ;
    rg_info("signal %d: shutting down", sig);
    status = 0;
cleanup:
    if (status != 0)
        rg_error("%s", err.msg);
    rg_http_stop(http);
    rg_webhooks_stop(&srv);
    rg_preflight_worker_stop(&srv);
    if (orchestrating)
        rg_orchestrator_stop(&srv);
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

int main(int argc, char **argv)
{
    rg_server_config cfg;
    int log_level = RG_LOG_INFO;
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
    rg_server_config_defaults(&cfg);
    bool init = argc > 1 && strcmp(argv[1], "init") == 0;
    int rc = parse_flags(argc, argv, init ? 2 : 1, &cfg, &log_level);
    if (rc != 0)
        return rc == 1 ? 0 : rc;
    rg_log_init("rollgated", (rg_log_level)log_level);
    if (rg_crypto_init() != 0) {
        fprintf(stderr, "rollgated: cannot initialise libsodium\n");
        return 1;
    }
    return init ? cmd_init(&cfg) : serve(&cfg);
}
