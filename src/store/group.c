/* group.c - see group.h: the group commit queue and its committer. */
#include "store/group.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

struct rg__group {
    rg__group_commit_fn commit;
    void *ctx;
    size_t max;
    pthread_mutex_t mu;
    pthread_cond_t wake; /* work queued, or stopping */
    rg_store_write *head, *tail;
    size_t queued;
    bool stopping;
    pthread_t thread;
    rg_store_write **batch; /* the committer's, max slots */
    rg_store_group_stats st;
};

int rg__group_submit(rg__group *g, rg_store_write *w)
{
    w->next = NULL;
    pthread_mutex_lock(&g->mu);
    if (g->stopping) {
        pthread_mutex_unlock(&g->mu);
        return rg_err_set(&w->err, RG_EUNAVAIL,
                          "store: closing, write not accepted");
    }
    if (g->tail)
        g->tail->next = w;
    else
        g->head = w;
    g->tail = w;
    g->queued++;
    pthread_cond_signal(&g->wake);
    pthread_mutex_unlock(&g->mu);
    return 0;
}

/* Takes up to g->max queued writes into batch (in submission order); waits
 * while none is queued. Returns how many, 0 when stopping with none left. */
static size_t take(rg__group *g, rg_store_write **batch)
{
    size_t n = 0;
    pthread_mutex_lock(&g->mu);
    while (!g->head && !g->stopping)
        pthread_cond_wait(&g->wake, &g->mu);
    while (g->head && n < g->max) {
        batch[n++] = g->head;
        g->head = g->head->next;
    }
    if (!g->head)
        g->tail = NULL;
    g->queued -= n;
    pthread_mutex_unlock(&g->mu);
    return n;
}

/* Writes batch[0 .. n) in one transaction and completes each write. */
static void commit_batch(rg__group *g, rg_store_write **batch, size_t n)
{
    rg_err err;
    rg_err_clear(&err);
    for (size_t i = 0; i < n; i++) {
        batch[i]->rc = 0;
        batch[i]->n_new = 0;
        rg_err_clear(&batch[i]->err);
    }
    int rc = g->commit(g->ctx, batch, n, &err);
    if (rc == 0 && err.code)
        rc = err.code;
    pthread_mutex_lock(&g->mu);
    if (rc == 0) {
        g->st.commits++;
        g->st.writes += n;
        if (n > g->st.max_batch)
            g->st.max_batch = n;
    } else {
        g->st.failed += n;
    }
    pthread_mutex_unlock(&g->mu);
    for (size_t i = 0; i < n; i++) {
        rg_store_write *w = batch[i];
        if (rc != 0) {
            w->rc = rc;
            w->n_new = 0;
            w->err = err;
        }
        w->done(w); /* may free w */
    }
}

static void *committer(void *arg)
{
    rg__group *g = arg;
    size_t n;
    while ((n = take(g, g->batch)) > 0)
        commit_batch(g, g->batch, n);
    return NULL;
}

int rg__group_start(rg__group_commit_fn commit, void *ctx, size_t max,
                    rg__group **out, rg_err *err)
{
    *out = NULL;
    if (max < 1 || max > RG_STORE_GROUP_MAX)
        return rg_err_set(err, RG_EINVAL,
                          "group commit: batch %zu not in "
                          "1..%d",
                          max, RG_STORE_GROUP_MAX);
    rg__group *g = calloc(1, sizeof *g);
    if (g && !(g->batch = malloc(max * sizeof *g->batch))) {
        free(g);
        g = NULL;
    }
    if (!g)
        return rg_err_set(err, RG_ENOMEM, "group commit: out of memory");
    g->commit = commit;
    g->ctx = ctx;
    g->max = max;
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->wake, NULL);
    if (pthread_create(&g->thread, NULL, committer, g) != 0) {
        pthread_cond_destroy(&g->wake);
        pthread_mutex_destroy(&g->mu);
        free(g->batch);
        free(g);
        return rg_err_set(err, RG_EIO, "group commit: cannot start thread");
    }
    *out = g;
    return 0;
}

void rg__group_stop(rg__group *g)
{
    if (!g)
        return;
    pthread_mutex_lock(&g->mu);
    g->stopping = true;
    pthread_cond_signal(&g->wake);
    pthread_mutex_unlock(&g->mu);
    pthread_join(g->thread, NULL);
    pthread_cond_destroy(&g->wake);
    pthread_mutex_destroy(&g->mu);
    free(g->batch);
    free(g);
}

void rg__group_stats(rg__group *g, rg_store_group_stats *out)
{
    pthread_mutex_lock(&g->mu);
    *out = g->st;
    out->queued = g->queued;
    pthread_mutex_unlock(&g->mu);
}
