/*
 * store.h - Rollgate's only door to durable state.
 *
 * One interface, two backends: SQLite (embedded default, WAL, in the
 * data directory) and PostgreSQL (docs/store.md). No SQL exists outside
 * the backend files. Every mutating call is one transaction; calls that
 * take an audit record write it in that same transaction, so an
 * acknowledged change and its audit row are durable together or not at
 * all.
 *
 * Records are plain values with fixed-size, NUL-terminated text fields;
 * callers own them. List functions call fn once per row with a borrowed
 * record valid only during that call; fn returns 0 to go on or non-zero to
 * stop (that value is then returned). Every function is thread-safe; the
 * backends serialise calls on one connection, so fn runs with the
 * store locked and must not call back into the same store. An audit
 * argument may be NULL (nothing is audited).
 *
 * Returns: 0 on success; RG_EINVAL for bad arguments (a text field that
 * does not end inside its record's capacity, a missing required field, an
 * unknown urgency, role or event type, attributes that are not a JSON
 * object): nothing is ever silently truncated; RG_ENOTFOUND for an unknown
 * id or name; RG_ECONFLICT for duplicates and violated ordering rules;
 * RG_EAUTH for unusable credentials; RG_EIO for database failures;
 * RG_EUNAVAIL when the database does not answer (PostgreSQL down or
 * unreachable: the next call connects again). err gets a message quoting
 * the subject. A failed call changes nothing.
 */
#ifndef RG_STORE_H
#define RG_STORE_H

#include "common/err.h"
#include "model/plan.h"
#include "model/rollout.h"

#include <stdbool.h>
#include <stdint.h>

#define RG_NAME_MAX 64    /* channel, token and actor names */
#define RG_EPID_MAX 128   /* endpoint ids */
#define RG_NOTES_MAX 4096 /* release notes */
#define RG_DESC_MAX 1024  /* channel descriptions */
#define RG_REASON_MAX 512 /* operator reasons */
/* An audit row's reason: an operator's, or a rollout transition's whole
 * (model/rollout.h RG_TRANSITION_REASON_MAX). */
#define RG_AUDIT_REASON_MAX 1024
#define RG_ATTRS_MAX 2048 /* endpoint attributes / installed, as JSON text */
#define RG_HASH_HEX 65    /* sha256 hex + NUL */
#define RG_EVIDENCE_MAX (1024 * 1024) /* a decision's evidence JSON, bytes */
#define RG_ENGINE_MAX 1024 /* a preflight engine command (path or name) */
#define RG_PREFLIGHT_RESULT_MAX                                                \
    (64 * 1024)                             /* a preflight result JSON, bytes  \
                                             */
#define RG_PREFLIGHT_TIMEOUT_MAX 3600       /* seconds */
#define RG_PREFLIGHT_MEMORY_MAX (64 * 1024) /* MiB */
#define RG_METADATA_MAX 8192 /* a release's signed metadata, canonical JSON */
#define RG_ROOT_MAX (64 * 1024) /* a root metadata document, JSON */

typedef struct rg_store rg_store;

/* Who did what, to what, why, from where. */
typedef struct rg_audit_rec {
    int64_t id; /* set by the store */
    int64_t at_ms;
    char actor[RG_NAME_MAX + 1]; /* token name, "endpoint:<id>", "system" */
    char role[16];               /* viewer, operator, admin, endpoint, system */
    char action[48];             /* "release.create", "rollout.pause", ... */
    char target[160]; /* "release:7", "rollout:3", "channel:detections" */
    char reason[RG_AUDIT_REASON_MAX + 1];
    char source[64];  /* client address, or "" */
    char detail[512]; /* small JSON or text, or "" */
} rg_audit_rec;

typedef struct rg_audit_filter {
    const char *actor;  /* NULL: any */
    const char *action; /* NULL: any; exact match ("auth.failed") */
    const char *target; /* NULL: any; exact match */
    int64_t since_ms;   /* 0: no lower bound (inclusive) */
    int64_t until_ms;   /* 0: no upper bound (exclusive) */
    int64_t limit;      /* newest first; <= 0 means 1000 */
    int64_t before_id;  /* 0: none; else only ids below it (a page cursor) */
} rg_audit_filter;

/* A channel's preflight (docs/preflight.md): the engine run over every
 * new release's content in a sandbox. engine "" means no preflight (the
 * other fields are then 0/""). */
typedef struct rg_preflight_spec {
    char engine[RG_ENGINE_MAX + 1]; /* absolute path or a name in PATH */
    char corpus[RG_HASH_HEX];       /* sha256 of an artifact of recorded
                                       events, or "" */
    int64_t timeout_s;              /* 1..RG_PREFLIGHT_TIMEOUT_MAX: wall
                                       clock and CPU limit per command */
    int64_t memory_mb;              /* address-space limit, MiB; 0: none
                                       (sanitizer builds of the engine) */
} rg_preflight_spec;

typedef struct rg_channel_rec {
    int64_t id;
    char name[RG_NAME_MAX + 1];
    char description[RG_DESC_MAX + 1];
    int64_t created_ms;
    int64_t
        current_release_id; /* release of the last completed rollout, 0: none */
    rg_preflight_spec preflight; /* engine "": none (schema 3) */
    /* Its artifacts are served to anyone at never-expiring URLs
     * (docs/caching.md; schema 19); set at creation only. */
    bool is_public;
} rg_channel_rec;

typedef struct rg_release_rec {
    int64_t id;
    int64_t channel_id;
    char channel[RG_NAME_MAX + 1];
    int64_t version; /* strictly grows per channel */
    char sha256[RG_HASH_HEX];
    uint64_t size;
    char notes[RG_NOTES_MAX + 1];
    char urgency[16]; /* "standard" or "emergency" */
    int64_t created_ms;
    char created_by[RG_NAME_MAX + 1];
    /* Preflight (schema 3), set by the store: "none" when the channel had
     * no preflight at creation, else "pending" until
     * rg_store_release_preflight_finish makes it "passed" or "failed". */
    char preflight_status[16];
    rg_preflight_spec preflight; /* the channel's spec at creation */
    char preflight_detail[256];  /* one line on how it ended, or "" */
    int64_t preflight_done_ms;   /* when it ended, 0: not yet */
    /* Signed metadata (schema 6, docs/signing.md): the canonical JSON of
     * {"signed": ..., "signatures": [...]} as the publisher made it, or
     * "" for an unsigned release. The API checks it matches the release;
     * the store keeps it verbatim. */
    char metadata[RG_METADATA_MAX + 1];
    /* When an operator lifted the quarantine of this release (schema 7):
     * agents that quarantined its digest apply it again. 0: never. */
    int64_t quarantine_lifted_ms;
    /* How it activates (schema 10, model/activation.h), as its publisher
     * declared: kind and the longest plausible applying -> healthy time.
     * rg_store_release_create takes activation_max_ms 0 as the kind's
     * default. Releases made before schema 10: none, 120 s. */
    int activation; /* RG_ACTIVATION_NONE, _RESTART, _REBOOT */
    int64_t activation_max_ms;
    /* Whether the publisher declared it: when false, kind and max are the
     * defaults and the health gate learns the allowance per stratum
     * (docs/health.md) instead of trusting them. */
    bool activation_declared;
} rg_release_rec;

