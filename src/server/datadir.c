/* datadir.c - see datadir.h. */
#include "datadir.h"

#include "common/log.h"
#include "server/server.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

struct rg_datadir_lock {
    int fd;
};

/* The pid recorded in the lock file fd, or 0. */
static long lock_owner(int fd)
{
    char b[32];
    ssize_t n = pread(fd, b, sizeof b - 1, 0);
    if (n <= 0)
        return 0;
    b[n] = '\0';
    char *end = NULL;
    long pid = strtol(b, &end, 10);
    return end != b && pid > 0 ? pid : 0;
}

int rg_datadir_lock_take(const char *dir, rg_datadir_lock **out, rg_err *err)
{
    char path[PATH_MAX], pid[32];
    int n = snprintf(path, sizeof path, "%s/lock", dir);
    if (n < 0 || (size_t)n >= sizeof path)
        return rg_err_set(err, RG_EINVAL, "data directory path is too long");
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return rg_err_set(err, errno == ENOENT ? RG_ENOTFOUND : RG_EIO,
                          "cannot open '%s': %s", path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        long owner = e == EWOULDBLOCK ? lock_owner(fd) : 0;
        close(fd);
        if (e != EWOULDBLOCK)
            return rg_err_set(err, RG_EIO, "cannot lock '%s': %s", path,
                              strerror(e));
        if (owner)
            return rg_err_set(err, RG_ECONFLICT,
                              "data directory '%s' is in use by another "
                              "rollgated (pid %ld)",
                              dir, owner);
        return rg_err_set(err, RG_ECONFLICT,
                          "data directory '%s' is in use by another rollgated",
                          dir);
    }
    /* The pid only names us to a refused process: a full disk that cannot
     * take it does not stop us (opening the database then says why). */
    n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n)
        rg_warn("cannot record the pid in '%s': %s", path, strerror(errno));
    rg_datadir_lock *l = malloc(sizeof *l);
    if (!l) {
        close(fd);
        return rg_err_set(err, RG_ENOMEM, "out of memory");
    }
    l->fd = fd;
    *out = l;
    return 0;
}

void rg_datadir_unlock(rg_datadir_lock *l)
{
    if (!l)
        return;
    close(l->fd); /* releases the flock */
    free(l);
}

/* Size of path, or -1 when it does not exist (or cannot be examined). */
static long long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

int rg_datadir_check(const char *dir, rg_err *err)
{
    char db[PATH_MAX], other[PATH_MAX + 16];
    int rc = rg_server_db_path(dir, db, sizeof db, err);
    if (rc != 0)
        return rc;
    long long size = file_size(db);
    if (size < 0) {
        snprintf(other, sizeof other, "%s/artifacts", dir);
        if (file_size(other) < 0)
            return rg_err_set(err, RG_ENOTFOUND,
                              "no database in '%s'; run `rollgated init "
                              "--data %s` first",
                              dir, dir);
        return rg_err_set(err, RG_EIO,
                          "database '%s' is missing from an initialised data "
                          "directory: restore it from a backup "
                          "(docs/operations.md)",
                          db);
    }
    snprintf(other, sizeof other, "%s-wal", db);
    if (size == 0 && file_size(other) <= 0)
        return rg_err_set(err, RG_EIO,
                          "database '%s' is empty (0 bytes): it was truncated "
                          "or lost; restore it from a backup "
                          "(docs/operations.md)",
                          db);
    return 0;
}

void rg_datadir_explain(const char *dir, rg_err *err)
{
    struct statvfs vfs;
    if (!err || statvfs(dir, &vfs) != 0)
        return;
    unsigned long long blocks = geteuid() == 0 ? vfs.f_bfree : vfs.f_bavail;
    unsigned long long free_b = blocks * vfs.f_frsize;
    bool no_inode = vfs.f_files > 0 && vfs.f_favail == 0;
    if (free_b >= (1u << 20) && !no_inode)
        return;
    char was[sizeof err->msg];
    snprintf(was, sizeof was, "%s", err->msg);
    rg_err_set(err, RG_EIO,
               "the file system of data directory '%s' is full (%llu KiB%s "
               "free): free some space and start again (%s)",
               dir, free_b >> 10, no_inode ? ", no inode" : "", was);
}
