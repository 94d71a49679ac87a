/* Unit tests for the server's preflight rules that need no server: which
 * releases may enter a rollout (rg__api_rollout_admits: failed and pending
 * never, the emergency lane only with a passed preflight, standard plans
 * need one whenever the channel has a preflight) and the parsing of a
 * channel's preflight object (rg__api_preflight_parse).
 * ctest-labels: preflight */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "server/api.h"

#include <stdio.h>
#include <string.h>

static rg_release_rec rel(const char *status, const char *urgency)
{
    rg_release_rec r;
    memset(&r, 0, sizeof r);
    r.id = 7;
    snprintf(r.channel, sizeof r.channel, "det");
    snprintf(r.urgency, sizeof r.urgency, "%s", urgency);
    snprintf(r.preflight_status, sizeof r.preflight_status, "%s", status);
    snprintf(r.preflight_detail, sizeof r.preflight_detail,
             "run: exit status 1: field 21");
    return r;
}

static rg_channel_rec chan(bool preflight)
{
    rg_channel_rec c;
    memset(&c, 0, sizeof c);
    snprintf(c.name, sizeof c.name, "det");
    if (preflight) {
        snprintf(c.preflight.engine, sizeof c.preflight.engine, "/bin/true");
        c.preflight.timeout_s = 30;
    }
    return c;
}

static int admits(const char *status, const char *urgency, bool preflight,
                  const char *plan_name, rg_err *err)
{
    rg_release_rec r = rel(status, urgency);
    rg_channel_rec c = chan(preflight);
    rg_plan plan;
    assert_int_equal(rg_plan_builtin(plan_name, &plan, NULL), 0);
    rg_err_clear(err);
    return rg__api_rollout_admits(&r, &c, &plan, err);
}

static void admission_table(void **state)
{
    static const struct {
        const char *status, *urgency;
        bool channel_preflight;
        const char *plan;
        int want;
        const char *says;
    } cases[] = {
        /* failed and pending: never, whatever the plan. */
        {"failed", "standard", true, "standard", RG_ECONFLICT,
         "preflight failed: run: exit status 1: field 21"},
        {"failed", "standard", false, "standard", RG_ECONFLICT,
         "preflight failed"},
        {"failed", "emergency", true, "emergency", RG_ECONFLICT,
         "preflight failed"},
        {"pending", "standard", true, "standard", RG_ECONFLICT,
         "preflight still running"},
        {"pending", "standard", true, "emergency", RG_ECONFLICT,
         "preflight still running"},
        /* passed: any plan. */
        {"passed", "standard", true, "standard", 0, NULL},
        {"passed", "emergency", true, "emergency", 0, NULL},
        {"passed", "standard", false, "emergency", 0, NULL},
        /* none: standard only, and only without a channel preflight. */
        {"none", "standard", false, "standard", 0, NULL},
        {"none", "standard", false, "emergency", RG_ECONFLICT,
         "emergency lane requires a passing preflight"},
        {"none", "emergency", false, "standard", RG_ECONFLICT,
         "emergency lane requires a passing preflight"},
        {"none", "standard", true, "standard", RG_ECONFLICT,
         "requires a passing preflight"},
        {"none", "standard", true, "emergency", RG_ECONFLICT,
         "requires a passing preflight"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        rg_err err;
        int rc = admits(cases[i].status, cases[i].urgency,
                        cases[i].channel_preflight, cases[i].plan, &err);
        if (rc != cases[i].want)
            fail_msg("case %zu (%s, %s, %d, %s): %d: %s", i, cases[i].status,
                     cases[i].urgency, cases[i].channel_preflight,
                     cases[i].plan, rc, err.msg);
        if (cases[i].says) {
            assert_string_equal(err.field, "release");
            if (!strstr(err.msg, cases[i].says))
                fail_msg("case %zu: '%s' does not say '%s'", i, err.msg,
                         cases[i].says);
        }
    }
}

static int parse(const char *text, const char *prefix, rg_preflight_spec *p,
                 rg_err *err)
{
    json_error_t jerr;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &jerr);
    assert_non_null(v);
    rg_err_clear(err);
    int rc = rg__api_preflight_parse(v, prefix, "", p, err);
    json_decref(v);
    return rc;
}

static void parse_object(void **state)
{
    rg_preflight_spec p;
    rg_err err;
    const char *sha =
        "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"";
    char text[256];

    assert_int_equal(parse("null", "preflight.", &p, &err), 0);
    assert_string_equal(p.engine, "");
    assert_int_equal(parse("{\"engine\": \"/bin/sh\"}", "", &p, &err), 0);
    assert_string_equal(p.engine, "/bin/sh");
    assert_string_equal(p.corpus, "");
    assert_int_equal(p.timeout_s, 30);
    assert_int_equal(p.memory_mb, 1024);
    snprintf(text, sizeof text,
             "{\"engine\": \"sh\", \"corpus\": %s, \"timeout_s\": 5,"
             " \"memory_mb\": 0}",
             sha);
    assert_int_equal(parse(text, "", &p, &err), 0);
    assert_string_equal(p.engine, "sh"); /* found in PATH */
    assert_int_equal(p.corpus[0], 'a');
    assert_int_equal(p.timeout_s, 5);
    assert_int_equal(p.memory_mb, 0);

    static const struct {
        const char *text, *field;
    } bad[] = {
        {"[]", "preflight"},
        {"{}", "preflight.engine"},
        {"{\"engine\": \"\"}", "preflight.engine"},
        {"{\"engine\": \"sh -c x\"}", "preflight.engine"},
        {"{\"engine\": \"./sh\"}", "preflight.engine"},
        {"{\"engine\": \"/nonexistent\"}", "preflight.engine"},
        {"{\"engine\": \"/bin/sh\", \"timeout_s\": 1.5}",
         "preflight.timeout_s"},
        {"{\"engine\": \"/bin/sh\", \"memory_mb\": 65537}",
         "preflight.memory_mb"},
        {"{\"engine\": \"/bin/sh\", \"corpus\": \"AB\"}", "preflight.corpus"},
        {"{\"engine\": \"/bin/sh\", \"extra\": 1}", "preflight.extra"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (parse(bad[i].text, "preflight.", &p, &err) != RG_EINVAL)
            fail_msg("'%s' was accepted", bad[i].text);
        if (strcmp(err.field, bad[i].field) != 0)
            fail_msg("'%s': field '%s', wanted '%s'", bad[i].text, err.field,
                     bad[i].field);
    }
    /* Without a prefix (PUT's body is the object itself). */
    assert_int_equal(parse("{\"engine\": 3}", "", &p, &err), RG_EINVAL);
    assert_string_equal(err.field, "engine");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(admission_table),
        cmocka_unit_test(parse_object),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