/* One stored root metadata version (schema 6). */
typedef struct rg_root_rec {
    int64_t version;
    char digest[RG_HASH_HEX]; /* sha256 of its canonical "signed" */
    const char *json;         /* the document; borrowed (in list
                                 callbacks and as input) */
    int64_t created_ms;
    char created_by[RG_NAME_MAX + 1];
} rg_root_rec;

typedef struct rg_rollout_rec {
    int64_t id;
    int64_t release_id;
    int64_t channel_id;
    char channel[RG_NAME_MAX + 1];
    int64_t
        prev_release_id; /* channel's current release at creation, 0: none */
    rg_plan plan;
    char salt[33]; /* bucketing salt, random hex */
    rg_rollout_status status;
    int64_t created_ms;
    char created_by[RG_NAME_MAX + 1];
} rg_rollout_rec;

/* One persisted decision or transition of a rollout. */
typedef struct rg_decision_rec {
    int64_t id;
    int64_t rollout_id;
    int64_t at_ms;
    rg_transition tr;            /* from/to state and wave, reason */
    char actor[RG_NAME_MAX + 1]; /* operator token name or "orchestrator" */
    const char *evidence_json;   /* borrowed in list callbacks; "" if none */
} rg_decision_rec;

typedef struct rg_token_rec {
    int64_t id;
    char name[RG_NAME_MAX + 1];
    char role[16];          /* viewer, operator, admin */
    char hash[RG_HASH_HEX]; /* sha256 of the secret; never the secret */
    int64_t created_ms;
    int64_t expires_ms; /* 0: never */
    int64_t revoked_ms; /* 0: not revoked */
    char created_by[RG_NAME_MAX + 1];
} rg_token_rec;

#define RG_FLAG_ENVS_MAX 8 /* flag environments one enrollment key allows */
#define RG_FLAG_ENVS_TEXT (RG_FLAG_ENVS_MAX * (RG_NAME_MAX + 1))
typedef struct rg_enroll_key_rec {
    int64_t id;
    char hash[RG_HASH_HEX];
    int64_t created_ms;
    int64_t expires_ms; /* 0: never */
    int64_t revoked_ms; /* 0: not revoked */
    int64_t uses_left;  /* -1: unlimited */
    char created_by[RG_NAME_MAX + 1];
    /* the flag environments its endpoints may read, comma-separated
     * ("": default only; schema 16, docs/flags.md) */
    char flag_envs[RG_FLAG_ENVS_TEXT];
} rg_enroll_key_rec;

/* A group policy (schema 4): endpoints matching selector are held on
 * channel: one release behind ("n-1": the channel's current release, i.e.
 * the release of its last completed rollout) or on a pinned release
 * ("pin": release_id). selector_json is the API's selector object
 * ({"tag": "..."} or {"attribute": {...}}), stored as given; the server
 * validates and interprets it (server/policy.h). */
#define RG_POLICIES_MAX 64   /* policies at once, fleet-wide */
#define RG_SELECTOR_MAX 1024 /* a policy's selector, as JSON text */
typedef struct rg_policy_rec {
    int64_t id;
    char name[RG_NAME_MAX + 1]; /* unique */
    int64_t channel_id;         /* set by the store from channel */
    char channel[RG_NAME_MAX + 1];
    char selector_json[RG_SELECTOR_MAX + 1];
    char mode[8];       /* "n-1" or "pin" */
    int64_t release_id; /* pin: a release of channel; n-1: 0 */
    int64_t created_ms;
    char created_by[RG_NAME_MAX + 1];
} rg_policy_rec;

typedef struct rg_endpoint_rec {
    char id[RG_EPID_MAX + 1];
    char token_hash[RG_HASH_HEX];
    char attrs_json[RG_ATTRS_MAX +
                    1]; /* {"os":..,"os_version":..,"arch":..,"tags":[..]} */
    int64_t enrolled_ms;
    int64_t last_seen_ms; /* 0: never checked in */
    char installed_json[RG_ATTRS_MAX +
                        1]; /* last reported installed map, "{}" */
    bool proven; /* enroll only: the caller verified the current token */
} rg_endpoint_rec;

/* A heartbeat's lasting part, flushed in batches (not one write per beat). */
typedef struct rg_endpoint_seen {
    const char *id;
    int64_t last_seen_ms;
    const char *installed_json;
} rg_endpoint_seen;

typedef struct rg_event_rec {
    char endpoint_id[RG_EPID_MAX + 1];
    char event_id[65]; /* agent-chosen unique id */
    char type[16];     /* applying healthy failed reverted crashed */
    int64_t release_id;
    char channel[RG_NAME_MAX + 1];
    int64_t reported_ms; /* agent's clock */
    int64_t received_ms; /* server's clock */
    char detail[512];
} rg_event_rec;

/* Distinct endpoints per report type for one release. */
typedef struct rg_event_counts {
    uint64_t applying;
    uint64_t healthy;
    uint64_t failed; /* failed, reverted or crashed */
} rg_event_counts;

/* Opens (creating and migrating as needed) the store at url:
 * "sqlite:PATH" or a plain PATH to an SQLite file, or a libpq URL
 * "postgres://..." ("postgresql://...") of an existing database.
 * RG_EUNAVAIL when PostgreSQL does not answer, RG_EAUTH when it refuses
 * the credentials, RG_EIO when the schema is newer than this build.
 * *out is owned by the caller and closed with rg_store_close. */
int rg_store_open(const char *url, rg_store **out, rg_err *err);
void rg_store_close(rg_store *s);

/* Schema version after migrations (for tests and `rollgated --version`). */
int rg_store_schema_version(rg_store *s);

/* --- audit ------------------------------------------------------------ */
/* The audit log is append-only: these two are the only audit calls, and
 * schema (migration 5) refuses UPDATE and DELETE on it. */
int rg_store_audit_append(rg_store *s, rg_audit_rec *a, rg_err *err);
int rg_store_audit_list(rg_store *s, const rg_audit_filter *f,
                        int (*fn)(void *ctx, const rg_audit_rec *a), void *ctx,
                        rg_err *err);

