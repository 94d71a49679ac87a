/* outbox.c - see outbox.h. */
#include "outbox.h"

#include "common/crypto.h"
#include "common/event_type.h"
#include "common/log.h"
#include "durable.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

void rg_event_new_id(char id[RG_EVENT_ID_MAX])
{
    char hex[33];
    rg_random_hex(hex, 16);
    snprintf(id, RG_EVENT_ID_MAX, "e-%s", hex);
}

static int lock(const rg_outbox *ob)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/lock", ob->dir);
    int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    while (flock(fd, LOCK_EX) != 0)
        if (errno != EINTR) {
            close(fd);
            return -1;
        }
    return fd;
}

int rg_outbox_open(rg_outbox *ob, const char *state_dir, rg_err *err)
{
    char p[4096];
    if (snprintf(ob->dir, sizeof ob->dir, "%s/outbox", state_dir) >=
        (int)sizeof ob->dir)
        return rg_err_set(err, RG_ETOOBIG, "state dir '%s' too long",
                          state_dir);
    snprintf(p, sizeof p, "%s/pending", ob->dir);
    int rc = rg__mkdirs(p, err);
    if (rc == 0) {
        snprintf(p, sizeof p, "%s/acked", ob->dir);
        rc = rg__mkdirs(p, err);
    }
    return rc;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names "<seq>-<id>[.json]" in ob->dir/sub; *n entries, caller frees
 * each and the array. NULL with *n = 0 when empty or unreadable. */
static char **list(const rg_outbox *ob, const char *sub, size_t *n)
{
    char p[4096];
    char **names = NULL;
    size_t cap = 0;
    *n = 0;
    snprintf(p, sizeof p, "%s/%s", ob->dir, sub);
    DIR *d = opendir(p);
    if (!d)
        return NULL;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.' || strstr(e->d_name, ".tmp"))
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            char **grown = realloc(names, cap * sizeof *names);
            if (!grown)
                break;
            names = grown;
        }
        names[*n] = strdup(e->d_name);
        if (names[*n])
            (*n)++;
    }
    closedir(d);
    if (*n)
        qsort(names, *n, sizeof *names, cmp_names);
    return names;
}

static void free_list(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* True when a name "<seq>-<id>[.json]" carries id. */
static bool name_has_id(const char *name, const char *id)
{
    const char *dash = strchr(name, '-');
    if (!dash)
        return false;
    size_t n = strlen(id);
    return strncmp(dash + 1, id, n) == 0 &&
           (dash[1 + n] == '\0' || strcmp(dash + 1 + n, ".json") == 0);
}

static int find(char **names, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (name_has_id(names[i], id))
            return (int)i;
    return -1;
}

static uint64_t seq_of(const char *name)
{
    return strtoull(name, NULL, 10);
}

static int64_t read_refused(const rg_outbox *ob)
{
    char p[4096];
    rg_buf b;
    rg_buf_init(&b, 64);
    snprintf(p, sizeof p, "%s/refused", ob->dir);
    int64_t v = 0;
    if (rg_file_read(p, &b, NULL) == 0 && b.data)
        v = strtoll(b.data, NULL, 10);
    rg_buf_release(&b);
    return v;
}

static void count_refused(const rg_outbox *ob, const rg_event *ev)
{
    char text[32];
    int64_t v = read_refused(ob) + 1;
    int n = snprintf(text, sizeof text, "%" PRId64 "\n", v);
    rg_error("outbox full (%d events): refused '%s' event %s for channel "
             "'%s' release %" PRId64 " (%" PRId64 " refused so far)",
             RG_OUTBOX_MAX, ev->type, ev->id, ev->channel, ev->release, v);
    rg_file_write_durable(ob->dir, "refused", text, (size_t)n, 0600, NULL);
}

static bool id_ok(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n >= RG_EVENT_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((id[i] >= 'a' && id[i] <= 'z') ||
              (id[i] >= '0' && id[i] <= '9') || id[i] == '-'))
            return false;
    return true;
}

