/* store.c - see store.h. Parses the URL, validates arguments once for
 * every backend, and dispatches through the backend's table (backend.h). */
#include "store/backend.h"
#include "store/group.h"

#include "common/crypto.h"
#include "common/event_type.h"
#include "model/activation.h"

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* --- argument checks shared by every backend --------------------------- */

/* s lives in a char array of cap bytes: it must end inside it, and be
 * non-empty when required. */
static int text_in(const char *s, size_t cap, bool required, const char *what,
                   rg_err *err)
{
    size_t n = strnlen(s, cap);
    if (n == cap)
        return rg_err_field(err, RG_EINVAL, what, "%s: longer than %zu bytes",
                            what, cap - 1);
    if (required && n == 0)
        return rg_err_field(err, RG_EINVAL, what, "%s: required", what);
    return 0;
}

#define TEXT(rec, f, required, what)                                           \
    text_in((rec)->f, sizeof(rec)->f, (required), (what), err)

/* s is a pointer argument of at most max bytes (NULL counts as empty). */
static int text_ptr(const char *s, size_t max, bool required, const char *what,
                    rg_err *err)
{
    size_t n = s ? strnlen(s, max + 1) : 0;
    if (n > max)
        return rg_err_field(err, RG_EINVAL, what, "%s: longer than %zu bytes",
                            what, max);
    if (required && n == 0)
        return rg_err_field(err, RG_EINVAL, what, "%s: required", what);
    return 0;
}

static int sha256_arg(const char *hex, const char *what, rg_err *err)
{
    if (!hex || !rg_sha256_hex_valid(hex))
        return rg_err_field(err, RG_EINVAL, what,
                            "%s: must be 64 lower-case hex digits", what);
    return 0;
}

/* s must be a JSON object (or "" when empty_ok). */
static int json_object_text(const char *s, bool empty_ok, const char *what,
                            rg_err *err)
{
    if (empty_ok && s[0] == '\0')
        return 0;
    json_t *v = json_loads(s, 0, NULL);
    bool ok = v && json_is_object(v);
    json_decref(v);
    if (!ok)
        return rg_err_field(err, RG_EINVAL, what, "%s: must be a JSON object",
                            what);
    return 0;
}

/* RG_ENOTFOUND unless name could be a stored channel's (a name of at
 * most RG_NAME_MAX bytes). */
static int channel_arg(const char *name, rg_err *err)
{
    if (!name || strnlen(name, RG_NAME_MAX + 1) > RG_NAME_MAX)
        return rg_err_set(err, RG_ENOTFOUND, "channel not found");
    return 0;
}

static bool one_of(const char *s, const char *const *names)
{
    for (; *names; names++)
        if (strcmp(s, *names) == 0)
            return true;
    return false;
}

static int check_audit(const rg_audit_rec *a, rg_err *err)
{
    int rc;
    if (!a)
        return 0;
    if ((rc = TEXT(a, actor, true, "audit.actor")) ||
        (rc = TEXT(a, role, true, "audit.role")) ||
        (rc = TEXT(a, action, true, "audit.action")) ||
        (rc = TEXT(a, target, false, "audit.target")) ||
        (rc = TEXT(a, reason, false, "audit.reason")) ||
        (rc = TEXT(a, source, false, "audit.source")) ||
        (rc = TEXT(a, detail, false, "audit.detail")))
        return rc;
    return 0;
}

static int check_status(const rg_rollout_status *st, const char *what,
                        rg_err *err)
{
    if (!st || st->state < RG_RO_PENDING || st->state >= RG_RO_N_STATES ||
        st->wave < 0 || st->share_ppm > 1000000u)
        return rg_err_field(err, RG_EINVAL, what, "%s: not a valid status",
                            what);
    return 0;
}

