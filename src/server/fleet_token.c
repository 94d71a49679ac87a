/* fleet_token.c - see fleet_token.h. */
#include "fleet_token.h"

#include "common/crypto.h"

#include <stdlib.h>
#include <string.h>

static uint32_t tok_key(const uint8_t t[RG__FLEET_TOKEN_KEPT])
{
    uint32_t k;
    memcpy(&k, t, sizeof k);
    return k;
}

int rg__fleet_token_from_hex(const char *hex, uint8_t out[RG_FLEET_TOKEN_BYTES])
{
    if (!rg_sha256_hex_valid(hex))
        return -1;
    for (size_t i = 0; i < RG_FLEET_TOKEN_BYTES; i++) {
        unsigned hi = (unsigned)(hex[2 * i] <= '9' ? hex[2 * i] - '0'
                                                   : hex[2 * i] - 'a' + 10);
        unsigned lo =
            (unsigned)(hex[2 * i + 1] <= '9' ? hex[2 * i + 1] - '0'
                                             : hex[2 * i + 1] - 'a' + 10);
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

static int tok_grow(rg_fleet *f)
{
    uint32_t cap = f->tok_cap ? f->tok_cap * 2 : 1024;
    rg__fleet_tok_slot *t = calloc(cap, sizeof *t);
    if (!t)
        return RG_ENOMEM;
    for (uint32_t i = 0; i < f->tok_cap; i++) {
        if (!f->tok[i].ref)
            continue;
        uint32_t p = f->tok[i].key & (cap - 1);
        while (t[p].ref)
            p = (p + 1) & (cap - 1);
        t[p] = f->tok[i];
    }
    free(f->tok);
    f->tok = t;
    f->tok_cap = cap;
    return 0;
}

/* Removes (key, ref) with backward-shift deletion. Caller holds the write
 * lock. */
static void tok_remove(rg_fleet *f, uint32_t key, uint32_t ref)
{
    if (!f->tok_cap)
        return;
    uint32_t mask = f->tok_cap - 1;
    uint32_t p = key & mask;
    while (f->tok[p].ref && !(f->tok[p].key == key && f->tok[p].ref == ref))
        p = (p + 1) & mask;
    if (!f->tok[p].ref)
        return;
    f->tok[p].ref = 0;
    f->tok_n--;
    for (uint32_t q = (p + 1) & mask; f->tok[q].ref; q = (q + 1) & mask) {
        uint32_t home = f->tok[q].key & mask;
        /* Move q back into the hole at p when its home is not in (p, q]. */
        bool between =
            p <= q ? (home > p && home <= q) : (home > p || home <= q);
        if (!between) {
            f->tok[p] = f->tok[q];
            f->tok[q].ref = 0;
            p = q;
        }
    }
}

/* Replaces old token (if had_old) of ref by the new one. Runs after the
 * shard is unlocked (lock order: tok_lock before a shard), so two racing
 * re-enrollments of one id may leave a stale slot behind: harmless, since
 * tok_find checks every candidate against the record's current token. */
int rg__fleet_tok_update(rg_fleet *f, bool had_old,
                         const uint8_t old_tok[RG__FLEET_TOKEN_KEPT],
                         const uint8_t new_tok[RG_FLEET_TOKEN_BYTES],
                         uint32_t ref)
{
    int rc = 0;
    pthread_rwlock_wrlock(&f->tok_lock);
    if (had_old)
        tok_remove(f, tok_key(old_tok), ref);
    /* Load up to 0.8 (a probe compares 4-byte keys before any record). */
    if ((uint64_t)(f->tok_n + 1) * 5 > (uint64_t)f->tok_cap * 4 &&
        (rc = tok_grow(f)) < 0)
        goto cleanup;
    uint32_t mask = f->tok_cap - 1;
    uint32_t p = tok_key(new_tok) & mask;
    while (f->tok[p].ref)
        p = (p + 1) & mask;
    f->tok[p].key = tok_key(new_tok);
    f->tok[p].ref = ref;
    f->tok_n++;
cleanup:
    pthread_rwlock_unlock(&f->tok_lock);
    return rc;
}

/* Finds the record whose token is t; copies its id to id_out (may be NULL).
 * Returns true when found. Lock order: tok_lock, then a shard's mutex. */
bool rg__fleet_tok_find(rg_fleet *f, const uint8_t t[RG_FLEET_TOKEN_BYTES],
                        char *id_out)
{
    bool found = false;
    pthread_rwlock_rdlock(&f->tok_lock);
    if (!f->tok_cap)
        goto cleanup;
    uint32_t key = tok_key(t), mask = f->tok_cap - 1;
    for (uint32_t p = key & mask; f->tok[p].ref && !found; p = (p + 1) & mask) {
        if (f->tok[p].key != key)
            continue;
        rg__fleet_shard *s = rg__fleet_ref_shard(f, f->tok[p].ref);
        pthread_mutex_lock(&s->mu);
        rg__ep *r = rg__fleet_rec_at(s, rg__fleet_ref_index(f->tok[p].ref));
        if (sodium_memcmp(r->token, t, sizeof r->token) == 0) {
            found = true;
            if (id_out) {
                memcpy(id_out, rg__fleet_rec_id(s, r), r->id_len);
                id_out[r->id_len] = '\0';
            }
        }
        pthread_mutex_unlock(&s->mu);
    }
cleanup:
    pthread_rwlock_unlock(&f->tok_lock);
    return found;
}
