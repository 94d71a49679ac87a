/* flag_rollout.c - see flag_rollout.h. */
#include "flag_rollout.h"

#include "common/buf.h"
#include "common/clock.h"
#include "common/event_type.h"
#include "common/json.h"
#include "common/log.h"
#include "flags/share.h"
#include "health/gate.h"
#include "model/bucket.h"
#include "model/exposure.h"
#include "model/rollout_event.h"
#include "server/canary.h"
#include "server/flag_floor.h"
#include "server/flag_strategy.h"
#include "server/fleet.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What the check-in path needs of an active rollout. */
typedef struct pub {
    int64_t id;
    char env[RG_NAME_MAX + 1];
    char name[RG_FLAG_NAME_MAX + 1];
    uint32_t from_pct, pct;
    int64_t stamp; /* versions of env once its share was written */
    char **floor;  /* the floor's ids (flag_floor.h), strcmp order */
    size_t nfloor;
} pub;

struct rg_flag_rollouts {
    rg_canary *canary; /* the counting, as releases' (its own ids) */
    pthread_rwlock_t lock;
    pub *v;
    size_t n;
};

/* A rollout read from the store. */
typedef struct fr {
    rg_flag_rollout_rec rec; /* rec.state unused (see doc) */
    json_t *doc;             /* the state document; owned */
    rg_plan plan;
    rg_rollout_status st;
    uint32_t from_pct, pct;
    bool disable; /* on_halt "disable" */
    int64_t stamp;
    /* the webhook event of the decision not yet stored (fr_decide), its
     * body's "rollout" object (malloc'd); NULL: none */
    const char *event;
    char *hook;
    /* the floor (flag_floor.h) as its document keeps it ("floor"); known
     * once computed, at the plan's first non-internal wave */
    char **floor;
    size_t nfloor;
    bool floor_known;
} fr;

static void pubs_free(pub *p, size_t n)
{
    for (size_t i = 0; p && i < n; i++)
        rg_flag_floor_free(p[i].floor, p[i].nfloor);
    free(p);
}

int rg_flag_rollouts_new(rg_flag_rollouts **out, rg_err *err)
{
    rg_flag_rollouts *f = calloc(1, sizeof *f);
    if (!f || rg_canary_new(&f->canary, err) != 0) {
        free(f);
        return rg_err_set(err, RG_ENOMEM, "out of memory");
    }
    pthread_rwlock_init(&f->lock, NULL);
    *out = f;
    return 0;
}

void rg_flag_rollouts_free(rg_flag_rollouts *f)
{
    if (!f)
        return;
    rg_canary_free(f->canary);
    pthread_rwlock_destroy(&f->lock);
    pubs_free(f->v, f->n);
    free(f);
}

/* ------------------------------------------------------------------ */
/* state document                                                     */

static void fr_release(fr *r)
{
    json_decref(r->doc);
    r->doc = NULL;
    free(r->hook);
    r->hook = NULL;
    rg_flag_floor_free(r->floor, r->nfloor);
    r->floor = NULL;
    r->nfloor = 0;
}

/* Reads r's floor from its document (ids stored in strcmp order).
 * Returns 0 or RG_ENOMEM. */
static int floor_load(fr *r)
{
    const json_t *a = json_object_get(r->doc, "floor"), *id;
    size_t i;
    r->floor_known = json_is_array(a);
    if (!json_array_size(a))
        return 0;
    if (!(r->floor = calloc(json_array_size(a), sizeof *r->floor)))
        return RG_ENOMEM;
    json_array_foreach(a, i, id)
    {
        if (!(r->floor[r->nfloor] =
                  strdup(json_string_value(id) ? json_string_value(id) : "")))
            return RG_ENOMEM;
        r->nfloor++;
    }
    return 0;
}

