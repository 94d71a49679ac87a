/* file.c - see file.h. */
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
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
