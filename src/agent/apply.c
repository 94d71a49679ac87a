/* apply.c - see apply.h. */
#include "apply.h"

#include "common/crypto.h"
#include "common/json.h"
#include "common/log.h"
#include "delta.h"
#include "durable.h"
#include "failpoint.h"
#include "hooks.h"
#include "quarantine.h"
#include "trial.h"
#include "trust.h"
#include "trust/canon.h"

#include <stdio.h>
#include <string.h>

/* The optional "delta" object of a desired entry into d. */
static int parse_delta(const json_t *v, rg_desired *d, rg_err *err)
{
    const char *base = NULL, *sha = NULL, *url = NULL;
    int rc;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_object(v))
        return rg_err_field(err, RG_EINVAL, "delta",
                            "desired: delta must be an object");
    if ((rc = rg_json_string(v, "base", true, 64, &base, err)) ||
        (rc = rg_json_string(v, "sha256", true, 64, &sha, err)) ||
        (rc =
             rg_json_int(v, "size", true, 1, INT64_MAX, &d->delta.size, err)) ||
        (rc = rg_json_string(v, "url", true, sizeof d->delta_url - 1, &url,
                             err)))
        return rc;
    if (!rg_sha256_hex_valid(base) || !rg_sha256_hex_valid(sha))
        return rg_err_field(err, RG_EINVAL, "delta",
                            "desired: bad delta digest");
    snprintf(d->delta_base, sizeof d->delta_base, "%s", base);
    snprintf(d->delta.sha256, sizeof d->delta.sha256, "%s", sha);
    snprintf(d->delta_url, sizeof d->delta_url, "%s", url);
    return 0;
}

int rg_desired_parse(const json_t *v, rg_desired *d, rg_err *err)
{
    const char *sha = NULL, *url = NULL;
    int rc = 0;
    memset(d, 0, sizeof *d);
    if (!json_is_object(v))
        return rg_err_field(err, RG_EINVAL, "desired",
                            "desired entry must be an object");
    if ((rc = rg_json_int(v, "release", true, 1, INT64_MAX, &d->want.release,
                          err)) ||
        (rc = rg_json_int(v, "version", true, 0, INT64_MAX, &d->want.version,
                          err)) ||
        (rc = rg_json_int(v, "size", true, 0, INT64_MAX, &d->want.size, err)) ||
        (rc = rg_json_string(v, "sha256", true, 64, &sha, err)) ||
        (rc = rg_json_string(v, "url", false, sizeof d->url - 1, &url, err)) ||
        (rc = rg_json_bool(v, "lift_quarantine", false, &d->lift_quarantine,
                           err)))
        return rc;
    if (!rg_sha256_hex_valid(sha))
        return rg_err_field(err, RG_EINVAL, "sha256", "desired: bad sha256");
    json_t *meta = json_object_get(v, "metadata");
    if (json_is_object(meta)) {
        rg_buf b;
        rg_buf_init(&b, RG_DESIRED_METADATA_MAX);
        rc = rg_canon_json(meta, &b, err);
        if (rc == 0)
            snprintf(d->metadata, sizeof d->metadata, "%s", b.data);
        rg_buf_release(&b);
        if (rc != 0)
            return rg_err_field(err, RG_EINVAL, "metadata",
                                "desired: metadata unusable");
    } else if (meta && !json_is_null(meta)) {
        return rg_err_field(err, RG_EINVAL, "metadata",
                            "desired: metadata must be an object");
    }
    if ((rc = parse_delta(json_object_get(v, "delta"), d, err)) != 0)
        return rc;
    snprintf(d->want.sha256, sizeof d->want.sha256, "%s", sha);
    if (url)
        snprintf(d->url, sizeof d->url, "%s", url);
    else
        snprintf(d->url, sizeof d->url, "/v1/agent/artifacts/%s", sha);
    return 0;
}

static bool same(const rg_artifact_want *a, const rg_artifact_want *b)
{
    return a->release == b->release && strcmp(a->sha256, b->sha256) == 0;
}

/* The notice for (channel, release), or NULL. */
static const json_t *notice_for(const rg_apply_env *env, const char *channel,
                                int64_t release)
{
    size_t i;
    json_t *n;
    if (!json_is_array(env->notices))
        return NULL;
    json_array_foreach(env->notices, i, n)
    {
        json_t *c = json_object_get(n, "channel"),
               *r = json_object_get(n, "release");
        if (json_is_string(c) && strcmp(json_string_value(c), channel) == 0 &&
            json_is_integer(r) && json_integer_value(r) == release)
            return n;
    }
    return NULL;
}

