/*
 * sqlite.c - the SQLite backend of store.h (see backend.h).
 *
 * One connection per store, guarded by one mutex: every call takes the
 * mutex for its whole duration (list callbacks included), which makes the
 * store thread-safe and every call atomic with respect to the others. It
 * serialises the control plane's database work; that is fine at this
 * scale (heartbeats never write one row each; they are flushed in
 * batches). Durability: WAL with synchronous=FULL, so a call that returned
 * 0 survives kill -9 and power loss. foreign_keys=ON, busy_timeout for
 * other processes. Statements are prepared once and cached.
 *
 * Schema versions live in PRAGMA user_version; migration N is a list of
 * statements applied, with the version bump, in one transaction.
 */
#include "store/backend.h"

#include "common/log.h"

#include <jansson.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUSY_TIMEOUT_MS 5000

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

static const char *const *const migrations[] = {
    migration1, migration2, migration3, migration4,  migration5,  migration6,
    migration7, migration8, migration9, migration10, migration11, migration12};
#define N_MIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

/* --- cached statements -------------------------------------------------- */

enum {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_AUDIT_INSERT,
    ST_AUDIT_LIST,
    ST_AUDIT_LIST_ACTOR,
    ST_AUDIT_LIST_TARGET,
    ST_AUDIT_LIST_BOTH,
    ST_CHANNEL_INSERT,
    ST_CHANNEL_GET,
    ST_CHANNEL_LIST,
    ST_CHANNEL_COMPLETE,
    ST_CHANNEL_UNDO,
    ST_CHANNEL_SET_PREFLIGHT,
    ST_ARTIFACT_INSERT,
    ST_ARTIFACT_GET,
    ST_RELEASE_CHANNEL,
    ST_RELEASE_INSERT,
    ST_RELEASE_GET,
    ST_RELEASE_LIST,
    ST_RELEASE_LIST_CHANNEL,
    ST_RELEASE_EXISTS,
    ST_RELEASE_PREFLIGHT_FINISH,
    ST_RELEASE_PREFLIGHT_STATUS,
    ST_RELEASE_PREFLIGHT_RESULT,
    ST_RELEASE_LIST_PENDING,
    ST_RELEASE_LIFT_QUARANTINE,
    ST_ROLLOUT_PREPARE,
    ST_ROLLOUT_ACTIVE,
    ST_ROLLOUT_INSERT,
    ST_ROLLOUT_GET,
    ST_ROLLOUT_LIST,
    ST_ROLLOUT_LIST_ACTIVE,
    ST_ROLLOUT_CAS,
    ST_ROLLOUT_STATE,
    ST_DECISION_INSERT,
    ST_DECISION_LIST,
    ST_TOKEN_INSERT,
    ST_TOKEN_FIND,
    ST_TOKEN_LIST,
    ST_TOKEN_REVOKE,
    ST_TOKEN_REVOKED,
    ST_KEY_INSERT,
    ST_KEY_FIND,
    ST_KEY_CONSUME,
    ST_KEY_LIST,
    ST_KEY_REVOKE,
    ST_KEY_EXISTS,
    ST_TOKEN_ADMIN_CHECK,
    ST_ENDPOINT_UPSERT,
    ST_ENDPOINT_SEEN,
    ST_ENDPOINT_LOAD,
    ST_ENDPOINT_EXISTS,
    ST_ENDPOINT_RESET,
    ST_EVENT_INSERT,
    ST_EVENT_COUNTS,
    ST_EVENT_LIST,
    ST_EVENT_PRUNE,
    ST_ROLLOUT_EXISTS,
    ST_POLICY_CHANNEL,
    ST_POLICY_RELEASE_CHANNEL,
    ST_POLICY_COUNT,
    ST_POLICY_INSERT,
    ST_POLICY_LIST,
    ST_POLICY_GET,
    ST_POLICY_DELETE,
    ST_ROOT_MAX,
    ST_ROOT_INSERT,
    ST_ROOT_LIST,
    ST_OFFER_INSERT,
    ST_OFFER_CHECK,
    ST_OFFER_ARTIFACT,
    ST__COUNT
};

#define AUDIT_COLS                                                             \
    "SELECT id, at_ms, actor, role, action, target, reason, source, detail"    \
    " FROM audit WHERE at_ms >= ?3 AND (?4 = 0 OR at_ms < ?4)"                 \
    " AND (?6 IS NULL OR action = ?6) AND (?7 = 0 OR id < ?7)"
#define CHANNEL_COLS                                                           \
    "SELECT id, name, description, created_ms, current_release_id,"            \
    " preflight_engine, preflight_corpus, preflight_timeout_s,"                \
    " preflight_memory_mb FROM channels"
#define RELEASE_COLS                                                           \
    "SELECT r.id, r.channel_id, c.name, r.version, r.sha256, a.size, r.notes," \
    " r.urgency, r.created_ms, r.created_by, r.preflight_status,"              \
    " r.preflight_engine, r.preflight_corpus, r.preflight_timeout_s,"          \
    " r.preflight_memory_mb, r.preflight_detail, r.preflight_done_ms,"         \
    " r.metadata, r.quarantine_lifted_ms, r.activation,"                       \
    " r.activation_max_ms, r.activation_declared FROM releases r"              \
    " JOIN channels c ON c.id = r.channel_id"                                  \
    " JOIN artifacts a ON a.sha256 = r.sha256"
#define ROLLOUT_COLS                                                           \
    "SELECT o.id, o.release_id, o.channel_id, c.name, o.prev_release_id,"      \
    " o.plan_json, o.salt, o.state, o.wave, o.share_ppm, o.wave_started_ms,"   \
    " o.updated_ms, o.created_ms, o.created_by FROM rollouts o"                \
    " JOIN channels c ON c.id = o.channel_id"
#define TOKEN_COLS                                                             \
    "SELECT id, name, role, hash, created_ms, expires_ms, revoked_ms,"         \
    " created_by FROM tokens"

#define POLICY_COLS                                                            \
    "SELECT p.id, p.name, p.channel_id, c.name, p.selector_json, p.mode,"      \
    " p.release_id, p.created_ms, p.created_by FROM policies p"                \
    " JOIN channels c ON c.id = p.channel_id"

static const char *const sql_text[ST__COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_AUDIT_INSERT] =
        "INSERT INTO audit (at_ms, actor, role, action, target, reason,"
        " source, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_AUDIT_LIST] = AUDIT_COLS " ORDER BY id DESC LIMIT ?5",
    [ST_AUDIT_LIST_ACTOR] =
        AUDIT_COLS " AND actor = ?1 ORDER BY id DESC LIMIT ?5",
    [ST_AUDIT_LIST_TARGET] =
        AUDIT_COLS " AND target = ?2 ORDER BY id DESC LIMIT ?5",
    [ST_AUDIT_LIST_BOTH] =
        AUDIT_COLS " AND actor = ?1 AND target = ?2 ORDER BY id DESC LIMIT ?5",
    [ST_CHANNEL_INSERT] =
        "INSERT INTO channels (name, description, created_ms,"
        " preflight_engine, preflight_corpus, preflight_timeout_s,"
        " preflight_memory_mb) VALUES (?, ?, ?, ?, ?, ?, ?)",
    [ST_CHANNEL_GET] = CHANNEL_COLS " WHERE name = ?",
    [ST_CHANNEL_LIST] = CHANNEL_COLS " ORDER BY name",
    [ST_CHANNEL_COMPLETE] =
        "UPDATE channels SET current_release_id ="
        " (SELECT release_id FROM rollouts WHERE id = ?1)"
        " WHERE id = (SELECT channel_id FROM rollouts WHERE id = ?1)",
    [ST_CHANNEL_UNDO] =
        "UPDATE channels SET current_release_id ="
        " (SELECT prev_release_id FROM rollouts WHERE id = ?1)"
        " WHERE id = (SELECT channel_id FROM rollouts WHERE id = ?1)"
        " AND current_release_id = (SELECT release_id FROM rollouts WHERE id = "
        "?1)",
    [ST_CHANNEL_SET_PREFLIGHT] =
        "UPDATE channels SET preflight_engine = ?, preflight_corpus = ?,"
        " preflight_timeout_s = ?, preflight_memory_mb = ? WHERE name = ?",
    [ST_ARTIFACT_INSERT] =
        "INSERT INTO artifacts (sha256, size, created_ms) VALUES (?, ?, ?)",
    [ST_ARTIFACT_GET] = "SELECT size FROM artifacts WHERE sha256 = ?",
    [ST_RELEASE_CHANNEL] =
        "SELECT c.id, (SELECT max(version) FROM releases WHERE channel_id = "
        "c.id),"
        " c.preflight_engine, c.preflight_corpus, c.preflight_timeout_s,"
        " c.preflight_memory_mb FROM channels c WHERE c.name = ?",
    [ST_RELEASE_INSERT] =
        "INSERT INTO releases (channel_id, version, sha256, notes, urgency,"
        " created_ms, created_by, preflight_status, preflight_engine,"
        " preflight_corpus, preflight_timeout_s, preflight_memory_mb,"
        " metadata, activation, activation_max_ms, activation_declared)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_RELEASE_GET] = RELEASE_COLS " WHERE r.id = ?",
    [ST_RELEASE_LIST] = RELEASE_COLS " ORDER BY r.id DESC",
    [ST_RELEASE_LIST_CHANNEL] =
        RELEASE_COLS " WHERE c.name = ? ORDER BY r.id DESC",
    [ST_RELEASE_EXISTS] = "SELECT 1 FROM releases WHERE id = ?",
    [ST_RELEASE_PREFLIGHT_FINISH] =
        "UPDATE releases SET preflight_status = ?, preflight_detail = ?,"
        " preflight_result = ?, preflight_done_ms = ?"
        " WHERE id = ? AND preflight_status = 'pending'",
    [ST_RELEASE_PREFLIGHT_STATUS] =
        "SELECT preflight_status FROM releases WHERE id = ?",
    [ST_RELEASE_PREFLIGHT_RESULT] =
        "SELECT preflight_result FROM releases WHERE id = ?",
    [ST_RELEASE_LIST_PENDING] =
        RELEASE_COLS " WHERE r.preflight_status = 'pending' ORDER BY r.id",
    [ST_RELEASE_LIFT_QUARANTINE] =
        "UPDATE releases SET quarantine_lifted_ms = ? WHERE id = ?",
    [ST_ROLLOUT_PREPARE] =
        "SELECT r.channel_id, c.name, r.version, c.current_release_id,"
        " cur.version FROM releases r JOIN channels c ON c.id = r.channel_id"
        " LEFT JOIN releases cur ON cur.id = c.current_release_id"
        " WHERE r.id = ?",
    [ST_ROLLOUT_ACTIVE] =
        "SELECT id FROM rollouts WHERE channel_id = ? AND active = 1",
    [ST_ROLLOUT_INSERT] =
        "INSERT INTO rollouts (release_id, channel_id, prev_release_id,"
        " plan_json, salt, state, wave, share_ppm, wave_started_ms,"
        " updated_ms, active, created_ms, created_by)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_ROLLOUT_GET] = ROLLOUT_COLS " WHERE o.id = ?",
    [ST_ROLLOUT_LIST] = ROLLOUT_COLS " ORDER BY o.id DESC",
    [ST_ROLLOUT_LIST_ACTIVE] =
        ROLLOUT_COLS " WHERE o.active = 1 ORDER BY o.id DESC",
    [ST_ROLLOUT_CAS] =
        "UPDATE rollouts SET state = ?1, wave = ?2, share_ppm = ?3,"
        " wave_started_ms = ?4, updated_ms = ?5, active = ?6"
        " WHERE id = ?7 AND state = ?8 AND wave = ?9 AND share_ppm = ?10"
        " AND wave_started_ms = ?11 AND updated_ms = ?12",
    [ST_ROLLOUT_STATE] = "SELECT state, wave FROM rollouts WHERE id = ?",
    [ST_DECISION_INSERT] =
        "INSERT INTO decisions (rollout_id, at_ms, from_state, to_state,"
        " from_wave, to_wave, reason, actor, evidence)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_DECISION_LIST] =
        "SELECT id, rollout_id, at_ms, from_state, to_state, from_wave,"
        " to_wave, reason, actor, evidence FROM decisions"
        " WHERE rollout_id = ? ORDER BY id",
    [ST_TOKEN_INSERT] =
        "INSERT INTO tokens (name, role, hash, created_ms, expires_ms,"
        " revoked_ms, created_by) VALUES (?, ?, ?, ?, ?, 0, ?)",
    [ST_TOKEN_FIND] = TOKEN_COLS " WHERE hash = ?",
    [ST_TOKEN_LIST] = TOKEN_COLS " ORDER BY id",
    [ST_TOKEN_REVOKE] =
        "UPDATE tokens SET revoked_ms = ? WHERE id = ? AND revoked_ms = 0",
    [ST_TOKEN_REVOKED] = "SELECT revoked_ms FROM tokens WHERE id = ?",
    [ST_KEY_INSERT] =
        "INSERT INTO enroll_keys (hash, created_ms, expires_ms, revoked_ms,"
        " uses_left, created_by) VALUES (?, ?, ?, ?, ?, ?)",
    [ST_KEY_FIND] =
        "SELECT id, expires_ms, revoked_ms, uses_left FROM enroll_keys"
        " WHERE hash = ?",
    [ST_KEY_CONSUME] = "UPDATE enroll_keys SET uses_left = uses_left - 1"
                       " WHERE id = ? AND uses_left > 0",
    [ST_KEY_LIST] =
        "SELECT id, hash, created_ms, expires_ms, revoked_ms, uses_left,"
        " created_by FROM enroll_keys ORDER BY id",
    [ST_KEY_REVOKE] =
        "UPDATE enroll_keys SET revoked_ms = ? WHERE id = ? AND revoked_ms = 0",
    [ST_KEY_EXISTS] = "SELECT 1 FROM enroll_keys WHERE id = ?",
    /* 1 when token ?1 is a usable admin token at ?2 and no other admin
     * token is lasting: unrevoked and either never expiring or expiring
     * after ?3 (store.h, RG_ADMIN_LASTING_MS). */
    [ST_TOKEN_ADMIN_CHECK] =
        "SELECT count(*) FROM tokens t WHERE t.id = ?1 AND t.role = 'admin'"
        " AND t.revoked_ms = 0 AND (t.expires_ms = 0 OR t.expires_ms > ?2)"
        " AND NOT EXISTS (SELECT 1 FROM tokens o WHERE o.id != ?1"
        " AND o.role = 'admin' AND o.revoked_ms = 0"
        " AND (o.expires_ms = 0 OR o.expires_ms > ?3))",
    [ST_ENDPOINT_UPSERT] =
        "INSERT INTO endpoints (id, token_hash, attrs_json, enrolled_ms,"
        " last_seen_ms, installed_json) VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (id) DO UPDATE SET token_hash = excluded.token_hash,"
        " attrs_json = excluded.attrs_json, enrolled_ms = excluded.enrolled_ms,"
        " identity_reset_ms = 0"
        " WHERE ?7 = 1 OR endpoints.identity_reset_ms > 0",
    [ST_ENDPOINT_SEEN] = "UPDATE endpoints SET last_seen_ms = ?, "
                         "installed_json = ? WHERE id = ?",
    [ST_ENDPOINT_LOAD] =
        "SELECT id, token_hash, attrs_json, enrolled_ms, last_seen_ms,"
        " installed_json FROM endpoints ORDER BY id",
    [ST_ENDPOINT_EXISTS] = "SELECT 1 FROM endpoints WHERE id = ?",
    [ST_ENDPOINT_RESET] =
        "UPDATE endpoints SET identity_reset_ms = ? WHERE id = ?",
    /* At most ?9 rows per (endpoint, release, type): the analysis needs
     * the first of each; the rest are acknowledged, not stored. */
    [ST_EVENT_INSERT] =
        "INSERT INTO events (endpoint_id, event_id, type, release_id, channel,"
        " reported_ms, received_ms, detail)"
        " SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8 WHERE (SELECT count(*)"
        " FROM events WHERE release_id = ?4 AND type = ?3"
        " AND endpoint_id = ?1) < ?9"
        " ON CONFLICT (endpoint_id, event_id) DO NOTHING",
    [ST_EVENT_COUNTS] =
        "SELECT CASE WHEN type IN ('applying', 'healthy') THEN type"
        " ELSE 'failed' END AS kind, count(DISTINCT endpoint_id)"
        " FROM events WHERE release_id = ? GROUP BY kind",
    [ST_EVENT_LIST] =
        "SELECT endpoint_id, event_id, type, release_id, channel, reported_ms,"
        " received_ms, detail FROM events WHERE release_id = ?"
        " ORDER BY received_ms",
    /* The oldest ?2 events received before ?1 of releases no rollout is
     * running (or paused, held...) for. */
    [ST_EVENT_PRUNE] =
        "DELETE FROM events WHERE (endpoint_id, event_id) IN"
        " (SELECT endpoint_id, event_id FROM events WHERE received_ms < ?1"
        " AND release_id NOT IN (SELECT release_id FROM rollouts"
        " WHERE active = 1) ORDER BY received_ms LIMIT ?2)",
    [ST_ROLLOUT_EXISTS] = "SELECT 1 FROM rollouts WHERE id = ?",
    [ST_POLICY_CHANNEL] = "SELECT id FROM channels WHERE name = ?",
    [ST_POLICY_RELEASE_CHANNEL] =
        "SELECT channel_id FROM releases WHERE id = ?",
    [ST_POLICY_COUNT] = "SELECT count(*) FROM policies",
    [ST_POLICY_INSERT] =
        "INSERT INTO policies (name, channel_id, selector_json, mode,"
        " release_id, created_ms, created_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
    [ST_POLICY_LIST] = POLICY_COLS " ORDER BY p.id",
    [ST_POLICY_GET] = POLICY_COLS " WHERE p.id = ?",
    [ST_POLICY_DELETE] = "DELETE FROM policies WHERE id = ?",
    [ST_ROOT_MAX] = "SELECT coalesce(max(version), 0) FROM roots",
    [ST_ROOT_INSERT] =
        "INSERT INTO roots (version, digest, json, created_ms, created_by)"
        " VALUES (?, ?, ?, ?, ?)",
    [ST_ROOT_LIST] =
        "SELECT version, digest, json, created_ms, created_by FROM roots"
        " WHERE version > ? ORDER BY version",
    [ST_OFFER_INSERT] =
        "INSERT INTO offers (endpoint_id, release_id, offered_ms)"
        " VALUES (?, ?, ?) ON CONFLICT (endpoint_id, release_id) DO NOTHING",
    [ST_OFFER_CHECK] =
        "SELECT 1 FROM offers WHERE endpoint_id = ? AND release_id = ?",
    [ST_OFFER_ARTIFACT] =
        "SELECT 1 FROM offers o JOIN releases r ON r.id = o.release_id"
        " WHERE o.endpoint_id = ? AND r.sha256 = ? LIMIT 1",
};