/* Reads rec's state document into *out. Returns 0 or RG_EIO. */
static int fr_load(const rg_flag_rollout_rec *rec, fr *out, rg_err *err)
{
    memset(out, 0, sizeof *out);
    out->rec = *rec;
    out->rec.state = NULL;
    json_t *d = json_loads(rec->state, 0, NULL);
    json_t *s = json_object_get(d, "status");
    int state =
        rg_rollout_state_parse(json_string_value(json_object_get(s, "state")));
    if (!d || state < 0 ||
        rg_plan_from_json(json_object_get(d, "plan"), &out->plan, err) != 0) {
        json_decref(d);
        return rg_err_set(err, RG_EIO, "flag rollout %lld: bad stored state",
                          (long long)rec->id);
    }
    out->doc = d;
    out->st = (rg_rollout_status){
        .state = state,
        .wave = (int)json_integer_value(json_object_get(s, "wave")),
        .share_ppm =
            (uint32_t)json_integer_value(json_object_get(s, "share_ppm")),
        .wave_started_ms =
            json_integer_value(json_object_get(s, "wave_started_ms")),
        .updated_ms = json_integer_value(json_object_get(s, "updated_ms"))};
    out->from_pct =
        (uint32_t)json_integer_value(json_object_get(d, "from_percent"));
    out->pct = (uint32_t)json_integer_value(json_object_get(d, "percent"));
    out->stamp = json_integer_value(json_object_get(d, "stamp"));
    out->disable = strcmp(json_string_value(json_object_get(d, "on_halt"))
                              ? json_string_value(json_object_get(d, "on_halt"))
                              : "",
                          "disable") == 0;
    if (floor_load(out) != 0) {
        fr_release(out);
        return rg_err_set(err, RG_ENOMEM, "out of memory");
    }
    return 0;
}

/* Writes r's fields back into its document. Returns 0 or RG_ENOMEM. */
static int fr_sync(fr *r)
{
    json_t *s = json_pack("{s:s,s:i,s:I,s:I,s:I}", "state",
                          rg_rollout_state_name(r->st.state), "wave",
                          r->st.wave, "share_ppm", (json_int_t)r->st.share_ppm,
                          "wave_started_ms", (json_int_t)r->st.wave_started_ms,
                          "updated_ms", (json_int_t)r->st.updated_ms);
    if (!s || json_object_set_new(r->doc, "status", s) ||
        json_object_set_new(r->doc, "percent", json_integer(r->pct)) ||
        json_object_set_new(r->doc, "stamp", json_integer(r->stamp)))
        return RG_ENOMEM;
    return 0;
}

/* Stores r (created when r->rec.id is 0) with audit (may be NULL). */
static int fr_save(rg_server *srv, fr *r, const rg_audit_rec *audit,
                   rg_err *err)
{
    char *text = NULL;
    if (fr_sync(r) != 0 || !(text = rg_json_dump(r->doc)))
        return rg_err_set(err, RG_ENOMEM, "out of memory");
    r->rec.state = text;
    r->rec.event = r->hook ? r->event : NULL;
    r->rec.hook = r->hook;
    int rc = rg_store_flag_rollout_put(srv->store, &r->rec, audit, err);
    r->rec.state = r->rec.event = r->rec.hook = NULL;
    free(text);
    if (rc == 0) { /* queued with this put: never again */
        free(r->hook);
        r->hook = NULL;
    }
    return rc;
}

static uint32_t wanted_percent(const fr *r);

/* When transition tr of r (its status already tr's end) is a webhook
 * event (model/rollout_event.h), sets r->event and r->hook: the body's
 * "rollout" object (docs/webhooks.md), the reason cut short if the object
 * would not fit the store's RG_DELIVERY_FLAG_MAX. Returns 0 or
 * RG_ENOMEM. */
static int fr_hook(fr *r, const rg_transition *tr, const json_t *evidence)
{
    const char *event = rg_rollout_event(tr->from_state, tr->to_state);
    const json_t *counts = json_object_get(evidence, "counts");
    free(r->hook);
    r->hook = NULL;
    for (int cut = (int)strlen(tr->reason); event && !r->hook && cut >= 0;
         cut = cut ? cut / 2 : -1) {
        while (cut > 0 && ((unsigned char)tr->reason[cut] & 0xc0) == 0x80)
            cut--; /* not inside a UTF-8 sequence */
        json_t *o = json_pack(
            "{s:I,s:s,s:s,s:s,s:i,s:i,s:s#,s:O?}", "id", (json_int_t)r->rec.id,
            "flag", r->rec.name, "environment", r->rec.environment, "state",
            rg_rollout_state_name(tr->to_state), "wave", tr->to_wave,
            "share_percent", (int)wanted_percent(r), "reason", tr->reason,
            (size_t)cut, "counts", counts);
        char *text = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        json_decref(o);
        if (!text)
            return RG_ENOMEM;
        if (strlen(text) <= RG_DELIVERY_FLAG_MAX)
            r->hook = text;
        else
            free(text);
    }
    r->event = event;
    return 0;
}

