/*
 * api.h - the admin API handlers (one api_<concept>.c per resource) and
 * the request helpers they share.
 *
 * Handlers have the rg_handler signature (server.h): they read req (the
 * router has matched the route, filled req->params and authenticated the
 * caller into req->auth) and fill resp with a JSON object or the error
 * shape. Every mutating handler writes its audit row in the same store
 * transaction as the change (rg_audit_init, auth.h).
 */
#ifndef RG_API_H
#define RG_API_H

#include "server/server.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* api.c */
void rg_api_healthz(rg_server *srv, rg_req *req, rg_resp *resp);
/* GET /v1/cluster: this node and who leads (cluster.h, rg_cluster_json). */
void rg_api_cluster(rg_server *srv, rg_req *req, rg_resp *resp);

/* api_artifacts.c: PUT /v1/artifacts (the body arrives through the
 * upload sink the router installs: rg_api_artifact_sink). */
void rg_api_artifact_put(rg_server *srv, rg_req *req, rg_resp *resp);
/* Installs the artifact upload as req's body sink. Returns 0 or fills
 * err (RG_EIO). */
int rg_api_artifact_sink(rg_server *srv, rg_req *req, rg_err *err);
/* GET /v1/artifacts/SHA?exp=E&sig=S: no token, the signature (url_sign.h)
 * grants it; 404 when the server signs no URLs. */
void rg_api_artifact_get(rg_server *srv, rg_req *req, rg_resp *resp);
/* GET /v1/public/artifacts/SHA: no token; the bytes of a release of a
 * public channel, or of a delta to one, cacheable for a year; 404 for
 * any other digest (docs/caching.md). */
void rg_api_artifact_public(rg_server *srv, rg_req *req, rg_resp *resp);

/* api_channels.c */
void rg_api_channel_create(rg_server *srv, rg_req *req, rg_resp *resp);
void rg_api_channel_list(rg_server *srv, rg_req *req, rg_resp *resp);
/* PUT /v1/channels/{name}/preflight: the body is the preflight object, or
 * null to remove it (docs/api.md). */
void rg_api_channel_preflight(rg_server *srv, rg_req *req, rg_resp *resp);

/* api_releases.c */
void rg_api_release_create(rg_server *srv, rg_req *req, rg_resp *resp);
void rg_api_release_list(rg_server *srv, rg_req *req, rg_resp *resp);
void rg_api_release_get(rg_server *srv, rg_req *req, rg_resp *resp);
/* Records that release {id}'s quarantine is lifted (body {"reason"}),
 * audited as release.lift_quarantine; agents that quarantined its digest
 * apply it again (docs/agent.md). Answers the release. */
void rg_api_release_lift_quarantine(rg_server *srv, rg_req *req, rg_resp *resp);

/* api_rollouts.c */
void rg_api_rollout_create(rg_server *srv, rg_req *req, rg_resp *resp);
void rg_api_rollout_list(rg_server *srv, rg_req *req, rg_resp *resp);
void rg_api_rollout_get(rg_server *srv, rg_req *req, rg_resp *resp);
void rg_api_rollout_pause(rg_server *srv, rg_req *req, rg_resp *resp);
void rg_api_rollout_resume(rg_server *srv, rg_req *req, rg_resp *resp);
void rg_api_rollout_abort(rg_server *srv, rg_req *req, rg_resp *resp);
void rg_api_rollout_rollback(rg_server *srv, rg_req *req, rg_resp *resp);
void rg_api_rollout_promote(rg_server *srv, rg_req *req, rg_resp *resp);
/* GET /v1/rollouts/{id}/band: the gate's evidence over time as confidence
 * bands per stratum (api_band.c, docs/dashboard.md). */
void rg_api_rollout_band(rg_server *srv, rg_req *req, rg_resp *resp);
/* Whether release rel (of channel ch) may enter a rollout with plan, by
 * its preflight: never when it failed or is still pending; the emergency
 * lane (plan "emergency" or an emergency release) only when it passed;
 * any plan only when it passed if ch has a preflight now. Returns 0 or
 * RG_ECONFLICT (field "release") saying why. Pure. */
int rg__api_rollout_admits(const rg_release_rec *rel, const rg_channel_rec *ch,
                           const rg_plan *plan, rg_err *err);

/* api_tokens.c */
void rg_api_token_create(rg_server *srv, rg_req *req, rg_resp *resp);
void rg_api_token_list(rg_server *srv, rg_req *req, rg_resp *resp);
void rg_api_token_revoke(rg_server *srv, rg_req *req, rg_resp *resp);
/* GET /v1/whoami: the calling token's {"token_id", "name", "role"} (the
 * dashboard shows what the caller may do from it). */
void rg_api_token_whoami(rg_server *srv, rg_req *req, rg_resp *resp);

/* api_policies.c: group policies (policy.h, docs/api.md) */
void rg_api_policy_create(rg_server *srv, rg_req *req, rg_resp *resp);
void rg_api_policy_list(rg_server *srv, rg_req *req, rg_resp *resp);
void rg_api_policy_delete(rg_server *srv, rg_req *req, rg_resp *resp);

