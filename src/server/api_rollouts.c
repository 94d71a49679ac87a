/* api_rollouts.c - POST/GET /v1/rollouts, GET /v1/rollouts/{id} and the
 * operator actions pause, resume, promote, abort and rollback. */
#include "api.h"
#include "server/page.h"

#include "common/crypto.h"
#include "common/json.h"
#include "server/auth.h"
#include "server/canary.h"
#include "server/desired.h"
#include "server/fleet.h"
#include "server/stream.h"
#include "server/summary.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int decision_one(void *ctx, const rg_decision_rec *d)
{
    json_t *ev = NULL;
    if (d->evidence_json && d->evidence_json[0])
        ev = json_loads(d->evidence_json, 0, NULL);
    json_t *v = json_pack(
        "{s:I,s:s,s:s,s:i,s:i,s:s,s:s,s:o}", "at_ms", (json_int_t)d->at_ms,
        "from", rg_rollout_state_name(d->tr.from_state), "to",
        rg_rollout_state_name(d->tr.to_state), "from_wave", d->tr.from_wave,
        "to_wave", d->tr.to_wave, "reason", d->tr.reason, "actor", d->actor,
        "evidence", ev ? ev : json_null());
    return v ? json_array_append_new(ctx, v) : -1;
}

/* The counts object of docs/api.md of summary s. Returns a new reference
 * or NULL. */
static json_t *summary_json(const rg_ep_summary *s)
{
    const uint64_t *n = s->by_state.n;
    return json_pack(
        "{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "fleet", (json_int_t)s->fleet,
        "targeted", (json_int_t)s->targeted, "exposed",
        (json_int_t)rg_ep_tally_exposed(&s->by_state), "pending",
        (json_int_t)n[RG_EP_PENDING], "healthy", (json_int_t)n[RG_EP_HEALTHY],
        "silent", (json_int_t)n[RG_EP_SILENT], "failed",
        (json_int_t)n[RG_EP_FAILED], "unjudged", (json_int_t)n[RG_EP_UNJUDGED]);
}

/* {"stratum": name, "assigned", "exposed", "pending", "healthy", "silent",
 * "failed", "unjudged"} for each stratum of m with an endpoint in the rollout.
 * Returns a new reference or NULL. */
static json_t *strata_json(rg_server *srv, const rg_summary *m)
{
    json_t *a = json_array();
    for (uint32_t i = 0; a && i < m->n_strata; i++) {
        const rg_ep_tally *t = &m->strata[i];
        if (!rg_ep_tally_exposed(t) && !t->n[RG_EP_ASSIGNED])
            continue;
        char name[RG_STRATUM_NAME_MAX];
        rg_fleet_stratum_name(srv->fleet, i, name, sizeof name);
        if (json_array_append_new(
                a, json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "stratum",
                             name, "assigned", (json_int_t)t->n[RG_EP_ASSIGNED],
                             "exposed", (json_int_t)rg_ep_tally_exposed(t),
                             "pending", (json_int_t)t->n[RG_EP_PENDING],
                             "healthy", (json_int_t)t->n[RG_EP_HEALTHY],
                             "silent", (json_int_t)t->n[RG_EP_SILENT], "failed",
                             (json_int_t)t->n[RG_EP_FAILED], "unjudged",
                             (json_int_t)t->n[RG_EP_UNJUDGED])) != 0) {
            json_decref(a);
            a = NULL;
        }
    }
    return a;
}

/* Sets out's "counts" (and, measured, "strata" and "reports") for
 * rollout r: measured now (summary.h); else those of the health gate's
 * latest measure (canary.h; null when there is none: the rollout is not
 * evaluated), so a list scans no fleet. Returns 0 or -1 with err filled. */
