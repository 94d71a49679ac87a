/* simrun.c - see simrun.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "simrun.h"

#include "sim/policy.h"

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

/* Runs s with options o (failing the test on an error). */
static rg_sim_result run_with(const rg_scenario *s, const rg_sim_options *o)
{
    rg_sim_result r;
    rg_err err;
    int rc = rg_sim_run(s, o, &r, &err);
    if (rc != 0)
        fprintf(stderr, "sim: %s\n", err.msg);
    assert_int_equal(rc, 0);
    return r;
}

rg_sim_result rg_test_sim_run(const rg_scenario *s, int policy, uint64_t seed)
{
    rg_sim_options o = {.policy = policy, .seed = seed, .seed_set = seed != 0};
    return run_with(s, &o);
}

static void ignore_event(void *ctx, uint32_t ep, int what, int64_t at_ms)
{
    (void)ctx;
    (void)ep;
    (void)what;
    (void)at_ms;
}

static void ignore_endpoint(void *ctx, uint32_t ep, uint32_t stratum)
{
    (void)ctx;
    (void)ep;
    (void)stratum;
}

rg_sim_result
rg_test_sim_run_ticks(const rg_scenario *s, uint64_t seed,
                      void (*tick)(void *ctx, const rg_sim_tick *t), void *ctx)
{
    rg_sim_recorder rec = {.ctx = ctx,
                           .endpoint = ignore_endpoint,
                           .event = ignore_event,
                           .tick = tick};
    rg_sim_options o = {.policy = RG_SIM_ROLLGATE,
                        .seed = seed,
                        .seed_set = seed != 0,
                        .recorder = &rec};
    return run_with(s, &o);
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