/* --- channels --------------------------------------------------------- */
/* Inserts c (name, description, created_ms) and sets c->id.
 * RG_ECONFLICT when the name exists. */
int rg_store_channel_create(rg_store *s, rg_channel_rec *c,
                            const rg_audit_rec *audit, rg_err *err);
int rg_store_channel_get(rg_store *s, const char *name, rg_channel_rec *out,
                         rg_err *err);
int rg_store_channel_list(rg_store *s,
                          int (*fn)(void *ctx, const rg_channel_rec *c),
                          void *ctx, rg_err *err);
/* Replaces channel name's preflight with *spec (engine "" or spec NULL
 * removes it); releases already created keep the spec they were created
 * with. rg_store_channel_create stores c->preflight the same way. Checks:
 * engine text without control characters, corpus "" or the sha256 of a
 * recorded artifact (RG_ENOTFOUND, field "preflight.corpus"), timeout_s
 * in 1..RG_PREFLIGHT_TIMEOUT_MAX, memory_mb in 0..RG_PREFLIGHT_MEMORY_MAX
 * (fields "preflight.engine", "preflight.timeout_s", ...). RG_ENOTFOUND
 * for an unknown channel. */
int rg_store_channel_set_preflight(rg_store *s, const char *name,
                                   const rg_preflight_spec *spec,
                                   const rg_audit_rec *audit, rg_err *err);

/* --- artifacts (metadata; the bytes are files the server manages) ----- */
/* Records an artifact; idempotent for the same sha256 and size. */
int rg_store_artifact_put(rg_store *s, const char *sha256, uint64_t size,
                          int64_t now_ms, const rg_audit_rec *audit,
                          rg_err *err);
/* RG_ENOTFOUND when unknown. */
int rg_store_artifact_get(rg_store *s, const char *sha256, uint64_t *size,
                          rg_err *err);
/* 0 when a release of a public channel has the artifact sha256 (its
 * bytes are public, whatever other channel has them too), RG_ENOTFOUND
 * (err untouched) when none has. */
int rg_store_artifact_public(rg_store *s, const char *sha256, rg_err *err);

/* --- releases --------------------------------------------------------- */
/* Inserts r (channel by name, version, sha256, notes, urgency, created_*),
 * fills r->id, r->channel_id and r->size, and appends audit with its
 * target set to "release:<id>" (one audit target per object). RG_ENOTFOUND
 * for an unknown channel or artifact; RG_ECONFLICT when version is not
 * above every version on the channel. */
int rg_store_release_create(rg_store *s, rg_release_rec *r,
                            const rg_audit_rec *audit, rg_err *err);
int rg_store_release_get(rg_store *s, int64_t id, rg_release_rec *out,
                         rg_err *err);
/* Release `version` of channel into *out: one indexed lookup.
 * RG_ENOTFOUND (field "version") when the channel has no such version
 * (an unknown channel has none). */
int rg_store_release_find(rg_store *s, const char *channel, int64_t version,
                          rg_release_rec *out, rg_err *err);
/* Newest first; channel NULL lists every channel. */
int rg_store_release_list(rg_store *s, const char *channel,
                          int (*fn)(void *ctx, const rg_release_rec *r),
                          void *ctx, rg_err *err);
/* Ends release id's preflight: "pending" becomes "passed" or "failed",
 * with detail (one line, at most 255 bytes; may be "") and result_json (a
 * JSON object of at most RG_PREFLIGHT_RESULT_MAX bytes, the full result),
 * done_ms, and the audit row, in one transaction. RG_ENOTFOUND for an
 * unknown release; RG_ECONFLICT when its preflight is not pending. */
int rg_store_release_preflight_finish(rg_store *s, int64_t id, bool passed,
                                      const char *detail,
                                      const char *result_json, int64_t done_ms,
                                      const rg_audit_rec *audit, rg_err *err);
/* Records that release id's quarantine was lifted at at_ms (> 0; a later
 * lift overwrites the time), with the audit row, in one transaction.
 * RG_EINVAL for a bad time or audit; RG_ENOTFOUND for an unknown release. */
int rg_store_release_lift_quarantine(rg_store *s, int64_t id, int64_t at_ms,
                                     const rg_audit_rec *audit, rg_err *err);
/* The full result JSON of release id's preflight into *json (malloc'd,
 * the caller frees; "" while none or pending). RG_ENOTFOUND for an
 * unknown release. */
int rg_store_release_preflight_result(rg_store *s, int64_t id, char **json,
                                      rg_err *err);
/* Every release whose preflight is pending, oldest first (for the worker
 * to resume after a restart). */
int rg_store_release_preflight_pending(rg_store *s,
                                       int (*fn)(void *ctx,
                                                 const rg_release_rec *r),
                                       void *ctx, rg_err *err);

/* --- root metadata (signing keys agents trust) ------------------------ */
/* Appends root r (version, digest, json of at most RG_ROOT_MAX bytes,
 * created_*) with its audit row. The caller has verified it (the API
 * checks the rotation's signatures); the store only keeps versions
 * consecutive: RG_ECONFLICT unless r->version is the newest stored + 1
 * (1 on an empty history). */
int rg_store_root_put(rg_store *s, const rg_root_rec *r,
                      const rg_audit_rec *audit, rg_err *err);
/* Every stored root with version > after, oldest first. */
int rg_store_root_list(rg_store *s, int64_t after,
                       int (*fn)(void *ctx, const rg_root_rec *r), void *ctx,
                       rg_err *err);

/* --- rollouts --------------------------------------------------------- */
/* Inserts r (release_id, plan, salt, status, created_*), fills r->id,
 * r->channel_id, r->channel and r->prev_release_id (the channel's current
 * release), and appends audit with its target set to "rollout:<id>".
 * RG_ENOTFOUND for an unknown release; RG_ECONFLICT when the
 * channel already has a rollout that is not final, or the release is not
 * newer than the channel's current release. */
int rg_store_rollout_create(rg_store *s, rg_rollout_rec *r,
                            const rg_audit_rec *audit, rg_err *err);
int rg_store_rollout_get(rg_store *s, int64_t id, rg_rollout_rec *out,
                         rg_err *err);
/* Newest first; active_only lists only rollouts not in a final state. */
int rg_store_rollout_list(rg_store *s, bool active_only,
                          int (*fn)(void *ctx, const rg_rollout_rec *r),
                          void *ctx, rg_err *err);
/* Which rollouts rg_store_rollout_query lists (a zero filter with state
 * -1 lists every one). */
