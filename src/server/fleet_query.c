/* fleet_query.c - reading the fleet table: one endpoint, pages of ids,
 * views and scans (fleet.h: rg_fleet_get, _page, _foreach, _view_*,
 * _scan). */
#include "fleet_shard.h"
#include "fleet_tuple.h"

#include <stdlib.h>
#include <string.h>

int rg_fleet_get(rg_fleet *f, const char *id, rg_fleet_endpoint *out,
                 rg_err *err)
{
    size_t len = strlen(id);
    uint32_t h = rg__fleet_id_hash(id, len);
    size_t no;
    rg__fleet_shard *s = rg__fleet_shard_of(f, h, &no);
    uint32_t prof = 0;
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&s->mu);
    int64_t idx = len <= RG_EPID_MAX ? rg__fleet_shard_find(s, id, len, h) : -1;
    if (idx >= 0) {
        rg__ep *r = rg__fleet_rec_at(s, (uint32_t)idx);
        memcpy(out->id, id, len + 1);
        prof = rg__ep_profile(r);
        out->internal = (r->flags & RG__FLEET_F_INTERNAL) != 0;
        out->enrolled_ms = rg__t48_get(r->enrolled);
        out->last_seen_ms = rg__t48_get(r->last_seen);
        const rg__fleet_tuple *t = rg__fleet_tuple_at(s, r->installed);
        for (size_t i = 0; i < RG_FLEET_CHANNELS; i++) {
            if (!t->tag[i])
                continue;
            rg_fleet_installed *in = &out->installed[out->n_installed++];
            snprintf(in->channel, sizeof in->channel, "%s",
                     f->ch_names[t->tag[i] - 1]);
            in->release_id = t->v[i];
        }
    }
    pthread_mutex_unlock(&s->mu);
    if (idx < 0)
        return rg_err_set(err, RG_ENOTFOUND, "endpoint '%.*s' not found", 128,
                          id);
    pthread_mutex_lock(&f->prof_mu);
    snprintf(out->attrs_json, sizeof out->attrs_json, "%s",
             f->profiles[prof].json);
    snprintf(out->stratum, sizeof out->stratum, "%s",
             f->profiles[prof].stratum);
    pthread_mutex_unlock(&f->prof_mu);
    return 0;
}

static int cmp_idp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void fill_view(rg__fleet_shard *s, uint32_t ref, rg__ep *r,
                      rg_fleet_view *v)
{
    v->ref = ref;
    v->id = rg__fleet_rec_id(s, r);
    v->stratum = rg__ep_stratum(r);
    v->profile = rg__ep_profile(r);
    v->internal = (r->flags & RG__FLEET_F_INTERNAL) != 0;
    v->last_seen_ms = rg__t48_get(r->last_seen);
    v->prev_seen_ms = rg__t48_get(r->prev_seen);
    const rg_fleet_canary *c = rg__fleet_canary_pair(s, r);
    if (c)
        memcpy(v->canary, c, sizeof v->canary);
    else
        memset(v->canary, 0, sizeof v->canary);
    memcpy(v->installed, rg__fleet_tuple_at(s, r->installed)->v,
           sizeof v->installed);
}