typedef struct sq {
    sqlite3 *db;
    pthread_mutex_t mu;
    int version; /* schema version after migrations */
    sqlite3_stmt *st[ST__COUNT];
} sq;

/* --- helpers ------------------------------------------------------------ */

/* Maps an SQLite failure to an rg_code with a message about what. */
static int db_fail(sq *q, int rc, rg_err *err, const char *what)
{
    int code = RG_EIO;
    int ext = sqlite3_extended_errcode(q->db);
    if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY)
        code = RG_ECONFLICT;
    else if (ext == SQLITE_CONSTRAINT_FOREIGNKEY)
        code = RG_ENOTFOUND;
    else if (rc == SQLITE_NOMEM)
        code = RG_ENOMEM;
    return rg_err_set(err, code, "%s: %s", what, sqlite3_errmsg(q->db));
}

/* The cached statement id, reset and with no bindings. */
static int stmt(sq *q, int id, sqlite3_stmt **out, rg_err *err)
{
    if (!q->st[id]) {
        int rc =
            sqlite3_prepare_v3(q->db, sql_text[id], -1,
                               SQLITE_PREPARE_PERSISTENT, &q->st[id], NULL);
        if (rc != SQLITE_OK)
            return db_fail(q, rc, err, "store: preparing a statement");
    } else {
        sqlite3_reset(q->st[id]);
        sqlite3_clear_bindings(q->st[id]);
    }
    *out = q->st[id];
    return 0;
}

/* Ends a statement's use so it holds no read snapshot. NULL is fine. */
static void done(sqlite3_stmt *st)
{
    if (st)
        sqlite3_reset(st);
}

/* Runs a cached statement that returns no rows. */
static int exec_id(sq *q, int id, rg_err *err, const char *what)
{
    sqlite3_stmt *st = NULL;
    int rc = stmt(q, id, &st, err);
    if (rc)
        return rc;
    rc = sqlite3_step(st);
    done(st);
    if (rc != SQLITE_DONE)
        return db_fail(q, rc, err, what);
    return 0;
}

static void lock(sq *q)
{
    pthread_mutex_lock(&q->mu);
}

static void unlock(sq *q)
{
    pthread_mutex_unlock(&q->mu);
}

/* Locks and begins a write transaction. On failure the lock is released. */
static int begin(sq *q, rg_err *err)
{
    lock(q);
    int rc = exec_id(q, ST_BEGIN, err, "store: begin");
    if (rc)
        unlock(q);
    return rc;
}

/* Commits when rc is 0 (rolling back if the commit fails), rolls back
 * otherwise; unlocks. Returns the final code. */
static int finish(sq *q, int rc, rg_err *err)
{
    if (rc == 0)
        rc = exec_id(q, ST_COMMIT, err, "store: commit");
    if (rc != 0 && !sqlite3_get_autocommit(q->db))
        exec_id(q, ST_ROLLBACK, NULL, "store: rollback");
    unlock(q);
    return rc;
}

static int bind_text(sqlite3_stmt *st, int i, const char *s)
{
    return sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

/* Binds an id where 0 means none (NULL). */
static int bind_ref(sqlite3_stmt *st, int i, int64_t id)
{
    return id ? sqlite3_bind_int64(st, i, id) : sqlite3_bind_null(st, i);
}

/* Copies column col into dst of cap bytes; stored text that does not fit
 * means the database was written by something else: RG_EIO. */
static int col_text(sqlite3_stmt *st, int col, char *dst, size_t cap,
                    rg_err *err)
{
    const unsigned char *s = sqlite3_column_text(st, col);
    size_t n = (size_t)sqlite3_column_bytes(st, col);
    if (n >= cap)
        return rg_err_set(err, RG_EIO,
                          "store: stored %s (%zu bytes) exceeds %zu",
                          sqlite3_column_name(st, col), n, cap - 1);
    if (n)
        memcpy(dst, s, n);
    dst[n] = '\0';
    return 0;
}

#define COL_TEXT(st, col, rec, f)                                              \
    col_text((st), (col), (rec)->f, sizeof(rec)->f, err)

/* Inserts the audit row a (if any) in the current transaction. */
static int audit_insert(sq *q, const rg_audit_rec *a, int64_t *id, rg_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;
    if (!a)
        return 0;
    if ((rc = stmt(q, ST_AUDIT_INSERT, &st, err)))
        return rc;
    sqlite3_bind_int64(st, 1, a->at_ms);
    bind_text(st, 2, a->actor);
    bind_text(st, 3, a->role);
    bind_text(st, 4, a->action);
    bind_text(st, 5, a->target);
    bind_text(st, 6, a->reason);
    bind_text(st, 7, a->source);
    bind_text(st, 8, a->detail);
    rc = sqlite3_step(st);
    done(st);
    if (rc != SQLITE_DONE)
        return db_fail(q, rc, err, "audit");
    if (id)
        *id = sqlite3_last_insert_rowid(q->db);
    return 0;
}

/* --- open, migrate, close ----------------------------------------------- */

static int pragma_int(sq *q, const char *sql, int *out, rg_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(q->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        *out = sqlite3_column_int(st, 0);
        rc = SQLITE_OK;
    }
    if (rc != SQLITE_OK)
        rc = db_fail(q, rc, err, sql);
    sqlite3_finalize(st);
    return rc;
}

static int exec_sql(sq *q, const char *sql, rg_err *err)
{
    int rc = sqlite3_exec(q->db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return db_fail(q, rc, err, sql);
    return 0;
}

/* Applies migrations until the schema reaches upto, each in its own
 * transaction together with its user_version bump. The version is read
 * inside the transaction, so two processes opening at once cannot apply a
 * migration twice. */
static int migrate(sq *q, int upto, rg_err *err)
{
    int rc, v = 0, applying = 0;
    char bump[48];
    for (;;) {
        if ((rc = exec_sql(q, "BEGIN IMMEDIATE", err)))
            return rc;
        if ((rc = pragma_int(q, "PRAGMA user_version", &v, err)))
            goto fail;
        if (v > N_MIGRATIONS) {
            rc = rg_err_set(err, RG_EIO,
                            "schema version %d is newer than this "
                            "build knows (%d)",
                            v, N_MIGRATIONS);
            goto fail;
        }
        if (v >= upto)
            break;
        applying = v + 1;
        for (const char *const *s = migrations[v]; *s; s++)
            if ((rc = exec_sql(q, *s, err)))
                goto fail;
        snprintf(bump, sizeof bump, "PRAGMA user_version = %d", v + 1);
        if ((rc = exec_sql(q, bump, err)) || (rc = exec_sql(q, "COMMIT", err)))
            goto fail;
        rg_info("store: migrated schema to version %d", v + 1);
        applying = 0;
    }
    q->version = v;
    return exec_sql(q, "COMMIT", err);
fail:
    if (!sqlite3_get_autocommit(q->db))
        sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
    if (err && applying) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        rg_err_set(err, RG_EIO, "migration %d failed: %s", applying, msg);
    }
    return rc;
}

static void sq_close(void *impl)
{
    sq *q = impl;
    if (!q)
        return;
    for (int i = 0; i < ST__COUNT; i++)
        sqlite3_finalize(q->st[i]);
    sqlite3_close(q->db);
    pthread_mutex_destroy(&q->mu);
    free(q);
}

static int sq_open(const char *path, int upto, void **impl, rg_err *err)
{
    sq *q = NULL;
    char mode[16] = "";
    sqlite3_stmt *st = NULL;
    int rc;

    *impl = NULL;
    if (upto == RG__SCHEMA_LATEST || upto > N_MIGRATIONS)
        upto = N_MIGRATIONS;
    q = calloc(1, sizeof *q);
    if (!q)
        return rg_err_set(err, RG_ENOMEM, "store '%s': out of memory", path);
    pthread_mutex_init(&q->mu, NULL);
    rc = sqlite3_open_v2(
        path, &q->db,
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        rc = rg_err_set(err, RG_EIO, "store '%s': %s", path,
                        q->db ? sqlite3_errmsg(q->db) : sqlite3_errstr(rc));
        goto cleanup;
    }
    sqlite3_extended_result_codes(q->db, 1);
    sqlite3_busy_timeout(q->db, BUSY_TIMEOUT_MS);

    /* journal_mode answers the mode in force; an in-memory database keeps
     * "memory" (nothing to make durable there). */
    rc = sqlite3_prepare_v2(q->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *m = sqlite3_column_text(st, 0);
        snprintf(mode, sizeof mode, "%s", m ? (const char *)m : "");
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK) {
        rc = db_fail(q, rc, err, "journal_mode");
        goto cleanup;
    }
    if (strcmp(mode, "wal") != 0 && strcmp(path, ":memory:") != 0) {
        rc = rg_err_set(err, RG_EIO,
                        "store '%s': cannot use WAL (journal mode %s)", path,
                        mode);
        goto cleanup;
    }
    if ((rc = exec_sql(q, "PRAGMA synchronous = FULL", err)) ||
        (rc = exec_sql(q, "PRAGMA foreign_keys = ON", err)) ||
        (rc = migrate(q, upto, err)))
        goto cleanup;
    *impl = q;
    q = NULL;
cleanup:
    if (rc && err && strstr(err->msg, path) == NULL) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        rg_err_set(err, rc, "store '%s': %s", path, msg);
    }
    sq_close(q);
    return rc;
}