typedef struct rg_rollout_filter {
    bool active_only;    /* only rollouts not in a final state */
    const char *channel; /* NULL: any; else a channel name */
    int state;           /* -1: any; else an rg_ro_state */
    int64_t release_id;  /* 0: any */
    int64_t before_id;   /* 0: none; else only ids below it (a page cursor) */
    int64_t limit;       /* <= 0: no limit */
} rg_rollout_filter;
/* The rollouts f selects, newest first, at most f->limit of them: the
 * database filters, so a page costs one query however many rollouts
 * there are (an unknown channel simply matches none). */
int rg_store_rollout_query(rg_store *s, const rg_rollout_filter *f,
                           int (*fn)(void *ctx, const rg_rollout_rec *r),
                           void *ctx, rg_err *err);
/* Moves rollout id from *cur to *next (compare-and-set: RG_ECONFLICT if the
 * stored status differs from *cur in any field, e.g. a concurrent operator
 * action), appends a decision row (tr, actor, evidence_json may be NULL,
 * else a JSON object of at most RG_EVIDENCE_MAX bytes; at_ms is
 * next->updated_ms) and the audit row (may be NULL) in one transaction.
 * When next->state is completed the channel's current release becomes the
 * rollout's release; when it is rolled_back, or halted from completed
 * (the gate kept watching), and the channel's current release is the
 * rollout's, it returns to prev_release_id. */
int rg_store_rollout_transition(rg_store *s, int64_t id,
                                const rg_rollout_status *cur,
                                const rg_rollout_status *next,
                                const rg_transition *tr, const char *actor,
                                const char *evidence_json,
                                const rg_audit_rec *audit, rg_err *err);
/* Appends a decision row that changes no status (a gate evaluation the
 * orchestrator keeps: a verdict change or the latest evaluation): tr's
 * from/to state and wave are the rollout's current ones, at_ms when it was
 * made, evidence_json as for rg_store_rollout_transition. RG_ENOTFOUND for
 * an unknown rollout. */
int rg_store_decision_append(rg_store *s, int64_t rollout_id, int64_t at_ms,
                             const rg_transition *tr, const char *actor,
                             const char *evidence_json, rg_err *err);
/* Oldest first. */
int rg_store_decision_list(rg_store *s, int64_t rollout_id,
                           int (*fn)(void *ctx, const rg_decision_rec *d),
                           void *ctx, rg_err *err);

/* --- admin tokens ----------------------------------------------------- */
/* Inserts t (name, role, hash, created_*, expires_ms), fills t->id, and
 * appends audit with its target set to "token:<id>" (one audit target per
 * object). RG_ECONFLICT (field "name") when a token, revoked or not, has
 * the name. */
int rg_store_token_create(rg_store *s, rg_token_rec *t,
                          const rg_audit_rec *audit, rg_err *err);
/* Finds the token with this hash (revoked and expired ones included: the
 * caller decides). RG_ENOTFOUND when none. */
int rg_store_token_find(rg_store *s, const char *hash, rg_token_rec *out,
                        rg_err *err);
int rg_store_token_list(rg_store *s,
                        int (*fn)(void *ctx, const rg_token_rec *t), void *ctx,
                        rg_err *err);
/* The token with this id into *out (revoked and expired ones included):
 * one indexed lookup. RG_ENOTFOUND for an unknown id. */
int rg_store_token_get(rg_store *s, int64_t id, rg_token_rec *out, rg_err *err);
/* Sets revoked_ms; RG_ENOTFOUND for an unknown id, RG_ECONFLICT if already
 * revoked, or when it is an admin token usable at now_ms and no other admin
 * token is lasting (unrevoked, and never expiring or valid for more than
 * RG_ADMIN_LASTING_MS after now_ms): nobody may lock every administrator
 * out, not even a moment later when a short-lived token expires. The
 * offline way back in is `rollgated admin-token --data DIR`. */
#define RG_ADMIN_LASTING_MS (INT64_C(24) * 3600 * 1000)
int rg_store_token_revoke(rg_store *s, int64_t id, int64_t now_ms,
                          const rg_audit_rec *audit, rg_err *err);

/* --- enrollment keys -------------------------------------------------- */
/* Inserts k, fills k->id, and appends audit with its target set to
 * "enrollment_key:<id>". */
int rg_store_enroll_key_create(rg_store *s, rg_enroll_key_rec *k,
                               const rg_audit_rec *audit, rg_err *err);
/* Atomically checks the key with this hash is usable at now_ms (exists,
 * not revoked, not expired, uses left) and consumes one use; copies the
 * key into *out when out is not NULL. RG_EAUTH when it is not usable. */
int rg_store_enroll_key_use(rg_store *s, const char *hash, int64_t now_ms,
                            rg_enroll_key_rec *out, rg_err *err);
/* Every key, oldest first (hash included: the caller shows no secret, and
 * the hash is not one). */
int rg_store_enroll_key_list(rg_store *s,
                             int (*fn)(void *ctx, const rg_enroll_key_rec *k),
                             void *ctx, rg_err *err);
/* The key with this id into *out (revoked, expired and used-up ones
 * included): one indexed lookup. RG_ENOTFOUND for an unknown id. */
int rg_store_enroll_key_get(rg_store *s, int64_t id, rg_enroll_key_rec *out,
                            rg_err *err);
/* Sets revoked_ms: the key enrolls nobody from then on. RG_ENOTFOUND for
 * an unknown id, RG_ECONFLICT if already revoked. */
int rg_store_enroll_key_revoke(rg_store *s, int64_t id, int64_t now_ms,
                               const rg_audit_rec *audit, rg_err *err);

/* --- endpoints -------------------------------------------------------- */
/* Inserts the endpoint, or on re-enrollment replaces its token hash and
 * attributes (keeping last_seen and installed). An existing id is
 * replaced only when e->proven (the caller verified the endpoint's current
 * token) or after rg_store_endpoint_reset_identity (which this consumes);
 * otherwise RG_ECONFLICT (field "endpoint_id") and nothing changes: an
 * enrollment key alone never takes over an enrolled identity. */
int rg_store_endpoint_enroll(rg_store *s, const rg_endpoint_rec *e,
                             const rg_audit_rec *audit, rg_err *err);
/* An operator's action (schema 9): lets endpoint id be enrolled afresh
 * once, by any valid enrollment key, without its current token (a
 * reinstalled machine). The current token keeps working until then.
 * Records at_ms and the audit row (required) in one transaction.
 * RG_ENOTFOUND for an unknown id. */
int rg_store_endpoint_reset_identity(rg_store *s, const char *id, int64_t at_ms,
                                     const rg_audit_rec *audit, rg_err *err);
