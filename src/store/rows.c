/* rows.c - see rows.h. The row maps and the copy between rows and
 * records, the same for every backend. */
#include "store/rows.h"

#include <assert.h>
#include <jansson.h>
#include <stdbool.h>
#include <string.h>

/* One column of record type rec: field f, of type t (capacity cap_),
 * whose value comes from from_ (REC, DB, JOIN or LATER) on insert. */
#define COL(rec, f, t, cap_, from_)                                            \
    {                                                                          \
        .name = #f, .type = (t), .from = RG__FROM_##from_,                     \
        .off = offsetof(rec, f), .cap = (cap_)                                 \
    }
#define I64(rec, f, from) COL(rec, f, RG__C_I64, 0, from)
#define REF(rec, f, from) COL(rec, f, RG__C_REF, 0, from)
#define U64(rec, f, from) COL(rec, f, RG__C_U64, 0, from)
#define INT(rec, f, from) COL(rec, f, RG__C_INT, 0, from)
#define U32(rec, f, from) COL(rec, f, RG__C_U32, 0, from)
#define BOOL(rec, f, from) COL(rec, f, RG__C_BOOL, 0, from)
#define TEXT(rec, f, from) COL(rec, f, RG__C_TEXT, sizeof(((rec *)0)->f), from)
#define PTR(rec, f, from) COL(rec, f, RG__C_PTR, 0, from)
#define PLAN(rec, f, from) COL(rec, f, RG__C_PLAN, 0, from)
#define ROWMAP(what_, cols_)                                                   \
    {                                                                          \
        .what = (what_), .cols = (cols_),                                      \
        .n = sizeof(cols_) / sizeof(cols_)[0]                                  \
    }

/* A preflight spec inside record rec at field f: engine, corpus,
 * timeout_s, memory_mb. */
#define SPEC(rec, f)                                                           \
    TEXT(rec, f.engine, REC), TEXT(rec, f.corpus, REC),                        \
        I64(rec, f.timeout_s, REC), I64(rec, f.memory_mb, REC)

static const rg__col audit_cols[] = {
    I64(rg_audit_rec, id, DB),       I64(rg_audit_rec, at_ms, REC),
    TEXT(rg_audit_rec, actor, REC),  TEXT(rg_audit_rec, role, REC),
    TEXT(rg_audit_rec, action, REC), TEXT(rg_audit_rec, target, REC),
    TEXT(rg_audit_rec, reason, REC), TEXT(rg_audit_rec, source, REC),
    TEXT(rg_audit_rec, detail, REC),
};
const rg__rowmap rg__audit_row = ROWMAP("audit", audit_cols);

static const rg__col channel_cols[] = {
    I64(rg_channel_rec, id, DB),
    TEXT(rg_channel_rec, name, REC),
    TEXT(rg_channel_rec, description, REC),
    I64(rg_channel_rec, created_ms, REC),
    REF(rg_channel_rec, current_release_id, LATER),
    SPEC(rg_channel_rec, preflight),
    BOOL(rg_channel_rec, is_public, REC),
};
const rg__rowmap rg__channel_row = ROWMAP("channel", channel_cols);

static const rg__col release_cols[] = {
    I64(rg_release_rec, id, DB),
    I64(rg_release_rec, channel_id, REC),
    TEXT(rg_release_rec, channel, JOIN),
    I64(rg_release_rec, version, REC),
    TEXT(rg_release_rec, sha256, REC),
    U64(rg_release_rec, size, JOIN),
    TEXT(rg_release_rec, notes, REC),
    TEXT(rg_release_rec, urgency, REC),
    I64(rg_release_rec, created_ms, REC),
    TEXT(rg_release_rec, created_by, REC),
    TEXT(rg_release_rec, preflight_status, REC),
    SPEC(rg_release_rec, preflight),
    TEXT(rg_release_rec, preflight_detail, LATER),
    I64(rg_release_rec, preflight_done_ms, LATER),
    TEXT(rg_release_rec, metadata, REC),
    I64(rg_release_rec, quarantine_lifted_ms, LATER),
    INT(rg_release_rec, activation, REC),
    I64(rg_release_rec, activation_max_ms, REC),
    BOOL(rg_release_rec, activation_declared, REC),
};
const rg__rowmap rg__release_row = ROWMAP("release", release_cols);

static const rg__col root_cols[] = {
    I64(rg_root_rec, version, REC),     TEXT(rg_root_rec, digest, REC),
    PTR(rg_root_rec, json, REC),        I64(rg_root_rec, created_ms, REC),
    TEXT(rg_root_rec, created_by, REC),
};
const rg__rowmap rg__root_row = ROWMAP("root", root_cols);