static int sq_schema_version(void *impl)
{
    sq *q = impl;
    return q->version;
}

/* --- audit -------------------------------------------------------------- */

static int sq_audit_append(void *impl, rg_audit_rec *a, rg_err *err)
{
    sq *q = impl;
    int64_t id = 0;
    int rc = begin(q, err);
    if (rc)
        return rc;
    rc = finish(q, audit_insert(q, a, &id, err), err);
    if (rc == 0)
        a->id = id;
    return rc;
}

static int sq_audit_list(void *impl, const rg_audit_filter *f,
                         int (*fn)(void *ctx, const rg_audit_rec *a), void *ctx,
                         rg_err *err)
{
    sq *q = impl;
    sqlite3_stmt *st = NULL;
    rg_audit_rec *a = NULL;
    int id = f->actor ? (f->target ? ST_AUDIT_LIST_BOTH : ST_AUDIT_LIST_ACTOR)
                      : (f->target ? ST_AUDIT_LIST_TARGET : ST_AUDIT_LIST);
    int rc;

    a = malloc(sizeof *a);
    if (!a)
        return rg_err_set(err, RG_ENOMEM, "audit list: out of memory");
    lock(q);
    if ((rc = stmt(q, id, &st, err)))
        goto cleanup;
    if (f->actor)
        bind_text(st, 1, f->actor);
    if (f->target)
        bind_text(st, 2, f->target);
    if (f->action)
        bind_text(st, 6, f->action);
    sqlite3_bind_int64(st, 3, f->since_ms);
    sqlite3_bind_int64(st, 4, f->until_ms);
    sqlite3_bind_int64(st, 5, f->limit > 0 ? f->limit : 1000);
    sqlite3_bind_int64(st, 7, f->before_id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        a->id = sqlite3_column_int64(st, 0);
        a->at_ms = sqlite3_column_int64(st, 1);
        if ((rc = COL_TEXT(st, 2, a, actor)) ||
            (rc = COL_TEXT(st, 3, a, role)) ||
            (rc = COL_TEXT(st, 4, a, action)) ||
            (rc = COL_TEXT(st, 5, a, target)) ||
            (rc = COL_TEXT(st, 6, a, reason)) ||
            (rc = COL_TEXT(st, 7, a, source)) ||
            (rc = COL_TEXT(st, 8, a, detail)) || (rc = fn(ctx, a)))
            goto cleanup;
    }
    rc = rc == SQLITE_DONE ? 0 : db_fail(q, rc, err, "audit list");
cleanup:
    done(st);
    unlock(q);
    free(a);
    return rc;
}

/* --- channels ----------------------------------------------------------- */

static int artifact_size(sq *q, const char *sha256, uint64_t *size,
                         rg_err *err);

/* Reads a preflight spec from columns col.. col+3 (engine, corpus,
 * timeout_s, memory_mb). */
static int read_spec(sqlite3_stmt *st, int col, rg_preflight_spec *p,
                     rg_err *err)
{
    int rc;
    if ((rc = COL_TEXT(st, col, p, engine)) ||
        (rc = COL_TEXT(st, col + 1, p, corpus)))
        return rc;
    p->timeout_s = sqlite3_column_int64(st, col + 2);
    p->memory_mb = sqlite3_column_int64(st, col + 3);
    return 0;
}

/* Binds spec p to parameters i .. i+3 (engine, corpus, timeout_s,
 * memory_mb). */
static void bind_spec(sqlite3_stmt *st, int i, const rg_preflight_spec *p)
{
    bind_text(st, i, p->engine);
    bind_text(st, i + 1, p->corpus);
    sqlite3_bind_int64(st, i + 2, p->timeout_s);
    sqlite3_bind_int64(st, i + 3, p->memory_mb);
}

/* RG_ENOTFOUND (field preflight.corpus) unless spec's corpus is "" or a
 * recorded artifact. Caller holds the lock. */
static int corpus_known(sq *q, const rg_preflight_spec *p, rg_err *err)
{
    uint64_t size = 0;
    if (!p->corpus[0])
        return 0;
    int rc = artifact_size(q, p->corpus, &size, err);
    if (rc == RG_ENOTFOUND)
        rc = rg_err_field(err, RG_ENOTFOUND, "preflight.corpus",
                          "preflight corpus: artifact '%s' not found",
                          p->corpus);
    return rc;
}

static int read_channel(sqlite3_stmt *st, rg_channel_rec *c, rg_err *err)
{
    int rc;
    c->id = sqlite3_column_int64(st, 0);
    if ((rc = COL_TEXT(st, 1, c, name)) ||
        (rc = COL_TEXT(st, 2, c, description)))
        return rc;
    c->created_ms = sqlite3_column_int64(st, 3);
    c->current_release_id = sqlite3_column_int64(st, 4);
    return read_spec(st, 5, &c->preflight, err);
}

static int sq_channel_create(void *impl, rg_channel_rec *c,
                             const rg_audit_rec *audit, rg_err *err)
{
    sq *q = impl;
    sqlite3_stmt *st = NULL;
    int64_t id = 0;
    int rc = begin(q, err);
    if (rc)
        return rc;
    if ((rc = corpus_known(q, &c->preflight, err)) ||
        (rc = stmt(q, ST_CHANNEL_INSERT, &st, err)))
        goto cleanup;
    bind_text(st, 1, c->name);
    bind_text(st, 2, c->description);
    sqlite3_bind_int64(st, 3, c->created_ms);
    bind_spec(st, 4, &c->preflight);
    if ((rc = sqlite3_step(st)) != SQLITE_DONE) {
        if (sqlite3_extended_errcode(q->db) == SQLITE_CONSTRAINT_UNIQUE)
            rc = rg_err_field(err, RG_ECONFLICT, "name",
                              "channel '%s' already exists", c->name);
        else
            rc = db_fail(q, rc, err, "channel create");
        goto cleanup;
    }
    id = sqlite3_last_insert_rowid(q->db);
    rc = audit_insert(q, audit, NULL, err);
cleanup:
    done(st);
    rc = finish(q, rc, err);
    if (rc == 0) {
        c->id = id;
        c->current_release_id = 0;
    }
    return rc;
}

static int sq_channel_get(void *impl, const char *name, rg_channel_rec *out,
                          rg_err *err)
{
    sq *q = impl;
    sqlite3_stmt *st = NULL;
    int rc;
    lock(q);
    if ((rc = stmt(q, ST_CHANNEL_GET, &st, err)))
        goto cleanup;
    bind_text(st, 1, name);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        rc = read_channel(st, out, err);
    else if (rc == SQLITE_DONE)
        rc = rg_err_set(err, RG_ENOTFOUND, "channel '%s' not found", name);
    else
        rc = db_fail(q, rc, err, "channel get");
cleanup:
    done(st);
    unlock(q);
    return rc;
}

static int sq_channel_list(void *impl,
                           int (*fn)(void *ctx, const rg_channel_rec *c),
                           void *ctx, rg_err *err)
{
    sq *q = impl;
    sqlite3_stmt *st = NULL;
    rg_channel_rec c;
    int rc;
    lock(q);
    if ((rc = stmt(q, ST_CHANNEL_LIST, &st, err)))
        goto cleanup;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if ((rc = read_channel(st, &c, err)) || (rc = fn(ctx, &c)))
            goto cleanup;
    rc = rc == SQLITE_DONE ? 0 : db_fail(q, rc, err, "channel list");
cleanup:
    done(st);
    unlock(q);
    return rc;
}

static int sq_channel_set_preflight(void *impl, const char *name,
                                    const rg_preflight_spec *spec,
                                    const rg_audit_rec *audit, rg_err *err)
{
    sq *q = impl;
    sqlite3_stmt *st = NULL;
    int rc = begin(q, err);
    if (rc)
        return rc;
    if ((rc = corpus_known(q, spec, err)) ||
        (rc = stmt(q, ST_CHANNEL_SET_PREFLIGHT, &st, err)))
        goto cleanup;
    bind_spec(st, 1, spec);
    bind_text(st, 5, name);
    if ((rc = sqlite3_step(st)) != SQLITE_DONE) {
        rc = db_fail(q, rc, err, "channel preflight");
        goto cleanup;
    }
    if (sqlite3_changes(q->db) != 1) {
        rc = rg_err_set(err, RG_ENOTFOUND, "channel '%s' not found", name);
        goto cleanup;
    }
    rc = audit_insert(q, audit, NULL, err);
cleanup:
    done(st);
    return finish(q, rc, err);
}

/* --- artifacts ---------------------------------------------------------- */

/* Reads the recorded size of sha256 into *size; RG_ENOTFOUND when none.
 * Caller holds the lock. */
static int artifact_size(sq *q, const char *sha256, uint64_t *size, rg_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = stmt(q, ST_ARTIFACT_GET, &st, err);
    if (rc)
        return rc;
    bind_text(st, 1, sha256);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *size = (uint64_t)sqlite3_column_int64(st, 0);
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = rg_err_field(err, RG_ENOTFOUND, "artifact",
                          "artifact '%s' not found", sha256);
    } else {
        rc = db_fail(q, rc, err, "artifact get");
    }
    done(st);
    return rc;
}

static int sq_artifact_put(void *impl, const char *sha256, uint64_t size,
                           int64_t now_ms, const rg_audit_rec *audit,
                           rg_err *err)
{
    sq *q = impl;
    sqlite3_stmt *st = NULL;
    uint64_t have = 0;
    int rc = begin(q, err);
    if (rc)
        return rc;
    rc = artifact_size(q, sha256, &have, err);
    if (rc == 0) {
        /* Already recorded: nothing changes, nothing to audit. */
        if (have != size)
            rc = rg_err_set(err, RG_ECONFLICT,
                            "artifact '%s': recorded with size %llu, not %llu",
                            sha256, (unsigned long long)have,
                            (unsigned long long)size);
        goto cleanup;
    }
    if (rc != RG_ENOTFOUND)
        goto cleanup;
    rg_err_clear(err);
    if ((rc = stmt(q, ST_ARTIFACT_INSERT, &st, err)))
        goto cleanup;
    bind_text(st, 1, sha256);
    sqlite3_bind_int64(st, 2, (int64_t)size);
    sqlite3_bind_int64(st, 3, now_ms);
    if ((rc = sqlite3_step(st)) != SQLITE_DONE) {
        rc = db_fail(q, rc, err, "artifact put");
        goto cleanup;
    }
    rc = audit_insert(q, audit, NULL, err);
cleanup:
    done(st);
    return finish(q, rc, err);
}

static int sq_artifact_get(void *impl, const char *sha256, uint64_t *size,
                           rg_err *err)
{
    sq *q = impl;
    lock(q);
    int rc = artifact_size(q, sha256, size, err);
    unlock(q);
    return rc;
}

/* --- releases ----------------------------------------------------------- */

static int read_release(sqlite3_stmt *st, rg_release_rec *r, rg_err *err)
{
    int rc;
    r->id = sqlite3_column_int64(st, 0);
    r->channel_id = sqlite3_column_int64(st, 1);
    if ((rc = COL_TEXT(st, 2, r, channel)))
        return rc;
    r->version = sqlite3_column_int64(st, 3);
    if ((rc = COL_TEXT(st, 4, r, sha256)))
        return rc;
    r->size = (uint64_t)sqlite3_column_int64(st, 5);
    if ((rc = COL_TEXT(st, 6, r, notes)) || (rc = COL_TEXT(st, 7, r, urgency)))
        return rc;
    r->created_ms = sqlite3_column_int64(st, 8);
    if ((rc = COL_TEXT(st, 9, r, created_by)) ||
        (rc = COL_TEXT(st, 10, r, preflight_status)) ||
        (rc = read_spec(st, 11, &r->preflight, err)) ||
        (rc = COL_TEXT(st, 15, r, preflight_detail)))
        return rc;
    r->preflight_done_ms = sqlite3_column_int64(st, 16);
    if ((rc = COL_TEXT(st, 17, r, metadata)))
        return rc;
    r->quarantine_lifted_ms = sqlite3_column_int64(st, 18);
    r->activation = sqlite3_column_int(st, 19);
    r->activation_max_ms = sqlite3_column_int64(st, 20);
    r->activation_declared = sqlite3_column_int(st, 21) != 0;
    return 0;
}

