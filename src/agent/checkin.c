/* checkin.c - see checkin.h. */
#include "checkin.h"
#include "common/name.h"

#include "common/json.h"
#include "common/log.h"
#include "durable.h"
#include "slots.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

json_t *rg_checkin_installed(const char *state_dir)
{
    char d[4096];
    json_t *out = json_object();
    snprintf(d, sizeof d, "%s/channels", state_dir);
    DIR *dir = opendir(d);
    if (!dir || !out)
        goto cleanup;
    for (struct dirent *e; (e = readdir(dir));) {
        rg_slots s;
        rg_artifact_want m;
        if (!rg_channel_name_valid(e->d_name) ||
            rg_slots_open(&s, state_dir, e->d_name, NULL) != 0)
            continue;
        rg_slot_id a = rg_slots_active(&s);
        if (!a || rg_slots_meta(&s, a, &m, NULL) != 0)
            continue;
        json_object_set_new(
            out, e->d_name,
            json_pack("{sI sI ss}", "release", (json_int_t)m.release, "version",
                      (json_int_t)m.version, "sha256", m.sha256));
    }
cleanup:
    if (dir)
        closedir(dir);
    return out;
}

static void record_contact(const char *state_dir, int64_t now_ms, bool ok,
                           const char *error)
{
    json_t *old = rg__read_json(state_dir, "contact.json", NULL);
    json_int_t last_ok =
        old ? json_integer_value(json_object_get(old, "last_ok_ms")) : 0;
    json_t *v = json_pack("{sI sI ss}", "last_ok_ms",
                          ok ? (json_int_t)now_ms : last_ok, "last_attempt_ms",
                          (json_int_t)now_ms, "last_error", ok ? "" : error);
    if (v)
        rg__write_json(state_dir, "contact.json", v, NULL);
    json_decref(v);
    json_decref(old);
}

static int load_token(const rg_agent_config *conf, rg_client *c)
{
    char p[4096];
    rg_buf b;
    rg_buf_init(&b, sizeof c->token - 1);
    snprintf(p, sizeof p, "%s/token", conf->state_dir);
    int rc = rg_file_read(p, &b, NULL);
    if (rc == 0 && b.len > 0)
        snprintf(c->token, sizeof c->token, "%.*s",
                 (int)strcspn(b.data, "\r\n"), b.data);
    rg_buf_release(&b);
    return c->token[0] ? 0 : RG_ENOTFOUND;
}

static int enroll(const rg_agent_config *conf, rg_client *c, rg_err *err)
{
    json_t *tags = json_array(), *resp = NULL;
    const char *token = NULL;
    int rc = 0;
    if (!conf->enrollment_key) {
        json_decref(tags);
        return rg_err_field(err, RG_EAUTH, "enrollment_key",
                            "no token in '%s' and no enrollment_key configured",
                            conf->state_dir);
    }
    for (size_t i = 0; i < conf->ntags; i++)
        json_array_append_new(tags, json_string(conf->tags[i]));
    json_t *body = json_pack(
        "{ss ss s{ss ss ss so}}", "enrollment_key", conf->enrollment_key,
        "endpoint_id", conf->endpoint_id, "attributes", "os", conf->os,
        "os_version", conf->os_version, "arch", conf->arch, "tags", tags);
    if (!body)
        return rg_err_set(err, RG_ENOMEM, "enroll: out of memory");
    if ((rc = rg_client_post(c, "/v1/agent/enroll", body, 0, &resp, err)) != 0)
        goto cleanup;
    if ((rc = rg_json_string(resp, "token", true, sizeof c->token - 1, &token,
                             err)) != 0)
        goto cleanup;
    rc = rg_file_write_durable(conf->state_dir, "token", token, strlen(token),
                               0600, err);
    if (rc == 0) {
        snprintf(c->token, sizeof c->token, "%s", token);
        rg_info("enrolled as '%s'", conf->endpoint_id);
    }
cleanup:
    json_decref(body);
    json_decref(resp);
    return rc;
}