static const rg__col rollout_cols[] = {
    I64(rg_rollout_rec, id, DB),
    I64(rg_rollout_rec, release_id, REC),
    I64(rg_rollout_rec, channel_id, REC),
    TEXT(rg_rollout_rec, channel, JOIN),
    REF(rg_rollout_rec, prev_release_id, REC),
    PLAN(rg_rollout_rec, plan, REC),
    TEXT(rg_rollout_rec, salt, REC),
    INT(rg_rollout_rec, status.state, REC),
    INT(rg_rollout_rec, status.wave, REC),
    U32(rg_rollout_rec, status.share_ppm, REC),
    I64(rg_rollout_rec, status.wave_started_ms, REC),
    I64(rg_rollout_rec, status.updated_ms, REC),
    I64(rg_rollout_rec, created_ms, REC),
    TEXT(rg_rollout_rec, created_by, REC),
};
const rg__rowmap rg__rollout_row = ROWMAP("rollout", rollout_cols);

static const rg__col decision_cols[] = {
    I64(rg_decision_rec, id, DB),
    I64(rg_decision_rec, rollout_id, REC),
    I64(rg_decision_rec, at_ms, REC),
    INT(rg_decision_rec, tr.from_state, REC),
    INT(rg_decision_rec, tr.to_state, REC),
    INT(rg_decision_rec, tr.from_wave, REC),
    INT(rg_decision_rec, tr.to_wave, REC),
    TEXT(rg_decision_rec, tr.reason, REC),
    TEXT(rg_decision_rec, actor, REC),
    PTR(rg_decision_rec, evidence_json, REC),
};
const rg__rowmap rg__decision_row = ROWMAP("decision", decision_cols);

static const rg__col token_cols[] = {
    I64(rg_token_rec, id, DB),          TEXT(rg_token_rec, name, REC),
    TEXT(rg_token_rec, role, REC),      TEXT(rg_token_rec, hash, REC),
    I64(rg_token_rec, created_ms, REC), I64(rg_token_rec, expires_ms, REC),
    I64(rg_token_rec, revoked_ms, REC), TEXT(rg_token_rec, created_by, REC),
};
const rg__rowmap rg__token_row = ROWMAP("token", token_cols);

static const rg__col enroll_key_cols[] = {
    I64(rg_enroll_key_rec, id, DB),
    TEXT(rg_enroll_key_rec, hash, REC),
    I64(rg_enroll_key_rec, created_ms, REC),
    I64(rg_enroll_key_rec, expires_ms, REC),
    I64(rg_enroll_key_rec, revoked_ms, REC),
    I64(rg_enroll_key_rec, uses_left, REC),
    TEXT(rg_enroll_key_rec, created_by, REC),
    TEXT(rg_enroll_key_rec, flag_envs, REC),
};
const rg__rowmap rg__enroll_key_row = ROWMAP("enrollment key", enroll_key_cols);

static const rg__col endpoint_cols[] = {
    TEXT(rg_endpoint_rec, id, REC),
    TEXT(rg_endpoint_rec, token_hash, REC),
    TEXT(rg_endpoint_rec, attrs_json, REC),
    I64(rg_endpoint_rec, enrolled_ms, REC),
    I64(rg_endpoint_rec, last_seen_ms, REC),
    TEXT(rg_endpoint_rec, installed_json, REC),
};
const rg__rowmap rg__endpoint_row = ROWMAP("endpoint", endpoint_cols);

static const rg__col endpoint_tail_cols[] = {
    TEXT(rg_endpoint_tail, e.id, REC),
    TEXT(rg_endpoint_tail, e.token_hash, REC),
    TEXT(rg_endpoint_tail, e.attrs_json, REC),
    I64(rg_endpoint_tail, e.enrolled_ms, REC),
    I64(rg_endpoint_tail, e.last_seen_ms, REC),
    TEXT(rg_endpoint_tail, e.installed_json, REC),
    I64(rg_endpoint_tail, seq, REC),
};
const rg__rowmap rg__endpoint_tail_row = ROWMAP("endpoint", endpoint_tail_cols);

