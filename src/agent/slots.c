/* slots.c - see slots.h. */
#include "slots.h"
#include "common/name.h"

#include "common/json.h"
#include "common/log.h"
#include "durable.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

static void slot_dir(const rg_slots *s, rg_slot_id id, char out[RG_PATH_MAX])
{
    snprintf(out, RG_PATH_MAX, "%s/slot-%c", s->dir, id);
}

int rg_slots_open(rg_slots *s, const char *state_dir, const char *name,
                  rg_err *err)
{
    char p[RG_PATH_MAX];
    s->lock_fd = -1;
    if (!rg_channel_name_valid(name))
        return rg_err_field(err, RG_EINVAL, "channel",
                            "channel '%s': name must be " RG_CHANNEL_NAME_RULE,
                            name);
    snprintf(s->name, sizeof s->name, "%s", name);
    if (snprintf(s->dir, sizeof s->dir, "%s/channels/%s", state_dir, name) >=
        (int)sizeof s->dir)
        return rg_err_set(err, RG_ETOOBIG, "state dir '%s' too long",
                          state_dir);
    int rc = rg__mkdirs(s->dir, err);
    for (int i = 0; rc == 0 && i < 2; i++) {
        slot_dir(s, (rg_slot_id)('a' + i), p);
        rc = rg__mkdirs(p, err);
    }
    return rc;
}

int rg_slots_lock(rg_slots *s, rg_err *err)
{
    char p[RG_PATH_MAX];
    if (s->lock_fd >= 0)
        return 0;
    snprintf(p, sizeof p, "%s/lock", s->dir);
    int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return rg_err_set(err, RG_EIO, "'%s': %s", p, strerror(errno));
    while (flock(fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            int saved = errno;
            close(fd);
            return rg_err_set(err, RG_EIO, "lock '%s': %s", p, strerror(saved));
        }
    }
    s->lock_fd = fd;
    return 0;
}

void rg_slots_unlock(rg_slots *s)
{
    if (s->lock_fd >= 0) {
        close(s->lock_fd); /* closing releases the flock */
        s->lock_fd = -1;
    }
}

rg_slot_id rg_slots_active(const rg_slots *s)
{
    char p[RG_PATH_MAX], target[64];
    snprintf(p, sizeof p, "%s/active", s->dir);
    ssize_t n = readlink(p, target, sizeof target - 1);
    if (n < 0)
        return 0;
    target[n] = '\0';
    if (strcmp(target, "slot-a") == 0)
        return 'a';
    if (strcmp(target, "slot-b") == 0)
        return 'b';
    return 0;
}

rg_slot_id rg_slots_other(rg_slot_id id)
{
    return id == 'a' ? 'b' : 'a';
}

void rg_slots_content_path(const rg_slots *s, rg_slot_id id,
                           char out[RG_PATH_MAX])
{
    snprintf(out, RG_PATH_MAX, "%s/slot-%c/content", s->dir, id);
}

int rg_slots_meta(const rg_slots *s, rg_slot_id id, rg_artifact_want *out,
                  rg_err *err)
{
    char d[RG_PATH_MAX];
    const char *sha = NULL;
    int rc = 0;
    if (id != 'a' && id != 'b')
        return rg_err_set(err, RG_ENOTFOUND, "channel '%s': no slot", s->name);
    slot_dir(s, id, d);
    rg_err e;
    json_t *m = rg__read_json(d, "meta.json", &e);
    if (!m) {
        if (err)
            *err = e;
        return e.code;
    }
    if ((rc = rg_json_int(m, "release", true, 0, INT64_MAX, &out->release,
                          err)) ||
        (rc = rg_json_int(m, "version", true, 0, INT64_MAX, &out->version,
                          err)) ||
        (rc = rg_json_int(m, "size", true, 0, INT64_MAX, &out->size, err)) ||
        (rc = rg_json_string(m, "sha256", true, 64, &sha, err)))
        goto cleanup;
    snprintf(out->sha256, sizeof out->sha256, "%s", sha);
cleanup:
    json_decref(m);
    return rc ? RG_EIO : 0;
}

