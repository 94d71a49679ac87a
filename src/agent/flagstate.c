/* flagstate.c - see flagstate.h. */
#include "flagstate.h"

#include "common/log.h"
#include "durable.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ACTIVE "active.json"
#define GOOD "good.json"
#define STATE "state.json"

static void copy_str(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

/* The stamp of dir/name into out ("" when missing or unreadable). */
static void file_stamp(const char *dir, const char *name, char *out)
{
    json_t *doc = rg__read_json_max(dir, name, RG_FLAGS_FILE_MAX, NULL);
    copy_str(out, RG_FLAGS_STAMP_MAX,
             json_string_value(json_object_get(doc, "stamp")));
    json_decref(doc);
}

static json_t *refused_json(const rg_flagstate *fs)
{
    json_t *refused = json_array();
    for (size_t i = 0; refused && i < fs->nrefused; i++) {
        const rg_flags_refusal *r = &fs->refused[i];
        json_array_append_new(refused,
                              json_pack("{ss sI ss sb}", "stamp", r->stamp,
                                        "at_ms", (json_int_t)r->at_ms, "detail",
                                        r->detail, "reported", r->reported));
    }
    return refused;
}

static int save_state(const rg_flagstate *fs, rg_err *err)
{
    json_t *refused = refused_json(fs);
    json_t *v = json_pack("{ss ss si so}", "seen", fs->seen, "trial", fs->trial,
                          "crashes", fs->crashes, "refused", refused);
    if (!v)
        return rg_err_set(err, RG_ENOMEM, "flags: out of memory");
    int rc = rg__write_json(fs->dir, STATE, v, err);
    json_decref(v);
    return rc;
}

static void load_state(rg_flagstate *fs)
{
    json_t *v = rg__read_json(fs->dir, STATE, NULL), *r;
    size_t i;
    copy_str(fs->seen, sizeof fs->seen,
             json_string_value(json_object_get(v, "seen")));
    copy_str(fs->trial, sizeof fs->trial,
             json_string_value(json_object_get(v, "trial")));
    fs->crashes = (int)json_integer_value(json_object_get(v, "crashes"));
    json_array_foreach(json_object_get(v, "refused"), i, r)
    {
        if (fs->nrefused == RG_FLAGS_REFUSED_KEEP)
            break;
        rg_flags_refusal *x = &fs->refused[fs->nrefused++];
        copy_str(x->stamp, sizeof x->stamp,
                 json_string_value(json_object_get(r, "stamp")));
        x->at_ms = json_integer_value(json_object_get(r, "at_ms"));
        copy_str(x->detail, sizeof x->detail,
                 json_string_value(json_object_get(r, "detail")));
        x->reported = json_is_true(json_object_get(r, "reported"));
    }
    json_decref(v);
}

/* Makes active.json the last known good set (none when there is none). */
static int restore_good(rg_flagstate *fs, rg_err *err)
{
    int rc;
    if (!fs->good[0]) {
        rc = rg__remove_durable(fs->dir, ACTIVE, err);
    } else {
        json_t *doc = rg__read_json_max(fs->dir, GOOD, RG_FLAGS_FILE_MAX, err);
        if (!doc)
            return err ? err->code : RG_EIO;
        rc = rg__write_json(fs->dir, ACTIVE, doc, err);
        json_decref(doc);
    }
    if (rc == 0)
        copy_str(fs->active, sizeof fs->active, fs->good);
    return rc;
}

int rg_flagstate_open(rg_flagstate *fs, const char *state_dir, rg_err *err)
{
    memset(fs, 0, sizeof *fs);
    if (rg__path(fs->dir, sizeof fs->dir, state_dir, "flags") != 0)
        return rg_err_set(err, RG_ETOOBIG, "state_dir too long");
    int rc = rg__mkdirs(fs->dir, err);
    if (rc != 0)
        return rc;
    load_state(fs);
    file_stamp(fs->dir, ACTIVE, fs->active);
    file_stamp(fs->dir, GOOD, fs->good);
    if (fs->trial[0] && strcmp(fs->trial, fs->good) == 0) {
        fs->trial[0] = '\0'; /* killed while confirming */
        fs->crashes = 0;
        if ((rc = save_state(fs, err)) != 0)
            return rc;
    }
    const char *want = fs->trial[0] ? fs->trial : fs->good;
    if (strcmp(fs->active, want) == 0)
        return 0;
    rg_warn("flags: active set '%s' is not the one in force ('%s'): "
            "restoring the last known good set",
            fs->active, want);
    fs->trial[0] = '\0';
    fs->crashes = 0;
    if ((rc = save_state(fs, err)) != 0)
        return rc;
    return restore_good(fs, err);
}

json_t *rg_flagstate_status(const char *state_dir)
{
    rg_flagstate *x = calloc(1, sizeof *x); /* 7 KiB: not on the stack */
    if (!x)
        return NULL;
    json_t *v = NULL;
    if (rg__path(x->dir, sizeof x->dir, state_dir, "flags") != 0 ||
        !rg__exists(x->dir)) {
        free(x);
        return json_null();
    }
    load_state(x);
    file_stamp(x->dir, ACTIVE, x->active);
    file_stamp(x->dir, GOOD, x->good);
    v = json_pack("{ss ss ss si so}", "active", x->active, "good", x->good,
                  "trial", x->trial, "crashes", x->crashes, "refused",
                  refused_json(x));
    free(x);
    return v;
}

static bool refused(const rg_flagstate *fs, const char *stamp)
{
    for (size_t i = 0; i < fs->nrefused; i++)
        if (strcmp(fs->refused[i].stamp, stamp) == 0)
            return true;
    return false;
}

int rg_flagstate_offer(rg_flagstate *fs, const char *env, const char *stamp,
                       const json_t *set, bool *taken, rg_err *err)
{
    *taken = false;
    if (!stamp[0] || strlen(stamp) >= RG_FLAGS_STAMP_MAX ||
        !json_is_object(set))
        return rg_err_set(err, RG_EINVAL, "flags: a set needs a stamp");
    if (refused(fs, stamp) || strcmp(fs->active, stamp) == 0)
        return 0;
    json_t *doc = json_deep_copy(set);
    if (!doc || json_object_set_new(doc, "stamp", json_string(stamp)) ||
        json_object_set_new(doc, "environment", json_string(env))) {
        json_decref(doc);
        return rg_err_set(err, RG_ENOMEM, "flags: out of memory");
    }
    /* active.json first: killed before state.json names the trial, the
     * open restores the good set and the server sends this one again. */
    int rc = rg__write_json(fs->dir, ACTIVE, doc, err);
    json_decref(doc);
    if (rc != 0)
        return rc;
    copy_str(fs->active, sizeof fs->active, stamp);
    copy_str(fs->trial, sizeof fs->trial, stamp);
    copy_str(fs->seen, sizeof fs->seen, stamp);
    fs->crashes = 0;
    *taken = true;
    rg_info("flags: set '%s' of environment '%s' active, on trial", stamp, env);
    return save_state(fs, err);
}

static void add_refusal(rg_flagstate *fs, const char *detail, int64_t now_ms)
{
    if (fs->nrefused == RG_FLAGS_REFUSED_KEEP) {
        memmove(&fs->refused[0], &fs->refused[1],
                (RG_FLAGS_REFUSED_KEEP - 1) * sizeof fs->refused[0]);
        fs->nrefused--;
    }
    rg_flags_refusal *r = &fs->refused[fs->nrefused++];
    memset(r, 0, sizeof *r);
    copy_str(r->stamp, sizeof r->stamp, fs->trial);
    copy_str(r->detail, sizeof r->detail, detail);
    r->at_ms = now_ms;
}

int rg_flagstate_crashed(rg_flagstate *fs, int max_crashes, const char *detail,
                         int64_t now_ms, bool *reverted, rg_err *err)
{
    *reverted = false;
    if (!fs->trial[0])
        return 0;
    fs->crashes++;
    if (fs->crashes < max_crashes)
        return save_state(fs, err);
    char why[160];
    snprintf(why, sizeof why, "%d consumer crashes on the set: %s", fs->crashes,
             detail);
    rg_warn("flags: set '%s' refused after %s; back to '%s'", fs->trial, why,
            fs->good[0] ? fs->good : "(no flags)");
    add_refusal(fs, why, now_ms);
    fs->trial[0] = '\0';
    fs->crashes = 0;
    /* state.json first: killed before active.json is restored, the open
     * sees a set in force that is not the good one and restores it. */
    int rc = save_state(fs, err);
    if (rc == 0)
        rc = restore_good(fs, err);
    *reverted = rc == 0;
    return rc;
}

int rg_flagstate_confirm(rg_flagstate *fs, rg_err *err)
{
    if (!fs->trial[0])
        return 0;
    json_t *doc = rg__read_json_max(fs->dir, ACTIVE, RG_FLAGS_FILE_MAX, err);
    if (!doc)
        return err ? err->code : RG_EIO;
    int rc = rg__write_json(fs->dir, GOOD, doc, err);
    json_decref(doc);
    if (rc != 0)
        return rc;
    rg_info("flags: set '%s' confirmed: the last known good set", fs->trial);
    copy_str(fs->good, sizeof fs->good, fs->trial);
    fs->trial[0] = '\0';
    fs->crashes = 0;
    return save_state(fs, err);
}

json_t *rg_flagstate_report(const rg_flagstate *fs, const char *env)
{
    json_t *rev = json_array();
    for (size_t i = 0; rev && i < fs->nrefused; i++) {
        const rg_flags_refusal *r = &fs->refused[i];
        if (!r->reported)
            json_array_append_new(
                rev, json_pack("{ss sI ss}", "stamp", r->stamp, "at_ms",
                               (json_int_t)r->at_ms, "detail", r->detail));
    }
    json_t *v = json_pack("{ss so}", "environment", env, "reverted", rev);
    if (v && fs->seen[0])
        json_object_set_new(v, "stamp", json_string(fs->seen));
    if (v && fs->active[0])
        json_object_set_new(v, "active", json_string(fs->active));
    if (v && fs->good[0])
        json_object_set_new(v, "good", json_string(fs->good));
    return v;
}

int rg_flagstate_stored(rg_flagstate *fs, const json_t *stamps, rg_err *err)
{
    size_t i, changed = 0;
    json_t *s;
    json_array_foreach(stamps, i, s)
    {
        for (size_t j = 0; j < fs->nrefused; j++) {
            rg_flags_refusal *r = &fs->refused[j];
            if (!r->reported && json_is_string(s) &&
                strcmp(r->stamp, json_string_value(s)) == 0) {
                r->reported = true;
                changed++;
            }
        }
    }
    return changed ? save_state(fs, err) : 0;
}