/* A preflight spec: empty (no preflight) or complete and in range. */
static int check_preflight(const rg_preflight_spec *p, rg_err *err)
{
    int rc;
    if ((rc = TEXT(p, engine, false, "preflight.engine")) ||
        (rc = TEXT(p, corpus, false, "preflight.corpus")))
        return rc;
    if (!p->engine[0]) {
        if (p->corpus[0] || p->timeout_s || p->memory_mb)
            return rg_err_field(err, RG_EINVAL, "preflight.engine",
                                "preflight: an engine is required");
        return 0;
    }
    for (const char *c = p->engine; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            return rg_err_field(err, RG_EINVAL, "preflight.engine",
                                "preflight.engine: control characters");
    if (p->corpus[0] && (rc = sha256_arg(p->corpus, "preflight.corpus", err)))
        return rc;
    if (p->timeout_s < 1 || p->timeout_s > RG_PREFLIGHT_TIMEOUT_MAX)
        return rg_err_field(err, RG_EINVAL, "preflight.timeout_s",
                            "preflight.timeout_s %lld: must be 1..%d",
                            (long long)p->timeout_s, RG_PREFLIGHT_TIMEOUT_MAX);
    if (p->memory_mb < 0 || p->memory_mb > RG_PREFLIGHT_MEMORY_MAX)
        return rg_err_field(err, RG_EINVAL, "preflight.memory_mb",
                            "preflight.memory_mb %lld: must be 0..%d",
                            (long long)p->memory_mb, RG_PREFLIGHT_MEMORY_MAX);
    return 0;
}

static const char *const urgencies[] = {"standard", "emergency", NULL};
static const char *const roles[] = {"viewer", "operator", "admin", NULL};

/* --- opening ------------------------------------------------------------ */

static int write_group(void *ctx, rg_store_write *const *w, size_t n,
                       rg_err *err);
static int check_events(const rg_event_rec *ev, size_t n, rg_err *err);
static int check_offers(const char *endpoint_id, const int64_t *releases,
                        size_t n, rg_err *err);

int rg__store_open_upto(const char *url, int upto, rg_store **out, rg_err *err)
{
    const struct rg__store_ops *ops = &rg__sqlite_ops;
    const char *target = url;
    rg_store *s = NULL;
    int rc;

    *out = NULL;
    if (!url || !*url)
        return rg_err_set(err, RG_EINVAL, "store url: required");
    if (strncmp(url, "postgres://", 11) == 0 ||
        strncmp(url, "postgresql://", 13) == 0)
        ops = &rg__pg_ops; /* libpq takes the whole URL */
    else if (strncmp(url, "sqlite:", 7) == 0)
        target = url + 7;
    if (!*target)
        return rg_err_set(err, RG_EINVAL, "store '%s': empty path", url);

    s = calloc(1, sizeof *s);
    if (!s)
        return rg_err_set(err, RG_ENOMEM, "store '%s': out of memory", url);
    s->ops = ops;
    if ((rc = ops->open(target, upto, &s->impl, err))) {
        free(s);
        return rc;
    }
    if ((rc = rg__group_start(write_group, s, RG_STORE_GROUP_MAX, &s->group,
                              err))) {
        rg_store_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

int rg_store_open(const char *url, rg_store **out, rg_err *err)
{
    return rg__store_open_upto(url, RG__SCHEMA_LATEST, out, err);
}

void rg_store_close(rg_store *s)
{
    if (!s)
        return;
    rg__group_stop(s->group); /* commits what is queued */
    s->ops->close(s->impl);
    free(s);
}

int rg_store_schema_version(rg_store *s)
{
    return s->ops->schema_version(s->impl);
}

/* --- audit ---------------------------------------------------------------- */

int rg_store_audit_append(rg_store *s, rg_audit_rec *a, rg_err *err)
{
    int rc;
    if (!a)
        return rg_err_set(err, RG_EINVAL, "audit: required");
    if ((rc = check_audit(a, err)))
        return rc;
    return s->ops->audit_append(s->impl, a, err);
}

int rg_store_audit_list(rg_store *s, const rg_audit_filter *f,
                        int (*fn)(void *ctx, const rg_audit_rec *a), void *ctx,
                        rg_err *err)
{
    rg_audit_filter all = {0};
    return s->ops->audit_list(s->impl, f ? f : &all, fn, ctx, err);
}

/* --- channels ------------------------------------------------------------- */

int rg_store_channel_create(rg_store *s, rg_channel_rec *c,
                            const rg_audit_rec *audit, rg_err *err)
{
    int rc;
    if ((rc = TEXT(c, name, true, "name")) ||
        (rc = TEXT(c, description, false, "description")) ||
        (rc = check_preflight(&c->preflight, err)) ||
        (rc = check_audit(audit, err)))
        return rc;
    return s->ops->channel_create(s->impl, c, audit, err);
}

int rg_store_channel_get(rg_store *s, const char *name, rg_channel_rec *out,
                         rg_err *err)
{
    int rc = channel_arg(name, err);
    if (rc)
        return rc;
    return s->ops->channel_get(s->impl, name, out, err);
}

int rg_store_channel_list(rg_store *s,
                          int (*fn)(void *ctx, const rg_channel_rec *c),
                          void *ctx, rg_err *err)
{
    return s->ops->channel_list(s->impl, fn, ctx, err);
}

int rg_store_channel_set_preflight(rg_store *s, const char *name,
                                   const rg_preflight_spec *spec,
                                   const rg_audit_rec *audit, rg_err *err)
{
    static const rg_preflight_spec none;
    int rc;
    if (!spec)
        spec = &none;
    if ((rc = check_preflight(spec, err)) || (rc = check_audit(audit, err)))
        return rc;
    if ((rc = channel_arg(name, err)))
        return rc;
    return s->ops->channel_set_preflight(s->impl, name, spec, audit, err);
}

/* --- artifacts ------------------------------------------------------------ */

int rg_store_artifact_put(rg_store *s, const char *sha256, uint64_t size,
                          int64_t now_ms, const rg_audit_rec *audit,
                          rg_err *err)
{
    int rc;
    if ((rc = sha256_arg(sha256, "sha256", err)) ||
        (rc = check_audit(audit, err)))
        return rc;
    if (size > INT64_MAX)
        return rg_err_field(err, RG_EINVAL, "size",
                            "artifact '%s': size too large", sha256);
    return s->ops->artifact_put(s->impl, sha256, size, now_ms, audit, err);
}

int rg_store_artifact_get(rg_store *s, const char *sha256, uint64_t *size,
                          rg_err *err)
{
    if (!sha256 || !rg_sha256_hex_valid(sha256))
        return rg_err_set(err, RG_ENOTFOUND, "artifact not found");
    return s->ops->artifact_get(s->impl, sha256, size, err);
}

/* --- releases ------------------------------------------------------------- */

int rg_store_release_create(rg_store *s, rg_release_rec *r,
                            const rg_audit_rec *audit, rg_err *err)
{
    int rc;
    if ((rc = TEXT(r, channel, true, "channel")) ||
        (rc = TEXT(r, sha256, true, "artifact")) ||
        (rc = sha256_arg(r->sha256, "artifact", err)) ||
        (rc = TEXT(r, notes, true, "notes")) ||
        (rc = TEXT(r, urgency, true, "urgency")) ||
        (rc = TEXT(r, created_by, false, "created_by")) ||
        (rc = TEXT(r, metadata, false, "metadata")) ||
        (rc = check_audit(audit, err)))
        return rc;
    if (r->version < 1)
        return rg_err_field(err, RG_EINVAL, "version",
                            "release version %lld: must be at least 1",
                            (long long)r->version);
    if (!one_of(r->urgency, urgencies))
        return rg_err_field(err, RG_EINVAL, "urgency",
                            "urgency '%s': must be standard or emergency",
                            r->urgency);
    if (r->activation_max_ms == 0)
        r->activation_max_ms = rg_activation_default_max_ms(r->activation);
    if ((rc = rg_activation_check(r->activation, r->activation_max_ms, err)))
        return rc;
    return s->ops->release_create(s->impl, r, audit, err);
}

int rg_store_root_put(rg_store *s, const rg_root_rec *r,
                      const rg_audit_rec *audit, rg_err *err)
{
    int rc;
    if ((rc = TEXT(r, digest, true, "digest")) ||
        (rc = sha256_arg(r->digest, "digest", err)) ||
        (rc = TEXT(r, created_by, false, "created_by")) ||
        (rc = text_ptr(r->json, RG_ROOT_MAX, true, "root", err)) ||
        (rc = check_audit(audit, err)))
        return rc;
    if (r->version < 1)
        return rg_err_field(err, RG_EINVAL, "version",
                            "root version %lld: must be at least 1",
                            (long long)r->version);
    return s->ops->root_put(s->impl, r, audit, err);
}

int rg_store_root_list(rg_store *s, int64_t after,
                       int (*fn)(void *ctx, const rg_root_rec *r), void *ctx,
                       rg_err *err)
{
    return s->ops->root_list(s->impl, after, fn, ctx, err);
}

int rg_store_release_get(rg_store *s, int64_t id, rg_release_rec *out,
                         rg_err *err)
{
    return s->ops->release_get(s->impl, id, out, err);
}

int rg_store_release_find(rg_store *s, const char *channel, int64_t version,
                          rg_release_rec *out, rg_err *err)
{
    int rc = channel_arg(channel, err);
    if (rc)
        return rc;
    return s->ops->release_find(s->impl, channel, version, out, err);
}

int rg_store_release_list(rg_store *s, const char *channel,
                          int (*fn)(void *ctx, const rg_release_rec *r),
                          void *ctx, rg_err *err)
{
    int rc = channel ? channel_arg(channel, err) : 0;
    if (rc)
        return rc;
    return s->ops->release_list(s->impl, channel, fn, ctx, err);
}

int rg_store_release_preflight_finish(rg_store *s, int64_t id, bool passed,
                                      const char *detail,
                                      const char *result_json, int64_t done_ms,
                                      const rg_audit_rec *audit, rg_err *err)
{
    int rc;
    if ((rc = text_ptr(detail, 255, false, "preflight.detail", err)) ||
        (rc = text_ptr(result_json, RG_PREFLIGHT_RESULT_MAX, true,
                       "preflight.result", err)) ||
        (rc = json_object_text(result_json, false, "preflight.result", err)) ||
        (rc = check_audit(audit, err)))
        return rc;
    return s->ops->release_preflight_finish(s->impl, id, passed,
                                            detail ? detail : "", result_json,
                                            done_ms, audit, err);
}

int rg_store_release_lift_quarantine(rg_store *s, int64_t id, int64_t at_ms,
                                     const rg_audit_rec *audit, rg_err *err)
{
    int rc;
    if (at_ms <= 0)
        return rg_err_field(err, RG_EINVAL, "at_ms",
                            "lift quarantine: time must be positive");
    if ((rc = check_audit(audit, err)))
        return rc;
    return s->ops->release_lift_quarantine(s->impl, id, at_ms, audit, err);
}

int rg_store_release_preflight_result(rg_store *s, int64_t id, char **json,
                                      rg_err *err)
{
    *json = NULL;
    return s->ops->release_preflight_result(s->impl, id, json, err);
}

int rg_store_release_preflight_pending(rg_store *s,
                                       int (*fn)(void *ctx,
                                                 const rg_release_rec *r),
                                       void *ctx, rg_err *err)
{
    return s->ops->release_preflight_pending(s->impl, fn, ctx, err);
}

/* --- rollouts ------------------------------------------------------------- */

int rg_store_rollout_create(rg_store *s, rg_rollout_rec *r,
                            const rg_audit_rec *audit, rg_err *err)
{
    int rc;
    if ((rc = TEXT(r, salt, true, "salt")) ||
        (rc = TEXT(r, created_by, false, "created_by")) ||
        (rc = check_status(&r->status, "status", err)) ||
        (rc = check_audit(audit, err)))
        return rc;
    if (r->plan.n_waves < 1 || r->plan.n_waves > RG_MAX_WAVES)
        return rg_err_field(err, RG_EINVAL, "plan", "plan '%.*s': %zu waves",
                            RG_PLAN_NAME_MAX, r->plan.name, r->plan.n_waves);
    return s->ops->rollout_create(s->impl, r, audit, err);
}

int rg_store_rollout_get(rg_store *s, int64_t id, rg_rollout_rec *out,
                         rg_err *err)
{
    return s->ops->rollout_get(s->impl, id, out, err);
}

int rg_store_rollout_list(rg_store *s, bool active_only,
                          int (*fn)(void *ctx, const rg_rollout_rec *r),
                          void *ctx, rg_err *err)
{
    rg_rollout_filter f = {.active_only = active_only, .state = -1};
    return s->ops->rollout_list(s->impl, &f, fn, ctx, err);
}

int rg_store_rollout_query(rg_store *s, const rg_rollout_filter *f,
                           int (*fn)(void *ctx, const rg_rollout_rec *r),
                           void *ctx, rg_err *err)
{
    return s->ops->rollout_list(s->impl, f, fn, ctx, err);
}

int rg_store_rollout_transition(rg_store *s, int64_t id,
                                const rg_rollout_status *cur,
                                const rg_rollout_status *next,
                                const rg_transition *tr, const char *actor,
                                const char *evidence_json,
                                const rg_audit_rec *audit, rg_err *err)
{
    int rc;
    if ((rc = check_status(cur, "cur", err)) ||
        (rc = check_status(next, "next", err)) ||
        (rc = text_ptr(actor, RG_NAME_MAX, true, "actor", err)) ||
        (rc = text_ptr(evidence_json, RG_EVIDENCE_MAX, false, "evidence",
                       err)) ||
        (rc = check_audit(audit, err)))
        return rc;
    if (!tr)
        return rg_err_field(err, RG_EINVAL, "transition",
                            "transition: required");
    if ((rc = TEXT(tr, reason, false, "reason")))
        return rc;
    if (evidence_json &&
        (rc = json_object_text(evidence_json, true, "evidence", err)))
        return rc;
    return s->ops->rollout_transition(s->impl, id, cur, next, tr, actor,
                                      evidence_json ? evidence_json : "", audit,
                                      err);
}

int rg_store_decision_append(rg_store *s, int64_t rollout_id, int64_t at_ms,
                             const rg_transition *tr, const char *actor,
                             const char *evidence_json, rg_err *err)
{
    int rc;
    if ((rc = text_ptr(actor, RG_NAME_MAX, true, "actor", err)) ||
        (rc = text_ptr(evidence_json, RG_EVIDENCE_MAX, false, "evidence", err)))
        return rc;
    if (!tr)
        return rg_err_field(err, RG_EINVAL, "transition",
                            "transition: required");
    if ((rc = TEXT(tr, reason, false, "reason")))
        return rc;
    if (evidence_json &&
        (rc = json_object_text(evidence_json, true, "evidence", err)))
        return rc;
    return s->ops->decision_append(s->impl, rollout_id, at_ms, tr, actor,
                                   evidence_json ? evidence_json : "", err);
}

int rg_store_decision_list(rg_store *s, int64_t rollout_id,
                           int (*fn)(void *ctx, const rg_decision_rec *d),
                           void *ctx, rg_err *err)
{
    return s->ops->decision_list(s->impl, rollout_id, fn, ctx, err);
}

/* --- admin tokens --------------------------------------------------------- */

int rg_store_token_create(rg_store *s, rg_token_rec *t,
                          const rg_audit_rec *audit, rg_err *err)
{
    int rc;
    if ((rc = TEXT(t, name, true, "name")) ||
        (rc = TEXT(t, role, true, "role")) ||
        (rc = TEXT(t, hash, true, "hash")) ||
        (rc = sha256_arg(t->hash, "hash", err)) ||
        (rc = TEXT(t, created_by, false, "created_by")) ||
        (rc = check_audit(audit, err)))
        return rc;
    if (!one_of(t->role, roles))
        return rg_err_field(err, RG_EINVAL, "role",
                            "role '%s': must be viewer, operator or admin",
                            t->role);
    return s->ops->token_create(s->impl, t, audit, err);
}

int rg_store_token_find(rg_store *s, const char *hash, rg_token_rec *out,
                        rg_err *err)
{
    if (!hash || !rg_sha256_hex_valid(hash))
        return rg_err_set(err, RG_ENOTFOUND, "token not found");
    return s->ops->token_find(s->impl, hash, out, err);
}

int rg_store_token_list(rg_store *s,
                        int (*fn)(void *ctx, const rg_token_rec *t), void *ctx,
                        rg_err *err)
{
    return s->ops->token_list(s->impl, fn, ctx, err);
}

int rg_store_token_get(rg_store *s, int64_t id, rg_token_rec *out, rg_err *err)
{
    return s->ops->token_get(s->impl, id, out, err);
}

int rg_store_token_revoke(rg_store *s, int64_t id, int64_t now_ms,
                          const rg_audit_rec *audit, rg_err *err)
{
    int rc;
    if ((rc = check_audit(audit, err)))
        return rc;
    if (now_ms <= 0)
        return rg_err_field(err, RG_EINVAL, "now_ms",
                            "token %lld: revocation time must be positive",
                            (long long)id);
    return s->ops->token_revoke(s->impl, id, now_ms, audit, err);
}

/* --- enrollment keys ------------------------------------------------------ */

int rg_store_enroll_key_create(rg_store *s, rg_enroll_key_rec *k,
                               const rg_audit_rec *audit, rg_err *err)
{
    int rc;
    if ((rc = TEXT(k, hash, true, "hash")) ||
        (rc = sha256_arg(k->hash, "hash", err)) ||
        (rc = TEXT(k, created_by, false, "created_by")) ||
        (rc = check_audit(audit, err)))
        return rc;
    if (k->uses_left != -1 && k->uses_left < 1)
        return rg_err_field(
            err, RG_EINVAL, "uses",
            "enrollment key uses %lld: must be -1 or at least 1",
            (long long)k->uses_left);
    return s->ops->enroll_key_create(s->impl, k, audit, err);
}

int rg_store_enroll_key_list(rg_store *s,
                             int (*fn)(void *ctx, const rg_enroll_key_rec *k),
                             void *ctx, rg_err *err)
{
    return s->ops->enroll_key_list(s->impl, fn, ctx, err);
}

int rg_store_enroll_key_get(rg_store *s, int64_t id, rg_enroll_key_rec *out,
                            rg_err *err)
{
    return s->ops->enroll_key_get(s->impl, id, out, err);
}

int rg_store_enroll_key_revoke(rg_store *s, int64_t id, int64_t now_ms,
                               const rg_audit_rec *audit, rg_err *err)
{
    int rc;
    if ((rc = check_audit(audit, err)))
        return rc;
    if (now_ms <= 0)
        return rg_err_set(err, RG_EINVAL,
                          "enrollment key %lld: revocation time must be "
                          "positive",
                          (long long)id);
    return s->ops->enroll_key_revoke(s->impl, id, now_ms, audit, err);
}

int rg_store_enroll_key_use(rg_store *s, const char *hash, int64_t now_ms,
                            rg_enroll_key_rec *out, rg_err *err)
{
    if (!hash || !rg_sha256_hex_valid(hash))
        return rg_err_set(err, RG_EAUTH, "enrollment key unknown");
    return s->ops->enroll_key_use(s->impl, hash, now_ms, out, err);
}

/* --- endpoints ------------------------------------------------------------ */

int rg_store_endpoint_enroll(rg_store *s, const rg_endpoint_rec *e,
                             const rg_audit_rec *audit, rg_err *err)
{
    int rc;
    if ((rc = TEXT(e, id, true, "endpoint_id")) ||
        (rc = TEXT(e, token_hash, true, "token_hash")) ||
        (rc = sha256_arg(e->token_hash, "token_hash", err)) ||
        (rc = TEXT(e, attrs_json, true, "attributes")) ||
        (rc = json_object_text(e->attrs_json, false, "attributes", err)) ||
        (rc = TEXT(e, installed_json, false, "installed")) ||
        (rc = json_object_text(e->installed_json, true, "installed", err)) ||
        (rc = check_audit(audit, err)))
        return rc;
    return s->ops->endpoint_enroll(s->impl, e, audit, err);
}

int rg_store_endpoint_reset_identity(rg_store *s, const char *id, int64_t at_ms,
                                     const rg_audit_rec *audit, rg_err *err)
{
    int rc;
    if (!id || !*id || strlen(id) > RG_EPID_MAX)
        return rg_err_field(err, RG_EINVAL, "id", "bad endpoint id");
    if (!audit)
        return rg_err_set(err, RG_EINVAL, "identity reset: audit required");
    if ((rc = check_audit(audit, err)))
        return rc;
    return s->ops->endpoint_reset_identity(s->impl, id, at_ms, audit, err);
}

int rg_store_endpoint_flush(rg_store *s, const rg_endpoint_seen *batch,
                            size_t n, rg_err *err)
{
    int rc;
    if (n > 0 && !batch)
        return rg_err_set(err, RG_EINVAL, "endpoint flush: no batch");
    for (size_t i = 0; i < n; i++) {
        if ((rc = text_ptr(batch[i].id, RG_EPID_MAX, true, "endpoint_id",
                           err)) ||
            (rc = text_ptr(batch[i].installed_json, RG_ATTRS_MAX, true,
                           "installed", err)) ||
            (rc = json_object_text(batch[i].installed_json, false, "installed",
                                   err)))
            return rc;
    }
    if (n == 0)
        return 0;
    return s->ops->endpoint_flush(s->impl, batch, n, err);
}

int rg_store_tail_heads(rg_store *s, rg_tail_heads *out, rg_err *err)
{
    return s->ops->tail_heads(s->impl, out, err);
}

int rg_store_endpoints_after(rg_store *s, int64_t after, size_t max,
                             int (*fn)(void *ctx, const rg_endpoint_tail *e),
                             void *ctx, rg_err *err)
{
    return s->ops->endpoints_after(s->impl, after, max, fn, ctx, err);
}

int rg_store_events_after(rg_store *s, int64_t after, size_t max,
                          int (*fn)(void *ctx, const rg_event_tail *e),
                          void *ctx, rg_err *err)
{
    return s->ops->events_after(s->impl, after, max, fn, ctx, err);
}

int rg_store_offers_after(rg_store *s, int64_t after, size_t max,
                          int (*fn)(void *ctx, const rg_offer_rec *o),
                          void *ctx, rg_err *err)
{
    return s->ops->offers_after(s->impl, after, max, fn, ctx, err);
}

int rg_store_endpoint_load(rg_store *s,
                           int (*fn)(void *ctx, const rg_endpoint_rec *e),
                           void *ctx, rg_err *err)
{
    return s->ops->endpoint_load(s->impl, fn, ctx, err);
}

/* --- group commit ------------------------------------------------------- */

/* A backend without write_group: each write alone, in its own
 * transactions (correct, not grouped). Always "commits". */
static int write_each(const rg_store *s, rg_store_write *const *w, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        rg_store_write *x = w[i];
        if (x->n_events)
            x->rc = s->ops->events_record(s->impl, x->events, x->n_events,
                                          &x->n_new, &x->err);
        if (x->rc == 0 && x->n_offers)
            x->rc = s->ops->offers_record(s->impl, x->offer_endpoint, x->offers,
                                          x->n_offers, x->offer_ms, &x->err);
    }
    return 0;
}

/* The committer's commit function (group.h), ctx the store. */
static int write_group(void *ctx, rg_store_write *const *w, size_t n,
                       rg_err *err)
{
    rg_store *s = ctx;
    if (!s->ops->write_group)
        return write_each(s, w, n);
    return s->ops->write_group(s->impl, w, n, err);
}

int rg_store_write_submit(rg_store *s, rg_store_write *w)
{
    rg_err_clear(&w->err);
    w->rc = 0;
    w->n_new = 0;
    int rc = check_events(w->events, w->n_events, &w->err);
    if (rc == 0 && w->n_offers)
        rc = check_offers(w->offer_endpoint, w->offers, w->n_offers, &w->err);
    if (rc == 0 && !w->done)
        rc = rg_err_set(&w->err, RG_EINVAL, "store write: no done callback");
    return rc ? rc : rg__group_submit(s->group, w);
}

/* A caller waiting for its write (submit_wait). */
typedef struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
} waiter;

static void waiter_done(rg_store_write *w)
{
    waiter *x = w->ctx;
    pthread_mutex_lock(&x->mu);
    x->done = true;
    pthread_cond_signal(&x->cv);
    pthread_mutex_unlock(&x->mu);
}

/* Submits w and waits until it is durable or failed. Returns w->rc (err
 * filled from w->err). */
static int submit_wait(rg_store *s, rg_store_write *w, rg_err *err)
{
    waiter x = {.done = false};
    pthread_mutex_init(&x.mu, NULL);
    pthread_cond_init(&x.cv, NULL);
    w->done = waiter_done;
    w->ctx = &x;
    int rc = rg_store_write_submit(s, w);
    pthread_mutex_lock(&x.mu);
    while (rc == 0 && !x.done)
        pthread_cond_wait(&x.cv, &x.mu);
    pthread_mutex_unlock(&x.mu);
    pthread_cond_destroy(&x.cv);
    pthread_mutex_destroy(&x.mu);
    rc = rc ? rc : w->rc;
    if (rc && err)
        *err = w->err;
    return rc;
}

void rg_store_group_stats_get(rg_store *s, rg_store_group_stats *out)
{
    rg__group_stats(s->group, out);
}

/* --- agent events --------------------------------------------------------- */

/* Checks a batch of n events (store.h's rules for each field). */
static int check_events(const rg_event_rec *ev, size_t n, rg_err *err)
{
    int rc;
    if (n > 0 && !ev)
        return rg_err_set(err, RG_EINVAL, "events: no batch");
    for (size_t i = 0; i < n; i++) {
        const rg_event_rec *e = &ev[i];
        if ((rc = TEXT(e, endpoint_id, true, "endpoint_id")) ||
            (rc = TEXT(e, event_id, true, "events.id")) ||
            (rc = TEXT(e, type, true, "events.type")) ||
            (rc = TEXT(e, channel, false, "events.channel")) ||
            (rc = TEXT(e, detail, false, "events.detail")))
            return rc;
        if (!one_of(e->type, rg_event_type_names))
            return rg_err_field(err, RG_EINVAL, "events.type",
                                "event '%s': unknown type '%s'", e->event_id,
                                e->type);
        if (e->release_id < 1)
            return rg_err_field(err, RG_EINVAL, "events.release",
                                "event '%s': release required", e->event_id);
    }
    return 0;
}

int rg_store_events_record(rg_store *s, const rg_event_rec *ev, size_t n,
                           size_t *n_new, rg_err *err)
{
    rg_store_write w = {.events = ev, .n_events = n};
    if (n_new)
        *n_new = 0;
    int rc = check_events(ev, n, err);
    if (rc || n == 0)
        return rc;
    rc = submit_wait(s, &w, err);
    if (rc == 0 && n_new)
        *n_new = w.n_new;
    return rc;
}

int rg_store_event_list(rg_store *s, int64_t release_id,
                        int (*fn)(void *ctx, const rg_event_rec *e), void *ctx,
                        rg_err *err)
{
    return s->ops->event_list(s->impl, release_id, fn, ctx, err);
}

int rg_store_event_list_endpoint(rg_store *s, const char *endpoint_id,
                                 size_t max,
                                 int (*fn)(void *ctx, const rg_event_rec *e),
                                 void *ctx, rg_err *err)
{
    if (max < 1 || max > RG_EVENTS_LIST_MAX)
        return rg_err_set(err, RG_EINVAL, "max must be 1..%d",
                          RG_EVENTS_LIST_MAX);
    return s->ops->event_list_endpoint(s->impl, endpoint_id, max, fn, ctx, err);
}

/* A retention batch: max in 1..100000 (else RG_EINVAL naming what);
 * zeroes *n_deleted. */
static int prune_batch(size_t max, size_t *n_deleted, const char *what,
                       rg_err *err)
{
    *n_deleted = 0;
    if (max < 1 || max > 100000)
        return rg_err_set(err, RG_EINVAL, "%s: batch %zu not in 1..100000",
                          what, max);
    return 0;
}

int rg_store_events_prune(rg_store *s, int64_t before_ms, size_t max,
                          size_t *n_deleted, rg_err *err)
{
    int rc = prune_batch(max, n_deleted, "event prune", err);
    return rc ? rc
              : s->ops->events_prune(s->impl, before_ms, max, n_deleted, err);
}

int rg_store_event_counts(rg_store *s, int64_t release_id, rg_event_counts *out,
                          rg_err *err)
{
    return s->ops->event_counts(s->impl, release_id, out, err);
}

/* --- offers ------------------------------------------------------------- */

#define OFFERS_BATCH_MAX 64

/* Checks an offers batch: endpoint_id's n releases. */
static int check_offers(const char *endpoint_id, const int64_t *releases,
                        size_t n, rg_err *err)
{
    if (!endpoint_id || !*endpoint_id || strlen(endpoint_id) > RG_EPID_MAX)
        return rg_err_field(err, RG_EINVAL, "endpoint_id",
                            "offers: bad endpoint id");
    if (n > OFFERS_BATCH_MAX || (n > 0 && !releases))
        return rg_err_set(err, RG_EINVAL, "offers: bad batch of %zu", n);
    for (size_t i = 0; i < n; i++)
        if (releases[i] < 1)
            return rg_err_set(err, RG_EINVAL, "offers: bad release %lld",
                              (long long)releases[i]);
    return 0;
}

int rg_store_offers_record(rg_store *s, const char *endpoint_id,
                           const int64_t *releases, size_t n, int64_t now_ms,
                           rg_err *err)
{
    rg_store_write w = {.offer_endpoint = endpoint_id,
                        .offers = releases,
                        .n_offers = n,
                        .offer_ms = now_ms};
    int rc = check_offers(endpoint_id, releases, n, err);
    if (rc || n == 0)
        return rc;
    return submit_wait(s, &w, err);
}

int rg_store_offer_check(rg_store *s, const char *endpoint_id,
                         int64_t release_id, rg_err *err)
{
    return s->ops->offer_check(s->impl, endpoint_id, release_id, err);
}

int rg_store_offer_artifact(rg_store *s, const char *endpoint_id,
                            const char *sha256, rg_err *err)
{
    return s->ops->offer_artifact(s->impl, endpoint_id, sha256, err);
}

int rg_store_artifact_public(rg_store *s, const char *sha256, rg_err *err)
{
    return s->ops->artifact_public(s->impl, sha256, err);
}

/* --- group policies ------------------------------------------------------- */

static const char *const policy_modes[] = {"n-1", "pin", NULL};

int rg_store_policy_create(rg_store *s, rg_policy_rec *p,
                           const rg_audit_rec *audit, rg_err *err)
{
    int rc;
    if ((rc = TEXT(p, name, true, "name")) ||
        (rc = TEXT(p, channel, true, "channel")) ||
        (rc = TEXT(p, selector_json, true, "selector")) ||
        (rc = json_object_text(p->selector_json, false, "selector", err)) ||
        (rc = TEXT(p, mode, true, "mode")) ||
        (rc = TEXT(p, created_by, false, "created_by")) ||
        (rc = check_audit(audit, err)))
        return rc;
    if (!one_of(p->mode, policy_modes))
        return rg_err_field(err, RG_EINVAL, "mode",
                            "policy mode '%s': must be n-1 or pin", p->mode);
    bool pin = strcmp(p->mode, "pin") == 0;
    if (pin ? p->release_id < 1 : p->release_id != 0)
        return rg_err_field(
            err, RG_EINVAL, "release", "policy '%s': %s", p->name,
            pin ? "a pin needs a release" : "an n-1 policy takes no release");
    return s->ops->policy_create(s->impl, p, audit, err);
}

int rg_store_policy_list(rg_store *s,
                         int (*fn)(void *ctx, const rg_policy_rec *p),
                         void *ctx, rg_err *err)
{
    return s->ops->policy_list(s->impl, fn, ctx, err);
}

int rg_store_policy_delete(rg_store *s, int64_t id, rg_policy_rec *out,
                           const rg_audit_rec *audit, rg_err *err)
{
    int rc;
    if ((rc = check_audit(audit, err)))
        return rc;
    return s->ops->policy_delete(s->impl, id, out, audit, err);
}

/* --- feature flags ------------------------------------------------------ */

int rg_store_flag_put(rg_store *s, rg_flag_rec *f, int64_t expect,
                      const rg_audit_rec *audit, rg_err *err)
{
    if (!f->environment[0] || !f->name[0] || !f->definition)
        return rg_err_set(err, RG_EINVAL,
                          "flag: environment, name and definition needed");
    int rc = s->ops->flag_put(s->impl, f, expect, audit, err);
    if (rc == 0)
        atomic_fetch_add(&s->flag_writes, 1);
    return rc;
}

int rg_store_flag_list(rg_store *s, const char *environment,
                       int (*fn)(void *ctx, const rg_flag_rec *f), void *ctx,
                       rg_err *err)
{
    return s->ops->flag_list(s->impl, environment, NULL, fn, ctx, err);
}

typedef struct counted {
    int (*fn)(void *ctx, const rg_flag_rec *f);
    void *ctx;
    size_t n;
} counted;

static int count_one(void *ctx, const rg_flag_rec *f)
{
    counted *c = ctx;
    c->n++;
    return c->fn(c->ctx, f);
}

int rg_store_flag_history(rg_store *s, const char *environment,
                          const char *name,
                          int (*fn)(void *ctx, const rg_flag_rec *f), void *ctx,
                          rg_err *err)
{
    counted c = {fn, ctx, 0};
    int rc = s->ops->flag_list(s->impl, environment, name, count_one, &c, err);
    if (rc == 0 && c.n == 0)
        return rg_err_field(err, RG_ENOTFOUND, "name",
                            "flag '%s' not found in environment '%s'", name,
                            environment);
    return rc;
}

uint64_t rg_store_flag_writes(rg_store *s)
{
    return atomic_load(&s->flag_writes);
}

int rg_store_flag_rollout_put(rg_store *s, rg_flag_rollout_rec *r,
                              const rg_audit_rec *audit, rg_err *err)
{
    if (!r->environment[0] || !r->name[0] || !r->state)
        return rg_err_set(err, RG_EINVAL,
                          "flag rollout: environment, name and state needed");
    if (r->event && (!r->hook || strlen(r->hook) > RG_DELIVERY_FLAG_MAX))
        return rg_err_set(err, RG_EINVAL,
                          "flag rollout: a webhook event needs its object "
                          "(at most %d bytes)",
                          RG_DELIVERY_FLAG_MAX);
    return s->ops->flag_rollout_put(s->impl, r, audit, err);
}

int rg_store_flag_rollout_list(
    rg_store *s, const char *environment, const char *name, bool active_only,
    int (*fn)(void *ctx, const rg_flag_rollout_rec *r), void *ctx, rg_err *err)
{
    return s->ops->flag_rollout_list(s->impl, environment, name, active_only,
                                     fn, ctx, err);
}

int rg_store_flag_stamp(rg_store *s, const char *environment, int64_t *versions,
                        int64_t *newest_ms, rg_err *err)
{
    return s->ops->flag_stamp(s->impl, environment, versions, newest_ms, err);
}

int rg_store_segment_put(rg_store *s, rg_segment_rec *g, int64_t expect,
                         const rg_audit_rec *audit, rg_err *err)
{
    if (!g->environment[0] || !g->name[0] || !g->definition)
        return rg_err_set(err, RG_EINVAL,
                          "segment: environment, name and definition needed");
    int rc = s->ops->segment_put(s->impl, g, expect, audit, err);
    if (rc == 0)
        atomic_fetch_add(&s->flag_writes, 1);
    return rc;
}

int rg_store_segment_list(rg_store *s, const char *environment,
                          int (*fn)(void *ctx, const rg_segment_rec *g),
                          void *ctx, rg_err *err)
{
    return s->ops->segment_list(s->impl, environment, NULL, fn, ctx, err);
}

typedef struct seg_counted {
    int (*fn)(void *ctx, const rg_segment_rec *g);
    void *ctx;
    size_t n;
} seg_counted;

static int seg_count_one(void *ctx, const rg_segment_rec *g)
{
    seg_counted *c = ctx;
    c->n++;
    return c->fn(c->ctx, g);
}

int rg_store_segment_history(rg_store *s, const char *environment,
                             const char *name,
                             int (*fn)(void *ctx, const rg_segment_rec *g),
                             void *ctx, rg_err *err)
{
    seg_counted c = {fn, ctx, 0};
    int rc = s->ops->segment_list(s->impl, environment, name, seg_count_one, &c,
                                  err);
    if (rc == 0 && c.n == 0)
        return rg_err_field(err, RG_ENOTFOUND, "name",
                            "segment '%s' not found in environment '%s'", name,
                            environment);
    return rc;
}

int rg_store_client_token_create(rg_store *s, rg_client_token_rec *t,
                                 const rg_audit_rec *audit, rg_err *err)
{
    return s->ops->client_token_create(s->impl, t, audit, err);
}

int rg_store_client_token_find(rg_store *s, const char *hash,
                               rg_client_token_rec *out, rg_err *err)
{
    return s->ops->client_token_find(s->impl, hash, out, err);
}

int rg_store_client_token_list(rg_store *s,
                               int (*fn)(void *ctx,
                                         const rg_client_token_rec *t),
                               void *ctx, rg_err *err)
{
    return s->ops->client_token_list(s->impl, fn, ctx, err);
}

int rg_store_client_token_get(rg_store *s, int64_t id, rg_client_token_rec *out,
                              rg_err *err)
{
    return s->ops->client_token_get(s->impl, id, out, err);
}

int rg_store_client_token_revoke(rg_store *s, int64_t id, int64_t now_ms,
                                 const rg_audit_rec *audit, rg_err *err)
{
    return s->ops->client_token_revoke(s->impl, id, now_ms, audit, err);
}

int rg_store_flag_reverts_record(rg_store *s, const rg_flag_revert_rec *r,
                                 size_t n, rg_err *err)
{
    return n ? s->ops->flag_reverts_record(s->impl, r, n, err) : 0;
}

int rg_store_flag_reverts_endpoint(
    rg_store *s, const char *endpoint_id, size_t max,
    int (*fn)(void *ctx, const rg_flag_revert_rec *r), void *ctx, rg_err *err)
{
    if (max < 1 || max > RG_EVENTS_LIST_MAX)
        return rg_err_set(err, RG_EINVAL, "max must be 1..%d",
                          RG_EVENTS_LIST_MAX);
    return s->ops->flag_reverts_endpoint(s->impl, endpoint_id, max, fn, ctx,
                                         err);
}

/* --- webhooks ----------------------------------------------------------- */

int rg_store_webhook_create(rg_store *s, rg_webhook_rec *w,
                            const rg_audit_rec *audit, rg_err *err)
{
    int rc;
    if ((rc = TEXT(w, url, true, "url")) ||
        (rc = TEXT(w, events, true, "events")) ||
        (rc = TEXT(w, channel, false, "channel")) ||
        (rc = TEXT(w, secret, true, "secret")) ||
        (rc = TEXT(w, created_by, false, "created_by")) ||
        (rc = check_audit(audit, err)))
        return rc;
    return s->ops->webhook_create(s->impl, w, audit, err);
}

int rg_store_webhook_get(rg_store *s, int64_t id, rg_webhook_rec *out,
                         rg_err *err)
{
    return s->ops->webhook_get(s->impl, id, out, err);
}

int rg_store_webhook_list(rg_store *s,
                          int (*fn)(void *ctx, const rg_webhook_rec *w),
                          void *ctx, rg_err *err)
{
    return s->ops->webhook_list(s->impl, fn, ctx, err);
}

int rg_store_webhook_delete(rg_store *s, int64_t id, rg_webhook_rec *out,
                            const rg_audit_rec *audit, rg_err *err)
{
    int rc = check_audit(audit, err);
    return rc ? rc : s->ops->webhook_delete(s->impl, id, out, audit, err);
}

int rg_store_webhook_test(rg_store *s, int64_t id, int64_t now_ms,
                          rg_delivery_rec *out, const rg_audit_rec *audit,
                          rg_err *err)
{
    int rc = check_audit(audit, err);
    return rc ? rc : s->ops->webhook_test(s->impl, id, now_ms, out, audit, err);
}

int rg_store_delivery_list(rg_store *s, int64_t webhook_id,
                           int (*fn)(void *ctx, const rg_delivery_rec *d),
                           void *ctx, rg_err *err)
{
    rg_webhook_rec w;
    int rc = s->ops->webhook_get(s->impl, webhook_id, &w, err);
    return rc ? rc : s->ops->delivery_list(s->impl, webhook_id, fn, ctx, err);
}

int rg_store_attempt_list(rg_store *s, int64_t delivery_id,
                          int (*fn)(void *ctx, const rg_attempt_rec *a),
                          void *ctx, rg_err *err)
{
    return s->ops->attempt_list(s->impl, delivery_id, fn, ctx, err);
}

int rg_store_delivery_due(rg_store *s, int64_t now_ms, size_t max,
                          int (*fn)(void *ctx, const rg_delivery_rec *d,
                                    const rg_webhook_rec *w),
                          void *ctx, rg_err *err)
{
    if (max < 1 || max > 1000)
        return rg_err_set(err, RG_EINVAL, "due deliveries: %zu not in 1..1000",
                          max);
    return s->ops->delivery_due(s->impl, now_ms, max, fn, ctx, err);
}

static const char *const delivery_states[] = {"pending", "delivered", "failed",
                                              NULL};

int rg_store_delivery_attempt(rg_store *s, const rg_attempt_rec *a,
                              const char *state, int64_t next_ms, rg_err *err)
{
    int rc;
    if ((rc = TEXT(a, error, false, "error")))
        return rc;
    if (!one_of(state, delivery_states))
        return rg_err_field(err, RG_EINVAL, "state",
                            "delivery state '%.16s': must be pending, "
                            "delivered or failed",
                            state);
    return s->ops->delivery_attempt(s->impl, a, state, next_ms, err);
}

int rg_store_deliveries_prune(rg_store *s, int64_t before_ms, size_t max,
                              size_t *n_deleted, rg_err *err)
{
    int rc = prune_batch(max, n_deleted, "delivery prune", err);
    return rc ? rc
              : s->ops->deliveries_prune(s->impl, before_ms, max, n_deleted,
                                         err);
}
