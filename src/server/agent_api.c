/* agent_api.c - see agent_api.h: enroll, check-in and artifact download. */
#include "agent_api.h"

#include "common/crypto.h"
#include "common/json.h"
#include "common/jsonw.h"
#include "common/log.h"
#include "server/cluster.h"
#include "server/api.h"
#include "server/artifacts.h"
#include "server/deltas.h"
#include "server/auth.h"
#include "server/desired.h"
#include "server/fleet.h"
#include "server/guard.h"
#include "server/offers.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define EVENT_ID_MAX 64
#define DETAIL_MAX 511
/* A check-in answer's first allocation: rg_buf rounds to 512 bytes, a
 * small-bin size (from 1 KiB glibc consolidates its fast bins on every such
 * malloc); larger answers grow. */
#define ANSWER_RESERVE 480
#define ANSWER_MAX (16u << 20) /* cap on a check-in answer */

static _Atomic uint64_t st_enrollments, st_rejected, st_events_new,
    st_downloads;
static _Atomic uint64_t st_events[RG_EVENT_TYPES];
static _Atomic uint64_t st_refused[2]; /* not offered, unknown release */

void rg_agent_stats_get(rg_agent_stats *out)
{
    out->enrollments = atomic_load(&st_enrollments);
    out->checkins_rejected = atomic_load(&st_rejected);
    out->events_new = atomic_load(&st_events_new);
    out->artifact_downloads = atomic_load(&st_downloads);
    out->events_not_offered = atomic_load(&st_refused[0]);
    out->events_unknown_release = atomic_load(&st_refused[1]);
    for (size_t i = 0; i < RG_EVENT_TYPES; i++)
        out->events[i] = atomic_load(&st_events[i]);
}

/* Reads `Authorization: Bearer <token>` and hashes the token. Returns 0 or
 * RG_EAUTH (err filled, *reason the audit's reason). */
static int bearer_hash(const rg_req *req, uint8_t hash[RG_FLEET_TOKEN_BYTES],
                       const char **reason, rg_err *err)
{
    const char *h = rg_req_header(req, "Authorization");
    *reason = "missing token";
    if (!h)
        return rg_err_set(err, RG_EAUTH, "missing Authorization header");
    *reason = "not a bearer token";
    if (strncasecmp(h, "Bearer ", 7) != 0)
        return rg_err_set(err, RG_EAUTH,
                          "Authorization must be 'Bearer <token>'");
    const char *t = h + 7;
    size_t n = strlen(t);
    *reason = "malformed token";
    if (n == 0 || n > RG_AGENT_TOKEN_MAX || strcspn(t, " \t") != n)
        return rg_err_set(err, RG_EAUTH, "malformed bearer token");
    rg_sha256_bin(t, n, hash);
    return 0;
}

/* Whether the enrollment request proves the identity of endpoint id: it
 * carries `Authorization: Bearer <id's current token>`. */
static bool identity_proven(rg_server *srv, const rg_req *req, const char *id)
{
    uint8_t tok[RG_FLEET_TOKEN_BYTES];
    char owner[RG_EPID_MAX + 1];
    const char *reason = NULL;
    if (!rg_req_header(req, "Authorization") ||
        bearer_hash(req, tok, &reason, NULL) < 0 ||
        rg_fleet_token_owner(srv->fleet, tok, owner, NULL) < 0)
        return false;
    return strcmp(owner, id) == 0;
}

/* The audit reason of a refused enrollment key (the store's message says
 * which check failed). */
static const char *key_reason(const rg_err *err)
{
    if (strstr(err->msg, "revoked"))
        return "revoked enrollment key";
    if (strstr(err->msg, "expired"))
        return "expired enrollment key";
    if (strstr(err->msg, "used up"))
        return "enrollment key used up";
    return "unknown enrollment key";
}

/* "endpoint:<id>" (cut to fit an audit target). */
static void endpoint_target(char *out, size_t cap, const char *id)
{
    snprintf(out, cap, "endpoint:%.128s", id);
}

/* ------------------------------------------------------------------ */
/* enroll                                                             */