static int take_answer(const rg_agent_config *conf, rg_outbox *outbox,
                       json_t *resp, rg_checkin_result *r, rg_err *err)
{
    int64_t interval = 0;
    json_t *acks = NULL, *desired = NULL, *notices = NULL, *v;
    const char *key;
    size_t i;
    int rc = 0;
    if ((rc = rg_json_int(resp, "interval_s", false, 1, 86400, &interval,
                          err)) ||
        (rc = rg_json_array(resp, "acks", false, 100000, &acks, err)) ||
        (rc = rg_json_object(resp, "desired", false, &desired, err)) ||
        (rc = rg_json_array(resp, "notices", false, 1024, &notices, err)))
        return rc;
    r->interval_ms = interval * 1000;
    size_t want = json_object_size(desired);
    want = want < RG_CHECKIN_MAX_DESIRED ? want : RG_CHECKIN_MAX_DESIRED;
    if (want && !(r->desired = calloc(want, sizeof *r->desired)))
        return rg_err_set(err, RG_ENOMEM, "check-in: out of memory");
    json_array_foreach(acks, i, v)
    {
        if (json_is_string(v) &&
            (rc = rg_outbox_ack(outbox, json_string_value(v), err)) != 0)
            return rc;
        r->acked++;
    }
    json_object_foreach(desired, key, v)
    {
        rg_err e;
        if (!rg_channel_name_valid(key) || r->ndesired == want ||
            rg_desired_parse(v, &r->desired[r->ndesired], &e) != 0) {
            rg_warn("check-in: ignoring desired entry for channel '%s'", key);
            continue;
        }
        snprintf(r->channels[r->ndesired], sizeof r->channels[0], "%s", key);
        r->ndesired++;
    }
    r->notices = notices ? json_incref(notices) : json_array();
    r->flags = json_incref(json_object_get(resp, "flags"));
    json_t *file = json_pack("{sO}", "notices", r->notices);
    if (file)
        rg__write_json(conf->state_dir, "notices.json", file, NULL);
    json_decref(file);
    return 0;
}

int rg_checkin(const rg_agent_config *conf, rg_client *client,
               rg_outbox *outbox, bool insecure, const json_t *flags,
               int64_t now_ms, rg_checkin_result *r, rg_err *err)
{
    json_t *body = NULL, *resp = NULL, *events = NULL;
    int rc = 0;
    memset(r, 0, sizeof *r);
    if (load_token(conf, client) != 0 && (rc = enroll(conf, client, err)) != 0)
        goto cleanup;
    events = rg_outbox_pending(outbox, RG_OUTBOX_MAX, err);
    if (!events) {
        rc = RG_EIO;
        goto cleanup;
    }
    r->sent = json_array_size(events);
    body =
        json_pack("{ss so sO}", "endpoint_id", conf->endpoint_id, "installed",
                  rg_checkin_installed(conf->state_dir), "events", events);
    if (!body ||
        (insecure && json_object_set_new(body, "insecure", json_true()) != 0) ||
        (flags && json_object_set(body, "flags", (json_t *)flags) != 0)) {
        rc = rg_err_set(err, RG_ENOMEM, "check-in: out of memory");
        goto cleanup;
    }
    rc = rg_client_post(client, "/v1/agent/checkin", body, 1, &resp, err);
    if (rc == RG_EAUTH) { /* token revoked or replaced: enroll again */
        rg__remove_durable(conf->state_dir, "token", NULL);
        client->token[0] = '\0';
    }
    if (rc == 0)
        rc = take_answer(conf, outbox, resp, r, err);
cleanup:
    record_contact(conf->state_dir, now_ms, rc == 0, err && rc ? err->msg : "");
    if (rc != 0)
        rg_checkin_result_release(r);
    json_decref(body);
    json_decref(resp);
    json_decref(events);
    return rc;
}

void rg_checkin_result_release(rg_checkin_result *r)
{
    json_decref(r->notices);
    r->notices = NULL;
    json_decref(r->flags);
    r->flags = NULL;
    free(r->desired);
    r->desired = NULL;
    r->ndesired = 0;
}
