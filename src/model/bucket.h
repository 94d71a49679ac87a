/*
 * bucket.h - an endpoint's stable position in a rollout.
 *
 * bucket = murmur3_x86_32(salt ":" endpoint_id, seed 0) * 1e6 >> 32, in
 * parts per million [0, 999999]. An endpoint is in every wave whose
 * cumulative share (ppm) is above its bucket, so raising a share never
 * removes anyone. Pure; thread-safe.
 */
#ifndef RG_BUCKET_H
#define RG_BUCKET_H

#include <stdbool.h>
#include <stdint.h>

#define RG_PPM 1000000u

/* Bucket of endpoint_id under salt (both NUL-terminated UTF-8). */
uint32_t rg_bucket(const char *salt, const char *endpoint_id);

/* True when an endpoint in bucket is inside a wave of share_ppm. */
static inline bool rg_bucket_in(uint32_t bucket, uint32_t share_ppm)
{
    return bucket < share_ppm;
}

#endif
