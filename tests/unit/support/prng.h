/* prng.h - splitmix64, a small seeded PRNG for the property tests (every
 * run draws the same numbers). Header-only: each test gets its own copy of
 * these static inline functions, and no state beyond the caller's seed. */
#ifndef RG_TEST_PRNG_H
#define RG_TEST_PRNG_H

#include <stdint.h>

/* The next 64 random bits of the stream whose state is *s. */
static inline uint64_t rg_prng_next(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* A uniform double in [0, 1). */
static inline double rg_prng_unif(uint64_t *s)
{
    return (double)(rg_prng_next(s) >> 11) / 9007199254740992.0;
}

#endif