static rg_hook_env hook_env(const rg_apply_env *env, const rg_slots *s,
                            const rg_artifact_want *w, const char *content)
{
    const json_t *n = notice_for(env, s->name, w->release);
    return (rg_hook_env){
        .channel = s->name,
        .state_dir = env->conf->state_dir,
        .content = content,
        .release = w->release,
        .version = w->version,
        .sha256 = w->sha256,
        .notes = n ? json_string_value(json_object_get(n, "notes")) : NULL,
        .urgency = n ? json_string_value(json_object_get(n, "urgency")) : NULL,
    };
}

/* The trial environment of channel s (the system's time since boot). */
static rg_trial_env trial_env(const rg_apply_env *env, rg_slots *s)
{
    return (rg_trial_env){env->conf->state_dir, s, env->outbox,
                          env->conf->max_starts, NULL};
}

static unsigned hook_timeout(const rg_apply_env *env)
{
    int64_t s = env->conf->timeout_ms / 1000;
    return s > 0 ? (unsigned)s : 1;
}

/* Validation failed: quarantine and report `failed` (a fresh event). */
static int refuse(const rg_apply_env *env, rg_slots *s, const rg_desired *d,
                  const char *why, rg_err *err)
{
    rg_event ev;
    memset(&ev, 0, sizeof ev);
    rg_event_new_id(ev.id);
    ev.type = "failed";
    snprintf(ev.channel, sizeof ev.channel, "%s", s->name);
    ev.release = d->want.release;
    ev.at_ms = env->now_ms;
    snprintf(ev.detail, sizeof ev.detail, "%s", why);
    rg_warn("channel '%s': release %lld refused: %s", s->name,
            (long long)d->want.release, why);
    int rc = rg_quarantine_add(env->conf->state_dir, d->want.sha256, s->name,
                               d->want.release, d->want.version, why,
                               env->now_ms, err);
    if (rc == 0)
        rc = rg_outbox_add(env->outbox, &ev, err);
    return rc == RG_ETOOBIG ? 0 : rc;
}

/* A release refused for reason (signed metadata, or bytes that are not
 * the signed ones): logged, recorded in rejected.json (what `status`
 * shows) and reported by one `failed` event per (release, reason). The
 * digest is not quarantined: the offer, not the content, may be forged. */
static int reject(const rg_apply_env *env, rg_slots *s, const rg_desired *d,
                  const char *name, const char *msg, rg_err *err)
{
    json_t *old = rg__read_json(s->dir, "rejected.json", NULL);
    const char *old_reason = json_string_value(json_object_get(old, "reason"));
    bool same_again =
        old && old_reason && strcmp(old_reason, name) == 0 &&
        json_integer_value(json_object_get(old, "release")) == d->want.release;
    json_decref(old);
    if (same_again)
        return 0;
    rg_warn("channel '%s': release %lld (version %lld) rejected (%s): %s",
            s->name, (long long)d->want.release, (long long)d->want.version,
            name, msg);
    json_t *v = json_pack(
        "{sI sI ss ss ss sI}", "release", (json_int_t)d->want.release,
        "version", (json_int_t)d->want.version, "sha256", d->want.sha256,
        "reason", name, "detail", msg, "at_ms", (json_int_t)env->now_ms);
    if (!v)
        return rg_err_set(err, RG_ENOMEM, "out of memory");
    int rc = rg__write_json(s->dir, "rejected.json", v, err);
    json_decref(v);
    if (rc != 0)
        return rc;
    rg_event ev;
    memset(&ev, 0, sizeof ev);
    rg_event_new_id(ev.id);
    ev.type = "failed";
    snprintf(ev.channel, sizeof ev.channel, "%s", s->name);
    ev.release = d->want.release;
    ev.at_ms = env->now_ms;
    snprintf(ev.detail, sizeof ev.detail, "rejected: %s: %.200s", name, msg);
    rc = rg_outbox_add(env->outbox, &ev, err);
    return rc == RG_ETOOBIG ? 0 : rc;
}

/* Judges d against the pinned root (rg_agent_verify_release) with the
 * channel's highest applied version. Sets *ok; a refusal is recorded. */
