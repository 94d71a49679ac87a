/* reload.c - see reload.h. */
#include "reload.h"

#include "common/kv.h"
#include "common/log.h"
#include "server/access_log.h"
#include "server/guard.h"

#include <stdlib.h>
#include <string.h>

#define VALUE_MAX (PATH_MAX + 32)

/* Option i's name as a file spells it. */
static void file_key(size_t i, char *out, size_t cap)
{
    snprintf(out, cap, "%s", rg_options_name(i));
    for (char *p = out; *p; p++)
        if (*p == '-')
            *p = '_';
}

/* Marks in live[] the live options whose value differs between cur and
 * next, and logs the restart ones that differ. Returns how many live
 * options changed. */
static size_t compare(const rg_server_options *cur,
                      const rg_server_options *next, bool *live)
{
    char a[VALUE_MAX], b[VALUE_MAX], key[64];
    size_t n = 0;
    for (size_t i = 0; i < rg_options_count(); i++) {
        rg_options_format(&cur->cfg, i, a, sizeof a);
        rg_options_format(&next->cfg, i, b, sizeof b);
        file_key(i, key, sizeof key);
        live[i] =
            rg_kv_reload_note(key, a, b, rg_options_live(i), next->from[i]);
        n += live[i];
    }
    return n;
}

int rg_reload(rg_server *srv, rg_server_options *opts, rg_err *err)
{
    bool live[RG_OPTIONS_MAX];
    rg_server_options *next = malloc(sizeof *next);
    int rc = 0;
    if (!next)
        return rg_err_set(err, RG_ENOMEM, "reload: out of memory");
    rc = rg_options_reload(opts, next, err);
    if (rc != 0) {
        rg_error("reload refused, nothing changed: %s", err->msg);
        goto cleanup;
    }
    size_t n = compare(opts, next, live);
    /* The only step that can fail, first: nothing has changed yet. */
    rc = rg_access_log_reopen(srv->access, next->cfg.access_log, err);
    if (rc != 0) {
        rg_error("reload refused, nothing changed: %s", err->msg);
        goto cleanup;
    }
    pthread_rwlock_t *lock = srv->cfg_locking ? &srv->cfg_lock : NULL;
    if (lock)
        pthread_rwlock_wrlock(lock);
    for (size_t i = 0; i < rg_options_count(); i++) {
        if (!live[i])
            continue;
        rg_options_copy(&srv->cfg, &next->cfg, i);
        rg_options_copy(&opts->cfg, &next->cfg, i);
        memcpy(opts->from[i], next->from[i], sizeof opts->from[i]);
    }
    /* Cannot fail: the options were checked when loaded. */
    rg_guard_configure(srv->guard, &srv->cfg, err);
    rg_log_set_level((rg_log_level)srv->cfg.log_level);
    if (lock)
        pthread_rwlock_unlock(lock);
    rg_info("reload: %zu setting%s applied", n, n == 1 ? "" : "s");
cleanup:
    free(next);
    return rc;
}
