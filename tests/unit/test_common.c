/* Unit tests for src/common: murmur3 vectors, capped buffers, JSON
 * extraction, errors, SHA-256 and tokens.
 * ctest-labels: foundation */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/json.h"
#include "common/murmur3.h"
#include "common/name.h"

#include <string.h>

/* One channel name rule for server and agent: a safe path component. */
static void channel_names(void **state)
{
    (void)state;
    char max[RG_CHANNEL_NAME_MAX + 2];
    memset(max, 'a', sizeof max);
    max[RG_CHANNEL_NAME_MAX] = '\0';
    const char *good[] = {"detections", "a", "agent-binary", "v1.2_x", "...",
                          ".hidden",    max};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        assert_true(rg_channel_name_valid(good[i]));
    max[RG_CHANNEL_NAME_MAX] = 'a';
    max[RG_CHANNEL_NAME_MAX + 1] = '\0';
    const char *bad[] = {"",      ".",      "..",    "a/b",      "/",
                         "Upper", "sp ace", "tab\t", "\xc3\xa9", max};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_false(rg_channel_name_valid(bad[i]));
}

static void murmur3_published_vectors(void **state)
{
    (void)state;
    const char *a = "Feature.flexibleRollout.10:174";
    assert_int_equal(rg_murmur3_32(a, strlen(a), 0), 0xb6ddee0du);
    assert_int_equal(rg_murmur3_32("ejOoVL", 6, 0), 0x00000000u);
    assert_int_equal(rg_murmur3_32("6LvT0", 5, 0), 0x80000000u);
    /* Reference vectors of the algorithm (empty input, seeds, tails). */
    assert_int_equal(rg_murmur3_32("", 0, 0), 0u);
    assert_int_equal(rg_murmur3_32("", 0, 1), 0x514e28b7u);
    assert_int_equal(rg_murmur3_32("", 0, 0xffffffffu), 0x81f16f39u);
    assert_int_equal(rg_murmur3_32("\0\0\0\0", 4, 0), 0x2362f9deu);
    assert_int_equal(rg_murmur3_32("aaaa", 4, 0x9747b28cu), 0x5a97808au);
    assert_int_equal(rg_murmur3_32("abc", 3, 0), 0xb3dd93fau);
    assert_int_equal(rg_murmur3_32("Hello, world!", 13, 0x9747b28cu),
                     0x24884cbau);
    /* UTF-8 bytes: "ππππππππ" hashes as its 16 encoded bytes. */
    const char *pi =
        "\xcf\x80\xcf\x80\xcf\x80\xcf\x80\xcf\x80\xcf\x80\xcf\x80\xcf\x80";
    assert_int_equal(rg_murmur3_32(pi, 16, 0x9747b28cu), 0xd58063c1u);
}

static void buf_respects_cap(void **state)
{
    (void)state;
    rg_buf b;
    rg_buf_init(&b, 10);
    assert_int_equal(rg_buf_adds(&b, "hello"), 0);
    assert_int_equal(rg_buf_printf(&b, "%d", 1234), 0);
    assert_string_equal(b.data, "hello1234");
    assert_int_equal(rg_buf_adds(&b, "xy"), RG_ETOOBIG);
    assert_string_equal(b.data, "hello1234"); /* unchanged on failure */
    assert_int_equal(rg_buf_adds(&b, "z"), 0);
    assert_int_equal(b.len, 10);
    char *s = rg_buf_detach(&b);
    assert_string_equal(s, "hello1234z");
    free(s);
    assert_null(b.data);
    rg_buf_release(&b);
}

static void json_type_checks_name_the_field(void **state)
{
    (void)state;
    rg_err err;
    rg_err_clear(&err);
    const char *body =
        "{\"name\": 7, \"version\": \"x\", \"ok\": true, \"n\": 5}";
    json_t *o = rg_json_parse_object(body, strlen(body), &err);
    assert_non_null(o);
    const char *s = NULL;
    assert_int_equal(rg_json_string(o, "name", true, 64, &s, &err), RG_EINVAL);
    assert_string_equal(err.field, "name");
    assert_non_null(strstr(err.msg, "must be a string"));
    int64_t v = 0;
    assert_int_equal(rg_json_int(o, "version", true, 0, 10, &v, &err),
                     RG_EINVAL);
    assert_string_equal(err.field, "version");
    assert_int_equal(rg_json_int(o, "n", true, 0, 4, &v, &err), RG_EINVAL);
    assert_int_equal(rg_json_int(o, "n", true, 0, 10, &v, &err), 0);
    assert_int_equal(v, 5);
    assert_int_equal(rg_json_int(o, "missing", false, 0, 10, &v, &err), 0);
    assert_int_equal(v, 5);
    assert_int_equal(rg_json_int(o, "missing", true, 0, 10, &v, &err),
                     RG_EINVAL);
    assert_string_equal(err.field, "missing");
    bool b = false;
    assert_int_equal(rg_json_bool(o, "ok", true, &b, &err), 0);
    assert_true(b);
    static const char *const allowed[] = {"name", "version", "ok", NULL};
    assert_int_equal(rg_json_only(o, allowed, &err), RG_EINVAL);
    assert_string_equal(err.field, "n");
    json_decref(o);

    assert_null(rg_json_parse_object("{\"a\":", 5, &err));
    assert_int_equal(err.code, RG_EINVAL);
    assert_null(rg_json_parse_object("[1]", 3, &err));
    assert_null(rg_json_parse_object("{\"a\":1,\"a\":2}", 13, &err));
    char deep[200];
    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    assert_null(rg_json_parse_object(deep, sizeof deep, &err));
    assert_non_null(strstr(err.msg, "nested"));
}

