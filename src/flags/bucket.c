/* bucket.c - see bucket.h. */
#include "bucket.h"

#include "common/murmur3.h"

#include <stdlib.h>
#include <string.h>

uint32_t rg_flag_bucket(const char *group, const char *id, uint32_t seed,
                        uint32_t normalizer)
{
    char stack[512];
    size_t glen = strlen(group), ilen = strlen(id), len = glen + 1 + ilen;
    char *key = len <= sizeof stack ? stack : malloc(len);
    if (!key)
        return normalizer; /* out of memory: the last position */
    memcpy(key, group, glen);
    key[glen] = ':';
    memcpy(key + glen + 1, id, ilen);
    uint32_t h = rg_murmur3_32(key, len, seed);
    if (key != stack)
        free(key);
    return h % normalizer + 1;
}
