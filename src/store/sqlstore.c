/*
 * sqlstore.c - every operation of the store (backend.h) once, for every
 * SQL engine: the statements, transactions, checks, ordering rules and
 * error messages. The engine is a driver below it (sqldrv.h: sqlite.c,
 * pg.c); rg__sqlite_ops and rg__pg_ops are this code on each.
 *
 * One connection per store, guarded by one mutex: every call takes the
 * mutex for its whole duration (list callbacks included), which makes the
 * store thread-safe and every call atomic with respect to the others in
 * the process; a write transaction also excludes writers of other
 * processes (sqldrv.h, begin). It serialises the control plane's
 * database work; that is fine at this scale (heartbeats never write one
 * row each; they are flushed in batches).
 */
#include "store/backend.h"
#include "store/rows.h"
#include "store/sqldrv.h"
#include "store/session.h"

#include "common/log.h"
#include "model/rollout_event.h"

#include <assert.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- cached statements -------------------------------------------------- */

enum {
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
    ST_RELEASE_FIND,
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
    ST_ROLLOUT_CAS,
    ST_ROLLOUT_STATE,
    ST_DECISION_INSERT,
    ST_DECISION_LIST,
    ST_TOKEN_INSERT,
    ST_TOKEN_FIND,
    ST_TOKEN_LIST,
    ST_TOKEN_GET,
    ST_TOKEN_REVOKE,
    ST_TOKEN_REVOKED,
    ST_KEY_INSERT,
    ST_KEY_FIND,
    ST_KEY_CONSUME,
    ST_KEY_LIST,
    ST_KEY_GET,
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
    ST_EVENT_LIST_ENDPOINT,
    ST_EVENT_PRUNE,
    ST_ROLLOUT_EXISTS,
    ST_CHANNEL_ID,
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
    ST_ARTIFACT_PUBLIC,
    ST_FLAG_CURRENT,
    ST_FLAG_INSERT,
    ST_FLAG_HISTORY,
    ST_FLAG_LIST,
    ST_FLAG_STAMP,
    ST_FLAG_STAMP_BUMP,
    ST_CLIENT_TOKEN_INSERT,
    ST_FLAG_ROLLOUT_INSERT,
    ST_FLAG_ROLLOUT_ACTIVE,
    ST_FLAG_ROLLOUT_UPDATE,
    ST_FLAG_ROLLOUT_SEQ,
    ST_FLAG_ROLLOUT_LIST,
    ST_CLIENT_TOKEN_FIND,
    ST_FLAG_REVERT_INSERT,
    ST_FLAG_REVERT_LIST,
    ST_SEGMENT_CURRENT,
    ST_SEGMENT_ID,
    ST_SEGMENT_INSERT,
    ST_SEGMENT_HISTORY,
    ST_SEGMENT_LIST,
    ST_SEGMENT_LIVE_ID,
    ST_FLAG_SEGMENT_USERS,
    ST_CLIENT_TOKEN_LIST,
    ST_CLIENT_TOKEN_GET,
    ST_CLIENT_TOKEN_REVOKE,
    ST_CLIENT_TOKEN_REVOKED,
    ST_HOOK_INSERT,
    ST_HOOK_GET,
    ST_HOOK_LIST,
    ST_HOOK_DELETE,
    ST_HOOK_ENQUEUE,
    ST_HOOK_ENQUEUE_FLAG,
    ST_HOOK_TEST,
    ST_DELIVERY_GET,
    ST_DELIVERY_LIST,
    ST_DELIVERY_DUE,
    ST_DELIVERY_UPDATE,
    ST_DELIVERY_PRUNE,
    ST_ATTEMPT_INSERT,
    ST_ATTEMPT_LIST,
    ST_FLUSH_SEQ_NEXT,
    ST_ENDPOINT_MARK,
    ST_TAIL_HEADS,
    ST_ENDPOINT_AFTER,
    ST_EVENT_AFTER,
    ST_OFFER_AFTER,
    ST__COUNT
};

#define AUDIT_COLS                                                             \
    "SELECT id, at_ms, actor, role, action, target, reason, source, detail"    \
    " FROM audit WHERE at_ms >= ?3 AND (?4 = 0 OR at_ms < ?4)"                 \
    " AND (?6 IS NULL OR action = ?6) AND (?7 = 0 OR id < ?7)"
#define CHANNEL_COLS                                                           \
    "SELECT id, name, description, created_ms, current_release_id,"            \
    " preflight_engine, preflight_corpus, preflight_timeout_s,"                \
    " preflight_memory_mb, public FROM channels"
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
#define CLIENT_TOKEN_COLS                                                      \
    "SELECT id, name, environment, hash, created_ms, created_by, revoked_ms"   \
    " FROM client_tokens"
#define TOKEN_COLS                                                             \
    "SELECT id, name, role, hash, created_ms, expires_ms, revoked_ms,"         \
    " created_by FROM tokens"
#define KEY_COLS                                                               \
    "SELECT id, hash, created_ms, expires_ms, revoked_ms, uses_left,"          \
    " created_by, flag_environments FROM enroll_keys"
#define POLICY_COLS                                                            \
    "SELECT p.id, p.name, p.channel_id, c.name, p.selector_json, p.mode,"      \
    " p.release_id, p.created_ms, p.created_by FROM policies p"                \
    " JOIN channels c ON c.id = p.channel_id"

static const char *const sql_text[ST__COUNT] = {
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
        " preflight_memory_mb, public) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
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
    [ST_RELEASE_FIND] = RELEASE_COLS " WHERE c.name = ? AND r.version = ?",
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
    [ST_ROLLOUT_LIST] =
        ROLLOUT_COLS " WHERE (?1 = 0 OR o.active = 1)"
                     " AND (?2 IS NULL OR c.name = ?2)"
                     " AND (?3 < 0 OR o.state = ?3)"
                     " AND (?4 = 0 OR o.release_id = ?4)"
                     " AND (?5 = 0 OR o.id < ?5) ORDER BY o.id DESC LIMIT ?6",
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
    /* Names are unique, revoked tokens' too (the audit's actor names one
     * token): a taken name inserts nothing. */
    [ST_TOKEN_INSERT] =
        "INSERT INTO tokens (name, role, hash, created_ms, expires_ms,"
        " revoked_ms, created_by) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7"
        " WHERE NOT EXISTS (SELECT 1 FROM tokens WHERE name = ?1)",
    [ST_TOKEN_FIND] = TOKEN_COLS " WHERE hash = ?",
    [ST_TOKEN_LIST] = TOKEN_COLS " ORDER BY id",
    [ST_TOKEN_GET] = TOKEN_COLS " WHERE id = ?",
    [ST_TOKEN_REVOKE] =
        "UPDATE tokens SET revoked_ms = ? WHERE id = ? AND revoked_ms = 0",
    [ST_TOKEN_REVOKED] = "SELECT revoked_ms FROM tokens WHERE id = ?",
    [ST_KEY_INSERT] =
        "INSERT INTO enroll_keys (hash, created_ms, expires_ms, revoked_ms,"
        " uses_left, created_by, flag_environments)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
    [ST_KEY_FIND] = KEY_COLS " WHERE hash = ?",
    [ST_KEY_CONSUME] = "UPDATE enroll_keys SET uses_left = uses_left - 1"
                       " WHERE id = ? AND uses_left > 0",
    [ST_KEY_LIST] = KEY_COLS " ORDER BY id",
    [ST_KEY_GET] = KEY_COLS " WHERE id = ?",
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
                         "installed_json = ?, flush_seq = ? WHERE id = ?",
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
    /* The primary key's endpoint_id prefix finds them. */
    [ST_EVENT_LIST_ENDPOINT] =
        "SELECT endpoint_id, event_id, type, release_id, channel, reported_ms,"
        " received_ms, detail FROM events WHERE endpoint_id = ?"
        " ORDER BY received_ms DESC, event_id DESC LIMIT ?",
    /* The oldest ?2 events received before ?1 of releases no rollout is
     * running (or paused, held...) for. */
    [ST_EVENT_PRUNE] =
        "DELETE FROM events WHERE (endpoint_id, event_id) IN"
        " (SELECT endpoint_id, event_id FROM events WHERE received_ms < ?1"
        " AND release_id NOT IN (SELECT release_id FROM rollouts"
        " WHERE active = 1) ORDER BY received_ms LIMIT ?2)",
    [ST_ROLLOUT_EXISTS] = "SELECT 1 FROM rollouts WHERE id = ?",
    [ST_CHANNEL_ID] = "SELECT id FROM channels WHERE name = ?",
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
    [ST_ARTIFACT_PUBLIC] =
        "SELECT 1 FROM releases r JOIN channels c ON c.id = r.channel_id"
        " WHERE r.sha256 = ? AND c.public = 1 LIMIT 1",
#define FLAG_COLS                                                              \
    "SELECT environment, name, version, definition, created_ms,"               \
    " created_by, reason FROM flag_versions"
    [ST_FLAG_CURRENT] = "SELECT coalesce(max(version), 0) FROM flag_versions"
                        " WHERE environment = ? AND name = ?",
    [ST_FLAG_INSERT] = "INSERT INTO flag_versions (environment, name, version,"
                       " definition, created_ms, created_by, reason)"
                       " VALUES (?, ?, ?, ?, ?, ?, ?)",
    [ST_FLAG_HISTORY] = FLAG_COLS " WHERE environment = ?1 AND name = ?2"
                                  " ORDER BY version DESC",
    [ST_FLAG_LIST] =
        FLAG_COLS " f WHERE (?1 IS NULL OR environment = ?1) AND version ="
                  " (SELECT max(version) FROM flag_versions g"
                  "  WHERE g.environment = f.environment AND g.name = f.name)"
                  " ORDER BY environment, name",
    [ST_FLAG_STAMP] = "SELECT versions, newest_ms FROM flag_stamps"
                      " WHERE environment = ?",
    [ST_FLAG_STAMP_BUMP] =
        "INSERT INTO flag_stamps (environment, versions, newest_ms)"
        " VALUES (?1, 1, ?2) ON CONFLICT (environment) DO UPDATE SET"
        " versions = flag_stamps.versions + 1, newest_ms = CASE"
        " WHEN excluded.newest_ms > flag_stamps.newest_ms"
        " THEN excluded.newest_ms ELSE flag_stamps.newest_ms END",
    [ST_FLAG_ROLLOUT_INSERT] =
        "INSERT INTO flag_rollouts (environment, name, seq, active, state,"
        " created_ms, created_by, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_FLAG_ROLLOUT_ACTIVE] = "SELECT id FROM flag_rollouts"
                               " WHERE environment = ? AND name = ?"
                               " AND active = 1",
    [ST_FLAG_ROLLOUT_UPDATE] =
        "UPDATE flag_rollouts SET seq = seq + 1, active = ?, state = ?"
        " WHERE id = ? AND seq = ?",
    [ST_FLAG_ROLLOUT_SEQ] = "SELECT seq FROM flag_rollouts WHERE id = ?",
    [ST_FLAG_ROLLOUT_LIST] =
        "SELECT id, environment, name, seq, active, state, created_ms,"
        " created_by, reason FROM flag_rollouts"
        " WHERE (?1 IS NULL OR environment = ?1) AND (?2 IS NULL OR name = ?2)"
        " AND (?3 = 0 OR active = 1) ORDER BY id DESC",
    [ST_CLIENT_TOKEN_INSERT] =
        "INSERT INTO client_tokens (name, environment, hash,"
        " created_ms, created_by) VALUES (?, ?, ?, ?, ?)",
    [ST_CLIENT_TOKEN_FIND] =
        CLIENT_TOKEN_COLS " WHERE hash = ? AND revoked_ms = 0",
    [ST_CLIENT_TOKEN_LIST] = CLIENT_TOKEN_COLS " ORDER BY id",
    [ST_CLIENT_TOKEN_GET] = CLIENT_TOKEN_COLS " WHERE id = ?",
    [ST_CLIENT_TOKEN_REVOKE] = "UPDATE client_tokens SET revoked_ms = ?"
                               " WHERE id = ? AND revoked_ms = 0",
    [ST_CLIENT_TOKEN_REVOKED] = "SELECT revoked_ms FROM client_tokens"
                                " WHERE id = ?",
    [ST_FLAG_REVERT_INSERT] =
        "INSERT INTO flag_reverts (endpoint_id, environment, stamp,"
        " reported_ms, received_ms, detail) VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT DO NOTHING",
    [ST_FLAG_REVERT_LIST] =
        "SELECT endpoint_id, environment, stamp, reported_ms, received_ms,"
        " detail FROM flag_reverts WHERE endpoint_id = ?"
        " ORDER BY received_ms DESC, stamp DESC LIMIT ?",
#define SEGMENT_COLS                                                           \
    "SELECT environment, name, id, version, deleted, definition,"              \
    " created_ms, created_by, reason FROM segment_versions"
    [ST_SEGMENT_CURRENT] = "SELECT version, deleted FROM segment_versions"
                           " WHERE environment = ? AND name = ?"
                           " ORDER BY version DESC LIMIT 1",
    /* the name's id, else the next one unused across environments */
    [ST_SEGMENT_ID] = "SELECT coalesce((SELECT id FROM segment_versions"
                      " WHERE environment = ?1 AND name = ?2 LIMIT 1),"
                      " (SELECT coalesce(max(id), 0) + 1"
                      " FROM segment_versions))",
    [ST_SEGMENT_INSERT] =
        "INSERT INTO segment_versions (environment, name, id, version,"
        " deleted, definition, created_ms, created_by, reason)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_SEGMENT_HISTORY] = SEGMENT_COLS " WHERE environment = ?1 AND name = ?2"
                                        " ORDER BY version DESC",
    [ST_SEGMENT_LIST] = SEGMENT_COLS
    " s WHERE environment = ?1 AND deleted = 0 AND version ="
    " (SELECT max(version) FROM segment_versions g"
    "  WHERE g.environment = s.environment AND g.name = s.name)"
    " ORDER BY id",
    [ST_SEGMENT_LIVE_ID] = "SELECT 1 FROM segment_versions s"
                           " WHERE environment = ?1 AND id = ?2 AND deleted = 0"
                           " AND version = (SELECT max(version)"
                           " FROM segment_versions g WHERE g.environment ="
                           " s.environment AND g.name = s.name)",
    /* current flag versions that may name a segment (definitions are
     * compact JSON, so a "segments" key is this text) */
    [ST_FLAG_SEGMENT_USERS] =
        FLAG_COLS " f WHERE environment = ?1 AND definition LIKE"
                  " '%\"segments\":[%' AND version ="
                  " (SELECT max(version) FROM flag_versions g"
                  "  WHERE g.environment = f.environment AND g.name = f.name)"
                  " ORDER BY name",
#define HOOK_COLS                                                              \
    "SELECT id, url, events, channel, secret, created_ms, created_by"          \
    " FROM webhooks"
/* A delivery, with what its decision and rollout say (none for a test). */
#define DELIVERY_COLS                                                          \
    "SELECT d.id, d.uid, d.webhook_id, d.event, d.decision_id, d.created_ms,"  \
    " d.state, d.attempts, d.next_ms, d.done_ms, d.last_status, d.last_error," \
    " x.rollout_id, o.release_id, r.version, c.name, x.to_state, x.to_wave,"   \
    " x.at_ms, x.reason, CASE WHEN json_valid(x.evidence)"                     \
    " THEN json_extract(x.evidence, '$.counts') END, d.flag"
#define DELIVERY_FROM                                                          \
    " FROM webhook_deliveries d LEFT JOIN decisions x ON x.id = d.decision_id" \
    " LEFT JOIN rollouts o ON o.id = x.rollout_id"                             \
    " LEFT JOIN releases r ON r.id = o.release_id"                             \
    " LEFT JOIN channels c ON c.id = o.channel_id"
    [ST_HOOK_INSERT] =
        "INSERT INTO webhooks (url, events, channel, secret, created_ms,"
        " created_by) SELECT ?1, ?2, ?3, ?4, ?5, ?6"
        " WHERE (SELECT count(*) FROM webhooks) < ?7",
    [ST_HOOK_GET] = HOOK_COLS " WHERE id = ?",
    [ST_HOOK_LIST] = HOOK_COLS " ORDER BY id",
    [ST_HOOK_DELETE] = "DELETE FROM webhooks WHERE id = ?",
    /* One pending delivery of event ?1 (decision ?2, at ?3, of rollout
     * ?4) per subscription to it on the rollout's channel. */
    [ST_HOOK_ENQUEUE] =
        "INSERT INTO webhook_deliveries (uid, webhook_id, event, decision_id,"
        " created_ms, state, next_ms) SELECT lower(hex(randomblob(16))), w.id,"
        " ?1, ?2, ?3, 'pending', ?3 FROM webhooks w"
        " WHERE (w.events = '*' OR instr(',' || w.events || ',',"
        " ',' || ?1 || ',') > 0) AND (w.channel = '' OR w.channel ="
        " (SELECT c.name FROM rollouts o JOIN channels c ON c.id = o.channel_id"
        " WHERE o.id = ?4))",
    /* One pending delivery of flag rollout event ?1 (at ?2, its object
     * ?3) per subscription to it that names no channel. */
    [ST_HOOK_ENQUEUE_FLAG] =
        "INSERT INTO webhook_deliveries (uid, webhook_id, event, created_ms,"
        " state, next_ms, flag) SELECT lower(hex(randomblob(16))), w.id,"
        " ?1, ?2, 'pending', ?2, ?3 FROM webhooks w"
        " WHERE (w.events = '*' OR instr(',' || w.events || ',',"
        " ',' || ?1 || ',') > 0) AND w.channel = ''",
    [ST_HOOK_TEST] =
        "INSERT INTO webhook_deliveries (uid, webhook_id, event, created_ms,"
        " state, next_ms) VALUES (lower(hex(randomblob(16))), ?1, 'test', ?2,"
        " 'pending', ?2)",
    [ST_DELIVERY_GET] = DELIVERY_COLS DELIVERY_FROM " WHERE d.id = ?",
    [ST_DELIVERY_LIST] = DELIVERY_COLS DELIVERY_FROM
    " WHERE d.webhook_id = ? ORDER BY d.id DESC",
    [ST_DELIVERY_DUE] = DELIVERY_COLS
    ", w.url, w.secret" DELIVERY_FROM " JOIN webhooks w ON w.id = d.webhook_id"
    " WHERE d.state = 'pending' AND d.next_ms <= ?1"
    " ORDER BY d.next_ms, d.id LIMIT ?2",
    [ST_DELIVERY_UPDATE] =
        "UPDATE webhook_deliveries SET state = ?1, attempts = ?2,"
        " next_ms = ?3, done_ms = ?4, last_status = ?5, last_error = ?6"
        " WHERE id = ?7",
    [ST_DELIVERY_PRUNE] =
        "DELETE FROM webhook_deliveries WHERE id IN (SELECT id"
        " FROM webhook_deliveries WHERE state != 'pending' AND done_ms < ?1"
        " ORDER BY done_ms LIMIT ?2)",
    [ST_ATTEMPT_INSERT] =
        "INSERT INTO webhook_attempts (delivery_id, n, at_ms, took_ms, status,"
        " error) VALUES (?, ?, ?, ?, ?, ?)",
    [ST_ATTEMPT_LIST] =
        "SELECT delivery_id, n, at_ms, took_ms, status, error"
        " FROM webhook_attempts WHERE delivery_id = ? ORDER BY n",
    /* Tails (store.h, schema 18). */
    [ST_FLUSH_SEQ_NEXT] = "UPDATE flush_seq SET seq = seq + 1 RETURNING seq",
    [ST_ENDPOINT_MARK] = "UPDATE endpoints SET flush_seq = ? WHERE id = ?",
    [ST_TAIL_HEADS] =
        "SELECT (SELECT coalesce(max(flush_seq), 0) FROM endpoints),"
        " (SELECT coalesce(max(seq), 0) FROM events),"
        " (SELECT coalesce(max(seq), 0) FROM offers)",
    [ST_ENDPOINT_AFTER] =
        "SELECT id, token_hash, attrs_json, enrolled_ms, last_seen_ms,"
        " installed_json, flush_seq FROM endpoints WHERE flush_seq > ?"
        " ORDER BY flush_seq LIMIT ?",
    [ST_EVENT_AFTER] =
        "SELECT endpoint_id, event_id, type, release_id, channel, reported_ms,"
        " received_ms, detail, seq FROM events WHERE seq > ?"
        " ORDER BY seq LIMIT ?",
    [ST_OFFER_AFTER] = "SELECT endpoint_id, release_id, offered_ms, seq"
                       " FROM offers WHERE seq > ? ORDER BY seq LIMIT ?",
};

