/* rows.c - see rows.h. The row maps and the copy between rows and
 * records, the same for every backend. */
#include "store/rows.h"

#include <assert.h>
#include <jansson.h>
#include <stdbool.h>
#include <string.h>

/* One column of record type rec: field f, of type t (capacity cap_). */
#define COL(rec, f, t, cap_)                                                   \
    {                                                                          \
        .name = #f, .type = (t), .off = offsetof(rec, f), .cap = (cap_)        \
    }
#define I64(rec, f) COL(rec, f, RG__C_I64, 0)
#define U64(rec, f) COL(rec, f, RG__C_U64, 0)
#define INT(rec, f) COL(rec, f, RG__C_INT, 0)
#define U32(rec, f) COL(rec, f, RG__C_U32, 0)
#define BOOL(rec, f) COL(rec, f, RG__C_BOOL, 0)
#define TEXT(rec, f) COL(rec, f, RG__C_TEXT, sizeof(((rec *)0)->f))
#define PTR(rec, f) COL(rec, f, RG__C_PTR, 0)
#define PLAN(rec, f) COL(rec, f, RG__C_PLAN, 0)
#define ROWMAP(what_, cols_)                                                   \
    {                                                                          \
        .what = (what_), .cols = (cols_),                                      \
        .n = sizeof(cols_) / sizeof(cols_)[0]                                  \
    }

/* A preflight spec inside record rec at field f: engine, corpus,
 * timeout_s, memory_mb. */
#define SPEC(rec, f)                                                           \
    TEXT(rec, f.engine), TEXT(rec, f.corpus), I64(rec, f.timeout_s),           \
        I64(rec, f.memory_mb)

static const rg__col audit_cols[] = {
    I64(rg_audit_rec, id),      I64(rg_audit_rec, at_ms),
    TEXT(rg_audit_rec, actor),  TEXT(rg_audit_rec, role),
    TEXT(rg_audit_rec, action), TEXT(rg_audit_rec, target),
    TEXT(rg_audit_rec, reason), TEXT(rg_audit_rec, source),
    TEXT(rg_audit_rec, detail),
};
const rg__rowmap rg__audit_row = ROWMAP("audit", audit_cols);

static const rg__col channel_cols[] = {
    I64(rg_channel_rec, id),
    TEXT(rg_channel_rec, name),
    TEXT(rg_channel_rec, description),
    I64(rg_channel_rec, created_ms),
    I64(rg_channel_rec, current_release_id),
    SPEC(rg_channel_rec, preflight),
};
const rg__rowmap rg__channel_row = ROWMAP("channel", channel_cols);

static const rg__col release_cols[] = {
    I64(rg_release_rec, id),
    I64(rg_release_rec, channel_id),
    TEXT(rg_release_rec, channel),
    I64(rg_release_rec, version),
    TEXT(rg_release_rec, sha256),
    U64(rg_release_rec, size),
    TEXT(rg_release_rec, notes),
    TEXT(rg_release_rec, urgency),
    I64(rg_release_rec, created_ms),
    TEXT(rg_release_rec, created_by),
    TEXT(rg_release_rec, preflight_status),
    SPEC(rg_release_rec, preflight),
    TEXT(rg_release_rec, preflight_detail),
    I64(rg_release_rec, preflight_done_ms),
    TEXT(rg_release_rec, metadata),
    I64(rg_release_rec, quarantine_lifted_ms),
    INT(rg_release_rec, activation),
    I64(rg_release_rec, activation_max_ms),
    BOOL(rg_release_rec, activation_declared),
};
const rg__rowmap rg__release_row = ROWMAP("release", release_cols);

static const rg__col root_cols[] = {
    I64(rg_root_rec, version),     TEXT(rg_root_rec, digest),
    PTR(rg_root_rec, json),        I64(rg_root_rec, created_ms),
    TEXT(rg_root_rec, created_by),
};
const rg__rowmap rg__root_row = ROWMAP("root", root_cols);

static const rg__col rollout_cols[] = {
    I64(rg_rollout_rec, id),
    I64(rg_rollout_rec, release_id),
    I64(rg_rollout_rec, channel_id),
    TEXT(rg_rollout_rec, channel),
    I64(rg_rollout_rec, prev_release_id),
    PLAN(rg_rollout_rec, plan),
    TEXT(rg_rollout_rec, salt),
    INT(rg_rollout_rec, status.state),
    INT(rg_rollout_rec, status.wave),
    U32(rg_rollout_rec, status.share_ppm),
    I64(rg_rollout_rec, status.wave_started_ms),
    I64(rg_rollout_rec, status.updated_ms),
    I64(rg_rollout_rec, created_ms),
    TEXT(rg_rollout_rec, created_by),
};
const rg__rowmap rg__rollout_row = ROWMAP("rollout", rollout_cols);

static const rg__col decision_cols[] = {
    I64(rg_decision_rec, id),          I64(rg_decision_rec, rollout_id),
    I64(rg_decision_rec, at_ms),       INT(rg_decision_rec, tr.from_state),
    INT(rg_decision_rec, tr.to_state), INT(rg_decision_rec, tr.from_wave),
    INT(rg_decision_rec, tr.to_wave),  TEXT(rg_decision_rec, tr.reason),
    TEXT(rg_decision_rec, actor),      PTR(rg_decision_rec, evidence_json),
};
const rg__rowmap rg__decision_row = ROWMAP("decision", decision_cols);

