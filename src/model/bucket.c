/* bucket.c - see bucket.h. */
#include "bucket.h"

#include "common/murmur3.h"

#include <string.h>

uint32_t rg_bucket(const char *salt, const char *endpoint_id)
{
    /* salt ":" endpoint_id hashed in pieces: no copy, so no allocation
     * that could fail whatever their length. */
    rg_murmur3 m;
    rg_murmur3_init(&m, 0);
    rg_murmur3_update(&m, salt, strlen(salt));
    rg_murmur3_update(&m, ":", 1);
    rg_murmur3_update(&m, endpoint_id, strlen(endpoint_id));
    return (uint32_t)(((uint64_t)rg_murmur3_final(&m) * RG_PPM) >> 32);
}
