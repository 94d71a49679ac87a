/* Unit tests for src/flags beyond the Unleash specification (which
 * tests/flags/spec_runner runs): the strict parser's errors name the
 * offending field; regex refusals; JavaScript number and date reading;
 * semver precedence; CIDR; bucketing pinned to the Node SDK's values;
 * delta events.
 * ctest-labels: flags */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "flags/bucket.h"
#include "flags/cidr.h"
#include "flags/ctxjson.h"
#include "flags/delta.h"
#include "flags/eval.h"
#include "flags/number.h"
#include "flags/parse.h"
#include "flags/regex.h"
#include "flags/semver.h"

#include <math.h>
#include <string.h>

/* Parses text strictly; returns the rg_code and fills err. */
static int strict(const char *text, rg_err *err)
{
    json_error_t jerr;
    json_t *doc = json_loads(text, 0, &jerr);
    assert_non_null(doc);
    rg_flagset *fs = NULL;
    rg_err_clear(err);
    int rc = rg_flagset_parse(doc, RG_FLAGS_STRICT, &fs, err);
    rg_flagset_free(fs);
    json_decref(doc);
    return rc;
}

#define ONE(strategy)                                                          \
    "{\"features\":[{\"name\":\"f\",\"enabled\":true,"                         \
    "\"strategies\":[" strategy "]}]}"

static void strict_errors_name_the_field(void **state)
{
    (void)state;
    rg_err err;
    assert_int_equal(strict(ONE("{\"name\":\"default\"}"), &err), 0);
    assert_int_equal(strict(ONE("{\"name\":\"default\",\"constraints\":[{"
                                "\"contextName\":\"a\",\"operator\":\"LIKE\","
                                "\"values\":[\"x\"]}]}"),
                            &err),
                     RG_EINVAL);
    assert_string_equal(err.field,
                        "features[0].strategies[0].constraints[0].operator");
    assert_non_null(strstr(err.msg, "unknown operator 'LIKE'"));
    assert_int_equal(strict(ONE("{\"name\":\"default\",\"constraints\":[{"
                                "\"contextName\":\"a\",\"operator\":\"REGEX\","
                                "\"value\":\"^(?=a)b\"}]}"),
                            &err),
                     RG_EINVAL);
    assert_string_equal(err.field,
                        "features[0].strategies[0].constraints[0].value");
    assert_non_null(strstr(err.msg, "look-ahead"));
    assert_int_equal(strict(ONE("{\"name\":\"nope\"}"), &err), RG_EINVAL);
    assert_string_equal(err.field, "features[0].strategies[0].name");
    assert_int_equal(strict(ONE("{\"name\":\"flexibleRollout\","
                                "\"parameters\":{\"rollout\":\"lots\"}}"),
                            &err),
                     RG_EINVAL);
    assert_string_equal(err.field, "features[0].strategies[0].parameters");
    assert_int_equal(strict(ONE("{\"name\":\"default\",\"constraints\":[{"
                                "\"contextName\":\"v\",\"operator\":"
                                "\"SEMVER_GT\",\"value\":\"1.x\"}]}"),
                            &err),
                     RG_EINVAL);
    assert_int_equal(strict("{\"features\":[{\"name\":\"f\"}]}", &err),
                     RG_EINVAL);
    assert_string_equal(err.field, "features[0].enabled");
}