/* Appends a decision (evidence: new reference, may be NULL) to r's
 * document, keeping the newest RG_FLAG_ROLLOUT_DECISIONS, and readies its
 * webhook event (fr_hook), queued by the next fr_save. */
static int fr_decide(fr *r, int64_t now, const rg_transition *tr,
                     const char *actor, json_t *evidence)
{
    if (fr_hook(r, tr, evidence) != 0) {
        json_decref(evidence);
        return RG_ENOMEM;
    }
    json_t *a = json_object_get(r->doc, "decisions");
    if (!json_is_array(a)) {
        a = json_array();
        json_object_set_new(r->doc, "decisions", a);
    }
    json_t *d = json_pack("{s:I,s:s,s:s,s:i,s:i,s:s,s:s,s:o?}", "at_ms",
                          (json_int_t)now, "from",
                          rg_rollout_state_name(tr->from_state), "to",
                          rg_rollout_state_name(tr->to_state), "from_wave",
                          tr->from_wave, "to_wave", tr->to_wave, "reason",
                          tr->reason, "actor", actor, "evidence", evidence);
    if (!a || !d || json_array_append_new(a, d) != 0)
        return RG_ENOMEM;
    while (json_array_size(a) > RG_FLAG_ROLLOUT_DECISIONS)
        json_array_remove(a, 0);
    return 0;
}

/* ------------------------------------------------------------------ */
/* the flag's share                                                   */

/* The percentage r's state asks for. */
static uint32_t wanted_percent(const fr *r)
{
    uint32_t p = rg_flag_share_percent(r->st.share_ppm);
    switch (r->st.state) {
    case RG_RO_COMPLETED:
        return 100;
    case RG_RO_HALTED:
    case RG_RO_ROLLED_BACK:
    case RG_RO_PENDING:
        return r->from_pct;
    default:
        return p > r->from_pct ? p : r->from_pct;
    }
}

/* The audit row of the orchestrator's write of pct (off: disabled) into
 * r's flag. */
static void share_audit(rg_server *srv, const fr *r, uint32_t pct, bool off,
                        rg_audit_rec *a)
{
    memset(a, 0, sizeof *a);
    a->at_ms = rg_clock_now(srv->clock);
    snprintf(a->actor, sizeof a->actor, "orchestrator");
    snprintf(a->role, sizeof a->role, "system");
    snprintf(a->action, sizeof a->action, "flag.rollout");
    snprintf(a->target, sizeof a->target, "flag:%.64s/%.88s",
             r->rec.environment, r->rec.name);
    snprintf(a->reason, sizeof a->reason, "flag rollout %lld (%s): %u%%%s",
             (long long)r->rec.id, rg_rollout_state_name(r->st.state), pct,
             off ? ", disabled" : "");
}

/* Computes r's floor (flag_floor.h) when it reaches the plan's first
 * non-internal wave without one, and keeps it in its document. Returns 1
 * when it did (r changed), 0 when not, or RG_ENOMEM. */
static int floor_ensure(rg_server *srv, fr *r, rg_err *err)
{
    int first = rg_exposure_first_wave(&r->plan);
    if (r->floor_known || r->st.state != RG_RO_RUNNING || first < 0 ||
        r->st.wave < first)
        return 0;
    int rc =
        rg_flag_floor(srv->fleet, r->rec.name, &r->plan, r->st.wave,
                      r->st.share_ppm, r->from_pct, &r->floor, &r->nfloor, err);
    json_t *a = rc == 0 ? json_array() : NULL;
    for (size_t i = 0; a && i < r->nfloor; i++)
        if (json_array_append_new(a, json_string(r->floor[i])) != 0)
            json_decref(a), a = NULL;
    if (rc == 0 && (!a || json_object_set_new(r->doc, "floor", a) != 0))
        rc = rg_err_set(err, RG_ENOMEM, "out of memory");
    r->floor_known = rc == 0;
    return rc == 0 ? 1 : rc;
}