/* Gives a the flag environments enrollment key k allows (docs/flags.md). */
static void key_envs(const rg_enroll_key_rec *k, rg_fleet_attrs *a)
{
    a->n_envs = 0;
    for (const char *p = k->flag_envs; *p && a->n_envs < RG_FLAG_ENVS_MAX;) {
        size_t n = strcspn(p, ",");
        snprintf(a->envs[a->n_envs++], sizeof a->envs[0], "%.*s", (int)n, p);
        p += n + (p[n] == ',');
    }
}

void rg_api_agent_enroll(rg_server *srv, rg_req *req, rg_resp *resp)
{
    static const char *const allowed[] = {"enrollment_key", "endpoint_id",
                                          "attributes", NULL};
    rg_err err;
    rg_err_clear(&err);
    rg_fleet_attrs *attrs = NULL;
    rg_endpoint_rec *e = NULL;
    rg_enroll_key_rec *ekey = NULL;
    char *attrs_text = NULL;
    if (rg_guard_enroll(srv, req, resp) != 0)
        return;
    json_t *body = rg__api_body(req, resp, allowed);
    if (!body)
        return;
    const char *key = NULL, *id = NULL;
    json_t *aj = NULL;
    if (rg_json_string(body, "enrollment_key", true, 128, &key, &err) < 0 ||
        rg_json_string(body, "endpoint_id", true, RG_EPID_MAX, &id, &err) < 0 ||
        rg_json_object(body, "attributes", true, &aj, &err) < 0)
        goto fail;
    if (!rg_fleet_id_valid(id)) {
        rg_err_field(&err, RG_EINVAL, "endpoint_id",
                     "endpoint_id must be 1..%d bytes of [A-Za-z0-9._:-]",
                     RG_EPID_MAX);
        goto fail;
    }
    attrs = malloc(sizeof *attrs);
    e = calloc(1, sizeof *e);
    ekey = calloc(1, sizeof *ekey);
    if (!attrs || !e || !ekey) {
        rg_err_set(&err, RG_ENOMEM, "out of memory");
        goto fail;
    }
    if (json_object_get(aj, "flag_environments")) {
        rg_err_field(&err, RG_EINVAL, "attributes.flag_environments",
                     "attributes.flag_environments: set by the enrollment "
                     "key, not by the endpoint");
        goto fail;
    }
    if (rg_fleet_attrs_from_json(aj, attrs, &err) < 0)
        goto fail;

    char key_hash[RG_SHA256_HEX], token[RG_SHA256_HEX];
    rg_sha256_hex(key, strlen(key), key_hash);
    int64_t now = rg_clock_now(srv->clock);
    if (rg_store_enroll_key_use(srv->store, key_hash, now, ekey, &err) < 0) {
        if (err.code == RG_EAUTH || err.code == RG_ENOTFOUND) {
            char target[160];
            const char *reason = key_reason(&err);
            endpoint_target(target, sizeof target, id);
            rg_err_field(
                &err, RG_EAUTH, "enrollment_key",
                "enrollment key is unknown, expired, revoked or used up");
            rg_guard_auth_failed(srv, req, &err, reason, target, resp);
            goto cleanup;
        }
        goto fail;
    }
    key_envs(ekey, attrs);
    if (!(attrs_text = rg_fleet_attrs_json(attrs))) {
        rg_err_set(&err, RG_ENOMEM, "out of memory");
        goto fail;
    }
    rg_random_hex(token, 32);
    snprintf(e->id, sizeof e->id, "%s", id);
    rg_sha256_hex(token, strlen(token), e->token_hash);
    snprintf(e->attrs_json, sizeof e->attrs_json, "%s", attrs_text);
    e->enrolled_ms = now;
    e->last_seen_ms = 0;
    e->proven = identity_proven(srv, req, id);
    snprintf(e->installed_json, sizeof e->installed_json, "{}");

    rg_audit_rec audit;
    char target[160];
    snprintf(target, sizeof target, "endpoint:%s", id);
    rg_audit_init(&audit, srv, req, "endpoint.enroll", target, NULL);
    if (strlen(id) + 9 <= RG_NAME_MAX)
        snprintf(audit.actor, sizeof audit.actor, "endpoint:%s", id);
    else
        snprintf(audit.actor, sizeof audit.actor, "endpoint");
    snprintf(audit.role, sizeof audit.role, "endpoint");
    if (rg_store_endpoint_enroll(srv->store, e, &audit, &err) < 0 ||
        rg_fleet_put(srv->fleet, e, &err) < 0)
        goto fail;
    atomic_fetch_add(&st_enrollments, 1);
    rg_resp_json(resp, 200,
                 json_pack("{s:s, s:i}", "token", token, "interval_s",
                           srv->cfg.checkin_interval_s));
    goto cleanup;
fail:
    rg_resp_error(resp, &err);
cleanup:
    free(attrs_text);
    free(attrs);
    free(e);
    free(ekey);
    json_decref(body);
}