/* Updates last_seen_ms and installed_json of n endpoints in one
 * transaction; unknown ids are skipped. */
int rg_store_endpoint_flush(rg_store *s, const rg_endpoint_seen *batch,
                            size_t n, rg_err *err);
/* Every endpoint, for loading the in-memory fleet table at start-up. */
int rg_store_endpoint_load(rg_store *s,
                           int (*fn)(void *ctx, const rg_endpoint_rec *e),
                           void *ctx, rg_err *err);

/* --- tails: what other nodes wrote (schema 18; docs/scale.md) ---------
 * Several rollgated nodes on one PostgreSQL each read, in order, what the
 * others made durable: events and offers by a sequence number, endpoints
 * by the flush (or enrollment) that wrote them last. Numbers are taken
 * under the write lock, so they grow in commit order: reading "after N"
 * again and again misses nothing. On SQLite (one node) they stay 0. */
typedef struct rg_tail_heads {
    int64_t endpoints, events, offers; /* the newest numbers, 0: none */
} rg_tail_heads;
typedef struct rg_endpoint_tail {
    rg_endpoint_rec e; /* proven unused */
    int64_t seq;       /* the flush or enrollment that wrote it last */
} rg_endpoint_tail;
typedef struct rg_event_tail {
    rg_event_rec e;
    int64_t seq;
} rg_event_tail;
typedef struct rg_offer_rec {
    char endpoint_id[RG_EPID_MAX + 1];
    int64_t release_id, offered_ms;
    int64_t seq;
} rg_offer_rec;

/* The newest numbers now (where a node that loaded everything starts). */
int rg_store_tail_heads(rg_store *s, rg_tail_heads *out, rg_err *err);
/* Up to max rows numbered above after, in number order, to fn (a non-zero
 * return stops and is returned). Returns 0 or the store's error. */
int rg_store_endpoints_after(rg_store *s, int64_t after, size_t max,
                             int (*fn)(void *ctx, const rg_endpoint_tail *e),
                             void *ctx, rg_err *err);
int rg_store_events_after(rg_store *s, int64_t after, size_t max,
                          int (*fn)(void *ctx, const rg_event_tail *e),
                          void *ctx, rg_err *err);
int rg_store_offers_after(rg_store *s, int64_t after, size_t max,
                          int (*fn)(void *ctx, const rg_offer_rec *o),
                          void *ctx, rg_err *err);

/* --- group policies (schema 4) ---------------------------------------- */
/* Inserts p (name, channel by name, selector_json: a JSON object, mode,
 * release_id, created_*), fills p->id and p->channel_id, and appends
 * audit with its target set to "policy:<id>". RG_EINVAL for a
 * bad mode or a release_id that does not fit it (pin needs one, n-1 none);
 * RG_ENOTFOUND for an unknown channel (field "channel") or a release that
 * is not the channel's (field "release"); RG_ECONFLICT when the name
 * exists (field "name") or RG_POLICIES_MAX policies exist. */
int rg_store_policy_create(rg_store *s, rg_policy_rec *p,
                           const rg_audit_rec *audit, rg_err *err);
/* Every policy, oldest first. */
int rg_store_policy_list(rg_store *s,
                         int (*fn)(void *ctx, const rg_policy_rec *p),
                         void *ctx, rg_err *err);
/* Deletes policy id, copying it into *out first (out may be NULL).
 * RG_ENOTFOUND for an unknown id. */
int rg_store_policy_delete(rg_store *s, int64_t id, rg_policy_rec *out,
                           const rg_audit_rec *audit, rg_err *err);

/* --- group commit of events and offers (docs/architecture.md) ---------- */
/* What check-ins make durable (agent events, offers) is written by group
 * commit, whatever the backend: every rg_store_write_submit, and every
 * rg_store_events_record and rg_store_offers_record (which submit and
 * wait), from any thread, joins one queue per store; one committer thread
 * takes all that is queued, up to RG_STORE_GROUP_MAX writes, and writes it
 * in one transaction: one fsync for many check-ins.
 *
 * Promises. A write's done callback runs only after the transaction that
 * holds it committed (durable: survives kill -9 and power loss), or with
 * the error that ended it. A write refused by itself (an unknown endpoint
 * or release) fails alone and leaves nothing; a transaction that fails
 * (I/O error, full disk, a database busy past its timeout) fails every
 * write in it, and none of them is kept: nothing half-applied.
 *
 * Latency bound: no timer. A write waits for the transaction in progress
 * (if any) and then its own, so for at most two transactions of at most
 * RG_STORE_GROUP_MAX writes; the batch grows with the load by itself.
 *
 * What a backend provides (backend.h, write_group): begin one transaction;
 * for each write, in order, a savepoint holding its events (as
 * rg_store_events_record stores them) and its offers (as
 * rg_store_offers_record), rolled back to when that write alone is refused
 * (its rc and err set, the others go on); commit; return 0, or an error
 * when the transaction as a whole failed (rolled back). A backend without
 * write_group gets each write applied by its events_record and
 * offers_record, one transaction each (correct, not grouped). */
#define RG_STORE_GROUP_MAX 1024 /* writes per transaction */

/* One caller's durable write: a check-in's events and its new offers.
 * Owned by the caller, with everything it points to, until done runs. */
typedef struct rg_store_write rg_store_write;
struct rg_store_write {
    const rg_event_rec *events; /* n_events, may be 0 */
    size_t n_events;
    const char *offer_endpoint; /* offers: this endpoint was offered ... */
    const int64_t *offers;      /* ... these n_offers releases (<= 64) ... */
    size_t n_offers;
    int64_t offer_ms; /* ... at this time */
    /* Called once, from the committer thread, when the write is durable
     * (rc 0) or failed (rc, err); must be quick (it holds up the next
     * transaction) and may free w. */
    void (*done)(rg_store_write *w);
    void *ctx;            /* the caller's */
    int rc;               /* out: 0 or an rg_code */
    size_t n_new;         /* out: events newly stored (retries and the surplus
                             past RG_EVENTS_PER_KIND are not) */
    rg_err err;           /* out: why it failed */
    rg_store_write *next; /* the store's (its queue) */
};

/* Queues w. Returns 0 (done will run exactly once), RG_EINVAL for bad
 * events or offers (checked as rg_store_events_record and
 * rg_store_offers_record check them), or RG_EUNAVAIL when the store is
 * closing; on error w->err is filled, nothing is queued and done never
 * runs. Thread-safe. */
int rg_store_write_submit(rg_store *s, rg_store_write *w);

