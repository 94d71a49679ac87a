/* artifacts.c - see artifacts.h. */
#include "artifacts.h"

#include "common/crypto.h"
#include "common/file.h"
#include "common/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct rg_artifact_upload {
    char dir[PATH_MAX]; /* DATA/artifacts */
    char tmp[PATH_MAX]; /* the temporary file, "" once renamed */
    int fd;
    uint64_t size;
    uint64_t max;
    rg_sha256 hash;
};

static int artifacts_dir(const rg_server *srv, char *out, size_t cap,
                         rg_err *err)
{
    int n = snprintf(out, cap, "%s/artifacts", srv->cfg.data_dir);
    if (n < 0 || (size_t)n >= cap)
        return rg_err_set(err, RG_EIO, "data directory path is too long");
    return 0;
}

static int mkdir_p1(const char *path, rg_err *err)
{
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return rg_err_set(err, RG_EIO, "mkdir '%s': %s", path, strerror(errno));
    return 0;
}

/* Removes DIR/.upload-* (uploads a crash left unfinished). */
static int remove_unfinished(const char *dir, rg_err *err)
{
    char path[PATH_MAX];
    unsigned removed = 0;
    int rc = 0;
    DIR *d = opendir(dir);
    if (!d)
        return rg_err_set(err, RG_EIO, "open '%s': %s", dir, strerror(errno));
    for (struct dirent *e; rc == 0 && (e = readdir(d)) != NULL;) {
        if (strncmp(e->d_name, ".upload-", 8) != 0)
            continue;
        int n = snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (n < 0 || (size_t)n >= sizeof path || unlink(path) != 0)
            rc = rg_err_set(err, RG_EIO, "cannot remove '%s/%s': %s", dir,
                            e->d_name, strerror(errno));
        else
            removed++;
    }
    closedir(d);
    if (removed)
        rg_info("removed %u unfinished upload%s from '%s'", removed,
                removed == 1 ? "" : "s", dir);
    return rc;
}

int rg_artifacts_init(const rg_server *srv, rg_err *err)
{
    char dir[PATH_MAX];
    int rc = artifacts_dir(srv, dir, sizeof dir, err);
    if (rc == 0)
        rc = mkdir_p1(dir, err);
    if (rc == 0)
        rc = remove_unfinished(dir, err);
    return rc;
}

int rg_artifact_upload_begin(const rg_server *srv, uint64_t max,
                             rg_artifact_upload **out, rg_err *err)
{
    rg_artifact_upload *u = calloc(1, sizeof *u);
    int rc;
    if (!u)
        return rg_err_set(err, RG_ENOMEM, "out of memory");
    u->fd = -1;
    u->max = max;
    rc = artifacts_dir(srv, u->dir, sizeof u->dir, err);
    if (rc != 0)
        goto cleanup;
    rc = mkdir_p1(u->dir, err);
    if (rc != 0)
        goto cleanup;
    int n = snprintf(u->tmp, sizeof u->tmp, "%s/.upload-XXXXXX", u->dir);
    if (n < 0 || (size_t)n >= sizeof u->tmp) {
        rc = rg_err_set(err, RG_EIO, "artifact path is too long");
        goto cleanup;
    }
    u->fd = mkostemp(u->tmp, O_CLOEXEC);
    if (u->fd < 0) {
        u->tmp[0] = '\0';
        rc = rg_err_set(err, RG_EIO, "create temporary artifact in '%s': %s",
                        u->dir, strerror(errno));
        goto cleanup;
    }
    rg_sha256_init(&u->hash);
    *out = u;
    u = NULL;
cleanup:
    rg_artifact_upload_free(u);
    return rc;
}

int rg_artifact_upload_write(rg_artifact_upload *u, const void *p, size_t n,
                             rg_err *err)
{
    if (n > u->max - u->size)
        return rg_err_set(err, RG_ETOOBIG, "artifact is larger than %llu bytes",
                          (unsigned long long)u->max);
    const char *c = p;
    size_t left = n;
    while (left > 0) {
        ssize_t w = write(u->fd, c, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return rg_err_set(err, RG_EIO, "write '%s': %s", u->tmp,
                              strerror(errno));
        c += w;
        left -= (size_t)w;
    }
    rg_sha256_update(&u->hash, p, n);
    u->size += n;
    return 0;
}

int rg_artifact_upload_commit(rg_artifact_upload *u, char sha256[65],
                              uint64_t *size, bool *existed, rg_err *err)
{
    char sub[PATH_MAX], final[PATH_MAX];
    struct stat st;
    rg_sha256_final(&u->hash, sha256);
    *size = u->size;
    *existed = false;
    int n1 = snprintf(sub, sizeof sub, "%s/%.2s", u->dir, sha256);
    int n2 =
        snprintf(final, sizeof final, "%s/%.2s/%s", u->dir, sha256, sha256);
    if (n1 < 0 || (size_t)n1 >= sizeof sub || n2 < 0 ||
        (size_t)n2 >= sizeof final)
        return rg_err_set(err, RG_EIO, "artifact path is too long");
    int rc = mkdir_p1(sub, err);
    if (rc != 0)
        return rc;
    if (stat(final, &st) == 0 && (uint64_t)st.st_size == u->size) {
        *existed = true;
        return 0; /* the temporary file goes with rg_artifact_upload_free */
    }
    if (fsync(u->fd) != 0)
        return rg_err_set(err, RG_EIO, "fsync '%s': %s", u->tmp,
                          strerror(errno));
    if (rename(u->tmp, final) != 0)
        return rg_err_set(err, RG_EIO, "rename '%s' to '%s': %s", u->tmp, final,
                          strerror(errno));
    u->tmp[0] = '\0';
    rc = rg_file_fsync_dir(sub, err);
    if (rc == 0)
        rc = rg_file_fsync_dir(u->dir, err);
    return rc;
}

void rg_artifact_upload_free(rg_artifact_upload *u)
{
    if (!u)
        return;
    if (u->fd >= 0)
        close(u->fd);
    if (u->tmp[0])
        unlink(u->tmp);
    free(u);
}

int rg_artifact_path(const rg_server *srv, const char *sha256, char *out,
                     size_t cap, rg_err *err)
{
    if (!rg_sha256_hex_valid(sha256))
        return rg_err_field(err, RG_EINVAL, "sha256",
                            "'%.80s' is not a sha256 digest", sha256);
    int n = snprintf(out, cap, "%s/artifacts/%.2s/%s", srv->cfg.data_dir,
                     sha256, sha256);
    if (n < 0 || (size_t)n >= cap)
        return rg_err_set(err, RG_EIO, "artifact path is too long");
    return 0;
}

int rg_artifact_open(rg_server *srv, const char *sha256, int *fd,
                     uint64_t *size, rg_err *err)
{
    char path[PATH_MAX];
    struct stat st;
    int rc = rg_artifact_path(srv, sha256, path, sizeof path, err);
    if (rc != 0)
        return rc;
    int f = open(path, O_RDONLY | O_CLOEXEC);
    if (f < 0 && errno == ENOENT)
        return rg_err_set(err, RG_ENOTFOUND, "artifact %s not found", sha256);
    if (f < 0)
        return rg_err_set(err, RG_EIO, "open artifact %s: %s", sha256,
                          strerror(errno));
    if (fstat(f, &st) != 0) {
        int e = errno;
        close(f);
        return rg_err_set(err, RG_EIO, "stat artifact %s: %s", sha256,
                          strerror(e));
    }
    *fd = f;
    *size = (uint64_t)st.st_size;
    return 0;
}
