/* preflight_worker.c - see preflight_worker.h. */
#include "preflight_worker.h"

#include "server/cluster.h"

#include "common/json.h"
#include "common/log.h"
#include "preflight/preflight.h"
#include "server/artifacts.h"
#include "server/engine_path.h"

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct rg_preflight_worker {
    rg_server *srv;
    char tmp[PATH_MAX]; /* DATA/preflight */
    pthread_mutex_t mu; /* guards the queue and stop */
    pthread_cond_t cv;  /* signalled on enqueue and stop */
    int64_t *queue;     /* release ids, oldest first */
    size_t n, cap;
    bool stop;
    pthread_t th;
};

/* --- one preflight -------------------------------------------------- */

/* Copies the printable ASCII of s (at most n bytes) to the end of out;
 * other bytes become '?', so the text is one line of valid UTF-8. */
static void append_line(char *out, size_t cap, const char *s, size_t n)
{
    size_t len = strlen(out);
    for (size_t i = 0; i < n && s[i] && len + 1 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        out[len++] = c >= 0x20 && c < 0x7f ? (char)c : (c == '\t' ? ' ' : '?');
    }
    out[len] = '\0';
}

/* The stderr line that says most: the last sanitizer SUMMARY line, else
 * the last non-empty line. *len receives its length. */
static const char *telling_line(const char *tail, size_t *len)
{
    const char *best = NULL, *last = NULL;
    size_t best_n = 0, last_n = 0;
    for (const char *p = tail; *p;) {
        size_t n = strcspn(p, "\n");
        if (n > 0) {
            last = p;
            last_n = n;
            if (memmem(p, n, "SUMMARY:", 8)) {
                best = p;
                best_n = n;
            }
        }
        p += n;
        if (*p)
            p++;
    }
    if (!best) {
        best = last;
        best_n = last_n;
    }
    *len = best_n;
    return best;
}

/* Appends line (n bytes) to detail with every occurrence of the content
 * file's name (as given, or resolved: the engine sees the real path)
 * shortened to "content": the path is long and says nothing. */
static void append_stderr_line(char *detail, size_t cap, const char *line,
                               size_t n, const char *content)
{
    char *real = realpath(content, NULL);
    const char *names[] = {real, content};
    for (size_t i = 0; i < n;) {
        size_t skip = 0;
        for (size_t k = 0; k < 2 && !skip; k++) {
            size_t len = names[k] ? strlen(names[k]) : 0;
            if (len && len <= n - i && memcmp(line + i, names[k], len) == 0)
                skip = len;
        }
        if (skip) {
            append_line(detail, cap, "content", 7);
            i += skip;
        } else {
            append_line(detail, cap, line + i, 1);
            i++;
        }
    }
    free(real);
}

/* The result JSON of a preflight that could not be carried out. */
static json_t *error_json(const char *msg)
{
    char detail[256] = "preflight could not run: ";
    append_line(detail, sizeof detail, msg, strlen(msg));
    return json_pack("{s:s, s:s, s:n, s:n, s:n, s:s, s:s, s:i, s:n}", "status",
                     "failed", "reason", "error", "stage", "signal",
                     "exit_code", "stderr_tail", "", "detail", detail,
                     "duration_ms", 0, "sandbox");
}

/* Releases and results are large: one allocation for the worker's
 * scratch. */
typedef struct job {
    rg_release_rec rel;
    rg_preflight_result res;
    char content[PATH_MAX];
    char corpus[PATH_MAX];
    char engine[PATH_MAX];
    char detail[256];
} job;

