/* trial.c - see trial.h. */
#include "trial.h"

#include "common/json.h"
#include "common/log.h"
#include "durable.h"
#include "failpoint.h"
#include "quarantine.h"

#include <stdio.h>
#include <string.h>

static const char *const phase_names[] = {"running", "confirmed", "reverting"};

static rg_uptime uptime(const rg_trial_env *env)
{
    rg_uptime u;
    if (env->up)
        return *env->up;
    rg_uptime_now(&u);
    return u;
}

/* Trial time elapsed at u: the anchor's plus the boot clock's progress in
 * the same boot; only the anchor's after a reboot. */
static int64_t elapsed(const rg_trial *t, const rg_uptime *u)
{
    if (strcmp(t->boot_id, u->boot_id) == 0 && u->ms >= t->boot_ms)
        return t->elapsed_ms + (u->ms - t->boot_ms);
    return t->elapsed_ms;
}

/* Moves t's anchor to u (before a save). */
static void anchor(rg_trial *t, const rg_uptime *u)
{
    t->elapsed_ms = elapsed(t, u);
    snprintf(t->boot_id, sizeof t->boot_id, "%s", u->boot_id);
    t->boot_ms = u->ms;
}

int rg_trial_load(const rg_trial_env *env, rg_trial *t, rg_err *err)
{
    const char *sha = NULL, *slot = NULL, *good = NULL, *phase = NULL,
               *reason = "", *id = NULL, *boot = "";
    int64_t starts = 0, crashes = 0;
    int rc = 0;
    rg_err e;
    json_t *v = rg__read_json(env->slots->dir, "trial.json", &e);
    if (!v) {
        if (err)
            *err = e;
        return e.code;
    }
    memset(t, 0, sizeof *t);
    if ((rc = rg_json_int(v, "release", true, 0, INT64_MAX, &t->rel.release,
                          err)) ||
        (rc = rg_json_int(v, "version", true, 0, INT64_MAX, &t->rel.version,
                          err)) ||
        (rc = rg_json_int(v, "size", true, 0, INT64_MAX, &t->rel.size, err)) ||
        (rc = rg_json_string(v, "sha256", true, 64, &sha, err)) ||
        (rc = rg_json_string(v, "slot", true, 1, &slot, err)) ||
        (rc = rg_json_string(v, "good", false, 1, &good, err)) ||
        (rc = rg_json_int(v, "starts", true, 0, 1000000, &starts, err)) ||
        (rc = rg_json_int(v, "crashes", true, 0, 1000000, &crashes, err)) ||
        (rc = rg_json_int(v, "started_ms", true, 0, INT64_MAX, &t->started_ms,
                          err)) ||
        (rc = rg_json_int(v, "deadline_ms", true, 0, INT64_MAX, &t->deadline_ms,
                          err)) ||
        (rc = rg_json_string(v, "phase", true, 16, &phase, err)) ||
        (rc = rg_json_string(v, "reason", false, 199, &reason, err)) ||
        (rc = rg_json_string(v, "event_id", true, RG_EVENT_ID_MAX - 1, &id,
                             err)) ||
        (rc = rg_json_string(v, "boot_id", false, RG_BOOT_ID_MAX - 1, &boot,
                             err)) ||
        (rc = rg_json_int(v, "boot_ms", false, 0, INT64_MAX, &t->boot_ms,
                          err)) ||
        (rc = rg_json_int(v, "elapsed_ms", false, 0, INT64_MAX, &t->elapsed_ms,
                          err)) ||
        (rc = rg_json_int(v, "limit_ms", false, 0, INT64_MAX, &t->limit_ms,
                          err)))
        goto cleanup;
    if (!json_object_get(v, "limit_ms")) /* written before trial time */
        t->limit_ms = t->deadline_ms - t->started_ms;
    snprintf(t->boot_id, sizeof t->boot_id, "%s", boot);
    snprintf(t->rel.sha256, sizeof t->rel.sha256, "%s", sha);
    t->slot = slot[0];
    t->good = good ? good[0] : 0;
    t->starts = (int)starts;
    t->crashes = (int)crashes;
    for (int i = 0; i < 3; i++)
        if (strcmp(phase, phase_names[i]) == 0)
            t->phase = (rg_trial_phase)i;
    snprintf(t->reason, sizeof t->reason, "%s", reason);
    snprintf(t->event_id, sizeof t->event_id, "%s", id);
cleanup:
    json_decref(v);
    return rc ? RG_EIO : 0;
}

