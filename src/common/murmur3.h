/*
 * murmur3.h - MurmurHash3 x86_32 (Austin Appleby, public domain algorithm),
 * the hash behind bucketing. Reads bytes, so UTF-8 strings hash as their
 * encoded bytes. Blocks are read as little-endian words on every host, so
 * a hash (and so a bucket) is the same on any byte order: the reference
 * values of x86 and arm. Pure; thread-safe.
 */
#ifndef RG_MURMUR3_H
#define RG_MURMUR3_H

#include <stddef.h>
#include <stdint.h>

/* Returns the 32-bit hash of len bytes at key with the given seed. */
uint32_t rg_murmur3_32(const void *key, size_t len, uint32_t seed);

/* A hash fed in pieces: init, update any number of times, final gives
 * what rg_murmur3_32 gives for the pieces joined, with no allocation. */
typedef struct rg_murmur3 {
    uint32_t h;
    uint8_t tail[4]; /* bytes not yet in a block */
    size_t n_tail;
    size_t len; /* bytes fed so far */
} rg_murmur3;

void rg_murmur3_init(rg_murmur3 *m, uint32_t seed);
void rg_murmur3_update(rg_murmur3 *m, const void *p, size_t n);
uint32_t rg_murmur3_final(const rg_murmur3 *m);

#endif