/* ------------------------------------------------------------------ */
/* check-in                                                           */

int rg__agent_requalify(rg_err *err, const char *prefix)
{
    char field[2 * sizeof err->field + RG_NAME_MAX];
    snprintf(field, sizeof field, "%s%s", prefix, err->field);
    size_t n = strlen(field);
    if (n >= sizeof err->field)
        n = sizeof err->field - 1;
    memcpy(err->field, field, n);
    err->field[n] = '\0';
    return err->code;
}

static int parse_installed(const json_t *inst, rg__checkin_req *req,
                           rg_err *err)
{
    rg_fleet_installed *out = req->installed;
    size_t *n = &req->n_inst;
    *n = 0;
    if (!inst)
        return 0;
    if (json_object_size(inst) > RG_AGENT_INSTALLED_MAX)
        return rg_err_field(err, RG_EINVAL, "installed",
                            "installed has more than %d channels",
                            RG_AGENT_INSTALLED_MAX);
    const char *ch;
    json_t *v;
    json_object_foreach((json_t *)inst, ch, v)
    {
        char prefix[RG_NAME_MAX + 16];
        snprintf(prefix, sizeof prefix, "installed.%.*s.", RG_NAME_MAX, ch);
        if (strlen(ch) == 0 || strlen(ch) > RG_NAME_MAX)
            return rg_err_field(err, RG_EINVAL, "installed",
                                "installed: channel names are 1..%d bytes",
                                RG_NAME_MAX);
        if (!json_is_object(v))
            return rg_err_field(err, RG_EINVAL, "installed",
                                "installed.%s must be an object", ch);
        int64_t rel = 0, ver = 0;
        const char *sha = NULL;
        if (rg_json_int(v, "release", true, 1, INT64_C(1) << 53, &rel, err) <
                0 ||
            rg_json_int(v, "version", false, 1, INT64_C(1) << 53, &ver, err) <
                0 ||
            rg_json_string(v, "sha256", false, 64, &sha, err) < 0)
            return rg__agent_requalify(err, prefix);
        if (*n < RG_FLEET_CHANNELS) {
            snprintf(out[*n].channel, sizeof out[*n].channel, "%s", ch);
            out[*n].release_id = rel;
            /* json_object_foreach's key and the string live as long as
             * the body */
            req->have[*n].channel = ch;
            req->have[*n].sha256 = sha && rg_sha256_hex_valid(sha) ? sha : NULL;
            (*n)++;
        }
    }
    return 0;
}

static int parse_events(const json_t *events, const char *endpoint_id,
                        int64_t now, rg_event_rec *out, int *types, size_t *n,
                        rg_err *err)
{
    static const char *const allowed[] = {
        "id", "type", "channel", "release", "at_ms", "detail", NULL};
    *n = 0;
    size_t i;
    json_t *ev;
    json_array_foreach((json_t *)events, i, ev)
    {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "events[%zu].", i);
        if (!json_is_object(ev))
            return rg_err_field(err, RG_EINVAL, "events",
                                "events[%zu] must be an object", i);
        const char *id = NULL, *type = NULL, *ch = NULL, *detail = NULL;
        int64_t rel = 0, at = 0;
        if (rg_json_only(ev, allowed, err) < 0 ||
            rg_json_string(ev, "id", true, EVENT_ID_MAX, &id, err) < 0 ||
            rg_json_string(ev, "type", true, 16, &type, err) < 0 ||
            rg_json_string(ev, "channel", true, RG_NAME_MAX, &ch, err) < 0 ||
            rg_json_int(ev, "release", true, 1, INT64_C(1) << 53, &rel, err) <
                0 ||
            rg_json_int(ev, "at_ms", false, 0, INT64_C(1) << 53, &at, err) <
                0 ||
            rg_json_string(ev, "detail", false, DETAIL_MAX, &detail, err) < 0)
            return rg__agent_requalify(err, prefix);
        int t = rg_event_type_parse(type);
        if (t < 0) {
            rg_err_field(err, RG_EINVAL, "type",
                         "event type '%.16s' is not one of applying, healthy, "
                         "failed, reverted, crashed",
                         type);
            return rg__agent_requalify(err, prefix);
        }
        rg_event_rec *r = &out[(*n)++];
        memset(r, 0, sizeof *r);
        snprintf(r->endpoint_id, sizeof r->endpoint_id, "%s", endpoint_id);
        snprintf(r->event_id, sizeof r->event_id, "%s", id);
        snprintf(r->type, sizeof r->type, "%s", type);
        snprintf(r->channel, sizeof r->channel, "%s", ch);
        r->release_id = rel;
        r->reported_ms = at;
        r->received_ms = now;
        snprintf(r->detail, sizeof r->detail, "%s", detail ? detail : "");
        types[*n - 1] = t;
    }
    return 0;
}

