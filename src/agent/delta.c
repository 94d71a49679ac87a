/* delta.c - see delta.h. */
#include "delta.h"

#include "common/log.h"
#include "common/zpatch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Whether d's delta applies to what s has active. */
static bool base_matches(const rg_slots *s, const rg_desired *d)
{
    rg_artifact_want have;
    rg_slot_id a = rg_slots_active(s);
    if (!a || rg_slots_meta(s, a, &have, NULL) != 0) {
        rg_warn("channel '%s': delta for release %lld skipped: nothing "
                "installed to apply it to",
                s->name, (long long)d->want.release);
        return false;
    }
    if (strcmp(have.sha256, d->delta_base) != 0) {
        rg_warn("channel '%s': delta for release %lld skipped: its base "
                "%.12s is not the installed %.12s",
                s->name, (long long)d->want.release, d->delta_base,
                have.sha256);
        return false;
    }
    return true;
}

/* Applies the delta file dpath to s's active content into part. */
static int rebuild(const rg_slots *s, const rg_desired *d, const char *dpath,
                   const char *part, rg_err *err)
{
    char base[RG_PATH_MAX];
    uint64_t n = 0;
    rg_slots_content_path(s, rg_slots_active(s), base);
    int in = open(dpath, O_RDONLY | O_CLOEXEC);
    int out = open(part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int rc = 0;
    if (in < 0 || out < 0)
        rc = rg_err_set(err, RG_EIO, "open '%s': %s", in < 0 ? dpath : part,
                        strerror(errno));
    if (rc == 0)
        rc = rg_zpatch_apply(base, in, out, (uint64_t)d->want.size, &n, err);
    if (rc == 0 && fsync(out) != 0)
        rc = rg_err_set(err, RG_EIO, "fsync '%s': %s", part, strerror(errno));
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    if (rc == 0)
        rc = rg_agent_verify_file(part, &d->want, err);
    return rc;
}

int rg_delta_stage(rg_client *c, const rg_slots *s, const rg_desired *d,
                   const char *part)
{
    char dpath[RG_PATH_MAX];
    rg_err err;
    rg_err_clear(&err);
    if (!d->delta_url[0] || !base_matches(s, d))
        return 1;
    snprintf(dpath, sizeof dpath, "%s/delta.part", s->dir);
    int rc = 0;
    if (d->delta.size >= d->want.size)
        rc = rg_err_set(&err, RG_EINVAL,
                        "the delta (%lld bytes) is not smaller than the "
                        "release (%lld)",
                        (long long)d->delta.size, (long long)d->want.size);
    if (rc == 0)
        rc = rg_client_download(c, d->delta_url, dpath, &d->delta, &err);
    if (rc == 0)
        rc = rebuild(s, d, dpath, part, &err);
    if (rc != RG_EUNAVAIL) /* an interrupted download resumes next time */
        unlink(dpath);
    if (rc == 0) {
        rg_info("channel '%s': release %lld rebuilt from a delta of %lld "
                "bytes (whole: %lld)",
                s->name, (long long)d->want.release, (long long)d->delta.size,
                (long long)d->want.size);
        return 0;
    }
    unlink(part);
    rg_warn("channel '%s': delta for release %lld unusable, downloading the "
            "whole artifact: %s",
            s->name, (long long)d->want.release, err.msg);
    return rc;
}
