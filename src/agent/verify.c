/* verify.c - see verify.h. */
#include "verify.h"

#include "trust/relmeta.h"

#include <jansson.h>
#include <stdio.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

int rg_agent_hash_file(const char *path, char hex[RG_SHA256_HEX], int64_t *size,
                       rg_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return rg_err_set(err, RG_ENOTFOUND, "'%s' does not exist", path);
        return rg_err_set(err, RG_EIO, "'%s': %s", path, strerror(errno));
    }
    int rc = 0;
    rg_sha256 s;
    rg_sha256_init(&s);
    *size = 0;
    char chunk[32768];
    for (;;) {
        ssize_t r = read(fd, chunk, sizeof chunk);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc =
                rg_err_set(err, RG_EIO, "read '%s': %s", path, strerror(errno));
            break;
        }
        if (r == 0)
            break;
        rg_sha256_update(&s, chunk, (size_t)r);
        *size += r;
    }
    close(fd);
    rg_sha256_final(&s, hex);
    return rc;
}

int rg_agent_verify_file(const char *path, const rg_artifact_want *want,
                         rg_err *err)
{
    char hex[RG_SHA256_HEX];
    int64_t size = 0;
    int rc = rg_agent_hash_file(path, hex, &size, err);
    if (rc != 0)
        return rc;
    if (size != want->size)
        return rg_err_field(
            err, RG_EINVAL, "size", "release %lld: size %lld, expected %lld",
            (long long)want->release, (long long)size, (long long)want->size);
    if (strcmp(hex, want->sha256) != 0)
        return rg_err_field(err, RG_EINVAL, "sha256",
                            "release %lld: sha256 mismatch",
                            (long long)want->release);
    return 0;
}

int rg_agent_verify_release(const rg_release_check *c,
                            const rg_artifact_want *want, rg_trust_reason *why,
                            rg_err *err)
{
    char what[48];
    rg_relmeta m;
    *why = RG_TRUST_OK;
    if (!c->root)
        return 0;
    snprintf(what, sizeof what, "release %lld", (long long)want->release);
    json_t *doc = c->metadata && c->metadata[0]
                      ? json_loads(c->metadata, JSON_REJECT_DUPLICATES, NULL)
                      : NULL;
    rg_relmeta_expect e = {c->channel, want->version, want->sha256, want->size,
                           NULL};
    int rc = rg_relmeta_verify(c->root, doc, &e, c->highest, c->now_ms,
                               c->skew_ms, what, &m, why, err);
    json_decref(doc);
    return rc;
}
