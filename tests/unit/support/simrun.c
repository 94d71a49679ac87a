/* simrun.c - see simrun.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "simrun.h"

#include "common/json.h"

#include <stdio.h>
#include <string.h>

rg_scenario rg_test_scenario(const char *text)
{
    rg_err err;
    rg_scenario s;
    json_t *v = rg_json_parse_object(text, strlen(text), &err);
    assert_non_null(v);
    int rc = rg_scenario_from_json(v, &s, &err);
    if (rc != 0)
        fprintf(stderr, "scenario: %s\n", err.msg);
    assert_int_equal(rc, 0);
    json_decref(v);
    return s;
}

rg_sim_result rg_test_sim_run(const rg_scenario *s, int policy, uint64_t seed)
{
    rg_sim_options o = {.policy = policy, .seed = seed, .seed_set = seed != 0};
    rg_sim_result r;
    rg_err err;
    int rc = rg_sim_run(s, &o, &r, &err);
    if (rc != 0)
        fprintf(stderr, "sim: %s\n", err.msg);
    assert_int_equal(rc, 0);
    return r;
}

void rg_test_scenario_refused(const char *text, const char *field)
{
    rg_err err;
    rg_scenario s;
    json_t *v = rg_json_parse_object(text, strlen(text), &err);
    assert_non_null(v);
    assert_int_equal(rg_scenario_from_json(v, &s, &err), RG_EINVAL);
    if (strcmp(err.field, field) != 0)
        fprintf(stderr, "refused for '%s' (%s), expected '%s'\n", err.field,
                err.msg, field);
    assert_string_equal(err.field, field);
    json_decref(v);
}
