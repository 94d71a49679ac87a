/*
 * sqlite.c - the SQLite driver of the store (sqldrv.h): the embedded
 * default, one database file in the data directory.
 *
 * Durability: WAL with synchronous=FULL, so a call that returned 0
 * survives kill -9 and power loss. foreign_keys=ON, busy_timeout for
 * other processes; a write transaction is BEGIN IMMEDIATE, so writers of
 * the same file (other processes too) take turns. Statements are prepared
 * once per text and cached.
 *
 * Schema versions live in PRAGMA user_version; migration N is a list of
 * statements applied, with the version bump, in one transaction. pg.c
 * keeps the same numbered list for PostgreSQL.
 */
#include "store/sqldrv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#define BUSY_TIMEOUT_MS 5000
/* Distinct statement texts cached per connection (sqlstore.c has fewer). */
#define STMT_CACHE 128

/* --- schema ------------------------------------------------------------- */

/* 1: publishing - channels, artifacts, releases, rollouts, decisions, audit. */
static const char *const migration1[] = {
    "CREATE TABLE audit ("
    " id INTEGER PRIMARY KEY,"
    " at_ms INTEGER NOT NULL,"
    " actor TEXT NOT NULL,"
    " role TEXT NOT NULL,"
    " action TEXT NOT NULL,"
    " target TEXT NOT NULL,"
    " reason TEXT NOT NULL,"
    " source TEXT NOT NULL,"
    " detail TEXT NOT NULL)",
    "CREATE INDEX audit_actor ON audit(actor)",
    "CREATE INDEX audit_target ON audit(target)",
    "CREATE INDEX audit_at ON audit(at_ms)",

    "CREATE TABLE channels ("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE,"
    " description TEXT NOT NULL,"
    " created_ms INTEGER NOT NULL,"
    " current_release_id INTEGER REFERENCES releases(id))",

    "CREATE TABLE artifacts ("
    " sha256 TEXT PRIMARY KEY,"
    " size INTEGER NOT NULL CHECK (size >= 0),"
    " created_ms INTEGER NOT NULL) WITHOUT ROWID",

    "CREATE TABLE releases ("
    " id INTEGER PRIMARY KEY,"
    " channel_id INTEGER NOT NULL REFERENCES channels(id),"
    " version INTEGER NOT NULL CHECK (version >= 1),"
    " sha256 TEXT NOT NULL REFERENCES artifacts(sha256),"
    " notes TEXT NOT NULL,"
    " urgency TEXT NOT NULL CHECK (urgency IN ('standard', 'emergency')),"
    " created_ms INTEGER NOT NULL,"
    " created_by TEXT NOT NULL,"
    " UNIQUE (channel_id, version))",

    /* active = the state is not final; at most one active rollout per
     * channel, enforced by a partial unique index. */
    "CREATE TABLE rollouts ("
    " id INTEGER PRIMARY KEY,"
    " release_id INTEGER NOT NULL REFERENCES releases(id),"
    " channel_id INTEGER NOT NULL REFERENCES channels(id),"
    " prev_release_id INTEGER REFERENCES releases(id),"
    " plan_json TEXT NOT NULL,"
    " salt TEXT NOT NULL,"
    " state INTEGER NOT NULL,"
    " wave INTEGER NOT NULL,"
    " share_ppm INTEGER NOT NULL,"
    " wave_started_ms INTEGER NOT NULL,"
    " updated_ms INTEGER NOT NULL,"
    " active INTEGER NOT NULL CHECK (active IN (0, 1)),"
    " created_ms INTEGER NOT NULL,"
    " created_by TEXT NOT NULL)",
    "CREATE UNIQUE INDEX rollouts_one_active ON rollouts(channel_id)"
    " WHERE active = 1",

    "CREATE TABLE decisions ("
    " id INTEGER PRIMARY KEY,"
    " rollout_id INTEGER NOT NULL REFERENCES rollouts(id),"
    " at_ms INTEGER NOT NULL,"
    " from_state INTEGER NOT NULL,"
    " to_state INTEGER NOT NULL,"
    " from_wave INTEGER NOT NULL,"
    " to_wave INTEGER NOT NULL,"
    " reason TEXT NOT NULL,"
    " actor TEXT NOT NULL,"
    " evidence TEXT NOT NULL)",
    "CREATE INDEX decisions_rollout ON decisions(rollout_id)",
    NULL,
};

