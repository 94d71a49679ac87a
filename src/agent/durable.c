/* durable.c - see durable.h. */
#include "durable.h"

#include "common/json.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int rg__path(char *out, size_t n, const char *dir, const char *name)
{
    int w = snprintf(out, n, "%s/%s", dir, name);
    return (w < 0 || (size_t)w >= n) ? RG_ETOOBIG : 0;
}

int rg__mkdirs(const char *dir, rg_err *err)
{
    char p[4096];
    if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p)
        return rg_err_set(err, RG_ETOOBIG, "path '%s' too long", dir);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST)
            return rg_err_set(err, RG_EIO, "mkdir '%s': %s", p,
                              strerror(errno));
        *s = '/';
    }
    if (mkdir(p, 0700) != 0 && errno != EEXIST)
        return rg_err_set(err, RG_EIO, "mkdir '%s': %s", p, strerror(errno));
    return 0;
}

int rg__write_json(const char *dir, const char *name, const json_t *v,
                   rg_err *err)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
    if (!s)
        return rg_err_set(err, RG_ENOMEM, "'%s': cannot serialise", name);
    int rc = rg_file_write_durable(dir, name, s, strlen(s), 0600, err);
    free(s);
    return rc;
}

json_t *rg__read_json(const char *dir, const char *name, rg_err *err)
{
    return rg__read_json_max(dir, name, 1 << 20, err);
}

json_t *rg__read_json_max(const char *dir, const char *name, size_t max,
                          rg_err *err)
{
    char path[4096];
    json_t *v = NULL;
    rg_buf b;
    rg_buf_init(&b, max);
    if (rg__path(path, sizeof path, dir, name) != 0) {
        rg_err_set(err, RG_ETOOBIG, "path '%s/%s' too long", dir, name);
        goto cleanup;
    }
    if (rg_file_read(path, &b, err) != 0)
        goto cleanup;
    v = rg_json_parse_object(b.data ? b.data : "", b.len, err);
    if (!v && err)
        err->code = RG_EIO;
cleanup:
    rg_buf_release(&b);
    return v;
}

int rg__remove_durable(const char *dir, const char *name, rg_err *err)
{
    char path[4096];
    if (rg__path(path, sizeof path, dir, name) != 0)
        return rg_err_set(err, RG_ETOOBIG, "path '%s/%s' too long", dir, name);
    if (unlink(path) != 0 && errno != ENOENT)
        return rg_err_set(err, RG_EIO, "unlink '%s': %s", path,
                          strerror(errno));
    return rg_file_fsync_dir(dir, err);
}

bool rg__exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}
