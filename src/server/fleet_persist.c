/* fleet_persist.c - see fleet_persist.h. */
#include "fleet_persist.h"

#include "fleet_installed.h"
#include "fleet_shard.h"

#include "common/clock.h"
#include "common/log.h"

#include <stdlib.h>
#include <string.h>

/* A batch of dirty records being written. */
typedef struct flush_batch {
    size_t n;
    uint32_t refs[RG_FLEET_FLUSH_BATCH];
    char ids[RG_FLEET_FLUSH_BATCH][RG_EPID_MAX + 1];
    char inst[RG_FLEET_FLUSH_BATCH][RG__FLEET_INSTALLED_JSON_MAX];
    rg_endpoint_seen seen[RG_FLEET_FLUSH_BATCH];
} flush_batch;

/* Marks the batch's records dirty again after a failed write. */
static void flush_requeue(rg_fleet *f, const flush_batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        rg__fleet_shard *s = rg__fleet_ref_shard(f, b->refs[i]);
        pthread_mutex_lock(&s->mu);
        rg__fleet_mark_dirty(s, rg__fleet_ref_index(b->refs[i]));
        pthread_mutex_unlock(&s->mu);
    }
}

static int flush_write(rg_fleet *f, flush_batch *b, rg_err *err)
{
    if (!b->n)
        return 0;
    int rc = rg_store_endpoint_flush(f->srv->store, b->seen, b->n, err);
    if (rc < 0) {
        atomic_fetch_add(&f->flush_errors, 1);
        flush_requeue(f, b);
    } else {
        atomic_fetch_add(&f->flushed_records, b->n);
    }
    b->n = 0;
    return rc;
}

/* Moves shard no's dirty records into b until it is full (their dirty
 * and seen marks cleared). Returns whether dirty records remain. */
static bool drain_shard(rg_fleet *f, size_t no, flush_batch *b)
{
    rg__fleet_shard *s = &f->shards[no];
    pthread_mutex_lock(&s->mu);
    int64_t at;
    while (b->n < RG_FLEET_FLUSH_BATCH && (at = rg__fleet_take_dirty(s)) >= 0) {
        uint32_t idx = (uint32_t)at;
        rg__ep *r = rg__fleet_rec_at(s, idx);
        r->flags &= (uint8_t)~RG__FLEET_F_SEEN;
        size_t k = b->n++;
        b->refs[k] = rg__fleet_make_ref(no, idx);
        memcpy(b->ids[k], rg__fleet_rec_id(s, r), r->id_len);
        b->ids[k][r->id_len] = '\0';
        rg__fleet_installed_json(f, s, r, b->inst[k]);
        b->seen[k].id = b->ids[k];
        b->seen[k].last_seen_ms = rg__t48_get(r->last_seen);
        b->seen[k].installed_json = b->inst[k];
    }
    bool more = s->n_dirty > 0;
    pthread_mutex_unlock(&s->mu);
    return more;
}

/* Writes every shard's dirty records through b, a full batch at a time.
 * Returns 0 or the store's first error (then stops: the store is failing,
 * the next pass retries). */
static int flush_shards(rg_fleet *f, flush_batch *b, rg_err *err)
{
    int rc = 0;
    for (size_t i = 0; i < RG_FLEET_SHARDS; i++) {
        bool more = true;
        while (more) {
            more = drain_shard(f, i, b);
            if (b->n == RG_FLEET_FLUSH_BATCH &&
                (rc = flush_write(f, b, err)) < 0)
                return rc;
        }
    }
    return flush_write(f, b, err);
}

int rg_fleet_flush(rg_fleet *f, rg_err *err)
{
    flush_batch *b = malloc(sizeof *b);
    if (!b)
        return rg_err_set(err, RG_ENOMEM, "out of memory flushing the fleet");
    b->n = 0;
    pthread_mutex_lock(&f->flush_mu);
    int64_t t0 = rg_monotonic_ms();
    uint64_t before = atomic_load(&f->flushed_records);
    int rc = flush_shards(f, b, err);
    if (atomic_load(&f->flushed_records) != before) {
        int64_t dt = rg_monotonic_ms() - t0;
        atomic_fetch_add(&f->flushes, 1);
        atomic_store(&f->last_flush_ms, dt);
        if (dt > atomic_load(&f->max_flush_ms))
            atomic_store(&f->max_flush_ms, dt);
    }
    pthread_mutex_unlock(&f->flush_mu);
    free(b);
    return rc;
}

static int load_one(void *ctx, const rg_endpoint_rec *e)
{
    rg_err err;
    rg_err_clear(&err);
    int rc = rg_fleet_put(ctx, e, &err);
    if (rc == RG_EINVAL) {
        rg_warn("fleet: skipping stored endpoint '%s': %s", e->id, err.msg);
        return 0;
    }
    if (rc < 0)
        rg_error("fleet: loading endpoint '%s': %s", e->id, err.msg);
    return rc < 0 ? 1 : 0;
}

int rg__fleet_load(rg_fleet *f, rg_err *err)
{
    int rc = rg_store_endpoint_load(f->srv->store, load_one, f, err);
    if (rc > 0)
        rc = rg_err_set(err, RG_ENOMEM, "out of memory loading the fleet");
    return rc;
}

void rg__fleet_flush_last(rg_fleet *f)
{
    rg_err err;
    rg_err_clear(&err);
    for (size_t i = 0; i < RG_FLEET_SHARDS; i++) {
        rg__fleet_shard *s = &f->shards[i];
        pthread_mutex_lock(&s->mu);
        for (uint32_t k = 0; k < s->n; k++)
            if (rg__fleet_rec_at(s, k)->flags & RG__FLEET_F_SEEN)
                rg__fleet_mark_dirty(s, k);
        pthread_mutex_unlock(&s->mu);
    }
    if (rg_fleet_flush(f, &err) < 0)
        rg_error("fleet: last flush failed: %s", err.msg);
}