int rg__agent_checkin_parse(const json_t *body, int64_t now,
                            rg__checkin_req *out, rg_err *err)
{
    json_t *inst = NULL, *events = NULL;
    memset(out, 0, sizeof *out);
    if (rg__agent_flags_parse(json_object_get(body, "flags"), &out->flags,
                              err) < 0 ||
        rg_json_string(body, "endpoint_id", true, RG_EPID_MAX, &out->id, err) <
            0 ||
        rg_json_object(body, "installed", false, &inst, err) < 0 ||
        rg_json_array(body, "events", false, RG_AGENT_EVENTS_MAX, &events,
                      err) < 0)
        return err->code;
    if (!rg_fleet_id_valid(out->id))
        return rg_err_field(err, RG_EINVAL, "endpoint_id",
                            "endpoint_id must be 1..%d bytes of "
                            "[A-Za-z0-9._:-]",
                            RG_EPID_MAX);
    if (parse_installed(inst, out, err) < 0)
        return err->code;
    size_t max_ev = events ? json_array_size(events) : 0;
    if (!max_ev)
        return 0;
    out->evs = malloc(max_ev * sizeof *out->evs);
    if (!out->evs)
        return rg_err_set(err, RG_ENOMEM, "out of memory");
    if (parse_events(events, out->id, now, out->evs, out->types, &out->n_ev,
                     err) < 0) {
        free(out->evs);
        out->evs = NULL;
        out->n_ev = 0;
        return err->code;
    }
    return 0;
}

/* The check-in's events and what the server can vouch for about each
 * (offers.h: RG_OFFER_YES, or why it was refused). */
typedef struct screened {
    const rg_event_rec *evs;
    size_t n;
    uint8_t verdict[RG_AGENT_EVENTS_MAX];
    size_t n_refused;
} screened;

static const char *const refusal_code[] = {"", "not_offered",
                                           "unknown_release"};

/* Appends ,"refused":[{"id","code","message"}...] for the refused events
 * of sc (nothing when none was). Returns 0 or a negative rg_code. */
static int write_refused(rg_buf *out, const screened *sc)
{
    if (!sc->n_refused)
        return 0;
    int rc = rg_buf_adds(out, ",\"refused\":[");
    bool first = true;
    for (size_t i = 0; i < sc->n && rc == 0; i++) {
        int v = sc->verdict[i];
        if (v == RG_OFFER_YES)
            continue;
        char msg[96];
        snprintf(msg, sizeof msg,
                 v == RG_OFFER_UNKNOWN
                     ? "release %lld is unknown to this server; dropped"
                     : "release %lld was never offered to this endpoint; "
                       "dropped",
                 (long long)sc->evs[i].release_id);
        rc = rg_buf_adds(out, first ? "{\"id\":" : ",{\"id\":");
        first = false;
        if (rc == 0)
            rc = rg_jsonw_str(out, sc->evs[i].event_id);
        if (rc == 0)
            rc = rg_buf_adds(out, ",\"code\":");
        if (rc == 0)
            rc = rg_jsonw_str(out, refusal_code[v]);
        if (rc == 0)
            rc = rg_buf_adds(out, ",\"message\":");
        if (rc == 0)
            rc = rg_jsonw_str(out, msg);
        if (rc == 0)
            rc = rg_buf_adds(out, "}");
    }
    return rc == 0 ? rg_buf_adds(out, "]") : rc;
}