/* What a committed statement announces to the other nodes (session.h):
 * the writes that change check-in answers, stored decisions, endpoints,
 * flags. */
static const unsigned announces[ST__COUNT] = {
    [ST_CHANNEL_INSERT] = RG_ANNOUNCE_STATE,
    [ST_CHANNEL_COMPLETE] = RG_ANNOUNCE_STATE,
    [ST_CHANNEL_UNDO] = RG_ANNOUNCE_STATE,
    [ST_CHANNEL_SET_PREFLIGHT] = RG_ANNOUNCE_STATE,
    [ST_RELEASE_INSERT] = RG_ANNOUNCE_STATE | RG_ANNOUNCE_RELEASE,
    [ST_RELEASE_PREFLIGHT_FINISH] = RG_ANNOUNCE_STATE,
    [ST_RELEASE_LIFT_QUARANTINE] = RG_ANNOUNCE_STATE,
    [ST_ROLLOUT_INSERT] = RG_ANNOUNCE_STATE,
    [ST_ROLLOUT_CAS] = RG_ANNOUNCE_STATE,
    [ST_POLICY_INSERT] = RG_ANNOUNCE_STATE,
    [ST_POLICY_DELETE] = RG_ANNOUNCE_STATE,
    [ST_ROOT_INSERT] = RG_ANNOUNCE_STATE,
    [ST_DECISION_INSERT] = RG_ANNOUNCE_DECISION,
    [ST_ENDPOINT_UPSERT] = RG_ANNOUNCE_ENDPOINT,
    [ST_ENDPOINT_RESET] = RG_ANNOUNCE_ENDPOINT,
    [ST_FLAG_INSERT] = RG_ANNOUNCE_FLAG,
    [ST_SEGMENT_INSERT] = RG_ANNOUNCE_FLAG,
    [ST_FLAG_ROLLOUT_INSERT] = RG_ANNOUNCE_FLAG,
    [ST_FLAG_ROLLOUT_UPDATE] = RG_ANNOUNCE_FLAG,
};

typedef struct sq {
    const struct rg__sqldrv *drv;
    void *conn; /* the driver's connection */
    pthread_mutex_t mu;
    int version;       /* schema version after migrations */
    unsigned announce; /* RG_ANNOUNCE_* of the open transaction's writes */
} sq;

/* --- helpers ------------------------------------------------------------ */

/* Starts statement id with v[0 .. n) bound. */
static int prep(sq *q, int id, const rg__val *v, size_t n, rg_err *err)
{
    q->announce |= announces[id];
    return q->drv->query(q->conn, sql_text[id], v, n, err);
}

/* Ends the running statement. */
static void done(sq *q)
{
    q->drv->done(q->conn);
}

/* Runs statement id, which returns no rows, with v[0 .. n) bound;
 * changes() then tells how many rows it changed. */
static int run(sq *q, int id, const rg__val *v, size_t n, rg_err *err,
               const char *what)
{
    int rc = prep(q, id, v, n, err);
    if (rc == 0)
        rc = q->drv->step(q->conn, NULL, NULL, what, err);
    done(q);
    return rc;
}

/* Rows the last statement changed. */
static int64_t changes(sq *q)
{
    return q->drv->changes(q->conn);
}

/* 1 with the next row of the running statement read into rec by m, 0
 * after the last row, or an error. */
static int next_row(sq *q, const rg__rowmap *m, void *rec, rg_err *err)
{
    rg__val v[RG__ROW_COLS_MAX];
    assert(m->n <= RG__ROW_COLS_MAX);
    int rc = q->drv->step(q->conn, m, v, m->what, err);
    if (rc != 1)
        return rc;
    rc = rg__row_read(m, v, rec, err);
    return rc ? rc : 1;
}

/* Reads the first row of query id (parameters v[0 .. n)) into rec by m.
 * Caller holds the lock. Returns 0, RG_ENOTFOUND (err untouched) when
 * there is no row, or an error. */
static int get_row(sq *q, int id, const rg__val *v, size_t n,
                   const rg__rowmap *m, void *rec, rg_err *err)
{
    int rc = prep(q, id, v, n, err);
    if (rc == 0)
        rc = next_row(q, m, rec, err);
    done(q);
    return rc == 1 ? 0 : rc == 0 ? RG_ENOTFOUND : rc;
}

static void lock(sq *q)
{
    pthread_mutex_lock(&q->mu);
}

static void unlock(sq *q)
{
    pthread_mutex_unlock(&q->mu);
}

/* get_row under the lock. */
static int get_locked(sq *q, int id, const rg__val *v, size_t n,
                      const rg__rowmap *m, void *rec, rg_err *err)
{
    lock(q);
    int rc = get_row(q, id, v, n, m, rec, err);
    unlock(q);
    return rc;
}

/* The rows of one query, read under the store's lock: cursor_open locks
 * and starts it, cursor_next reads each row, cursor_close ends it and
 * unlocks. */
typedef struct cursor {
    sq *q;
    const rg__rowmap *m;
} cursor;

/* Locks q and starts query id with v[0 .. n) bound, its rows read by m.
 * Call cursor_close whatever this returns. */
static int cursor_open(cursor *c, sq *q, int id, const rg__val *v, size_t n,
                       const rg__rowmap *m, rg_err *err)
{
    *c = (cursor){q, m};
    lock(q);
    return prep(q, id, v, n, err);
}

/* 1 with the next row read into rec, 0 after the last row, or an error. */
static int cursor_next(cursor *c, void *rec, rg_err *err)
{
    return next_row(c->q, c->m, rec, err);
}

/* Ends c's query and unlocks; returns rc. */
static int cursor_close(cursor *c, int rc)
{
    done(c->q);
    unlock(c->q);
    return rc;
}

/* Locks and begins a write transaction. On failure the lock is released. */
static int begin(sq *q, rg_err *err)
{
    lock(q);
    int rc = q->drv->begin(q->conn, err);
    if (rc)
        unlock(q);
    return rc;
}

/* Commits when rc is 0 (rolling back if the commit fails), rolls back
 * otherwise; unlocks. Returns the final code. */
static int finish(sq *q, int rc, rg_err *err)
{
    done(q);
    for (unsigned k = 1; rc == 0 && q->drv->notify && k <= q->announce; k <<= 1)
        if (q->announce & k)
            rc = q->drv->notify(q->conn, rg_store_announce_name(k), err);
    q->announce = 0;
    if (rc == 0)
        rc = q->drv->commit(q->conn, err);
    if (rc != 0 && q->drv->in_txn(q->conn))
        q->drv->rollback(q->conn);
    unlock(q);
    return rc;
}

/* Inserts a row of record rec (row map m: its RG__FROM_REC columns, then
 * the nx extra parameters x) with statement id, in the caller's
 * transaction. *new_id (may be NULL) receives the new row's id. */
static int insert_row(sq *q, int id, const rg__rowmap *m, const void *rec,
                      const rg__val *x, size_t nx, int64_t *new_id, rg_err *err,
                      const char *what)
{
    rg__val v[RG__ROW_COLS_MAX + 2];
    size_t n = rg__row_vals(m, rec, v);
    assert(nx <= 2);
    for (size_t i = 0; i < nx; i++)
        v[n++] = x[i];
    int rc = run(q, id, v, n, err, what);
    if (rc == 0 && new_id)
        rc = q->drv->last_id(q->conn, new_id, err);
    return rc;
}