static int sq_release_create(void *impl, rg_release_rec *r,
                             const rg_audit_rec *audit, rg_err *err)
{
    sq *q = impl;
    sqlite3_stmt *ch = NULL, *st = NULL;
    int64_t channel_id = 0, id = 0, max_version = 0;
    uint64_t size = 0;
    rg_preflight_spec spec;
    int rc = begin(q, err);
    if (rc)
        return rc;

    if ((rc = stmt(q, ST_RELEASE_CHANNEL, &ch, err)))
        goto cleanup;
    bind_text(ch, 1, r->channel);
    rc = sqlite3_step(ch);
    if (rc == SQLITE_DONE) {
        rc = rg_err_field(err, RG_ENOTFOUND, "channel",
                          "channel '%s' not found", r->channel);
        goto cleanup;
    }
    if (rc != SQLITE_ROW) {
        rc = db_fail(q, rc, err, "release create");
        goto cleanup;
    }
    channel_id = sqlite3_column_int64(ch, 0);
    max_version = sqlite3_column_int64(ch, 1); /* NULL reads as 0 */
    if ((rc = read_spec(ch, 2, &spec, err)))
        goto cleanup;
    done(ch);
    ch = NULL;
    if (r->version <= max_version) {
        rc = rg_err_field(err, RG_ECONFLICT, "version",
                          "channel '%s': version %lld is not above %lld",
                          r->channel, (long long)r->version,
                          (long long)max_version);
        goto cleanup;
    }
    if ((rc = artifact_size(q, r->sha256, &size, err)))
        goto cleanup;

    if ((rc = stmt(q, ST_RELEASE_INSERT, &st, err)))
        goto cleanup;
    sqlite3_bind_int64(st, 1, channel_id);
    sqlite3_bind_int64(st, 2, r->version);
    bind_text(st, 3, r->sha256);
    bind_text(st, 4, r->notes);
    bind_text(st, 5, r->urgency);
    sqlite3_bind_int64(st, 6, r->created_ms);
    bind_text(st, 7, r->created_by);
    bind_text(st, 8, spec.engine[0] ? "pending" : "none");
    bind_spec(st, 9, &spec);
    bind_text(st, 13, r->metadata);
    sqlite3_bind_int(st, 14, r->activation);
    sqlite3_bind_int64(st, 15, r->activation_max_ms);
    sqlite3_bind_int(st, 16, r->activation_declared);
    if ((rc = sqlite3_step(st)) != SQLITE_DONE) {
        rc = db_fail(q, rc, err, "release create");
        goto cleanup;
    }
    id = sqlite3_last_insert_rowid(q->db);
    rc = audit_insert(q, audit, NULL, err);
cleanup:
    done(ch);
    done(st);
    rc = finish(q, rc, err);
    if (rc == 0) {
        r->id = id;
        r->channel_id = channel_id;
        r->size = size;
        snprintf(r->preflight_status, sizeof r->preflight_status, "%s",
                 spec.engine[0] ? "pending" : "none");
        r->preflight = spec;
        r->preflight_detail[0] = '\0';
        r->preflight_done_ms = 0;
    }
    return rc;
}

static int sq_release_get(void *impl, int64_t id, rg_release_rec *out,
                          rg_err *err)
{
    sq *q = impl;
    sqlite3_stmt *st = NULL;
    int rc;
    lock(q);
    if ((rc = stmt(q, ST_RELEASE_GET, &st, err)))
        goto cleanup;
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        rc = read_release(st, out, err);
    else if (rc == SQLITE_DONE)
        rc = rg_err_set(err, RG_ENOTFOUND, "release %lld not found",
                        (long long)id);
    else
        rc = db_fail(q, rc, err, "release get");
cleanup:
    done(st);
    unlock(q);
    return rc;
}

static int sq_release_list(void *impl, const char *channel,
                           int (*fn)(void *ctx, const rg_release_rec *r),
                           void *ctx, rg_err *err)
{
    sq *q = impl;
    sqlite3_stmt *ch = NULL, *st = NULL;
    rg_release_rec *r = NULL;
    int rc;

    r = malloc(sizeof *r);
    if (!r)
        return rg_err_set(err, RG_ENOMEM, "release list: out of memory");
    lock(q);
    if (channel) {
        if ((rc = stmt(q, ST_RELEASE_CHANNEL, &ch, err)))
            goto cleanup;
        bind_text(ch, 1, channel);
        rc = sqlite3_step(ch);
        if (rc == SQLITE_DONE) {
            rc = rg_err_field(err, RG_ENOTFOUND, "channel",
                              "channel '%s' not found", channel);
            goto cleanup;
        }
        if (rc != SQLITE_ROW) {
            rc = db_fail(q, rc, err, "release list");
            goto cleanup;
        }
    }
    if ((rc = stmt(q, channel ? ST_RELEASE_LIST_CHANNEL : ST_RELEASE_LIST, &st,
                   err)))
        goto cleanup;
    if (channel)
        bind_text(st, 1, channel);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if ((rc = read_release(st, r, err)) || (rc = fn(ctx, r)))
            goto cleanup;
    rc = rc == SQLITE_DONE ? 0 : db_fail(q, rc, err, "release list");
cleanup:
    done(ch);
    done(st);
    unlock(q);
    free(r);
    return rc;
}

static int sq_release_preflight_finish(void *impl, int64_t id, bool passed,
                                       const char *detail,
                                       const char *result_json, int64_t done_ms,
                                       const rg_audit_rec *audit, rg_err *err)
{
    sq *q = impl;
    sqlite3_stmt *st = NULL, *chk = NULL;
    int rc = begin(q, err);
    if (rc)
        return rc;
    if ((rc = stmt(q, ST_RELEASE_PREFLIGHT_FINISH, &st, err)))
        goto cleanup;
    bind_text(st, 1, passed ? "passed" : "failed");
    bind_text(st, 2, detail);
    bind_text(st, 3, result_json);
    sqlite3_bind_int64(st, 4, done_ms);
    sqlite3_bind_int64(st, 5, id);
    if ((rc = sqlite3_step(st)) != SQLITE_DONE) {
        rc = db_fail(q, rc, err, "release preflight");
        goto cleanup;
    }
    if (sqlite3_changes(q->db) != 1) {
        if ((rc = stmt(q, ST_RELEASE_PREFLIGHT_STATUS, &chk, err)))
            goto cleanup;
        sqlite3_bind_int64(chk, 1, id);
        rc = sqlite3_step(chk);
        if (rc == SQLITE_ROW)
            rc = rg_err_set(err, RG_ECONFLICT,
                            "release %lld: preflight is %s, not pending",
                            (long long)id, sqlite3_column_text(chk, 0));
        else if (rc == SQLITE_DONE)
            rc = rg_err_set(err, RG_ENOTFOUND, "release %lld not found",
                            (long long)id);
        else
            rc = db_fail(q, rc, err, "release preflight");
        goto cleanup;
    }
    rc = audit_insert(q, audit, NULL, err);
cleanup:
    done(st);
    done(chk);
    return finish(q, rc, err);
}

static int sq_release_lift_quarantine(void *impl, int64_t id, int64_t at_ms,
                                      const rg_audit_rec *audit, rg_err *err)
{
    sq *q = impl;
    sqlite3_stmt *st = NULL;
    int rc = begin(q, err);
    if (rc)
        return rc;
    if ((rc = stmt(q, ST_RELEASE_LIFT_QUARANTINE, &st, err)))
        goto cleanup;
    sqlite3_bind_int64(st, 1, at_ms);
    sqlite3_bind_int64(st, 2, id);
    if ((rc = sqlite3_step(st)) != SQLITE_DONE) {
        rc = db_fail(q, rc, err, "release lift quarantine");
        goto cleanup;
    }
    if (sqlite3_changes(q->db) != 1) {
        rc = rg_err_set(err, RG_ENOTFOUND, "release %lld not found",
                        (long long)id);
        goto cleanup;
    }
    rc = audit_insert(q, audit, NULL, err);
cleanup:
    done(st);
    return finish(q, rc, err);
}

static int sq_release_preflight_result(void *impl, int64_t id, char **json,
                                       rg_err *err)
{
    sq *q = impl;
    sqlite3_stmt *st = NULL;
    int rc;
    lock(q);
    if ((rc = stmt(q, ST_RELEASE_PREFLIGHT_RESULT, &st, err)))
        goto cleanup;
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *s = (const char *)sqlite3_column_text(st, 0);
        *json = strdup(s ? s : "");
        rc = *json ? 0
                   : rg_err_set(err, RG_ENOMEM, "release %lld: out of memory",
                                (long long)id);
    } else if (rc == SQLITE_DONE) {
        rc = rg_err_set(err, RG_ENOTFOUND, "release %lld not found",
                        (long long)id);
    } else {
        rc = db_fail(q, rc, err, "release preflight result");
    }
cleanup:
    done(st);
    unlock(q);
    return rc;
}

static int sq_release_preflight_pending(void *impl,
                                        int (*fn)(void *ctx,
                                                  const rg_release_rec *r),
                                        void *ctx, rg_err *err)
{
    sq *q = impl;
    sqlite3_stmt *st = NULL;
    rg_release_rec *r = malloc(sizeof *r);
    int rc;
    if (!r)
        return rg_err_set(err, RG_ENOMEM, "release list: out of memory");
    lock(q);
    if ((rc = stmt(q, ST_RELEASE_LIST_PENDING, &st, err)))
        goto cleanup;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if ((rc = read_release(st, r, err)) || (rc = fn(ctx, r)))
            goto cleanup;
    rc = rc == SQLITE_DONE ? 0 : db_fail(q, rc, err, "release list");
cleanup:
    done(st);
    unlock(q);
    free(r);
    return rc;
}

/* --- rollouts ----------------------------------------------------------- */

static int read_rollout(sqlite3_stmt *st, rg_rollout_rec *r, rg_err *err)
{
    int rc;
    json_error_t jerr;
    json_t *plan = NULL;

    r->id = sqlite3_column_int64(st, 0);
    r->release_id = sqlite3_column_int64(st, 1);
    r->channel_id = sqlite3_column_int64(st, 2);
    if ((rc = COL_TEXT(st, 3, r, channel)))
        return rc;
    r->prev_release_id = sqlite3_column_int64(st, 4);
    plan = json_loads((const char *)sqlite3_column_text(st, 5), 0, &jerr);
    if (!plan)
        return rg_err_set(err, RG_EIO, "rollout %lld: stored plan: %s",
                          (long long)r->id, jerr.text);
    rg_err perr;
    rg_err_clear(&perr);
    rc = rg_plan_from_json(plan, &r->plan, &perr);
    json_decref(plan);
    if (rc)
        return rg_err_set(err, RG_EIO, "rollout %lld: stored plan: %s",
                          (long long)r->id, perr.msg);
    if ((rc = COL_TEXT(st, 6, r, salt)))
        return rc;
    r->status.state = sqlite3_column_int(st, 7);
    r->status.wave = sqlite3_column_int(st, 8);
    r->status.share_ppm = (uint32_t)sqlite3_column_int64(st, 9);
    r->status.wave_started_ms = sqlite3_column_int64(st, 10);
    r->status.updated_ms = sqlite3_column_int64(st, 11);
    r->created_ms = sqlite3_column_int64(st, 12);
    return COL_TEXT(st, 13, r, created_by);
}

/* Appends one decision row of rollout id inside the caller's transaction. */
static int decision_insert(sq *q, int64_t id, int64_t at_ms,
                           const rg_transition *tr, const char *actor,
                           const char *evidence_json, rg_err *err)
{
    sqlite3_stmt *dec = NULL;
    int rc = stmt(q, ST_DECISION_INSERT, &dec, err);
    if (rc)
        return rc;
    sqlite3_bind_int64(dec, 1, id);
    sqlite3_bind_int64(dec, 2, at_ms);
    sqlite3_bind_int(dec, 3, tr->from_state);
    sqlite3_bind_int(dec, 4, tr->to_state);
    sqlite3_bind_int(dec, 5, tr->from_wave);
    sqlite3_bind_int(dec, 6, tr->to_wave);
    bind_text(dec, 7, tr->reason);
    bind_text(dec, 8, actor);
    bind_text(dec, 9, evidence_json);
    rc = sqlite3_step(dec);
    done(dec);
    if (rc != SQLITE_DONE)
        return db_fail(q, rc, err, "rollout decision");
    return 0;
}

