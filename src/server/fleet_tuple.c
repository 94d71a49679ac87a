/* fleet_tuple.c - see fleet_tuple.h. */
#include "fleet_tuple.h"

#include "fleet_shard.h"

#include "common/murmur3.h"

#include <stdlib.h>
#include <string.h>

static const rg__fleet_tuple empty;

const rg__fleet_tuple *rg__fleet_tuple_at(const rg__fleet_shard *s, uint32_t no)
{
    return no ? &s->tup[no] : &empty;
}

static bool same(const rg__fleet_tuple *a, const rg__fleet_tuple *b)
{
    return memcmp(a->v, b->v, sizeof a->v) == 0 &&
           memcmp(a->tag, b->tag, sizeof a->tag) == 0;
}

static uint32_t hash(const rg__fleet_tuple *t)
{
    uint8_t key[sizeof t->v + sizeof t->tag];
    memcpy(key, t->v, sizeof t->v);
    memcpy(key + sizeof t->v, t->tag, sizeof t->tag);
    return rg_murmur3_32(key, sizeof key, RG__FLEET_SEED);
}

/* The index slot holding tuple no, or of key when no is 0: the slot where
 * it is, else the empty slot where it would go. */
static uint32_t slot(const rg__fleet_shard *s, const rg__fleet_tuple *key)
{
    uint32_t mask = s->tup_index_cap - 1, p = hash(key) & mask;
    while (s->tup_index[p] && !same(&s->tup[s->tup_index[p]], key))
        p = (p + 1) & mask;
    return p;
}

static int index_grow(rg__fleet_shard *s)
{
    uint32_t cap = s->tup_index_cap ? s->tup_index_cap * 2 : 16;
    uint32_t *idx = calloc(cap, sizeof *idx), *old = s->tup_index;
    if (!idx)
        return RG_ENOMEM;
    uint32_t old_cap = s->tup_index_cap;
    s->tup_index = idx;
    s->tup_index_cap = cap;
    for (uint32_t i = 0; i < old_cap; i++)
        if (old[i])
            idx[slot(s, &s->tup[old[i]])] = old[i];
    free(old);
    return 0;
}

/* A number for a new tuple: a freed one, or the next. 0 when out of
 * memory. */
static uint32_t alloc_no(rg__fleet_shard *s)
{
    if (s->free_tup) {
        uint32_t no = s->free_tup - 1;
        s->free_tup = s->tup[no].v[0];
        return no;
    }
    size_t cap = s->cap_tup;
    if (rg__fleet_grow((void **)&s->tup, &cap, (size_t)s->n_tup + 2,
                       sizeof *s->tup) < 0)
        return 0;
    s->cap_tup = (uint32_t)cap;
    if (s->n_tup == 0)
        s->n_tup = 1; /* number 0 is the empty tuple */
    return s->n_tup++;
}

int rg__fleet_tuple_take(rg__fleet_shard *s, const rg__fleet_tuple *key,
                         uint32_t *no)
{
    *no = 0;
    if (same(key, &empty))
        return 0;
    if ((uint64_t)(s->tup_live + 1) * 4 > (uint64_t)s->tup_index_cap * 3 &&
        index_grow(s) < 0)
        return RG_ENOMEM;
    uint32_t p = slot(s, key);
    if (!s->tup_index[p]) {
        uint32_t n = alloc_no(s);
        if (!n)
            return RG_ENOMEM;
        memcpy(&s->tup[n], key, sizeof *key);
        s->tup[n].refs = 0;
        s->tup_index[p] = n;
        s->tup_live++;
    }
    *no = s->tup_index[p];
    s->tup[*no].refs++;
    return 0;
}

/* Removes the index entry at p, moving later entries of its run back. */
static void index_remove(rg__fleet_shard *s, uint32_t p)
{
    uint32_t mask = s->tup_index_cap - 1;
    s->tup_index[p] = 0;
    for (uint32_t q = (p + 1) & mask; s->tup_index[q]; q = (q + 1) & mask) {
        uint32_t home = hash(&s->tup[s->tup_index[q]]) & mask;
        bool between =
            p <= q ? (home > p && home <= q) : (home > p || home <= q);
        if (!between) {
            s->tup_index[p] = s->tup_index[q];
            s->tup_index[q] = 0;
            p = q;
        }
    }
}

void rg__fleet_tuple_drop(rg__fleet_shard *s, uint32_t no)
{
    if (!no || --s->tup[no].refs)
        return;
    index_remove(s, slot(s, &s->tup[no]));
    s->tup_live--;
    memset(&s->tup[no], 0, sizeof s->tup[no]);
    s->tup[no].v[0] = s->free_tup;
    s->free_tup = no + 1;
}

int rg__fleet_tuple_set(rg__fleet_shard *s, uint32_t *held,
                        const rg__fleet_tuple *key)
{
    uint32_t no;
    int rc = rg__fleet_tuple_take(s, key, &no);
    if (rc < 0)
        return rc;
    rg__fleet_tuple_drop(s, *held);
    *held = no;
    return 0;
}

void rg__fleet_tuple_release(rg__fleet_shard *s)
{
    free(s->tup);
    free(s->tup_index);
}