/* Inserts the audit row a (if any) in the current transaction. */
static int audit_insert(sq *q, const rg_audit_rec *a, int64_t *id, rg_err *err)
{
    if (!a)
        return 0;
    return insert_row(q, ST_AUDIT_INSERT, &rg__audit_row, a, NULL, 0, id, err,
                      "audit");
}

/* Inserts a copy of a (if any) whose target is "<kind>:<id>" (an object
 * transaction creates: its id is known only now). */
static int audit_insert_for(sq *q, const rg_audit_rec *a, const char *kind,
                            int64_t id, rg_err *err)
{
    if (!a)
        return 0; /* no audit row */
    rg_audit_rec copy = *a;
    snprintf(copy.target, sizeof copy.target, "%s:%lld", kind, (long long)id);
    return audit_insert(q, &copy, NULL, err);
}

/* --- open, close -------------------------------------------------------- */

static void sq_close(void *impl)
{
    sq *q = impl;
    if (!q)
        return;
    if (q->conn)
        q->drv->disconnect(q->conn);
    pthread_mutex_destroy(&q->mu);
    free(q);
}

/* Applies migrations until the schema reaches upto, each in its own write
 * transaction together with its version bump. The version is read inside
 * the transaction, so two processes opening at once cannot apply a
 * migration twice. */
static int migrate(sq *q, int upto, rg_err *err)
{
    const struct rg__sqldrv *d = q->drv;
    int rc, v = 0, applying = 0;
    for (;;) {
        if ((rc = d->begin(q->conn, err)))
            return rc;
        if ((rc = d->version_get(q->conn, &v, err)))
            goto fail;
        if (v > RG__SCHEMA_VERSION) {
            rc = rg_err_set(err, RG_EIO,
                            "schema version %d is newer than this "
                            "build knows (%d)",
                            v, RG__SCHEMA_VERSION);
            goto fail;
        }
        if (v >= upto)
            break;
        applying = v + 1;
        for (const char *const *s = d->migrations[v]; *s; s++)
            if ((rc = d->exec(q->conn, *s, err)))
                goto fail;
        if ((rc = d->version_set(q->conn, v + 1, err)) ||
            (rc = d->commit(q->conn, err)))
            goto fail;
        rg_info("store: migrated schema to version %d", v + 1);
        applying = 0;
    }
    q->version = v;
    return d->commit(q->conn, err);
fail:
    if (d->in_txn(q->conn))
        d->rollback(q->conn);
    if (err && applying) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        rg_err_set(err, RG_EIO, "migration %d failed: %s", applying, msg);
    }
    return rc;
}

/* Opens target with driver drv, migrated up to upto. */
static int sq_open(const struct rg__sqldrv *drv, const char *target, int upto,
                   void **impl, rg_err *err)
{
    *impl = NULL;
    if (upto == RG__SCHEMA_LATEST || upto > RG__SCHEMA_VERSION)
        upto = RG__SCHEMA_VERSION;
    sq *q = calloc(1, sizeof *q);
    if (!q)
        return rg_err_set(err, RG_ENOMEM, "store: out of memory");
    q->drv = drv;
    pthread_mutex_init(&q->mu, NULL);
    int rc = drv->connect(target, &q->conn, err);
    if (rc == 0 && (rc = migrate(q, upto, err)) && err) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        rg_err_set(err, rc, "store '%s': %s", drv->where(q->conn), msg);
    }
    if (rc) {
        sq_close(q);
        return rc;
    }
    *impl = q;
    return 0;
}

static int sqlite_open(const char *target, int upto, void **impl, rg_err *err)
{
    return sq_open(&rg__sqlite_drv, target, upto, impl, err);
}

static int pg_open(const char *target, int upto, void **impl, rg_err *err)
{
    return sq_open(&rg__pg_drv, target, upto, impl, err);
}

static int sq_schema_version(void *impl)
{
    sq *q = impl;
    return q->version;
}

/* Runs cached update id (parameters v[0 .. n)) in the caller's
 * transaction: 0 when it changed a row, RG_ENOTFOUND (err untouched)
 * when it changed none. */
static int update_one(sq *q, int id, const rg__val *v, size_t n, rg_err *err,
                      const char *what)
{
    int rc = run(q, id, v, n, err, what);
    if (rc == 0 && changes(q) == 0)
        rc = RG_ENOTFOUND;
    return rc;
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
    cursor c;
    rg_audit_rec *a = malloc(sizeof *a);
    int id = f->actor ? (f->target ? ST_AUDIT_LIST_BOTH : ST_AUDIT_LIST_ACTOR)
                      : (f->target ? ST_AUDIT_LIST_TARGET : ST_AUDIT_LIST);
    if (!a)
        return rg_err_set(err, RG_ENOMEM, "audit list: out of memory");
    int rc = cursor_open(&c, impl, id,
                         RG__VALS(RG__TEXT(f->actor), RG__TEXT(f->target),
                                  RG__INT(f->since_ms), RG__INT(f->until_ms),
                                  RG__INT(f->limit > 0 ? f->limit : 1000),
                                  RG__TEXT(f->action), RG__INT(f->before_id)),
                         &rg__audit_row, err);
    while (rc == 0 && (rc = cursor_next(&c, a, err)) == 1)
        rc = fn(ctx, a);
    free(a);
    return cursor_close(&c, rc);
}

/* --- channels ----------------------------------------------------------- */

static int artifact_size(sq *q, const char *sha256, uint64_t *size,
                         rg_err *err);

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

static int sq_channel_create(void *impl, rg_channel_rec *c,
                             const rg_audit_rec *audit, rg_err *err)
{
    sq *q = impl;
    int64_t id = 0;
    int rc = begin(q, err);
    if (rc)
        return rc;
    if ((rc = corpus_known(q, &c->preflight, err)))
        goto cleanup;
    rc = insert_row(q, ST_CHANNEL_INSERT, &rg__channel_row, c, NULL, 0, &id,
                    err, "channel create");
    if (rc == RG_ECONFLICT)
        rc = rg_err_field(err, RG_ECONFLICT, "name",
                          "channel '%s' already exists", c->name);
    if (rc)
        goto cleanup;
    rc = audit_insert(q, audit, NULL, err);
cleanup:
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
    int rc = get_locked(impl, ST_CHANNEL_GET, RG__VALS(RG__TEXT(name)),
                        &rg__channel_row, out, err);
    if (rc == RG_ENOTFOUND)
        rc = rg_err_set(err, RG_ENOTFOUND, "channel '%s' not found", name);
    return rc;
}

static int sq_channel_list(void *impl,
                           int (*fn)(void *ctx, const rg_channel_rec *c),
                           void *ctx, rg_err *err)
{
    cursor c;
    rg_channel_rec ch;
    int rc =
        cursor_open(&c, impl, ST_CHANNEL_LIST, NULL, 0, &rg__channel_row, err);
    while (rc == 0 && (rc = cursor_next(&c, &ch, err)) == 1)
        rc = fn(ctx, &ch);
    return cursor_close(&c, rc);
}

static int sq_channel_set_preflight(void *impl, const char *name,
                                    const rg_preflight_spec *spec,
                                    const rg_audit_rec *audit, rg_err *err)
{
    sq *q = impl;
    int rc = begin(q, err);
    if (rc)
        return rc;
    if ((rc = corpus_known(q, spec, err)))
        goto cleanup;
    rc = update_one(q, ST_CHANNEL_SET_PREFLIGHT,
                    RG__VALS(RG__SPEC_VALS(spec), RG__TEXT(name)), err,
                    "channel preflight");
    if (rc == RG_ENOTFOUND)
        rc = rg_err_set(err, RG_ENOTFOUND, "channel '%s' not found", name);
    if (rc == 0)
        rc = audit_insert(q, audit, NULL, err);
cleanup:
    return finish(q, rc, err);
}

/* --- artifacts ---------------------------------------------------------- */

/* Reads the recorded size of sha256 into *size; RG_ENOTFOUND when none.
 * Caller holds the lock. */
static int artifact_size(sq *q, const char *sha256, uint64_t *size, rg_err *err)
{
    rg__scalars v;
    int rc = get_row(q, ST_ARTIFACT_GET, RG__VALS(RG__TEXT(sha256)),
                     &rg__int_row, &v, err);
    if (rc == RG_ENOTFOUND)
        return rg_err_field(err, RG_ENOTFOUND, "artifact",
                            "artifact '%s' not found", sha256);
    if (rc == 0)
        *size = (uint64_t)v.a;
    return rc;
}