int rg_trial_save(const rg_trial_env *env, const rg_trial *t, rg_err *err)
{
    char slot[2] = {t->slot, 0}, good[2] = {t->good, 0};
    json_t *v = json_pack(
        "{sI sI sI ss ss ss sI sI sI sI ss ss ss ss sI sI sI}", "release",
        (json_int_t)t->rel.release, "version", (json_int_t)t->rel.version,
        "size", (json_int_t)t->rel.size, "sha256", t->rel.sha256, "slot", slot,
        "good", good, "starts", (json_int_t)t->starts, "crashes",
        (json_int_t)t->crashes, "started_ms", (json_int_t)t->started_ms,
        "deadline_ms", (json_int_t)t->deadline_ms, "phase",
        phase_names[t->phase], "reason", t->reason, "event_id", t->event_id,
        "boot_id", t->boot_id, "boot_ms", (json_int_t)t->boot_ms, "elapsed_ms",
        (json_int_t)t->elapsed_ms, "limit_ms", (json_int_t)t->limit_ms);
    if (!v)
        return rg_err_set(err, RG_ENOMEM, "trial: out of memory");
    if (!t->good)
        json_object_del(v, "good");
    if (!t->reason[0])
        json_object_del(v, "reason");
    int rc = rg__write_json(env->slots->dir, "trial.json", v, err);
    json_decref(v);
    return rc;
}

int rg_trial_begin(const rg_trial_env *env, const rg_artifact_want *rel,
                   rg_slot_id slot, int64_t now_ms, int64_t deadline_ms,
                   rg_err *err)
{
    rg_trial t;
    memset(&t, 0, sizeof t);
    t.rel = *rel;
    t.slot = slot;
    rg_slot_id act = rg_slots_active(env->slots);
    if (act && act != slot &&
        rg_slots_meta(env->slots, act, &(rg_artifact_want){0}, NULL) == 0)
        t.good = act;
    t.started_ms = now_ms;
    t.deadline_ms = now_ms + deadline_ms;
    t.limit_ms = deadline_ms;
    rg_uptime u = uptime(env);
    anchor(&t, &u);
    t.elapsed_ms = 0;
    t.phase = RG_TRIAL_RUNNING;
    rg_event_new_id(t.event_id);
    return rg_trial_save(env, &t, err);
}

static int queue(const rg_trial_env *env, const char *id, const char *type,
                 const rg_trial *t, const char *detail, int64_t now_ms,
                 rg_err *err)
{
    rg_event ev;
    memset(&ev, 0, sizeof ev);
    snprintf(ev.id, sizeof ev.id, "%s", id);
    ev.type = type;
    snprintf(ev.channel, sizeof ev.channel, "%s", env->slots->name);
    ev.release = t->rel.release;
    ev.at_ms = now_ms;
    snprintf(ev.detail, sizeof ev.detail, "%s", detail ? detail : "");
    return rg_outbox_add(env->outbox, &ev, err);
}

/* Runs the remaining steps of a confirmed or reverting trial. */
static int finish(const rg_trial_env *env, rg_trial *t, int64_t now_ms,
                  rg_err *err)
{
    int rc = 0;
    if (t->phase == RG_TRIAL_CONFIRMED) {
        rc = queue(env, t->event_id, "healthy", t, t->reason, now_ms, err);
        if (rc != 0 && rc != RG_ETOOBIG)
            return rc;
        rg_failpoint("trial.after_queue_healthy");
        rg_info("channel '%s': release %lld confirmed healthy",
                env->slots->name, (long long)t->rel.release);
        return rg__remove_durable(env->slots->dir, "trial.json", err);
    }
    rc = rg_quarantine_add(env->state_dir, t->rel.sha256, env->slots->name,
                           t->rel.release, t->rel.version, t->reason, now_ms,
                           err);
    if (rc != 0)
        return rc;
    rg_failpoint("revert.after_quarantine");
    rc = queue(env, t->event_id, "reverted", t, t->reason, now_ms, err);
    if (rc != 0 && rc != RG_ETOOBIG) /* ETOOBIG is logged and counted */
        return rc;
    rg_failpoint("revert.after_queue_reverted");
    rg_slot_id back = t->good;
    if (back && rg_slots_verify(env->slots, back, NULL, NULL) != 0)
        back = 0;
    if ((rc = rg_slots_switch(env->slots, back, err)) != 0)
        return rc;
    rg_failpoint("revert.after_switch");
    rg_warn("channel '%s': release %lld reverted (%s); back on %s",
            env->slots->name, (long long)t->rel.release, t->reason,
            back ? "the last known good slot" : "nothing (first install)");
    return rg__remove_durable(env->slots->dir, "trial.json", err);
}