/* Fills sc's verdicts: which events the server can vouch for
 * (offers.h). Counts the refusals. Returns 0 or a negative rg_code. */
static int screen_events(rg_server *srv, const char *id, screened *sc,
                         rg_err *err)
{
    for (size_t i = 0; i < sc->n; i++) {
        int v = rg_offers_vouch(srv, id, sc->evs[i].release_id, err);
        if (v < 0)
            return v;
        sc->verdict[i] = (uint8_t)v;
        if (v != RG_OFFER_YES) {
            sc->n_refused++;
            atomic_fetch_add(&st_refused[v - 1], 1);
        }
    }
    return 0;
}

/* A check-in in progress: what it keeps while parked for a group commit
 * (store.h). On the stack until it must park, then moved to the heap
 * (nothing in it points into itself but w.offers, set again on the
 * move). */
typedef struct checkin_job {
    rg__checkin_req in; /* in.evs malloc'd */
    json_t *body;       /* in.id points into it */
    screened sc;
    rg_event_rec *kept; /* the events to store: in.evs, or a malloc'd
                           subset when some were refused */
    size_t n_kept;
    rg_fleet_checkin_out who;
    int64_t now;
    int waiting; /* what the parked job waits for: STAGE_* */
    rg_offers_pending oc;
    rg_buf answer, notices;
    rg_store_write w;
    rg_req *req;
    rg_server *srv;
    bool heap; /* j itself is malloc'd */
} checkin_job;

enum { STAGE_EVENTS = 1, STAGE_ANSWER, STAGE_OFFERS };

/* Frees what j holds (not j). */
static void job_release(checkin_job *j)
{
    if (j->kept != j->in.evs)
        free(j->kept);
    free(j->in.evs);
    json_decref(j->body);
    rg_buf_release(&j->answer);
    rg_buf_release(&j->notices);
}

/* Frees what j holds, and j when it is on the heap. */
static void job_free(void *p)
{
    checkin_job *j = p;
    job_release(j);
    if (j->heap)
        free(j);
}

/* The events are durable: they count (canary.h, in memory). */
static void note_events(rg_server *srv, const checkin_job *j)
{
    atomic_fetch_add(&st_events_new, j->w.n_new);
    for (size_t i = 0; i < j->sc.n; i++) {
        if (j->sc.verdict[i] != RG_OFFER_YES)
            continue;
        rg_fleet_canary_event(srv->fleet, j->in.id, j->sc.evs[i].release_id,
                              j->in.types[i], j->now, NULL);
        atomic_fetch_add_explicit(&st_events[j->in.types[i]], 1,
                                  memory_order_relaxed);
    }
}

/* The group commit's done callback (committer thread): durable events
 * count at once (whether or not the agent is still there to be
 * answered); wakes the check-in, which goes on in an HTTP thread. */
static void job_done(rg_store_write *w)
{
    checkin_job *j = w->ctx;
    if (w->rc == 0 && j->waiting == STAGE_EVENTS)
        note_events(j->srv, j);
    rg_req_wake(j->req);
}

/* Parks the check-in until w (its events or offers) is durable: moves a
 * job on the stack to the heap, submits w. Returns 0 (parked: return
 * without answering) or an error to answer now. */
static int job_park(rg_server *srv, checkin_job **jp, int stage, rg_err *err)
{
    checkin_job *j = *jp;
    if (!j->heap) {
        if (!(j = malloc(sizeof *j)))
            return rg_err_set(err, RG_ENOMEM, "out of memory");
        *j = **jp;
        j->heap = true;
        if (j->w.n_offers)
            j->w.offers = j->oc.release;
        memset(*jp, 0, sizeof **jp); /* what it held is the copy's now */
        *jp = j;
    }
    if (rg_req_park(j->req) != 0)
        return rg_err_set(err, RG_EUNAVAIL,
                          "server shutting down; check in again");
    j->waiting = stage;
    j->w.done = job_done;
    j->w.ctx = j;
    j->req->state = j;
    j->req->state_free = job_free;
    if (rg_store_write_submit(srv->store, &j->w) != 0) {
        j->w.rc = j->w.err.code;
        rg_req_wake(j->req); /* the failure is answered when it resumes */
    }
    return 0;
}

