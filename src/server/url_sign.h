/*
 * url_sign.h - artifact URLs that need no token, so that any HTTP cache
 * can serve them (docs/caching.md).
 *
 *   /v1/artifacts/<sha256>?exp=<unix seconds>&sig=<64 hex digits>
 *
 * sig is HMAC-SHA256, keyed by the server's URL key, over
 * "rollgate-artifact-url\n<sha256>\n<exp>": it binds the URL to one digest
 * and one expiry. Expiries are rounded up to whole windows, so every
 * endpoint offered an artifact within one window gets the same URL and a
 * cache keyed by URL fetches it from the origin once per window.
 *
 * The key is DATA/url.key (32 random bytes, made 0600 on the first start
 * that needs it). Servers behind one balancer must share it. Pure apart
 * from rg_url_key_load; thread-safe.
 */
#ifndef RG_URL_SIGN_H
#define RG_URL_SIGN_H

#include "common/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RG_URL_KEY_BYTES 32
/* "/v1/artifacts/" 64 "?exp=" 20 "&sig=" 64, the NUL, with room. */
#define RG_SIGNED_URL_MAX 192

/* Reads DATA/url.key into key, first creating it (random, 0600, durable)
 * when it does not exist. Returns 0; RG_EIO (unreadable, wrong size,
 * cannot be written) with err naming the file. */
int rg_url_key_load(const char *data_dir, uint8_t key[RG_URL_KEY_BYTES],
                    rg_err *err);

/* The expiry of URLs issued at now_s with window_s (> 0): the end of the
 * window after the current one, so a URL stays valid at least window_s
 * and at most 2 * window_s seconds. */
int64_t rg_url_expiry(int64_t now_s, unsigned window_s);

/* Writes the signed URL path of sha256 (64 hex digits) expiring at exp_s
 * into out (RG_SIGNED_URL_MAX bytes). */
void rg_url_sign(const uint8_t key[RG_URL_KEY_BYTES], const char *sha256,
                 int64_t exp_s, char out[RG_SIGNED_URL_MAX]);

/* Whether exp (decimal text) and sig (hex text), as a request carried
 * them, sign sha256 under key and exp is after now_s. NULL or malformed
 * arguments are not valid. Compares in constant time. */
bool rg_url_valid(const uint8_t key[RG_URL_KEY_BYTES], const char *sha256,
                  const char *exp, const char *sig, int64_t now_s);

#endif
