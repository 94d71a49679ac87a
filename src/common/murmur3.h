/*
 * murmur3.h - MurmurHash3 x86_32 (Austin Appleby, public domain algorithm),
 * the hash behind bucketing. Reads bytes, so UTF-8 strings hash as their
 * encoded bytes. Pure; thread-safe.
 */
#ifndef RG_MURMUR3_H
#define RG_MURMUR3_H

#include <stddef.h>
#include <stdint.h>

/* Returns the 32-bit hash of len bytes at key with the given seed. */
uint32_t rg_murmur3_32(const void *key, size_t len, uint32_t seed);

#endif
