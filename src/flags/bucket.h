/*
 * bucket.h - Unleash's normalized hash: murmur3_x86_32(groupId ":" id,
 * seed) % normalizer + 1, a stable position in 1..normalizer. Strategies
 * use seed 0 and normalizer 100 (a percentage); variants use seed
 * RG_FLAG_VARIANT_SEED and the sum of their weights. Strings hash as their
 * UTF-8 bytes (as Unleash's Rust engine and Java SDK do; the Node SDK
 * hashes the low byte of each UTF-16 unit, which agrees for ASCII). Pure.
 */
#ifndef RG_FLAGS_BUCKET_H
#define RG_FLAGS_BUCKET_H

#include <stdint.h>

#define RG_FLAG_STRATEGY_SEED 0u
#define RG_FLAG_VARIANT_SEED 86028157u

/* Returns the position of id in group: 1..normalizer (normalizer > 0). */
uint32_t rg_flag_bucket(const char *group, const char *id, uint32_t seed,
                        uint32_t normalizer);

#endif