/* The floor's ids that r's state asks the flag to list, comma-separated
 * (malloc'd; "" when none): the floor while the share is below 100 %
 * and the rollout is not halted, rolled back or pending. NULL when out of
 * memory. */
static char *floor_wanted(const fr *r)
{
    bool on = wanted_percent(r) < 100 && r->st.state != RG_RO_HALTED &&
              r->st.state != RG_RO_ROLLED_BACK && r->st.state != RG_RO_PENDING;
    rg_buf b;
    rg_buf_init(&b, SIZE_MAX);
    for (size_t i = 0; on && i < r->nfloor; i++)
        if (rg_buf_printf(&b, "%s%s", i ? "," : "", r->floor[i]) != 0) {
            rg_buf_release(&b);
            return NULL;
        }
    char *s = strdup(b.len ? b.data : "");
    rg_buf_release(&b);
    return s;
}

/* Makes the flag say what r's state asks for (share, floor, switch), then
 * remembers the stamp endpoints must reach (r->pct, r->stamp). Returns 1
 * when r changed (the caller stores it), 0 when not, or an error. */
static int reconcile(rg_server *srv, fr *r, rg_err *err)
{
    rg_flag_strategy fs = {0};
    rg_audit_rec a;
    int64_t versions = 0, newest = 0;
    bool wrote = false;
    char *floor = NULL;
    int changed = floor_ensure(srv, r, err), rc = changed < 0 ? changed : 0;
    if (rc == 0 && !(floor = floor_wanted(r)))
        rc = rg_err_set(err, RG_ENOMEM, "out of memory");
    if (rc == 0)
        rc = rg_flag_strategy_read(srv->store, r->rec.environment, r->rec.name,
                                   &fs, err);
    uint32_t want = wanted_percent(r);
    bool off = r->disable && r->st.state == RG_RO_HALTED && fs.enabled;
    if (rc == 0 && (fs.percent != (int)want || off ||
                    strcmp(fs.floor ? fs.floor : "", floor) != 0)) {
        share_audit(srv, r, want, off, &a);
        rc = rg_flag_strategy_write(srv->store, r->rec.environment, r->rec.name,
                                    fs.version, want, floor, off, &a, err);
        wrote = rc == 0;
    }
    rg_flag_strategy_release(&fs);
    free(floor);
    if (rc == 0 &&
        (rc = rg_store_flag_stamp(srv->store, r->rec.environment, &versions,
                                  &newest, err)) == 0 &&
        (r->pct != want || r->stamp == 0 || wrote || changed)) {
        r->pct = want;
        r->stamp = versions;
        return 1;
    }
    return rc;
}

/* ------------------------------------------------------------------ */
/* check-in                                                           */

/* The version count of a stamp "VERSIONS-NEWEST_MS", 0 when none. */
static int64_t stamp_versions(const char *s)
{
    return s ? strtoll(s, NULL, 10) : 0;
}

void rg_flag_rollouts_checkin(rg_server *srv, const char *id, const char *env,
                              const char *seen, const char *active,
                              const char *good, int64_t now_ms)
{
    rg_flag_rollouts *f = srv->flag_rollouts;
    int64_t s = stamp_versions(seen), a = stamp_versions(active),
            g = stamp_versions(good);
    if (!f)
        return;
    pthread_rwlock_rdlock(&f->lock);
    for (size_t i = 0; i < f->n; i++) {
        const pub *p = &f->v[i];
        if (strcmp(p->env, env) != 0 || p->stamp <= 0 ||
            !(rg_flag_share_flipped(rg_flag_share_bucket(p->name, id),
                                    p->from_pct * RG_FLAG_SHARE_STEP_PPM,
                                    p->pct * RG_FLAG_SHARE_STEP_PPM) ||
              rg_flag_floor_has(p->floor, p->nfloor, id)))
            continue;
        int64_t key = RG_FLEET_FLAG_KEY + p->id;
        if (a >= p->stamp || s >= p->stamp)
            rg_fleet_canary_event(srv->fleet, id, key, RG_EVENT_APPLYING,
                                  now_ms, NULL);
        if (g >= p->stamp)
            rg_fleet_canary_event(srv->fleet, id, key, RG_EVENT_HEALTHY, now_ms,
                                  NULL);
        if (s >= p->stamp && a < p->stamp) /* it fell back from it */
            rg_fleet_canary_event(srv->fleet, id, key, RG_EVENT_CRASHED, now_ms,
                                  NULL);
    }
    pthread_rwlock_unlock(&f->lock);
}