int rg_slots_verify(const rg_slots *s, rg_slot_id id, rg_artifact_want *out,
                    rg_err *err)
{
    char p[RG_PATH_MAX];
    rg_artifact_want tmp;
    if (!out)
        out = &tmp;
    int rc = rg_slots_meta(s, id, out, err);
    if (rc != 0)
        return rc;
    rg_slots_content_path(s, id, p);
    return rg_agent_verify_file(p, out, err);
}

int rg_slots_install(rg_slots *s, rg_slot_id id, const char *src,
                     const rg_artifact_want *m, rg_err *err)
{
    char d[RG_PATH_MAX], content[RG_PATH_MAX];
    int rc = 0;
    json_t *meta = NULL;
    if (id == rg_slots_active(s))
        return rg_err_set(err, RG_ECONFLICT, "channel '%s': slot %c is active",
                          s->name, id);
    slot_dir(s, id, d);
    if ((rc = rg__remove_durable(d, "meta.json", err)) != 0)
        return rc;
    rg_slots_content_path(s, id, content);
    if (rename(src, content) != 0)
        return rg_err_set(err, RG_EIO, "rename '%s': %s", src, strerror(errno));
    if ((rc = rg_file_fsync_dir(d, err)) != 0)
        return rc;
    meta = json_pack("{sI sI sI ss}", "release", (json_int_t)m->release,
                     "version", (json_int_t)m->version, "size",
                     (json_int_t)m->size, "sha256", m->sha256);
    if (!meta)
        return rg_err_set(err, RG_ENOMEM, "channel '%s': out of memory",
                          s->name);
    rc = rg__write_json(d, "meta.json", meta, err);
    json_decref(meta);
    return rc;
}

int rg_slots_switch(rg_slots *s, rg_slot_id id, rg_err *err)
{
    char link[RG_PATH_MAX], tmp[RG_PATH_MAX], target[16];
    snprintf(link, sizeof link, "%s/active", s->dir);
    if (id == 0) {
        if (unlink(link) != 0 && errno != ENOENT)
            return rg_err_set(err, RG_EIO, "unlink '%s': %s", link,
                              strerror(errno));
        return rg_file_fsync_dir(s->dir, err);
    }
    snprintf(tmp, sizeof tmp, "%s/active.tmp", s->dir);
    snprintf(target, sizeof target, "slot-%c", id);
    unlink(tmp);
    if (symlink(target, tmp) != 0 || rename(tmp, link) != 0)
        return rg_err_set(err, RG_EIO, "channel '%s': switch to slot %c: %s",
                          s->name, id, strerror(errno));
    return rg_file_fsync_dir(s->dir, err);
}

int rg_slots_reconcile(rg_slots *s, rg_err *err)
{
    char d[RG_PATH_MAX], p[RG_PATH_MAX];
    rg_err e;
    snprintf(p, sizeof p, "%s/active.tmp", s->dir);
    unlink(p);
    rg_slot_id act = rg_slots_active(s);
    rg_slot_id ina = rg_slots_other(act);
    if (act && rg_slots_verify(s, act, NULL, &e) != 0) {
        rg_warn("channel '%s': active slot %c does not verify: %s", s->name,
                act, e.msg);
        rg_slot_id other = rg_slots_verify(s, ina, NULL, NULL) == 0 ? ina : 0;
        int rc = rg_slots_switch(s, other, err);
        if (rc != 0)
            return rc;
        act = other;
        ina = rg_slots_other(act);
    }
    for (int i = 0; i < 2; i++) {
        rg_slot_id id = (rg_slot_id)('a' + i);
        slot_dir(s, id, d);
        rg__path(p, sizeof p, d, "meta.json.tmp");
        unlink(p);
        if (id == act || rg_slots_verify(s, id, NULL, NULL) == 0)
            continue;
        /* Empty, half-written or corrupt: make it plainly empty. */
        int rc = rg__remove_durable(d, "meta.json", err);
        if (rc == 0)
            rc = rg__remove_durable(d, "content", err);
        if (rc != 0)
            return rc;
    }
    return 0;
}