static int counts_set(rg_server *srv, const rg_rollout_rec *r, bool measure,
                      json_t *out, rg_err *err)
{
    rg_ep_summary last;
    if (!measure) {
        json_t *c =
            rg_canary_summary(rg_desired_canary(srv->desired), r->id, &last)
                ? summary_json(&last)
                : json_null();
        if (!c || json_object_set_new(out, "counts", c) != 0)
            return rg_err_set(err, RG_ENOMEM, "out of memory");
        return 0;
    }
    rg_summary m;
    int rc = rg_summary_measure(srv, r, &m, err);
    if (rc == 0 &&
        (json_object_set_new(out, "counts", summary_json(&m.total)) != 0 ||
         json_object_set_new(out, "strata", strata_json(srv, &m)) != 0 ||
         json_object_set_new(out, "reports",
                             json_pack("{s:I,s:I,s:I}", "applying",
                                       (json_int_t)m.reports.applying,
                                       "healthy", (json_int_t)m.reports.healthy,
                                       "failed",
                                       (json_int_t)m.reports.failed)) != 0))
        rc = rg_err_set(err, RG_ENOMEM, "out of memory");
    rg_summary_release(&m);
    return rc;
}

/* Builds the rollout object of docs/api.md (with decisions when asked;
 * counts measured now when measure, else the gate's latest: counts_set).
 * Returns a new reference or NULL with err filled. */
static json_t *rollout_json(rg_server *srv, const rg_rollout_rec *r,
                            bool with_decisions, bool measure, rg_err *err)
{
    rg_release_rec rel;
    json_t *out = NULL, *decisions = NULL;
    if (rg_store_release_get(srv->store, r->release_id, &rel, err) != 0)
        return NULL;
    const rg_rollout_status *st = &r->status;
    const char *wave_name = st->wave >= 0 && (size_t)st->wave < r->plan.n_waves
                                ? r->plan.waves[st->wave].name
                                : "";
    out = json_pack(
        "{s:I,s:I,s:s,s:I,s:o,s:s,s:i,s:s,s:I,s:I,s:I,s:I,s:s,s:o}", "id",
        (json_int_t)r->id, "release", (json_int_t)r->release_id, "channel",
        r->channel, "version", (json_int_t)rel.version, "previous_release",
        rg__json_id_or_null(r->prev_release_id), "state",
        rg_rollout_state_name(st->state), "wave", st->wave, "wave_name",
        wave_name, "share_ppm", (json_int_t)st->share_ppm, "wave_started_ms",
        (json_int_t)st->wave_started_ms, "updated_ms",
        (json_int_t)st->updated_ms, "created_ms", (json_int_t)r->created_ms,
        "created_by", r->created_by, "plan", rg_plan_to_json(&r->plan));
    if (!out)
        goto oom;
    if (counts_set(srv, r, measure, out, err) != 0) {
        json_decref(out);
        return NULL;
    }
    if (!with_decisions)
        return out;
    decisions = json_array();
    if (!decisions)
        goto oom;
    int rc =
        rg_store_decision_list(srv->store, r->id, decision_one, decisions, err);
    if (rc != 0) {
        json_decref(decisions);
        json_decref(out);
        if (rc > 0 || err->code == RG_OK)
            rg_err_set(err, RG_ENOMEM, "out of memory");
        return NULL;
    }
    json_object_set_new(out, "decisions", decisions);
    /* The health gate's latest evaluation (canary.h), null before one. */
    json_t *last = rg_canary_last(rg_desired_canary(srv->desired), r->id);
    json_object_set_new(out, "evaluation", last ? last : json_null());
    return out;
oom:
    json_decref(out);
    rg_err_set(err, RG_ENOMEM, "out of memory");
    return NULL;
}

int rg__api_rollout_admits(const rg_release_rec *rel, const rg_channel_rec *ch,
                           const rg_plan *plan, rg_err *err)
{
    const char *st = rel->preflight_status;
    bool emergency = strcmp(plan->name, "emergency") == 0 ||
                     strcmp(rel->urgency, "emergency") == 0;
    long long id = (long long)rel->id;
    if (strcmp(st, "failed") == 0)
        return rg_err_field(err, RG_ECONFLICT, "release",
                            "release %lld cannot be rolled out: preflight "
                            "failed: %s",
                            id, rel->preflight_detail);
    if (strcmp(st, "pending") == 0)
        return rg_err_field(err, RG_ECONFLICT, "release",
                            "release %lld: preflight still running; roll it "
                            "out once it has passed",
                            id);
    if (strcmp(st, "passed") == 0)
        return 0;
    if (emergency && !ch->preflight.engine[0])
        return rg_err_field(err, RG_ECONFLICT, "release",
                            "the emergency lane requires a passing "
                            "preflight, and channel '%s' has none (register "
                            "one: PUT /v1/channels/%s/preflight)",
                            ch->name, ch->name);
    if (ch->preflight.engine[0])
        return rg_err_field(err, RG_ECONFLICT, "release",
                            "channel '%s' requires a passing preflight; "
                            "release %lld was created before the channel "
                            "registered it (preflight: none)",
                            ch->name, id);
    return 0;
}

