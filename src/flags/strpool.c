/* strpool.c - see strpool.h. */
#include "strpool.h"

#include "common/murmur3.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct rg_flag_strpool {
    char **slot; /* open addressing, NULL: free */
    size_t mask; /* slots - 1, a power of 2 minus 1 */
    size_t n;
};

rg_flag_strpool *rg_flag_strpool_new(void)
{
    rg_flag_strpool *p = calloc(1, sizeof *p);
    if (p && !(p->slot = calloc(64, sizeof *p->slot))) {
        free(p);
        return NULL;
    }
    if (p)
        p->mask = 63;
    return p;
}

static size_t home(const rg_flag_strpool *p, const char *s)
{
    return rg_murmur3_32(s, strlen(s), 0) & p->mask;
}

/* Doubles the table; 0 or -1 (out of memory: the table is unchanged). */
static int grow(rg_flag_strpool *p)
{
    rg_flag_strpool bigger = {calloc(2 * (p->mask + 1), sizeof(char *)),
                              2 * p->mask + 1, p->n};
    if (!bigger.slot)
        return -1;
    for (size_t i = 0; i <= p->mask; i++) {
        if (!p->slot[i])
            continue;
        size_t at = home(&bigger, p->slot[i]);
        while (bigger.slot[at])
            at = (at + 1) & bigger.mask;
        bigger.slot[at] = p->slot[i];
    }
    free(p->slot);
    *p = bigger;
    return 0;
}

char *rg_flag_strpool_intern(rg_flag_strpool *p, const char *s)
{
    if (2 * (p->n + 1) > p->mask + 1 && grow(p) != 0)
        return NULL;
    size_t at = home(p, s);
    for (; p->slot[at]; at = (at + 1) & p->mask)
        if (strcmp(p->slot[at], s) == 0)
            return p->slot[at];
    if (!(p->slot[at] = strdup(s)))
        return NULL;
    p->n++;
    return p->slot[at];
}

void rg_flag_strpool_free(rg_flag_strpool *p)
{
    if (!p)
        return;
    for (size_t i = 0; i <= p->mask; i++)
        free(p->slot[i]);
    free(p->slot);
    free(p);
}