/* Replaces the check-in path's list with the rollouts v[0..n) (their
 * floors moved into it). */
static void publish(rg_flag_rollouts *f, fr *v, size_t n)
{
    pub *p = n ? calloc(n, sizeof *p) : NULL;
    for (size_t i = 0; p && i < n; i++) {
        p[i].id = v[i].rec.id;
        snprintf(p[i].env, sizeof p[i].env, "%s", v[i].rec.environment);
        snprintf(p[i].name, sizeof p[i].name, "%s", v[i].rec.name);
        p[i].from_pct = v[i].from_pct;
        p[i].pct = v[i].pct;
        p[i].stamp = v[i].st.state == RG_RO_HALTED ? 0 : v[i].stamp;
        p[i].floor = v[i].floor;
        p[i].nfloor = v[i].nfloor;
        v[i].floor = NULL;
        v[i].nfloor = 0;
    }
    pthread_rwlock_wrlock(&f->lock);
    pub *old = f->v;
    size_t n_old = f->n;
    f->v = p;
    f->n = p ? n : 0;
    pthread_rwlock_unlock(&f->lock);
    pubs_free(old, n_old);
}

/* ------------------------------------------------------------------ */
/* tick                                                               */

/* The rollout as the canary's counting sees it (canary.h). */
static void as_rollout(const fr *r, rg_rollout_rec *ro)
{
    memset(ro, 0, sizeof *ro);
    ro->id = r->rec.id;
    ro->release_id = RG_FLEET_FLAG_KEY + r->rec.id;
    ro->plan = r->plan;
    ro->status = r->st;
    ro->created_ms = r->rec.created_ms;
    snprintf(ro->salt, sizeof ro->salt, "flag");
}

/* The decision's evidence: counts and the gate's result (new reference). */
static json_t *evidence_of(const rg_wave_counts *c, const rg_gate_result *g)
{
    return json_pack("{s:{s:I,s:I,s:I,s:I,s:I,s:I}, s:{s:s,s:s,s:O?}}",
                     "counts", "fleet", (json_int_t)c->fleet, "targeted",
                     (json_int_t)c->targeted, "exposed", (json_int_t)c->exposed,
                     "healthy", (json_int_t)c->healthy, "failed",
                     (json_int_t)c->failed, "silent", (json_int_t)c->silent,
                     "gate", "verdict", rg_verdict_name(g->verdict), "reason",
                     g->reason, "evidence", g->evidence);
}

/* The audit row of the orchestrator's decision (action, reason) on r. */
static void decision_audit(rg_server *srv, const fr *r, const char *action,
                           const char *reason, rg_audit_rec *a)
{
    memset(a, 0, sizeof *a);
    a->at_ms = rg_clock_now(srv->clock);
    snprintf(a->actor, sizeof a->actor, "orchestrator");
    snprintf(a->role, sizeof a->role, "system");
    snprintf(a->action, sizeof a->action, "%s", action);
    snprintf(a->target, sizeof a->target, "flag:%.64s/%.88s",
             r->rec.environment, r->rec.name);
    snprintf(a->reason, sizeof a->reason, "%s", reason);
}

static const char *decision_action(int to_state)
{
    switch (to_state) {
    case RG_RO_COMPLETED:
        return "flag.rollout.complete";
    case RG_RO_HALTED:
        return "flag.rollout.halt";
    case RG_RO_HELD:
        return "flag.rollout.hold";
    default:
        return "flag.rollout.advance";
    }
}

/* Runs the gate on r at now; stores a transition. Returns 1 when r moved,
 * 0 when not, or an error. */