static void send_rollout(rg_server *srv, rg_resp *resp, int status, int64_t id,
                         bool measure)
{
    rg_rollout_rec r;
    rg_err err;
    rg_err_clear(&err);
    json_t *v = NULL;
    rg_desired_observe_begin(srv->desired);
    if (rg_store_rollout_get(srv->store, id, &r, &err) == 0)
        v = rollout_json(srv, &r, true, measure, &err);
    rg_desired_observe_end(srv->desired);
    if (!v)
        rg_resp_error(resp, &err);
    else
        rg_resp_json(resp, status, v);
}

void rg_api_rollout_create(rg_server *srv, rg_req *req, rg_resp *resp)
{
    static const char *const allowed[] = {"release", "plan", NULL};
    int64_t release_id = 0;
    rg_rollout_rec r;
    rg_release_rec rel;
    rg_rollout_status pending = {.state = RG_RO_PENDING};
    rg_transition tr;
    rg_audit_rec audit;
    rg_err err;
    rg_err_clear(&err);
    json_t *body = rg__api_body(req, resp, allowed);
    if (!body)
        return;
    memset(&r, 0, sizeof r);
    if (rg_json_int(body, "release", true, 1, INT64_MAX, &release_id, &err))
        goto fail;
    json_t *plan = json_object_get(body, "plan");
    if (plan && !json_is_null(plan)) {
        if (rg_plan_from_json(plan, &r.plan, &err) != 0) {
            if (!err.field[0])
                snprintf(err.field, sizeof err.field, "plan");
            goto fail;
        }
    } else if (rg_plan_builtin("standard", &r.plan, &err) != 0) {
        goto fail;
    }
    if (rg_store_release_get(srv->store, release_id, &rel, &err) != 0) {
        if (err.code == RG_ENOTFOUND)
            snprintf(err.field, sizeof err.field, "release");
        goto fail;
    }
    /* A preflight only ever ends once (pending -> passed/failed), so a
     * release admitted here stays admissible. */
    rg_channel_rec ch;
    if (rg_store_channel_get(srv->store, rel.channel, &ch, &err) != 0 ||
        rg__api_rollout_admits(&rel, &ch, &r.plan, &err) != 0)
        goto fail;
    /* The store sets the target to rollout:<id> (one per object). */
    rg_audit_init(&audit, srv, req, "rollout.create", "rollout", NULL);
    snprintf(audit.detail, sizeof audit.detail,
             "{\"release\":%lld,\"plan\":\"%s\"}", (long long)release_id,
             r.plan.name);
    if (rg_rollout_command(&r.plan, &pending, RG_CMD_START, "rollout created",
                           audit.at_ms, rg_fleet_size(srv->fleet), &r.status,
                           &tr, &err) != 0)
        goto fail;
    r.release_id = release_id;
    rg_random_hex(r.salt, 16);
    r.created_ms = audit.at_ms;
    snprintf(r.created_by, sizeof r.created_by, "%s", audit.actor);
    rg_desired_publish_begin(srv->desired);
    int rc = rg_store_rollout_create(srv->store, &r, &audit, &err);
    if (rc == 0)
        rg__api_state_changed(srv);
    rg_desired_publish_end(srv->desired);
    if (rc != 0)
        goto fail;
    rg_stream_decision(srv->stream, r.id, &tr, audit.actor, audit.at_ms);
    json_decref(body);
    send_rollout(srv, resp, 201, r.id, true);
    return;
fail:
    json_decref(body);
    rg_resp_error(resp, &err);
}