static int sq_artifact_put(void *impl, const char *sha256, uint64_t size,
                           int64_t now_ms, const rg_audit_rec *audit,
                           rg_err *err)
{
    sq *q = impl;
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
    if ((rc = run(q, ST_ARTIFACT_INSERT,
                  RG__VALS(RG__TEXT(sha256), RG__INT(size), RG__INT(now_ms)),
                  err, "artifact put")))
        goto cleanup;
    rc = audit_insert(q, audit, NULL, err);
cleanup:
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

/* The row of new release r, checked against its channel (which exists
 * and has only lower versions) and artifact (recorded): r with the
 * channel's id and preflight spec, status pending when it has one, and
 * the artifact's size. Caller holds the lock. */
static int release_row(sq *q, const rg_release_rec *r, rg_release_rec *row,
                       rg_err *err)
{
    rg__release_channel ch;
    int rc = get_row(q, ST_RELEASE_CHANNEL, RG__VALS(RG__TEXT(r->channel)),
                     &rg__release_channel_row, &ch, err);
    if (rc == RG_ENOTFOUND)
        return rg_err_field(err, RG_ENOTFOUND, "channel",
                            "channel '%s' not found", r->channel);
    if (rc)
        return rc;
    if (r->version <= ch.max_version)
        return rg_err_field(err, RG_ECONFLICT, "version",
                            "channel '%s': version %lld is not above %lld",
                            r->channel, (long long)r->version,
                            (long long)ch.max_version);
    *row = *r;
    row->channel_id = ch.id;
    row->preflight = ch.spec;
    snprintf(row->preflight_status, sizeof row->preflight_status, "%s",
             ch.spec.engine[0] ? "pending" : "none");
    row->preflight_detail[0] = '\0';
    row->preflight_done_ms = 0;
    return artifact_size(q, r->sha256, &row->size, err);
}

static int sq_release_create(void *impl, rg_release_rec *r,
                             const rg_audit_rec *audit, rg_err *err)
{
    sq *q = impl;
    rg_release_rec *row = malloc(sizeof *row);
    if (!row)
        return rg_err_set(err, RG_ENOMEM, "release create: out of memory");
    int rc = begin(q, err);
    if (rc)
        goto out;
    if ((rc = release_row(q, r, row, err)) == 0 &&
        (rc = insert_row(q, ST_RELEASE_INSERT, &rg__release_row, row, NULL, 0,
                         &row->id, err, "release create")) == 0)
        rc = audit_insert_for(q, audit, "release", row->id, err);
    if ((rc = finish(q, rc, err)) == 0)
        *r = *row;
out:
    free(row);
    return rc;
}

static int sq_release_get(void *impl, int64_t id, rg_release_rec *out,
                          rg_err *err)
{
    int rc = get_locked(impl, ST_RELEASE_GET, RG__VALS(RG__INT(id)),
                        &rg__release_row, out, err);
    if (rc == RG_ENOTFOUND)
        rc = rg_err_set(err, RG_ENOTFOUND, "release %lld not found",
                        (long long)id);
    return rc;
}

static int sq_release_find(void *impl, const char *channel, int64_t version,
                           rg_release_rec *out, rg_err *err)
{
    int rc = get_locked(impl, ST_RELEASE_FIND,
                        RG__VALS(RG__TEXT(channel), RG__INT(version)),
                        &rg__release_row, out, err);
    if (rc == RG_ENOTFOUND)
        rc = rg_err_field(err, RG_ENOTFOUND, "version",
                          "channel '%s' has no release version %lld", channel,
                          (long long)version);
    return rc;
}

/* Calls fn for each release that cached query id (parameters v[0 .. n))
 * returns. */
static int each_release(sq *q, int id, const rg__val *v, size_t n,
                        int (*fn)(void *ctx, const rg_release_rec *r),
                        void *ctx, rg_err *err)
{
    cursor c;
    rg_release_rec *r = malloc(sizeof *r);
    if (!r)
        return rg_err_set(err, RG_ENOMEM, "release list: out of memory");
    int rc = cursor_open(&c, q, id, v, n, &rg__release_row, err);
    while (rc == 0 && (rc = cursor_next(&c, r, err)) == 1)
        rc = fn(ctx, r);
    free(r);
    return cursor_close(&c, rc);
}

static int sq_release_list(void *impl, const char *channel,
                           int (*fn)(void *ctx, const rg_release_rec *r),
                           void *ctx, rg_err *err)
{
    rg__scalars ch;
    if (!channel)
        return each_release(impl, ST_RELEASE_LIST, NULL, 0, fn, ctx, err);
    /* Channels are never deleted: one that exists now still does below. */
    int rc = get_locked(impl, ST_CHANNEL_ID, RG__VALS(RG__TEXT(channel)),
                        &rg__int_row, &ch, err);
    if (rc == RG_ENOTFOUND)
        return rg_err_field(err, RG_ENOTFOUND, "channel",
                            "channel '%s' not found", channel);
    if (rc)
        return rc;
    return each_release(impl, ST_RELEASE_LIST_CHANNEL,
                        RG__VALS(RG__TEXT(channel)), fn, ctx, err);
}

static int sq_release_preflight_finish(void *impl, int64_t id, bool passed,
                                       const char *detail,
                                       const char *result_json, int64_t done_ms,
                                       const rg_audit_rec *audit, rg_err *err)
{
    sq *q = impl;
    rg__scalars now;
    int rc = begin(q, err);
    if (rc)
        return rc;
    rc = update_one(q, ST_RELEASE_PREFLIGHT_FINISH,
                    RG__VALS(RG__TEXT(passed ? "passed" : "failed"),
                             RG__TEXT(detail), RG__TEXT(result_json),
                             RG__INT(done_ms), RG__INT(id)),
                    err, "release preflight");
    if (rc == RG_ENOTFOUND) {
        rc = get_row(q, ST_RELEASE_PREFLIGHT_STATUS, RG__VALS(RG__INT(id)),
                     &rg__word_row, &now, err);
        if (rc == 0)
            rc = rg_err_set(err, RG_ECONFLICT,
                            "release %lld: preflight is %s, not pending",
                            (long long)id, now.word);
        else if (rc == RG_ENOTFOUND)
            rc = rg_err_set(err, RG_ENOTFOUND, "release %lld not found",
                            (long long)id);
    }
    if (rc == 0)
        rc = audit_insert(q, audit, NULL, err);
    return finish(q, rc, err);
}

static int sq_release_lift_quarantine(void *impl, int64_t id, int64_t at_ms,
                                      const rg_audit_rec *audit, rg_err *err)
{
    sq *q = impl;
    int rc = begin(q, err);
    if (rc)
        return rc;
    rc = update_one(q, ST_RELEASE_LIFT_QUARANTINE,
                    RG__VALS(RG__INT(at_ms), RG__INT(id)), err,
                    "release lift quarantine");
    if (rc == RG_ENOTFOUND)
        rc = rg_err_set(err, RG_ENOTFOUND, "release %lld not found",
                        (long long)id);
    if (rc == 0)
        rc = audit_insert(q, audit, NULL, err);
    return finish(q, rc, err);
}

static int sq_release_preflight_result(void *impl, int64_t id, char **json,
                                       rg_err *err)
{
    sq *q = impl;
    rg__scalars res;
    lock(q);
    int rc = prep(q, ST_RELEASE_PREFLIGHT_RESULT, RG__VALS(RG__INT(id)), err);
    if (rc == 0)
        rc = next_row(q, &rg__text_row, &res, err);
    if (rc == 1) {
        *json = strdup(res.text);
        rc = *json ? 0
                   : rg_err_set(err, RG_ENOMEM, "release %lld: out of memory",
                                (long long)id);
    } else if (rc == 0) {
        rc = rg_err_set(err, RG_ENOTFOUND, "release %lld not found",
                        (long long)id);
    }
    done(q);
    unlock(q);
    return rc;
}

static int sq_release_preflight_pending(void *impl,
                                        int (*fn)(void *ctx,
                                                  const rg_release_rec *r),
                                        void *ctx, rg_err *err)
{
    return each_release(impl, ST_RELEASE_LIST_PENDING, NULL, 0, fn, ctx, err);
}

/* --- root metadata ------------------------------------------------------ */

static int sq_root_put(void *impl, const rg_root_rec *r,
                       const rg_audit_rec *audit, rg_err *err)
{
    sq *q = impl;
    rg__scalars newest;
    int rc = begin(q, err);
    if (rc)
        return rc;
    if ((rc = get_row(q, ST_ROOT_MAX, NULL, 0, &rg__int_row, &newest, err)))
        goto cleanup;
    if (r->version != newest.a + 1) {
        rc = rg_err_field(err, RG_ECONFLICT, "version",
                          "root version %lld: the next version is %lld",
                          (long long)r->version, (long long)newest.a + 1);
        goto cleanup;
    }
    if ((rc = insert_row(q, ST_ROOT_INSERT, &rg__root_row, r, NULL, 0, NULL,
                         err, "root put")))
        goto cleanup;
    rc = audit_insert(q, audit, NULL, err);
cleanup:
    return finish(q, rc, err);
}

static int sq_root_list(void *impl, int64_t after,
                        int (*fn)(void *ctx, const rg_root_rec *r), void *ctx,
                        rg_err *err)
{
    cursor c;
    rg_root_rec r;
    int rc = cursor_open(&c, impl, ST_ROOT_LIST, RG__VALS(RG__INT(after)),
                         &rg__root_row, err);
    while (rc == 0 && (rc = cursor_next(&c, &r, err)) == 1)
        rc = fn(ctx, &r);
    return cursor_close(&c, rc);
}

/* --- rollouts ----------------------------------------------------------- */

/* Appends one decision row of rollout id inside the caller's transaction. */
static int decision_insert(sq *q, int64_t id, int64_t at_ms,
                           const rg_transition *tr, const char *actor,
                           const char *evidence_json, rg_err *err)
{
    rg_decision_rec d = {.rollout_id = id,
                         .at_ms = at_ms,
                         .tr = *tr,
                         .evidence_json = evidence_json};
    snprintf(d.actor, sizeof d.actor, "%s", actor);
    return insert_row(q, ST_DECISION_INSERT, &rg__decision_row, &d, NULL, 0,
                      NULL, err, "rollout decision");
}

/* What a new rollout of r takes from its release and channel, checked:
 * the release exists, is newer than the channel's current release, and
 * (when r is active) the channel has no active rollout. Caller holds the
 * lock. */
static int rollout_base(sq *q, const rg_rollout_rec *r, bool active,
                        rg__rollout_base *b, rg_err *err)
{
    rg__scalars other;
    int rc = get_row(q, ST_ROLLOUT_PREPARE, RG__VALS(RG__INT(r->release_id)),
                     &rg__rollout_base_row, b, err);
    if (rc == RG_ENOTFOUND)
        return rg_err_field(err, RG_ENOTFOUND, "release",
                            "release %lld not found", (long long)r->release_id);
    if (rc)
        return rc;
    if (b->current_id && b->version <= b->current_version)
        return rg_err_field(
            err, RG_ECONFLICT, "release",
            "release %lld (version %lld) is not newer than "
            "channel '%s''s current release %lld (version %lld)",
            (long long)r->release_id, (long long)b->version, b->channel,
            (long long)b->current_id, (long long)b->current_version);
    if (!active)
        return 0;
    rc = get_row(q, ST_ROLLOUT_ACTIVE, RG__VALS(RG__INT(b->channel_id)),
                 &rg__int_row, &other, err);
    if (rc == 0)
        return rg_err_field(err, RG_ECONFLICT, "release",
                            "channel '%s' already has active rollout %lld",
                            b->channel, (long long)other.a);
    return rc == RG_ENOTFOUND ? 0 : rc;
}

/* Inserts rollout r (plan as JSON text) on base b; *id gets its id. */
static int rollout_insert(sq *q, const rg_rollout_rec *r, const char *plan,
                          const rg__rollout_base *b, bool active, int64_t *id,
                          rg_err *err)
{
    const rg_rollout_status *s = &r->status;
    int rc =
        run(q, ST_ROLLOUT_INSERT,
            RG__VALS(RG__INT(r->release_id), RG__INT(b->channel_id),
                     RG__REF(b->current_id), RG__TEXT(plan), RG__TEXT(r->salt),
                     RG__INT(s->state), RG__INT(s->wave), RG__INT(s->share_ppm),
                     RG__INT(s->wave_started_ms), RG__INT(s->updated_ms),
                     RG__INT(active), RG__INT(r->created_ms),
                     RG__TEXT(r->created_by)),
            err, "rollout create");
    if (rc || (rc = q->drv->last_id(q->conn, id, err)))
        return rc;
    if (s->state == RG_RO_PENDING)
        return 0;
    rg_transition start = {RG_RO_PENDING, s->state, 0, s->wave, ""};
    snprintf(start.reason, sizeof start.reason, "started by %s", r->created_by);
    return decision_insert(q, *id, s->updated_ms, &start, r->created_by, "",
                           err);
}

static int sq_rollout_create(void *impl, rg_rollout_rec *r,
                             const rg_audit_rec *audit, rg_err *err)
{
    sq *q = impl;
    rg__rollout_base b = {0};
    int64_t id = 0;
    bool active = !rg_rollout_state_final(r->status.state);
    json_t *pj = rg_plan_to_json(&r->plan);
    char *plan = pj ? json_dumps(pj, JSON_COMPACT) : NULL;
    int rc;

    json_decref(pj);
    if (!plan)
        return rg_err_set(err, RG_ENOMEM, "rollout: plan serialisation failed");
    if ((rc = begin(q, err)))
        goto out;
    if ((rc = rollout_base(q, r, active, &b, err)) == 0 &&
        (rc = rollout_insert(q, r, plan, &b, active, &id, err)) == 0)
        rc = audit_insert_for(q, audit, "rollout", id, err);
    rc = finish(q, rc, err);
    if (rc == 0) {
        r->id = id;
        r->channel_id = b.channel_id;
        memcpy(r->channel, b.channel, sizeof r->channel);
        r->prev_release_id = b.current_id;
    }
out:
    free(plan);
    return rc;
}

static int sq_rollout_get(void *impl, int64_t id, rg_rollout_rec *out,
                          rg_err *err)
{
    int rc = get_locked(impl, ST_ROLLOUT_GET, RG__VALS(RG__INT(id)),
                        &rg__rollout_row, out, err);
    if (rc == RG_ENOTFOUND)
        rc = rg_err_set(err, RG_ENOTFOUND, "rollout %lld not found",
                        (long long)id);
    return rc;
}

static int sq_rollout_list(void *impl, const rg_rollout_filter *f,
                           int (*fn)(void *ctx, const rg_rollout_rec *r),
                           void *ctx, rg_err *err)
{
    cursor c;
    rg_rollout_rec *r = malloc(sizeof *r);
    if (!r)
        return rg_err_set(err, RG_ENOMEM, "rollout list: out of memory");
    int rc = cursor_open(&c, impl, ST_ROLLOUT_LIST,
                         RG__VALS(RG__INT(f->active_only), RG__TEXT(f->channel),
                                  RG__INT(f->state), RG__INT(f->release_id),
                                  RG__INT(f->before_id),
                                  RG__INT(f->limit > 0 ? f->limit : INT64_MAX)),
                         &rg__rollout_row, err);
    while (rc == 0 && (rc = cursor_next(&c, r, err)) == 1)
        rc = fn(ctx, r);
    rc = cursor_close(&c, rc);
    free(r);
    return rc;
}

/* Explains a failed compare-and-set on rollout id: RG_ENOTFOUND or
 * RG_ECONFLICT naming the stored state. Caller holds the lock. */
static int cas_failed(sq *q, int64_t id, rg_err *err)
{
    rg__scalars now;
    int rc = get_row(q, ST_ROLLOUT_STATE, RG__VALS(RG__INT(id)), &rg__int2_row,
                     &now, err);
    if (rc == 0)
        return rg_err_set(err, RG_ECONFLICT,
                          "rollout %lld changed meanwhile (now %s, wave %d)",
                          (long long)id, rg_rollout_state_name((int)now.a),
                          (int)now.b);
    if (rc == RG_ENOTFOUND)
        return rg_err_set(err, RG_ENOTFOUND, "rollout %lld not found",
                          (long long)id);
    return rc;
}

/* Moves rollout id from *cur to *next if it is still at *cur. */
static int rollout_cas(sq *q, int64_t id, const rg_rollout_status *cur,
                       const rg_rollout_status *next, rg_err *err)
{
    int rc = update_one(
        q, ST_ROLLOUT_CAS,
        RG__VALS(
            RG__INT(next->state), RG__INT(next->wave), RG__INT(next->share_ppm),
            RG__INT(next->wave_started_ms), RG__INT(next->updated_ms),
            RG__INT(!rg_rollout_state_final(next->state)), RG__INT(id),
            RG__INT(cur->state), RG__INT(cur->wave), RG__INT(cur->share_ppm),
            RG__INT(cur->wave_started_ms), RG__INT(cur->updated_ms)),
        err, "rollout transition");
    return rc == RG_ENOTFOUND ? cas_failed(q, id, err) : rc;
}

/* Queues a delivery of the transition to *next (the decision just
 * inserted) to every subscription to its event, if it is one
 * (model/rollout_event.h), in the caller's transaction. */
static int hooks_enqueue(sq *q, int64_t id, int from,
                         const rg_rollout_status *next, rg_err *err)
{
    const char *event = rg_rollout_event(from, next->state);
    if (!event)
        return 0;
    int64_t decision = 0;
    int rc = q->drv->last_id(q->conn, &decision, err);
    return rc ? rc
              : run(q, ST_HOOK_ENQUEUE,
                    RG__VALS(RG__TEXT(event), RG__INT(decision),
                             RG__INT(next->updated_ms), RG__INT(id)),
                    err, "webhook outbox");
}

static int sq_rollout_transition(void *impl, int64_t id,
                                 const rg_rollout_status *cur,
                                 const rg_rollout_status *next,
                                 const rg_transition *tr, const char *actor,
                                 const char *evidence_json,
                                 const rg_audit_rec *audit, rg_err *err)
{
    sq *q = impl;
    int rc = begin(q, err);
    if (rc)
        return rc;
    if ((rc = rollout_cas(q, id, cur, next, err)) ||
        (rc = decision_insert(q, id, next->updated_ms, tr, actor, evidence_json,
                              err)) ||
        (rc = hooks_enqueue(q, id, cur->state, next, err)))
        goto cleanup;

    /* A halt after completion (the gate still watching) undoes the
     * channel's current release as a rollback does. */
    bool undo = next->state == RG_RO_ROLLED_BACK ||
                (next->state == RG_RO_HALTED && cur->state == RG_RO_COMPLETED);
    if (next->state == RG_RO_COMPLETED || undo) {
        int which = next->state == RG_RO_COMPLETED ? ST_CHANNEL_COMPLETE
                                                   : ST_CHANNEL_UNDO;
        if ((rc = run(q, which, RG__VALS(RG__INT(id)), err,
                      "rollout transition: channel")))
            goto cleanup;
    }
    rc = audit_insert(q, audit, NULL, err);
cleanup:
    return finish(q, rc, err);
}

static int sq_decision_list(void *impl, int64_t rollout_id,
                            int (*fn)(void *ctx, const rg_decision_rec *d),
                            void *ctx, rg_err *err)
{
    cursor c;
    rg_decision_rec d;
    int rc = cursor_open(&c, impl, ST_DECISION_LIST,
                         RG__VALS(RG__INT(rollout_id)), &rg__decision_row, err);
    while (rc == 0 && (rc = cursor_next(&c, &d, err)) == 1)
        rc = fn(ctx, &d);
    return cursor_close(&c, rc);
}

static int sq_decision_append(void *impl, int64_t rollout_id, int64_t at_ms,
                              const rg_transition *tr, const char *actor,
                              const char *evidence_json, rg_err *err)
{
    sq *q = impl;
    rg__scalars one;
    int rc = begin(q, err);
    if (rc)
        return rc;
    rc = get_row(q, ST_ROLLOUT_EXISTS, RG__VALS(RG__INT(rollout_id)),
                 &rg__int_row, &one, err);
    if (rc == RG_ENOTFOUND)
        rc = rg_err_set(err, RG_ENOTFOUND, "rollout %lld not found",
                        (long long)rollout_id);
    if (rc == 0)
        rc = decision_insert(q, rollout_id, at_ms, tr, actor, evidence_json,
                             err);
    return finish(q, rc, err);
}

/* --- admin tokens ------------------------------------------------------- */

static int sq_token_create(void *impl, rg_token_rec *t,
                           const rg_audit_rec *audit, rg_err *err)
{
    sq *q = impl;
    int64_t id = 0;
    int rc = begin(q, err);
    if (rc)
        return rc;
    rg_token_rec row = *t;
    row.revoked_ms = 0;
    rc = insert_row(q, ST_TOKEN_INSERT, &rg__token_row, &row, NULL, 0, &id, err,
                    "token create");
    if (rc == RG_ECONFLICT)
        rc = rg_err_set(err, RG_ECONFLICT, "token '%s': hash already in use",
                        t->name);
    if (rc == 0 && changes(q) == 0)
        rc = rg_err_field(err, RG_ECONFLICT, "name",
                          "token name '%s' is taken (names are unique, "
                          "revoked tokens' too)",
                          t->name);
    if (rc == 0)
        rc = audit_insert_for(q, audit, "token", id, err);
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
    int rc = get_locked(impl, ST_TOKEN_FIND, RG__VALS(RG__TEXT(hash)),
                        &rg__token_row, out, err);
    if (rc == RG_ENOTFOUND)
        rc = rg_err_set(err, RG_ENOTFOUND, "token not found");
    return rc;
}

static int sq_token_get(void *impl, int64_t id, rg_token_rec *out, rg_err *err)
{
    int rc = get_locked(impl, ST_TOKEN_GET, RG__VALS(RG__INT(id)),
                        &rg__token_row, out, err);
    if (rc == RG_ENOTFOUND)
        rc = rg_err_set(err, RG_ENOTFOUND, "token %lld not found",
                        (long long)id);
    return rc;
}

static int sq_token_list(void *impl,
                         int (*fn)(void *ctx, const rg_token_rec *t), void *ctx,
                         rg_err *err)
{
    cursor c;
    rg_token_rec t;
    int rc = cursor_open(&c, impl, ST_TOKEN_LIST, NULL, 0, &rg__token_row, err);
    while (rc == 0 && (rc = cursor_next(&c, &t, err)) == 1)
        rc = fn(ctx, &t);
    return cursor_close(&c, rc);
}

/* Sets revoked_ms of row id with cached update upd, in the caller's
 * transaction; when no row changed, tells apart an unknown id from one
 * already revoked by cached query chk. what names the record. */
static int revoke(sq *q, int upd, int chk, int64_t id, int64_t now_ms,
                  const char *what, rg_err *err)
{
    rg__scalars was;
    int rc =
        update_one(q, upd, RG__VALS(RG__INT(now_ms), RG__INT(id)), err, what);
    if (rc != RG_ENOTFOUND)
        return rc;
    rc = get_row(q, chk, RG__VALS(RG__INT(id)), &rg__int_row, &was, err);
    if (rc == 0)
        return rg_err_set(err, RG_ECONFLICT, "%s %lld already revoked", what,
                          (long long)id);
    if (rc == RG_ENOTFOUND)
        return rg_err_set(err, RG_ENOTFOUND, "%s %lld not found", what,
                          (long long)id);
    return rc;
}

static int sq_token_revoke(void *impl, int64_t id, int64_t now_ms,
                           const rg_audit_rec *audit, rg_err *err)
{
    sq *q = impl;
    rg__scalars last;
    int rc = begin(q, err);
    if (rc)
        return rc;
    rc = get_row(q, ST_TOKEN_ADMIN_CHECK,
                 RG__VALS(RG__INT(id), RG__INT(now_ms),
                          RG__INT(now_ms + RG_ADMIN_LASTING_MS)),
                 &rg__int_row, &last, err);
    if (rc == 0 && last.a != 0)
        rc = rg_err_set(err, RG_ECONFLICT,
                        "token %lld is the last usable admin token (no other "
                        "admin token lasts: never expiring or valid for more "
                        "than a day); create another before revoking it",
                        (long long)id);
    if (rc == 0)
        rc = revoke(q, ST_TOKEN_REVOKE, ST_TOKEN_REVOKED, id, now_ms, "token",
                    err);
    if (rc == 0)
        rc = audit_insert(q, audit, NULL, err);
    return finish(q, rc, err);
}

/* --- enrollment keys ---------------------------------------------------- */

static int sq_enroll_key_create(void *impl, rg_enroll_key_rec *k,
                                const rg_audit_rec *audit, rg_err *err)
{
    sq *q = impl;
    int64_t id = 0;
    int rc = begin(q, err);
    if (rc)
        return rc;
    rc = insert_row(q, ST_KEY_INSERT, &rg__enroll_key_row, k, NULL, 0, &id, err,
                    "enrollment key create");
    if (rc == RG_ECONFLICT)
        rc = rg_err_set(err, RG_ECONFLICT,
                        "enrollment key: hash already in use");
    if (rc == 0)
        rc = audit_insert_for(q, audit, "enrollment_key", id, err);
    rc = finish(q, rc, err);
    if (rc == 0)
        k->id = id;
    return rc;
}

/* RG_EAUTH unless key k is usable at now_ms. */
static int key_usable(const rg_enroll_key_rec *k, int64_t now_ms, rg_err *err)
{
    const char *why = k->revoked_ms                              ? "revoked"
                      : k->expires_ms && now_ms >= k->expires_ms ? "expired"
                      : k->uses_left == 0                        ? "used up"
                                                                 : NULL;
    if (why)
        return rg_err_set(err, RG_EAUTH, "enrollment key %lld %s",
                          (long long)k->id, why);
    return 0;
}

static int sq_enroll_key_use(void *impl, const char *hash, int64_t now_ms,
                             rg_enroll_key_rec *out, rg_err *err)
{
    sq *q = impl;
    rg_enroll_key_rec k;
    int rc = begin(q, err);
    if (rc)
        return rc;
    rc = get_row(q, ST_KEY_FIND, RG__VALS(RG__TEXT(hash)), &rg__enroll_key_row,
                 &k, err);
    if (rc == RG_ENOTFOUND)
        rc = rg_err_set(err, RG_EAUTH, "enrollment key unknown");
    if (rc == 0)
        rc = key_usable(&k, now_ms, err);
    if (rc == 0 && k.uses_left > 0)
        rc = run(q, ST_KEY_CONSUME, RG__VALS(RG__INT(k.id)), err,
                 "enrollment key use");
    if (rc == 0 && out)
        *out = k;
    return finish(q, rc, err);
}

static int sq_enroll_key_list(void *impl,
                              int (*fn)(void *ctx, const rg_enroll_key_rec *k),
                              void *ctx, rg_err *err)
{
    cursor c;
    rg_enroll_key_rec k;
    int rc =
        cursor_open(&c, impl, ST_KEY_LIST, NULL, 0, &rg__enroll_key_row, err);
    while (rc == 0 && (rc = cursor_next(&c, &k, err)) == 1)
        rc = fn(ctx, &k);
    return cursor_close(&c, rc);
}

static int sq_enroll_key_get(void *impl, int64_t id, rg_enroll_key_rec *out,
                             rg_err *err)
{
    int rc = get_locked(impl, ST_KEY_GET, RG__VALS(RG__INT(id)),
                        &rg__enroll_key_row, out, err);
    if (rc == RG_ENOTFOUND)
        rc = rg_err_set(err, RG_ENOTFOUND, "enrollment key %lld not found",
                        (long long)id);
    return rc;
}

static int sq_enroll_key_revoke(void *impl, int64_t id, int64_t now_ms,
                                const rg_audit_rec *audit, rg_err *err)
{
    sq *q = impl;
    int rc = begin(q, err);
    if (rc)
        return rc;
    rc = revoke(q, ST_KEY_REVOKE, ST_KEY_EXISTS, id, now_ms, "enrollment key",
                err);
    if (rc == 0)
        rc = audit_insert(q, audit, NULL, err);
    return finish(q, rc, err);
}

/* --- endpoints ---------------------------------------------------------- */

/* The next flush number (store.h, tails), in the caller's transaction. */
static int flush_seq_next(sq *q, int64_t *seq, rg_err *err)
{
    rg__scalars one;
    int rc = get_row(q, ST_FLUSH_SEQ_NEXT, NULL, 0, &rg__int_row, &one, err);
    *seq = one.a;
    return rc;
}

/* Numbers endpoint id's row with a new flush number, so that the other
 * nodes' tails see it (enrolled, token replaced, identity reset). */
static int endpoint_mark(sq *q, const char *id, rg_err *err)
{
    int64_t seq = 0;
    int rc = flush_seq_next(q, &seq, err);
    return rc ? rc
              : run(q, ST_ENDPOINT_MARK, RG__VALS(RG__INT(seq), RG__TEXT(id)),
                    err, "endpoint mark");
}

static int sq_endpoint_enroll(void *impl, const rg_endpoint_rec *e,
                              const rg_audit_rec *audit, rg_err *err)
{
    sq *q = impl;
    int rc = begin(q, err);
    if (rc)
        return rc;
    rg_endpoint_rec row = *e; /* nothing installed yet: "{}" */
    if (!row.installed_json[0])
        snprintf(row.installed_json, sizeof row.installed_json, "{}");
    rc = insert_row(q, ST_ENDPOINT_UPSERT, &rg__endpoint_row, &row,
                    RG__VALS(RG__INT(e->proven ? 1 : 0)), NULL, err,
                    "endpoint enroll");
    if (rc == 0 && changes(q) == 0)
        rc = rg_err_field(err, RG_ECONFLICT, "endpoint_id",
                          "endpoint '%s' is already enrolled: re-enrolling "
                          "it needs its current token or an operator's "
                          "identity reset",
                          e->id);
    if (rc == 0)
        rc = endpoint_mark(q, e->id, err);
    if (rc == 0)
        rc = audit_insert(q, audit, NULL, err);
    return finish(q, rc, err);
}

static int sq_endpoint_reset_identity(void *impl, const char *id, int64_t at_ms,
                                      const rg_audit_rec *audit, rg_err *err)
{
    sq *q = impl;
    int rc = begin(q, err);
    if (rc)
        return rc;
    rc =
        update_one(q, ST_ENDPOINT_RESET, RG__VALS(RG__INT(at_ms), RG__TEXT(id)),
                   err, "endpoint identity reset");
    if (rc == RG_ENOTFOUND)
        rc = rg_err_set(err, RG_ENOTFOUND, "endpoint '%s' not found", id);
    if (rc == 0)
        rc = endpoint_mark(q, id, err);
    if (rc == 0)
        rc = audit_insert(q, audit, NULL, err);
    return finish(q, rc, err);
}

static int sq_endpoint_flush(void *impl, const rg_endpoint_seen *batch,
                             size_t n, rg_err *err)
{
    sq *q = impl;
    int64_t seq = 0;
    int rc = begin(q, err);
    if (rc)
        return rc;
    rc = flush_seq_next(q, &seq, err);
    if (rc == 0 && q->drv->seen_batch) {
        done(q);
        rc = q->drv->seen_batch(q->conn, batch, n, seq, err);
    }
    for (size_t i = 0; i < n && rc == 0 && !q->drv->seen_batch; i++)
        rc = run(q, ST_ENDPOINT_SEEN,
                 RG__VALS(RG__INT(batch[i].last_seen_ms),
                          RG__TEXT(batch[i].installed_json), RG__INT(seq),
                          RG__TEXT(batch[i].id)),
                 err, "endpoint flush");
    return finish(q, rc, err);
}

static int sq_tail_heads(void *impl, rg_tail_heads *out, rg_err *err)
{
    return get_locked(impl, ST_TAIL_HEADS, NULL, 0, &rg__heads_row, out, err);
}

/* Up to max rows of tail query id after seq, each read by m into rec and
 * handed to fn. */
static int tail(sq *q, int id, const rg__rowmap *m, void *rec, int64_t after,
                size_t max, int (*fn)(void *ctx, const void *rec), void *ctx,
                rg_err *err)
{
    cursor c;
    int rc =
        cursor_open(&c, q, id, RG__VALS(RG__INT(after), RG__INT(max)), m, err);
    while (rc == 0 && (rc = cursor_next(&c, rec, err)) == 1)
        rc = fn(ctx, rec);
    return cursor_close(&c, rc);
}

static int sq_endpoints_after(void *impl, int64_t after, size_t max,
                              int (*fn)(void *ctx, const rg_endpoint_tail *e),
                              void *ctx, rg_err *err)
{
    rg_endpoint_tail *e = calloc(1, sizeof *e);
    if (!e)
        return rg_err_set(err, RG_ENOMEM, "endpoint tail: out of memory");
    int rc = tail(impl, ST_ENDPOINT_AFTER, &rg__endpoint_tail_row, e, after,
                  max, (int (*)(void *, const void *))fn, ctx, err);
    free(e);
    return rc;
}

static int sq_events_after(void *impl, int64_t after, size_t max,
                           int (*fn)(void *ctx, const rg_event_tail *e),
                           void *ctx, rg_err *err)
{
    rg_event_tail e;
    return tail(impl, ST_EVENT_AFTER, &rg__event_tail_row, &e, after, max,
                (int (*)(void *, const void *))fn, ctx, err);
}

static int sq_offers_after(void *impl, int64_t after, size_t max,
                           int (*fn)(void *ctx, const rg_offer_rec *o),
                           void *ctx, rg_err *err)
{
    rg_offer_rec o;
    return tail(impl, ST_OFFER_AFTER, &rg__offer_row, &o, after, max,
                (int (*)(void *, const void *))fn, ctx, err);
}

static int sq_endpoint_load(void *impl,
                            int (*fn)(void *ctx, const rg_endpoint_rec *e),
                            void *ctx, rg_err *err)
{
    cursor c;
    rg_endpoint_rec *e = calloc(1, sizeof *e);
    if (!e)
        return rg_err_set(err, RG_ENOMEM, "endpoint load: out of memory");
    int rc = cursor_open(&c, impl, ST_ENDPOINT_LOAD, NULL, 0, &rg__endpoint_row,
                         err);
    while (rc == 0 && (rc = cursor_next(&c, e, err)) == 1)
        rc = fn(ctx, e);
    rc = cursor_close(&c, rc);
    free(e);
    return rc;
}

/* --- agent events ------------------------------------------------------- */

/* 0 when endpoint e->endpoint_id and release e->release_id exist, else
 * RG_ENOTFOUND naming the missing one. Caller holds the lock. */
static int event_refs(sq *q, const rg_event_rec *e, rg_err *err)
{
    rg__scalars one;
    int rc = get_row(q, ST_ENDPOINT_EXISTS, RG__VALS(RG__TEXT(e->endpoint_id)),
                     &rg__int_row, &one, err);
    if (rc == RG_ENOTFOUND)
        return rg_err_field(err, rc, "endpoint_id",
                            "event '%s': endpoint '%s' not found", e->event_id,
                            e->endpoint_id);
    if (rc)
        return rc;
    rc = get_row(q, ST_RELEASE_EXISTS, RG__VALS(RG__INT(e->release_id)),
                 &rg__int_row, &one, err);
    if (rc == RG_ENOTFOUND)
        return rg_err_field(err, rc, "events.release",
                            "event '%s': release %lld not found", e->event_id,
                            (long long)e->release_id);
    return rc;
}

/* Inserts the n events of ev in the caller's transaction; *fresh counts
 * those newly stored. */
static int events_insert(sq *q, const rg_event_rec *ev, size_t n, size_t *fresh,
                         rg_err *err)
{
    int rc = 0;
    *fresh = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if ((rc = event_refs(q, &ev[i], err)) == 0 &&
            (rc = insert_row(q, ST_EVENT_INSERT, &rg__event_row, &ev[i],
                             RG__VALS(RG__INT(RG_EVENTS_PER_KIND)), NULL, err,
                             "events")) == 0)
            *fresh += (size_t)changes(q);
    }
    return rc;
}