typedef struct rg_store_group_stats {
    uint64_t commits;   /* transactions committed */
    uint64_t writes;    /* writes in them */
    uint64_t failed;    /* writes failed with their transaction */
    uint64_t max_batch; /* most writes in one transaction */
    uint64_t queued;    /* writes waiting now */
} rg_store_group_stats;
/* The store's group commit counters since it opened. */
void rg_store_group_stats_get(rg_store *s, rg_store_group_stats *out);

/* --- agent events ----------------------------------------------------- */
/* Events stored per (endpoint, release, type), the first ones: what the
 * health analysis reads (the first applying, healthy, failure). This
 * bounds what one endpoint can write per release it was offered. */
#define RG_EVENTS_PER_KIND 8
/* Records n events in one transaction; an event whose (endpoint_id,
 * event_id) is already stored is skipped, so retries are idempotent, and
 * so is one past RG_EVENTS_PER_KIND for its (endpoint, release, type).
 * *n_new (may be NULL) receives how many were stored. */
int rg_store_events_record(rg_store *s, const rg_event_rec *ev, size_t n,
                           size_t *n_new, rg_err *err);
/* Every stored event for release_id, in the order received (received_ms,
 * then storage order); rebuilds the orchestrator's in-memory health state
 * after a restart. */
int rg_store_event_list(rg_store *s, int64_t release_id,
                        int (*fn)(void *ctx, const rg_event_rec *e), void *ctx,
                        rg_err *err);
/* The newest events endpoint_id reported (received_ms, newest first), at
 * most max (1..RG_EVENTS_LIST_MAX): an endpoint's history for operators.
 * An unknown endpoint has none. */
#define RG_EVENTS_LIST_MAX 1000
int rg_store_event_list_endpoint(rg_store *s, const char *endpoint_id,
                                 size_t max,
                                 int (*fn)(void *ctx, const rg_event_rec *e),
                                 void *ctx, rg_err *err);
/* Retention: deletes, in one transaction, up to max (1..100000) of the
 * oldest events received before before_ms whose release has no active
 * rollout (an active one keeps all its evidence); *n_deleted receives how
 * many. Schema 11 indexes events by received time for it. */
int rg_store_events_prune(rg_store *s, int64_t before_ms, size_t max,
                          size_t *n_deleted, rg_err *err);
/* Distinct endpoints that reported each type for release_id. */
int rg_store_event_counts(rg_store *s, int64_t release_id, rg_event_counts *out,
                          rg_err *err);

/* --- flag sets an endpoint fell back from (schema 14, docs/agent.md) --- */
typedef struct rg_flag_revert_rec {
    char endpoint_id[RG_EPID_MAX + 1];
    char environment[RG_NAME_MAX + 1];
    char stamp[48];      /* the set's stamp (server/flagdoc.h) */
    int64_t reported_ms; /* agent's clock */
    int64_t received_ms; /* server's clock */
    char detail[256];
} rg_flag_revert_rec;
/* Records n reports in one transaction; one already stored for (endpoint,
 * environment, stamp) is skipped, so retries are idempotent. */
int rg_store_flag_reverts_record(rg_store *s, const rg_flag_revert_rec *r,
                                 size_t n, rg_err *err);
/* The newest reports of endpoint_id (received_ms, newest first), at most
 * max (1..RG_EVENTS_LIST_MAX). */
int rg_store_flag_reverts_endpoint(
    rg_store *s, const char *endpoint_id, size_t max,
    int (*fn)(void *ctx, const rg_flag_revert_rec *r), void *ctx, rg_err *err);

/* --- offers (schema 8) ------------------------------------------------ */
/* What check-in answers offered each endpoint: the evidence the server can
 * vouch for (an endpoint's events count only for releases offered to it)
 * and what it may download. */

/* Records that a check-in answer offers endpoint_id each of the n
 * releases (n <= 64) at now_ms, in one transaction, durable before it
 * returns; an offer already recorded keeps its first time. RG_ENOTFOUND
 * for an unknown endpoint or release. */
int rg_store_offers_record(rg_store *s, const char *endpoint_id,
                           const int64_t *releases, size_t n, int64_t now_ms,
                           rg_err *err);
/* 0 when release_id was ever offered to endpoint_id, RG_ENOTFOUND (err
 * untouched) when not. */
int rg_store_offer_check(rg_store *s, const char *endpoint_id,
                         int64_t release_id, rg_err *err);
/* 0 when some release ever offered to endpoint_id has the artifact
 * sha256, RG_ENOTFOUND (err untouched) when none has. */
int rg_store_offer_artifact(rg_store *s, const char *endpoint_id,
                            const char *sha256, rg_err *err);

/* --- feature flags (schema 12, docs/flags.md) ------------------------- */
#define RG_FLAG_NAME_MAX 128 /* a flag's name, bytes */
/* One version of a flag: its Unleash feature definition in an
 * environment. Every change writes a new version; the newest is current. */
typedef struct rg_flag_rec {
    char environment[RG_NAME_MAX + 1];
    char name[RG_FLAG_NAME_MAX + 1];
    int64_t version;        /* 1, 2, ... per (environment, name) */
    const char *definition; /* feature JSON; borrowed (see each function) */
    int64_t created_ms;
    char created_by[RG_NAME_MAX + 1];
    char reason[RG_REASON_MAX + 1];
} rg_flag_rec;
/* A token an Unleash SDK reads one environment's flags with. */
typedef struct rg_client_token_rec {
    int64_t id;
    char name[RG_NAME_MAX + 1];
    char environment[RG_NAME_MAX + 1];
    char hash[RG_HASH_HEX]; /* sha256 of the secret */
    int64_t created_ms;
    char created_by[RG_NAME_MAX + 1];
    int64_t revoked_ms; /* 0: usable (schema 14) */
} rg_client_token_rec;
/* Writes a new version of flag (f->environment, f->name) with
 * f->definition (the caller's, not kept), the audit row in the same
 * transaction. expect is the version the caller read: 0 when the flag must
 * not exist yet (else RG_ECONFLICT, field "name"), N > 0 when version N
 * must be current (RG_ENOTFOUND when the flag does not exist, RG_ECONFLICT
 * when another version is, field "version"). A segment id that the
 * definition's strategies name, and its current version did not, must be
 * a segment of the environment that is not deleted (else RG_ECONFLICT,
 * field "segments"): checked in the write's transaction, ordered against
 * every segment write of the environment (rg_store_segment_put), so a
 * concurrent deletion cannot leave the flag naming nothing. Sets
 * f->version. */
int rg_store_flag_put(rg_store *s, rg_flag_rec *f, int64_t expect,
                      const rg_audit_rec *audit, rg_err *err);
