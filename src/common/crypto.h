/*
 * crypto.h - the few primitives the control plane needs, over libsodium:
 * SHA-256 (one-shot and streaming), random tokens, constant-time compare.
 *
 * Call rg_crypto_init() once at start-up before any other function here
 * (it is idempotent and thread-safe). All functions are thread-safe.
 */
#ifndef RG_CRYPTO_H
#define RG_CRYPTO_H

#include <sodium.h>
#include <stdbool.h>
#include <stddef.h>

#define RG_SHA256_HEX 65 /* 64 hex digits + NUL */

/* Initialises libsodium. Returns 0 or RG_EINTERNAL. */
int rg_crypto_init(void);

/* Writes the lower-case hex SHA-256 of n bytes at p into hex. */
void rg_sha256_hex(const void *p, size_t n, char hex[RG_SHA256_HEX]);

#define RG_SHA256_BYTES 32

/* Writes the binary SHA-256 of n bytes at p into out. Uses nettle, whose
 * SHA-256 runs on the CPU's SHA extensions when it has them (about 4x
 * libsodium's portable code on a 64-byte token: the check-in path hashes
 * every bearer token). */
void rg_sha256_bin(const void *p, size_t n, unsigned char out[RG_SHA256_BYTES]);

/* Streaming SHA-256: init, update any number of times, final to hex. */
typedef crypto_hash_sha256_state rg_sha256;
void rg_sha256_init(rg_sha256 *s);
void rg_sha256_update(rg_sha256 *s, const void *p, size_t n);
void rg_sha256_final(rg_sha256 *s, char hex[RG_SHA256_HEX]);

/* True when s is exactly 64 lower-case hex digits. */
bool rg_sha256_hex_valid(const char *s);

/* Fills out with nbytes random bytes as lower-case hex (2*nbytes digits
 * + NUL); out must hold 2*nbytes+1 bytes. Use 32 bytes for tokens. */
void rg_random_hex(char *out, size_t nbytes);

/* Constant-time equality of two NUL-terminated strings of equal length;
 * strings of different length compare unequal (length is not secret). */
bool rg_ct_streq(const char *a, const char *b);

#endif