/* 2: access and fleet - admin tokens, enrollment keys, endpoints, events. */
static const char *const migration2[] = {
    "CREATE TABLE tokens ("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),"
    " hash TEXT NOT NULL UNIQUE,"
    " created_ms INTEGER NOT NULL,"
    " expires_ms INTEGER NOT NULL,"
    " revoked_ms INTEGER NOT NULL,"
    " created_by TEXT NOT NULL)",

    "CREATE TABLE enroll_keys ("
    " id INTEGER PRIMARY KEY,"
    " hash TEXT NOT NULL UNIQUE,"
    " created_ms INTEGER NOT NULL,"
    " expires_ms INTEGER NOT NULL,"
    " revoked_ms INTEGER NOT NULL,"
    " uses_left INTEGER NOT NULL CHECK (uses_left >= -1),"
    " created_by TEXT NOT NULL)",

    "CREATE TABLE endpoints ("
    " id TEXT PRIMARY KEY,"
    " token_hash TEXT NOT NULL,"
    " attrs_json TEXT NOT NULL,"
    " enrolled_ms INTEGER NOT NULL,"
    " last_seen_ms INTEGER NOT NULL,"
    " installed_json TEXT NOT NULL) WITHOUT ROWID",

    "CREATE TABLE events ("
    " endpoint_id TEXT NOT NULL REFERENCES endpoints(id),"
    " event_id TEXT NOT NULL,"
    " type TEXT NOT NULL CHECK (type IN"
    "  ('applying', 'healthy', 'failed', 'reverted', 'crashed')),"
    " release_id INTEGER NOT NULL REFERENCES releases(id),"
    " channel TEXT NOT NULL,"
    " reported_ms INTEGER NOT NULL,"
    " received_ms INTEGER NOT NULL,"
    " detail TEXT NOT NULL,"
    " PRIMARY KEY (endpoint_id, event_id)) WITHOUT ROWID",
    /* Covers rg_store_event_counts: distinct endpoints per type. */
    "CREATE INDEX events_release ON events(release_id, type, endpoint_id)",
    NULL,
};

/* 3: preflight - a channel's preflight spec; each release's copy of it,
 * its status and result. Existing channels have none, existing releases
 * "none". */
static const char *const migration3[] = {
    "ALTER TABLE channels ADD COLUMN preflight_engine TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE channels ADD COLUMN preflight_corpus TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE channels ADD COLUMN preflight_timeout_s INTEGER NOT NULL"
    " DEFAULT 0",
    "ALTER TABLE channels ADD COLUMN preflight_memory_mb INTEGER NOT NULL"
    " DEFAULT 0",
    "ALTER TABLE releases ADD COLUMN preflight_status TEXT NOT NULL"
    " DEFAULT 'none' CHECK (preflight_status IN"
    "  ('none', 'pending', 'passed', 'failed'))",
    "ALTER TABLE releases ADD COLUMN preflight_engine TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE releases ADD COLUMN preflight_corpus TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE releases ADD COLUMN preflight_timeout_s INTEGER NOT NULL"
    " DEFAULT 0",
    "ALTER TABLE releases ADD COLUMN preflight_memory_mb INTEGER NOT NULL"
    " DEFAULT 0",
    "ALTER TABLE releases ADD COLUMN preflight_detail TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE releases ADD COLUMN preflight_result TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE releases ADD COLUMN preflight_done_ms INTEGER NOT NULL"
    " DEFAULT 0",
    "CREATE INDEX releases_preflight_pending ON releases(id)"
    " WHERE preflight_status = 'pending'",
    NULL,
};

/* 4: group policies - a selector holding matching endpoints one release
 * behind on a channel (n-1) or on a pinned release. */
