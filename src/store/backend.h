/*
 * backend.h - what a store backend provides (internal to src/store).
 *
 * store.c parses the URL, validates every argument once for all backends
 * (text within its record's capacity, required fields, known enum values),
 * then calls the backend through a table of function pointers. Both
 * backends are one implementation of every operation (sqlstore.c) over
 * an SQL engine driver (sqldrv.h: sqlite.c, pg.c). Backend functions
 * get the backend's own state (impl) and may assume valid arguments; they
 * keep every promise store.h makes (transactions, error codes, ordering).
 */
#ifndef RG_STORE_BACKEND_H
#define RG_STORE_BACKEND_H

#include "store/store.h"

#include <stdatomic.h>

#include <stddef.h>

/* Pass as `upto` to migrate to the newest schema the backend knows. */
#define RG__SCHEMA_LATEST (-1)

struct rg__store_ops {
    const char *name; /* "sqlite", "postgres" */

    /* Opens the backend at target (the URL without its scheme), creating
     * it and applying migrations up to schema version upto (or every one
     * with RG__SCHEMA_LATEST). *impl receives the backend's state, freed by
     * close. */
    int (*open)(const char *target, int upto, void **impl, rg_err *err);
    void (*close)(void *impl);
    int (*schema_version)(void *impl);

    int (*audit_append)(void *impl, rg_audit_rec *a, rg_err *err);
    int (*audit_list)(void *impl, const rg_audit_filter *f,
                      int (*fn)(void *ctx, const rg_audit_rec *a), void *ctx,
                      rg_err *err);

    int (*channel_create)(void *impl, rg_channel_rec *c,
                          const rg_audit_rec *audit, rg_err *err);
    int (*channel_get)(void *impl, const char *name, rg_channel_rec *out,
                       rg_err *err);
    int (*channel_list)(void *impl,
                        int (*fn)(void *ctx, const rg_channel_rec *c),
                        void *ctx, rg_err *err);

    int (*channel_set_preflight)(void *impl, const char *name,
                                 const rg_preflight_spec *spec,
                                 const rg_audit_rec *audit, rg_err *err);

    int (*artifact_put)(void *impl, const char *sha256, uint64_t size,
                        int64_t now_ms, const rg_audit_rec *audit, rg_err *err);
    int (*artifact_get)(void *impl, const char *sha256, uint64_t *size,
                        rg_err *err);

    int (*release_create)(void *impl, rg_release_rec *r,
                          const rg_audit_rec *audit, rg_err *err);
    int (*release_get)(void *impl, int64_t id, rg_release_rec *out,
                       rg_err *err);
    int (*release_find)(void *impl, const char *channel, int64_t version,
                        rg_release_rec *out, rg_err *err);
    int (*release_list)(void *impl, const char *channel,
                        int (*fn)(void *ctx, const rg_release_rec *r),
                        void *ctx, rg_err *err);

    int (*release_preflight_finish)(void *impl, int64_t id, bool passed,
                                    const char *detail, const char *result_json,
                                    int64_t done_ms, const rg_audit_rec *audit,
                                    rg_err *err);
    int (*release_lift_quarantine)(void *impl, int64_t id, int64_t at_ms,
                                   const rg_audit_rec *audit, rg_err *err);
    int (*release_preflight_result)(void *impl, int64_t id, char **json,
                                    rg_err *err);
    int (*release_preflight_pending)(void *impl,
                                     int (*fn)(void *ctx,
                                               const rg_release_rec *r),
                                     void *ctx, rg_err *err);

    int (*root_put)(void *impl, const rg_root_rec *r, const rg_audit_rec *audit,
                    rg_err *err);
    int (*root_list)(void *impl, int64_t after,
                     int (*fn)(void *ctx, const rg_root_rec *r), void *ctx,
                     rg_err *err);

    int (*rollout_create)(void *impl, rg_rollout_rec *r,
                          const rg_audit_rec *audit, rg_err *err);
    int (*rollout_get)(void *impl, int64_t id, rg_rollout_rec *out,
                       rg_err *err);
    int (*rollout_list)(void *impl, const rg_rollout_filter *f,
                        int (*fn)(void *ctx, const rg_rollout_rec *r),
                        void *ctx, rg_err *err);
    int (*rollout_transition)(void *impl, int64_t id,
                              const rg_rollout_status *cur,
                              const rg_rollout_status *next,
                              const rg_transition *tr, const char *actor,
                              const char *evidence_json,
                              const rg_audit_rec *audit, rg_err *err);
    int (*decision_list)(void *impl, int64_t rollout_id,
                         int (*fn)(void *ctx, const rg_decision_rec *d),
                         void *ctx, rg_err *err);