int rg_outbox_add(rg_outbox *ob, const rg_event *ev, rg_err *err)
{
    size_t np = 0, na = 0;
    char **pending = NULL, **acked = NULL;
    json_t *v = NULL;
    int rc = 0;
    if (rg_event_type_parse(ev->type) < 0 || !id_ok(ev->id))
        return rg_err_set(err, RG_EINVAL, "event '%s': bad type or id", ev->id);
    int fd = lock(ob);
    if (fd < 0)
        return rg_err_set(err, RG_EIO, "outbox '%s': cannot lock", ob->dir);
    pending = list(ob, "pending", &np);
    acked = list(ob, "acked", &na);
    if (find(pending, np, ev->id) >= 0 || find(acked, na, ev->id) >= 0)
        goto cleanup;
    bool applying = strcmp(ev->type, "applying") == 0;
    if (applying && np >= RG_OUTBOX_MAX - RG_OUTBOX_RESERVE) {
        rc = rg_err_set(err, RG_ETOOBIG,
                        "outbox: %zu events pending, no room to start applying",
                        np);
        goto cleanup;
    }
    if (np >= RG_OUTBOX_MAX) {
        count_refused(ob, ev);
        rc = rg_err_set(err, RG_ETOOBIG, "outbox full: '%s' event refused",
                        ev->type);
        goto cleanup;
    }
    uint64_t seq = 0;
    if (np)
        seq = seq_of(pending[np - 1]);
    if (na && seq_of(acked[na - 1]) > seq)
        seq = seq_of(acked[na - 1]);
    v = json_pack("{ss ss ss sI sI ss}", "id", ev->id, "type", ev->type,
                  "channel", ev->channel, "release", (json_int_t)ev->release,
                  "at_ms", (json_int_t)ev->at_ms, "detail", ev->detail);
    if (!v) {
        rc = rg_err_set(err, RG_ENOMEM, "outbox: out of memory");
        goto cleanup;
    }
    if (!ev->detail[0]) /* optional in the API, and then absent, not "" */
        json_object_del(v, "detail");
    char name[128], dir[4096];
    snprintf(name, sizeof name, "%016" PRIu64 "-%s.json", seq + 1, ev->id);
    snprintf(dir, sizeof dir, "%s/pending", ob->dir);
    rc = rg__write_json(dir, name, v, err);
cleanup:
    json_decref(v);
    free_list(pending, np);
    free_list(acked, na);
    close(fd);
    return rc;
}

json_t *rg_outbox_pending(rg_outbox *ob, size_t max, rg_err *err)
{
    size_t np = 0;
    char dir[4096];
    json_t *arr = json_array();
    int fd = lock(ob);
    if (fd < 0 || !arr) {
        json_decref(arr);
        if (fd >= 0)
            close(fd);
        rg_err_set(err, RG_EIO, "outbox '%s': cannot lock", ob->dir);
        return NULL;
    }
    char **pending = list(ob, "pending", &np);
    snprintf(dir, sizeof dir, "%s/pending", ob->dir);
    for (size_t i = 0; i < np && json_array_size(arr) < max; i++) {
        rg_err e;
        json_t *v = rg__read_json(dir, pending[i], &e);
        if (!v) {
            rg_warn("outbox: skipping unreadable event '%s': %s", pending[i],
                    e.msg);
            continue;
        }
        json_array_append_new(arr, v);
    }
    free_list(pending, np);
    close(fd);
    return arr;
}

/* Removes the oldest tombstones beyond RG_OUTBOX_ACKED_KEEP. */
static void trim_acked(const rg_outbox *ob)
{
    size_t na = 0;
    char dir[4096], p[4096];
    char **acked = list(ob, "acked", &na);
    snprintf(dir, sizeof dir, "%s/acked", ob->dir);
    for (size_t i = 0;
         na > RG_OUTBOX_ACKED_KEEP && i < na - RG_OUTBOX_ACKED_KEEP; i++) {
        rg__path(p, sizeof p, dir, acked[i]);
        unlink(p);
    }
    free_list(acked, na);
}

int rg_outbox_ack(rg_outbox *ob, const char *id, rg_err *err)
{
    size_t np = 0;
    int rc = 0;
    char from[4096], to[4096], dir[4096];
    int fd = lock(ob);
    if (fd < 0)
        return rg_err_set(err, RG_EIO, "outbox '%s': cannot lock", ob->dir);
    char **pending = list(ob, "pending", &np);
    int i = find(pending, np, id);
    if (i < 0)
        goto cleanup;
    snprintf(from, sizeof from, "%s/pending/%s", ob->dir, pending[i]);
    snprintf(to, sizeof to, "%s/acked/%.*s", ob->dir,
             (int)(strlen(pending[i]) - 5), pending[i]);
    if (rename(from, to) != 0) {
        rc = rg_err_set(err, RG_EIO, "outbox: rename '%s': %s", from,
                        strerror(errno));
        goto cleanup;
    }
    snprintf(dir, sizeof dir, "%s/acked", ob->dir);
    if ((rc = rg_file_fsync_dir(dir, err)) != 0)
        goto cleanup;
    snprintf(dir, sizeof dir, "%s/pending", ob->dir);
    if ((rc = rg_file_fsync_dir(dir, err)) != 0)
        goto cleanup;
    trim_acked(ob);
cleanup:
    free_list(pending, np);
    close(fd);
    return rc;
}

rg_outbox_state rg_outbox_lookup(rg_outbox *ob, const char *id)
{
    size_t np = 0, na = 0;
    int fd = lock(ob);
    char **pending = list(ob, "pending", &np);
    char **acked = list(ob, "acked", &na);
    rg_outbox_state st = find(pending, np, id) >= 0 ? RG_OUTBOX_PENDING
                         : find(acked, na, id) >= 0 ? RG_OUTBOX_ACKED
                                                    : RG_OUTBOX_UNKNOWN;
    free_list(pending, np);
    free_list(acked, na);
    if (fd >= 0)
        close(fd);
    return st;
}

size_t rg_outbox_count(rg_outbox *ob)
{
    size_t np = 0;
    int fd = lock(ob);
    char **pending = list(ob, "pending", &np);
    free_list(pending, np);
    if (fd >= 0)
        close(fd);
    return np;
}

int64_t rg_outbox_refused(rg_outbox *ob)
{
    return read_refused(ob);
}
