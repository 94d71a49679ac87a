/* fleet_canary.c - the canary slots and offered releases of fleet
 * records (fleet.h: rg_fleet_canary_*, rg_fleet_offer*,
 * rg_fleet_releases_of). */
#include "fleet_shard.h"

#include <string.h>

const rg_fleet_canary *rg_fleet_canary_of(const rg_fleet_view *v,
                                          int64_t release)
{
    for (size_t i = 0; i < RG_FLEET_CANARY_SLOTS; i++)
        if (release > 0 && v->canary[i].release == (uint64_t)release)
            return &v->canary[i];
    return NULL;
}

/* r's slot for release; when take, a free slot or the one of the oldest
 * release (when older than release) is reset for it. NULL otherwise. */
static rg_fleet_canary *slot_for(rg__ep *r, int64_t release, bool take)
{
    if (release <= 0 || release > UINT32_MAX)
        return NULL;
    rg_fleet_canary *old = &r->canary[0];
    for (size_t i = 0; i < RG_FLEET_CANARY_SLOTS; i++) {
        if (r->canary[i].release == (uint32_t)release)
            return &r->canary[i];
        if (r->canary[i].release < old->release)
            old = &r->canary[i];
    }
    if (!take || old->release >= (uint32_t)release)
        return NULL;
    if (release >= RG_FLEET_FLAG_KEY) /* a flag rollout's: free slots only */
        for (size_t i = 0; i < RG_FLEET_CANARY_SLOTS; i++)
            if (old->release || r->canary[i].release >= RG_FLEET_FLAG_KEY)
                return NULL;
    memset(old, 0, sizeof *old);
    old->release = (uint32_t)release;
    return old;
}

int rg_fleet_offer(rg_fleet *f, const char *id, int64_t release, rg_err *err)
{
    if (release <= 0 || release > UINT32_MAX)
        return rg_err_set(err, RG_EINVAL, "release %lld out of range",
                          (long long)release);
    rg__fleet_shard *s = NULL;
    rg__ep *r = rg__fleet_find_locked(f, id, &s);
    if (!r)
        return rg_err_set(err, RG_ENOTFOUND, "endpoint '%.64s' not found", id);
    size_t at = RG_FLEET_OFFERED - 1; /* the oldest goes, unless present */
    for (size_t i = 0; i < RG_FLEET_OFFERED; i++)
        if (r->offered[i] == (uint32_t)release) {
            at = i;
            break;
        }
    memmove(&r->offered[1], &r->offered[0], at * sizeof r->offered[0]);
    r->offered[0] = (uint32_t)release;
    pthread_mutex_unlock(&s->mu);
    return 0;
}

int rg_fleet_offered(rg_fleet *f, const char *id, int64_t release, rg_err *err)
{
    rg__fleet_shard *s = NULL;
    rg__ep *r = rg__fleet_find_locked(f, id, &s);
    if (!r)
        return rg_err_set(err, RG_ENOTFOUND, "endpoint '%.64s' not found", id);
    int found = 0;
    for (size_t i = 0; i < RG_FLEET_OFFERED && !found; i++)
        found = release > 0 && r->offered[i] == (uint64_t)release;
    pthread_mutex_unlock(&s->mu);
    return found;
}

/* Appends release to out[0..*n) unless it is 0, there, or out is full. */
static void add_release(int64_t *out, size_t cap, size_t *n, uint32_t release)
{
    if (release == 0 || release >= RG_FLEET_FLAG_KEY || *n == cap)
        return;
    for (size_t i = 0; i < *n; i++)
        if (out[i] == release)
            return;
    out[(*n)++] = release;
}

int rg_fleet_releases_of(rg_fleet *f, const char *id, int64_t *out, size_t cap,
                         size_t *n, rg_err *err)
{
    rg__fleet_shard *s = NULL;
    *n = 0;
    rg__ep *r = rg__fleet_find_locked(f, id, &s);
    if (!r)
        return rg_err_set(err, RG_ENOTFOUND, "endpoint '%.64s' not found", id);
    for (size_t i = 0; i < RG_FLEET_OFFERED; i++)
        add_release(out, cap, n, r->offered[i]);
    for (size_t i = 0; i < RG_FLEET_CANARY_SLOTS; i++)
        if (r->canary[i].flags & (RG_CN_ASSIGNED | RG_CN_EXPOSED))
            add_release(out, cap, n, r->canary[i].release);
    pthread_mutex_unlock(&s->mu);
    return 0;
}

int rg_fleet_canary_event(rg_fleet *f, const char *id, int64_t release,
                          int type, int64_t at_ms, rg_err *err)
{
    rg__fleet_shard *s = NULL;
    rg__ep *r = rg__fleet_find_locked(f, id, &s);
    if (!r)
        return rg_err_set(err, RG_ENOTFOUND, "endpoint '%.64s' not found", id);
    rg_fleet_canary *c = slot_for(r, release, type == RG_EVENT_APPLYING);
    if (c && type == RG_EVENT_APPLYING && !(c->flags & RG_CN_EXPOSED)) {
        c->flags |= RG_CN_EXPOSED | RG_CN_ASSIGNED;
        c->apply_ms = at_ms;
    } else if (c && type == RG_EVENT_HEALTHY && !(c->flags & RG_CN_HEALTHY)) {
        c->flags |= RG_CN_HEALTHY;
        c->healthy_ms = at_ms;
    } else if (c && type >= RG_EVENT_FAILED) {
        c->flags |= RG_CN_FAILED;
    }
    pthread_mutex_unlock(&s->mu);
    return 0;
}

int rg_fleet_canary_set(rg_fleet *f, const char *id, int64_t release,
                        uint32_t flags, rg_err *err)
{
    rg__fleet_shard *s = NULL;
    rg__ep *r = rg__fleet_find_locked(f, id, &s);
    if (!r)
        return rg_err_set(err, RG_ENOTFOUND, "endpoint '%.64s' not found", id);
    rg_fleet_canary *c = slot_for(r, release, true);
    if (c)
        c->flags |= flags;
    pthread_mutex_unlock(&s->mu);
    return 0;
}

int rg_fleet_canary_set_ref(rg_fleet *f, uint32_t ref, int64_t release,
                            uint32_t flags)
{
    if (ref == 0)
        return RG_ENOTFOUND;
    rg__fleet_shard *s = rg__fleet_ref_shard(f, ref);
    int rc = RG_ENOTFOUND;
    pthread_mutex_lock(&s->mu);
    if (rg__fleet_ref_index(ref) < s->n) {
        rg_fleet_canary *c = slot_for(
            rg__fleet_rec_at(s, rg__fleet_ref_index(ref)), release, true);
        if (c)
            c->flags |= flags;
        rc = 0;
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

void rg_fleet_canary_clear(rg_fleet *f, int64_t release)
{
    if (release <= 0 || release > UINT32_MAX)
        return;
    for (size_t i = 0; i < RG_FLEET_SHARDS; i++) {
        rg__fleet_shard *s = &f->shards[i];
        pthread_mutex_lock(&s->mu);
        for (uint32_t k = 0; k < s->n; k++) {
            rg__ep *r = rg__fleet_rec_at(s, k);
            for (size_t j = 0; j < RG_FLEET_CANARY_SLOTS; j++)
                if (r->canary[j].release == (uint32_t)release)
                    memset(&r->canary[j], 0, sizeof r->canary[j]);
        }
        pthread_mutex_unlock(&s->mu);
    }
}