static int judge(rg_server *srv, fr *r, int64_t now, rg_err *err)
{
    rg_flag_rollouts *f = srv->flag_rollouts;
    rg_rollout_rec ro;
    rg_wave_counts counts;
    rg_health_gate_ctx hctx;
    rg_rollout_status next;
    rg_transition tr;
    rg_gate_result gate;
    memset(&gate, 0, sizeof gate);
    as_rollout(r, &ro);
    int rc = rg_canary_measure(f->canary, srv, &ro, NULL, 0, now, &counts,
                               &hctx, err);
    if (rc != 0)
        return rc;
    rc = (r->st.state == RG_RO_RUNNING ? rg_rollout_tick : rg_rollout_watch)(
        &r->plan, &r->st, &counts, rg_health_gate, &hctx, now, &next, &tr,
        &gate, err);
    json_t *ev = rc >= 0 ? evidence_of(&counts, &gate) : NULL;
    if (rc >= 0)
        rg_canary_note(f->canary, r->rec.id, &gate, ev, now, false);
    if (rc == 1) {
        rg_audit_rec a;
        decision_audit(srv, r, decision_action(tr.to_state), tr.reason, &a);
        r->st = next;
        if (fr_decide(r, now, &tr, "orchestrator", json_incref(ev)) != 0)
            rc = rg_err_set(err, RG_ENOMEM, "out of memory");
        else if ((rc = fr_save(srv, r, &a, err)) == 0)
            rc = 1;
        if (rc == 1)
            rg_info("flag rollout %lld (%s/%s): %s", (long long)r->rec.id,
                    r->rec.environment, r->rec.name, tr.reason);
    }
    json_decref(ev);
    rg_gate_result_release(&gate);
    return rc;
}

/* Whether r needs nothing more: final, or completed and done soaking. */
static bool finished(rg_server *srv, const fr *r, int64_t now)
{
    rg_rollout_rec ro;
    if (r->st.state == RG_RO_COMPLETED) {
        as_rollout(r, &ro);
        return !rg_canary_soaking(srv->flag_rollouts->canary, &ro, now);
    }
    return rg_rollout_state_final(r->st.state);
}

/* One tick of rollout r. */
static int tick_one(rg_server *srv, fr *r, int64_t now, rg_err *err)
{
    int rc = reconcile(srv, r, err);
    if (rc == 1)
        rc = fr_save(srv, r, NULL, err);
    if (rc != 0)
        return rc;
    if (finished(srv, r, now)) {
        r->rec.active = 0;
        return fr_save(srv, r, NULL, err);
    }
    if (r->st.state != RG_RO_RUNNING && r->st.state != RG_RO_HELD &&
        r->st.state != RG_RO_COMPLETED)
        return 0;
    if ((rc = judge(srv, r, now, err)) != 1)
        return rc;
    rc = reconcile(srv, r, err); /* the new share, at once */
    return rc == 1 ? fr_save(srv, r, NULL, err) : rc;
}

/* The active rollouts, loaded. */
typedef struct fr_list {
    fr *v;
    size_t n, cap;
    int rc;
    rg_err *err;
} fr_list;

static int collect(void *ctx, const rg_flag_rollout_rec *rec)
{
    fr_list *l = ctx;
    if (rg_array_reserve((void **)&l->v, &l->cap, l->n + 1, sizeof *l->v) < 0)
        return RG_ENOMEM;
    if (fr_load(rec, &l->v[l->n], l->err) != 0)
        return 0; /* an unreadable row is skipped */
    l->n++;
    return 0;
}

static void list_release(fr_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        fr_release(&l->v[i]);
    free(l->v);
}

int rg_flag_rollouts_tick(rg_server *srv, rg_err *err)
{
    rg_flag_rollouts *f = srv->flag_rollouts;
    rg_err e1, e0;
    rg_err_clear(&e1);
    rg_err_clear(&e0);
    if (!f)
        return 0; /* a server without them (server.h) */
    if (!err)
        err = &e0;
    fr_list l = {.err = &e1};
    int rc = rg_store_flag_rollout_list(srv->store, NULL, NULL, true, collect,
                                        &l, err);
    int64_t now = rg_clock_now(srv->clock), *ids = NULL;
    if (rc == 0 && !(ids = calloc(l.n + 1, sizeof *ids)))
        rc = rg_err_set(err, RG_ENOMEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < l.n; i++) {
        ids[i] = l.v[i].rec.id;
        rg_err_clear(&e1);
        int r1 = tick_one(srv, &l.v[i], now, &e1);
        if (r1 < 0 && r1 != RG_ECONFLICT)
            rg_warn("flag rollout %lld: %s", (long long)ids[i], e1.msg);
    }
    if (rc == 0) {
        rg_canary_retain(f->canary, ids, l.n);
        publish(f, l.v, l.n);
    }
    free(ids);
    list_release(&l);
    return rc;
}

