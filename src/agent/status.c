/* status.c - see status.h. */
#include "status.h"

#include "flagstate.h"
#include "common/name.h"

#include "durable.h"
#include "outbox.h"
#include "quarantine.h"
#include "slots.h"
#include "trial.h"
#include "trust/root.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static json_t *slot_json(const rg_slots *s, rg_slot_id id)
{
    rg_artifact_want m;
    char slot[2] = {id, 0};
    if (!id || rg_slots_meta(s, id, &m, NULL) != 0)
        return json_null();
    return json_pack("{ss sI sI ss sI}", "slot", slot, "release",
                     (json_int_t)m.release, "version", (json_int_t)m.version,
                     "sha256", m.sha256, "size", (json_int_t)m.size);
}

static json_t *channel_json(const char *state_dir, const char *name)
{
    rg_slots s;
    rg_outbox ob;
    rg_trial t;
    if (rg_slots_open(&s, state_dir, name, NULL) != 0 ||
        rg_outbox_open(&ob, state_dir, NULL) != 0)
        return NULL;
    rg_trial_env te = {state_dir, &s, &ob, 0, NULL};
    rg_slot_id a = rg_slots_active(&s);
    json_t *trial = json_null();
    if (rg_trial_load(&te, &t, NULL) == 0) {
        static const char *const phases[] = {"running", "confirmed",
                                             "reverting"};
        trial = json_pack("{sI sI si si ss sI sI ss}", "release",
                          (json_int_t)t.rel.release, "version",
                          (json_int_t)t.rel.version, "starts", t.starts,
                          "crashes", t.crashes, "phase", phases[t.phase],
                          "started_ms", (json_int_t)t.started_ms, "deadline_ms",
                          (json_int_t)t.deadline_ms, "reason", t.reason);
    }
    json_t *rejected = rg__read_json(s.dir, "rejected.json", NULL);
    return json_pack("{ss so so so so}", "name", name, "active",
                     slot_json(&s, a), "inactive",
                     slot_json(&s, rg_slots_other(a)), "trial", trial,
                     "rejected", rejected ? rejected : json_null());
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

json_t *rg_agent_status(const char *state_dir)
{
    char d[4096];
    char *names[256];
    size_t n = 0;
    rg_outbox ob;
    json_t *channels = json_array();
    snprintf(d, sizeof d, "%s/channels", state_dir);
    DIR *dir = opendir(d);
    for (struct dirent *e; dir && n < 256 && (e = readdir(dir));)
        if (rg_channel_name_valid(e->d_name) && (names[n] = strdup(e->d_name)))
            n++;
    if (dir)
        closedir(dir);
    qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        json_t *c = channel_json(state_dir, names[i]);
        if (c)
            json_array_append_new(channels, c);
        free(names[i]);
    }
    json_t *notices = rg__read_json(state_dir, "notices.json", NULL);
    json_t *contact = rg__read_json(state_dir, "contact.json", NULL);
    json_t *outbox = json_null();
    if (rg_outbox_open(&ob, state_dir, NULL) == 0)
        outbox =
            json_pack("{sI sI}", "pending", (json_int_t)rg_outbox_count(&ob),
                      "refused", (json_int_t)rg_outbox_refused(&ob));
    char trust_dir[4096];
    snprintf(trust_dir, sizeof trust_dir, "%s/trust", state_dir);
    json_t *root = rg__read_json(trust_dir, "root.json", NULL);
    rg_root r;
    json_t *trust =
        root && rg_root_parse(root, &r, NULL) == 0
            ? json_pack("{sI si sI ss}", "root_version", (json_int_t)r.version,
                        "threshold", r.threshold, "keys", (json_int_t)r.nkeys,
                        "root_sha256", r.digest)
            : json_null();
    json_decref(root);
    json_t *mode = rg__read_json(trust_dir, "mode.json", NULL);
    const char *m = json_string_value(json_object_get(mode, "mode"));
    json_t *v = json_pack(
        "{so ss so so sO so sO so}", "trust", trust, "trust_mode",
        json_is_object(trust) ? "pinned"
        : m                   ? m
                              : "unknown",
        "channels", channels, "quarantined", rg_quarantine_list(state_dir),
        "notices", notices ? json_object_get(notices, "notices") : json_null(),
        "outbox", outbox, "last_contact", contact ? contact : json_null(),
        "flags", rg_flagstate_status(state_dir));
    json_decref(notices);
    json_decref(contact);
    json_decref(mode);
    return v;
}