static const rg__col event_tail_cols[] = {
    TEXT(rg_event_tail, e.endpoint_id, REC),
    TEXT(rg_event_tail, e.event_id, REC),
    TEXT(rg_event_tail, e.type, REC),
    I64(rg_event_tail, e.release_id, REC),
    TEXT(rg_event_tail, e.channel, REC),
    I64(rg_event_tail, e.reported_ms, REC),
    I64(rg_event_tail, e.received_ms, REC),
    TEXT(rg_event_tail, e.detail, REC),
    I64(rg_event_tail, seq, REC),
};
const rg__rowmap rg__event_tail_row = ROWMAP("event", event_tail_cols);

static const rg__col offer_cols[] = {
    TEXT(rg_offer_rec, endpoint_id, REC),
    I64(rg_offer_rec, release_id, REC),
    I64(rg_offer_rec, offered_ms, REC),
    I64(rg_offer_rec, seq, REC),
};
const rg__rowmap rg__offer_row = ROWMAP("offer", offer_cols);

static const rg__col heads_cols[] = {
    I64(rg_tail_heads, endpoints, REC),
    I64(rg_tail_heads, events, REC),
    I64(rg_tail_heads, offers, REC),
};
const rg__rowmap rg__heads_row = ROWMAP("tail heads", heads_cols);

static const rg__col event_cols[] = {
    TEXT(rg_event_rec, endpoint_id, REC), TEXT(rg_event_rec, event_id, REC),
    TEXT(rg_event_rec, type, REC),        I64(rg_event_rec, release_id, REC),
    TEXT(rg_event_rec, channel, REC),     I64(rg_event_rec, reported_ms, REC),
    I64(rg_event_rec, received_ms, REC),  TEXT(rg_event_rec, detail, REC),
};
const rg__rowmap rg__event_row = ROWMAP("event", event_cols);

static const rg__col flag_revert_cols[] = {
    TEXT(rg_flag_revert_rec, endpoint_id, REC),
    TEXT(rg_flag_revert_rec, environment, REC),
    TEXT(rg_flag_revert_rec, stamp, REC),
    I64(rg_flag_revert_rec, reported_ms, REC),
    I64(rg_flag_revert_rec, received_ms, REC),
    TEXT(rg_flag_revert_rec, detail, REC),
};
const rg__rowmap rg__flag_revert_row = ROWMAP("flag revert", flag_revert_cols);

static const rg__col policy_cols[] = {
    I64(rg_policy_rec, id, DB),
    TEXT(rg_policy_rec, name, REC),
    I64(rg_policy_rec, channel_id, REC),
    TEXT(rg_policy_rec, channel, JOIN),
    TEXT(rg_policy_rec, selector_json, REC),
    TEXT(rg_policy_rec, mode, REC),
    REF(rg_policy_rec, release_id, REC),
    I64(rg_policy_rec, created_ms, REC),
    TEXT(rg_policy_rec, created_by, REC),
};
const rg__rowmap rg__policy_row = ROWMAP("policy", policy_cols);

static const rg__col flag_cols[] = {
    TEXT(rg_flag_rec, environment, REC), TEXT(rg_flag_rec, name, REC),
    I64(rg_flag_rec, version, REC),      PTR(rg_flag_rec, definition, REC),
    I64(rg_flag_rec, created_ms, REC),   TEXT(rg_flag_rec, created_by, REC),
    TEXT(rg_flag_rec, reason, REC),
};
const rg__rowmap rg__flag_row = ROWMAP("flag", flag_cols);

static const rg__col segment_cols[] = {
    TEXT(rg_segment_rec, environment, REC),
    TEXT(rg_segment_rec, name, REC),
    I64(rg_segment_rec, id, REC),
    I64(rg_segment_rec, version, REC),
    BOOL(rg_segment_rec, deleted, REC),
    PTR(rg_segment_rec, definition, REC),
    I64(rg_segment_rec, created_ms, REC),
    TEXT(rg_segment_rec, created_by, REC),
    TEXT(rg_segment_rec, reason, REC),
};
const rg__rowmap rg__segment_row = ROWMAP("segment", segment_cols);
static const rg__col flag_rollout_cols[] = {
    I64(rg_flag_rollout_rec, id, DB),
    TEXT(rg_flag_rollout_rec, environment, REC),
    TEXT(rg_flag_rollout_rec, name, REC),
    I64(rg_flag_rollout_rec, seq, REC),
    INT(rg_flag_rollout_rec, active, REC),
    PTR(rg_flag_rollout_rec, state, REC),
    I64(rg_flag_rollout_rec, created_ms, REC),
    TEXT(rg_flag_rollout_rec, created_by, REC),
    TEXT(rg_flag_rollout_rec, reason, REC),
};
const rg__rowmap rg__flag_rollout_row =
    ROWMAP("flag rollout", flag_rollout_cols);