/* api_enroll_keys.c */
void rg_api_enroll_key_create(rg_server *srv, rg_req *req, rg_resp *resp);
void rg_api_enroll_key_list(rg_server *srv, rg_req *req, rg_resp *resp);
void rg_api_enroll_key_revoke(rg_server *srv, rg_req *req, rg_resp *resp);

/* api_identity.c: lets endpoint {id} be enrolled afresh once without its
 * current token (body {"reason"}), audited as endpoint.reset_identity.
 * Answers {"id", "identity_reset_ms"}; 404 for an unknown endpoint. */
void rg_api_endpoint_reset_identity(rg_server *srv, rg_req *req, rg_resp *resp);

/* api_endpoints.c: the fleet's admin views, GET /v1/endpoints (filtered
 * by rollout and state, stratum, installed version, tag; paginated) and
 * GET /v1/endpoints/{id} (with its event history); docs/api.md. */
void rg_api_endpoints_list(rg_server *srv, rg_req *req, rg_resp *resp);
void rg_api_endpoint_get(rg_server *srv, rg_req *req, rg_resp *resp);

/* api_fleet.c: GET /v1/fleet, the fleet by stratum and installed release
 * with its online share, from one fleet scan kept for a few seconds. */
void rg_api_fleet_summary(rg_server *srv, rg_req *req, rg_resp *resp);

/* api_flags.c, api_flag_eval.c, api_unleash.c: feature flags
 * (docs/flags.md) and the Unleash client API */
void rg_api_flag_create(rg_server *srv, rg_req *req, rg_resp *resp);
void rg_api_flag_list(rg_server *srv, rg_req *req, rg_resp *resp);
void rg_api_flag_get(rg_server *srv, rg_req *req, rg_resp *resp);
void rg_api_flag_update(rg_server *srv, rg_req *req, rg_resp *resp);
void rg_api_flag_enable(rg_server *srv, rg_req *req, rg_resp *resp);
void rg_api_flag_disable(rg_server *srv, rg_req *req, rg_resp *resp);
void rg_api_flag_eval(rg_server *srv, rg_req *req, rg_resp *resp);
/* api_flag_rollout.c: guarded flag rollouts */
void rg_api_flag_rollout_start(rg_server *srv, rg_req *req, rg_resp *resp);
void rg_api_flag_rollout_get(rg_server *srv, rg_req *req, rg_resp *resp);
void rg_api_flag_rollout_pause(rg_server *srv, rg_req *req, rg_resp *resp);
void rg_api_flag_rollout_resume(rg_server *srv, rg_req *req, rg_resp *resp);
void rg_api_flag_rollout_abort(rg_server *srv, rg_req *req, rg_resp *resp);
void rg_api_client_token_create(rg_server *srv, rg_req *req, rg_resp *resp);
void rg_api_client_token_list(rg_server *srv, rg_req *req, rg_resp *resp);
void rg_api_client_token_revoke(rg_server *srv, rg_req *req, rg_resp *resp);
/* The client token is checked by the handler (Authorization: <token>). */
void rg_api_client_features(rg_server *srv, rg_req *req, rg_resp *resp);
void rg_api_client_accept(rg_server *srv, rg_req *req, rg_resp *resp);
/* The environment named by body's "environment" (body NULL: the query's),
 * else "default"; *env points into body or req. Returns 0 or RG_EINVAL
 * (field "environment") for a name outside RG_CHANNEL_NAME_RULE. */
int rg__api_flag_env(const rg_req *req, const json_t *body, const char **env,
                     rg_err *err);

/* Builds env's document with chg applied (flagdoc.h) and parses it
 * strictly: 0, or the first problem with err->field naming it as
 * "feature.<path>" or "segment.<path>" when it is in the change. */
struct rg_flagdoc_change;
int rg__api_flagdoc_check(rg_server *srv, const char *env,
                          const struct rg_flagdoc_change *chg, rg_err *err);

/* api_segments.c: flag segments (docs/flags.md) */
void rg_api_segment_create(rg_server *srv, rg_req *req, rg_resp *resp);
void rg_api_segment_list(rg_server *srv, rg_req *req, rg_resp *resp);
void rg_api_segment_get(rg_server *srv, rg_req *req, rg_resp *resp);
void rg_api_segment_update(rg_server *srv, rg_req *req, rg_resp *resp);
void rg_api_segment_delete(rg_server *srv, rg_req *req, rg_resp *resp);

/* api_webhooks.c: subscriptions to rollout events (docs/webhooks.md) */
void rg_api_webhook_create(rg_server *srv, rg_req *req, rg_resp *resp);
void rg_api_webhook_list(rg_server *srv, rg_req *req, rg_resp *resp);
void rg_api_webhook_get(rg_server *srv, rg_req *req, rg_resp *resp);
void rg_api_webhook_delete(rg_server *srv, rg_req *req, rg_resp *resp);
void rg_api_webhook_deliveries(rg_server *srv, rg_req *req, rg_resp *resp);
void rg_api_webhook_test(rg_server *srv, rg_req *req, rg_resp *resp);