static int sq_rollout_create(void *impl, rg_rollout_rec *r,
                             const rg_audit_rec *audit, rg_err *err)
{
    sq *q = impl;
    sqlite3_stmt *pre = NULL, *act = NULL, *st = NULL;
    rg_rollout_rec got = {0};
    char *plan = NULL;
    json_t *pj = NULL;
    int64_t id = 0, version = 0, cur_version = 0;
    bool active = !rg_rollout_state_final(r->status.state);
    int rc;

    pj = rg_plan_to_json(&r->plan);
    plan = pj ? json_dumps(pj, JSON_COMPACT) : NULL;
    json_decref(pj);
    if (!plan)
        return rg_err_set(err, RG_ENOMEM, "rollout: plan serialisation failed");
    if ((rc = begin(q, err)))
        goto out;

    if ((rc = stmt(q, ST_ROLLOUT_PREPARE, &pre, err)))
        goto cleanup;
    sqlite3_bind_int64(pre, 1, r->release_id);
    rc = sqlite3_step(pre);
    if (rc == SQLITE_DONE) {
        rc = rg_err_field(err, RG_ENOTFOUND, "release",
                          "release %lld not found", (long long)r->release_id);
        goto cleanup;
    }
    if (rc != SQLITE_ROW) {
        rc = db_fail(q, rc, err, "rollout create");
        goto cleanup;
    }
    got.channel_id = sqlite3_column_int64(pre, 0);
    if ((rc = COL_TEXT(pre, 1, &got, channel)))
        goto cleanup;
    version = sqlite3_column_int64(pre, 2);
    got.prev_release_id = sqlite3_column_int64(pre, 3);
    cur_version = sqlite3_column_int64(pre, 4);
    done(pre);
    pre = NULL;
    if (got.prev_release_id && version <= cur_version) {
        rc = rg_err_field(err, RG_ECONFLICT, "release",
                          "release %lld (version %lld) is not newer than "
                          "channel '%s''s current release %lld (version %lld)",
                          (long long)r->release_id, (long long)version,
                          got.channel, (long long)got.prev_release_id,
                          (long long)cur_version);
        goto cleanup;
    }
    if (active) {
        if ((rc = stmt(q, ST_ROLLOUT_ACTIVE, &act, err)))
            goto cleanup;
        sqlite3_bind_int64(act, 1, got.channel_id);
        rc = sqlite3_step(act);
        if (rc == SQLITE_ROW) {
            rc = rg_err_field(err, RG_ECONFLICT, "release",
                              "channel '%s' already has active rollout %lld",
                              got.channel,
                              (long long)sqlite3_column_int64(act, 0));
            goto cleanup;
        }
        if (rc != SQLITE_DONE) {
            rc = db_fail(q, rc, err, "rollout create");
            goto cleanup;
        }
    }

    if ((rc = stmt(q, ST_ROLLOUT_INSERT, &st, err)))
        goto cleanup;
    sqlite3_bind_int64(st, 1, r->release_id);
    sqlite3_bind_int64(st, 2, got.channel_id);
    bind_ref(st, 3, got.prev_release_id);
    bind_text(st, 4, plan);
    bind_text(st, 5, r->salt);
    sqlite3_bind_int(st, 6, r->status.state);
    sqlite3_bind_int(st, 7, r->status.wave);
    sqlite3_bind_int64(st, 8, r->status.share_ppm);
    sqlite3_bind_int64(st, 9, r->status.wave_started_ms);
    sqlite3_bind_int64(st, 10, r->status.updated_ms);
    sqlite3_bind_int(st, 11, active);
    sqlite3_bind_int64(st, 12, r->created_ms);
    bind_text(st, 13, r->created_by);
    if ((rc = sqlite3_step(st)) != SQLITE_DONE) {
        rc = db_fail(q, rc, err, "rollout create");
        goto cleanup;
    }
    id = sqlite3_last_insert_rowid(q->db);
    if (r->status.state != RG_RO_PENDING) {
        rg_transition start = {RG_RO_PENDING, r->status.state, 0,
                               r->status.wave, ""};
        snprintf(start.reason, sizeof start.reason, "started by %s",
                 r->created_by);
        if ((rc = decision_insert(q, id, r->status.updated_ms, &start,
                                  r->created_by, "", err)))
            goto cleanup;
    }
    rc = audit_insert(q, audit, NULL, err);
cleanup:
    done(pre);
    done(act);
    done(st);
    rc = finish(q, rc, err);
    if (rc == 0) {
        r->id = id;
        r->channel_id = got.channel_id;
        memcpy(r->channel, got.channel, sizeof r->channel);
        r->prev_release_id = got.prev_release_id;
    }
out:
    free(plan);
    return rc;
}

static int sq_rollout_get(void *impl, int64_t id, rg_rollout_rec *out,
                          rg_err *err)
{
    sq *q = impl;
    sqlite3_stmt *st = NULL;
    int rc;
    lock(q);
    if ((rc = stmt(q, ST_ROLLOUT_GET, &st, err)))
        goto cleanup;
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        rc = read_rollout(st, out, err);
    else if (rc == SQLITE_DONE)
        rc = rg_err_set(err, RG_ENOTFOUND, "rollout %lld not found",
                        (long long)id);
    else
        rc = db_fail(q, rc, err, "rollout get");
cleanup:
    done(st);
    unlock(q);
    return rc;
}

static int sq_rollout_list(void *impl, bool active_only,
                           int (*fn)(void *ctx, const rg_rollout_rec *r),
                           void *ctx, rg_err *err)
{
    sq *q = impl;
    sqlite3_stmt *st = NULL;
    rg_rollout_rec *r = NULL;
    int rc;

    r = malloc(sizeof *r);
    if (!r)
        return rg_err_set(err, RG_ENOMEM, "rollout list: out of memory");
    lock(q);
    if ((rc = stmt(q, active_only ? ST_ROLLOUT_LIST_ACTIVE : ST_ROLLOUT_LIST,
                   &st, err)))
        goto cleanup;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if ((rc = read_rollout(st, r, err)) || (rc = fn(ctx, r)))
            goto cleanup;
    rc = rc == SQLITE_DONE ? 0 : db_fail(q, rc, err, "rollout list");
cleanup:
    done(st);
    unlock(q);
    free(r);
    return rc;
}

/* Explains a failed compare-and-set on rollout id: RG_ENOTFOUND or
 * RG_ECONFLICT naming the stored state. Caller holds the lock. */
static int cas_failed(sq *q, int64_t id, rg_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = stmt(q, ST_ROLLOUT_STATE, &st, err);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        rc = rg_err_set(err, RG_ECONFLICT,
                        "rollout %lld changed meanwhile (now %s, wave %d)",
                        (long long)id,
                        rg_rollout_state_name(sqlite3_column_int(st, 0)),
                        sqlite3_column_int(st, 1));
    else if (rc == SQLITE_DONE)
        rc = rg_err_set(err, RG_ENOTFOUND, "rollout %lld not found",
                        (long long)id);
    else
        rc = db_fail(q, rc, err, "rollout transition");
    done(st);
    return rc;
}

static int sq_rollout_transition(void *impl, int64_t id,
                                 const rg_rollout_status *cur,
                                 const rg_rollout_status *next,
                                 const rg_transition *tr, const char *actor,
                                 const char *evidence_json,
                                 const rg_audit_rec *audit, rg_err *err)
{
    sq *q = impl;
    sqlite3_stmt *cas = NULL, *ch = NULL;
    int rc = begin(q, err);
    if (rc)
        return rc;

    if ((rc = stmt(q, ST_ROLLOUT_CAS, &cas, err)))
        goto cleanup;
    sqlite3_bind_int(cas, 1, next->state);
    sqlite3_bind_int(cas, 2, next->wave);
    sqlite3_bind_int64(cas, 3, next->share_ppm);
    sqlite3_bind_int64(cas, 4, next->wave_started_ms);
    sqlite3_bind_int64(cas, 5, next->updated_ms);
    sqlite3_bind_int(cas, 6, !rg_rollout_state_final(next->state));
    sqlite3_bind_int64(cas, 7, id);
    sqlite3_bind_int(cas, 8, cur->state);
    sqlite3_bind_int(cas, 9, cur->wave);
    sqlite3_bind_int64(cas, 10, cur->share_ppm);
    sqlite3_bind_int64(cas, 11, cur->wave_started_ms);
    sqlite3_bind_int64(cas, 12, cur->updated_ms);
    if ((rc = sqlite3_step(cas)) != SQLITE_DONE) {
        rc = db_fail(q, rc, err, "rollout transition");
        goto cleanup;
    }
    if (sqlite3_changes(q->db) != 1) {
        rc = cas_failed(q, id, err);
        goto cleanup;
    }

    if ((rc = decision_insert(q, id, next->updated_ms, tr, actor, evidence_json,
                              err)))
        goto cleanup;

    /* A halt after completion (the gate still watching) undoes the
     * channel's current release as a rollback does. */
    bool undo = next->state == RG_RO_ROLLED_BACK ||
                (next->state == RG_RO_HALTED && cur->state == RG_RO_COMPLETED);
    if (next->state == RG_RO_COMPLETED || undo) {
        int which = next->state == RG_RO_COMPLETED ? ST_CHANNEL_COMPLETE
                                                   : ST_CHANNEL_UNDO;
        if ((rc = stmt(q, which, &ch, err)))
            goto cleanup;
        sqlite3_bind_int64(ch, 1, id);
        if ((rc = sqlite3_step(ch)) != SQLITE_DONE) {
            rc = db_fail(q, rc, err, "rollout transition: channel");
            goto cleanup;
        }
    }
    rc = audit_insert(q, audit, NULL, err);
cleanup:
    done(cas);
    done(ch);
    return finish(q, rc, err);
}

static int sq_decision_list(void *impl, int64_t rollout_id,
                            int (*fn)(void *ctx, const rg_decision_rec *d),
                            void *ctx, rg_err *err)
{
    sq *q = impl;
    sqlite3_stmt *st = NULL;
    rg_decision_rec d;
    int rc;
    lock(q);
    if ((rc = stmt(q, ST_DECISION_LIST, &st, err)))
        goto cleanup;
    sqlite3_bind_int64(st, 1, rollout_id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        memset(&d, 0, sizeof d);
        d.id = sqlite3_column_int64(st, 0);
        d.rollout_id = sqlite3_column_int64(st, 1);
        d.at_ms = sqlite3_column_int64(st, 2);
        d.tr.from_state = sqlite3_column_int(st, 3);
        d.tr.to_state = sqlite3_column_int(st, 4);
        d.tr.from_wave = sqlite3_column_int(st, 5);
        d.tr.to_wave = sqlite3_column_int(st, 6);
        if ((rc = COL_TEXT(st, 7, &d, tr.reason)) ||
            (rc = COL_TEXT(st, 8, &d, actor)))
            goto cleanup;
        d.evidence_json = (const char *)sqlite3_column_text(st, 9);
        if (!d.evidence_json)
            d.evidence_json = "";
        if ((rc = fn(ctx, &d)))
            goto cleanup;
    }
    rc = rc == SQLITE_DONE ? 0 : db_fail(q, rc, err, "decision list");
cleanup:
    done(st);
    unlock(q);
    return rc;
}

/* --- admin tokens ------------------------------------------------------- */

static int read_token(sqlite3_stmt *st, rg_token_rec *t, rg_err *err)
{
    int rc;
    t->id = sqlite3_column_int64(st, 0);
    if ((rc = COL_TEXT(st, 1, t, name)) || (rc = COL_TEXT(st, 2, t, role)) ||
        (rc = COL_TEXT(st, 3, t, hash)))
        return rc;
    t->created_ms = sqlite3_column_int64(st, 4);
    t->expires_ms = sqlite3_column_int64(st, 5);
    t->revoked_ms = sqlite3_column_int64(st, 6);
    return COL_TEXT(st, 7, t, created_by);
}

static int sq_token_create(void *impl, rg_token_rec *t,
                           const rg_audit_rec *audit, rg_err *err)
{
    sq *q = impl;
    sqlite3_stmt *st = NULL;
    int64_t id = 0;
    int rc = begin(q, err);
    if (rc)
        return rc;
    if ((rc = stmt(q, ST_TOKEN_INSERT, &st, err)))
        goto cleanup;
    bind_text(st, 1, t->name);
    bind_text(st, 2, t->role);
    bind_text(st, 3, t->hash);
    sqlite3_bind_int64(st, 4, t->created_ms);
    sqlite3_bind_int64(st, 5, t->expires_ms);
    bind_text(st, 6, t->created_by);
    if ((rc = sqlite3_step(st)) != SQLITE_DONE) {
        if (sqlite3_extended_errcode(q->db) == SQLITE_CONSTRAINT_UNIQUE)
            rc = rg_err_set(err, RG_ECONFLICT,
                            "token '%s': hash already in use", t->name);
        else
            rc = db_fail(q, rc, err, "token create");
        goto cleanup;
    }
    id = sqlite3_last_insert_rowid(q->db);
    rc = audit_insert(q, audit, NULL, err);
cleanup:
    done(st);
    rc = finish(q, rc, err);
    if (rc == 0) {
        t->id = id;
        t->revoked_ms = 0;
    }
    return rc;
}

static int sq_token_find(void *impl, const char *hash, rg_token_rec *out,
                         rg_err *err)
{
    sq *q = impl;
    sqlite3_stmt *st = NULL;
    int rc;
    lock(q);
    if ((rc = stmt(q, ST_TOKEN_FIND, &st, err)))
        goto cleanup;
    bind_text(st, 1, hash);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        rc = read_token(st, out, err);
    else if (rc == SQLITE_DONE)
        rc = rg_err_set(err, RG_ENOTFOUND, "token not found");
    else
        rc = db_fail(q, rc, err, "token find");
cleanup:
    done(st);
    unlock(q);
    return rc;
}

static int sq_token_list(void *impl,
                         int (*fn)(void *ctx, const rg_token_rec *t), void *ctx,
                         rg_err *err)
{
    sq *q = impl;
    sqlite3_stmt *st = NULL;
    rg_token_rec t;
    int rc;
    lock(q);
    if ((rc = stmt(q, ST_TOKEN_LIST, &st, err)))
        goto cleanup;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if ((rc = read_token(st, &t, err)) || (rc = fn(ctx, &t)))
            goto cleanup;
    rc = rc == SQLITE_DONE ? 0 : db_fail(q, rc, err, "token list");
cleanup:
    done(st);
    unlock(q);
    return rc;
}

