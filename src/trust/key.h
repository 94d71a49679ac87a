/*
 * key.h - Ed25519 publisher keys (libsodium crypto_sign_*).
 *
 * A key id is the lower-case hex SHA-256 of the 32-byte public key. Key
 * files are small JSON objects (docs/signing.md):
 *
 *   KEYFILE
 * {"type":"rollgate-ed25519-private","keyid":..,"public":..,"seed":..}  mode
 * 0600 KEYFILE.pub  {"type":"rollgate-ed25519-public","keyid":..,"public":..}
 *
 * Signatures are 64 bytes, written as 128 lower-case hex digits. rg_key is
 * a plain value; rg_key_wipe clears its secret. Call rg_crypto_init first.
 */
#ifndef RG_TRUST_KEY_H
#define RG_TRUST_KEY_H

#include "common/err.h"

#include <sodium.h>
#include <stdbool.h>
#include <stddef.h>

#define RG_KEYID_HEX 65  /* 64 hex digits + NUL */
#define RG_PUBKEY_HEX 65 /* 32 bytes as hex + NUL */
#define RG_SIG_HEX 129   /* 64 bytes as hex + NUL */

typedef struct rg_key {
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    unsigned char sk[crypto_sign_SECRETKEYBYTES]; /* zero unless has_secret */
    bool has_secret;
    char keyid[RG_KEYID_HEX];
} rg_key;

/* A fresh random key pair into k. Returns 0 or RG_EINTERNAL. */
int rg_key_generate(rg_key *k, rg_err *err);

/* The public key pk_hex (64 hex digits) into k (no secret). Returns 0 or
 * RG_EINVAL. */
int rg_key_from_public_hex(const char *pk_hex, rg_key *k, rg_err *err);

/* The public key as hex into out. */
void rg_key_public_hex(const rg_key *k, char out[RG_PUBKEY_HEX]);

/* Reads a private or public key file. Returns 0, RG_ENOTFOUND, RG_EIO or
 * RG_EINVAL (not a key file, or its keyid does not match its key). */
int rg_key_load(const char *path, rg_key *k, rg_err *err);

/* Writes k (which must hold its secret) as path (mode 0600, refusing to
 * overwrite an existing file) and its public half as path.pub (0644).
 * Returns 0, RG_ECONFLICT when path exists, RG_EINVAL or RG_EIO. */
int rg_key_save(const rg_key *k, const char *path, rg_err *err);

/* Signs n bytes of msg with k (which must hold its secret) into sig.
 * Returns 0 or RG_EINVAL (no secret). */
int rg_key_sign(const rg_key *k, const void *msg, size_t n,
                char sig[RG_SIG_HEX], rg_err *err);

/* True when sig_hex is k's valid signature of n bytes of msg. */
bool rg_key_verify(const rg_key *k, const void *msg, size_t n,
                   const char *sig_hex);

/* Clears k, secret included. */
void rg_key_wipe(rg_key *k);

#endif