int rg_fleet_page(rg_fleet *f, const char *after, size_t limit,
                  bool (*keep)(void *ctx, const rg_fleet_view *v), void *ctx,
                  char (**ids)[RG_EPID_MAX + 1], size_t *n, bool *more,
                  rg_err *err)
{
    rg_fleet_view v;
    int rc = 0;
    const char **all = NULL;
    size_t n_all = 0, cap_all = 0;
    *ids = NULL;
    *n = 0;
    *more = false;
    atomic_fetch_add_explicit(&f->page_scans, 1, memory_order_relaxed);
    /* Ids live in append-only arenas that are freed only by rg_fleet_close,
     * so the pointers stay valid after each shard is unlocked. */
    for (size_t i = 0; i < RG_FLEET_SHARDS && rc == 0; i++) {
        rg__fleet_shard *s = &f->shards[i];
        pthread_mutex_lock(&s->mu);
        for (uint32_t k = 0; k < s->n; k++) {
            const char *id = rg__fleet_rec_id(s, rg__fleet_rec_at(s, k));
            if (after && after[0] && strcmp(id, after) <= 0)
                continue;
            if (keep) {
                fill_view(s, rg__fleet_make_ref(i, k), rg__fleet_rec_at(s, k),
                          &v);
                if (!keep(ctx, &v))
                    continue;
            }
            if (rg__fleet_grow((void **)&all, &cap_all, n_all + 1,
                               sizeof *all) < 0) {
                rc = rg_err_set(err, RG_ENOMEM,
                                "out of memory listing endpoints");
                break;
            }
            all[n_all++] = id;
        }
        pthread_mutex_unlock(&s->mu);
    }
    if (rc < 0)
        goto cleanup;
    if (n_all > 1)
        qsort(all, n_all, sizeof *all, cmp_idp);
    size_t take = n_all < limit ? n_all : limit;
    if (take) {
        *ids = malloc(take * sizeof **ids);
        if (!*ids) {
            rc = rg_err_set(err, RG_ENOMEM, "out of memory listing endpoints");
            goto cleanup;
        }
        for (size_t i = 0; i < take; i++)
            snprintf((*ids)[i], RG_EPID_MAX + 1, "%s", all[i]);
    }
    *n = take;
    *more = n_all > take;
cleanup:
    free(all);
    return rc;
}

int rg_fleet_foreach(rg_fleet *f,
                     int (*fn)(void *ctx, const char *id, bool internal),
                     void *ctx)
{
    int rc = 0;
    for (size_t i = 0; i < RG_FLEET_SHARDS && rc == 0; i++) {
        rg__fleet_shard *s = &f->shards[i];
        pthread_mutex_lock(&s->mu);
        for (uint32_t k = 0; k < s->n && rc == 0; k++) {
            rg__ep *r = rg__fleet_rec_at(s, k);
            rc = fn(ctx, rg__fleet_rec_id(s, r),
                    (r->flags & RG__FLEET_F_INTERNAL) != 0);
        }
        pthread_mutex_unlock(&s->mu);
    }
    return rc;
}

int rg_fleet_view_id(rg_fleet *f, const char *id, rg_fleet_view *out,
                     rg_err *err)
{
    size_t len = strlen(id), no;
    if (len > RG_EPID_MAX)
        return rg_err_set(err, RG_ENOTFOUND, "endpoint not found");
    uint32_t h = rg__fleet_id_hash(id, len);
    rg__fleet_shard *s = rg__fleet_shard_of(f, h, &no);
    pthread_mutex_lock(&s->mu);
    int64_t idx = rg__fleet_shard_find(s, id, len, h);
    if (idx >= 0)
        fill_view(s, rg__fleet_make_ref(no, (uint32_t)idx),
                  rg__fleet_rec_at(s, (uint32_t)idx), out);
    pthread_mutex_unlock(&s->mu);
    if (idx < 0)
        return rg_err_set(err, RG_ENOTFOUND, "endpoint '%.64s' not found", id);
    return 0;
}

int rg_fleet_view_ref(rg_fleet *f, uint32_t ref, rg_fleet_view *out)
{
    if (ref == 0)
        return RG_ENOTFOUND;
    rg__fleet_shard *s = rg__fleet_ref_shard(f, ref);
    int rc = RG_ENOTFOUND;
    pthread_mutex_lock(&s->mu);
    if (rg__fleet_ref_index(ref) < s->n) {
        fill_view(s, ref, rg__fleet_rec_at(s, rg__fleet_ref_index(ref)), out);
        rc = 0;
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int rg_fleet_scan(rg_fleet *f, int (*fn)(void *ctx, const rg_fleet_view *v),
                  void *ctx)
{
    int rc = 0;
    rg_fleet_view v;
    for (size_t i = 0; i < RG_FLEET_SHARDS && rc == 0; i++) {
        rg__fleet_shard *s = &f->shards[i];
        pthread_mutex_lock(&s->mu);
        for (uint32_t k = 0; k < s->n && rc == 0; k++) {
            fill_view(s, rg__fleet_make_ref(i, k), rg__fleet_rec_at(s, k), &v);
            rc = fn(ctx, &v);
        }
        pthread_mutex_unlock(&s->mu);
    }
    return rc;
}