/* Calls fn with the current version of each flag of environment (NULL:
 * every environment), by environment then name; f->definition lives for
 * the call. fn returning non-zero stops and is returned. */
int rg_store_flag_list(rg_store *s, const char *environment,
                       int (*fn)(void *ctx, const rg_flag_rec *f), void *ctx,
                       rg_err *err);
/* Calls fn with every version of flag name in environment, newest first
 * (none: RG_ENOTFOUND). */
int rg_store_flag_history(rg_store *s, const char *environment,
                          const char *name,
                          int (*fn)(void *ctx, const rg_flag_rec *f), void *ctx,
                          rg_err *err);
/* The change stamp of environment: how many versions its flags have had
 * (a count that only grows: versions are never removed) and when the
 * newest was written; both 0 for an environment without flags. What the
 * Unleash client API's ETag is made of, read without building the
 * document. */
int rg_store_flag_stamp(rg_store *s, const char *environment, int64_t *versions,
                        int64_t *newest_ms, rg_err *err);
/* --- flag segments (schema 15, docs/flags.md) ---------------------------- */
/* One version of a segment: a named list of constraints of an environment
 * that flag strategies name by id (Unleash's segments). Every change writes
 * a new version, the newest is current; a deletion is a version with
 * deleted set, and creating the name again revives it with its id. */
typedef struct rg_segment_rec {
    char environment[RG_NAME_MAX + 1];
    char name[RG_FLAG_NAME_MAX + 1];
    int64_t id;      /* set by the store at the first version, then fixed;
                        unique across environments */
    int64_t version; /* 1, 2, ... per (environment, name) */
    bool deleted;
    const char *definition; /* {"constraints": [...]} JSON ("" when deleted);
                               borrowed (see each function) */
    int64_t created_ms;
    char created_by[RG_NAME_MAX + 1];
    char reason[RG_REASON_MAX + 1];
} rg_segment_rec;
/* Writes a new version of segment (g->environment, g->name) with
 * g->definition and g->deleted (the caller's, not kept), bumps the
 * environment's change stamp (rg_store_flag_stamp) and writes the audit
 * row, in one transaction. expect is the version the caller read: 0 when
 * the segment must not exist or be deleted (else RG_ECONFLICT, field
 * "name"), N > 0 when version N must be current and not deleted
 * (RG_ENOTFOUND otherwise, RG_ECONFLICT when another version is, field
 * "version"). A deletion is refused while the current version of a flag
 * of the environment names the segment (RG_ECONFLICT, field "name", the
 * message naming up to 4 of them), checked in the write's transaction
 * and ordered against every flag write (rg_store_flag_put). Sets
 * g->version and g->id. */
int rg_store_segment_put(rg_store *s, rg_segment_rec *g, int64_t expect,
                         const rg_audit_rec *audit, rg_err *err);
/* Calls fn with the current version of each segment of environment that is
 * not deleted, by id; g->definition lives for the call. fn returning
 * non-zero stops and is returned. */
int rg_store_segment_list(rg_store *s, const char *environment,
                          int (*fn)(void *ctx, const rg_segment_rec *g),
                          void *ctx, rg_err *err);
/* Calls fn with every version of segment name in environment, newest
 * first, deletions included (none: RG_ENOTFOUND). */
int rg_store_segment_history(rg_store *s, const char *environment,
                             const char *name,
                             int (*fn)(void *ctx, const rg_segment_rec *g),
                             void *ctx, rg_err *err);
/* How many flag and segment versions were written through s since it was
 * opened (counted after each commit): a cache of what rg_store_flag_stamp
 * reads stays valid while this does not move. Writes by another process on
 * the same database (another node) are not counted. Thread-safe. */
uint64_t rg_store_flag_writes(rg_store *s);
/* --- guarded flag rollouts (schema 17, docs/flags.md) ----------------- */
/* A flag rollout: its state (plan, status, shares, latest decisions) is
 * one JSON document that server/flag_rollout.c writes and reads. */
typedef struct rg_flag_rollout_rec {
    int64_t id;
    char environment[RG_NAME_MAX + 1];
    char name[RG_FLAG_NAME_MAX + 1];
    int64_t seq;       /* 1 when created, one more at each put */
    int active;        /* 1 until the rollout is final */
    const char *state; /* JSON text; borrowed (see each function) */
    int64_t created_ms;
    char created_by[RG_NAME_MAX + 1];
    char reason[RG_REASON_MAX + 1];
    /* put only: a webhook event (model/rollout_event.h) the put's
     * transition is, queued to every subscription to it that names no
     * channel, in the put's transaction; NULL: none. hook is the body's
     * "rollout" object (JSON, at most RG_DELIVERY_FLAG_MAX bytes). Both
     * borrowed. */
    const char *event;
    const char *hook;
} rg_flag_rollout_rec;
/* Writes r and audit (may be NULL) in one transaction. With r->id 0 it
 * creates the rollout (RG_ECONFLICT when its flag has an active one) and
 * sets r->id, r->seq = 1. Otherwise it replaces state and active of
 * rollout r->id when its seq is still r->seq (RG_ECONFLICT when another
 * put came first, RG_ENOTFOUND when unknown) and sets r->seq to the new
 * one. r->state is only read. */
int rg_store_flag_rollout_put(rg_store *s, rg_flag_rollout_rec *r,
                              const rg_audit_rec *audit, rg_err *err);
/* Calls fn with the flag rollouts of environment and name (each NULL:
 * any), newest first; only active ones with active_only. r->state lives
 * for the call. fn returning non-zero stops and is returned. */
int rg_store_flag_rollout_list(
    rg_store *s, const char *environment, const char *name, bool active_only,
    int (*fn)(void *ctx, const rg_flag_rollout_rec *r), void *ctx, rg_err *err);
/* Inserts t (name, environment, hash, created_*), fills t->id, and
 * appends audit with its target set to "client_token:<id>". */
int rg_store_client_token_create(rg_store *s, rg_client_token_rec *t,
                                 const rg_audit_rec *audit, rg_err *err);
/* Finds the usable (not revoked) client token with this hash;
 * RG_ENOTFOUND (err untouched). */
int rg_store_client_token_find(rg_store *s, const char *hash,
                               rg_client_token_rec *out, rg_err *err);
/* Calls fn with every client token, revoked ones too, by id. */
int rg_store_client_token_list(rg_store *s,
                               int (*fn)(void *ctx,
                                         const rg_client_token_rec *t),
                               void *ctx, rg_err *err);
/* Reads client token id; RG_ENOTFOUND with err set. */
int rg_store_client_token_get(rg_store *s, int64_t id, rg_client_token_rec *out,
                              rg_err *err);