static const char *const migration4[] = {
    "CREATE TABLE policies ("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE,"
    " channel_id INTEGER NOT NULL REFERENCES channels(id),"
    " selector_json TEXT NOT NULL,"
    " mode TEXT NOT NULL CHECK (mode IN ('n-1', 'pin')),"
    " release_id INTEGER REFERENCES releases(id),"
    " created_ms INTEGER NOT NULL,"
    " created_by TEXT NOT NULL,"
    " CHECK ((mode = 'pin') = (release_id IS NOT NULL)))",
    NULL,
};

/* 5: the audit log is append-only: no statement may change or remove a
 * row (the store has no function that would; this also stops anything
 * else holding the database file through SQLite). */
static const char *const migration5[] = {
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END",
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END",
    NULL,
};

/* 6: signed releases (docs/signing.md) - each release's signed metadata
 * ("" when unsigned) and the history of root metadata versions. */
static const char *const migration6[] = {
    "ALTER TABLE releases ADD COLUMN metadata TEXT NOT NULL DEFAULT ''",
    "CREATE TABLE roots ("
    " version INTEGER PRIMARY KEY CHECK (version >= 1),"
    " digest TEXT NOT NULL,"
    " json TEXT NOT NULL,"
    " created_ms INTEGER NOT NULL,"
    " created_by TEXT NOT NULL)",
    NULL,
};

/* 7: lifting a release's quarantine (POST /v1/releases/{id}/lift-quarantine)
 * - when it was lifted, 0: never. */
static const char *const migration7[] = {
    "ALTER TABLE releases ADD COLUMN quarantine_lifted_ms INTEGER NOT NULL"
    " DEFAULT 0",
    NULL,
};

/* 8: offers (docs/api.md, "Only evidence the server can vouch for") -
 * which releases check-in answers offered each endpoint, and when first.
 * Events stored before this schema were counted then: their (endpoint,
 * release) pairs become offers so that those endpoints keep counting. */
static const char *const migration8[] = {
    "CREATE TABLE offers ("
    " endpoint_id TEXT NOT NULL REFERENCES endpoints(id),"
    " release_id INTEGER NOT NULL REFERENCES releases(id),"
    " offered_ms INTEGER NOT NULL,"
    " PRIMARY KEY (endpoint_id, release_id)) WITHOUT ROWID",
    "INSERT INTO offers (endpoint_id, release_id, offered_ms)"
    " SELECT endpoint_id, release_id, min(received_ms) FROM events"
    " GROUP BY endpoint_id, release_id",
    NULL,
};

/* 9: endpoint identity resets (POST /v1/endpoints/{id}/reset-identity) -
 * when an operator allowed the id to be enrolled afresh, 0: not allowed
 * (re-enrolling then needs the endpoint's current token). */
static const char *const migration9[] = {
    "ALTER TABLE endpoints ADD COLUMN identity_reset_ms INTEGER NOT NULL"
    " DEFAULT 0",
    NULL,
};

/* 10: how releases activate (model/activation.h) - kind 0 none, 1
 * restart, 2 reboot, and the longest plausible applying -> healthy time.
 * Existing releases: none, 120 s (the default of none). */
static const char *const migration10[] = {
    "ALTER TABLE releases ADD COLUMN activation INTEGER NOT NULL DEFAULT 0"
    " CHECK (activation IN (0, 1, 2))",
    "ALTER TABLE releases ADD COLUMN activation_max_ms INTEGER NOT NULL"
    " DEFAULT 120000 CHECK (activation_max_ms > 0)",
    "ALTER TABLE releases ADD COLUMN activation_declared INTEGER NOT NULL"
    " DEFAULT 0 CHECK (activation_declared IN (0, 1))",
    NULL,
};

/* 11: event retention (rg_store_events_prune) finds old events by the
 * time they were received. */
static const char *const migration11[] = {
    "CREATE INDEX events_received ON events(received_ms)",
    NULL,
};

/* 12: feature flags (docs/flags.md) - every version of each flag's
 * definition per environment (the newest is current), and the tokens
 * Unleash SDKs read one environment's flags with. */