/* ------------------------------------------------------------------ */
/* API                                                                */

/* Reads the newest rollout of (env, name) into *out. */
static int newest(rg_server *srv, const char *env, const char *name, fr *out,
                  rg_err *err)
{
    rg_err e1;
    fr_list l = {.err = &e1};
    int rc = rg_store_flag_rollout_list(srv->store, env, name, false, collect,
                                        &l, err);
    if (rc == 0 && l.n == 0)
        rc = rg_err_field(err, RG_ENOTFOUND, "name",
                          "flag '%s' in '%s' has no rollout", name, env);
    if (rc == 0) {
        *out = l.v[0];
        memset(&l.v[0], 0, sizeof l.v[0]); /* what it owns is *out's */
    }
    list_release(&l);
    return rc;
}

int rg_flag_rollout_get(rg_server *srv, const char *env, const char *name,
                        json_t **out, rg_err *err)
{
    fr r;
    int rc = newest(srv, env, name, &r, err);
    if (rc != 0)
        return rc;
    json_t *d = r.doc;
    *out = json_pack(
        "{s:I,s:s,s:s,s:s,s:i,s:i,s:i,s:O,s:O,s:I,s:s,s:s,s:O}", "id",
        (json_int_t)r.rec.id, "environment", r.rec.environment, "name",
        r.rec.name, "state", rg_rollout_state_name(r.st.state), "wave",
        r.st.wave, "share_percent", (int)r.pct, "from_percent", (int)r.from_pct,
        "on_halt", json_object_get(d, "on_halt"), "plan",
        json_object_get(d, "plan"), "created_ms", (json_int_t)r.rec.created_ms,
        "created_by", r.rec.created_by, "reason", r.rec.reason, "decisions",
        json_object_get(d, "decisions"));
    json_t *last = srv->flag_rollouts
                       ? rg_canary_last(srv->flag_rollouts->canary, r.rec.id)
                       : NULL;
    json_t *ds = json_object_get(d, "decisions");
    json_t *c = json_object_get(
        json_object_get(last ? last
                             : json_array_get(ds, json_array_size(ds) - 1),
                        "evidence"),
        "counts");
    if (*out)
        json_object_set_new(*out, "counts", c ? json_incref(c) : json_object());
    if (*out && last)
        json_object_set_new(*out, "evaluation", last);
    else
        json_decref(last);
    fr_release(&r);
    return *out ? 0 : rg_err_set(err, RG_ENOMEM, "out of memory");
}

/* Fills a new rollout's fields and document (plan: borrowed JSON). */
static int fr_new(rg_server *srv, fr *r, const char *env, const char *name,
                  const json_t *plan, const char *on_halt,
                  const rg_audit_rec *audit, rg_err *err)
{
    rg_rollout_status pending = {0};
    rg_transition tr;
    memset(r, 0, sizeof *r);
    if ((plan ? rg_plan_from_json(plan, &r->plan, err)
              : rg_plan_builtin("standard", &r->plan, err)) != 0) {
        if (!err->field[0])
            snprintf(err->field, sizeof err->field, "plan");
        return RG_EINVAL;
    }
    if (strcmp(on_halt, "previous") != 0 && strcmp(on_halt, "disable") != 0)
        return rg_err_field(err, RG_EINVAL, "on_halt",
                            "on_halt '%.32s': expected 'previous' or "
                            "'disable'",
                            on_halt);
    if (rg_rollout_command(&r->plan, &pending, RG_CMD_START, audit->reason,
                           audit->at_ms, rg_fleet_size(srv->fleet), &r->st, &tr,
                           err) != 0)
        return err->code;
    snprintf(r->rec.environment, sizeof r->rec.environment, "%s", env);
    snprintf(r->rec.name, sizeof r->rec.name, "%s", name);
    snprintf(r->rec.created_by, sizeof r->rec.created_by, "%s", audit->actor);
    snprintf(r->rec.reason, sizeof r->rec.reason, "%.*s",
             (int)sizeof r->rec.reason - 1, audit->reason);
    r->rec.created_ms = audit->at_ms;
    r->rec.active = 1;
    r->disable = strcmp(on_halt, "disable") == 0;
    r->doc = json_pack("{s:o,s:s,s:i,s:[]}", "plan", rg_plan_to_json(&r->plan),
                       "on_halt", on_halt, "from_percent", (int)r->from_pct,
                       "decisions");
    if (!r->doc || fr_decide(r, audit->at_ms, &tr, audit->actor, NULL) != 0)
        return rg_err_set(err, RG_ENOMEM, "out of memory");
    return 0;
}

