/* Unit tests for src/engine: the channel-file parser (an error for each
 * malformed construct, caps), each criterion matching and not matching,
 * events, the field-count check, coverage generation and selftest.
 * ctest-labels: preflight */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/buf.h"
#include "common/err.h"
#include "engine/channel.h"
#include "engine/corpus.h"
#include "engine/event.h"
#include "engine/interp.h"
#include "engine/match.h"
#include "engine/selftest.h"
#include "engine/sensor.h"
#include "engine/supply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HDR "rollgate-channel 1\n"
#define TPL                                                                    \
    "template t\n field s string\n field n int\n field a ip\n"                 \
    " field p path\n field h sha256\nend\n"

static rg_channel *parse_ok(const char *text)
{
    rg_err err;
    rg_channel *ch = NULL;
    rg_err_clear(&err);
    int rc = rg_engine_parse(text, strlen(text), &ch, &err);
    if (rc != 0)
        fail_msg("unexpected parse error: %s", err.msg);
    return ch;
}

/* Parses text expecting failure with code and a message containing msg. */
static void parse_fails(const char *text, int code, const char *msg)
{
    rg_err err;
    rg_channel *ch = (rg_channel *)&err; /* must be reset to NULL */
    rg_err_clear(&err);
    int rc = rg_engine_parse(text, strlen(text), &ch, &err);
    if (rc != code || !strstr(err.msg, msg))
        fail_msg("input:\n%s\nwant %d '%s', got %d '%s'", text, code, msg, rc,
                 err.msg);
    assert_null(ch);
}

static void parses_templates_and_instances(void **state)
{
    (void)state;
    rg_channel *ch = parse_ok(
        "# comment\n\n" HDR TPL
        "instance t i1\n s glob a*b?\n  n range -5 5  \n a cidr 10.1.2.3/8\n"
        " p any\n h any\nend\n"
        "instance t i2\n s any\n n any\n a any\n p prefix /tmp/ x\n"
        " h prefix 9f8\nend\n");
    assert_int_equal(ch->ntemplates, 1);
    assert_int_equal(ch->templates[0].nfields, 5);
    assert_string_equal(ch->templates[0].fields[4].name, "h");
    assert_int_equal(ch->templates[0].fields[2].type, RG_FT_IP);
    assert_int_equal(ch->ninstances, 2);
    const rg_instance *i1 = &ch->instances[0], *i2 = &ch->instances[1];
    assert_int_equal(i1->line, 11);
    assert_int_equal(i1->crits[0].kind, RG_CRIT_GLOB);
    assert_string_equal(i1->crits[0].text, "a*b?");
    assert_int_equal(i1->crits[1].lo, -5);
    assert_int_equal(i1->crits[1].hi, 5);
    assert_int_equal(i1->crits[2].bits, 8);
    assert_int_equal(i1->crits[2].addr.b[1], 0); /* host bits cleared */
    assert_int_equal(i1->last_use, 3);
    /* A value is the rest of the line, inner spaces kept. */
    assert_string_equal(i2->crits[3].text, "/tmp/ x");
    assert_int_equal(i2->last_use, 5);
    assert_int_equal(rg_channel_find(ch, "t"), 0);
    assert_int_equal(rg_channel_find(ch, "u"), -1);
    rg_channel_free(ch);
}