int rg_preflight_worker_run(rg_server *srv, int64_t release_id,
                            const char *tmp_base, rg_err *err)
{
    int rc;
    rg_err perr;
    json_t *result = NULL;
    char *text = NULL;
    job *j = calloc(1, sizeof *j);
    if (!j)
        return rg_err_set(err, RG_ENOMEM, "preflight: out of memory");
    if ((rc = rg_store_release_get(srv->store, release_id, &j->rel, err)) != 0)
        goto cleanup;
    if (strcmp(j->rel.preflight_status, "pending") != 0)
        goto cleanup; /* done meanwhile, or never needed */

    const rg_preflight_spec *spec = &j->rel.preflight;
    rg_err_clear(&perr);
    int prc = rg_artifact_path(srv, j->rel.sha256, j->content,
                               sizeof j->content, &perr);
    if (prc == 0 && spec->corpus[0])
        prc = rg_artifact_path(srv, spec->corpus, j->corpus, sizeof j->corpus,
                               &perr);
    rg_server_cfg_rdlock(srv); /* engine_dir may be reloaded */
    bool in_dir = srv->cfg.engine_dir[0] != '\0';
    if (prc == 0 && !rg_engine_resolve(srv->cfg.engine_dir, spec->engine,
                                       j->engine, sizeof j->engine))
        prc = rg_err_set(&perr, RG_ENOTFOUND,
                         "engine '%s' is not an executable file%s",
                         spec->engine, in_dir ? " in --engine-dir" : "");
    rg_server_cfg_unlock(srv);
    if (prc == 0) {
        rg_preflight_config cfg;
        rg_preflight_config_init(&cfg, j->engine,
                                 spec->corpus[0] ? j->corpus : NULL);
        cfg.tmp_base = tmp_base;
        cfg.limits.wall_ms = spec->timeout_s * 1000;
        cfg.limits.cpu_s = (unsigned)spec->timeout_s;
        cfg.limits.as_bytes = (uint64_t)spec->memory_mb << 20;
        rg_info("release %lld: preflight with '%s' starts",
                (long long)release_id, spec->engine);
        prc = rg_preflight_run(&cfg, j->content, &j->res, &perr);
    }
    bool passed = false;
    if (prc == 0) {
        passed = j->res.passed;
        result = rg_preflight_result_json(&j->res);
        if (!passed) {
            size_t n = 0;
            const char *line = telling_line(j->res.stderr_tail, &n);
            append_line(j->detail, sizeof j->detail, j->res.detail,
                        strlen(j->res.detail));
            if (line) {
                append_line(j->detail, sizeof j->detail, ": ", 2);
                append_stderr_line(j->detail, sizeof j->detail, line, n,
                                   j->content);
            }
            /* The one line says what happened, the tail shows it. */
            if (result &&
                json_object_set_new(result, "detail", json_string(j->detail))) {
                json_decref(result);
                result = NULL;
            }
        }
    } else {
        result = error_json(perr.msg);
        snprintf(j->detail, sizeof j->detail, "%s",
                 json_string_value(json_object_get(result, "detail")));
    }
    if (!result ||
        json_object_set_new(
            result, "engine",
            json_string(j->engine[0] ? j->engine : spec->engine)) ||
        !(text = rg_json_dump(result))) {
        rc =
            rg_err_set(err, RG_ENOMEM, "release %lld: preflight: out of memory",
                       (long long)release_id);
        goto cleanup;
    }

    rg_audit_rec audit;
    memset(&audit, 0, sizeof audit);
    audit.at_ms = rg_clock_now(srv->clock);
    snprintf(audit.actor, sizeof audit.actor, "preflight");
    snprintf(audit.role, sizeof audit.role, "system");
    snprintf(audit.action, sizeof audit.action, "release.preflight");
    snprintf(audit.target, sizeof audit.target, "release:%lld",
             (long long)release_id);
    snprintf(audit.detail, sizeof audit.detail, "{\"status\":\"%s\"}",
             passed ? "passed" : "failed");
    append_line(audit.reason, sizeof audit.reason, j->detail,
                strlen(j->detail));
    rc = rg_store_release_preflight_finish(srv->store, release_id, passed,
                                           j->detail, text, audit.at_ms, &audit,
                                           err);
    if (rc == RG_ECONFLICT) { /* finished by someone else meanwhile */
        rg_err_clear(err);
        rc = 0;
    } else if (rc == 0) {
        rg_info("release %lld: preflight %s%s%s", (long long)release_id,
                passed ? "passed" : "failed", j->detail[0] ? ": " : "",
                j->detail);
    }
cleanup:
    json_decref(result);
    free(text);
    free(j);
    return rc;
}

/* --- the thread and its queue -------------------------------------- */

