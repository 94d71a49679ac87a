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

#include "common/murmur3.h"

#include <stdint.h>

#define RG_FLAG_STRATEGY_SEED 0u
#define RG_FLAG_VARIANT_SEED 86028157u

/* Returns the position of id in group: 1..normalizer (normalizer > 0). */
uint32_t rg_flag_bucket(const char *group, const char *id, uint32_t seed,
                        uint32_t normalizer);

/* Feeds group ":" into a fresh hash *m with seed: the part of every key
 * of one group that does not change, hashed once (a parser keeps it). */
void rg_flag_bucket_prefix(rg_murmur3 *m, const char *group, uint32_t seed);

/* rg_flag_bucket over a prefix from rg_flag_bucket_prefix (only read):
 * hashes only id's bytes. No allocation. */
uint32_t rg_flag_bucket_from(const rg_murmur3 *prefix, const char *id,
                             uint32_t normalizer);

#endif
