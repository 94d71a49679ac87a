/* file.c - see file.h. */
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <stdio.h>
#include <unistd.h>

int rg_file_read(const char *path, rg_buf *out, rg_err *err)
{
    int rc = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return rg_err_set(err, RG_ENOTFOUND, "'%s' does not exist", path);
        return rg_err_set(err, RG_EIO, "'%s': %s", path, strerror(errno));
    }
    char chunk[8192];
    for (;;) {
        ssize_t r = read(fd, chunk, sizeof chunk);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = rg_err_set(err, RG_EIO, "'%s': %s", path, strerror(errno));
            break;
        }
        if (r == 0)
            break;
        rc = rg_buf_add(out, chunk, (size_t)r);
        if (rc != 0) {
            rg_err_set(err, rc, "'%s' is too large", path);
            break;
        }
    }
    close(fd);
    return rc;
}

int rg_file_fsync_dir(const char *dir, rg_err *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return rg_err_set(err, RG_EIO, "'%s': %s", dir, strerror(errno));
    int rc = fsync(fd);
    int saved = errno;
    close(fd);
    if (rc != 0)
        return rg_err_set(err, RG_EIO, "fsync '%s': %s", dir, strerror(saved));
    return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int rg_file_write_durable(const char *dir, const char *name, const void *p,
                          size_t n, mode_t mode, rg_err *err)
{
    char path[4096], tmp[4096];
    int fd = -1, rc = 0;
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path ||
        snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return rg_err_set(err, RG_ETOOBIG, "path '%s/%s' too long", dir, name);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) {
        rc = rg_err_set(err, RG_EIO, "'%s': %s", tmp, strerror(errno));
        goto cleanup;
    }
    if (write_all(fd, p, n) != 0 || fsync(fd) != 0) {
        rc = rg_err_set(err, RG_EIO, "write '%s': %s", tmp, strerror(errno));
        goto cleanup;
    }
    if (close(fd) != 0) {
        fd = -1;
        rc = rg_err_set(err, RG_EIO, "close '%s': %s", tmp, strerror(errno));
        goto cleanup;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        rc = rg_err_set(err, RG_EIO, "rename '%s': %s", tmp, strerror(errno));
        goto cleanup;
    }
    rc = rg_file_fsync_dir(dir, err);
cleanup:
    if (fd >= 0)
        close(fd);
    if (rc != 0)
        unlink(tmp);
    return rc;
}