static const char *const migration12[] = {
    "CREATE TABLE flag_versions ("
    " environment TEXT NOT NULL,"
    " name TEXT NOT NULL,"
    " version INTEGER NOT NULL CHECK (version >= 1),"
    " definition TEXT NOT NULL,"
    " created_ms INTEGER NOT NULL,"
    " created_by TEXT NOT NULL,"
    " reason TEXT NOT NULL,"
    " PRIMARY KEY (environment, name, version)) WITHOUT ROWID",
    "CREATE TABLE client_tokens ("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " environment TEXT NOT NULL,"
    " hash TEXT NOT NULL UNIQUE,"
    " created_ms INTEGER NOT NULL,"
    " created_by TEXT NOT NULL)",
    NULL,
};

/* 13: webhooks (docs/webhooks.md) - subscriptions, their outbox and
 * delivery log (one row per delivery, one per attempt). */
static const char *const migration13[] = {
    "CREATE TABLE webhooks ("
    " id INTEGER PRIMARY KEY,"
    " url TEXT NOT NULL,"
    " events TEXT NOT NULL,"
    " channel TEXT NOT NULL,"
    " secret TEXT NOT NULL,"
    " created_ms INTEGER NOT NULL,"
    " created_by TEXT NOT NULL)",
    "CREATE TABLE webhook_deliveries ("
    " id INTEGER PRIMARY KEY,"
    " uid TEXT NOT NULL UNIQUE,"
    " webhook_id INTEGER NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,"
    " event TEXT NOT NULL,"
    " decision_id INTEGER REFERENCES decisions(id),"
    " created_ms INTEGER NOT NULL,"
    " state TEXT NOT NULL CHECK (state IN ('pending', 'delivered',"
    " 'failed')),"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " next_ms INTEGER NOT NULL,"
    " done_ms INTEGER NOT NULL DEFAULT 0,"
    " last_status INTEGER NOT NULL DEFAULT 0,"
    " last_error TEXT NOT NULL DEFAULT '')",
    "CREATE INDEX webhook_deliveries_due ON webhook_deliveries(state, next_ms)",
    "CREATE INDEX webhook_deliveries_of ON webhook_deliveries(webhook_id, id)",
    "CREATE INDEX webhook_deliveries_done ON webhook_deliveries(done_ms)",
    "CREATE TABLE webhook_attempts ("
    " delivery_id INTEGER NOT NULL"
    " REFERENCES webhook_deliveries(id) ON DELETE CASCADE,"
    " n INTEGER NOT NULL,"
    " at_ms INTEGER NOT NULL,"
    " took_ms INTEGER NOT NULL,"
    " status INTEGER NOT NULL,"
    " error TEXT NOT NULL,"
    " PRIMARY KEY (delivery_id, n)) WITHOUT ROWID",
    NULL,
};

/* 14: the flag sets endpoints fell back from (docs/agent.md), reported
 * once per (endpoint, environment, stamp); client tokens can be revoked;
 * each environment's change stamp kept up to date by every flag write, so
 * a check-in reads it with one lookup instead of counting versions. */
static const char *const migration14[] = {
    "CREATE TABLE flag_reverts ("
    " endpoint_id TEXT NOT NULL,"
    " environment TEXT NOT NULL,"
    " stamp TEXT NOT NULL,"
    " reported_ms INTEGER NOT NULL,"
    " received_ms INTEGER NOT NULL,"
    " detail TEXT NOT NULL,"
    " PRIMARY KEY (endpoint_id, environment, stamp)) WITHOUT ROWID",
    "ALTER TABLE client_tokens ADD COLUMN revoked_ms INTEGER NOT NULL"
    " DEFAULT 0",
    "CREATE TABLE flag_stamps ("
    " environment TEXT PRIMARY KEY,"
    " versions INTEGER NOT NULL,"
    " newest_ms INTEGER NOT NULL) WITHOUT ROWID",
    "INSERT INTO flag_stamps SELECT environment, count(*), max(created_ms)"
    " FROM flag_versions GROUP BY environment",
    NULL,
};

/* 15: flag segments (docs/flags.md) - every version of each segment's
 * constraints per environment (the newest is current; deleted marks a
 * deletion); id is the Unleash segment id strategies name, fixed at the
 * first version. */