static void parser_rejects_each_malformed_construct(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int code;
        const char *msg;
    } cases[] = {
        {"", RG_EINVAL, "empty channel file"},
        {"# only a comment\n", RG_EINVAL, "empty channel file"},
        {"template t\n", RG_EINVAL, "line 1: expected 'rollgate-channel 1'"},
        {"rollgate-channel 2\n", RG_EINVAL,
         "line 1: unsupported channel "
         "format version '2'"},
        {"rollgate-channel 1 x\n", RG_EINVAL, "unexpected 'x'"},
        {HDR "rule t\n", RG_EINVAL,
         "line 2: expected 'template' or "
         "'instance', got 'rule'"},
        {HDR "end\n", RG_EINVAL, "line 2: expected 'template' or 'instance'"},
        {HDR "template\n", RG_EINVAL, "line 2: missing template name"},
        {HDR "template a/b\n", RG_EINVAL, "line 2: bad template name 'a/b'"},
        {HDR "template "
             "x123456789x123456789x123456789x123456789x123456789x123456789x1234"
             "\n",
         RG_EINVAL, "bad template name"},
        {HDR "template t extra\n", RG_EINVAL, "unexpected 'extra'"},
        {HDR "template t\n field a int\nend\ntemplate t\n", RG_ECONFLICT,
         "line 5: template 't' declared twice"},
        {HDR "template t\n field a\n", RG_EINVAL,
         "line 3: field 'a': missing "
         "type"},
        {HDR "template t\n field a float\n", RG_EINVAL,
         "unknown type "
         "'float'"},
        {HDR "template t\n field a int x\n", RG_EINVAL, "unexpected 'x'"},
        {HDR "template t\n field a int\n field a ip\n", RG_ECONFLICT,
         "line 4: template 't': field 'a' declared twice"},
        {HDR "template t\n fields a int\n", RG_EINVAL,
         "expected 'field' or "
         "'end'"},
        {HDR "template t\nend\n", RG_EINVAL,
         "line 3: template 't' has no "
         "fields"},
        {HDR "template t\n field a int\n", RG_EINVAL,
         "line 3: template 't' "
         "(line 2) is missing "
         "'end'"},
        {HDR "template t\n field a int\nend x\n", RG_EINVAL, "after 'end'"},
        {HDR "instance t i\n", RG_EINVAL,
         "line 2: instance 'i': unknown "
         "template 't'"},
        {HDR "template t\n field a int\nend\ninstance t\n", RG_EINVAL,
         "missing instance name"},
        {HDR "template t\n field a int\nend\ninstance t i\n a any\nend\n"
             "instance t i\n",
         RG_ECONFLICT,
         "line 8: instance 'i' declared twice (first on line "
         "5)"},
        {HDR "template t\n field a int\n field b int\nend\ninstance t i\n"
             " b any\n",
         RG_EINVAL,
         "line 7: instance 'i': expected a criterion for field 1 "
         "'a', got 'b'"},
        {HDR "template t\n field a int\nend\ninstance t i\n a any\n a any\n",
         RG_EINVAL,
         "line 7: instance 'i': criterion for 'a' but template "
         "'t' has only 1 fields"},
        {HDR "template t\n field a int\n field b int\nend\ninstance t i\n"
             " a any\nend\n",
         RG_EINVAL,
         "line 8: instance 'i' ends after 1 of 2 criteria "
         "(missing field 'b')"},
        {HDR "template t\n field a int\nend\ninstance t i\n a any\n", RG_EINVAL,
         "instance 'i' (line 5) is missing 'end'"},
        {HDR "template t\n field a int\nend\ninstance t i\n a\n", RG_EINVAL,
         "line 6: instance 'i': field 'a': missing criterion"},
        /* Criterion kinds and values. */
        {HDR TPL "instance t i\n s like x\n", RG_EINVAL,
         "line 10: instance 'i': field 's': unknown criterion 'like'"},
        {HDR TPL "instance t i\n s any x\n", RG_EINVAL,
         "'any' takes no "
         "value"},
        {HDR TPL "instance t i\n s eq\n", RG_EINVAL, "'eq' needs a value"},
        {HDR TPL "instance t i\n s eq a\tb\n", RG_EINVAL,
         "control "
         "character"},
        {HDR TPL "instance t i\n s range 1 2\n", RG_EINVAL,
         "criterion 'range' does not apply to type string"},
        {HDR TPL "instance t i\n s cidr 10.0.0.0/8\n", RG_EINVAL,
         "criterion 'cidr' does not apply to type string"},
        {HDR TPL "instance t i\n s any\n n glob 1*\n", RG_EINVAL,
         "criterion 'glob' does not apply to type int"},
        {HDR TPL "instance t i\n s any\n n prefix 1\n", RG_EINVAL,
         "criterion 'prefix' does not apply to type int"},
        {HDR TPL "instance t i\n s any\n n eq 12a\n", RG_EINVAL,
         "field 'n': 'eq 12a': not an int"},
        {HDR TPL "instance t i\n s any\n n eq 99999999999999999999\n",
         RG_EINVAL, "not an int"},
        {HDR TPL "instance t i\n s any\n n range 5 1\n", RG_EINVAL,
         "'range 5 1': LO is above HI"},
        {HDR TPL "instance t i\n s any\n n range 5\n", RG_EINVAL,
         "expected two ints LO HI"},
        {HDR TPL "instance t i\n s any\n n range 1 2 3\n", RG_EINVAL,
         "expected two ints LO HI"},
        {HDR TPL "instance t i\n s any\n n any\n a glob 10.*\n", RG_EINVAL,
         "criterion 'glob' does not apply to type ip"},
        {HDR TPL "instance t i\n s any\n n any\n a eq 10.0.0.256\n", RG_EINVAL,
         "not an ip address"},
        {HDR TPL "instance t i\n s any\n n any\n a cidr 10.0.0.0\n", RG_EINVAL,
         "expected ADDR/BITS"},
        {HDR TPL "instance t i\n s any\n n any\n a cidr 10.0.0.0/33\n",
         RG_EINVAL, "prefix length out of range 0-32"},
        {HDR TPL "instance t i\n s any\n n any\n a cidr 2001:db8::/129\n",
         RG_EINVAL, "prefix length out of range 0-128"},
        {HDR TPL "instance t i\n s any\n n any\n a cidr x/8\n", RG_EINVAL,
         "bad address"},
        {HDR TPL "instance t i\n s any\n n any\n a any\n p range 1 2\n",
         RG_EINVAL, "criterion 'range' does not apply to type path"},
        {HDR TPL "instance t i\n s any\n n any\n a any\n p any\n h eq abc\n",
         RG_EINVAL, "not 64 lower-case hex digits"},
        {HDR TPL "instance t i\n s any\n n any\n a any\n p any\n h prefix "
                 "ABC\n",
         RG_EINVAL, "not 1-64 lower-case hex digits"},
        {HDR TPL "instance t i\n s any\n n any\n a any\n p any\n h glob a*\n",
         RG_EINVAL, "criterion 'glob' does not apply to type sha256"},
        /* Bytes. */
        {HDR "template t\n field a int\x01\n", RG_EINVAL, "unknown type"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        parse_fails(cases[i].text, cases[i].code, cases[i].msg);
    /* A NUL byte inside the text (the length says where the text ends). */
    const char nul[] = HDR "templ\0ate t\n";
    rg_err err;
    rg_channel *ch = NULL;
    assert_int_equal(rg_engine_parse(nul, sizeof nul - 1, &ch, &err),
                     RG_EINVAL);
    assert_string_equal(err.msg, "line 2: NUL byte");
    assert_null(ch);
}

static void parser_enforces_caps(void **state)
{
    (void)state;
    rg_buf b;
    rg_err err;
    rg_channel *ch = NULL;
    rg_buf_init(&b, 4 * RG_ENGINE_FILE_MAX);

    /* A line of RG_ENGINE_LINE_MAX bytes is fine; one more is not. */
    rg_buf_adds(&b, HDR "#");
    for (int i = 1; i < RG_ENGINE_LINE_MAX; i++)
        rg_buf_adds(&b, "x");
    assert_int_equal(rg_engine_parse(b.data, b.len, &ch, &err), 0);
    rg_channel_free(ch);
    rg_buf_adds(&b, "x\n");
    assert_int_equal(rg_engine_parse(b.data, b.len, &ch, &err), RG_ETOOBIG);
    assert_string_equal(err.msg, "line 2: longer than 1024 bytes");

    rg_buf_reset(&b);
    rg_buf_adds(&b, HDR);
    for (int i = 0; i <= RG_ENGINE_TEMPLATES_MAX; i++)
        rg_buf_printf(&b, "template t%d\n field a int\nend\n", i);
    assert_int_equal(rg_engine_parse(b.data, b.len, &ch, &err), RG_ETOOBIG);
    assert_non_null(strstr(err.msg, "more than 64 templates"));

    rg_buf_reset(&b);
    rg_buf_adds(&b, HDR "template t\n");
    for (int i = 0; i <= RG_ENGINE_FIELDS_MAX; i++)
        rg_buf_printf(&b, " field f%d int\n", i);
    assert_int_equal(rg_engine_parse(b.data, b.len, &ch, &err), RG_ETOOBIG);
    assert_non_null(strstr(err.msg, "template 't': more than 64 fields"));

    rg_buf_reset(&b);
    rg_buf_adds(&b, HDR "template t\n field a int\nend\n");
    for (int i = 0; i <= RG_ENGINE_INSTANCES_MAX; i++)
        rg_buf_printf(&b, "instance t i%d\n a any\nend\n", i);
    assert_int_equal(rg_engine_parse(b.data, b.len, &ch, &err), RG_ETOOBIG);
    assert_non_null(strstr(err.msg, "more than 4096 instances"));

    rg_buf_reset(&b);
    rg_buf_adds(&b, HDR);
    while (b.len <= RG_ENGINE_FILE_MAX)
        rg_buf_adds(&b, "# padding padding padding padding padding\n");
    assert_int_equal(rg_engine_parse(b.data, b.len, &ch, &err), RG_ETOOBIG);
    assert_null(ch);
    rg_buf_release(&b);
}

/* Parses one criterion for type t and reports whether it matches v. */
static bool crit(const char *kind, const char *arg, rg_ftype t, const char *v)
{
    rg_crit c;
    rg_err err;
    if (rg_crit_parse(kind, arg, t, &c, &err) != 0)
        fail_msg("%s %s: %s", kind, arg, err.msg);
    bool m = rg_crit_match(&c, t, v);
    rg_crit_release(&c);
    return m;
}

static void literal_and_prefix_criteria(void **state)
{
    (void)state;
    assert_true(crit("any", "", RG_FT_INT, "not-an-int"));
    assert_true(crit("eq", "a b", RG_FT_STRING, "a b"));
    assert_false(crit("eq", "a b", RG_FT_STRING, "a b "));
    assert_false(crit("eq", "a", RG_FT_STRING, "A"));
    assert_true(crit("eq", "42", RG_FT_INT, "42"));
    assert_true(crit("eq", "42", RG_FT_INT, "+042")); /* numeric */
    assert_false(crit("eq", "42", RG_FT_INT, "43"));
    assert_false(crit("eq", "42", RG_FT_INT, "42x"));
    assert_false(crit("eq", "42", RG_FT_INT, " 42"));
    assert_true(crit("eq", "2001:db8::1", RG_FT_IP, "2001:DB8:0::1"));
    assert_false(crit("eq", "10.0.0.1", RG_FT_IP, "10.0.0.2"));
    const char *h =
        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    assert_true(crit("eq", h, RG_FT_SHA256, h));
    assert_false(crit("eq", h, RG_FT_SHA256, "9f86"));
    assert_true(crit("prefix", "/tmp/", RG_FT_PATH, "/tmp/x"));
    assert_true(crit("prefix", "/tmp/", RG_FT_PATH, "/tmp/"));
    assert_false(crit("prefix", "/tmp/", RG_FT_PATH, "/tmp"));
    assert_false(crit("prefix", "/tmp/", RG_FT_PATH, "/var/tmp/x"));
    assert_true(crit("prefix", "9f8", RG_FT_SHA256, h));
    assert_false(crit("prefix", "9f9", RG_FT_SHA256, h));
}

static void glob_criteria(void **state)
{
    (void)state;
    assert_true(rg_glob_match("*", ""));
    assert_true(rg_glob_match("*", "anything"));
    assert_true(rg_glob_match("a*", "a"));
    assert_true(rg_glob_match("*.exe", "C:\\x\\evil.exe"));
    assert_false(rg_glob_match("*.exe", "evil.exe.txt"));
    assert_true(rg_glob_match("a?c", "abc"));
    assert_false(rg_glob_match("a?c", "ac"));
    assert_false(rg_glob_match("a?c", "abbc"));
    assert_true(rg_glob_match("a*b*c", "axxbyybzc")); /* backtracking */
    assert_false(rg_glob_match("a*b*c", "axxbyyb"));
    assert_true(rg_glob_match("??*", "ab"));
    assert_false(rg_glob_match("??*", "a"));
    assert_true(rg_glob_match("", ""));
    assert_false(rg_glob_match("", "a"));
    assert_false(rg_glob_match("abc", "ab"));
    assert_true(rg_glob_match("\\\\.\\pipe\\mojo.*", "\\\\.\\pipe\\mojo.1"));
    /* Worst case stays linear-ish: many stars over a long mismatch. */
    char s[4001];
    memset(s, 'a', 4000);
    s[4000] = '\0';
    assert_false(rg_glob_match("*a*a*a*a*a*a*a*a*b", s));
    assert_true(crit("glob", "/tmp/*/kworker", RG_FT_PATH, "/tmp/.x/kworker"));
    assert_false(crit("glob", "/tmp/*/kworker", RG_FT_PATH, "/tmp/kworker"));
}

static void range_criteria(void **state)
{
    (void)state;
    assert_true(crit("range", "-5 5", RG_FT_INT, "-5"));
    assert_true(crit("range", "-5 5", RG_FT_INT, "5"));
    assert_true(crit("range", "-5 5", RG_FT_INT, "0"));
    assert_false(crit("range", "-5 5", RG_FT_INT, "-6"));
    assert_false(crit("range", "-5 5", RG_FT_INT, "6"));
    assert_false(crit("range", "-5 5", RG_FT_INT, "five"));
    assert_false(crit("range", "-5 5", RG_FT_INT, ""));
    assert_true(crit("range", "7 7", RG_FT_INT, "7"));
    assert_true(crit("range", "-9223372036854775808 9223372036854775807",
                     RG_FT_INT, "9223372036854775807"));
    assert_false(crit("range", "0 9223372036854775807", RG_FT_INT,
                      "9223372036854775808")); /* out of int64 */
}

static void cidr_criteria(void **state)
{
    (void)state;
    assert_true(crit("cidr", "10.0.0.0/8", RG_FT_IP, "10.255.1.2"));
    assert_true(crit("cidr", "10.0.0.0/8", RG_FT_IP, "10.0.0.0"));
    assert_false(crit("cidr", "10.0.0.0/8", RG_FT_IP, "11.0.0.0"));
    assert_false(crit("cidr", "10.0.0.0/8", RG_FT_IP, "9.255.255.255"));
    assert_true(crit("cidr", "192.168.1.128/25", RG_FT_IP, "192.168.1.255"));
    assert_false(crit("cidr", "192.168.1.128/25", RG_FT_IP, "192.168.1.127"));
    assert_true(crit("cidr", "10.1.2.3/32", RG_FT_IP, "10.1.2.3"));
    assert_false(crit("cidr", "10.1.2.3/32", RG_FT_IP, "10.1.2.4"));
    assert_true(crit("cidr", "0.0.0.0/0", RG_FT_IP, "203.0.113.9"));
    assert_false(crit("cidr", "0.0.0.0/0", RG_FT_IP, "::1")); /* family */
    assert_false(crit("cidr", "10.0.0.0/8", RG_FT_IP, "10.0.0"));
    assert_false(crit("cidr", "10.0.0.0/8", RG_FT_IP, "host"));
    assert_true(crit("cidr", "2001:db8::/32", RG_FT_IP, "2001:db8:ffff::1"));
    assert_false(crit("cidr", "2001:db8::/32", RG_FT_IP, "2001:db9::1"));
    assert_false(crit("cidr", "2001:db8::/32", RG_FT_IP, "10.0.0.1"));
}

static void events_split_on_tabs(void **state)
{
    (void)state;
    rg_event ev;
    rg_err err;
    const char *l = "t\ta\t\tc";
    assert_int_equal(rg_event_parse(l, strlen(l), &ev, &err), 0);
    assert_string_equal(ev.type, "t");
    assert_int_equal(ev.nfields, 3);
    assert_string_equal(ev.fields[1], "");
    assert_string_equal(ev.fields[2], "c");
    rg_event_release(&ev);
    assert_int_equal(rg_event_parse("t", 1, &ev, &err), 0);
    assert_int_equal(ev.nfields, 0);
    rg_event_release(&ev);
    assert_int_equal(rg_event_parse("\ta", 2, &ev, &err), RG_EINVAL);
    assert_null(ev.buf);
    char many[2 * RG_ENGINE_EVENT_FIELDS_MAX + 8] = "t";
    for (int i = 0; i <= RG_ENGINE_EVENT_FIELDS_MAX; i++)
        memcpy(many + 1 + 2 * i, "\tx", 3);
    assert_int_equal(rg_event_parse(many, strlen(many), &ev, &err), RG_ETOOBIG);
    assert_true(rg_event_skip(""));
    assert_true(rg_event_skip(" \t"));
    assert_true(rg_event_skip("# t\ta"));
    assert_false(rg_event_skip("t"));

    /* Line reader: CRLF, a NUL byte, and a line over the cap. */
    const char in[] = "a\tb\r\n\nlast";
    FILE *f = fmemopen((void *)in, sizeof in - 1, "r");
    rg_buf b;
    rg_buf_init(&b, 16);
    assert_int_equal(rg_event_read_line(f, &b, &err), 1);
    assert_string_equal(b.data, "a\tb");
    assert_int_equal(rg_event_read_line(f, &b, &err), 1);
    assert_string_equal(b.data, "");
    assert_int_equal(rg_event_read_line(f, &b, &err), 1);
    assert_string_equal(b.data, "last");
    assert_int_equal(rg_event_read_line(f, &b, &err), 0);
    fclose(f);
    const char nul[] = "a\0b\n";
    f = fmemopen((void *)nul, sizeof nul - 1, "r");
    assert_int_equal(rg_event_read_line(f, &b, &err), RG_EINVAL);
    fclose(f);
    const char lng[] = "0123456789abcdefX\n";
    f = fmemopen((void *)lng, sizeof lng - 1, "r");
    assert_int_equal(rg_event_read_line(f, &b, &err), RG_ETOOBIG);
    fclose(f);
    rg_buf_release(&b);
}

#define CH3                                                                    \
    HDR "template t\n field a string\n field b int\n field c ip\nend\n"        \
        "instance t wild_c\n a eq x\n b any\n c any\nend\n"                    \
        "instance t on_c\n a eq x\n b any\n c cidr 10.0.0.0/8\nend\n"

/* Runs events through ch with rg_interp_run; output into out (cap n). */
static int run_text(const rg_channel *ch, const char *events, char *out,
                    size_t n, rg_err *err)
{
    FILE *in = fmemopen((void *)events, strlen(events), "r");
    FILE *o = fmemopen(out, n, "w");
    int rc = rg_interp_run(ch, in, o, NULL, err);
    fclose(o);
    fclose(in);
    return rc;
}

static void interpreter_prints_matches(void **state)
{
    (void)state;
    rg_channel *ch = parse_ok(CH3);
    char out[256];
    rg_err err;
    rg_interp_stats st = {0};
    assert_int_equal(
        run_text(ch,
                 "# c\nt\tx\t1\t10.1.1.1\nu\tx\n\nt\ty\t1\t10.0.0.1"
                 "\nt\tx\t2\t8.8.8.8\textra\n",
                 out, sizeof out, &err),
        0);
    assert_string_equal(out, "2\tt\twild_c\n2\tt\ton_c\n6\tt\twild_c\n");
    FILE *in = fmemopen((void *)"t\tx\t1\t10.1.1.1\nv\n", 17, "r");
    assert_int_equal(rg_interp_run(ch, in, NULL, &st, &err), 0);
    fclose(in);
    assert_int_equal(st.events, 2);
    assert_int_equal(st.matches, 2);
    assert_int_equal(st.unknown, 1);
    /* A malformed event line is an error naming the line. */
    assert_int_equal(
        run_text(ch, "t\tx\t1\t1.1.1.1\n\tx\n", out, sizeof out, &err),
        RG_EINVAL);
    assert_string_equal(err.msg, "event line 2: event has no template type");
    rg_channel_free(ch);
}

static void field_count_check_reports_missing_field(void **state)
{
    (void)state;
    if (rg_engine_unsafe())
        skip(); /* the check is compiled out: this would read past the end */
    rg_channel *ch = parse_ok(CH3);
    char out[256];
    rg_err err;
    rg_event ev;
    /* Two fields: wild_c never reads c and matches; on_c needs field 3. */
    assert_int_equal(
        run_text(ch, "t\tx\t1\t10.0.0.1\nt\tx\t1\n", out, sizeof out, &err),
        RG_EINVAL);
    assert_string_equal(err.msg, "event line 2: instance 'on_c' matches on "
                                 "field 3 ('c') but the event carries 2 "
                                 "fields");
    assert_string_equal(out, "1\tt\twild_c\n1\tt\ton_c\n2\tt\twild_c\n");
    /* Short events that fail an earlier criterion never reach field 3. */
    assert_int_equal(rg_event_parse("t\ty", 3, &ev, &err), 0);
    assert_int_equal(rg_interp_event(ch, &ev, 9, NULL, NULL, NULL, &err), 0);
    rg_event_release(&ev);
    assert_int_equal(rg_event_parse("t", 1, &ev, &err), 0);
    assert_int_equal(rg_interp_event(ch, &ev, 9, NULL, NULL, NULL, &err),
                     RG_EINVAL);
    assert_string_equal(err.msg, "event line 9: instance 'wild_c' matches on "
                                 "field 1 ('a') but the event carries 0 "
                                 "fields");
    rg_event_release(&ev);
    rg_channel_free(ch);
}

/* Count of probes of c for instance k expecting e. */
static size_t count(const rg_corpus *c, size_t k, rg_expect e)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n; i++)
        n += c->items[i].instance == k && c->items[i].expect == e &&
             c->items[i].line[0] != '#';
    return n;
}