/* api_audit.c */
void rg_api_audit_list(rg_server *srv, rg_req *req, rg_resp *resp);

/* root metadata (api_root.c, docs/signing.md) */
/* The newest stored root document into *out (a new reference, NULL when
 * none is stored). Returns 0 or the store's error (RG_EIO: not JSON). */
int rg__api_root_newest(rg_server *srv, json_t **out, rg_err *err);
void rg_api_root_put(rg_server *srv, rg_req *req, rg_resp *resp);
void rg_api_root_list(rg_server *srv, rg_req *req, rg_resp *resp);
void rg_api_agent_root(rg_server *srv, rg_req *req, rg_resp *resp);

/* --- id-numbered revocable records (api_revocable.c) ------------------ */

/* Calls the visitor of rg__api_revocable.each for one record (rec: the
 * store's record, id its id). Returns what a store list callback returns:
 * 0 to go on, non-zero to stop. */
typedef int (*rg__api_visit)(void *ctx, int64_t id, const void *rec);

/* A visitor and its context, for a resource's typed store callback to
 * call: visit(ctx, rec->id, rec). */
typedef struct rg__api_visitor {
    rg__api_visit visit;
    void *ctx;
} rg__api_visitor;

/* An admin resource whose records are listed in pages by id and revoked
 * by id: admin tokens (api_tokens.c), enrollment keys (api_enroll_keys.c).
 * Static data; the functions are the resource's store calls. */
typedef struct rg__api_revocable {
    const char *kind; /* audit action "<kind>.revoke", target "<kind>:<id>" */
    const char *list_key; /* the list answer's array */
    /* Calls visit(ctx, id, rec) for every record in id order, as the
     * store's list does; returns the store list's result. */
    int (*each)(rg_store *s, rg__api_visit visit, void *ctx, rg_err *err);
    /* The record's answer (new reference, NULL when out of memory). */
    json_t *(*to_json)(const void *rec);
    /* The answer of record id read by id (rg_store_token_get...): a new
     * reference, or NULL with err set (RG_ENOTFOUND, RG_ENOMEM...). */
    json_t *(*get_json)(rg_store *s, int64_t id, rg_err *err);
    /* The store's revoke (rg_store_token_revoke...). */
    int (*revoke)(rg_store *s, int64_t id, int64_t now_ms,
                  const rg_audit_rec *audit, rg_err *err);
} rg__api_revocable;

/* GET: one page of r's records (page.h), under r->list_key. */
void rg__api_list(rg_server *srv, rg_req *req, rg_resp *resp,
                  const rg__api_revocable *r);

/* DELETE .../{id}: revokes record {id} (audited as <kind>.revoke) and
 * answers it; 404 for an unknown id, the store's 409 when it may not be. */
void rg__api_revoke(rg_server *srv, rg_req *req, rg_resp *resp,
                    const rg__api_revocable *r);

/* --- shared helpers (api.c) ------------------------------------------ */

/* Parses req's body as a JSON object whose keys are all in the NULL-ended
 * allowed list. Returns a new reference (caller json_decref's), or NULL
 * after filling resp with the 400. */
json_t *rg__api_body(rg_req *req, rg_resp *resp, const char *const *allowed);

/* Reads path parameter i as a positive integer id. Returns 0, or fills
 * resp (400 naming field) and returns RG_EINVAL. */
int rg__api_param_id(const rg_req *req, size_t i, const char *field,
                     int64_t *out, rg_resp *resp);

/* Reads query argument name as an integer in [min, max]; *present tells
 * whether it was given. Returns 0 or fills resp (400) and returns
 * RG_EINVAL. */
int rg__api_query_int(const rg_req *req, const char *name, int64_t min,
                      int64_t max, int64_t *out, bool *present, rg_resp *resp);

/* Tells the check-in path that committed state changed
 * (rg_server_state_changed); a failure is logged, not returned: the change
 * itself is durable and the cache catches up on the next change. */
void rg__api_state_changed(rg_server *srv);

/* Parses a channel's preflight object (docs/api.md) into *out: v NULL or
 * null gives an empty spec (no preflight); else engine (required: an
 * absolute path or a program name, executable: found in engine_dir, or
 * in $PATH when engine_dir is "", engine_path.h), corpus (sha256 or null),
 * timeout_s (1..3600, default 30) and memory_mb (0..65536, default 1024),
 * nothing else. Returns 0 or RG_EINVAL with err's field prefixed by
 * prefix ("preflight." in a channel body, "" when the body is the
 * object). Whether the corpus artifact exists is the store's check. */
int rg__api_preflight_parse(const json_t *v, const char *prefix,
                            const char *engine_dir, rg_preflight_spec *out,
                            rg_err *err);

/* The API form of a channel's preflight spec: null when there is none
 * (new reference). */
json_t *rg__api_preflight_json(const rg_preflight_spec *p);

/* A JSON integer, or null when v is 0 (ids and times meaning "none"). */
json_t *rg__json_id_or_null(int64_t v);

#endif