static int sq_token_revoke(void *impl, int64_t id, int64_t now_ms,
                           const rg_audit_rec *audit, rg_err *err)
{
    sq *q = impl;
    sqlite3_stmt *st = NULL, *chk = NULL, *last = NULL;
    int rc = begin(q, err);
    if (rc)
        return rc;
    if ((rc = stmt(q, ST_TOKEN_ADMIN_CHECK, &last, err)))
        goto cleanup;
    sqlite3_bind_int64(last, 1, id);
    sqlite3_bind_int64(last, 2, now_ms);
    sqlite3_bind_int64(last, 3, now_ms + RG_ADMIN_LASTING_MS);
    if ((rc = sqlite3_step(last)) != SQLITE_ROW) {
        rc = db_fail(q, rc, err, "token revoke");
        goto cleanup;
    }
    if (sqlite3_column_int64(last, 0) != 0) {
        rc = rg_err_set(err, RG_ECONFLICT,
                        "token %lld is the last usable admin token (no other "
                        "admin token lasts: never expiring or valid for more "
                        "than a day); create another before revoking it",
                        (long long)id);
        goto cleanup;
    }
    if ((rc = stmt(q, ST_TOKEN_REVOKE, &st, err)))
        goto cleanup;
    sqlite3_bind_int64(st, 1, now_ms);
    sqlite3_bind_int64(st, 2, id);
    if ((rc = sqlite3_step(st)) != SQLITE_DONE) {
        rc = db_fail(q, rc, err, "token revoke");
        goto cleanup;
    }
    if (sqlite3_changes(q->db) != 1) {
        if ((rc = stmt(q, ST_TOKEN_REVOKED, &chk, err)))
            goto cleanup;
        sqlite3_bind_int64(chk, 1, id);
        rc = sqlite3_step(chk);
        if (rc == SQLITE_ROW)
            rc = rg_err_set(err, RG_ECONFLICT, "token %lld already revoked",
                            (long long)id);
        else if (rc == SQLITE_DONE)
            rc = rg_err_set(err, RG_ENOTFOUND, "token %lld not found",
                            (long long)id);
        else
            rc = db_fail(q, rc, err, "token revoke");
        goto cleanup;
    }
    rc = audit_insert(q, audit, NULL, err);
cleanup:
    done(st);
    done(chk);
    done(last);
    return finish(q, rc, err);
}

/* --- enrollment keys ---------------------------------------------------- */

static int sq_enroll_key_create(void *impl, rg_enroll_key_rec *k,
                                const rg_audit_rec *audit, rg_err *err)
{
    sq *q = impl;
    sqlite3_stmt *st = NULL;
    int64_t id = 0;
    int rc = begin(q, err);
    if (rc)
        return rc;
    if ((rc = stmt(q, ST_KEY_INSERT, &st, err)))
        goto cleanup;
    bind_text(st, 1, k->hash);
    sqlite3_bind_int64(st, 2, k->created_ms);
    sqlite3_bind_int64(st, 3, k->expires_ms);
    sqlite3_bind_int64(st, 4, k->revoked_ms);
    sqlite3_bind_int64(st, 5, k->uses_left);
    bind_text(st, 6, k->created_by);
    if ((rc = sqlite3_step(st)) != SQLITE_DONE) {
        if (sqlite3_extended_errcode(q->db) == SQLITE_CONSTRAINT_UNIQUE)
            rc = rg_err_set(err, RG_ECONFLICT,
                            "enrollment key: hash already in use");
        else
            rc = db_fail(q, rc, err, "enrollment key create");
        goto cleanup;
    }
    id = sqlite3_last_insert_rowid(q->db);
    rc = audit_insert(q, audit, NULL, err);
cleanup:
    done(st);
    rc = finish(q, rc, err);
    if (rc == 0)
        k->id = id;
    return rc;
}

static int sq_enroll_key_use(void *impl, const char *hash, int64_t now_ms,
                             rg_err *err)
{
    sq *q = impl;
    sqlite3_stmt *st = NULL, *use = NULL;
    int64_t id, expires, revoked, uses;
    int rc = begin(q, err);
    if (rc)
        return rc;
    if ((rc = stmt(q, ST_KEY_FIND, &st, err)))
        goto cleanup;
    bind_text(st, 1, hash);
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        rc = rg_err_set(err, RG_EAUTH, "enrollment key unknown");
        goto cleanup;
    }
    if (rc != SQLITE_ROW) {
        rc = db_fail(q, rc, err, "enrollment key use");
        goto cleanup;
    }
    id = sqlite3_column_int64(st, 0);
    expires = sqlite3_column_int64(st, 1);
    revoked = sqlite3_column_int64(st, 2);
    uses = sqlite3_column_int64(st, 3);
    done(st);
    st = NULL;
    if (revoked) {
        rc = rg_err_set(err, RG_EAUTH, "enrollment key %lld revoked",
                        (long long)id);
        goto cleanup;
    }
    if (expires && now_ms >= expires) {
        rc = rg_err_set(err, RG_EAUTH, "enrollment key %lld expired",
                        (long long)id);
        goto cleanup;
    }
    if (uses == 0) {
        rc = rg_err_set(err, RG_EAUTH, "enrollment key %lld used up",
                        (long long)id);
        goto cleanup;
    }
    if (uses > 0) {
        if ((rc = stmt(q, ST_KEY_CONSUME, &use, err)))
            goto cleanup;
        sqlite3_bind_int64(use, 1, id);
        if ((rc = sqlite3_step(use)) != SQLITE_DONE) {
            rc = db_fail(q, rc, err, "enrollment key use");
            goto cleanup;
        }
    }
    rc = 0;
cleanup:
    done(st);
    done(use);
    return finish(q, rc, err);
}

static int sq_enroll_key_list(void *impl,
                              int (*fn)(void *ctx, const rg_enroll_key_rec *k),
                              void *ctx, rg_err *err)
{
    sq *q = impl;
    sqlite3_stmt *st = NULL;
    rg_enroll_key_rec k;
    int rc;
    lock(q);
    if ((rc = stmt(q, ST_KEY_LIST, &st, err)))
        goto cleanup;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        memset(&k, 0, sizeof k);
        k.id = sqlite3_column_int64(st, 0);
        k.created_ms = sqlite3_column_int64(st, 2);
        k.expires_ms = sqlite3_column_int64(st, 3);
        k.revoked_ms = sqlite3_column_int64(st, 4);
        k.uses_left = sqlite3_column_int64(st, 5);
        if ((rc = COL_TEXT(st, 1, &k, hash)) ||
            (rc = COL_TEXT(st, 6, &k, created_by)) || (rc = fn(ctx, &k)))
            goto cleanup;
    }
    rc = rc == SQLITE_DONE ? 0 : db_fail(q, rc, err, "enrollment key list");
cleanup:
    done(st);
    unlock(q);
    return rc;
}

static int sq_enroll_key_revoke(void *impl, int64_t id, int64_t now_ms,
                                const rg_audit_rec *audit, rg_err *err)
{
    sq *q = impl;
    sqlite3_stmt *st = NULL, *chk = NULL;
    int rc = begin(q, err);
    if (rc)
        return rc;
    if ((rc = stmt(q, ST_KEY_REVOKE, &st, err)))
        goto cleanup;
    sqlite3_bind_int64(st, 1, now_ms);
    sqlite3_bind_int64(st, 2, id);
    if ((rc = sqlite3_step(st)) != SQLITE_DONE) {
        rc = db_fail(q, rc, err, "enrollment key revoke");
        goto cleanup;
    }
    if (sqlite3_changes(q->db) != 1) {
        if ((rc = stmt(q, ST_KEY_EXISTS, &chk, err)))
            goto cleanup;
        sqlite3_bind_int64(chk, 1, id);
        rc = sqlite3_step(chk);
        if (rc == SQLITE_ROW)
            rc = rg_err_set(err, RG_ECONFLICT,
                            "enrollment key %lld already revoked",
                            (long long)id);
        else if (rc == SQLITE_DONE)
            rc = rg_err_set(err, RG_ENOTFOUND, "enrollment key %lld not found",
                            (long long)id);
        else
            rc = db_fail(q, rc, err, "enrollment key revoke");
        goto cleanup;
    }
    rc = audit_insert(q, audit, NULL, err);
cleanup:
    done(st);
    done(chk);
    return finish(q, rc, err);
}

/* --- endpoints ---------------------------------------------------------- */

static int sq_endpoint_enroll(void *impl, const rg_endpoint_rec *e,
                              const rg_audit_rec *audit, rg_err *err)
{
    sq *q = impl;
    sqlite3_stmt *st = NULL;
    int rc = begin(q, err);
    if (rc)
        return rc;
    if ((rc = stmt(q, ST_ENDPOINT_UPSERT, &st, err)))
        goto cleanup;
    bind_text(st, 1, e->id);
    bind_text(st, 2, e->token_hash);
    bind_text(st, 3, e->attrs_json);
    sqlite3_bind_int64(st, 4, e->enrolled_ms);
    sqlite3_bind_int64(st, 5, e->last_seen_ms);
    bind_text(st, 6, e->installed_json[0] ? e->installed_json : "{}");
    sqlite3_bind_int(st, 7, e->proven ? 1 : 0);
    if ((rc = sqlite3_step(st)) != SQLITE_DONE) {
        rc = db_fail(q, rc, err, "endpoint enroll");
        goto cleanup;
    }
    if (sqlite3_changes(q->db) == 0) {
        rc = rg_err_field(err, RG_ECONFLICT, "endpoint_id",
                          "endpoint '%s' is already enrolled: re-enrolling "
                          "it needs its current token or an operator's "
                          "identity reset",
                          e->id);
        goto cleanup;
    }
    rc = audit_insert(q, audit, NULL, err);
cleanup:
    done(st);
    return finish(q, rc, err);
}

static int sq_endpoint_reset_identity(void *impl, const char *id, int64_t at_ms,
                                      const rg_audit_rec *audit, rg_err *err)
{
    sq *q = impl;
    sqlite3_stmt *st = NULL;
    int rc = begin(q, err);
    if (rc)
        return rc;
    if ((rc = stmt(q, ST_ENDPOINT_RESET, &st, err)))
        goto cleanup;
    sqlite3_bind_int64(st, 1, at_ms);
    bind_text(st, 2, id);
    if ((rc = sqlite3_step(st)) != SQLITE_DONE) {
        rc = db_fail(q, rc, err, "endpoint identity reset");
        goto cleanup;
    }
    if (sqlite3_changes(q->db) == 0) {
        rc = rg_err_set(err, RG_ENOTFOUND, "endpoint '%s' not found", id);
        goto cleanup;
    }
    rc = audit_insert(q, audit, NULL, err);
cleanup:
    done(st);
    return finish(q, rc, err);
}

static int sq_endpoint_flush(void *impl, const rg_endpoint_seen *batch,
                             size_t n, rg_err *err)
{
    sq *q = impl;
    sqlite3_stmt *st = NULL;
    int rc = begin(q, err);
    if (rc)
        return rc;
    if ((rc = stmt(q, ST_ENDPOINT_SEEN, &st, err)))
        goto cleanup;
    for (size_t i = 0; i < n; i++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, batch[i].last_seen_ms);
        bind_text(st, 2, batch[i].installed_json);
        bind_text(st, 3, batch[i].id);
        if ((rc = sqlite3_step(st)) != SQLITE_DONE) {
            rc = db_fail(q, rc, err, "endpoint flush");
            goto cleanup;
        }
    }
    rc = 0;
cleanup:
    done(st);
    return finish(q, rc, err);
}

static int sq_endpoint_load(void *impl,
                            int (*fn)(void *ctx, const rg_endpoint_rec *e),
                            void *ctx, rg_err *err)
{
    sq *q = impl;
    sqlite3_stmt *st = NULL;
    rg_endpoint_rec *e = NULL;
    int rc;

    e = malloc(sizeof *e);
    if (!e)
        return rg_err_set(err, RG_ENOMEM, "endpoint load: out of memory");
    lock(q);
    if ((rc = stmt(q, ST_ENDPOINT_LOAD, &st, err)))
        goto cleanup;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((rc = COL_TEXT(st, 0, e, id)) ||
            (rc = COL_TEXT(st, 1, e, token_hash)) ||
            (rc = COL_TEXT(st, 2, e, attrs_json)))
            goto cleanup;
        e->enrolled_ms = sqlite3_column_int64(st, 3);
        e->last_seen_ms = sqlite3_column_int64(st, 4);
        if ((rc = COL_TEXT(st, 5, e, installed_json)) || (rc = fn(ctx, e)))
            goto cleanup;
    }
    rc = rc == SQLITE_DONE ? 0 : db_fail(q, rc, err, "endpoint load");
cleanup:
    done(st);
    unlock(q);
    free(e);
    return rc;
}

/* --- agent events ------------------------------------------------------- */

/* RG_ENOTFOUND unless a row of cached query id exists for the bound key. */
static int exists(sq *q, int id, const char *key, int64_t num, rg_err *err,
                  const char *what)
{
    sqlite3_stmt *st = NULL;
    int rc = stmt(q, id, &st, err);
    if (rc)
        return rc;
    if (key)
        bind_text(st, 1, key);
    else
        sqlite3_bind_int64(st, 1, num);
    rc = sqlite3_step(st);
    done(st);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc == SQLITE_DONE)
        return RG_ENOTFOUND;
    return db_fail(q, rc, err, what);
}