static void coverage_drives_every_criterion(void **state)
{
    (void)state;
    rg_channel *ch = parse_ok(
        HDR TPL "instance t all\n s glob a*b?\n n range -5 5\n"
                " a cidr 10.0.0.0/8\n p prefix /tmp/\n h prefix 9f\nend\n"
                "instance t eqs\n s eq x y\n n eq 7\n a eq 2001:db8::1\n"
                " p any\n h any\nend\n"
                "instance t wild\n s any\n n any\n a any\n p any\n h any\nend\n"
                "instance t star\n s glob *\n n any\n a cidr 0.0.0.0/0\n"
                " p any\n h any\nend\n");
    rg_corpus c;
    rg_err err;
    assert_int_equal(rg_corpus_build(ch, NULL, &c, &err), 0);
    /* all: base + range hi + lo-1 + hi+1 + cidr last + outside + one miss
     * each for glob, prefix, prefix. */
    assert_int_equal(count(&c, 0, RG_EXPECT_MATCH), 3);
    assert_int_equal(count(&c, 0, RG_EXPECT_NOMATCH), 6);
    assert_int_equal(count(&c, 1, RG_EXPECT_MATCH), 1);
    assert_int_equal(count(&c, 1, RG_EXPECT_NOMATCH), 3);
    assert_int_equal(count(&c, 2, RG_EXPECT_MATCH), 1);
    assert_int_equal(count(&c, 2, RG_EXPECT_NOMATCH), 0);
    /* glob '*' rejects nothing; /0 rejects only the other family. */
    assert_int_equal(count(&c, 3, RG_EXPECT_NOMATCH), 1);
    bool lo_minus = false, hi_plus = false;
    for (size_t i = 0; i < c.n; i++) {
        lo_minus |= strstr(c.items[i].line, "\t-6\t") != NULL;
        hi_plus |= strstr(c.items[i].line, "\t6\t") != NULL;
    }
    assert_true(lo_minus && hi_plus);
    /* Without a supply nothing is cut; every event has all 5 fields. */
    for (size_t i = 0; i < c.n; i++) {
        if (c.items[i].line[0] == '#')
            continue;
        size_t tabs = 0;
        for (const char *p = c.items[i].line; *p; p++)
            tabs += *p == '\t';
        assert_int_equal(tabs, 5);
    }
    /* Every generated event does what it was built for. */
    rg_interp_stats st = {0};
    assert_int_equal(rg_selftest_run(ch, NULL, NULL, &st, &err), 0);
    assert_true(st.matches > 0);
    rg_corpus_release(&c);

    /* A sensor that sends t with 3 fields: events cut to 3 appear. */
    rg_supply sup;
    rg_supply_init(&sup);
    assert_int_equal(rg_supply_observe(&sup, "t\ta\t1\t1.1.1.1", &err), 0);
    assert_int_equal(rg_supply_observe(&sup, "t\tb\t2\t1.1.1.2", &err), 0);
    assert_int_equal(rg_supply_observe(&sup, "# t\ta", &err), 0);
    assert_int_equal(sup.n, 1);
    assert_int_equal(rg_corpus_build(ch, &sup, &c, &err), 0);
    size_t cut = 0;
    for (size_t i = 0; i < c.n; i++) {
        size_t tabs = 0;
        for (const char *p = c.items[i].line; *p; p++)
            tabs += *p == '\t';
        if (c.items[i].line[0] != '#' && tabs == 3) {
            cut++;
            assert_int_equal(c.items[i].expect, RG_EXPECT_NONE);
        }
    }
    assert_true(cut >= 4); /* at least one per instance */
    rg_corpus_release(&c);
    if (!rg_engine_unsafe()) {
        /* Instance 'all' matches on field 4, which a 3-field event lacks. */
        assert_int_equal(rg_selftest_run(ch, &sup, NULL, NULL, &err),
                         RG_EINVAL);
        assert_non_null(strstr(err.msg, "coverage event line "));
        assert_non_null(strstr(err.msg, "matches on field 4 ('p') but the "
                                        "event carries 3 fields"));
    }
    rg_supply_release(&sup);
    rg_channel_free(ch);
}