static int end_trial(const rg_trial_env *env, rg_trial_phase phase,
                     const char *reason, int64_t now_ms, rg_err *err)
{
    rg_trial t;
    int rc = rg_trial_load(env, &t, err);
    if (rc != 0)
        return rc;
    if (t.phase == RG_TRIAL_RUNNING) {
        t.phase = phase;
        snprintf(t.reason, sizeof t.reason, "%s", reason ? reason : "");
        if ((rc = rg_trial_save(env, &t, err)) != 0)
            return rc;
        rg_failpoint(phase == RG_TRIAL_CONFIRMED ? "trial.after_confirm_intent"
                                                 : "revert.after_intent");
    }
    return finish(env, &t, now_ms, err);
}

int rg_trial_confirm(const rg_trial_env *env, const char *detail,
                     int64_t now_ms, rg_err *err)
{
    return end_trial(env, RG_TRIAL_CONFIRMED, detail, now_ms, err);
}

int rg_trial_revert(const rg_trial_env *env, const char *reason, int64_t now_ms,
                    rg_err *err)
{
    return end_trial(env, RG_TRIAL_REVERTING, reason, now_ms, err);
}

int rg_trial_count_start(const rg_trial_env *env, int64_t now_ms,
                         bool *reverted, rg_err *err)
{
    rg_trial t;
    char reason[128];
    *reverted = false;
    int rc = rg_trial_load(env, &t, err);
    if (rc == RG_ENOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    if (t.phase != RG_TRIAL_RUNNING)
        return finish(env, &t, now_ms, err);
    if (t.starts >= env->max_starts) {
        snprintf(reason, sizeof reason, "%d failed starts", t.starts);
        *reverted = true;
        return rg_trial_revert(env, reason, now_ms, err);
    }
    t.starts++;
    rg_uptime u = uptime(env);
    anchor(&t, &u);
    if ((rc = rg_trial_save(env, &t, err)) != 0)
        return rc;
    rg_failpoint("trial.after_count_start");
    return 0;
}

int rg_trial_crashed(const rg_trial_env *env, const char *detail,
                     int64_t now_ms, rg_err *err)
{
    rg_trial t;
    char id[RG_EVENT_ID_MAX];
    int rc = rg_trial_load(env, &t, err);
    if (rc == RG_ENOTFOUND)
        return 0;
    if (rc != 0 || t.phase != RG_TRIAL_RUNNING)
        return rc;
    t.crashes++;
    rg_uptime u = uptime(env);
    anchor(&t, &u);
    if ((rc = rg_trial_save(env, &t, err)) != 0)
        return rc;
    rg_event_new_id(id);
    return queue(env, id, "crashed", &t, detail, now_ms, err);
}

int rg_trial_check_deadline(const rg_trial_env *env, int64_t now_ms,
                            bool *reverted, rg_err *err)
{
    rg_trial t;
    *reverted = false;
    int rc = rg_trial_load(env, &t, err);
    if (rc == RG_ENOTFOUND)
        return 0;
    if (rc != 0 || t.phase != RG_TRIAL_RUNNING)
        return rc;
    rg_uptime u = uptime(env);
    if (elapsed(&t, &u) < t.limit_ms) {
        if (strcmp(t.boot_id, u.boot_id) == 0 && u.ms >= t.boot_ms)
            return 0;
        anchor(&t, &u); /* rebooted: count on from here */
        return rg_trial_save(env, &t, err);
    }
    *reverted = true;
    return rg_trial_revert(env, "no confirmation before the deadline", now_ms,
                           err);
}

int rg_trial_reconcile(const rg_trial_env *env, int64_t now_ms, rg_err *err)
{
    rg_trial t;
    int rc = rg_trial_load(env, &t, err);
    if (rc == RG_ENOTFOUND)
        return 0;
    if (rc != 0) {
        /* Unreadable trial file: only a bug or outside damage; keep the
         * slots as they are and drop it. */
        rg_warn("channel '%s': dropping unreadable trial.json",
                env->slots->name);
        return rg__remove_durable(env->slots->dir, "trial.json", err);
    }
    if (t.phase != RG_TRIAL_RUNNING)
        return finish(env, &t, now_ms, err);
    if (rg_slots_active(env->slots) != t.slot) /* killed before the switch */
        return rg__remove_durable(env->slots->dir, "trial.json", err);
    return 0;
}

int rg_trial_abandon(const rg_trial_env *env, rg_err *err)
{
    rg_trial t;
    int rc = rg_trial_load(env, &t, err);
    if (rc != 0)
        return rc;
    if (t.good && (rc = rg_slots_switch(env->slots, t.good, err)) != 0)
        return rc;
    rg_failpoint("rollback.after_switch");
    return rg__remove_durable(env->slots->dir, "trial.json", err);
}
