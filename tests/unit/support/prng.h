/*
 * prng.h - splitmix64, the small deterministic PRNG of the property tests
 * (seeded per run; the same seed always gives the same stream).
 * Header only; no state beyond the caller's seed.
 */
#ifndef RG_TEST_PRNG_H
#define RG_TEST_PRNG_H

#include <stdint.h>

/* Next 64 random bits; advances *s. */
static inline uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1); advances *s. */
static inline double rng_unit(uint64_t *s)
{
    return (double)(rng_next(s) >> 11) * 0x1.0p-53;
}

#endif
