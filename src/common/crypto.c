/* crypto.c - see crypto.h. */
#include "crypto.h"

#include "err.h"

#include <nettle/sha2.h>
#include <string.h>

int rg_crypto_init(void)
{
    return sodium_init() < 0 ? RG_EINTERNAL : 0;
}

void rg_sha256_hex(const void *p, size_t n, char hex[RG_SHA256_HEX])
{
    unsigned char d[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(d, p, n);
    sodium_bin2hex(hex, RG_SHA256_HEX, d, sizeof d);
}

void rg_sha256_bin(const void *p, size_t n, unsigned char out[RG_SHA256_BYTES])
{
    struct sha256_ctx c;
    sha256_init(&c);
    sha256_update(&c, n, p);
    sha256_digest(&c, RG_SHA256_BYTES, out);
}

void rg_sha256_init(rg_sha256 *s)
{
    crypto_hash_sha256_init(s);
}

void rg_sha256_update(rg_sha256 *s, const void *p, size_t n)
{
    crypto_hash_sha256_update(s, p, n);
}

void rg_sha256_final(rg_sha256 *s, char hex[RG_SHA256_HEX])
{
    unsigned char d[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(s, d);
    sodium_bin2hex(hex, RG_SHA256_HEX, d, sizeof d);
}

bool rg_sha256_hex_valid(const char *s)
{
    size_t i = 0;
    for (; s[i]; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return i == 64;
}

void rg_random_hex(char *out, size_t nbytes)
{
    unsigned char b[64];
    while (nbytes > 0) {
        size_t n = nbytes < sizeof b ? nbytes : sizeof b;
        randombytes_buf(b, n);
        sodium_bin2hex(out, 2 * n + 1, b, n);
        out += 2 * n;
        nbytes -= n;
    }
}

bool rg_ct_streq(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb)
        return false;
    return sodium_memcmp(a, b, la) == 0;
}