/* The events of j the server vouches for, into j->kept. Returns 0 or
 * RG_ENOMEM. */
static int keep_events(checkin_job *j, rg_err *err)
{
    const screened *sc = &j->sc;
    j->kept = j->in.evs;
    j->n_kept = sc->n - sc->n_refused;
    if (!sc->n_refused || !j->n_kept)
        return 0;
    if (!(j->kept = malloc(j->n_kept * sizeof *j->kept)))
        return rg_err_set(err, RG_ENOMEM, "out of memory");
    for (size_t i = 0, n = 0; i < sc->n; i++)
        if (sc->verdict[i] == RG_OFFER_YES)
            j->kept[n++] = sc->evs[i];
    return 0;
}

/* A failed group write as the check-in's error: 5xx for the store's
 * failures (the agent keeps its events and retries). */
static int write_failed(const rg_store_write *w, rg_err *err)
{
    return rg_err_set(err, w->rc,
                      "check-in not stored, nothing acknowledged: "
                      "%.200s",
                      w->err.msg);
}

/* Writes {"interval_s","acks",["refused",]"desired":{...} of the answer
 * and collects the offers it makes into j->oc. Returns 0 or a negative
 * rg_code with err filled. */
static int answer_head(rg_server *srv, checkin_job *j, rg_err *err)
{
    const rg_event_rec *evs = j->sc.evs;
    rg_buf *out = &j->answer;
    int rc = rg_buf_reserve(out, ANSWER_RESERVE);
    if (rc == 0)
        rc = rg_buf_adds(out, "{\"interval_s\":");
    if (rc == 0)
        rc = rg_jsonw_int(out, srv->cfg.checkin_interval_s);
    if (rc == 0)
        rc = rg_buf_adds(out, ",\"acks\":[");
    for (size_t i = 0; i < j->sc.n && rc == 0; i++) {
        if (i)
            rc = rg_buf_add(out, ",", 1);
        if (rc == 0)
            rc = rg_jsonw_str(out, evs[i].event_id);
    }
    if (rc == 0)
        rc = rg_buf_adds(out, "]");
    if (rc == 0)
        rc = write_refused(out, &j->sc);
    if (rc == 0)
        rc = rg_buf_adds(out, ",\"desired\":{");
    if (rc < 0)
        return rg_err_set(err, rc, "check-in answer: %s", rg_code_name(rc));
    j->oc = (rg_offers_pending){.srv = srv, .id = j->in.id};
    return rg_desired_write_checkin(
        srv->desired, srv->fleet, j->in.id, &j->who, j->in.have, j->in.n_inst,
        j->now, out, &j->notices, rg_offers_collect, &j->oc, err);
}

/* Writes the rest of the answer: },"notices":[...], the flags, }. */
static int answer_tail(rg_server *srv, checkin_job *j, rg_err *err)
{
    rg_buf *out = &j->answer;
    int rc = rg_buf_adds(out, "},\"notices\":[");
    if (rc == 0 && j->notices.len)
        rc = rg_buf_add(out, j->notices.data, j->notices.len);
    if (rc == 0)
        rc = rg_buf_adds(out, "]");
    if (rc < 0)
        return rg_err_set(err, rc, "check-in answer: %s", rg_code_name(rc));
    if ((rc = rg__agent_flags_answer(srv, j->in.id, j->who.profile,
                                     &j->in.flags, j->now, out, err)) == 0)
        rc = rg_buf_adds(out, "}");
    if (rc < 0 && !err->code)
        rg_err_set(err, rc, "check-in answer: %s", rg_code_name(rc));
    return rc;
}

/* Runs j from stage on (STAGE_EVENTS: its events are to be stored;
 * STAGE_ANSWER: they are durable; STAGE_OFFERS: so are its offers):
 * writes the answer, parks (returns with resp unfilled) while a write is
 * being made durable, answers. Frees j when done. */
