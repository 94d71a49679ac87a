/* bucket.c - see bucket.h. */
#include "bucket.h"

#include <string.h>

void rg_flag_bucket_prefix(rg_murmur3 *m, const char *group, uint32_t seed)
{
    rg_murmur3_init(m, seed);
    rg_murmur3_update(m, group, strlen(group));
    rg_murmur3_update(m, ":", 1);
}

uint32_t rg_flag_bucket_from(const rg_murmur3 *prefix, const char *id,
                             uint32_t normalizer)
{
    rg_murmur3 m = *prefix;
    rg_murmur3_update(&m, id, strlen(id));
    return rg_murmur3_final(&m) % normalizer + 1;
}

uint32_t rg_flag_bucket(const char *group, const char *id, uint32_t seed,
                        uint32_t normalizer)
{
    rg_murmur3 m;
    rg_flag_bucket_prefix(&m, group, seed);
    return rg_flag_bucket_from(&m, id, normalizer);
}