static int check_trust(const rg_apply_env *env, rg_slots *s,
                       const rg_desired *d, bool *ok, rg_err *err)
{
    rg_trust_reason why;
    rg_err e;
    *ok = true;
    if (!env->root)
        return 0;
    rg_release_check c = {
        env->root,   s->name,
        d->metadata, rg_agent_trust_highest(env->conf->state_dir, s->name),
        env->now_ms, env->conf->clock_skew_ms};
    if (rg_agent_verify_release(&c, &d->want, &why, &e) == 0)
        return 0;
    *ok = false;
    return reject(env, s, d, rg_trust_reason_name(why), e.msg, err);
}

/* Judges a switch back to the release recorded in the other slot (have,
 * complete and verified): the offer must name that slot's own version,
 * and with a pinned root carry signed metadata for exactly those bytes
 * and that version. Anti-rollback is waived for that one version: this
 * agent staged it under the root and ran it before. Sets *ok; a refusal
 * is recorded. */
static int check_back(const rg_apply_env *env, rg_slots *s, const rg_desired *d,
                      const rg_artifact_want *have, bool *ok, rg_err *err)
{
    rg_trust_reason why;
    rg_err e;
    rg_artifact_want w = *have;
    *ok = false;
    if (d->want.version != have->version) {
        rg_err_set(&e, RG_EINVAL,
                   "release %lld offered as version %lld; "
                   "the slot holds version %lld",
                   (long long)d->want.release, (long long)d->want.version,
                   (long long)have->version);
        return reject(env, s, d,
                      rg_trust_reason_name(RG_TRUST_VERSION_MISMATCH), e.msg,
                      err);
    }
    *ok = true;
    if (!env->root)
        return 0;
    w.release = d->want.release;
    rg_release_check c = {env->root,   s->name,
                          d->metadata, have->version - 1,
                          env->now_ms, env->conf->clock_skew_ms};
    if (rg_agent_verify_release(&c, &w, &why, &e) == 0)
        return 0;
    *ok = false;
    return reject(env, s, d, rg_trust_reason_name(why), e.msg, err);
}

/* Fetches d into the inactive slot unless it is already there. Called
 * without the channel lock; installs under it. */
static int stage(const rg_apply_env *env, rg_slots *s, const rg_desired *d,
                 rg_err *err)
{
    char part[RG_PATH_MAX];
    rg_artifact_want have;
    rg_slot_id ina = rg_slots_other(rg_slots_active(s));
    if (rg_slots_verify(s, ina, &have, NULL) == 0 && same(&have, &d->want))
        return 0;
    if (!env->client)
        return rg_err_set(err, RG_EUNAVAIL, "offline");
    snprintf(part, sizeof part, "%s/download.part", s->dir);
    int rc = !env->conf->deltas ? 1 : rg_delta_stage(env->client, s, d, part);
    if (rc != 0)
        rc = rg_client_download(env->client, d->url, part, &d->want, err);
    if (rc != 0)
        return rc;
    rg_failpoint("apply.after_download");
    if ((rc = rg_slots_lock(s, err)) != 0)
        return rc;
    ina = rg_slots_other(rg_slots_active(s));
    rc = rg_slots_install(s, ina, part, &d->want, err);
    if (rc == 0)
        rg_failpoint("apply.after_write_inactive");
    return rc;
}

/* Reads applying.json when it is about d; else writes a new one (after
 * the validate and notify hooks) and returns its event id. */
static int applying_intent(const rg_apply_env *env, rg_slots *s,
                           const rg_desired *d, char id[RG_EVENT_ID_MAX],
                           bool *refused, rg_err *err)
{
    char content[RG_PATH_MAX];
    const char *sha = NULL, *eid = NULL;
    int64_t rel = 0;
    *refused = false;
    json_t *a = rg__read_json(s->dir, "applying.json", NULL);
    if (a && rg_json_int(a, "release", true, 0, INT64_MAX, &rel, NULL) == 0 &&
        rg_json_string(a, "sha256", true, 64, &sha, NULL) == 0 &&
        rg_json_string(a, "event_id", true, RG_EVENT_ID_MAX - 1, &eid, NULL) ==
            0 &&
        rel == d->want.release && strcmp(sha, d->want.sha256) == 0) {
        snprintf(id, RG_EVENT_ID_MAX, "%s", eid);
        json_decref(a);
        return 0;
    }
    json_decref(a);
    rg_slot_id ina = rg_slots_other(rg_slots_active(s));
    rg_slots_content_path(s, ina, content);
    const rg_agent_channel_conf *cc =
        rg_agent_config_channel(env->conf, s->name);
    rg_hook_env he = hook_env(env, s, &d->want, content);
    int st = rg_hook_run(cc ? cc->validate : NULL, &he, hook_timeout(env));
    if (st != 0) {
        char why[64];
        snprintf(why, sizeof why, "validate hook exited %d", st);
        *refused = true;
        return refuse(env, s, d, why, err);
    }
    rg_failpoint("apply.after_validate");
    st = rg_hook_run(cc ? cc->notify : NULL, &he, hook_timeout(env));
    if (st != 0)
        rg_warn("channel '%s': notify hook exited %d", s->name, st);
    rg_event_new_id(id);
    json_t *v = json_pack("{sI ss ss}", "release", (json_int_t)d->want.release,
                          "sha256", d->want.sha256, "event_id", id);
    if (!v)
        return rg_err_set(err, RG_ENOMEM, "out of memory");
    int rc = rg__write_json(s->dir, "applying.json", v, err);
    json_decref(v);
    if (rc == 0)
        rg_failpoint("apply.after_applying_intent");
    return rc;
}