static void sensor_supplies_20_proc_exec_fields(void **state)
{
    (void)state;
    rg_supply sup;
    rg_err err;
    rg_supply_init(&sup);
    assert_int_equal(rg_supply_observe_sensor(&sup, &err), 0);
    bool proc = false, net = false;
    for (size_t i = 0; i < sup.n; i++) {
        if (strcmp(sup.items[i].type, "proc_exec") == 0) {
            assert_int_equal(sup.items[i].nfields, 20);
            proc = true;
        }
        if (strcmp(sup.items[i].type, "net_conn") == 0) {
            assert_int_equal(sup.items[i].nfields, 6);
            net = true;
        }
    }
    assert_true(proc && net);
    rg_supply_release(&sup);
}

/* Loads tests/data/engine/<name> through RG_TEST_DATA. */
static rg_channel *load_data(const char *name)
{
    char path[512];
    const char *dir = getenv("RG_TEST_DATA");
    rg_channel *ch = NULL;
    rg_err err;
    snprintf(path, sizeof path, "%s/engine/%s", dir ? dir : "tests/data", name);
    if (rg_engine_load(path, &ch, &err) != 0)
        fail_msg("%s: %s", path, err.msg);
    return ch;
}

static void sample_content_selftest(void **state)
{
    (void)state;
    rg_supply sup;
    rg_err err;
    rg_channel *good = load_data("good.chan");
    rg_channel *bad = load_data("incident-291.chan");
    rg_supply_init(&sup);
    assert_int_equal(rg_supply_observe_sensor(&sup, &err), 0);
    /* The validator accepts the incident: 21 fields, the last one used by
     * the newest instance only. */
    assert_int_equal(bad->templates[0].nfields, 21);
    assert_int_equal(bad->instances[bad->ninstances - 1].last_use, 21);
    for (size_t i = 0; i + 1 < bad->ninstances; i++)
        assert_true(bad->instances[i].last_use < 21);
    assert_int_equal(rg_selftest_run(good, &sup, NULL, NULL, &err), 0);
    if (!rg_engine_unsafe()) {
        assert_int_equal(rg_selftest_run(bad, &sup, NULL, NULL, &err),
                         RG_EINVAL);
        assert_non_null(strstr(err.msg, "instance 'named_pipe_c2' matches on "
                                        "field 21"));
    }
    rg_supply_release(&sup);
    rg_channel_free(good);
    rg_channel_free(bad);
    assert_int_equal(rg_engine_load("/nonexistent/x.chan", &bad, &err), RG_EIO);
    assert_null(bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_templates_and_instances),
        cmocka_unit_test(parser_rejects_each_malformed_construct),
        cmocka_unit_test(parser_enforces_caps),
        cmocka_unit_test(literal_and_prefix_criteria),
        cmocka_unit_test(glob_criteria),
        cmocka_unit_test(range_criteria),
        cmocka_unit_test(cidr_criteria),
        cmocka_unit_test(events_split_on_tabs),
        cmocka_unit_test(interpreter_prints_matches),
        cmocka_unit_test(field_count_check_reports_missing_field),
        cmocka_unit_test(coverage_drives_every_criterion),
        cmocka_unit_test(sensor_supplies_20_proc_exec_fields),
        cmocka_unit_test(sample_content_selftest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