/* Rollout records of a page, collected by a list (the store may not be
 * re-entered from its own callbacks, and each object needs more reads). */
typedef struct rec_list {
    rg_page *page;
    rg_rollout_rec *v;
    size_t n, cap;
} rec_list;

static int collect_one(void *ctx, const rg_rollout_rec *r)
{
    rec_list *l = ctx;
    int take = rg_page_step(l->page, r->id, NULL);
    if (take != 1)
        return take;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        rg_rollout_rec *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = *r;
    return 0;
}

/* ?active=1|true|0|false into *out. Returns 0 or fills resp (400). */
static int active_arg(const rg_req *req, bool *out, rg_resp *resp)
{
    const char *active = rg_req_query(req, "active");
    *out = active && (strcmp(active, "1") == 0 || strcmp(active, "true") == 0);
    if (active && !*out && strcmp(active, "0") != 0 &&
        strcmp(active, "false") != 0) {
        rg_resp_errorf(resp, RG_EINVAL, "active",
                       "query argument 'active' must be 1 or 0");
        return RG_EINVAL;
    }
    return 0;
}

/* ?active, ?channel, ?state and ?release into *f. Returns 0 or fills
 * resp (400 for a bad value, 404 for an unknown channel). */
static int filter_args(rg_server *srv, const rg_req *req, rg_rollout_filter *f,
                       rg_resp *resp)
{
    rg_channel_rec c;
    rg_err err;
    bool given;
    const char *state = rg_req_query(req, "state");
    f->channel = rg_req_query(req, "channel");
    f->state = state ? rg_rollout_state_parse(state) : -1;
    if (active_arg(req, &f->active_only, resp) != 0 ||
        rg__api_query_int(req, "release", 1, INT64_MAX, &f->release_id, &given,
                          resp) != 0)
        return RG_EINVAL;
    if (state && f->state < 0) {
        rg_resp_errorf(resp, RG_EINVAL, "state",
                       "query argument 'state' must be a rollout state "
                       "(running, held, paused, completed, halted, ...), "
                       "not '%.32s'",
                       state);
        return RG_EINVAL;
    }
    rg_err_clear(&err);
    if (f->channel && rg_store_channel_get(srv->store, f->channel, &c, &err)) {
        rg_resp_error(resp, &err);
        return err.code;
    }
    return 0;
}

void rg_api_rollout_list(rg_server *srv, rg_req *req, rg_resp *resp)
{
    rg_page page;
    rg_err err;
    rg_err_clear(&err);
    rg_rollout_filter f = {.state = -1};
    if (filter_args(srv, req, &f, resp) != 0 ||
        rg_page_parse(req, RG_PAGE_ID_DESC, &page, resp) != 0)
        return;
    /* The page and the item after it, which says whether more follow. */
    f.before_id = page.after_id;
    f.limit = page.limit + 1;
    rec_list l = {.page = &page};
    rg_desired_observe_begin(srv->desired);
    int rc = rg_store_rollout_query(srv->store, &f, collect_one, &l, &err);
    rg_desired_observe_end(srv->desired);
    for (size_t i = 0; (rc == 0 || rc == RG_PAGE_FULL) && i < l.n; i++) {
        json_t *v = rollout_json(srv, &l.v[i], false, false, &err);
        if (!v || rg_page_push(&page, v) != 0)
            rc = err.code != RG_OK ? err.code : -1;
    }
    free(l.v);
    rg_page_reply(&page, resp, "rollouts", rc, &err);
}

void rg_api_rollout_get(rg_server *srv, rg_req *req, rg_resp *resp)
{
    int64_t id, measure = 1;
    bool given;
    if (rg__api_param_id(req, 0, "id", &id, resp) != 0 ||
        rg__api_query_int(req, "measure", 0, 1, &measure, &given, resp) != 0)
        return;
    send_rollout(srv, resp, 200, id, measure != 0);
}

