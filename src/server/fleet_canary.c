/* fleet_canary.c - the canary slots and offered releases of fleet
 * records (fleet.h: rg_fleet_canary_*, rg_fleet_offer*,
 * rg_fleet_releases_of). */
#include "fleet_shard.h"
#include "fleet_tuple.h"

#include <string.h>

const rg_fleet_canary *rg_fleet_canary_of(const rg_fleet_view *v,
                                          int64_t release)
{
    for (size_t i = 0; i < RG_FLEET_CANARY_SLOTS; i++)
        if (release > 0 && v->canary[i].release == (uint64_t)release)
            return &v->canary[i];
    return NULL;
}

/* r's canary slots, taken from s's pool when it has none. NULL when out
 * of memory. */
static rg_fleet_canary *pair_take(rg__fleet_shard *s, rg__ep *r)
{
    if (r->canary)
        return s->pairs[r->canary - 1];
    uint32_t no;
    if (s->free_pair) {
        no = s->free_pair - 1;
        s->free_pair = s->pairs[no][0].flags;
    } else {
        size_t cap = s->cap_pairs;
        if (rg__fleet_grow((void **)&s->pairs, &cap, (size_t)s->n_pairs + 1,
                           sizeof *s->pairs) < 0)
            return NULL;
        s->cap_pairs = (uint32_t)cap;
        no = s->n_pairs++;
    }
    memset(s->pairs[no], 0, sizeof s->pairs[no]);
    r->canary = no + 1;
    return s->pairs[no];
}

/* Gives r's slots back to s's pool once none is in use. */
static void pair_drop_unused(rg__fleet_shard *s, rg__ep *r)
{
    rg_fleet_canary *c = rg__fleet_canary_pair(s, r);
    for (size_t i = 0; c && i < RG_FLEET_CANARY_SLOTS; i++)
        if (c[i].release)
            return;
    if (!c)
        return;
    c[0].flags = s->free_pair; /* a free pair links to the next */
    s->free_pair = r->canary;
    r->canary = 0;
}

/* r's slot for release; when take, a free slot or the one of the oldest
 * release (when older than release) is reset for it. NULL otherwise (or
 * out of memory: *oom set). */
static rg_fleet_canary *slot_for(rg__fleet_shard *s, rg__ep *r, int64_t release,
                                 bool take, bool *oom)
{
    static const rg_fleet_canary none[RG_FLEET_CANARY_SLOTS];
    if (release <= 0 || release > UINT32_MAX)
        return NULL;
    const rg_fleet_canary *have = rg__fleet_canary_pair(s, r);
    have = have ? have : none;
    size_t old = 0;
    for (size_t i = 0; i < RG_FLEET_CANARY_SLOTS; i++) {
        if (have[i].release == (uint32_t)release)
            return s->pairs[r->canary - 1] + i;
        if (have[i].release < have[old].release)
            old = i;
    }
    if (!take || have[old].release >= (uint32_t)release)
        return NULL;
    if (release >= RG_FLEET_FLAG_KEY) /* a flag rollout's: free slots only */
        for (size_t i = 0; i < RG_FLEET_CANARY_SLOTS; i++)
            if (have[old].release || have[i].release >= RG_FLEET_FLAG_KEY)
                return NULL;
    rg_fleet_canary *c = pair_take(s, r);
    if (!c) {
        *oom = true;
        return NULL;
    }
    memset(&c[old], 0, sizeof c[old]);
    c[old].release = (uint32_t)release;
    return &c[old];
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
    rg__fleet_tuple key = *rg__fleet_tuple_at(s, r->offered);
    size_t at = RG_FLEET_OFFERED - 1; /* the oldest goes, unless present */
    for (size_t i = 0; i < RG_FLEET_OFFERED; i++)
        if (key.v[i] == (uint32_t)release) {
            at = i;
            break;
        }
    memmove(&key.v[1], &key.v[0], at * sizeof key.v[0]);
    key.v[0] = (uint32_t)release;
    int rc = rg__fleet_tuple_set(s, &r->offered, &key);
    pthread_mutex_unlock(&s->mu);
    if (rc < 0)
        return rg_err_set(err, rc, "endpoint '%.64s': out of memory", id);
    return 0;
}

int rg_fleet_offered(rg_fleet *f, const char *id, int64_t release, rg_err *err)
{
    rg__fleet_shard *s = NULL;
    rg__ep *r = rg__fleet_find_locked(f, id, &s);
    if (!r)
        return rg_err_set(err, RG_ENOTFOUND, "endpoint '%.64s' not found", id);
    const rg__fleet_tuple *o = rg__fleet_tuple_at(s, r->offered);
    int found = 0;
    for (size_t i = 0; i < RG_FLEET_OFFERED && !found; i++)
        found = release > 0 && o->v[i] == (uint64_t)release;
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
    const rg__fleet_tuple *o = rg__fleet_tuple_at(s, r->offered);
    for (size_t i = 0; i < RG_FLEET_OFFERED; i++)
        add_release(out, cap, n, o->v[i]);
    const rg_fleet_canary *c = rg__fleet_canary_pair(s, r);
    for (size_t i = 0; c && i < RG_FLEET_CANARY_SLOTS; i++)
        if (c[i].flags & (RG_CN_ASSIGNED | RG_CN_EXPOSED))
            add_release(out, cap, n, c[i].release);
    pthread_mutex_unlock(&s->mu);
    return 0;
}

int rg_fleet_canary_event(rg_fleet *f, const char *id, int64_t release,
                          int type, int64_t at_ms, rg_err *err)
{
    rg__fleet_shard *s = NULL;
    bool oom = false;
    rg__ep *r = rg__fleet_find_locked(f, id, &s);
    if (!r)
        return rg_err_set(err, RG_ENOTFOUND, "endpoint '%.64s' not found", id);
    rg_fleet_canary *c =
        slot_for(s, r, release, type == RG_EVENT_APPLYING, &oom);
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
    if (oom)
        return rg_err_set(err, RG_ENOMEM, "endpoint '%.64s': out of memory",
                          id);
    return 0;
}

/* Sets flags in r's slot for release (taking one). Returns 0 or
 * RG_ENOMEM. Caller holds s->mu. */
static int set_flags(rg__fleet_shard *s, rg__ep *r, int64_t release,
                     uint32_t flags)
{
    bool oom = false;
    rg_fleet_canary *c = slot_for(s, r, release, true, &oom);
    if (c)
        c->flags |= flags;
    return oom ? RG_ENOMEM : 0;
}

int rg_fleet_canary_set(rg_fleet *f, const char *id, int64_t release,
                        uint32_t flags, rg_err *err)
{
    rg__fleet_shard *s = NULL;
    rg__ep *r = rg__fleet_find_locked(f, id, &s);
    if (!r)
        return rg_err_set(err, RG_ENOTFOUND, "endpoint '%.64s' not found", id);
    int rc = set_flags(s, r, release, flags);
    pthread_mutex_unlock(&s->mu);
    if (rc < 0)
        return rg_err_set(err, rc, "endpoint '%.64s': out of memory", id);
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
    if (rg__fleet_ref_index(ref) < s->n)
        rc = set_flags(s, rg__fleet_rec_at(s, rg__fleet_ref_index(ref)),
                       release, flags);
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
            rg_fleet_canary *c = rg__fleet_canary_pair(s, r);
            for (size_t j = 0; c && j < RG_FLEET_CANARY_SLOTS; j++)
                if (c[j].release == (uint32_t)release)
                    memset(&c[j], 0, sizeof c[j]);
            pair_drop_unused(s, r);
        }
        pthread_mutex_unlock(&s->mu);
    }
}
