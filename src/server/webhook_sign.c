/* webhook_sign.c - see webhook_sign.h. */
#include "server/webhook_sign.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

void rg_webhook_sign(const char *secret, int64_t t, const char *body,
                     size_t len, char out[RG_WEBHOOK_SIG_MAX])
{
    char stamp[24];
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    char hex[2 * sizeof mac + 1];
    crypto_auth_hmacsha256_state st;
    int n = snprintf(stamp, sizeof stamp, "%lld.", (long long)t);
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret,
                                strlen(secret));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)stamp,
                                  (unsigned long long)n);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body,
                                  (unsigned long long)len);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
    snprintf(out, RG_WEBHOOK_SIG_MAX, "t=%lld,v1=%s", (long long)t, hex);
    sodium_memzero(&st, sizeof st);
}
