/* ratelimit.c - see ratelimit.h. */
#include "ratelimit.h"

#include "common/murmur3.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_CAPACITY 4096u
#define MS_PER_MIN 60000.0

typedef struct slot {
    char key[RG_RATELIMIT_KEY_MAX + 1]; /* "" : free */
    double tokens;                      /* at refill_ms */
    int64_t refill_ms;                  /* last refill */
    int64_t used_ms;                    /* last take, for eviction */
    int64_t denied_ms;                  /* last refusal */
    uint64_t denied;                    /* refusals since the last success */
} slot;

struct rg_ratelimit {
    pthread_mutex_t mu;
    _Atomic bool on; /* o.burst > 0, read without the lock */
    rg_ratelimit_opts o;
    uint32_t seed;
    uint32_t n_sets;
    slot *slots; /* n_sets * RG_RATELIMIT_WAYS */
    uint64_t evicted_denied;
};

int rg_ratelimit_new(const rg_ratelimit_opts *opts, rg_ratelimit **out,
                     rg_err *err)
{
    if (opts->burst > 0 && opts->per_min == 0)
        return rg_err_set(err, RG_EINVAL,
                          "rate limit: a refill rate of 0 per minute would "
                          "lock every address out for good");
    rg_ratelimit *rl = calloc(1, sizeof *rl);
    if (!rl)
        return rg_err_set(err, RG_ENOMEM, "rate limit: out of memory");
    rl->o = *opts;
    uint32_t cap = opts->capacity ? opts->capacity : DEFAULT_CAPACITY;
    rl->n_sets = (cap + RG_RATELIMIT_WAYS - 1) / RG_RATELIMIT_WAYS;
    rl->o.capacity = rl->n_sets * RG_RATELIMIT_WAYS;
    rl->seed = randombytes_random();
    /* Slots even when disabled: rg_ratelimit_set may enable it. */
    rl->slots = calloc((size_t)rl->o.capacity, sizeof *rl->slots);
    if (!rl->slots) {
        free(rl);
        return rg_err_set(err, RG_ENOMEM, "rate limit: out of memory");
    }
    atomic_init(&rl->on, opts->burst > 0);
    pthread_mutex_init(&rl->mu, NULL);
    *out = rl;
    return 0;
}

void rg_ratelimit_free(rg_ratelimit *rl)
{
    if (!rl)
        return;
    pthread_mutex_destroy(&rl->mu);
    free(rl->slots);
    free(rl);
}

int rg_ratelimit_set(rg_ratelimit *rl, uint32_t burst, uint32_t per_min,
                     rg_err *err)
{
    if (burst > 0 && per_min == 0)
        return rg_err_set(err, RG_EINVAL,
                          "rate limit: a refill rate of 0 per minute would "
                          "lock every address out for good");
    pthread_mutex_lock(&rl->mu);
    rl->o.burst = burst;
    rl->o.per_min = per_min;
    for (size_t i = 0; i < rl->o.capacity; i++)
        if (rl->slots[i].tokens > burst)
            rl->slots[i].tokens = burst;
    atomic_store(&rl->on, burst > 0);
    pthread_mutex_unlock(&rl->mu);
    return 0;
}

bool rg_ratelimit_enabled(const rg_ratelimit *rl)
{
    return rl && atomic_load(&rl->on);
}

/* The slot of key (k, n bytes), taking a free or the least recently used
 * one of its set for a new key. Called locked. */
static slot *slot_for(rg_ratelimit *rl, const char *k, size_t n, int64_t now)
{
    uint32_t set = rg_murmur3_32(k, n, rl->seed) % rl->n_sets;
    slot *ways = &rl->slots[(size_t)set * RG_RATELIMIT_WAYS];
    slot *victim = NULL;
    for (size_t i = 0; i < RG_RATELIMIT_WAYS; i++) {
        slot *s = &ways[i];
        if (s->key[0] && strncmp(s->key, k, n) == 0 && s->key[n] == '\0')
            return s;
        if (!victim ||
            (victim->key[0] && (!s->key[0] || s->used_ms < victim->used_ms)))
            victim = s;
    }
    rl->evicted_denied += victim->denied;
    memset(victim, 0, sizeof *victim);
    memcpy(victim->key, k, n);
    victim->tokens = rl->o.burst;
    victim->refill_ms = now;
    return victim;
}

bool rg_ratelimit_take(rg_ratelimit *rl, const char *key, int64_t now_ms,
                       int *retry_after_s, uint64_t *denied)
{
    return rg_ratelimit_take_n(rl, key, 1, now_ms, retry_after_s, denied);
}

bool rg_ratelimit_take_n(rg_ratelimit *rl, const char *key, uint32_t cost,
                         int64_t now_ms, int *retry_after_s, uint64_t *denied)
{
    if (denied)
        *denied = 0;
    if (!rg_ratelimit_enabled(rl))
        return true;
    size_t n = strnlen(key, RG_RATELIMIT_KEY_MAX);
    bool ok;
    pthread_mutex_lock(&rl->mu);
    if (rl->o.burst == 0) { /* disabled meanwhile */
        pthread_mutex_unlock(&rl->mu);
        return true;
    }
    slot *s = slot_for(rl, key, n, now_ms);
    if (now_ms > s->refill_ms) {
        s->tokens +=
            (double)(now_ms - s->refill_ms) * rl->o.per_min / MS_PER_MIN;
        if (s->tokens > rl->o.burst)
            s->tokens = rl->o.burst;
        s->refill_ms = now_ms;
    }
    s->used_ms = now_ms;
    double need = cost > rl->o.burst ? rl->o.burst : cost;
    ok = s->tokens >= need;
    if (ok) {
        s->tokens -= need;
        if (denied)
            *denied = s->denied;
        s->denied = 0;
    } else {
        s->denied++;
        s->denied_ms = now_ms;
        if (retry_after_s) {
            double wait_ms = (need - s->tokens) * MS_PER_MIN / rl->o.per_min;
            int secs = (int)((wait_ms + 999.0) / 1000.0);
            *retry_after_s = secs < 1 ? 1 : secs;
        }
    }
    pthread_mutex_unlock(&rl->mu);
    return ok;
}

size_t rg_ratelimit_drain(rg_ratelimit *rl, int64_t now_ms, int64_t idle_ms,
                          void (*fn)(void *ctx, const char *key,
                                     uint64_t denied),
                          void *ctx)
{
    size_t calls = 0;
    if (!rg_ratelimit_enabled(rl))
        return 0;
    pthread_mutex_lock(&rl->mu);
    for (size_t i = 0; i < rl->o.capacity; i++) {
        slot *s = &rl->slots[i];
        if (!s->key[0] || s->denied == 0 || now_ms - s->denied_ms < idle_ms)
            continue;
        fn(ctx, s->key, s->denied);
        s->denied = 0;
        calls++;
    }
    if (rl->evicted_denied) {
        fn(ctx, "*", rl->evicted_denied);
        rl->evicted_denied = 0;
        calls++;
    }
    pthread_mutex_unlock(&rl->mu);
    return calls;
}