/* Queues `applying` (idempotent) and, once acknowledged, switches. */
static int expose_and_switch(const rg_apply_env *env, rg_slots *s,
                             const rg_desired *d, rg_apply_result *result,
                             rg_err *err)
{
    char id[RG_EVENT_ID_MAX], content[RG_PATH_MAX];
    bool refused = false;
    int rc = applying_intent(env, s, d, id, &refused, err);
    if (rc != 0 || refused) {
        *result = RG_APPLY_REFUSED;
        return rc;
    }
    rg_event ev = {
        .type = "applying", .release = d->want.release, .at_ms = env->now_ms};
    snprintf(ev.id, sizeof ev.id, "%s", id);
    snprintf(ev.channel, sizeof ev.channel, "%s", s->name);
    rc = rg_outbox_add(env->outbox, &ev, err);
    if (rc == RG_ETOOBIG) { /* no room: wait for the outbox to drain */
        rg_warn("channel '%s': %s", s->name, err ? err->msg : "outbox full");
        *result = RG_APPLY_WAITING;
        return 0;
    }
    if (rc != 0)
        return rc;
    rg_failpoint("apply.after_queue_applying");
    if (rg_outbox_lookup(env->outbox, id) == RG_OUTBOX_PENDING) {
        *result = RG_APPLY_WAITING; /* the server must know first */
        return 0;
    }
    rg_slot_id ina = rg_slots_other(rg_slots_active(s));
    rg_trial_env te = trial_env(env, s);
    rc = rg_trial_begin(&te, &d->want, ina, env->now_ms,
                        env->conf->trial_deadline_ms, err);
    if (rc != 0)
        return rc;
    rg_failpoint("apply.after_trial_begin");
    if ((rc = rg_slots_switch(s, ina, err)) != 0)
        return rc;
    rg_failpoint("apply.after_switch");
    if ((rc = rg__remove_durable(s->dir, "applying.json", err)) != 0)
        return rc;
    if ((rc = rg_agent_trust_note_applied(env->conf->state_dir, s->name,
                                          d->want.version, err)) != 0)
        return rc;
    rg__remove_durable(s->dir, "rejected.json", NULL);
    rg_info(
        "channel '%s': switched to release %lld (version %lld), trial begins",
        s->name, (long long)d->want.release, (long long)d->want.version);
    const rg_agent_channel_conf *cc =
        rg_agent_config_channel(env->conf, s->name);
    snprintf(content, sizeof content, "%s/active/content", s->dir);
    rg_hook_env he = hook_env(env, s, &d->want, content);
    int st = rg_hook_run(cc ? cc->activate : NULL, &he, hook_timeout(env));
    if (st != 0)
        rg_warn("channel '%s': activate hook exited %d", s->name, st);
    rg_failpoint("apply.after_activate");
    *result = RG_APPLY_SWITCHED;
    return 0;
}

/* The desired release moved back, during a trial, to the last known
 * good one in the other slot (good): judged like any switch back
 * (check_back), then the trial is abandoned, or reverted when its
 * consumer already crashed (a local verdict too). */
static int leave_trial(const rg_apply_env *env, rg_slots *s,
                       const rg_desired *d, const rg_trial *t,
                       const rg_artifact_want *good, rg_apply_result *result,
                       rg_err *err)
{
    rg_trial_env te = trial_env(env, s);
    char why[96];
    bool ok = false;
    int rc = check_back(env, s, d, good, &ok, err);
    if (rc != 0 || !ok) {
        *result = RG_APPLY_REFUSED;
        return rc;
    }
    rg_info("channel '%s': desired release moved back to %lld; leaving the "
            "trial of %lld",
            s->name, (long long)d->want.release, (long long)t->rel.release);
    *result = RG_APPLY_ROLLED_BACK;
    if (t->crashes == 0)
        return rg_trial_abandon(&te, err);
    snprintf(why, sizeof why, "%d crashes, then the server moved back",
             t->crashes);
    return rg_trial_revert(&te, why, env->now_ms, err);
}