static int sq_events_record(void *impl, const rg_event_rec *ev, size_t n,
                            size_t *n_new, rg_err *err)
{
    sq *q = impl;
    size_t fresh = 0;
    int rc = begin(q, err);
    if (rc)
        return rc;
    rc = finish(q, events_insert(q, ev, n, &fresh, err), err);
    if (rc == 0 && n_new)
        *n_new = fresh;
    return rc;
}

static int sq_event_counts(void *impl, int64_t release_id, rg_event_counts *out,
                           rg_err *err)
{
    cursor c;
    rg_event_counts n = {0};
    rg__scalars kind;
    int rc = cursor_open(&c, impl, ST_EVENT_COUNTS,
                         RG__VALS(RG__INT(release_id)), &rg__word_int_row, err);
    while (rc == 0 && (rc = cursor_next(&c, &kind, err)) == 1) {
        uint64_t *to = strcmp(kind.word, "applying") == 0  ? &n.applying
                       : strcmp(kind.word, "healthy") == 0 ? &n.healthy
                                                           : &n.failed;
        *to = (uint64_t)kind.a;
        rc = 0;
    }
    rc = cursor_close(&c, rc);
    if (rc == 0)
        *out = n;
    return rc;
}

static int sq_event_list(void *impl, int64_t release_id,
                         int (*fn)(void *ctx, const rg_event_rec *e), void *ctx,
                         rg_err *err)
{
    cursor c;
    rg_event_rec e;
    int rc = cursor_open(&c, impl, ST_EVENT_LIST, RG__VALS(RG__INT(release_id)),
                         &rg__event_row, err);
    while (rc == 0 && (rc = cursor_next(&c, &e, err)) == 1)
        rc = fn(ctx, &e);
    return cursor_close(&c, rc);
}

