/* bucket.c - see bucket.h. */
#include "bucket.h"

#include "../common/murmur3.h"

#include <stdlib.h>
#include <string.h>

uint32_t rg_bucket(const char *salt, const char *endpoint_id)
{
    char stack[256];
    size_t ls = strlen(salt), le = strlen(endpoint_id);
    size_t n = ls + 1 + le;
    uint32_t h;
    if (n <= sizeof stack) {
        memcpy(stack, salt, ls);
        stack[ls] = ':';
        memcpy(stack + ls + 1, endpoint_id, le);
        h = rg_murmur3_32(stack, n, 0);
    } else {
        /* Long salt or id: hash a heap copy of the joined string. */
        char *p = malloc(n);
        if (!p)
            return RG_PPM - 1; /* never in any partial wave */
        memcpy(p, salt, ls);
        p[ls] = ':';
        memcpy(p + ls + 1, endpoint_id, le);
        h = rg_murmur3_32(p, n, 0);
        free(p);
    }
    return (uint32_t)(((uint64_t)h * RG_PPM) >> 32);
}