static const char *const migration15[] = {
    "CREATE TABLE segment_versions ("
    " environment TEXT NOT NULL,"
    " name TEXT NOT NULL,"
    " id INTEGER NOT NULL CHECK (id >= 1),"
    " version INTEGER NOT NULL CHECK (version >= 1),"
    " deleted INTEGER NOT NULL,"
    " definition TEXT NOT NULL,"
    " created_ms INTEGER NOT NULL,"
    " created_by TEXT NOT NULL,"
    " reason TEXT NOT NULL,"
    " PRIMARY KEY (environment, name, version)) WITHOUT ROWID",
    "CREATE INDEX segment_versions_id ON segment_versions(id)",
    NULL,
};

/* 16: the flag environments an enrollment key lets its endpoints read
 * (docs/flags.md), comma-separated; '' (keys made before) is default only. */
static const char *const migration16[] = {
    "ALTER TABLE enroll_keys ADD COLUMN flag_environments TEXT NOT NULL"
    " DEFAULT ''",
    NULL,
};

/* Guarded flag rollouts (docs/flags.md): one row each, its state one JSON
 * document; at most one active rollout per flag. */
static const char *const migration17[] = {
    "CREATE TABLE flag_rollouts ("
    " id INTEGER PRIMARY KEY,"
    " environment TEXT NOT NULL,"
    " name TEXT NOT NULL,"
    " seq INTEGER NOT NULL,"
    " active INTEGER NOT NULL CHECK (active IN (0, 1)),"
    " state TEXT NOT NULL,"
    " created_ms INTEGER NOT NULL,"
    " created_by TEXT NOT NULL,"
    " reason TEXT NOT NULL)",
    "CREATE UNIQUE INDEX flag_rollouts_active ON flag_rollouts(environment,"
    " name) WHERE active = 1",
    NULL,
};

/* 18: several nodes (pg.c; one SQLite database has one node, which
 * tails nothing: the sequences stay 0). */
static const char *const migration18[] = {
    "ALTER TABLE events ADD COLUMN seq INTEGER NOT NULL DEFAULT 0",
    "CREATE INDEX events_seq ON events(seq)",
    "ALTER TABLE offers ADD COLUMN seq INTEGER NOT NULL DEFAULT 0",
    "CREATE INDEX offers_seq ON offers(seq)",
    "ALTER TABLE endpoints ADD COLUMN flush_seq INTEGER NOT NULL DEFAULT 0",
    "CREATE INDEX endpoints_flush_seq ON endpoints(flush_seq)",
    "CREATE TABLE flush_seq (one INTEGER PRIMARY KEY CHECK (one = 1),"
    " seq INTEGER NOT NULL)",
    "INSERT INTO flush_seq VALUES (1, 0)",
    NULL,
};

/* 19: webhook deliveries of guarded flag rollouts (docs/webhooks.md): they
 * have no decision row; the flag rollout's part of the body is kept with
 * the delivery ('' for a release's). */
static const char *const migration19[] = {
    "ALTER TABLE webhook_deliveries ADD COLUMN flag TEXT NOT NULL DEFAULT ''",
    NULL,
};

/* 20: public channels (docs/caching.md): their artifacts are served to
 * anyone at never-expiring URLs; the lookup by digest is indexed. */
static const char *const migration20[] = {
    "ALTER TABLE channels ADD COLUMN public INTEGER NOT NULL DEFAULT 0"
    " CHECK (public IN (0, 1))",
    "CREATE INDEX releases_sha256 ON releases(sha256)",
    NULL,
};

static const char *const *const migrations[] = {
    migration1,  migration2,  migration3,  migration4,  migration5,
    migration6,  migration7,  migration8,  migration9,  migration10,
    migration11, migration12, migration13, migration14, migration15,
    migration16, migration17, migration18, migration19, migration20};
#define N_MIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

_Static_assert(N_MIGRATIONS == RG__SCHEMA_VERSION,
               "sqlite.c and pg.c must have the same migrations");

/* --- connection --------------------------------------------------------- */