static void job_run(rg_server *srv, checkin_job *j, int stage, rg_resp *resp)
{
    rg_err err;
    rg_err_clear(&err);
    if (stage == STAGE_EVENTS && j->n_kept) {
        j->w = (rg_store_write){.events = j->kept, .n_events = j->n_kept};
        if (job_park(srv, &j, STAGE_EVENTS, &err) == 0)
            return;
        goto fail;
    }
    if (stage == STAGE_EVENTS)
        note_events(srv, j); /* nothing to store, so no commit to wait for */
    if (stage != STAGE_OFFERS) {
        if (answer_head(srv, j, &err) < 0)
            goto fail;
        j->w = (rg_store_write){0};
        if (rg_offers_write(&j->oc, j->now, &j->w) > 0) {
            if (job_park(srv, &j, STAGE_OFFERS, &err) == 0)
                return;
            goto fail;
        }
    }
    if (rg_offers_cache(&j->oc, &err) < 0 || answer_tail(srv, j, &err) < 0)
        goto fail;
    rg_resp_json_buf(resp, 200, &j->answer);
    goto done;
fail:
    rg_resp_error(resp, &err);
done:
    job_free(j);
}

/* A parked check-in woken: its write is durable or failed. */
static void job_resume(rg_server *srv, rg_req *req, rg_resp *resp)
{
    checkin_job *j = req->state;
    rg_err err;
    req->state = NULL; /* the handler's again */
    if (j->w.rc != 0) {
        write_failed(&j->w, &err);
        rg_resp_error(resp, &err);
        job_free(j);
        return;
    }
    job_run(srv, j, j->waiting == STAGE_EVENTS ? STAGE_ANSWER : STAGE_OFFERS,
            resp);
}

/* rg_fleet_token_owner, looking again after reading what other nodes
 * wrote (cluster.h) when this node does not know the token yet. */
static int token_owner(rg_server *srv, const uint8_t *tok, char *owner,
                       rg_err *err)
{
    int rc = rg_fleet_token_owner(srv->fleet, tok, owner, err);
    if (rc == RG_EAUTH && srv->cluster &&
        rg_cluster_catch_up(srv, false, NULL) == 0)
        rc = rg_fleet_token_owner(srv->fleet, tok, owner, err);
    return rc;
}

void rg_api_agent_checkin_begin(rg_server *srv, rg_req *req, rg_resp *resp)
{
    rg_err err;
    rg_err_clear(&err);
    uint8_t tok[RG_FLEET_TOKEN_BYTES];
    char owner[RG_EPID_MAX + 1];
    const char *reason = NULL;
    if (bearer_hash(req, tok, &reason, &err) == 0) {
        if (!rg_req_header(req, "Transfer-Encoding") ||
            token_owner(srv, tok, owner, &err) == 0)
            return;
        reason = "unknown token";
    }
    atomic_fetch_add(&st_rejected, 1);
    rg_guard_auth_failed(srv, req, &err, reason, "", resp);
}

/* rg_fleet_checkin; a token this node does not know yet (the endpoint
 * enrolled, or was given a new token, through another node a moment ago)
 * is looked for again after reading what the other nodes wrote
 * (cluster.h). */
static int fleet_checkin(rg_server *srv, const uint8_t *tok, checkin_job *j,
                         rg_err *err)
{
    int rc = rg_fleet_checkin(srv->fleet, j->in.id, tok, j->now,
                              j->in.installed, j->in.n_inst, &j->who, err);
    if ((rc == RG_EAUTH || rc == RG_EFORBIDDEN) && srv->cluster &&
        rg_cluster_catch_up(srv, false, NULL) == 0) {
        rg_err_clear(err);
        rc = rg_fleet_checkin(srv->fleet, j->in.id, tok, j->now,
                              j->in.installed, j->in.n_inst, &j->who, err);
    }
    return rc;
}

/* Parses, authenticates (tok: the bearer token's hash) and screens a new
 * check-in into j (body taken).
 * Returns 0 to go on, 1 when resp is already filled (refused). */