static const rg__col client_token_cols[] = {
    I64(rg_client_token_rec, id, DB),
    TEXT(rg_client_token_rec, name, REC),
    TEXT(rg_client_token_rec, environment, REC),
    TEXT(rg_client_token_rec, hash, REC),
    I64(rg_client_token_rec, created_ms, REC),
    TEXT(rg_client_token_rec, created_by, REC),
    I64(rg_client_token_rec, revoked_ms, LATER),
};
const rg__rowmap rg__client_token_row =
    ROWMAP("client token", client_token_cols);

static const rg__col webhook_cols[] = {
    I64(rg_webhook_rec, id, DB),           TEXT(rg_webhook_rec, url, REC),
    TEXT(rg_webhook_rec, events, REC),     TEXT(rg_webhook_rec, channel, REC),
    TEXT(rg_webhook_rec, secret, REC),     I64(rg_webhook_rec, created_ms, REC),
    TEXT(rg_webhook_rec, created_by, REC),
};
const rg__rowmap rg__webhook_row = ROWMAP("webhook", webhook_cols);

/* A delivery's columns inside record rec at prefix p (rg_delivery_rec
 * itself, or a member of one). */
#define DELIVERY(rec, p)                                                       \
    I64(rec, p id, DB), TEXT(rec, p uid, DB), I64(rec, p webhook_id, REC),     \
        TEXT(rec, p event, REC), REF(rec, p decision_id, REC),                 \
        I64(rec, p created_ms, REC), TEXT(rec, p state, LATER),                \
        INT(rec, p attempts, LATER), I64(rec, p next_ms, LATER),               \
        I64(rec, p done_ms, LATER), INT(rec, p last_status, LATER),            \
        TEXT(rec, p last_error, LATER), I64(rec, p rollout_id, JOIN),          \
        I64(rec, p release_id, JOIN), I64(rec, p version, JOIN),               \
        TEXT(rec, p channel, JOIN), INT(rec, p to_state, JOIN),                \
        INT(rec, p to_wave, JOIN), I64(rec, p at_ms, JOIN),                    \
        TEXT(rec, p reason, JOIN), TEXT(rec, p counts, JOIN),                  \
        TEXT(rec, p flag, JOIN)

static const rg__col delivery_cols[] = {DELIVERY(rg_delivery_rec, )};
const rg__rowmap rg__delivery_row = ROWMAP("webhook delivery", delivery_cols);

static const rg__col due_cols[] = {
    DELIVERY(rg__due, d.),
    TEXT(rg__due, w.url, JOIN),
    TEXT(rg__due, w.secret, JOIN),
};
const rg__rowmap rg__due_row = ROWMAP("webhook delivery", due_cols);

static const rg__col attempt_cols[] = {
    I64(rg_attempt_rec, delivery_id, REC), INT(rg_attempt_rec, n, REC),
    I64(rg_attempt_rec, at_ms, REC),       I64(rg_attempt_rec, took_ms, REC),
    INT(rg_attempt_rec, status, REC),      TEXT(rg_attempt_rec, error, REC),
};
const rg__rowmap rg__attempt_row = ROWMAP("webhook attempt", attempt_cols);

static const rg__col int_cols[] = {I64(rg__scalars, a, REC)};
const rg__rowmap rg__int_row = ROWMAP("value", int_cols);
static const rg__col int2_cols[] = {I64(rg__scalars, a, REC),
                                    I64(rg__scalars, b, REC)};
const rg__rowmap rg__int2_row = ROWMAP("values", int2_cols);
static const rg__col word_cols[] = {TEXT(rg__scalars, word, REC)};
const rg__rowmap rg__word_row = ROWMAP("value", word_cols);
static const rg__col word_int_cols[] = {TEXT(rg__scalars, word, REC),
                                        I64(rg__scalars, a, REC)};
const rg__rowmap rg__word_int_row = ROWMAP("values", word_int_cols);
static const rg__col text_cols[] = {PTR(rg__scalars, text, REC)};
const rg__rowmap rg__text_row = ROWMAP("value", text_cols);

static const rg__col release_channel_cols[] = {
    I64(rg__release_channel, id, REC),
    I64(rg__release_channel, max_version, REC),
    SPEC(rg__release_channel, spec),
};
const rg__rowmap rg__release_channel_row =
    ROWMAP("channel", release_channel_cols);

