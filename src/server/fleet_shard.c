/* fleet_shard.c - see fleet_shard.h. */
#include "fleet_shard.h"

#include "fleet_tuple.h"

#include "common/murmur3.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define IDX_MAX ((1u << RG__FLEET_IDX_BITS) - 2u)
/* id index slot: record index + 1 */
#define SLOT_REC ((1u << RG__FLEET_IDX_BITS) - 1u)

uint32_t rg__fleet_id_hash(const char *id, size_t len)
{
    return rg_murmur3_32(id, len, RG__FLEET_SEED);
}

/* An id index slot: record index + 1 in the low RG__FLEET_IDX_BITS, and the
 * top bits of the id's hash as a tag, so that a probe only reads the
 * records (and ids) whose tag matches. */
static uint32_t slot_of(uint32_t idx, uint32_t h)
{
    return (idx + 1u) | (h & ~SLOT_REC);
}

/* Zeroed memory of n bytes straight from the kernel: pages are resident
 * only once written, so a record chunk or id arena chunk costs what its
 * records use (malloc'd chunks were fully resident: calloc zeroes them
 * when they come from a thread's heap). NULL when out of memory. */
static void *pages_alloc(size_t n)
{
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

rg__fleet_shard *rg__fleet_shard_of(rg_fleet *f, uint32_t h, size_t *no)
{
    *no = h % RG_FLEET_SHARDS;
    return &f->shards[*no];
}

/* Record index of id in s, or -1. Caller holds s->mu. */
int64_t rg__fleet_shard_find(rg__fleet_shard *s, const char *id, size_t len,
                             uint32_t h)
{
    if (!s->index_cap)
        return -1;
    uint32_t mask = s->index_cap - 1, tag = h & ~SLOT_REC;
    for (uint32_t p = (h / RG_FLEET_SHARDS) & mask; s->index[p];
         p = (p + 1) & mask) {
        if ((s->index[p] & ~SLOT_REC) != tag)
            continue;
        uint32_t idx = (s->index[p] & SLOT_REC) - 1;
        rg__ep *r = rg__fleet_rec_at(s, idx);
        if (r->id_len == len && memcmp(rg__fleet_rec_id(s, r), id, len) == 0)
            return idx;
    }
    return -1;
}

static int shard_index_grow(rg__fleet_shard *s)
{
    uint32_t cap = s->index_cap ? s->index_cap * 2 : 64;
    uint32_t *idx = calloc(cap, sizeof *idx);
    if (!idx)
        return RG_ENOMEM;
    for (uint32_t i = 0; i < s->n; i++) {
        rg__ep *r = rg__fleet_rec_at(s, i);
        uint32_t h = rg__fleet_id_hash(rg__fleet_rec_id(s, r), r->id_len);
        uint32_t p = (h / RG_FLEET_SHARDS) & (cap - 1);
        while (idx[p])
            p = (p + 1) & (cap - 1);
        idx[p] = slot_of(i, h);
    }
    free(s->index);
    s->index = idx;
    s->index_cap = cap;
    return 0;
}

/* Grows s's dirty bits to cover n records (a multiple of 64). Returns 0 or
 * RG_ENOMEM. */
static int dirty_grow(rg__fleet_shard *s, size_t n)
{
    size_t words = n / 64, old = s->cap_dirty;
    if (words <= old)
        return 0;
    uint64_t *d = realloc(s->dirty, words * sizeof *d);
    if (!d)
        return RG_ENOMEM;
    memset(d + old, 0, (words - old) * sizeof *d);
    s->dirty = d;
    s->cap_dirty = words;
    return 0;
}

int rg__fleet_grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 16;
    while (nc < need)
        nc *= 2;
    void *p = realloc(*arr, nc * elem);
    if (!p)
        return RG_ENOMEM;
    *arr = p;
    *cap = nc;
    return 0;
}

/* Appends a new record for id; returns its index or -1 (out of memory or
 * shard full). Caller holds s->mu. */