static int sq_events_record(void *impl, const rg_event_rec *ev, size_t n,
                            size_t *n_new, rg_err *err)
{
    sq *q = impl;
    sqlite3_stmt *st = NULL;
    size_t fresh = 0;
    int rc = begin(q, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        const rg_event_rec *e = &ev[i];
        rc = exists(q, ST_ENDPOINT_EXISTS, e->endpoint_id, 0, err, "events");
        if (rc == RG_ENOTFOUND)
            rc = rg_err_field(err, rc, "endpoint_id",
                              "event '%s': endpoint '%s' not found",
                              e->event_id, e->endpoint_id);
        if (rc)
            goto cleanup;
        rc = exists(q, ST_RELEASE_EXISTS, NULL, e->release_id, err, "events");
        if (rc == RG_ENOTFOUND)
            rc = rg_err_field(err, rc, "events.release",
                              "event '%s': release %lld not found", e->event_id,
                              (long long)e->release_id);
        if (rc)
            goto cleanup;
        if ((rc = stmt(q, ST_EVENT_INSERT, &st, err)))
            goto cleanup;
        bind_text(st, 1, e->endpoint_id);
        bind_text(st, 2, e->event_id);
        bind_text(st, 3, e->type);
        sqlite3_bind_int64(st, 4, e->release_id);
        bind_text(st, 5, e->channel);
        sqlite3_bind_int64(st, 6, e->reported_ms);
        sqlite3_bind_int64(st, 7, e->received_ms);
        bind_text(st, 8, e->detail);
        sqlite3_bind_int(st, 9, RG_EVENTS_PER_KIND);
        if ((rc = sqlite3_step(st)) != SQLITE_DONE) {
            rc = db_fail(q, rc, err, "events");
            goto cleanup;
        }
        fresh += (size_t)sqlite3_changes(q->db);
        done(st);
        st = NULL;
    }
    rc = 0;
cleanup:
    done(st);
    rc = finish(q, rc, err);
    if (rc == 0 && n_new)
        *n_new = fresh;
    return rc;
}

static int sq_event_counts(void *impl, int64_t release_id, rg_event_counts *out,
                           rg_err *err)
{
    sq *q = impl;
    sqlite3_stmt *st = NULL;
    rg_event_counts c = {0};
    int rc;
    lock(q);
    if ((rc = stmt(q, ST_EVENT_COUNTS, &st, err)))
        goto cleanup;
    sqlite3_bind_int64(st, 1, release_id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *kind = (const char *)sqlite3_column_text(st, 0);
        uint64_t v = (uint64_t)sqlite3_column_int64(st, 1);
        if (strcmp(kind, "applying") == 0)
            c.applying = v;
        else if (strcmp(kind, "healthy") == 0)
            c.healthy = v;
        else
            c.failed = v;
    }
    if (rc != SQLITE_DONE) {
        rc = db_fail(q, rc, err, "event counts");
        goto cleanup;
    }
    rc = 0;
    *out = c;
cleanup:
    done(st);
    unlock(q);
    return rc;
}

static int sq_event_list(void *impl, int64_t release_id,
                         int (*fn)(void *ctx, const rg_event_rec *e), void *ctx,
                         rg_err *err)
{
    sq *q = impl;
    sqlite3_stmt *st = NULL;
    rg_event_rec e;
    int rc;
    lock(q);
    if ((rc = stmt(q, ST_EVENT_LIST, &st, err)))
        goto cleanup;
    sqlite3_bind_int64(st, 1, release_id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        memset(&e, 0, sizeof e);
        if ((rc = COL_TEXT(st, 0, &e, endpoint_id)) ||
            (rc = COL_TEXT(st, 1, &e, event_id)) ||
            (rc = COL_TEXT(st, 2, &e, type)) ||
            (rc = COL_TEXT(st, 4, &e, channel)) ||
            (rc = COL_TEXT(st, 7, &e, detail)))
            goto cleanup;
        e.release_id = sqlite3_column_int64(st, 3);
        e.reported_ms = sqlite3_column_int64(st, 5);
        e.received_ms = sqlite3_column_int64(st, 6);
        if ((rc = fn(ctx, &e)))
            goto cleanup;
    }
    rc = rc == SQLITE_DONE ? 0 : db_fail(q, rc, err, "event list");
cleanup:
    done(st);
    unlock(q);
    return rc;
}

/* --- offers ------------------------------------------------------------ */

static int sq_offers_record(void *impl, const char *endpoint_id,
                            const int64_t *releases, size_t n, int64_t now_ms,
                            rg_err *err)
{
    sq *q = impl;
    sqlite3_stmt *st = NULL;
    int rc = begin(q, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if ((rc = stmt(q, ST_OFFER_INSERT, &st, err)))
            goto cleanup;
        bind_text(st, 1, endpoint_id);
        sqlite3_bind_int64(st, 2, releases[i]);
        sqlite3_bind_int64(st, 3, now_ms);
        if ((rc = sqlite3_step(st)) != SQLITE_DONE) {
            rc = db_fail(q, rc, err, "offers");
            goto cleanup;
        }
        done(st);
        st = NULL;
    }
    rc = 0;
cleanup:
    done(st);
    return finish(q, rc, err);
}

/* 0 when cached query id (text ?1, and ?2 text b or else number num)
 * returns a row, RG_ENOTFOUND when it returns none. */
static int pair_exists(sq *q, int id, const char *a, const char *b, int64_t num,
                       rg_err *err)
{
    sqlite3_stmt *st = NULL;
    lock(q);
    int rc = stmt(q, id, &st, err);
    if (rc == 0) {
        bind_text(st, 1, a);
        if (b)
            bind_text(st, 2, b);
        else
            sqlite3_bind_int64(st, 2, num);
        rc = sqlite3_step(st);
        rc = rc == SQLITE_ROW    ? 0
             : rc == SQLITE_DONE ? RG_ENOTFOUND
                                 : db_fail(q, rc, err, "offers");
    }
    done(st);
    unlock(q);
    return rc;
}

static int sq_offer_check(void *impl, const char *endpoint_id,
                          int64_t release_id, rg_err *err)
{
    return pair_exists(impl, ST_OFFER_CHECK, endpoint_id, NULL, release_id,
                       err);
}

static int sq_offer_artifact(void *impl, const char *endpoint_id,
                             const char *sha256, rg_err *err)
{
    return pair_exists(impl, ST_OFFER_ARTIFACT, endpoint_id, sha256, 0, err);
}

static int sq_events_prune(void *impl, int64_t before_ms, size_t max,
                           size_t *n_deleted, rg_err *err)
{
    sq *q = impl;
    sqlite3_stmt *st = NULL;
    size_t n = 0;
    int rc = begin(q, err);
    if (rc)
        return rc;
    if ((rc = stmt(q, ST_EVENT_PRUNE, &st, err)))
        goto cleanup;
    sqlite3_bind_int64(st, 1, before_ms);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
    if ((rc = sqlite3_step(st)) != SQLITE_DONE) {
        rc = db_fail(q, rc, err, "event prune");
        goto cleanup;
    }
    n = (size_t)sqlite3_changes(q->db);
    rc = 0;
cleanup:
    done(st);
    rc = finish(q, rc, err);
    if (rc == 0)
        *n_deleted = n;
    return rc;
}

static int sq_decision_append(void *impl, int64_t rollout_id, int64_t at_ms,
                              const rg_transition *tr, const char *actor,
                              const char *evidence_json, rg_err *err)
{
    sq *q = impl;
    sqlite3_stmt *ex = NULL;
    int rc = begin(q, err);
    if (rc)
        return rc;
    if ((rc = stmt(q, ST_ROLLOUT_EXISTS, &ex, err)))
        goto cleanup;
    sqlite3_bind_int64(ex, 1, rollout_id);
    rc = sqlite3_step(ex);
    if (rc == SQLITE_DONE) {
        rc = rg_err_set(err, RG_ENOTFOUND, "rollout %lld not found",
                        (long long)rollout_id);
        goto cleanup;
    }
    if (rc != SQLITE_ROW) {
        rc = db_fail(q, rc, err, "decision append");
        goto cleanup;
    }
    rc = decision_insert(q, rollout_id, at_ms, tr, actor, evidence_json, err);
cleanup:
    done(ex);
    return finish(q, rc, err);
}

/* --- group policies ------------------------------------------------------ */

static int read_policy(sqlite3_stmt *st, rg_policy_rec *p, rg_err *err)
{
    int rc;
    p->id = sqlite3_column_int64(st, 0);
    if ((rc = COL_TEXT(st, 1, p, name)))
        return rc;
    p->channel_id = sqlite3_column_int64(st, 2);
    if ((rc = COL_TEXT(st, 3, p, channel)) ||
        (rc = COL_TEXT(st, 4, p, selector_json)) ||
        (rc = COL_TEXT(st, 5, p, mode)))
        return rc;
    p->release_id = sqlite3_column_int64(st, 6);
    p->created_ms = sqlite3_column_int64(st, 7);
    return COL_TEXT(st, 8, p, created_by);
}

/* Runs the cached one-integer query id with text or integer argument;
 * *found tells whether a row came back. Caller holds the lock. */
static int query_int(sq *q, int id, const char *text, int64_t arg, int64_t *out,
                     bool *found, rg_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = stmt(q, id, &st, err);
    if (rc)
        return rc;
    if (text)
        bind_text(st, 1, text);
    else if (sqlite3_bind_parameter_count(st) > 0)
        sqlite3_bind_int64(st, 1, arg);
    rc = sqlite3_step(st);
    *found = rc == SQLITE_ROW;
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    done(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return db_fail(q, rc, err, "policy");
    return 0;
}

static int sq_policy_create(void *impl, rg_policy_rec *p,
                            const rg_audit_rec *audit, rg_err *err)
{
    sq *q = impl;
    sqlite3_stmt *st = NULL;
    int64_t id = 0, channel_id = 0, v = 0;
    bool found = false;
    int rc = begin(q, err);
    if (rc)
        return rc;
    if ((rc = query_int(q, ST_POLICY_CHANNEL, p->channel, 0, &channel_id,
                        &found, err)))
        goto cleanup;
    if (!found) {
        rc = rg_err_field(err, RG_ENOTFOUND, "channel",
                          "channel '%s' not found", p->channel);
        goto cleanup;
    }
    if (p->release_id) {
        if ((rc = query_int(q, ST_POLICY_RELEASE_CHANNEL, NULL, p->release_id,
                            &v, &found, err)))
            goto cleanup;
        if (!found || v != channel_id) {
            rc = rg_err_field(err, RG_ENOTFOUND, "release",
                              "release %lld not found on channel '%s'",
                              (long long)p->release_id, p->channel);
            goto cleanup;
        }
    }
    if ((rc = query_int(q, ST_POLICY_COUNT, NULL, 0, &v, &found, err)))
        goto cleanup;
    if (v >= RG_POLICIES_MAX) {
        rc = rg_err_set(err, RG_ECONFLICT,
                        "policy '%s': at most %d policies may exist", p->name,
                        RG_POLICIES_MAX);
        goto cleanup;
    }
    if ((rc = stmt(q, ST_POLICY_INSERT, &st, err)))
        goto cleanup;
    bind_text(st, 1, p->name);
    sqlite3_bind_int64(st, 2, channel_id);
    bind_text(st, 3, p->selector_json);
    bind_text(st, 4, p->mode);
    bind_ref(st, 5, p->release_id);
    sqlite3_bind_int64(st, 6, p->created_ms);
    bind_text(st, 7, p->created_by);
    if ((rc = sqlite3_step(st)) != SQLITE_DONE) {
        if (sqlite3_extended_errcode(q->db) == SQLITE_CONSTRAINT_UNIQUE)
            rc = rg_err_field(err, RG_ECONFLICT, "name",
                              "policy '%s' already exists", p->name);
        else
            rc = db_fail(q, rc, err, "policy create");
        goto cleanup;
    }
    id = sqlite3_last_insert_rowid(q->db);
    rc = audit_insert(q, audit, NULL, err);
cleanup:
    done(st);
    rc = finish(q, rc, err);
    if (rc == 0) {
        p->id = id;
        p->channel_id = channel_id;
    }
    return rc;
}

static int sq_root_put(void *impl, const rg_root_rec *r,
                       const rg_audit_rec *audit, rg_err *err)
{
    sq *q = impl;
    sqlite3_stmt *st = NULL;
    int64_t newest = 0;
    int rc = begin(q, err);
    if (rc)
        return rc;
    if ((rc = stmt(q, ST_ROOT_MAX, &st, err)))
        goto cleanup;
    if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
        rc = db_fail(q, rc, err, "root put");
        goto cleanup;
    }
    newest = sqlite3_column_int64(st, 0);
    done(st);
    st = NULL;
    if (r->version != newest + 1) {
        rc = rg_err_field(err, RG_ECONFLICT, "version",
                          "root version %lld: the next version is %lld",
                          (long long)r->version, (long long)newest + 1);
        goto cleanup;
    }
    if ((rc = stmt(q, ST_ROOT_INSERT, &st, err)))
        goto cleanup;
    sqlite3_bind_int64(st, 1, r->version);
    bind_text(st, 2, r->digest);
    bind_text(st, 3, r->json);
    sqlite3_bind_int64(st, 4, r->created_ms);
    bind_text(st, 5, r->created_by);
    if ((rc = sqlite3_step(st)) != SQLITE_DONE) {
        rc = db_fail(q, rc, err, "root put");
        goto cleanup;
    }
    rc = audit_insert(q, audit, NULL, err);
cleanup:
    done(st);
    return finish(q, rc, err);
}