static int push(rg_preflight_worker *w, int64_t id)
{
    if (w->n == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 16;
        int64_t *q = realloc(w->queue, cap * sizeof *q);
        if (!q)
            return RG_ENOMEM;
        w->queue = q;
        w->cap = cap;
    }
    w->queue[w->n++] = id;
    return 0;
}

static void *worker_main(void *arg)
{
    rg_preflight_worker *w = arg;
    for (;;) {
        pthread_mutex_lock(&w->mu);
        while (!w->stop && w->n == 0)
            pthread_cond_wait(&w->cv, &w->mu);
        if (w->stop) {
            pthread_mutex_unlock(&w->mu);
            break;
        }
        int64_t id = w->queue[0];
        memmove(w->queue, w->queue + 1, --w->n * sizeof *w->queue);
        pthread_mutex_unlock(&w->mu);
        if (!rg_cluster_leads(w->srv))
            continue; /* the leader runs it (rg_preflight_worker_rescan) */

        rg_err err;
        rg_err_clear(&err);
        if (rg_preflight_worker_run(w->srv, id, w->tmp, &err) != 0)
            rg_warn("release %lld: preflight not recorded (stays pending "
                    "until the next start): %s",
                    (long long)id, err.msg);
    }
    return NULL;
}

void rg_preflight_worker_enqueue(rg_server *srv, int64_t release_id)
{
    rg_preflight_worker *w = srv->preflight;
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    if (push(w, release_id) != 0)
        rg_warn("release %lld: preflight not queued (out of memory); it "
                "stays pending until the next start",
                (long long)release_id);
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static int enqueue_pending(void *ctx, const rg_release_rec *r)
{
    rg_preflight_worker_enqueue(ctx, r->id);
    return 0;
}

int rg_preflight_worker_rescan(rg_server *srv, rg_err *err)
{
    if (!srv->preflight)
        return 0;
    return rg_store_release_preflight_pending(srv->store, enqueue_pending, srv,
                                              err);
}

static int queue_pending(void *ctx, const rg_release_rec *r)
{
    return push(ctx, r->id) == 0 ? 0 : RG_ENOMEM;
}

static int remove_entry(const char *path, const struct stat *sb, int flag,
                        struct FTW *ftw)
{
    if (ftw->level > 0)
        remove(path);
    return 0;
}

static void worker_free(rg_preflight_worker *w)
{
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w->queue);
    free(w);
}

int rg_preflight_worker_start(rg_server *srv, rg_err *err)
{
    int rc;
    if (srv->preflight)
        return rg_err_set(err, RG_ECONFLICT,
                          "preflight worker already started");
    rg_preflight_worker *w = calloc(1, sizeof *w);
    if (!w)
        return rg_err_set(err, RG_ENOMEM, "preflight worker: out of memory");
    w->srv = srv;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    int n = snprintf(w->tmp, sizeof w->tmp, "%s/preflight", srv->cfg.data_dir);
    if (n < 0 || (size_t)n >= sizeof w->tmp) {
        rc = rg_err_set(err, RG_EIO, "preflight: data directory path too long");
        goto fail;
    }
    if (mkdir(w->tmp, 0700) != 0 && errno != EEXIST) {
        rc = rg_err_set(err, RG_EIO, "preflight: mkdir '%s': %s", w->tmp,
                        strerror(errno));
        goto fail;
    }
    nftw(w->tmp, remove_entry, 8, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
    rc = rg_store_release_preflight_pending(srv->store, queue_pending, w, err);
    if (rc == RG_ENOMEM && err && err->code == RG_OK)
        rg_err_set(err, RG_ENOMEM, "preflight worker: out of memory");
    if (rc != 0)
        goto fail;
    if (w->n)
        rg_info("preflight: %zu release(s) still pending, queued again", w->n);
    if (pthread_create(&w->th, NULL, worker_main, w) != 0) {
        rc = rg_err_set(err, RG_EINTERNAL, "preflight worker: thread: %s",
                        strerror(errno));
        goto fail;
    }
    srv->preflight = w;
    return 0;
fail:
    worker_free(w);
    return rc;
}

void rg_preflight_worker_stop(rg_server *srv)
{
    rg_preflight_worker *w = srv->preflight;
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->th, NULL);
    srv->preflight = NULL;
    worker_free(w);
}