static int sq_event_list_endpoint(void *impl, const char *endpoint_id,
                                  size_t max,
                                  int (*fn)(void *ctx, const rg_event_rec *e),
                                  void *ctx, rg_err *err)
{
    cursor c;
    rg_event_rec e;
    int rc = cursor_open(&c, impl, ST_EVENT_LIST_ENDPOINT,
                         RG__VALS(RG__TEXT(endpoint_id), RG__INT(max)),
                         &rg__event_row, err);
    while (rc == 0 && (rc = cursor_next(&c, &e, err)) == 1)
        rc = fn(ctx, &e);
    return cursor_close(&c, rc);
}

/* Runs retention statement id (parameters: before_ms, max) in its own
 * transaction; *n_deleted receives how many rows it deleted. */
static int prune(sq *q, int id, int64_t before_ms, size_t max,
                 size_t *n_deleted, rg_err *err, const char *what)
{
    size_t n = 0;
    int rc = begin(q, err);
    if (rc)
        return rc;
    rc = run(q, id, RG__VALS(RG__INT(before_ms), RG__INT(max)), err, what);
    if (rc == 0)
        n = (size_t)changes(q);
    rc = finish(q, rc, err);
    if (rc == 0)
        *n_deleted = n;
    return rc;
}

static int sq_events_prune(void *impl, int64_t before_ms, size_t max,
                           size_t *n_deleted, rg_err *err)
{
    return prune(impl, ST_EVENT_PRUNE, before_ms, max, n_deleted, err,
                 "event prune");
}

/* --- offers ------------------------------------------------------------ */

/* Records endpoint_id's n offers in the caller's transaction. */
static int offers_insert(sq *q, const char *endpoint_id,
                         const int64_t *releases, size_t n, int64_t now_ms,
                         rg_err *err)
{
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = run(q, ST_OFFER_INSERT,
                 RG__VALS(RG__TEXT(endpoint_id), RG__INT(releases[i]),
                          RG__INT(now_ms)),
                 err, "offers");
    return rc;
}

static int sq_offers_record(void *impl, const char *endpoint_id,
                            const int64_t *releases, size_t n, int64_t now_ms,
                            rg_err *err)
{
    sq *q = impl;
    int rc = begin(q, err);
    if (rc)
        return rc;
    return finish(q, offers_insert(q, endpoint_id, releases, n, now_ms, err),
                  err);
}

/* Runs savepoint statement sql (SAVEPOINT, RELEASE, ROLLBACK TO: the
 * same words in SQLite and PostgreSQL) in the caller's transaction. */
static int savepoint(sq *q, const char *sql, rg_err *err)
{
    done(q);
    return q->drv->exec(q->conn, sql, err);
}

/* One write of a group (store.h) in its own savepoint: rolled back to,
 * and the write failed alone, when the write is refused by itself (a
 * missing endpoint or release, a conflict). Returns 0 or an error that
 * ends the whole transaction (I/O, memory). */
static int group_one(sq *q, rg_store_write *w, rg_err *err)
{
    int rc = savepoint(q, "SAVEPOINT w", err);
    if (rc)
        return rc;
    w->rc = events_insert(q, w->events, w->n_events, &w->n_new, &w->err);
    if (w->rc == 0)
        w->rc = offers_insert(q, w->offer_endpoint, w->offers, w->n_offers,
                              w->offer_ms, &w->err);
    if (w->rc == 0)
        return savepoint(q, "RELEASE w", err);
    w->n_new = 0;
    if (w->rc != RG_EINVAL && w->rc != RG_ENOTFOUND && w->rc != RG_ECONFLICT) {
        *err = w->err;
        return w->rc;
    }
    if ((rc = savepoint(q, "ROLLBACK TO w", err)) == 0)
        rc = savepoint(q, "RELEASE w", err);
    return rc;
}

