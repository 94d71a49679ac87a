/* url_sign.c - see url_sign.h. */
#include "server/url_sign.h"

#include "common/file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DOMAIN "rollgate-artifact-url\n"

static void mac(const uint8_t key[RG_URL_KEY_BYTES], const char *sha256,
                int64_t exp_s, unsigned char out[crypto_auth_hmacsha256_BYTES])
{
    char msg[sizeof DOMAIN + 64 + 24];
    int n = snprintf(msg, sizeof msg, DOMAIN "%.64s\n%lld", sha256,
                     (long long)exp_s);
    crypto_auth_hmacsha256(out, (const unsigned char *)msg,
                           (unsigned long long)n, key);
}

void rg_url_sign(const uint8_t key[RG_URL_KEY_BYTES], const char *sha256,
                 int64_t exp_s, char out[RG_SIGNED_URL_MAX])
{
    unsigned char m[crypto_auth_hmacsha256_BYTES];
    char hex[2 * sizeof m + 1];
    mac(key, sha256, exp_s, m);
    sodium_bin2hex(hex, sizeof hex, m, sizeof m);
    snprintf(out, RG_SIGNED_URL_MAX, "/v1/artifacts/%.64s?exp=%lld&sig=%s",
             sha256, (long long)exp_s, hex);
}

int64_t rg_url_expiry(int64_t now_s, unsigned window_s)
{
    return (now_s / window_s + 2) * (int64_t)window_s;
}

bool rg_url_valid(const uint8_t key[RG_URL_KEY_BYTES], const char *sha256,
                  const char *exp, const char *sig, int64_t now_s)
{
    unsigned char want[crypto_auth_hmacsha256_BYTES], got[sizeof want];
    size_t got_len = 0;
    char *end = NULL;
    if (!exp || !sig || exp[0] < '0' || exp[0] > '9' ||
        strlen(sig) != 2 * sizeof got)
        return false;
    errno = 0;
    long long e = strtoll(exp, &end, 10);
    if (errno != 0 || *end != '\0' || e <= now_s)
        return false;
    if (sodium_hex2bin(got, sizeof got, sig, strlen(sig), NULL, &got_len,
                       NULL) != 0 ||
        got_len != sizeof got)
        return false;
    mac(key, sha256, e, want);
    return sodium_memcmp(want, got, sizeof want) == 0;
}

int rg_url_key_load(const char *data_dir, uint8_t key[RG_URL_KEY_BYTES],
                    rg_err *err)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/url.key", data_dir) >= (int)sizeof path)
        return rg_err_set(err, RG_EIO, "data directory path is too long");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        randombytes_buf(key, RG_URL_KEY_BYTES);
        return rg_file_write_durable(data_dir, "url.key", key, RG_URL_KEY_BYTES,
                                     0600, err);
    }
    if (fd < 0)
        return rg_err_set(err, RG_EIO, "cannot open '%s': %s", path,
                          strerror(errno));
    uint8_t extra;
    bool ok = read(fd, key, RG_URL_KEY_BYTES) == RG_URL_KEY_BYTES &&
              read(fd, &extra, 1) == 0;
    close(fd);
    if (!ok)
        return rg_err_set(err, RG_EIO,
                          "'%s' is not a URL key (%d bytes); remove it to "
                          "make a new one (URLs already issued then stop "
                          "working)",
                          path, RG_URL_KEY_BYTES);
    return 0;
}
