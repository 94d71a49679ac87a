/* access_log.c - see access_log.h. */
#include "access_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct rg_access_log {
    int fd;          /* ours: /dev/null, stderr or the file, dup3'd in
                        place by a reopen, closed only by close */
    _Atomic bool on; /* not "off" */
    _Atomic uint64_t errors;
};

int rg_access_log_open(const char *spec, rg_access_log **out, rg_err *err)
{
    *out = NULL;
    rg_access_log *l = calloc(1, sizeof *l);
    if (!l)
        return rg_err_set(err, RG_ENOMEM, "out of memory");
    l->fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (l->fd < 0) {
        free(l);
        return rg_err_set(err, RG_EIO, "cannot open /dev/null: %s",
                          strerror(errno));
    }
    int rc = rg_access_log_reopen(l, spec, err);
    if (rc != 0) {
        rg_access_log_close(l);
        return rc;
    }
    *out = l;
    return 0;
}

int rg_access_log_reopen(rg_access_log *l, const char *spec, rg_err *err)
{
    bool off = strcmp(spec, "off") == 0,
         to_stderr = strcmp(spec, "stderr") == 0;
    int fd = off ? open("/dev/null", O_WRONLY | O_CLOEXEC)
             : to_stderr
                 ? STDERR_FILENO
                 : open(spec, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0)
        return rg_err_field(err, RG_EIO, "access-log",
                            "--access-log: cannot open '%s': %s", spec,
                            strerror(errno));
    /* One atomic step: a line being written goes to the old or the new
     * file, never to a closed or reused descriptor. */
    int rc = dup3(fd, l->fd, O_CLOEXEC);
    int e = errno;
    if (fd != STDERR_FILENO)
        close(fd);
    if (rc < 0)
        return rg_err_field(err, RG_EIO, "access-log",
                            "--access-log: cannot switch to '%s': %s", spec,
                            strerror(e));
    atomic_store(&l->on, !off);
    return 0;
}

void rg_access_log_close(rg_access_log *l)
{
    if (!l)
        return;
    close(l->fd);
    free(l);
}

/* Appends s (NULL or "": "-"), at most max bytes of it, %-escaped. */
static size_t put_escaped(char *out, size_t room, const char *s, size_t max)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    if (!s || !*s)
        s = "-";
    for (size_t i = 0; s[i] && i < max && n + 4 < room; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= ' ' || c >= 0x7f || c == '"' || c == '%') {
            out[n++] = '%';
            out[n++] = hex[c >> 4];
            out[n++] = hex[c & 15];
        } else {
            out[n++] = (char)c;
        }
    }
    out[n] = '\0';
    return n;
}

void rg_access_log_write(rg_access_log *l, const rg_access_entry *e)
{
    if (!l || !atomic_load(&l->on))
        return;
    char when[32], path[3 * RG_ACCESS_LOG_PATH_MAX + 1], actor[3 * 160 + 1];
    char line[1024 + sizeof path + sizeof actor];
    time_t t = (time_t)(e->at_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    put_escaped(path, sizeof path, e->path, RG_ACCESS_LOG_PATH_MAX);
    put_escaped(actor, sizeof actor, e->actor, 160);
    int n =
        snprintf(line, sizeof line,
                 "%s.%03dZ %.16s %.64s %d %lld.%03lldms actor=%s "
                 "client=%.64s path=%s\n",
                 when, (int)(e->at_ms % 1000), e->method ? e->method : "-",
                 e->route ? e->route : "-", e->status,
                 (long long)(e->micros / 1000), (long long)(e->micros % 1000),
                 actor, e->client && *e->client ? e->client : "-", path);
    if (n < 0 || (size_t)n >= sizeof line ||
        write(l->fd, line, (size_t)n) != (ssize_t)n)
        atomic_fetch_add(&l->errors, 1);
}

uint64_t rg_access_log_errors(rg_access_log *l)
{
    return l ? atomic_load(&l->errors) : 0;
}