/* The desired release moved back (halt, rollback) to the older release
 * complete in the other slot (have): judged by check_back, then switched
 * to under a trial like any other switch (its starts are counted, a
 * crash-looping release is reverted), without `applying`. */
static int switch_back(const rg_apply_env *env, rg_slots *s,
                       const rg_desired *d, const rg_artifact_want *have,
                       rg_apply_result *result, rg_err *err)
{
    rg_trial_env te = trial_env(env, s);
    rg_slot_id back = rg_slots_other(rg_slots_active(s));
    bool ok = false;
    int rc = check_back(env, s, d, have, &ok, err);
    if (rc != 0 || !ok) {
        *result = RG_APPLY_REFUSED;
        return rc;
    }
    rg_info("channel '%s': desired release moved back to %lld (version %lld); "
            "switching back, trial begins",
            s->name, (long long)d->want.release, (long long)have->version);
    if ((rc = rg_trial_begin(&te, have, back, env->now_ms,
                             env->conf->trial_deadline_ms, err)) != 0 ||
        (rc = rg_slots_switch(s, back, err)) != 0)
        return rc;
    rg_failpoint("rollback.after_switch");
    rg__remove_durable(s->dir, "applying.json", NULL);
    rg__remove_durable(s->dir, "rejected.json", NULL);
    *result = RG_APPLY_ROLLED_BACK;
    return 0;
}

/* Decides whether d may pass its digest's quarantine (*pass). The server's
 * lift (POST /v1/releases/{id}/lift-quarantine) is honoured once per
 * digest in insecure mode only: with a pinned root the server holds no
 * signed authority over the quarantine, so its lift is refused (recorded,
 * reason "quarantined") and only `rollgate-agent unquarantine` lifts it. */
static int quarantine_gate(const rg_apply_env *env, rg_slots *s,
                           const rg_desired *d, bool *pass, rg_err *err)
{
    bool lifted = false;
    int rc = 0;
    *pass = !rg_quarantine_has(env->conf->state_dir, d->want.sha256);
    if (*pass || !d->lift_quarantine)
        return 0;
    if (env->root)
        return reject(env, s, d, "quarantined",
                      "the server's lift of the quarantine is not honoured "
                      "with a pinned root; lift it on the endpoint with "
                      "`rollgate-agent unquarantine SHA256`",
                      err);
    if ((rc = rg_quarantine_lift_once(env->conf->state_dir, d->want.sha256,
                                      env->now_ms, &lifted, err)) != 0 ||
        !lifted)
        return rc;
    rg_info("channel '%s': server lifted the quarantine of release %lld (%s); "
            "applying it",
            s->name, (long long)d->want.release, d->want.sha256);
    *pass = true;
    return 0;
}

/* The part of a step that runs under the channel lock. Returns 1 when
 * the content must be staged first (lock released by the caller). */