    int (*token_create)(void *impl, rg_token_rec *t, const rg_audit_rec *audit,
                        rg_err *err);
    int (*token_find)(void *impl, const char *hash, rg_token_rec *out,
                      rg_err *err);
    int (*token_list)(void *impl, int (*fn)(void *ctx, const rg_token_rec *t),
                      void *ctx, rg_err *err);
    int (*token_get)(void *impl, int64_t id, rg_token_rec *out, rg_err *err);
    int (*token_revoke)(void *impl, int64_t id, int64_t now_ms,
                        const rg_audit_rec *audit, rg_err *err);

    int (*enroll_key_create)(void *impl, rg_enroll_key_rec *k,
                             const rg_audit_rec *audit, rg_err *err);
    int (*enroll_key_use)(void *impl, const char *hash, int64_t now_ms,
                          rg_enroll_key_rec *out, rg_err *err);
    int (*enroll_key_list)(void *impl,
                           int (*fn)(void *ctx, const rg_enroll_key_rec *k),
                           void *ctx, rg_err *err);
    int (*enroll_key_get)(void *impl, int64_t id, rg_enroll_key_rec *out,
                          rg_err *err);
    int (*enroll_key_revoke)(void *impl, int64_t id, int64_t now_ms,
                             const rg_audit_rec *audit, rg_err *err);

    int (*endpoint_enroll)(void *impl, const rg_endpoint_rec *e,
                           const rg_audit_rec *audit, rg_err *err);
    int (*endpoint_reset_identity)(void *impl, const char *id, int64_t at_ms,
                                   const rg_audit_rec *audit, rg_err *err);
    int (*endpoint_flush)(void *impl, const rg_endpoint_seen *batch, size_t n,
                          rg_err *err);
    int (*endpoint_load)(void *impl,
                         int (*fn)(void *ctx, const rg_endpoint_rec *e),
                         void *ctx, rg_err *err);
    int (*tail_heads)(void *impl, rg_tail_heads *out, rg_err *err);
    int (*endpoints_after)(void *impl, int64_t after, size_t max,
                           int (*fn)(void *ctx, const rg_endpoint_tail *e),
                           void *ctx, rg_err *err);
    int (*events_after)(void *impl, int64_t after, size_t max,
                        int (*fn)(void *ctx, const rg_event_tail *e), void *ctx,
                        rg_err *err);
    int (*offers_after)(void *impl, int64_t after, size_t max,
                        int (*fn)(void *ctx, const rg_offer_rec *o), void *ctx,
                        rg_err *err);