static void strict_refuses_cycles_and_dangling_references(void **state)
{
    (void)state;
    rg_err err;
    const char *cycle = "{\"features\":["
                        "{\"name\":\"a\",\"enabled\":true,\"strategies\":[],"
                        "\"dependencies\":[{\"feature\":\"b\"}]},"
                        "{\"name\":\"b\",\"enabled\":true,\"strategies\":[],"
                        "\"dependencies\":[{\"feature\":\"c\"}]},"
                        "{\"name\":\"c\",\"enabled\":true,\"strategies\":[],"
                        "\"dependencies\":[{\"feature\":\"a\"}]}]}";
    assert_int_equal(strict(cycle, &err), RG_EINVAL);
    assert_non_null(strstr(err.msg, "dependency cycle"));
    assert_non_null(strstr(err.field, "dependencies"));
    assert_int_equal(strict("{\"features\":[{\"name\":\"a\",\"enabled\":true,"
                            "\"strategies\":[],\"dependencies\":"
                            "[{\"feature\":\"zz\"}]}]}",
                            &err),
                     RG_EINVAL);
    assert_non_null(strstr(err.msg, "unknown feature 'zz'"));
    assert_int_equal(
        strict(ONE("{\"name\":\"default\",\"segments\":[7]}"), &err),
        RG_EINVAL);
    assert_non_null(strstr(err.msg, "unknown segment 7"));
    assert_int_equal(strict("{\"features\":[{\"name\":\"a\",\"enabled\":true,"
                            "\"strategies\":[]},{\"name\":\"a\",\"enabled\":"
                            "false,\"strategies\":[]}]}",
                            &err),
                     RG_EINVAL);
    assert_non_null(strstr(err.msg, "appears twice"));
}

static void lenient_keeps_unknowns_false(void **state)
{
    (void)state;
    json_t *doc = json_loads(
        ONE("{\"name\":\"default\",\"constraints\":[{\"contextName\":\"a\","
            "\"operator\":\"LIKE\",\"inverted\":true}]},{\"name\":\"custom\"}"),
        0, NULL);
    rg_flagset *fs = NULL;
    assert_int_equal(rg_flagset_parse(doc, RG_FLAGS_LENIENT, &fs, NULL), 0);
    rg_flag_ctx ctx = {0};
    assert_false(rg_flags_enabled(fs, "f", &ctx));
    assert_false(rg_flags_enabled(fs, "missing", &ctx));
    rg_flagset_free(fs);
    json_decref(doc);
}

static void regex_refusals(void **state)
{
    (void)state;
    const char *refused[] = {"(?=a)",  "(?!a)",         "(?<=a)b", "(?<!a)b",
                             "(a)\\1", "(?<n>a)\\k<n>", "(?>a)",   "a*+",
                             "(?R)",   "(*FAIL)",       "a\\Kb",   "(?(1)a|b)"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        rg_err err = {0};
        assert_null(rg_flag_regex_compile(refused[i], false, &err));
        assert_int_equal(err.code, RG_EINVAL);
    }
    rg_flag_regex *re = rg_flag_regex_compile("[(?=]x\\d$", false, NULL);
    assert_non_null(re);
    assert_true(rg_flag_regex_find(re, "a(x1"));
    assert_false(rg_flag_regex_find(re, "a(x1\n")); /* $ only at the end */
    rg_flag_regex_free(re);
}

typedef struct finder {
    const rg_flag_regex *re[2];
    int found;
} finder;

static void *find_many(void *arg)
{
    finder *f = arg;
    static const char *const subjects[] = {"ab12@example.com", "x@corp.org",
                                           "nobody", "AB@example.com"};
    for (int i = 0; i < 2000; i++)
        f->found += rg_flag_regex_find(f->re[i % 2], subjects[i % 4]);
    return NULL;
}

/* The match data is each thread's own and serves patterns with more
 * groups than the one pair it keeps (a match that does not fit all its
 * groups still counts): threads finding at once agree with one thread
 * (ASan: no thread's match data leaks). */