typedef struct sl {
    sqlite3 *db;
    sqlite3_stmt *cur; /* the running statement, or NULL */
    struct {
        const char *sql; /* sqlstore.c's text: static, compared by address */
        sqlite3_stmt *st;
    } cache[STMT_CACHE];
} sl;

/* Maps an SQLite failure to an rg_code with a message about what. */
static int db_fail(sl *c, int rc, rg_err *err, const char *what)
{
    int code = RG_EIO;
    int ext = sqlite3_extended_errcode(c->db);
    if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY)
        code = RG_ECONFLICT;
    else if (ext == SQLITE_CONSTRAINT_FOREIGNKEY)
        code = RG_ENOTFOUND;
    else if (rc == SQLITE_NOMEM)
        code = RG_ENOMEM;
    return rg_err_set(err, code, "%s: %s", what, sqlite3_errmsg(c->db));
}

/* The cached statement of text sql, prepared on first use. */
static int stmt_for(sl *c, const char *sql, sqlite3_stmt **out, rg_err *err)
{
    size_t i = 0;
    for (; i < STMT_CACHE && c->cache[i].sql; i++)
        if (c->cache[i].sql == sql) {
            *out = c->cache[i].st;
            return 0;
        }
    if (i == STMT_CACHE)
        return rg_err_set(err, RG_EINTERNAL, "store: statement cache full");
    int rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
                                &c->cache[i].st, NULL);
    if (rc != SQLITE_OK)
        return db_fail(c, rc, err, "store: preparing a statement");
    c->cache[i].sql = sql;
    *out = c->cache[i].st;
    return 0;
}

static void sl_done(void *conn)
{
    sl *c = conn;
    if (c->cur) {
        sqlite3_reset(c->cur);
        sqlite3_clear_bindings(c->cur);
    }
    c->cur = NULL;
}

static int sl_query(void *conn, const char *sql, const rg__val *v, size_t n,
                    rg_err *err)
{
    sl *c = conn;
    sqlite3_stmt *st = NULL;
    sl_done(c);
    int rc = stmt_for(c, sql, &st, err);
    if (rc)
        return rc;
    if ((size_t)sqlite3_bind_parameter_count(st) != n)
        return rg_err_set(err, RG_EINTERNAL,
                          "store: statement takes %d values, given %zu",
                          sqlite3_bind_parameter_count(st), n);
    for (size_t i = 0; i < n; i++) {
        int at = (int)i + 1;
        if (v[i].type == RG__V_INT)
            sqlite3_bind_int64(st, at, v[i].i);
        else if (v[i].type == RG__V_TEXT && v[i].s)
            sqlite3_bind_text(st, at, v[i].s, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, at);
    }
    c->cur = st;
    return 0;
}

static int sl_step(void *conn, const rg__rowmap *m, rg__val *row,
                   const char *what, rg_err *err)
{
    sl *c = conn;
    sqlite3_stmt *st = c->cur;
    if (!st)
        return 0;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        sl_done(c);
        return 0;
    }
    if (rc != SQLITE_ROW) {
        rc = db_fail(c, rc, err, what);
        sl_done(c);
        return rc;
    }
    if (!m || sqlite3_column_count(st) != (int)m->n) {
        rc = rg_err_set(err, RG_EIO,
                        "store: a %s query returns %d columns, not %zu", what,
                        sqlite3_column_count(st), m ? m->n : 0);
        sl_done(c);
        return rc;
    }
    for (size_t i = 0; i < m->n; i++) {
        int col = (int)i;
        if (!rg__col_is_text(&m->cols[i])) {
            row[i] = RG__INT(sqlite3_column_int64(st, col));
            continue;
        }
        row[i] = RG__TEXT((const char *)sqlite3_column_text(st, col));
        row[i].len = (size_t)sqlite3_column_bytes(st, col);
    }
    return 1;
}

static int64_t sl_changes(void *conn)
{
    return sqlite3_changes(((sl *)conn)->db);
}

static int sl_last_id(void *conn, int64_t *id, rg_err *err)
{
    (void)err;
    *id = sqlite3_last_insert_rowid(((sl *)conn)->db);
    return 0;
}