    int (*events_record)(void *impl, const rg_event_rec *ev, size_t n,
                         size_t *n_new, rg_err *err);
    /* Group commit (store.h, "group commit"): w[0 .. n) in one transaction,
     * each write in a savepoint. NULL: each write is applied alone by
     * events_record and offers_record. */
    int (*write_group)(void *impl, rg_store_write *const *w, size_t n,
                       rg_err *err);
    int (*event_counts)(void *impl, int64_t release_id, rg_event_counts *out,
                        rg_err *err);
    int (*event_list)(void *impl, int64_t release_id,
                      int (*fn)(void *ctx, const rg_event_rec *e), void *ctx,
                      rg_err *err);
    int (*event_list_endpoint)(void *impl, const char *endpoint_id, size_t max,
                               int (*fn)(void *ctx, const rg_event_rec *e),
                               void *ctx, rg_err *err);
    int (*events_prune)(void *impl, int64_t before_ms, size_t max,
                        size_t *n_deleted, rg_err *err);
    int (*offers_record)(void *impl, const char *endpoint_id,
                         const int64_t *releases, size_t n, int64_t now_ms,
                         rg_err *err);
    int (*offer_check)(void *impl, const char *endpoint_id, int64_t release_id,
                       rg_err *err);
    int (*offer_artifact)(void *impl, const char *endpoint_id,
                          const char *sha256, rg_err *err);
    int (*artifact_public)(void *impl, const char *sha256, rg_err *err);
    int (*decision_append)(void *impl, int64_t rollout_id, int64_t at_ms,
                           const rg_transition *tr, const char *actor,
                           const char *evidence_json, rg_err *err);
    int (*policy_create)(void *impl, rg_policy_rec *p,
                         const rg_audit_rec *audit, rg_err *err);
    int (*policy_list)(void *impl, int (*fn)(void *ctx, const rg_policy_rec *p),
                       void *ctx, rg_err *err);
    int (*policy_delete)(void *impl, int64_t id, rg_policy_rec *out,
                         const rg_audit_rec *audit, rg_err *err);
    int (*flag_put)(void *impl, rg_flag_rec *f, int64_t expect,
                    const rg_audit_rec *audit, rg_err *err);
    int (*flag_list)(void *impl, const char *environment, const char *name,
                     int (*fn)(void *ctx, const rg_flag_rec *f), void *ctx,
                     rg_err *err);
    int (*flag_stamp)(void *impl, const char *environment, int64_t *versions,
                      int64_t *newest_ms, rg_err *err);
    int (*segment_put)(void *impl, rg_segment_rec *g, int64_t expect,
                       const rg_audit_rec *audit, rg_err *err);
    /* name NULL: the current versions; else name's history */
    int (*segment_list)(void *impl, const char *environment, const char *name,
                        int (*fn)(void *ctx, const rg_segment_rec *g),
                        void *ctx, rg_err *err);
    int (*flag_rollout_put)(void *impl, rg_flag_rollout_rec *r,
                            const rg_audit_rec *audit, rg_err *err);
    int (*flag_rollout_list)(void *impl, const char *environment,
                             const char *name, bool active_only,
                             int (*fn)(void *ctx, const rg_flag_rollout_rec *r),
                             void *ctx, rg_err *err);
    int (*client_token_create)(void *impl, rg_client_token_rec *t,
                               const rg_audit_rec *audit, rg_err *err);
    int (*client_token_find)(void *impl, const char *hash,
                             rg_client_token_rec *out, rg_err *err);
    int (*client_token_list)(void *impl,
                             int (*fn)(void *ctx, const rg_client_token_rec *t),
                             void *ctx, rg_err *err);
    int (*client_token_get)(void *impl, int64_t id, rg_client_token_rec *out,
                            rg_err *err);
    int (*client_token_revoke)(void *impl, int64_t id, int64_t now_ms,
                               const rg_audit_rec *audit, rg_err *err);
    int (*flag_reverts_record)(void *impl, const rg_flag_revert_rec *r,
                               size_t n, rg_err *err);
    int (*flag_reverts_endpoint)(void *impl, const char *endpoint_id,
                                 size_t max,
                                 int (*fn)(void *ctx,
                                           const rg_flag_revert_rec *r),
                                 void *ctx, rg_err *err);
    int (*webhook_create)(void *impl, rg_webhook_rec *w,
                          const rg_audit_rec *audit, rg_err *err);
    int (*webhook_get)(void *impl, int64_t id, rg_webhook_rec *out,
                       rg_err *err);
    int (*webhook_list)(void *impl,
                        int (*fn)(void *ctx, const rg_webhook_rec *w),
                        void *ctx, rg_err *err);
    int (*webhook_delete)(void *impl, int64_t id, rg_webhook_rec *out,
                          const rg_audit_rec *audit, rg_err *err);
    int (*webhook_test)(void *impl, int64_t id, int64_t now_ms,
                        rg_delivery_rec *out, const rg_audit_rec *audit,
                        rg_err *err);
    int (*delivery_list)(void *impl, int64_t webhook_id,
                         int (*fn)(void *ctx, const rg_delivery_rec *d),
                         void *ctx, rg_err *err);
    int (*attempt_list)(void *impl, int64_t delivery_id,
                        int (*fn)(void *ctx, const rg_attempt_rec *a),
                        void *ctx, rg_err *err);
    int (*delivery_due)(void *impl, int64_t now_ms, size_t max,
                        int (*fn)(void *ctx, const rg_delivery_rec *d,
                                  const rg_webhook_rec *w),
                        void *ctx, rg_err *err);
    int (*delivery_attempt)(void *impl, const rg_attempt_rec *a,
                            const char *state, int64_t next_ms, rg_err *err);
    int (*deliveries_prune)(void *impl, int64_t before_ms, size_t max,
                            size_t *n_deleted, rg_err *err);
};

struct rg__group;

struct rg_store {
    const struct rg__store_ops *ops;
    void *impl;                   /* the backend's state, owned by the store */
    _Atomic uint64_t flag_writes; /* rg_store_flag_writes */
    struct rg__group *group;      /* its group commit (group.h), owned */
};

/* The store on SQLite and on PostgreSQL: sqlstore.c on the drivers of
 * sqlite.c and pg.c (sqldrv.h). */
extern const struct rg__store_ops rg__sqlite_ops;
extern const struct rg__store_ops rg__pg_ops;

/* rg_store_open with a schema version cap: upto is a version number or
 * RG__SCHEMA_LATEST. Tests use it to build databases of an older schema
 * and check that opening them migrates. Same returns and ownership as
 * rg_store_open. */
int rg__store_open_upto(const char *url, int upto, rg_store **out, rg_err *err);

#endif