static void errors_map_to_http(void **state)
{
    (void)state;
    assert_int_equal(rg_code_http_status(RG_EINVAL), 400);
    assert_int_equal(rg_code_http_status(RG_EAUTH), 401);
    assert_int_equal(rg_code_http_status(RG_EFORBIDDEN), 403);
    assert_int_equal(rg_code_http_status(RG_ENOTFOUND), 404);
    assert_int_equal(rg_code_http_status(RG_ECONFLICT), 409);
    assert_int_equal(rg_code_http_status(RG_ETOOBIG), 413);
    assert_int_equal(rg_code_http_status(RG_ERANGE), 416);
    assert_string_equal(rg_code_name(RG_ENOTFOUND), "not_found");
    rg_err err;
    assert_int_equal(rg_err_set(&err, RG_ECONFLICT, "release 'r%d': exists", 4),
                     RG_ECONFLICT);
    assert_string_equal(err.msg, "release 'r4': exists");
}

static void sha256_and_tokens(void **state)
{
    (void)state;
    assert_int_equal(rg_crypto_init(), 0);
    char hex[RG_SHA256_HEX];
    rg_sha256_hex("abc", 3, hex);
    assert_string_equal(
        hex,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    rg_sha256 s;
    rg_sha256_init(&s);
    rg_sha256_update(&s, "a", 1);
    rg_sha256_update(&s, "bc", 2);
    char hex2[RG_SHA256_HEX];
    rg_sha256_final(&s, hex2);
    assert_string_equal(hex, hex2);
    assert_true(rg_sha256_hex_valid(hex));
    assert_false(rg_sha256_hex_valid("ABC"));
    char t1[65], t2[65];
    rg_random_hex(t1, 32);
    rg_random_hex(t2, 32);
    assert_int_equal(strlen(t1), 64);
    assert_false(rg_ct_streq(t1, t2));
    assert_true(rg_ct_streq(t1, t1));
    assert_false(rg_ct_streq("abc", "abcd"));
}

/* rg_sha256_bin (nettle) gives the digest rg_sha256_hex (libsodium) gives,
 * across block boundaries. */
static void sha256_bin_matches_hex(void **state)
{
    (void)state;
    unsigned char in[200], bin[RG_SHA256_BYTES];
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (unsigned char)(i * 7 + 1);
    for (size_t n = 0; n <= sizeof in; n++) {
        char hex[RG_SHA256_HEX], got[RG_SHA256_HEX];
        rg_sha256_hex(in, n, hex);
        rg_sha256_bin(in, n, bin);
        for (size_t k = 0; k < RG_SHA256_BYTES; k++)
            snprintf(got + 2 * k, 3, "%02x", bin[k]);
        assert_string_equal(got, hex);
    }
    rg_sha256_bin("abc", 3, bin);
    assert_int_equal(bin[0], 0xba);
    assert_int_equal(bin[31], 0xad);
}

static void manual_clock(void **state)
{
    (void)state;
    int64_t now = 1000;
    rg_clock c = rg_clock_manual(&now);
    assert_int_equal(rg_clock_now(&c), 1000);
    now += 500;
    assert_int_equal(rg_clock_now(&c), 1500);
    assert_true(rg_clock_now(rg_clock_system()) > 1700000000000LL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(channel_names),
        cmocka_unit_test(murmur3_published_vectors),
        cmocka_unit_test(buf_respects_cap),
        cmocka_unit_test(json_type_checks_name_the_field),
        cmocka_unit_test(errors_map_to_http),
        cmocka_unit_test(sha256_and_tokens),
        cmocka_unit_test(sha256_bin_matches_hex),
        cmocka_unit_test(manual_clock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