static int job_start(rg_server *srv, rg_req *req, rg_resp *resp,
                     const uint8_t tok[RG_FLEET_TOKEN_BYTES], checkin_job *j,
                     json_t *body)
{
    rg_err err;
    rg_err_clear(&err);
    char target[160];
    j->body = body;
    j->req = req;
    j->srv = srv;
    j->now = rg_clock_now(srv->clock);
    rg_buf_init(&j->answer, ANSWER_MAX);
    rg_buf_init(&j->notices, ANSWER_MAX);
    if (rg__agent_checkin_parse(body, j->now, &j->in, &err) < 0)
        goto fail;
    const char *id = j->in.id;
    j->sc = (screened){.evs = j->in.evs, .n = j->in.n_ev};
    if (fleet_checkin(srv, tok, j, &err) < 0) {
        atomic_fetch_add(&st_rejected, 1);
        if (err.code != RG_EAUTH && err.code != RG_EFORBIDDEN)
            goto fail;
        endpoint_target(target, sizeof target, id);
        rg_guard_auth_failed(srv, req, &err,
                             err.code == RG_EAUTH ? "unknown token"
                                                  : "wrong endpoint",
                             target, resp);
        return 1;
    }
    endpoint_target(req->actor, sizeof req->actor, id);
    if (rg_guard_events(srv, id, j->in.n_ev, resp) != 0)
        return 1;
    if (screen_events(srv, id, &j->sc, &err) < 0 || keep_events(j, &err) < 0)
        goto fail;
    return 0;
fail:
    rg_resp_error(resp, &err);
    return 1;
}

void rg_api_agent_checkin(rg_server *srv, rg_req *req, rg_resp *resp)
{
    static const char *const allowed[] = {"endpoint_id", "installed", "events",
                                          "insecure",    "flags",     NULL};
    if (req->state) {
        job_resume(srv, req, resp);
        return;
    }
    rg_err err;
    rg_err_clear(&err);
    uint8_t tok[RG_FLEET_TOKEN_BYTES];
    const char *reason = NULL;
    if (bearer_hash(req, tok, &reason, &err) < 0) {
        atomic_fetch_add(&st_rejected, 1);
        rg_guard_auth_failed(srv, req, &err, reason, "", resp);
        return;
    }
    json_t *body = rg__api_body(req, resp, allowed);
    if (!body)
        return;
    checkin_job job; /* a few KiB: on the stack unless it parks */
    memset(&job, 0, sizeof job);
    if (job_start(srv, req, resp, tok, &job, body) != 0) {
        job_release(&job); /* on the stack: it never parked */
        return;
    }
    job_run(srv, &job, STAGE_EVENTS, resp);
}

/* ------------------------------------------------------------------ */
/* artifact download                                                  */

void rg_api_agent_artifact(rg_server *srv, rg_req *req, rg_resp *resp)
{
    rg_err err;
    rg_err_clear(&err);
    uint8_t tok[RG_FLEET_TOKEN_BYTES];
    char owner[RG_EPID_MAX + 1], target[160];
    const char *reason = NULL;
    int fd = -1, rc;
    uint64_t size = 0;
    if (bearer_hash(req, tok, &reason, &err) < 0) {
        rg_guard_auth_failed(srv, req, &err, reason, "", resp);
        return;
    }
    if (token_owner(srv, tok, owner, &err) < 0) {
        rg_guard_auth_failed(srv, req, &err, "unknown token", "", resp);
        return;
    }
    endpoint_target(req->actor, sizeof req->actor, owner);
    const char *sha = req->n_params ? req->params[0] : "";
    if (!rg_sha256_hex_valid(sha)) {
        rg_err_field(&err, RG_ENOTFOUND, "sha256", "artifact '%.64s' not found",
                     sha);
        goto fail;
    }
    /* Only what the endpoint was offered or has: another endpoint's
     * release (a canary it is not in, say) is refused before the store
     * is asked whether the digest exists at all. */
    if ((rc = rg_offers_artifact(srv, owner, sha, &err)) < 0)
        goto fail;
    /* A delta (deltas.h) to a release offered to it is as good. */
    rg_delta_rec delta;
    if (rc == 0 && rg_deltas_of_digest(srv, sha, &delta) &&
        (rc = rg_offers_artifact(srv, owner, delta.target, &err)) < 0)
        goto fail;
    if (rc == 0) {
        endpoint_target(target, sizeof target, owner);
        rg_err_field(&err, RG_EFORBIDDEN, "sha256",
                     "artifact %.64s was not offered to endpoint '%s'", sha,
                     owner);
        rg_guard_auth_failed(srv, req, &err, "artifact not offered", target,
                             resp);
        return;
    }
    if (rg_artifact_open(srv, sha, &fd, &size, &err) < 0)
        goto fail;
    atomic_fetch_add(&st_downloads, 1);
    rg_resp_file(resp, req, fd, size); /* takes fd */
    return;
fail:
    rg_resp_error(resp, &err);
}
