/* Unit tests for signed artifact URLs (url_sign.h, docs/caching.md): the
 * signature against an HMAC-SHA256 computed independently (Python's hmac
 * module), expiries for any window and time, every change to a URL
 * refused, and the key file.
 * ctest-labels: security */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/crypto.h"
#include "server/url_sign.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char SHA[] =
    "abababababababababababababababababababababababababababababababab";

static void key_of_bytes(uint8_t key[RG_URL_KEY_BYTES])
{
    for (int i = 0; i < RG_URL_KEY_BYTES; i++)
        key[i] = (uint8_t)i;
}

static void signature_is_hmac_sha256_of_digest_and_expiry(void **state)
{
    (void)state;
    uint8_t key[RG_URL_KEY_BYTES];
    char url[RG_SIGNED_URL_MAX];
    key_of_bytes(key);
    rg_url_sign(key, SHA, 1800000000, url);
    /* python3: hmac.new(bytes(range(32)), b"rollgate-artifact-url\n" +
     * SHA + b"\n1800000000", hashlib.sha256).hexdigest() */
    char want[RG_SIGNED_URL_MAX];
    snprintf(want, sizeof want,
             "/v1/artifacts/%s?exp=1800000000&sig=ba551128532c871c4dda118d8cc7"
             "68af4e6c7b330da5db67a17456f733dc600f",
             SHA);
    assert_string_equal(url, want);
}

/* For any window and time: the expiry is a window boundary, between one
 * and two windows away, and the same for every time in one window. */
static void expiry_for_any_window(void **state)
{
    (void)state;
    static const unsigned windows[] = {1, 7, 60, 3600, 86399, 7 * 86400};
    uint64_t x = 88172645463325252ull;
    for (size_t w = 0; w < sizeof windows / sizeof *windows; w++)
        for (int i = 0; i < 10000; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            int64_t now = (int64_t)(x % 4000000000ull);
            unsigned win = windows[w];
            int64_t exp = rg_url_expiry(now, win);
            assert_int_equal(exp % win, 0);
            assert_true(exp - now > (int64_t)win);
            assert_true(exp - now <= 2 * (int64_t)win);
            int64_t start = now - now % win;
            assert_int_equal(rg_url_expiry(start, win), exp);
            assert_int_equal(rg_url_expiry(start + win - 1, win), exp);
        }
}

static void every_change_is_refused(void **state)
{
    (void)state;
    uint8_t key[RG_URL_KEY_BYTES], other[RG_URL_KEY_BYTES];
    char url[RG_SIGNED_URL_MAX], sig[65];
    key_of_bytes(key);
    memcpy(other, key, sizeof other);
    other[31] ^= 1;
    rg_url_sign(key, SHA, 1800000000, url);
    snprintf(sig, sizeof sig, "%s", strstr(url, "sig=") + 4);
    assert_true(rg_url_valid(key, SHA, "1800000000", sig, 1799999999));
    assert_false(rg_url_valid(key, SHA, "1800000000", sig, 1800000000));
    assert_false(rg_url_valid(other, SHA, "1800000000", sig, 0));
    assert_false(rg_url_valid(key, SHA, "1800000001", sig, 0));
    char other_sha[65];
    memcpy(other_sha, SHA, sizeof other_sha);
    other_sha[0] = 'c';
    assert_false(rg_url_valid(key, other_sha, "1800000000", sig, 0));
    for (size_t i = 0; i < 64; i++) { /* any one digit changed */
        char bad[65];
        memcpy(bad, sig, sizeof bad);
        bad[i] = bad[i] == '0' ? '1' : '0';
        assert_false(rg_url_valid(key, SHA, "1800000000", bad, 0));
    }
    static const char *const exps[] = {
        "", "+1800000000", "-1", "18e8", "1800000000 ", "99999999999999999999"};
    for (size_t i = 0; i < sizeof exps / sizeof *exps; i++)
        assert_false(rg_url_valid(key, SHA, exps[i], sig, 0));
    assert_false(rg_url_valid(key, SHA, NULL, sig, 0));
    assert_false(rg_url_valid(key, SHA, "1800000000", NULL, 0));
    assert_false(rg_url_valid(key, SHA, "1800000000", "ab", 0));
    char upper[65];
    memcpy(upper, sig, sizeof upper);
    upper[63] = 'g';
    assert_false(rg_url_valid(key, SHA, "1800000000", upper, 0));
}

static void key_file_is_made_once_and_checked(void **state)
{
    (void)state;
    char dir[] = "/tmp/rg-url-key-XXXXXX", path[64];
    uint8_t a[RG_URL_KEY_BYTES], b[RG_URL_KEY_BYTES];
    struct stat st;
    rg_err err;
    rg_err_clear(&err);
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/url.key", dir);
    assert_int_equal(rg_url_key_load(dir, a, &err), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_size, RG_URL_KEY_BYTES);
    assert_int_equal(rg_url_key_load(dir, b, &err), 0);
    assert_memory_equal(a, b, sizeof a);
    FILE *f = fopen(path, "ab");
    assert_non_null(f);
    fputc('x', f);
    fclose(f);
    assert_int_equal(rg_url_key_load(dir, b, &err), RG_EIO);
    assert_non_null(strstr(err.msg, "url.key"));
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    rg_crypto_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(signature_is_hmac_sha256_of_digest_and_expiry),
        cmocka_unit_test(expiry_for_any_window),
        cmocka_unit_test(every_change_is_refused),
        cmocka_unit_test(key_file_is_made_once_and_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
