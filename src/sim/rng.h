/*
 * rng.h - rollgate-sim's randomness: a seeded xoshiro256** stream for
 * draws whose order is fixed by the simulation (loss, latencies), and a
 * stateless hash for per-endpoint properties that must not depend on the
 * order of events (offline stretches, outages, faults, control picks).
 * Both are deterministic per seed. Header-only (the hot loop calls them).
 */
#ifndef RG_SIM_RNG_H
#define RG_SIM_RNG_H

#include <stdint.h>

typedef struct rg_rng {
    uint64_t s[4];
} rg_rng;

/* splitmix64 step: the finaliser used for seeding and hashing. */
static inline uint64_t rg_splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* Seeds r from seed (any value, 0 included). */
static inline void rg_rng_seed(rg_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) {
        x = rg_splitmix64(x);
        r->s[i] = x;
    }
}

static inline uint64_t rg_rng_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* Next 64 uniform bits (xoshiro256**). */
static inline uint64_t rg_rng_next(rg_rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rg_rng_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rg_rng_rotl(s[3], 45);
    return out;
}

/* The threshold under which 64 uniform bits fall with probability p
 * (0 for p <= 0, every value for p >= 1). */
static inline uint64_t rg_share_thr(double p)
{
    if (p <= 0.0)
        return 0;
    if (p >= 1.0)
        return UINT64_MAX;
    return (uint64_t)(p * 18446744073709551616.0);
}

/* 64 uniform bits determined by (seed, salt, i) alone. */
static inline uint64_t rg_hash(uint64_t seed, uint64_t salt, uint64_t i)
{
    return rg_splitmix64(rg_splitmix64(seed ^ salt * 0xd6e8feb86659fd93ull) ^
                         i * 0x9e3779b97f4a7c15ull);
}

#endif