/* The share the flag has now: its strategy's percentage. */
static int share_now(rg_server *srv, const char *env, const char *name,
                     uint32_t *pct, rg_err *err)
{
    rg_flag_strategy fs = {.percent = -1};
    int rc = rg_flag_strategy_read(srv->store, env, name, &fs, err);
    rg_flag_strategy_release(&fs);
    if (rc == 0 && fs.percent < 0)
        rc = rg_err_field(err, RG_EINVAL, "name",
                          "flag '%s' has no flexibleRollout strategy with "
                          "groupId '%s' and a rollout of 0..100 (create it "
                          "with --rollout 0)",
                          name, name);
    *pct = fs.percent < 0 ? 0 : (uint32_t)fs.percent;
    return rc;
}

int rg_flag_rollout_start(rg_server *srv, const char *env, const char *name,
                          const json_t *plan, const char *on_halt,
                          const rg_audit_rec *audit, json_t **out, rg_err *err)
{
    fr r = {0};
    uint32_t from = 0;
    int rc = share_now(srv, env, name, &from, err);
    if (rc == 0 &&
        (rc = fr_new(srv, &r, env, name, plan, on_halt ? on_halt : "previous",
                     audit, err)) == 0) {
        r.from_pct = from;
        json_object_set_new(r.doc, "from_percent", json_integer(from));
        rc = fr_save(srv, &r, audit, err);
    }
    /* The orchestrator's next tick writes the first wave's share: it
     * alone writes shares (it may already be ticking this rollout). */
    fr_release(&r);
    return rc == 0 ? rg_flag_rollout_get(srv, env, name, out, err) : rc;
}

/* One attempt at the operator's cmd on the newest rollout of (env, name):
 * RG_ECONFLICT from the store when the orchestrator wrote it meanwhile. */
static int command_once(rg_server *srv, const char *env, const char *name,
                        rg_rollout_cmd cmd, const rg_audit_rec *audit,
                        rg_err *err)
{
    fr r;
    rg_rollout_status next;
    rg_transition tr;
    int rc = newest(srv, env, name, &r, err);
    if (rc != 0)
        return rc;
    if (!r.rec.active)
        rc = rg_err_set(err, RG_ECONFLICT, "flag rollout %lld is %s",
                        (long long)r.rec.id, rg_rollout_state_name(r.st.state));
    else if ((rc = rg_rollout_command(&r.plan, &r.st, cmd, audit->reason,
                                      audit->at_ms, rg_fleet_size(srv->fleet),
                                      &next, &tr, err)) == 0) {
        r.st = next;
        rc = fr_decide(&r, audit->at_ms, &tr, audit->actor, NULL) != 0
                 ? rg_err_set(err, RG_ENOMEM, "out of memory")
                 : fr_save(srv, &r, audit, err);
    }
    fr_release(&r);
    return rc;
}

int rg_flag_rollout_command(rg_server *srv, const char *env, const char *name,
                            rg_rollout_cmd cmd, rg_audit_rec *audit,
                            json_t **out, rg_err *err)
{
    static const char *const actions[] = {
        [RG_CMD_PAUSE] = "flag.rollout.pause",
        [RG_CMD_RESUME] = "flag.rollout.resume",
        [RG_CMD_ABORT] = "flag.rollout.abort"};
    snprintf(audit->action, sizeof audit->action, "%s", actions[cmd]);
    snprintf(audit->target, sizeof audit->target, "flag:%.64s/%.88s", env,
             name);
    int rc = RG_ECONFLICT;
    /* the orchestrator's tick may write the rollout between our read and
     * our write (the store's seq check): read again and retry */
    for (int attempt = 0; attempt < 3 && rc == RG_ECONFLICT; attempt++) {
        rg_err_clear(err);
        rc = command_once(srv, env, name, cmd, audit, err);
    }
    return rc == 0 ? rg_flag_rollout_get(srv, env, name, out, err) : rc;
}