static int sq_write_group(void *impl, rg_store_write *const *w, size_t n,
                          rg_err *err)
{
    sq *q = impl;
    int rc = begin(q, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = group_one(q, w[i], err);
    return finish(q, rc, err);
}

static int sq_offer_check(void *impl, const char *endpoint_id,
                          int64_t release_id, rg_err *err)
{
    rg__scalars one;
    return get_locked(impl, ST_OFFER_CHECK,
                      RG__VALS(RG__TEXT(endpoint_id), RG__INT(release_id)),
                      &rg__int_row, &one, err);
}

static int sq_offer_artifact(void *impl, const char *endpoint_id,
                             const char *sha256, rg_err *err)
{
    rg__scalars one;
    return get_locked(impl, ST_OFFER_ARTIFACT,
                      RG__VALS(RG__TEXT(endpoint_id), RG__TEXT(sha256)),
                      &rg__int_row, &one, err);
}

static int sq_artifact_public(void *impl, const char *sha256, rg_err *err)
{
    rg__scalars one;
    return get_locked(impl, ST_ARTIFACT_PUBLIC, RG__VALS(RG__TEXT(sha256)),
                      &rg__int_row, &one, err);
}

/* --- group policies ------------------------------------------------------ */

/* Checks a new policy p against what exists: its channel (whose id goes
 * to *channel_id), its pinned release on that channel, the number of
 * policies. Caller holds the lock. */
static int policy_fits(sq *q, const rg_policy_rec *p, int64_t *channel_id,
                       rg_err *err)
{
    rg__scalars v;
    int rc = get_row(q, ST_CHANNEL_ID, RG__VALS(RG__TEXT(p->channel)),
                     &rg__int_row, &v, err);
    if (rc == RG_ENOTFOUND)
        return rg_err_field(err, RG_ENOTFOUND, "channel",
                            "channel '%s' not found", p->channel);
    if (rc)
        return rc;
    *channel_id = v.a;
    if (p->release_id) {
        rc = get_row(q, ST_POLICY_RELEASE_CHANNEL,
                     RG__VALS(RG__INT(p->release_id)), &rg__int_row, &v, err);
        if (rc == RG_ENOTFOUND || (rc == 0 && v.a != *channel_id))
            return rg_err_field(err, RG_ENOTFOUND, "release",
                                "release %lld not found on channel '%s'",
                                (long long)p->release_id, p->channel);
        if (rc)
            return rc;
    }
    if ((rc = get_row(q, ST_POLICY_COUNT, NULL, 0, &rg__int_row, &v, err)))
        return rc;
    if (v.a >= RG_POLICIES_MAX)
        return rg_err_set(err, RG_ECONFLICT,
                          "policy '%s': at most %d policies may exist", p->name,
                          RG_POLICIES_MAX);
    return 0;
}

static int sq_policy_create(void *impl, rg_policy_rec *p,
                            const rg_audit_rec *audit, rg_err *err)
{
    sq *q = impl;
    int64_t id = 0, channel_id = 0;
    int rc = begin(q, err);
    if (rc)
        return rc;
    if ((rc = policy_fits(q, p, &channel_id, err)))
        goto cleanup;
    rg_policy_rec row = *p;
    row.channel_id = channel_id;
    rc = insert_row(q, ST_POLICY_INSERT, &rg__policy_row, &row, NULL, 0, &id,
                    err, "policy create");
    if (rc == RG_ECONFLICT)
        rc = rg_err_field(err, RG_ECONFLICT, "name",
                          "policy '%s' already exists", p->name);
    if (rc)
        goto cleanup;
    rc = audit_insert_for(q, audit, "policy", id, err);
cleanup:
    rc = finish(q, rc, err);
    if (rc == 0) {
        p->id = id;
        p->channel_id = channel_id;
    }
    return rc;
}

static int sq_policy_list(void *impl,
                          int (*fn)(void *ctx, const rg_policy_rec *p),
                          void *ctx, rg_err *err)
{
    cursor c;
    rg_policy_rec p;
    int rc =
        cursor_open(&c, impl, ST_POLICY_LIST, NULL, 0, &rg__policy_row, err);
    while (rc == 0 && (rc = cursor_next(&c, &p, err)) == 1)
        rc = fn(ctx, &p);
    return cursor_close(&c, rc);
}

static int sq_policy_delete(void *impl, int64_t id, rg_policy_rec *out,
                            const rg_audit_rec *audit, rg_err *err)
{
    sq *q = impl;
    rg_policy_rec p;
    int rc = begin(q, err);
    if (rc)
        return rc;
    rc = get_row(q, ST_POLICY_GET, RG__VALS(RG__INT(id)), &rg__policy_row, &p,
                 err);
    if (rc == RG_ENOTFOUND)
        rc = rg_err_set(err, RG_ENOTFOUND, "policy %lld not found",
                        (long long)id);
    if (rc == 0)
        rc = run(q, ST_POLICY_DELETE, RG__VALS(RG__INT(id)), err,
                 "policy delete");
    if (rc == 0)
        rc = audit_insert(q, audit, NULL, err);
    rc = finish(q, rc, err);
    if (rc == 0 && out)
        *out = p;
    return rc;
}

/* --- feature flags (schema 12) ------------------------------------------ */

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

/* Whether the flag definition def (JSON; NULL: none) has a strategy
 * naming segment id. */
static bool names_segment(const json_t *def, int64_t id)
{
    const json_t *st, *x;
    size_t i, k;
    json_array_foreach(json_object_get(def, "strategies"), i, st)
    {
        json_array_foreach(json_object_get(st, "segments"), k, x)
        {
            if (json_is_integer(x) && json_integer_value(x) == id)
                return true;
        }
    }
    return false;
}

/* The current definition of flag f (parsed; NULL when it has none or it
 * does not parse) into *out. Caller's transaction. */
static int flag_current_def(sq *q, const rg_flag_rec *f, json_t **out,
                            rg_err *err)
{
    rg_flag_rec *row = calloc(1, sizeof *row);
    *out = NULL;
    if (!row)
        return rg_err_set(err, RG_ENOMEM, "out of memory");
    int rc = prep(q, ST_FLAG_HISTORY,
                  RG__VALS(RG__TEXT(f->environment), RG__TEXT(f->name)), err);
    if (rc == 0 && (rc = next_row(q, &rg__flag_row, row, err)) == 1) {
        *out = json_loads(row->definition, 0, NULL);
        rc = 0;
    }
    done(q);
    free(row);
    return rc;
}

/* RG_ECONFLICT (field "segments") when f's definition names a segment that
 * its environment does not hold (deleted, or never made) and its current
 * version (prev) did not name already; else 0. Caller's transaction, after
 * the environment's stamp row is locked, so no deletion can slip in
 * between this check and the commit. */
static int segments_held(sq *q, const rg_flag_rec *f, const json_t *prev,
                         rg_err *err)
{
    json_t *def = json_loads(f->definition, 0, NULL);
    const json_t *st, *x;
    size_t i, k;
    int rc = 0;
    rg__scalars one;
    json_array_foreach(json_object_get(def, "strategies"), i, st)
    {
        json_array_foreach(json_object_get(st, "segments"), k, x)
        {
            int64_t id = json_integer_value(x);
            if (rc || !json_is_integer(x) || names_segment(prev, id))
                continue;
            rc = get_row(q, ST_SEGMENT_LIVE_ID,
                         RG__VALS(RG__TEXT(f->environment), RG__INT(id)),
                         &rg__int_row, &one, err);
            if (rc == RG_ENOTFOUND)
                rc = rg_err_field(err, RG_ECONFLICT, "segments",
                                  "flag '%s': segment %lld is not in"
                                  " environment '%s' (deleted meanwhile?)",
                                  f->name, (long long)id, f->environment);
        }
    }
    json_decref(def);
    return rc;
}

static int sq_flag_put(void *impl, rg_flag_rec *f, int64_t expect,
                       const rg_audit_rec *audit, rg_err *err)
{
    sq *q = impl;
    rg__scalars cur = {0};
    json_t *prev = NULL;
    int rc = begin(q, err);
    if (rc)
        return rc;
    rg_flag_rec row = *f;
    /* the stamp first: its row lock orders this write after any other
     * flag or segment write of the environment (segments_held) */
    if ((rc = run(q, ST_FLAG_STAMP_BUMP,
                  RG__VALS(RG__TEXT(f->environment), RG__INT(f->created_ms)),
                  err, "flag stamp")) == 0 &&
        (rc = get_row(q, ST_FLAG_CURRENT,
                      RG__VALS(RG__TEXT(f->environment), RG__TEXT(f->name)),
                      &rg__int_row, &cur, err)) == 0 &&
        (rc = flag_expect(f, cur.a, expect, err)) == 0 &&
        (rc = flag_current_def(q, f, &prev, err)) == 0 &&
        (rc = segments_held(q, f, prev, err)) == 0) {
        row.version = cur.a + 1;
        rc = insert_row(q, ST_FLAG_INSERT, &rg__flag_row, &row, NULL, 0, NULL,
                        err, "flag put");
    }
    json_decref(prev);
    if (rc == 0)
        rc = audit_insert(q, audit, NULL, err);
    rc = finish(q, rc, err);
    if (rc == 0)
        f->version = row.version;
    return rc;
}

static int sq_flag_list(void *impl, const char *environment, const char *name,
                        int (*fn)(void *ctx, const rg_flag_rec *f), void *ctx,
                        rg_err *err)
{
    cursor c;
    rg_flag_rec *f = calloc(1, sizeof *f);
    if (!f)
        return rg_err_set(err, RG_ENOMEM, "out of memory");
    /* the history binds environment and name, the list environment only */
    rg__val v[] = {RG__TEXT(environment), RG__TEXT(name)};
    int rc = cursor_open(&c, impl, name ? ST_FLAG_HISTORY : ST_FLAG_LIST, v,
                         name ? 2 : 1, &rg__flag_row, err);
    while (rc == 0 && (rc = cursor_next(&c, f, err)) == 1)
        rc = fn(ctx, f);
    rc = cursor_close(&c, rc);
    free(f);
    return rc;
}

static int sq_flag_stamp(void *impl, const char *environment, int64_t *versions,
                         int64_t *newest_ms, rg_err *err)
{
    rg__scalars v = {0};
    int rc = get_locked(impl, ST_FLAG_STAMP, RG__VALS(RG__TEXT(environment)),
                        &rg__int2_row, &v, err);
    if (rc == RG_ENOTFOUND) /* no flag was ever written there */
        rc = 0;
    *versions = v.a;
    *newest_ms = v.b;
    return rc;
}

/* --- flag segments (schema 15) ------------------------------------------ */

#define SEGMENT_USERS_NAMED 4 /* flags named in an in-use refusal */

/* Checks expect (see rg_store_segment_put) against the newest version cur
 * (0: none) and whether it is a deletion. */
static int segment_expect(const rg_segment_rec *g, int64_t cur, bool deleted,
                          int64_t expect, rg_err *err)
{
    bool live = cur != 0 && !deleted;
    if (expect == 0 && live)
        return rg_err_field(err, RG_ECONFLICT, "name",
                            "segment '%s' already exists in environment '%s'",
                            g->name, g->environment);
    if (expect > 0 && !live)
        return rg_err_field(err, RG_ENOTFOUND, "name",
                            "segment '%s' not found in environment '%s'",
                            g->name, g->environment);
    if (expect > 0 && cur != expect)
        return rg_err_field(err, RG_ECONFLICT, "version",
                            "segment '%s' is at version %lld, not %lld",
                            g->name, (long long)cur, (long long)expect);
    return 0;
}

/* RG_ECONFLICT (field "name") naming the flags of g's environment whose
 * current version names segment id (g is being deleted), 0 when none
 * does. Caller's transaction, after the environment's stamp row is
 * locked (see segments_held). */
static int segment_unused(sq *q, const rg_segment_rec *g, int64_t id,
                          rg_err *err)
{
    char named[SEGMENT_USERS_NAMED * (RG_FLAG_NAME_MAX + 4)] = "";
    size_t n = 0, len = 0;
    rg_flag_rec *f = calloc(1, sizeof *f);
    if (!f)
        return rg_err_set(err, RG_ENOMEM, "out of memory");
    int rc =
        prep(q, ST_FLAG_SEGMENT_USERS, RG__VALS(RG__TEXT(g->environment)), err);
    while (rc == 0 && (rc = next_row(q, &rg__flag_row, f, err)) == 1) {
        json_t *def = json_loads(f->definition, 0, NULL);
        if (names_segment(def, id) && n++ < SEGMENT_USERS_NAMED)
            len += (size_t)snprintf(named + len, sizeof named - len, "%s'%s'",
                                    len ? ", " : "", f->name);
        json_decref(def);
        rc = 0;
    }
    done(q);
    free(f);
    if (rc || n == 0)
        return rc;
    if (n > SEGMENT_USERS_NAMED)
        return rg_err_field(err, RG_ECONFLICT, "name",
                            "segment '%s' is used by flags %s and %zu more",
                            g->name, named, n - SEGMENT_USERS_NAMED);
    return rg_err_field(err, RG_ECONFLICT, "name",
                        "segment '%s' is used by flags %s", g->name, named);
}

static int sq_segment_put(void *impl, rg_segment_rec *g, int64_t expect,
                          const rg_audit_rec *audit, rg_err *err)
{
    sq *q = impl;
    rg__scalars cur = {0}, id = {0};
    int rc = begin(q, err);
    if (rc)
        return rc;
    rg_segment_rec row = *g;
    /* the stamp first: see segment_unused */
    rc = run(q, ST_FLAG_STAMP_BUMP,
             RG__VALS(RG__TEXT(g->environment), RG__INT(g->created_ms)), err,
             "flag stamp");
    if (rc == 0)
        rc = get_row(q, ST_SEGMENT_CURRENT,
                     RG__VALS(RG__TEXT(g->environment), RG__TEXT(g->name)),
                     &rg__int2_row, &cur, err);
    if (rc == RG_ENOTFOUND)
        rc = 0;
    if (rc == 0 &&
        (rc = segment_expect(g, cur.a, cur.b != 0, expect, err)) == 0)
        rc = get_row(q, ST_SEGMENT_ID,
                     RG__VALS(RG__TEXT(g->environment), RG__TEXT(g->name)),
                     &rg__int_row, &id, err);
    if (rc == 0 && g->deleted)
        rc = segment_unused(q, g, id.a, err);
    if (rc == 0) {
        row.version = cur.a + 1;
        row.id = id.a;
        rc = insert_row(q, ST_SEGMENT_INSERT, &rg__segment_row, &row, NULL, 0,
                        NULL, err, "segment put");
    }
    if (rc == 0)
        rc = audit_insert(q, audit, NULL, err);
    rc = finish(q, rc, err);
    if (rc == 0) {
        g->version = row.version;
        g->id = row.id;
    }
    return rc;
}

static int sq_segment_list(void *impl, const char *environment,
                           const char *name,
                           int (*fn)(void *ctx, const rg_segment_rec *g),
                           void *ctx, rg_err *err)
{
    cursor c;
    rg_segment_rec *g = calloc(1, sizeof *g);
    if (!g)
        return rg_err_set(err, RG_ENOMEM, "out of memory");
    rg__val v[] = {RG__TEXT(environment), RG__TEXT(name)};
    int rc = cursor_open(&c, impl, name ? ST_SEGMENT_HISTORY : ST_SEGMENT_LIST,
                         v, name ? 2 : 1, &rg__segment_row, err);
    while (rc == 0 && (rc = cursor_next(&c, g, err)) == 1)
        rc = fn(ctx, g);
    rc = cursor_close(&c, rc);
    free(g);
    return rc;
}

/* Creates rollout r (no active one for its flag yet). Caller's
 * transaction. */
static int flag_rollout_insert(sq *q, rg_flag_rollout_rec *r, rg_err *err)
{
    rg__scalars cur = {0};
    int rc = get_row(q, ST_FLAG_ROLLOUT_ACTIVE,
                     RG__VALS(RG__TEXT(r->environment), RG__TEXT(r->name)),
                     &rg__int_row, &cur, err);
    if (rc == 0)
        return rg_err_field(err, RG_ECONFLICT, "name",
                            "flag '%s' in '%s' has an active rollout (%lld)",
                            r->name, r->environment, (long long)cur.a);
    if (rc != RG_ENOTFOUND)
        return rc;
    r->seq = 1;
    return insert_row(q, ST_FLAG_ROLLOUT_INSERT, &rg__flag_rollout_row, r, NULL,
                      0, &r->id, err, "flag rollout create");
}

/* Why an update of r changed nothing: RG_ENOTFOUND (unknown) or
 * RG_ECONFLICT (another put came first). Caller's transaction. */
static int flag_rollout_missed(sq *q, const rg_flag_rollout_rec *r, rg_err *err)
{
    rg__scalars cur = {0};
    int rc = get_row(q, ST_FLAG_ROLLOUT_SEQ, RG__VALS(RG__INT(r->id)),
                     &rg__int_row, &cur, err);
    if (rc == RG_ENOTFOUND)
        return rg_err_set(err, RG_ENOTFOUND, "flag rollout %lld not found",
                          (long long)r->id);
    return rc ? rc
              : rg_err_set(err, RG_ECONFLICT,
                           "flag rollout %lld changed meanwhile (now %lld, "
                           "read %lld)",
                           (long long)r->id, (long long)cur.a,
                           (long long)r->seq);
}

static int sq_flag_rollout_put(void *impl, rg_flag_rollout_rec *r,
                               const rg_audit_rec *audit, rg_err *err)
{
    sq *q = impl;
    bool update = r->id != 0;
    int rc = begin(q, err);
    if (rc)
        return rc;
    if (!update)
        rc = flag_rollout_insert(q, r, err);
    else if ((rc = run(q, ST_FLAG_ROLLOUT_UPDATE,
                       RG__VALS(RG__INT(r->active), RG__TEXT(r->state),
                                RG__INT(r->id), RG__INT(r->seq)),
                       err, "flag rollout update")) == 0 &&
             changes(q) == 0)
        rc = flag_rollout_missed(q, r, err);
    if (rc == 0 && r->event)
        rc = run(q, ST_HOOK_ENQUEUE_FLAG,
                 RG__VALS(RG__TEXT(r->event),
                          RG__INT(audit ? audit->at_ms : r->created_ms),
                          RG__TEXT(r->hook)),
                 err, "webhook outbox");
    if (rc == 0)
        rc = audit_insert(q, audit, NULL, err);
    rc = finish(q, rc, err);
    if (rc == 0 && update)
        r->seq++;
    return rc;
}

static int sq_flag_rollout_list(
    void *impl, const char *environment, const char *name, bool active_only,
    int (*fn)(void *ctx, const rg_flag_rollout_rec *r), void *ctx, rg_err *err)
{
    cursor c;
    rg_flag_rollout_rec *r = calloc(1, sizeof *r);
    if (!r)
        return rg_err_set(err, RG_ENOMEM, "out of memory");
    rg__val v[] = {RG__TEXT(environment), RG__TEXT(name), RG__INT(active_only)};
    int rc = cursor_open(&c, impl, ST_FLAG_ROLLOUT_LIST, v, 3,
                         &rg__flag_rollout_row, err);
    while (rc == 0 && (rc = cursor_next(&c, r, err)) == 1)
        rc = fn(ctx, r);
    rc = cursor_close(&c, rc);
    free(r);
    return rc;
}

static int sq_client_token_create(void *impl, rg_client_token_rec *t,
                                  const rg_audit_rec *audit, rg_err *err)
{
    sq *q = impl;
    int rc = begin(q, err);
    if (rc)
        return rc;
    rc = insert_row(q, ST_CLIENT_TOKEN_INSERT, &rg__client_token_row, t, NULL,
                    0, &t->id, err, "client token create");
    if (rc == 0)
        rc = audit_insert_for(q, audit, "client_token", t->id, err);
    return finish(q, rc, err);
}

static int sq_client_token_find(void *impl, const char *hash,
                                rg_client_token_rec *out, rg_err *err)
{
    return get_locked(impl, ST_CLIENT_TOKEN_FIND, RG__VALS(RG__TEXT(hash)),
                      &rg__client_token_row, out, err);
}

static int sq_client_token_list(void *impl,
                                int (*fn)(void *ctx,
                                          const rg_client_token_rec *t),
                                void *ctx, rg_err *err)
{
    cursor c;
    rg_client_token_rec t;
    int rc = cursor_open(&c, impl, ST_CLIENT_TOKEN_LIST, NULL, 0,
                         &rg__client_token_row, err);
    while (rc == 0 && (rc = cursor_next(&c, &t, err)) == 1)
        rc = fn(ctx, &t);
    return cursor_close(&c, rc);
}

static int sq_client_token_get(void *impl, int64_t id, rg_client_token_rec *out,
                               rg_err *err)
{
    int rc = get_locked(impl, ST_CLIENT_TOKEN_GET, RG__VALS(RG__INT(id)),
                        &rg__client_token_row, out, err);
    if (rc == RG_ENOTFOUND)
        rc = rg_err_set(err, RG_ENOTFOUND, "client token %lld not found",
                        (long long)id);
    return rc;
}

static int sq_client_token_revoke(void *impl, int64_t id, int64_t now_ms,
                                  const rg_audit_rec *audit, rg_err *err)
{
    sq *q = impl;
    int rc = begin(q, err);
    if (rc)
        return rc;
    rc = revoke(q, ST_CLIENT_TOKEN_REVOKE, ST_CLIENT_TOKEN_REVOKED, id, now_ms,
                "client token", err);
    if (rc == 0)
        rc = audit_insert(q, audit, NULL, err);
    return finish(q, rc, err);
}

static int sq_flag_reverts_record(void *impl, const rg_flag_revert_rec *r,
                                  size_t n, rg_err *err)
{
    sq *q = impl;
    int rc = begin(q, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = insert_row(q, ST_FLAG_REVERT_INSERT, &rg__flag_revert_row, &r[i],
                        NULL, 0, NULL, err, "flag reverts");
    return finish(q, rc, err);
}

static int
sq_flag_reverts_endpoint(void *impl, const char *endpoint_id, size_t max,
                         int (*fn)(void *ctx, const rg_flag_revert_rec *r),
                         void *ctx, rg_err *err)
{
    cursor c;
    rg_flag_revert_rec r;
    int rc = cursor_open(&c, impl, ST_FLAG_REVERT_LIST,
                         RG__VALS(RG__TEXT(endpoint_id), RG__INT(max)),
                         &rg__flag_revert_row, err);
    while (rc == 0 && (rc = cursor_next(&c, &r, err)) == 1)
        rc = fn(ctx, &r);
    return cursor_close(&c, rc);
}

/* --- webhooks (schema 13) ---------------------------------------------- */

static int sq_webhook_create(void *impl, rg_webhook_rec *w,
                             const rg_audit_rec *audit, rg_err *err)
{
    sq *q = impl;
    int64_t id = 0;
    int rc = begin(q, err);
    if (rc)
        return rc;
    rc = insert_row(q, ST_HOOK_INSERT, &rg__webhook_row, w,
                    RG__VALS(RG__INT(RG_WEBHOOKS_MAX)), &id, err,
                    "webhook create");
    if (rc == 0 && changes(q) == 0)
        rc = rg_err_set(err, RG_ECONFLICT,
                        "there are %d webhooks already, the most there may "
                        "be: delete one first",
                        RG_WEBHOOKS_MAX);
    if (rc == 0)
        rc = audit_insert_for(q, audit, "webhook", id, err);
    rc = finish(q, rc, err);
    if (rc == 0)
        w->id = id;
    return rc;
}

/* Webhook id into *out; RG_ENOTFOUND saying so. Caller holds the lock. */
static int hook_get(sq *q, int64_t id, rg_webhook_rec *out, rg_err *err)
{
    int rc = get_row(q, ST_HOOK_GET, RG__VALS(RG__INT(id)), &rg__webhook_row,
                     out, err);
    if (rc == RG_ENOTFOUND)
        rc = rg_err_set(err, RG_ENOTFOUND, "webhook %lld not found",
                        (long long)id);
    return rc;
}

static int sq_webhook_get(void *impl, int64_t id, rg_webhook_rec *out,
                          rg_err *err)
{
    sq *q = impl;
    lock(q);
    int rc = hook_get(q, id, out, err);
    unlock(q);
    return rc;
}

static int sq_webhook_list(void *impl,
                           int (*fn)(void *ctx, const rg_webhook_rec *w),
                           void *ctx, rg_err *err)
{
    cursor c;
    rg_webhook_rec w;
    int rc =
        cursor_open(&c, impl, ST_HOOK_LIST, NULL, 0, &rg__webhook_row, err);
    while (rc == 0 && (rc = cursor_next(&c, &w, err)) == 1)
        rc = fn(ctx, &w);
    return cursor_close(&c, rc);
}

static int sq_webhook_delete(void *impl, int64_t id, rg_webhook_rec *out,
                             const rg_audit_rec *audit, rg_err *err)
{
    sq *q = impl;
    rg_webhook_rec w;
    int rc = begin(q, err);
    if (rc)
        return rc;
    if ((rc = hook_get(q, id, &w, err)) == 0 &&
        (rc = run(q, ST_HOOK_DELETE, RG__VALS(RG__INT(id)), err,
                  "webhook delete")) == 0)
        rc = audit_insert(q, audit, NULL, err);
    rc = finish(q, rc, err);
    if (rc == 0 && out)
        *out = w;
    return rc;
}

static int sq_webhook_test(void *impl, int64_t id, int64_t now_ms,
                           rg_delivery_rec *out, const rg_audit_rec *audit,
                           rg_err *err)
{
    sq *q = impl;
    rg_webhook_rec w;
    rg_delivery_rec d;
    int64_t did = 0;
    int rc = begin(q, err);
    if (rc)
        return rc;
    if ((rc = hook_get(q, id, &w, err)) == 0 &&
        (rc = run(q, ST_HOOK_TEST, RG__VALS(RG__INT(id), RG__INT(now_ms)), err,
                  "webhook test")) == 0 &&
        (rc = q->drv->last_id(q->conn, &did, err)) == 0 &&
        (rc = get_row(q, ST_DELIVERY_GET, RG__VALS(RG__INT(did)),
                      &rg__delivery_row, &d, err)) == 0)
        rc = audit_insert(q, audit, NULL, err);
    rc = finish(q, rc, err);
    if (rc == 0 && out)
        *out = d;
    return rc;
}

static int sq_delivery_list(void *impl, int64_t webhook_id,
                            int (*fn)(void *ctx, const rg_delivery_rec *d),
                            void *ctx, rg_err *err)
{
    cursor c;
    rg_delivery_rec *d = malloc(sizeof *d);
    if (!d)
        return rg_err_set(err, RG_ENOMEM, "delivery list: out of memory");
    int rc = cursor_open(&c, impl, ST_DELIVERY_LIST,
                         RG__VALS(RG__INT(webhook_id)), &rg__delivery_row, err);
    while (rc == 0 && (rc = cursor_next(&c, d, err)) == 1)
        rc = fn(ctx, d);
    rc = cursor_close(&c, rc);
    free(d);
    return rc;
}

static int sq_attempt_list(void *impl, int64_t delivery_id,
                           int (*fn)(void *ctx, const rg_attempt_rec *a),
                           void *ctx, rg_err *err)
{
    cursor c;
    rg_attempt_rec a;
    int rc = cursor_open(&c, impl, ST_ATTEMPT_LIST,
                         RG__VALS(RG__INT(delivery_id)), &rg__attempt_row, err);
    while (rc == 0 && (rc = cursor_next(&c, &a, err)) == 1)
        rc = fn(ctx, &a);
    return cursor_close(&c, rc);
}

static int sq_delivery_due(void *impl, int64_t now_ms, size_t max,
                           int (*fn)(void *ctx, const rg_delivery_rec *d,
                                     const rg_webhook_rec *w),
                           void *ctx, rg_err *err)
{
    cursor c;
    rg__due *due = calloc(1, sizeof *due);
    if (!due)
        return rg_err_set(err, RG_ENOMEM, "due deliveries: out of memory");
    int rc =
        cursor_open(&c, impl, ST_DELIVERY_DUE,
                    RG__VALS(RG__INT(now_ms), RG__INT(max)), &rg__due_row, err);
    while (rc == 0 && (rc = cursor_next(&c, due, err)) == 1) {
        due->w.id = due->d.webhook_id;
        rc = fn(ctx, &due->d, &due->w);
    }
    rc = cursor_close(&c, rc);
    free(due);
    return rc;
}

static int sq_delivery_attempt(void *impl, const rg_attempt_rec *a,
                               const char *state, int64_t next_ms, rg_err *err)
{
    sq *q = impl;
    bool pending = strcmp(state, "pending") == 0;
    int rc = begin(q, err);
    if (rc)
        return rc;
    rc = run(q, ST_DELIVERY_UPDATE,
             RG__VALS(RG__TEXT(state), RG__INT(a->n),
                      RG__INT(pending ? next_ms : 0),
                      RG__INT(pending ? 0 : a->at_ms + a->took_ms),
                      RG__INT(a->status), RG__TEXT(a->error),
                      RG__INT(a->delivery_id)),
             err, "webhook delivery");
    if (rc == 0 && changes(q) == 0)
        rc = rg_err_set(err, RG_ENOTFOUND, "webhook delivery %lld not found",
                        (long long)a->delivery_id);
    if (rc == 0)
        rc = insert_row(q, ST_ATTEMPT_INSERT, &rg__attempt_row, a, NULL, 0,
                        NULL, err, "webhook attempt");
    return finish(q, rc, err);
}

static int sq_deliveries_prune(void *impl, int64_t before_ms, size_t max,
                               size_t *n_deleted, rg_err *err)
{
    return prune(impl, ST_DELIVERY_PRUNE, before_ms, max, n_deleted, err,
                 "webhook delivery prune");
}

/* This code's operations on each driver. */
#define SQ_OPS                                                                 \
    .close = sq_close, .schema_version = sq_schema_version,                    \
    .audit_append = sq_audit_append, .audit_list = sq_audit_list,              \
    .channel_create = sq_channel_create, .channel_get = sq_channel_get,        \
    .channel_list = sq_channel_list,                                           \
    .channel_set_preflight = sq_channel_set_preflight,                         \
    .artifact_put = sq_artifact_put, .artifact_get = sq_artifact_get,          \
    .root_put = sq_root_put, .root_list = sq_root_list,                        \
    .release_create = sq_release_create, .release_get = sq_release_get,        \
    .release_find = sq_release_find, .release_list = sq_release_list,          \
    .release_preflight_finish = sq_release_preflight_finish,                   \
    .release_lift_quarantine = sq_release_lift_quarantine,                     \
    .release_preflight_result = sq_release_preflight_result,                   \
    .release_preflight_pending = sq_release_preflight_pending,                 \
    .rollout_create = sq_rollout_create, .rollout_get = sq_rollout_get,        \
    .rollout_list = sq_rollout_list,                                           \
    .rollout_transition = sq_rollout_transition,                               \
    .decision_list = sq_decision_list, .token_create = sq_token_create,        \
    .token_find = sq_token_find, .token_list = sq_token_list,                  \
    .token_get = sq_token_get, .token_revoke = sq_token_revoke,                \
    .enroll_key_create = sq_enroll_key_create,                                 \
    .enroll_key_use = sq_enroll_key_use,                                       \
    .enroll_key_list = sq_enroll_key_list,                                     \
    .enroll_key_get = sq_enroll_key_get,                                       \
    .enroll_key_revoke = sq_enroll_key_revoke,                                 \
    .endpoint_enroll = sq_endpoint_enroll,                                     \
    .endpoint_flush = sq_endpoint_flush,                                       \
    .endpoint_reset_identity = sq_endpoint_reset_identity,                     \
    .endpoint_load = sq_endpoint_load, .tail_heads = sq_tail_heads,            \
    .endpoints_after = sq_endpoints_after, .events_after = sq_events_after,    \
    .offers_after = sq_offers_after, .events_record = sq_events_record,        \
    .write_group = sq_write_group, .event_counts = sq_event_counts,            \
    .event_list = sq_event_list,                                               \
    .event_list_endpoint = sq_event_list_endpoint,                             \
    .events_prune = sq_events_prune, .offers_record = sq_offers_record,        \
    .offer_check = sq_offer_check, .offer_artifact = sq_offer_artifact,        \
    .artifact_public = sq_artifact_public,                                     \
    .decision_append = sq_decision_append, .policy_create = sq_policy_create,  \
    .policy_list = sq_policy_list, .policy_delete = sq_policy_delete,          \
    .flag_put = sq_flag_put, .flag_list = sq_flag_list,                        \
    .flag_stamp = sq_flag_stamp, .segment_put = sq_segment_put,                \
    .segment_list = sq_segment_list,                                           \
    .client_token_create = sq_client_token_create,                             \
    .client_token_find = sq_client_token_find,                                 \
    .client_token_list = sq_client_token_list,                                 \
    .client_token_get = sq_client_token_get,                                   \
    .client_token_revoke = sq_client_token_revoke,                             \
    .flag_rollout_put = sq_flag_rollout_put,                                   \
    .flag_rollout_list = sq_flag_rollout_list,                                 \
    .flag_reverts_record = sq_flag_reverts_record,                             \
    .flag_reverts_endpoint = sq_flag_reverts_endpoint,                         \
    .webhook_create = sq_webhook_create, .webhook_get = sq_webhook_get,        \
    .webhook_list = sq_webhook_list, .webhook_delete = sq_webhook_delete,      \
    .webhook_test = sq_webhook_test, .delivery_list = sq_delivery_list,        \
    .attempt_list = sq_attempt_list, .delivery_due = sq_delivery_due,          \
    .delivery_attempt = sq_delivery_attempt,                                   \
    .deliveries_prune = sq_deliveries_prune

const struct rg__store_ops rg__sqlite_ops = {
    .name = "sqlite",
    .open = sqlite_open,
    SQ_OPS,
};

const struct rg__store_ops rg__pg_ops = {
    .name = "postgres",
    .open = pg_open,
    SQ_OPS,
};