static const rg__col rollout_base_cols[] = {
    I64(rg__rollout_base, channel_id, REC),
    TEXT(rg__rollout_base, channel, REC),
    I64(rg__rollout_base, version, REC),
    I64(rg__rollout_base, current_id, REC),
    I64(rg__rollout_base, current_version, REC),
};
const rg__rowmap rg__rollout_base_row = ROWMAP("release", rollout_base_cols);

bool rg__col_is_text(const rg__col *c)
{
    return c->type == RG__C_TEXT || c->type == RG__C_PTR ||
           c->type == RG__C_PLAN;
}

/* The text of v, "" for NULL, and its length. */
static const char *val_text(const rg__val *v, size_t *len)
{
    bool text = v->type == RG__V_TEXT && v->s;
    *len = text ? v->len : 0;
    return text ? v->s : "";
}

static int read_plan(const rg__rowmap *m, const rg__col *c, const char *s,
                     rg_plan *plan, rg_err *err)
{
    json_error_t jerr;
    rg_err perr;
    json_t *v = json_loads(s, 0, &jerr);
    if (!v)
        return rg_err_set(err, RG_EIO, "store: stored %s %s: %s", m->what,
                          c->name, jerr.text);
    rg_err_clear(&perr);
    int rc = rg_plan_from_json(v, plan, &perr);
    json_decref(v);
    if (rc)
        return rg_err_set(err, RG_EIO, "store: stored %s %s: %s", m->what,
                          c->name, perr.msg);
    return 0;
}

/* Copies one column's value v into field f of column c. */
static int read_col(const rg__rowmap *m, const rg__col *c, const rg__val *v,
                    char *f, rg_err *err)
{
    size_t len;
    const char *s = val_text(v, &len);
    int64_t i = v->type == RG__V_INT ? v->i : 0;
    switch (c->type) {
    case RG__C_I64:
    case RG__C_REF:
        *(int64_t *)(void *)f = i;
        return 0;
    case RG__C_U64:
        *(uint64_t *)(void *)f = (uint64_t)i;
        return 0;
    case RG__C_INT:
        *(int *)(void *)f = (int)i;
        return 0;
    case RG__C_U32:
        *(uint32_t *)(void *)f = (uint32_t)i;
        return 0;
    case RG__C_BOOL:
        *(bool *)(void *)f = i != 0;
        return 0;
    case RG__C_PTR:
        *(const char **)(void *)f = s;
        return 0;
    case RG__C_PLAN:
        return read_plan(m, c, s, (rg_plan *)(void *)f, err);
    case RG__C_TEXT:
        if (len >= c->cap)
            return rg_err_set(err, RG_EIO,
                              "store: stored %s %s (%zu bytes) exceeds %zu",
                              m->what, c->name, len, c->cap - 1);
        memcpy(f, s, len);
        f[len] = '\0';
        return 0;
    }
    return rg_err_set(err, RG_EIO, "store: %s %s: unknown column type", m->what,
                      c->name);
}

int rg__row_read(const rg__rowmap *m, const rg__val *vals, void *rec,
                 rg_err *err)
{
    int rc;
    for (size_t i = 0; i < m->n; i++)
        if ((rc = read_col(m, &m->cols[i], &vals[i],
                           (char *)rec + m->cols[i].off, err)))
            return rc;
    return 0;
}

/* The value of field f, of column c, for binding. */
static rg__val col_val(const rg__col *c, const char *f)
{
    switch (c->type) {
    case RG__C_TEXT:
        return RG__TEXT(f);
    case RG__C_PTR:
        return RG__TEXT(*(const char *const *)(const void *)f);
    case RG__C_I64:
        return RG__INT(*(const int64_t *)(const void *)f);
    case RG__C_REF:
        return RG__REF(*(const int64_t *)(const void *)f);
    case RG__C_U64:
        return RG__INT(*(const uint64_t *)(const void *)f);
    case RG__C_INT:
        return RG__INT(*(const int *)(const void *)f);
    case RG__C_U32:
        return RG__INT(*(const uint32_t *)(const void *)f);
    case RG__C_BOOL:
        return RG__INT(*(const bool *)(const void *)f);
    case RG__C_PLAN:
        break;
    }
    return (rg__val){RG__V_NULL, 0, NULL, 0};
}

size_t rg__row_vals(const rg__rowmap *m, const void *rec, rg__val *vals)
{
    size_t n = 0;
    for (size_t i = 0; i < m->n; i++) {
        const rg__col *c = &m->cols[i];
        if (c->from == RG__FROM_REC && c->type != RG__C_PLAN)
            vals[n++] = col_val(c, (const char *)rec + c->off);
    }
    return n;
}
