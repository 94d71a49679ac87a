/* murmur3.c - see murmur3.h. Written from the algorithm's description. */
#include "murmur3.h"

#include <string.h>

#define C1 0xcc9e2d51u
#define C2 0x1b873593u

static inline uint32_t rotl32(uint32_t x, int r)
{
    return (x << r) | (x >> (32 - r));
}

/* The little-endian word at p, whatever the host's byte order. */
static inline uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static inline uint32_t mix_k(uint32_t k)
{
    k *= C1;
    k = rotl32(k, 15);
    return k * C2;
}

static inline uint32_t mix_block(uint32_t h, uint32_t k)
{
    h ^= mix_k(k);
    h = rotl32(h, 13);
    return h * 5 + 0xe6546b64u;
}

void rg_murmur3_init(rg_murmur3 *m, uint32_t seed)
{
    memset(m, 0, sizeof *m);
    m->h = seed;
}

void rg_murmur3_update(rg_murmur3 *m, const void *p, size_t n)
{
    const uint8_t *d = p;
    m->len += n;
    while (m->n_tail > 0 && m->n_tail < sizeof m->tail && n > 0) {
        /* complete the pending block first */
        m->tail[m->n_tail++] = *d++;
        n--;
        if (m->n_tail == 4) {
            m->h = mix_block(m->h, le32(m->tail));
            m->n_tail = 0;
        }
    }
    for (; n >= 4; d += 4, n -= 4)
        m->h = mix_block(m->h, le32(d));
    memcpy(m->tail + m->n_tail, d, n);
    m->n_tail += n;
}

uint32_t rg_murmur3_final(const rg_murmur3 *m)
{
    uint32_t h = m->h, k = 0;
    switch (m->n_tail) {
    case 3:
        k ^= (uint32_t)m->tail[2] << 16; /* fall through */
    case 2:
        k ^= (uint32_t)m->tail[1] << 8; /* fall through */
    case 1:
        k ^= m->tail[0];
        h ^= mix_k(k);
    }
    h ^= (uint32_t)m->len;
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}

uint32_t rg_murmur3_32(const void *key, size_t len, uint32_t seed)
{
    rg_murmur3 m;
    rg_murmur3_init(&m, seed);
    rg_murmur3_update(&m, key, len);
    return rg_murmur3_final(&m);
}