/* Revokes client token id at now_ms with the audit row, in one
 * transaction: RG_ENOTFOUND, or RG_ECONFLICT when already revoked. */
int rg_store_client_token_revoke(rg_store *s, int64_t id, int64_t now_ms,
                                 const rg_audit_rec *audit, rg_err *err);

/* --- webhooks (schema 13, docs/webhooks.md) --------------------------- */
/* Subscriptions to a rollout's notable events (model/rollout_event.h)
 * and their outbox: rg_store_rollout_transition queues one delivery per
 * matching subscription in the transaction that moves the rollout, so a
 * committed transition is never lost to a crash, and the sender
 * (server/webhooks.h) never holds up a transition. */
#define RG_WEBHOOKS_MAX 64        /* subscriptions at once */
#define RG_WEBHOOK_URL_MAX 2048   /* a receiver's URL, bytes */
#define RG_WEBHOOK_SECRET_MIN 16  /* a given signing secret, bytes */
#define RG_WEBHOOK_SECRET_MAX 128 /* a signing secret, bytes */
#define RG_WEBHOOK_ERROR_MAX 255  /* an attempt's error text, bytes */
#define RG_WEBHOOK_EVENTS_MAX 48  /* "halt,hold,..." or "*", bytes */
#define RG_DELIVERY_FLAG_MAX 3072 /* a flag rollout delivery's object */
typedef struct rg_webhook_rec {
    int64_t id;
    char url[RG_WEBHOOK_URL_MAX + 1];
    char events[RG_WEBHOOK_EVENTS_MAX + 1]; /* comma-separated, or "*" */
    char channel[RG_NAME_MAX + 1];          /* "": every channel */
    char secret[RG_WEBHOOK_SECRET_MAX + 1]; /* HMAC key; never listed */
    int64_t created_ms;
    char created_by[RG_NAME_MAX + 1];
} rg_webhook_rec;

/* One delivery of one event to one subscription: its outbox row and its
 * log. state "pending" until an attempt is answered 2xx ("delivered") or
 * the sender gives up ("failed"). The rollout fields are read from the
 * rollout and the decision that queued it (decision_id 0: a test
 * delivery, whose rollout fields are 0 and ""). */
typedef struct rg_delivery_rec {
    int64_t id;
    char uid[33]; /* random hex, the receiver's idempotency key */
    int64_t webhook_id;
    char event[16]; /* model/rollout_event.h, or "test" */
    int64_t decision_id;
    int64_t created_ms;
    char state[12];
    int attempts;
    int64_t next_ms; /* pending: when the next attempt is due */
    int64_t done_ms; /* delivered or failed: when; else 0 */
    int last_status; /* HTTP status of the last attempt, 0: none */
    char last_error[RG_WEBHOOK_ERROR_MAX + 1];
    /* from the decision and its rollout */
    int64_t rollout_id;
    int64_t release_id;
    int64_t version;
    char channel[RG_NAME_MAX + 1];
    int to_state;
    int to_wave;
    int64_t at_ms;                         /* the decision's time */
    char reason[RG_TRANSITION_REASON_MAX]; /* "" for a test */
    char counts[320]; /* the evidence's counts (JSON object) or "" */
    /* a flag rollout's delivery (schema 18): its "rollout" object as
     * rg_flag_rollout_rec.hook gave it, and no decision; else "" */
    char flag[RG_DELIVERY_FLAG_MAX + 1];
} rg_delivery_rec;

/* One attempt at a delivery. */
typedef struct rg_attempt_rec {
    int64_t delivery_id;
    int n; /* 1, 2, ... */
    int64_t at_ms;
    int64_t took_ms;
    int status; /* HTTP status, 0: no answer */
    char error[RG_WEBHOOK_ERROR_MAX + 1];
} rg_attempt_rec;

/* Inserts w (url, events, channel, secret, created_*), fills w->id.
 * RG_ECONFLICT when RG_WEBHOOKS_MAX exist. The caller validates the URL
 * and events (server/api_webhooks.c). */
int rg_store_webhook_create(rg_store *s, rg_webhook_rec *w,
                            const rg_audit_rec *audit, rg_err *err);
int rg_store_webhook_get(rg_store *s, int64_t id, rg_webhook_rec *out,
                         rg_err *err);
/* Every subscription, oldest first. */
int rg_store_webhook_list(rg_store *s,
                          int (*fn)(void *ctx, const rg_webhook_rec *w),
                          void *ctx, rg_err *err);
/* Deletes subscription id and its deliveries, copying it into *out first
 * (may be NULL). RG_ENOTFOUND for an unknown id. */
int rg_store_webhook_delete(rg_store *s, int64_t id, rg_webhook_rec *out,
                            const rg_audit_rec *audit, rg_err *err);
/* Queues a "test" delivery to subscription id at now_ms; *out (may be
 * NULL) receives it. RG_ENOTFOUND for an unknown id. */
int rg_store_webhook_test(rg_store *s, int64_t id, int64_t now_ms,
                          rg_delivery_rec *out, const rg_audit_rec *audit,
                          rg_err *err);
/* Subscription id's deliveries, newest first (RG_ENOTFOUND for an
 * unknown id). */
int rg_store_delivery_list(rg_store *s, int64_t webhook_id,
                           int (*fn)(void *ctx, const rg_delivery_rec *d),
                           void *ctx, rg_err *err);
/* Delivery id's attempts, oldest first. */
int rg_store_attempt_list(rg_store *s, int64_t delivery_id,
                          int (*fn)(void *ctx, const rg_attempt_rec *a),
                          void *ctx, rg_err *err);
/* The pending deliveries due at now_ms, oldest due first, at most max
 * (1..1000), each with its subscription's url and secret in *w. */
int rg_store_delivery_due(rg_store *s, int64_t now_ms, size_t max,
                          int (*fn)(void *ctx, const rg_delivery_rec *d,
                                    const rg_webhook_rec *w),
                          void *ctx, rg_err *err);
/* Records attempt a of delivery a->delivery_id and the delivery's new
 * state ("pending" with next_ms, "delivered" or "failed"), in one
 * transaction. RG_ENOTFOUND when the delivery is gone (its subscription
 * was deleted meanwhile). */
int rg_store_delivery_attempt(rg_store *s, const rg_attempt_rec *a,
                              const char *state, int64_t next_ms, rg_err *err);
/* Retention: deletes up to max (1..100000) deliveries (with their
 * attempts) finished before before_ms; *n_deleted receives how many. */
int rg_store_deliveries_prune(rg_store *s, int64_t before_ms, size_t max,
                              size_t *n_deleted, rg_err *err);

#endif
