/* quarantine.c - see quarantine.h. */
#include "quarantine.h"

#include "common/crypto.h"
#include "durable.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>

static void qdir(const char *state_dir, char out[4096])
{
    snprintf(out, 4096, "%s/quarantine", state_dir);
}

int rg_quarantine_add(const char *state_dir, const char *sha256,
                      const char *channel, int64_t release, int64_t version,
                      const char *reason, int64_t now_ms, rg_err *err)
{
    char d[4096];
    if (!rg_sha256_hex_valid(sha256))
        return rg_err_set(err, RG_EINVAL, "quarantine: bad digest '%s'",
                          sha256);
    if (rg_quarantine_has(state_dir, sha256))
        return 0;
    qdir(state_dir, d);
    int rc = rg__mkdirs(d, err);
    if (rc != 0)
        return rc;
    json_t *v = json_pack("{ss sI sI ss sI}", "channel", channel, "release",
                          (json_int_t)release, "version", (json_int_t)version,
                          "reason", reason, "at_ms", (json_int_t)now_ms);
    if (!v)
        return rg_err_set(err, RG_ENOMEM, "quarantine: out of memory");
    rc = rg__write_json(d, sha256, v, err);
    json_decref(v);
    return rc;
}

bool rg_quarantine_has(const char *state_dir, const char *sha256)
{
    char p[4096];
    if (!rg_sha256_hex_valid(sha256))
        return false;
    snprintf(p, sizeof p, "%s/quarantine/%s", state_dir, sha256);
    return rg__exists(p);
}

int rg_quarantine_lift(const char *state_dir, const char *sha256, rg_err *err)
{
    char d[4096];
    if (!rg_sha256_hex_valid(sha256))
        return rg_err_set(err, RG_EINVAL, "quarantine: bad digest '%s'",
                          sha256);
    if (!rg_quarantine_has(state_dir, sha256))
        return rg_err_set(err, RG_ENOTFOUND, "digest '%s' is not quarantined",
                          sha256);
    qdir(state_dir, d);
    return rg__remove_durable(d, sha256, err);
}

int rg_quarantine_lift_once(const char *state_dir, const char *sha256,
                            int64_t now_ms, bool *lifted, rg_err *err)
{
    char d[4096], p[4200];
    *lifted = false;
    if (!rg_sha256_hex_valid(sha256))
        return rg_err_set(err, RG_EINVAL, "quarantine: bad digest '%s'",
                          sha256);
    snprintf(d, sizeof d, "%s/quarantine-lifted", state_dir);
    snprintf(p, sizeof p, "%s/%s", d, sha256);
    if (rg__exists(p))
        return 0;
    int rc = rg__mkdirs(d, err);
    if (rc != 0)
        return rc;
    json_t *v = json_pack("{sI}", "at_ms", (json_int_t)now_ms);
    if (!v)
        return rg_err_set(err, RG_ENOMEM, "quarantine: out of memory");
    rc = rg__write_json(d, sha256, v, err);
    json_decref(v);
    if (rc != 0)
        return rc;
    if ((rc = rg_quarantine_lift(state_dir, sha256, err)) != 0 &&
        rc != RG_ENOTFOUND)
        return rc;
    *lifted = true;
    return 0;
}

json_t *rg_quarantine_list(const char *state_dir)
{
    char d[4096];
    json_t *arr = json_array();
    qdir(state_dir, d);
    DIR *dir = opendir(d);
    if (!dir || !arr)
        goto cleanup;
    for (struct dirent *e; (e = readdir(dir));) {
        if (!rg_sha256_hex_valid(e->d_name))
            continue;
        json_t *v = rg__read_json(d, e->d_name, NULL);
        if (!v)
            continue;
        json_object_set_new(v, "sha256", json_string(e->d_name));
        json_array_append_new(arr, v);
    }
cleanup:
    if (dir)
        closedir(dir);
    return arr;
}