static int locked_step(const rg_apply_env *env, rg_slots *s,
                       const rg_desired *d, bool staged,
                       rg_apply_result *result, rg_err *err)
{
    rg_trial_env te = trial_env(env, s);
    rg_artifact_want act, ina;
    rg_trial t;
    *result = RG_APPLY_IDLE;
    rg_slot_id a = rg_slots_active(s);
    bool have_act = a && rg_slots_meta(s, a, &act, NULL) == 0;
    bool have_ina = rg_slots_verify(s, rg_slots_other(a), &ina, NULL) == 0;
    int rc = rg_trial_load(&te, &t, NULL);
    if (rc == 0 && t.phase != RG_TRIAL_RUNNING) /* killed while ending */
        return rg_trial_reconcile(&te, env->now_ms, err);
    if (rc == 0) {
        if (same(&t.rel, &d->want))
            return 0; /* trial in progress */
        if (t.good && have_ina && same(&ina, &d->want))
            return leave_trial(env, s, d, &t, &ina, result, err);
        return 0; /* let the trial end before applying something else */
    }
    /* The active version counts as applied even if killed before it was
     * noted after its switch. */
    if (have_act && (rc = rg_agent_trust_note_applied(
                         env->conf->state_dir, s->name, act.version, err)) != 0)
        return rc;
    if (have_act && same(&act, &d->want)) {
        rg__remove_durable(s->dir, "applying.json", NULL);
        rg__remove_durable(s->dir, "rejected.json", NULL);
        return 0;
    }
    bool pass = true;
    if ((rc = quarantine_gate(env, s, d, &pass, err)) != 0 || !pass) {
        *result = RG_APPLY_REFUSED;
        return rc;
    }
    const json_t *n = notice_for(env, s->name, d->want.release);
    json_t *earliest = n ? json_object_get(n, "earliest_ms") : NULL;
    if (json_is_integer(earliest) && json_integer_value(earliest) > env->now_ms)
        return 0; /* announced, not yet due */
    /* Older by the version recorded in the slot, never by the offer's. */
    if (have_act && have_ina && same(&ina, &d->want) &&
        ina.version < act.version)
        return switch_back(env, s, d, &ina, result, err);
    if (!staged) { /* judged once per step, before anything is fetched */
        bool ok = true;
        if ((rc = check_trust(env, s, d, &ok, err)) != 0)
            return rc;
        if (!ok) {
            *result = RG_APPLY_REFUSED;
            return 0;
        }
    }
    if (!(have_ina && same(&ina, &d->want)) && !staged)
        return 1;
    return expose_and_switch(env, s, d, result, err);
}

int rg_apply_step(const rg_apply_env *env, rg_slots *s, const rg_desired *d,
                  rg_apply_result *result, rg_err *err)
{
    rg_err local;
    if (!err) /* the refusal below reads the download's error */
        err = &local;
    int rc = rg_slots_lock(s, err);
    if (rc != 0)
        return rc;
    rc = locked_step(env, s, d, false, result, err);
    if (rc == 1) {
        rg_slots_unlock(s);
        rc = stage(env, s, d, err); /* returns holding the lock on success */
        if (env->root && (rc == RG_ETOOBIG || rc == RG_EINVAL)) {
            /* The bytes are not the signed ones: more than the signed size
             * (the download stopped there), or another size or digest. */
            rg_trust_reason why = rc == RG_ETOOBIG ? RG_TRUST_TOO_LONG
                                  : strcmp(err->field, "size") == 0
                                      ? RG_TRUST_SIZE_MISMATCH
                                      : RG_TRUST_HASH_MISMATCH;
            char msg[sizeof err->msg];
            snprintf(msg, sizeof msg, "%s", err->msg);
            *result = RG_APPLY_REFUSED;
            rc = reject(env, s, d, rg_trust_reason_name(why), msg, err);
        } else if (rc == 0) {
            rc = locked_step(env, s, d, true, result, err);
        }
        if (rc == 1)
            rc = rg_err_set(err, RG_EINTERNAL,
                            "channel '%s': staging did not stick", s->name);
    }
    rg_slots_unlock(s);
    return rc;
}

int rg_apply_trial_tick(const rg_apply_env *env, rg_slots *s,
                        int64_t consumer_up_ms, bool *ended, rg_err *err)
{
    rg_trial_env te = trial_env(env, s);
    rg_trial t;
    char content[RG_PATH_MAX];
    *ended = false;
    int rc = rg_slots_lock(s, err);
    if (rc != 0)
        return rc;
    rc = rg_trial_check_deadline(&te, env->now_ms, ended, err);
    if (rc != 0 || *ended)
        goto cleanup;
    rc = rg_trial_load(&te, &t, NULL);
    if (rc == RG_ENOTFOUND) {
        rc = 0;
        goto cleanup;
    }
    if (rc != 0 || t.phase != RG_TRIAL_RUNNING ||
        (consumer_up_ms >= 0 && consumer_up_ms < env->conf->settle_ms))
        goto cleanup;
    const rg_agent_channel_conf *cc =
        rg_agent_config_channel(env->conf, s->name);
    snprintf(content, sizeof content, "%s/active/content", s->dir);
    rg_hook_env he = hook_env(env, s, &t.rel, content);
    int st = rg_hook_run(cc ? cc->probe : NULL, &he, hook_timeout(env));
    *ended = true;
    if (st == 0) {
        rc =
            rg_trial_confirm(&te, cc && cc->probe ? "probe passed" : "no probe",
                             env->now_ms, err);
    } else {
        char why[64];
        snprintf(why, sizeof why, "probe exited %d", st);
        rc = rg_trial_revert(&te, why, env->now_ms, err);
    }
cleanup:
    rg_slots_unlock(s);
    return rc;
}