int64_t rg__fleet_shard_append(rg__fleet_shard *s, const char *id, size_t len,
                               uint32_t h)
{
    if (s->n > IDX_MAX)
        return -1;
    /* Load up to 0.8: tags keep the probes off the records. */
    if ((uint64_t)(s->n + 1) * 5 > (uint64_t)s->index_cap * 4 &&
        shard_index_grow(s) < 0)
        return -1;
    if (s->n == s->n_chunks * RG__FLEET_CHUNK_RECS) {
        if (rg__fleet_grow((void **)&s->chunks, &s->cap_chunks, s->n_chunks + 1,
                           sizeof *s->chunks) < 0 ||
            dirty_grow(s, (s->n_chunks + 1) * RG__FLEET_CHUNK_RECS) < 0)
            return -1;
        rg__ep *c = pages_alloc(RG__FLEET_CHUNK_RECS * sizeof *c);
        if (!c)
            return -1;
        s->chunks[s->n_chunks++] = c;
    }
    if (s->n_arena == 0 || s->arena_used + len + 1 > RG__FLEET_ARENA_CHUNK) {
        if (rg__fleet_grow((void **)&s->arena, &s->cap_arena, s->n_arena + 1,
                           sizeof *s->arena) < 0)
            return -1;
        char *a = pages_alloc(RG__FLEET_ARENA_CHUNK);
        if (!a)
            return -1;
        s->arena[s->n_arena++] = a;
        s->arena_used = 0;
    }
    uint32_t off =
        (uint32_t)((s->n_arena - 1) * RG__FLEET_ARENA_CHUNK + s->arena_used);
    memcpy(s->arena[s->n_arena - 1] + s->arena_used, id, len);
    s->arena[s->n_arena - 1][s->arena_used + len] = '\0';
    s->arena_used += (uint32_t)len + 1;
    uint32_t idx = s->n++;
    rg__ep *r = rg__fleet_rec_at(s, idx);
    memset(r, 0, sizeof *r);
    r->id_off = off;
    r->id_len = (uint8_t)len;
    uint32_t mask = s->index_cap - 1;
    uint32_t p = (h / RG_FLEET_SHARDS) & mask;
    while (s->index[p])
        p = (p + 1) & mask;
    s->index[p] = slot_of(idx, h);
    return idx;
}

void rg__fleet_mark_dirty(rg__fleet_shard *s, uint32_t idx)
{
    uint64_t bit = (uint64_t)1 << (idx % 64);
    if (s->dirty[idx / 64] & bit)
        return;
    s->dirty[idx / 64] |= bit;
    s->n_dirty++;
}

int64_t rg__fleet_take_dirty(rg__fleet_shard *s)
{
    if (!s->n_dirty)
        return -1;
    size_t w = s->dirty_next;
    while (!s->dirty[w])
        w = (w + 1) % s->cap_dirty;
    uint32_t idx = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(s->dirty[w]));
    s->dirty[w] &= s->dirty[w] - 1;
    s->n_dirty--;
    s->dirty_next = w;
    return idx;
}

rg_fleet_canary *rg__fleet_canary_pair(rg__fleet_shard *s, const rg__ep *r)
{
    return r->canary ? s->pairs[r->canary - 1] : NULL;
}

/* Finds id's record and locks its shard; NULL (unlocked) when unknown. */
rg__ep *rg__fleet_find_locked(rg_fleet *f, const char *id, rg__fleet_shard **sp)
{
    size_t len = strlen(id), no;
    if (len > RG_EPID_MAX)
        return NULL;
    uint32_t h = rg__fleet_id_hash(id, len);
    rg__fleet_shard *s = rg__fleet_shard_of(f, h, &no);
    pthread_mutex_lock(&s->mu);
    int64_t idx = rg__fleet_shard_find(s, id, len, h);
    if (idx < 0) {
        pthread_mutex_unlock(&s->mu);
        return NULL;
    }
    *sp = s;
    return rg__fleet_rec_at(s, (uint32_t)idx);
}

void rg__fleet_shard_release(rg__fleet_shard *s)
{
    for (size_t k = 0; k < s->n_chunks; k++)
        munmap(s->chunks[k], RG__FLEET_CHUNK_RECS * sizeof(rg__ep));
    for (size_t k = 0; k < s->n_arena; k++)
        munmap(s->arena[k], RG__FLEET_ARENA_CHUNK);
    free(s->chunks);
    free(s->arena);
    free(s->index);
    free(s->dirty);
    free(s->pairs);
    rg__fleet_tuple_release(s);
    pthread_mutex_destroy(&s->mu);
}