static int exec_sql(sl *c, const char *sql, rg_err *err)
{
    int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return db_fail(c, rc, err, sql);
    return 0;
}

static int sl_begin(void *conn, rg_err *err)
{
    return exec_sql(conn, "BEGIN IMMEDIATE", err);
}

static int sl_commit(void *conn, rg_err *err)
{
    return exec_sql(conn, "COMMIT", err);
}

static bool sl_in_txn(void *conn)
{
    return !sqlite3_get_autocommit(((sl *)conn)->db);
}

static void sl_rollback(void *conn)
{
    sl *c = conn;
    sl_done(c);
    if (sl_in_txn(c))
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
}

/* --- open, migrate, close ----------------------------------------------- */

static int sl_version_get(void *conn, int *version, rg_err *err)
{
    sl *c = conn;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(c->db, "PRAGMA user_version", -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        *version = sqlite3_column_int(st, 0);
        rc = SQLITE_OK;
    }
    if (rc != SQLITE_OK)
        rc = db_fail(c, rc, err, "PRAGMA user_version");
    sqlite3_finalize(st);
    return rc;
}

static int sl_version_set(void *conn, int version, rg_err *err)
{
    char bump[48];
    snprintf(bump, sizeof bump, "PRAGMA user_version = %d", version);
    return exec_sql(conn, bump, err);
}

static int sl_exec(void *conn, const char *sql, rg_err *err)
{
    return exec_sql(conn, sql, err);
}

static const char *sl_where(void *conn)
{
    return sqlite3_db_filename(((sl *)conn)->db, "main");
}

static void sl_disconnect(void *conn)
{
    sl *c = conn;
    if (!c)
        return;
    for (int i = 0; i < STMT_CACHE; i++)
        sqlite3_finalize(c->cache[i].st);
    sqlite3_close(c->db);
    free(c);
}

/* Turns WAL on; an in-memory database keeps "memory" (nothing to make
 * durable there). */
static int wal_on(sl *c, const char *path, rg_err *err)
{
    char mode[16] = "";
    sqlite3_stmt *st = NULL;
    int rc =
        sqlite3_prepare_v2(c->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *m = sqlite3_column_text(st, 0);
        snprintf(mode, sizeof mode, "%s", m ? (const char *)m : "");
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK)
        return db_fail(c, rc, err, "journal_mode");
    if (strcmp(mode, "wal") != 0 && strcmp(path, ":memory:") != 0)
        return rg_err_set(err, RG_EIO,
                          "store '%s': cannot use WAL (journal mode %s)", path,
                          mode);
    return 0;
}

static int sl_connect(const char *path, void **conn, rg_err *err)
{
    sl *c = NULL;
    int rc;

    *conn = NULL;
    c = calloc(1, sizeof *c);
    if (!c)
        return rg_err_set(err, RG_ENOMEM, "store '%s': out of memory", path);
    rc = sqlite3_open_v2(
        path, &c->db,
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        rc = rg_err_set(err, RG_EIO, "store '%s': %s", path,
                        c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
        goto cleanup;
    }
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
    if ((rc = wal_on(c, path, err)) ||
        (rc = exec_sql(c, "PRAGMA synchronous = FULL", err)) ||
        (rc = exec_sql(c, "PRAGMA foreign_keys = ON", err)))
        goto cleanup;
    *conn = c;
    c = NULL;
cleanup:
    if (rc && err && strstr(err->msg, path) == NULL) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        rg_err_set(err, rc, "store '%s': %s", path, msg);
    }
    sl_disconnect(c);
    return rc;
}

const struct rg__sqldrv rg__sqlite_drv = {
    .name = "sqlite",
    .migrations = migrations,
    .connect = sl_connect,
    .disconnect = sl_disconnect,
    .where = sl_where,
    .exec = sl_exec,
    .version_get = sl_version_get,
    .version_set = sl_version_set,
    .query = sl_query,
    .step = sl_step,
    .done = sl_done,
    .changes = sl_changes,
    .last_id = sl_last_id,
    .begin = sl_begin,
    .commit = sl_commit,
    .rollback = sl_rollback,
    .in_txn = sl_in_txn,
};