/* The evidence an operator's command stores: after resume and promote the
 * rollout's held strata are open again (strata.h), so the stored strata
 * state says so; NULL (none) for the other commands or on allocation
 * failure. A malloc'd JSON string. */
static char *action_evidence(rg_server *srv, int64_t id, rg_rollout_cmd cmd)
{
    if (cmd != RG_CMD_RESUME && cmd != RG_CMD_PROMOTE)
        return NULL;
    json_t *st =
        rg_strata_json(rg_desired_strata(srv->desired), srv->fleet, id);
    json_t *o = st && json_object_set_new(st, "held", json_array()) == 0
                    ? json_pack("{s:O}", "strata_state", st)
                    : NULL;
    char *text = o ? rg_json_dump(o) : NULL;
    json_decref(st);
    json_decref(o);
    return text;
}

/* Applies an operator command: model decides, store commits with CAS (a
 * concurrent change is re-read and the command retried once). */
static void action(rg_server *srv, rg_req *req, rg_resp *resp,
                   rg_rollout_cmd cmd, const char *name)
{
    static const char *const allowed[] = {"reason", NULL};
    const char *reason = NULL;
    int64_t id;
    char target[48], act[48];
    rg_rollout_rec r;
    rg_rollout_status next;
    rg_transition tr;
    rg_audit_rec audit;
    rg_err err;
    rg_err_clear(&err);
    if (rg__api_param_id(req, 0, "id", &id, resp) != 0)
        return;
    json_t *body = rg__api_body(req, resp, allowed);
    if (!body)
        return;
    if (rg_json_string(body, "reason", true, RG_REASON_MAX, &reason, &err))
        goto fail;
    snprintf(target, sizeof target, "rollout:%lld", (long long)id);
    snprintf(act, sizeof act, "rollout.%s", name);
    int rc = RG_ECONFLICT;
    char *evidence = action_evidence(srv, id, cmd);
    /* The new state and the check-in path's adoption of it become visible
     * together (desired.h, publishing). */
    rg_desired_publish_begin(srv->desired);
    for (int attempt = 0; attempt < 2 && rc == RG_ECONFLICT; attempt++) {
        if ((rc = rg_store_rollout_get(srv->store, id, &r, &err)) != 0)
            break;
        rg_audit_init(&audit, srv, req, act, target, reason);
        rc = rg_rollout_command(&r.plan, &r.status, cmd, reason, audit.at_ms,
                                rg_fleet_size(srv->fleet), &next, &tr, &err);
        if (rc != 0)
            break; /* invalid in this state: 409, no retry */
        rc = rg_store_rollout_transition(srv->store, id, &r.status, &next, &tr,
                                         audit.actor, evidence, &audit, &err);
    }
    if (rc == 0 && evidence)
        rg_strata_release_holds(rg_desired_strata(srv->desired), id);
    if (rc == 0)
        rg__api_state_changed(srv);
    rg_desired_publish_end(srv->desired);
    free(evidence);
    if (rc != 0)
        goto fail;
    rg_stream_decision(srv->stream, id, &tr, audit.actor, audit.at_ms);
    json_decref(body);
    send_rollout(srv, resp, 200, id, true);
    return;
fail:
    json_decref(body);
    rg_resp_error(resp, &err);
}

void rg_api_rollout_promote(rg_server *srv, rg_req *req, rg_resp *resp)
{
    action(srv, req, resp, RG_CMD_PROMOTE, "promote");
}

void rg_api_rollout_pause(rg_server *srv, rg_req *req, rg_resp *resp)
{
    action(srv, req, resp, RG_CMD_PAUSE, "pause");
}

void rg_api_rollout_resume(rg_server *srv, rg_req *req, rg_resp *resp)
{
    action(srv, req, resp, RG_CMD_RESUME, "resume");
}

void rg_api_rollout_abort(rg_server *srv, rg_req *req, rg_resp *resp)
{
    action(srv, req, resp, RG_CMD_ABORT, "abort");
}

void rg_api_rollout_rollback(rg_server *srv, rg_req *req, rg_resp *resp)
{
    action(srv, req, resp, RG_CMD_ROLLBACK, "rollback");
}