static int sq_root_list(void *impl, int64_t after,
                        int (*fn)(void *ctx, const rg_root_rec *r), void *ctx,
                        rg_err *err)
{
    sq *q = impl;
    sqlite3_stmt *st = NULL;
    rg_root_rec r;
    int rc;
    lock(q);
    if ((rc = stmt(q, ST_ROOT_LIST, &st, err)))
        goto cleanup;
    sqlite3_bind_int64(st, 1, after);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        memset(&r, 0, sizeof r);
        r.version = sqlite3_column_int64(st, 0);
        if ((rc = COL_TEXT(st, 1, &r, digest)) ||
            (rc = COL_TEXT(st, 4, &r, created_by)))
            goto cleanup;
        r.json = (const char *)sqlite3_column_text(st, 2);
        r.created_ms = sqlite3_column_int64(st, 3);
        if ((rc = fn(ctx, &r)))
            goto cleanup;
    }
    rc = rc == SQLITE_DONE ? 0 : db_fail(q, rc, err, "root list");
cleanup:
    done(st);
    unlock(q);
    return rc;
}

static int sq_policy_list(void *impl,
                          int (*fn)(void *ctx, const rg_policy_rec *p),
                          void *ctx, rg_err *err)
{
    sq *q = impl;
    sqlite3_stmt *st = NULL;
    rg_policy_rec p;
    int rc;
    lock(q);
    if ((rc = stmt(q, ST_POLICY_LIST, &st, err)))
        goto cleanup;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if ((rc = read_policy(st, &p, err)) || (rc = fn(ctx, &p)))
            goto cleanup;
    rc = rc == SQLITE_DONE ? 0 : db_fail(q, rc, err, "policy list");
cleanup:
    done(st);
    unlock(q);
    return rc;
}

static int sq_policy_delete(void *impl, int64_t id, rg_policy_rec *out,
                            const rg_audit_rec *audit, rg_err *err)
{
    sq *q = impl;
    sqlite3_stmt *st = NULL;
    rg_policy_rec p;
    int rc = begin(q, err);
    if (rc)
        return rc;
    if ((rc = stmt(q, ST_POLICY_GET, &st, err)))
        goto cleanup;
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        rc = read_policy(st, &p, err);
    else if (rc == SQLITE_DONE)
        rc = rg_err_set(err, RG_ENOTFOUND, "policy %lld not found",
                        (long long)id);
    else
        rc = db_fail(q, rc, err, "policy delete");
    done(st);
    st = NULL;
    if (rc)
        goto cleanup;
    if ((rc = stmt(q, ST_POLICY_DELETE, &st, err)))
        goto cleanup;
    sqlite3_bind_int64(st, 1, id);
    if ((rc = sqlite3_step(st)) != SQLITE_DONE) {
        rc = db_fail(q, rc, err, "policy delete");
        goto cleanup;
    }
    rc = audit_insert(q, audit, NULL, err);
cleanup:
    done(st);
    rc = finish(q, rc, err);
    if (rc == 0 && out)
        *out = p;
    return rc;
}

/* --- feature flags (schema 12) ------------------------------------------
 * Rare writes and reads: statements are prepared per call. */

/* Prepares sql into *st (finalize with sqlite3_finalize). */
static int prep(sq *q, const char *sql, sqlite3_stmt **st, rg_err *err)
{
    int rc = sqlite3_prepare_v2(q->db, sql, -1, st, NULL);
    return rc == SQLITE_OK ? 0 : db_fail(q, rc, err, "flags: prepare");
}

/* The current version of (environment, name), 0 when none. */
static int flag_current(sq *q, const rg_flag_rec *f, int64_t *cur, rg_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = prep(q,
                  "SELECT coalesce(max(version), 0) FROM flag_versions"
                  " WHERE environment = ? AND name = ?",
                  &st, err);
    if (rc)
        return rc;
    bind_text(st, 1, f->environment);
    bind_text(st, 2, f->name);
    rc = sqlite3_step(st);
    *cur = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    rc = rc == SQLITE_ROW ? 0 : db_fail(q, rc, err, "flag version");
    sqlite3_finalize(st);
    return rc;
}

static int flag_expect(const rg_flag_rec *f, int64_t cur, int64_t expect,
                       rg_err *err)
{
    if (expect == 0 && cur != 0)
        return rg_err_field(err, RG_ECONFLICT, "name",
                            "flag '%s' already exists in environment '%s'",
                            f->name, f->environment);
    if (expect > 0 && cur == 0)
        return rg_err_field(err, RG_ENOTFOUND, "name",
                            "flag '%s' not found in environment '%s'", f->name,
                            f->environment);
    if (expect > 0 && cur != expect)
        return rg_err_field(err, RG_ECONFLICT, "version",
                            "flag '%s' is at version %lld, not %lld", f->name,
                            (long long)cur, (long long)expect);
    return 0;
}

static int sq_flag_put(void *impl, rg_flag_rec *f, int64_t expect,
                       const rg_audit_rec *audit, rg_err *err)
{
    sq *q = impl;
    sqlite3_stmt *st = NULL;
    int64_t cur = 0;
    int rc = begin(q, err);
    if (rc)
        return rc;
    if ((rc = flag_current(q, f, &cur, err)) ||
        (rc = flag_expect(f, cur, expect, err)) ||
        (rc = prep(q,
                   "INSERT INTO flag_versions (environment, name, version,"
                   " definition, created_ms, created_by, reason)"
                   " VALUES (?, ?, ?, ?, ?, ?, ?)",
                   &st, err)))
        goto cleanup;
    bind_text(st, 1, f->environment);
    bind_text(st, 2, f->name);
    sqlite3_bind_int64(st, 3, cur + 1);
    bind_text(st, 4, f->definition);
    sqlite3_bind_int64(st, 5, f->created_ms);
    bind_text(st, 6, f->created_by);
    bind_text(st, 7, f->reason);
    if ((rc = sqlite3_step(st)) != SQLITE_DONE) {
        rc = db_fail(q, rc, err, "flag put");
        goto cleanup;
    }
    rc = audit_insert(q, audit, NULL, err);
cleanup:
    sqlite3_finalize(st);
    rc = finish(q, rc, err);
    if (rc == 0)
        f->version = cur + 1;
    return rc;
}

static int read_flag(sqlite3_stmt *st, rg_flag_rec *f, rg_err *err)
{
    int rc;
    if ((rc = COL_TEXT(st, 0, f, environment)) ||
        (rc = COL_TEXT(st, 1, f, name)))
        return rc;
    f->version = sqlite3_column_int64(st, 2);
    f->definition = (const char *)sqlite3_column_text(st, 3);
    f->created_ms = sqlite3_column_int64(st, 4);
    if ((rc = COL_TEXT(st, 5, f, created_by)))
        return rc;
    return COL_TEXT(st, 6, f, reason);
}

static int sq_flag_list(void *impl, const char *environment, const char *name,
                        int (*fn)(void *ctx, const rg_flag_rec *f), void *ctx,
                        rg_err *err)
{
    sq *q = impl;
    sqlite3_stmt *st = NULL;
    rg_flag_rec *f = calloc(1, sizeof *f);
    if (!f)
        return rg_err_set(err, RG_ENOMEM, "out of memory");
    lock(q);
    int rc = prep(
        q,
        name ? "SELECT environment, name, version, definition, created_ms,"
               " created_by, reason FROM flag_versions"
               " WHERE environment = ?1 AND name = ?2 ORDER BY version DESC"
             : "SELECT environment, name, version, definition, created_ms,"
               " created_by, reason FROM flag_versions f"
               " WHERE (?1 IS NULL OR environment = ?1) AND version ="
               " (SELECT max(version) FROM flag_versions g"
               "  WHERE g.environment = f.environment AND g.name = f.name)"
               " ORDER BY environment, name",
        &st, err);
    if (rc)
        goto cleanup;
    if (environment)
        bind_text(st, 1, environment);
    if (name)
        bind_text(st, 2, name);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if ((rc = read_flag(st, f, err)) || (rc = fn(ctx, f)))
            goto cleanup;
    rc = rc == SQLITE_DONE ? 0 : db_fail(q, rc, err, "flag list");
cleanup:
    sqlite3_finalize(st);
    unlock(q);
    free(f);
    return rc;
}

static int sq_flag_stamp(void *impl, const char *environment, int64_t *versions,
                         int64_t *newest_ms, rg_err *err)
{
    sq *q = impl;
    sqlite3_stmt *st = NULL;
    lock(q);
    int rc = prep(q,
                  "SELECT count(*), coalesce(max(created_ms), 0)"
                  " FROM flag_versions WHERE environment = ?",
                  &st, err);
    if (rc == 0) {
        bind_text(st, 1, environment);
        rc = sqlite3_step(st);
        *versions = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
        *newest_ms = rc == SQLITE_ROW ? sqlite3_column_int64(st, 1) : 0;
        rc = rc == SQLITE_ROW ? 0 : db_fail(q, rc, err, "flag stamp");
    }
    sqlite3_finalize(st);
    unlock(q);
    return rc;
}

static int sq_client_token_create(void *impl, rg_client_token_rec *t,
                                  const rg_audit_rec *audit, rg_err *err)
{
    sq *q = impl;
    sqlite3_stmt *st = NULL;
    int rc = begin(q, err);
    if (rc)
        return rc;
    if ((rc = prep(q,
                   "INSERT INTO client_tokens (name, environment, hash,"
                   " created_ms, created_by) VALUES (?, ?, ?, ?, ?)",
                   &st, err)))
        goto cleanup;
    bind_text(st, 1, t->name);
    bind_text(st, 2, t->environment);
    bind_text(st, 3, t->hash);
    sqlite3_bind_int64(st, 4, t->created_ms);
    bind_text(st, 5, t->created_by);
    if ((rc = sqlite3_step(st)) != SQLITE_DONE) {
        rc = db_fail(q, rc, err, "client token create");
        goto cleanup;
    }
    t->id = sqlite3_last_insert_rowid(q->db);
    rc = audit_insert(q, audit, NULL, err);
cleanup:
    sqlite3_finalize(st);
    return finish(q, rc, err);
}

static int sq_client_token_find(void *impl, const char *hash,
                                rg_client_token_rec *out, rg_err *err)
{
    sq *q = impl;
    sqlite3_stmt *st = NULL;
    lock(q);
    int rc = prep(q,
                  "SELECT id, name, environment, hash, created_ms, created_by"
                  " FROM client_tokens WHERE hash = ?",
                  &st, err);
    if (rc)
        goto cleanup;
    bind_text(st, 1, hash);
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        rc = RG_ENOTFOUND;
        goto cleanup;
    }
    if (rc != SQLITE_ROW) {
        rc = db_fail(q, rc, err, "client token find");
        goto cleanup;
    }
    out->id = sqlite3_column_int64(st, 0);
    out->created_ms = sqlite3_column_int64(st, 4);
    if ((rc = COL_TEXT(st, 1, out, name)) ||
        (rc = COL_TEXT(st, 2, out, environment)) ||
        (rc = COL_TEXT(st, 3, out, hash)))
        goto cleanup;
    rc = COL_TEXT(st, 5, out, created_by);
cleanup:
    sqlite3_finalize(st);
    unlock(q);
    return rc;
}

const struct rg__store_ops rg__sqlite_ops = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .schema_version = sq_schema_version,
    .audit_append = sq_audit_append,
    .audit_list = sq_audit_list,
    .channel_create = sq_channel_create,
    .channel_get = sq_channel_get,
    .channel_list = sq_channel_list,
    .channel_set_preflight = sq_channel_set_preflight,
    .artifact_put = sq_artifact_put,
    .artifact_get = sq_artifact_get,
    .root_put = sq_root_put,
    .root_list = sq_root_list,
    .release_create = sq_release_create,
    .release_get = sq_release_get,
    .release_list = sq_release_list,
    .release_preflight_finish = sq_release_preflight_finish,
    .release_lift_quarantine = sq_release_lift_quarantine,
    .release_preflight_result = sq_release_preflight_result,
    .release_preflight_pending = sq_release_preflight_pending,
    .rollout_create = sq_rollout_create,
    .rollout_get = sq_rollout_get,
    .rollout_list = sq_rollout_list,
    .rollout_transition = sq_rollout_transition,
    .decision_list = sq_decision_list,
    .token_create = sq_token_create,
    .token_find = sq_token_find,
    .token_list = sq_token_list,
    .token_revoke = sq_token_revoke,
    .enroll_key_create = sq_enroll_key_create,
    .enroll_key_use = sq_enroll_key_use,
    .enroll_key_list = sq_enroll_key_list,
    .enroll_key_revoke = sq_enroll_key_revoke,
    .endpoint_enroll = sq_endpoint_enroll,
    .endpoint_flush = sq_endpoint_flush,
    .endpoint_reset_identity = sq_endpoint_reset_identity,
    .endpoint_load = sq_endpoint_load,
    .events_record = sq_events_record,
    .event_counts = sq_event_counts,
    .event_list = sq_event_list,
    .events_prune = sq_events_prune,
    .offers_record = sq_offers_record,
    .offer_check = sq_offer_check,
    .offer_artifact = sq_offer_artifact,
    .decision_append = sq_decision_append,
    .policy_create = sq_policy_create,
    .policy_list = sq_policy_list,
    .policy_delete = sq_policy_delete,
    .flag_put = sq_flag_put,
    .flag_list = sq_flag_list,
    .flag_stamp = sq_flag_stamp,
    .client_token_create = sq_client_token_create,
    .client_token_find = sq_client_token_find,
};
