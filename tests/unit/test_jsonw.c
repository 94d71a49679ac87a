/* Unit tests for src/common/jsonw.c: strings and integers written exactly
 * as jansson's compact json_dumps writes them, invalid UTF-8 refused as
 * jansson refuses it, the buffer's cap honoured; counted strings in
 * either hex case.
 * ctest-labels: foundation */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/json.h"
#include "common/jsonw.h"

#include <stdlib.h>
#include <string.h>

/* jansson's text for v (stolen), or NULL when v is NULL. */
static char *jansson_text(json_t *v)
{
    if (!v)
        return NULL;
    char *s = rg_json_dump(v);
    json_decref(v);
    return s;
}

static void check_str(const char *s)
{
    rg_buf b;
    rg_buf_init(&b, 1 << 16);
    char *want = jansson_text(json_string(s));
    int rc = rg_jsonw_str(&b, s);
    if (!want) {
        assert_int_equal(rc, RG_EINVAL);
        assert_int_equal(b.len, 0);
    } else {
        assert_int_equal(rc, 0);
        assert_string_equal(b.data, want);
    }
    free(want);
    rg_buf_release(&b);
}

static void strings_match_jansson(void **state)
{
    (void)state;
    check_str("");
    check_str("plain");
    check_str("quote \" backslash \\ slash / del \x7f");
    check_str("\b\f\n\r\t end");
    check_str("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"); /* 2-, 3-, 4-byte */
    check_str("\xef\xbb\xbf\xed\x9f\xbf\xee\x80\x80\xf4\x8f\xbf\xbf");
    char ctl[32];
    for (int c = 1; c < 32; c++)
        ctl[c - 1] = (char)c;
    ctl[31] = '\0';
    check_str(ctl);
}

static void invalid_utf8_is_refused(void **state)
{
    (void)state;
    const char *bad[] = {
        "\x80",             /* continuation alone */
        "a\xc3",            /* truncated */
        "\xc0\xaf",         /* overlong '/' */
        "\xe0\x80\xaf",     /* overlong, 3 bytes */
        "\xed\xa0\x80",     /* surrogate U+D800 */
        "\xf4\x90\x80\x80", /* above U+10FFFF */
        "\xf5\x80\x80\x80",
        "\xff",
        "ok \xe2\x82", /* truncated at the end */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        check_str(bad[i]); /* jansson refuses each: so must we */
        rg_buf b;
        rg_buf_init(&b, 64);
        assert_int_equal(rg_jsonw_str(&b, bad[i]), RG_EINVAL);
        rg_buf_release(&b);
    }
}

static void integers_match_jansson(void **state)
{
    (void)state;
    const int64_t vals[] = {
        0,          1,          -1,        9,         10,
        1234567890, -987654321, INT64_MAX, INT64_MIN, INT64_C(1) << 53};
    for (size_t i = 0; i < sizeof vals / sizeof *vals; i++) {
        rg_buf b;
        rg_buf_init(&b, 64);
        assert_int_equal(rg_jsonw_int(&b, vals[i]), 0);
        char *want = jansson_text(json_integer((json_int_t)vals[i]));
        assert_string_equal(b.data, want);
        free(want);
        rg_buf_release(&b);
    }
}

static void cap_is_honoured(void **state)
{
    (void)state;
    rg_buf b;
    rg_buf_init(&b, 8);
    assert_int_equal(rg_jsonw_str(&b, "abcdef"), 0); /* 8 bytes with quotes */
    assert_string_equal(b.data, "\"abcdef\"");
    assert_int_equal(rg_jsonw_str(&b, ""), RG_ETOOBIG);
    assert_int_equal(rg_jsonw_int(&b, 1), RG_ETOOBIG);
    rg_buf_release(&b);
    rg_buf_init(&b, 4);
    assert_int_equal(rg_buf_reserve(&b, 4), 0);
    assert_true(b.cap >= 5);
    assert_int_equal(b.len, 0);
    assert_int_equal(rg_buf_reserve(&b, 5), RG_ETOOBIG);
    rg_buf_release(&b);
}

/* rg_jsonw_strn: a length (NUL bytes escaped) and the hex case, lower
 * for trust/canon.c's canonical form, upper as jansson. */
static void counted_strings_and_hex_case(void **state)
{
    (void)state;
    static const char in[] = {'a', '\x1f', '\0', '"', 'b'};
    rg_buf b;
    rg_buf_init(&b, 64);
    assert_int_equal(rg_jsonw_strn(&b, in, sizeof in, true), 0);
    assert_string_equal(b.data, "\"a\\u001f\\u0000\\\"b\"");
    rg_buf_reset(&b);
    assert_int_equal(rg_jsonw_strn(&b, in, sizeof in, false), 0);
    assert_string_equal(b.data, "\"a\\u001F\\u0000\\\"b\"");
    rg_buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(strings_match_jansson),
        cmocka_unit_test(invalid_utf8_is_refused),
        cmocka_unit_test(integers_match_jansson),
        cmocka_unit_test(cap_is_honoured),
        cmocka_unit_test(counted_strings_and_hex_case),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