static void regex_threads(void **state)
{
    (void)state;
    rg_flag_regex *a = rg_flag_regex_compile(
        "^([a-z]+)(\\d*)@(example|corp)\\.(com|org)$", false, NULL);
    rg_flag_regex *b = rg_flag_regex_compile("(c)(o)(r)(p)", false, NULL);
    assert_non_null(a);
    assert_non_null(b);
    finder one = {{a, b}, 0}, many[4];
    find_many(&one);
    assert_int_equal(one.found, 1000); /* a: 500 of 1000, b: 500 */
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        many[i] = (finder){{a, b}, 0};
        assert_int_equal(pthread_create(&t[i], NULL, find_many, &many[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(many[i].found, one.found);
    }
    rg_flag_regex_free(a);
    rg_flag_regex_free(b);
}

static void js_numbers_and_dates(void **state)
{
    (void)state;
    assert_true(rg_flag_js_number(" 12.0 ") == 12);
    assert_true(rg_flag_js_number("") == 0);
    assert_true(rg_flag_js_number("0x1f") == 31);
    assert_true(rg_flag_js_number("-Infinity") == -INFINITY);
    assert_true(isnan(rg_flag_js_number("12abc")));
    assert_true(isnan(rg_flag_js_number("inf")));
    assert_true(isnan(rg_flag_js_number(NULL)));
    double a, b;
    assert_true(rg_flag_js_date("2022-01-22T13:00:00.000+02:00", &a));
    assert_true(rg_flag_js_date("2022-01-22T11:00:00Z", &b));
    assert_true(a == b);
    assert_true(rg_flag_js_date("1970-01-02", &a) && a == 86400000.0);
    assert_false(rg_flag_js_date("2022-02-30T00:00:00Z", &a));
    assert_false(rg_flag_js_date("yesterday", &a));
}

static int semcmp(const char *x, const char *y)
{
    rg_semver a, b;
    assert_true(rg_semver_parse(x, &a));
    assert_true(rg_semver_parse(y, &b));
    int c = rg_semver_cmp(&a, &b);
    return (c > 0) - (c < 0);
}

static void semver_precedence(void **state)
{
    (void)state;
    assert_int_equal(semcmp("1.0.0-alpha", "1.0.0-alpha.1"), -1);
    assert_int_equal(semcmp("1.0.0-alpha.1", "1.0.0-alpha.beta"), -1);
    assert_int_equal(semcmp("1.0.0-beta.2", "1.0.0-beta.11"), -1);
    assert_int_equal(semcmp("1.0.0-rc.1", "1.0.0"), -1);
    assert_int_equal(semcmp("1.0.0+build.9", "1.0.0"), 0);
    assert_int_equal(semcmp("v2.0.0", "2.0.0"), 0);
    rg_semver s;
    assert_false(rg_semver_parse("01.2.3", &s));
    assert_false(rg_semver_parse("1.2", &s));
    assert_false(rg_semver_parse("1.2.3-01", &s));
    assert_true(rg_semver_parse("\t1.2.3-rc.1+b.7 \n", &s)); /* trimmed */
    assert_true(s.patch == 3 && s.pre_len == 4);
    assert_false(rg_semver_parse("1.2.3 x", &s));
    assert_false(rg_semver_parse("1.2.3-", &s));
    assert_true(rg_semver_parse("9007199254740991.0.0", &s)); /* the largest */
    assert_false(rg_semver_parse("9007199254740992.0.0", &s));
    assert_false(rg_semver_parse("12345678901234567.0.0", &s));
}

static void cidr_ranges(void **state)
{
    (void)state;
    rg_cidr r, a;
    assert_true(rg_cidr_parse("10.1.0.0/15", &r));
    assert_true(rg_cidr_parse("10.0.255.1", &a));
    assert_true(rg_cidr_contains(&r, &a));
    assert_true(rg_cidr_parse("10.2.0.1", &a));
    assert_false(rg_cidr_contains(&r, &a));
    assert_true(rg_cidr_parse("::ffff:10.0.0.1", &a));
    assert_false(rg_cidr_contains(&r, &a)); /* families differ */
    assert_false(rg_cidr_parse("10.0.0.0/33", &r));
    assert_false(rg_cidr_parse("bad::cidr", &r));
}

static void bucket_matches_node_sdk(void **state)
{
    (void)state;
    /* From unleash-client 6.12.1: normalizedStrategyValue(id, group) and
     * normalizedVariantValue(id, group, 1000). */
    assert_int_equal(rg_flag_bucket("gr1", "123", 0, 100), 73);
    assert_int_equal(rg_flag_bucket("puppies", "999", 0, 100), 19);
    assert_int_equal(rg_flag_bucket("flag.a", "user-7", 0, 100), 81);
    assert_int_equal(rg_flag_bucket("gr1", "123", RG_FLAG_VARIANT_SEED, 1000),
                     796);
    assert_int_equal(
        rg_flag_bucket("puppies", "999", RG_FLAG_VARIANT_SEED, 1000), 729);
    assert_int_equal(
        rg_flag_bucket("flag.a", "user-7", RG_FLAG_VARIANT_SEED, 1000), 501);
}

static void delta_events(void **state)
{
    (void)state;
    json_t *doc = json_loads("{\"features\":[],\"segments\":[]}", 0, NULL);
    json_t *ev =
        json_loads("[{\"type\":\"feature-updated\",\"feature\":{\"name\":\"a\","
                   "\"enabled\":true,\"strategies\":[]}},"
                   "{\"type\":\"feature-updated\",\"feature\":{\"name\":\"a\","
                   "\"enabled\":false,\"strategies\":[]}},"
                   "{\"type\":\"feature-updated\",\"feature\":{\"name\":\"b\","
                   "\"enabled\":true,\"strategies\":[]}},"
                   "{\"type\":\"feature-removed\",\"featureName\":\"b\"}]",
                   0, NULL);
    assert_int_equal(rg_flags_delta_apply(doc, ev, NULL), 0);
    assert_int_equal(json_array_size(json_object_get(doc, "features")), 1);
    rg_flagset *fs = NULL;
    assert_int_equal(rg_flagset_parse(doc, RG_FLAGS_STRICT, &fs, NULL), 0);
    rg_flag_ctx ctx = {0};
    assert_false(rg_flags_enabled(fs, "a", &ctx));
    rg_flagset_free(fs);
    json_t *bad = json_loads("[{\"type\":\"feature-renamed\"}]", 0, NULL);
    rg_err err = {0};
    assert_int_equal(rg_flags_delta_apply(doc, bad, &err), RG_EINVAL);
    json_decref(bad);
    json_decref(ev);
    json_decref(doc);
}

static void context_from_json(void **state)
{
    (void)state;
    json_t *j = json_loads("{\"userId\":42,\"tier\":\"gold\",\"properties\":"
                           "{\"plan\":\"pro\",\"gone\":null}}",
                           0, NULL);
    rg_flag_ctx_json c;
    assert_int_equal(rg_flag_ctx_json_init(&c, j, 0, NULL), 0);
    assert_string_equal(c.ctx.user_id, "42");
    assert_string_equal(rg_flag_ctx_value(&c.ctx, "tier"), "gold");
    assert_string_equal(rg_flag_ctx_value(&c.ctx, "plan"), "pro");
    assert_null(rg_flag_ctx_value(&c.ctx, "gone"));
    rg_flag_ctx_json_release(&c);
    json_decref(j);
    j = json_loads("{\"userId\":{\"x\":1}}", 0, NULL);
    rg_err err = {0};
    assert_int_equal(rg_flag_ctx_json_init(&c, j, 0, &err), RG_EINVAL);
    assert_string_equal(err.field, "userId");
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(strict_errors_name_the_field),
        cmocka_unit_test(strict_refuses_cycles_and_dangling_references),
        cmocka_unit_test(lenient_keeps_unknowns_false),
        cmocka_unit_test(regex_refusals),
        cmocka_unit_test(regex_threads),
        cmocka_unit_test(js_numbers_and_dates),
        cmocka_unit_test(semver_precedence),
        cmocka_unit_test(cidr_ranges),
        cmocka_unit_test(bucket_matches_node_sdk),
        cmocka_unit_test(delta_events),
        cmocka_unit_test(context_from_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