static const rg__col token_cols[] = {
    I64(rg_token_rec, id),         TEXT(rg_token_rec, name),
    TEXT(rg_token_rec, role),      TEXT(rg_token_rec, hash),
    I64(rg_token_rec, created_ms), I64(rg_token_rec, expires_ms),
    I64(rg_token_rec, revoked_ms), TEXT(rg_token_rec, created_by),
};
const rg__rowmap rg__token_row = ROWMAP("token", token_cols);

static const rg__col enroll_key_cols[] = {
    I64(rg_enroll_key_rec, id),          TEXT(rg_enroll_key_rec, hash),
    I64(rg_enroll_key_rec, created_ms),  I64(rg_enroll_key_rec, expires_ms),
    I64(rg_enroll_key_rec, revoked_ms),  I64(rg_enroll_key_rec, uses_left),
    TEXT(rg_enroll_key_rec, created_by),
};
const rg__rowmap rg__enroll_key_row = ROWMAP("enrollment key", enroll_key_cols);

static const rg__col endpoint_cols[] = {
    TEXT(rg_endpoint_rec, id),          TEXT(rg_endpoint_rec, token_hash),
    TEXT(rg_endpoint_rec, attrs_json),  I64(rg_endpoint_rec, enrolled_ms),
    I64(rg_endpoint_rec, last_seen_ms), TEXT(rg_endpoint_rec, installed_json),
};
const rg__rowmap rg__endpoint_row = ROWMAP("endpoint", endpoint_cols);

static const rg__col event_cols[] = {
    TEXT(rg_event_rec, endpoint_id), TEXT(rg_event_rec, event_id),
    TEXT(rg_event_rec, type),        I64(rg_event_rec, release_id),
    TEXT(rg_event_rec, channel),     I64(rg_event_rec, reported_ms),
    I64(rg_event_rec, received_ms),  TEXT(rg_event_rec, detail),
};
const rg__rowmap rg__event_row = ROWMAP("event", event_cols);

static const rg__col policy_cols[] = {
    I64(rg_policy_rec, id),
    TEXT(rg_policy_rec, name),
    I64(rg_policy_rec, channel_id),
    TEXT(rg_policy_rec, channel),
    TEXT(rg_policy_rec, selector_json),
    TEXT(rg_policy_rec, mode),
    I64(rg_policy_rec, release_id),
    I64(rg_policy_rec, created_ms),
    TEXT(rg_policy_rec, created_by),
};
const rg__rowmap rg__policy_row = ROWMAP("policy", policy_cols);

static const rg__col int_cols[] = {I64(rg__scalars, a)};
const rg__rowmap rg__int_row = ROWMAP("value", int_cols);
static const rg__col int2_cols[] = {I64(rg__scalars, a), I64(rg__scalars, b)};
const rg__rowmap rg__int2_row = ROWMAP("values", int2_cols);
static const rg__col word_cols[] = {TEXT(rg__scalars, word)};
const rg__rowmap rg__word_row = ROWMAP("value", word_cols);
static const rg__col word_int_cols[] = {TEXT(rg__scalars, word),
                                        I64(rg__scalars, a)};
const rg__rowmap rg__word_int_row = ROWMAP("values", word_int_cols);
static const rg__col text_cols[] = {PTR(rg__scalars, text)};
const rg__rowmap rg__text_row = ROWMAP("value", text_cols);

static const rg__col release_channel_cols[] = {
    I64(rg__release_channel, id),
    I64(rg__release_channel, max_version),
    SPEC(rg__release_channel, spec),
};
const rg__rowmap rg__release_channel_row =
    ROWMAP("channel", release_channel_cols);

static const rg__col rollout_base_cols[] = {
    I64(rg__rollout_base, channel_id),      TEXT(rg__rollout_base, channel),
    I64(rg__rollout_base, version),         I64(rg__rollout_base, current_id),
    I64(rg__rollout_base, current_version),
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

void rg__row_vals(const rg__rowmap *m, const void *rec, rg__val *vals)
{
    for (size_t i = 0; i < m->n; i++) {
        const rg__col *c = &m->cols[i];
        const char *f = (const char *)rec + c->off;
        int64_t v = 0;
        assert(c->type != RG__C_PLAN);
        switch (c->type) {
        case RG__C_TEXT:
            vals[i] = RG__TEXT(f);
            continue;
        case RG__C_PTR:
            vals[i] = RG__TEXT(*(const char *const *)(const void *)f);
            continue;
        case RG__C_I64:
            v = *(const int64_t *)(const void *)f;
            break;
        case RG__C_U64:
            v = (int64_t) * (const uint64_t *)(const void *)f;
            break;
        case RG__C_INT:
            v = *(const int *)(const void *)f;
            break;
        case RG__C_U32:
            v = *(const uint32_t *)(const void *)f;
            break;
        case RG__C_BOOL:
            v = *(const bool *)(const void *)f;
            break;
        case RG__C_PLAN:
            break;
        }
        vals[i] = RG__INT(v);
    }
}