static const char *when(json_int_t ms, char buf[32])
{
    if (ms <= 0)
        return "never";
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

static json_int_t geti(const json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

static const char *gets_(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

void rg_agent_status_print(FILE *f, const json_t *st)
{
    char b1[32];
    size_t i;
    json_t *c;
    json_t *tr = json_object_get(st, "trust");
    if (json_is_object(tr))
        fprintf(f,
                "trust: root version %lld, %lld of %lld keys, root_sha256 %s\n",
                (long long)geti(tr, "root_version"),
                (long long)geti(tr, "threshold"), (long long)geti(tr, "keys"),
                gets_(tr, "root_sha256"));
    else if (strcmp(gets_(st, "trust_mode"), "insecure") == 0)
        fprintf(f, "trust: INSECURE: no root pinned, releases are applied "
                   "WITHOUT verification (insecure = true)\n");
    else
        fprintf(f, "trust: no root pinned: no release is applied (pin a root, "
                   "or set insecure = true for development)\n");
    fprintf(f, "channels:\n");
    json_array_foreach(json_object_get(st, "channels"), i, c)
    {
        json_t *a = json_object_get(c, "active"),
               *t = json_object_get(c, "trial");
        if (json_is_object(a))
            fprintf(
                f,
                "  %-16s release %lld  version %lld  slot %s  sha256 %.12s\n",
                gets_(c, "name"), (long long)geti(a, "release"),
                (long long)geti(a, "version"), gets_(a, "slot"),
                gets_(a, "sha256"));
        else
            fprintf(f, "  %-16s nothing installed\n", gets_(c, "name"));
        if (json_is_object(t))
            fprintf(
                f,
                "  %-16s trial of release %lld: %s, %lld starts, %lld crashes, "
                "deadline %s%s%s\n",
                "", (long long)geti(t, "release"), gets_(t, "phase"),
                (long long)geti(t, "starts"), (long long)geti(t, "crashes"),
                when(geti(t, "deadline_ms"), b1),
                *gets_(t, "reason") ? ", " : "", gets_(t, "reason"));
        json_t *rj = json_object_get(c, "rejected");
        if (json_is_object(rj))
            fprintf(f, "  %-16s rejected release %lld (version %lld): %s: %s\n",
                    "", (long long)geti(rj, "release"),
                    (long long)geti(rj, "version"), gets_(rj, "reason"),
                    gets_(rj, "detail"));
    }
    json_t *q = json_object_get(st, "quarantined");
    fprintf(f, "quarantined: %s\n", json_array_size(q) ? "" : "none");
    json_array_foreach(q, i, c) fprintf(
        f, "  %s  channel %s release %lld: %s\n", gets_(c, "sha256"),
        gets_(c, "channel"), (long long)geti(c, "release"), gets_(c, "reason"));
    json_t *n = json_object_get(st, "notices");
    fprintf(f, "notices: %s\n", json_array_size(n) ? "" : "none");
    json_array_foreach(n, i, c) fprintf(
        f, "  %s version %lld (%s, not before %s): %s\n", gets_(c, "channel"),
        (long long)geti(c, "version"), gets_(c, "urgency"),
        when(geti(c, "earliest_ms"), b1), gets_(c, "notes"));
    json_t *fl = json_object_get(st, "flags");
    if (json_is_object(fl)) {
        fprintf(f, "flags: set %s in force, last known good %s",
                *gets_(fl, "active") ? gets_(fl, "active") : "(none)",
                *gets_(fl, "good") ? gets_(fl, "good") : "(none)");
        if (*gets_(fl, "trial"))
            fprintf(f, ", on trial (%lld crashes)",
                    (long long)geti(fl, "crashes"));
        fprintf(f, "\n");
        json_array_foreach(json_object_get(fl, "refused"), i, c)
            fprintf(f, "  refused set %s%s: %s\n", gets_(c, "stamp"),
                    json_is_true(json_object_get(c, "reported"))
                        ? ""
                        : " (not reported yet)",
                    gets_(c, "detail"));
    }
    json_t *ob = json_object_get(st, "outbox");
    fprintf(f, "outbox: %lld pending, %lld refused\n",
            (long long)geti(ob, "pending"), (long long)geti(ob, "refused"));
    json_t *ct = json_object_get(st, "last_contact");
    fprintf(f, "last server contact: %s", when(geti(ct, "last_ok_ms"), b1));
    if (*gets_(ct, "last_error"))
        fprintf(f, " (last error: %s)", gets_(ct, "last_error"));
    fprintf(f, "\n");
}
