/* Unit tests for src/model/plan.c: built-in plans, the JSON round trip,
 * every validation error (with the field it names) and effective shares.
 * ctest-labels: foundation */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/err.h"
#include "common/json.h"
#include "model/bucket.h"
#include "model/plan.h"

#include <stdlib.h>
#include <string.h>

#define MIN_MS (60 * 1000)

static void builtin_standard(void **state)
{
    (void)state;
    rg_plan p;
    rg_err e;
    assert_int_equal(rg_plan_builtin("standard", &p, &e), 0);
    assert_string_equal(p.name, "standard");
    assert_int_equal(p.on_halt, RG_ON_HALT_REVERT_STRATUM);
    assert_int_equal(p.n_waves, 6);
    const uint32_t shares[] = {0, 1000, 10000, 100000, 500000, 1000000};
    const char *names[] = {"internal", "0.1%", "1%", "10%", "50%", "100%"};
    for (size_t i = 0; i < p.n_waves; i++) {
        const rg_wave *w = &p.waves[i];
        assert_int_equal(w->share_ppm, shares[i]);
        assert_string_equal(w->name, names[i]);
        assert_int_equal(w->internal, i == 0);
        assert_int_equal(w->window_ms, 10 * MIN_MS);
        assert_true(w->min_bake_ms >= 10 * MIN_MS); /* at least one W */
        assert_int_equal(w->max_bake_ms, 0);
        assert_true(w->alpha == 1e-3);
        assert_true(w->beta == 1e-2);
        assert_true(w->tolerated_excess == 0.02);
        assert_int_equal(w->min_endpoints, i == 0 ? 1 : 50);
    }
    assert_int_equal(p.waves[0].min_bake_ms, 10 * MIN_MS);
    assert_int_equal(p.waves[1].min_bake_ms, 10 * MIN_MS);
}

static void builtin_emergency(void **state)
{
    (void)state;
    rg_plan p;
    assert_int_equal(rg_plan_builtin("emergency", &p, NULL), 0);
    assert_string_equal(p.name, "emergency");
    assert_int_equal(p.n_waves, 3);
    assert_true(p.waves[0].internal);
    assert_int_equal(p.waves[0].share_ppm, 0);
    assert_int_equal(p.waves[1].share_ppm, 10000);
    assert_int_equal(p.waves[2].share_ppm, RG_PPM);
    for (size_t i = 0; i < p.n_waves; i++) {
        assert_int_equal(p.waves[i].window_ms, 3 * MIN_MS);
        assert_int_equal(p.waves[i].min_bake_ms, 0);
    }
}

static void builtin_unknown_and_by_string(void **state)
{
    (void)state;
    rg_plan p, q;
    rg_err e;
    assert_int_equal(rg_plan_builtin("fast", &p, &e), RG_EINVAL);
    assert_string_equal(e.field, "plan");
    assert_non_null(strstr(e.msg, "'fast'"));

    json_t *s = json_string("emergency");
    assert_int_equal(rg_plan_from_json(s, &p, &e), 0);
    assert_int_equal(rg_plan_builtin("emergency", &q, &e), 0);
    assert_memory_equal(&p, &q, sizeof p);
    json_decref(s);

    s = json_string("Standard"); /* names are exact */
    assert_int_equal(rg_plan_from_json(s, &p, &e), RG_EINVAL);
    assert_string_equal(e.field, "plan");
    json_decref(s);
    s = json_integer(3);
    assert_int_equal(rg_plan_from_json(s, &p, &e), RG_EINVAL);
    assert_string_equal(e.field, "plan");
    json_decref(s);
}

/* p -> JSON -> text -> JSON -> plan must give p back, byte for byte. */
static void assert_round_trip(const rg_plan *p)
{
    rg_plan q;
    rg_err e;
    memset(&q, 0xab, sizeof q);
    json_t *j = rg_plan_to_json(p);
    assert_non_null(j);
    assert_int_equal(rg_plan_from_json(j, &q, &e), 0);
    assert_memory_equal(p, &q, sizeof q);

    char *text = rg_json_dump(j);
    assert_non_null(text);
    json_t *back = json_loads(text, 0, NULL);
    assert_non_null(back);
    memset(&q, 0xcd, sizeof q);
    assert_int_equal(rg_plan_from_json(back, &q, &e), 0);
    assert_memory_equal(p, &q, sizeof q);
    assert_true(json_equal(j, back));
    json_decref(back);
    free(text);
    json_decref(j);
}

static rg_plan must_parse(const char *text)
{
    rg_plan p;
    rg_err e;
    json_t *v = json_loads(text, 0, NULL);
    assert_non_null(v);
    int rc = rg_plan_from_json(v, &p, &e);
    if (rc != 0)
        fail_msg("'%s': %s (%s)", text, e.msg, e.field);
    json_decref(v);
    return p;
}

static void json_round_trip(void **state)
{
    (void)state;
    rg_plan p;
    assert_int_equal(rg_plan_builtin("standard", &p, NULL), 0);
    assert_round_trip(&p);
    assert_int_equal(rg_plan_builtin("emergency", &p, NULL), 0);
    assert_round_trip(&p);

    p = must_parse(
        "{\"name\": \"tiny\", \"on_halt\": \"pause\", \"waves\": ["
        " {\"name\": \"ring\", \"internal\": true, \"share\": 0, "
        "\"min_endpoints\": 3,"
        "  \"min_bake_s\": 1.5, \"max_bake_s\": 3600, \"window_s\": 0.25,"
        "  \"alpha\": 0.05, \"beta\": 0.2, \"tolerated_excess\": 0},"
        " {\"share\": 0.1234, \"min_bake_s\": 0},"
        " {\"share\": 33.3333, \"min_endpoints\": 7},"
        " {\"share\": 100, \"tolerated_excess\": 0.1, \"min_effect\": 0.03}]}");
    assert_string_equal(p.name, "tiny");
    assert_int_equal(p.on_halt, RG_ON_HALT_PAUSE);
    assert_int_equal(p.n_waves, 4);
    assert_string_equal(p.waves[0].name, "ring");
    assert_int_equal(p.waves[0].min_bake_ms, 1500);
    assert_int_equal(p.waves[0].max_bake_ms, 3600000);
    assert_int_equal(p.waves[0].window_ms, 250);
    assert_true(p.waves[0].alpha == 0.05);
    assert_int_equal(p.waves[1].share_ppm, 1234);
    assert_string_equal(p.waves[1].name, "0.1234%");
    assert_int_equal(p.waves[2].share_ppm, 333333);
    assert_int_equal(p.waves[2].min_endpoints, 7);
    assert_true(p.waves[3].tolerated_excess == 0.1);
    assert_true(p.waves[3].min_effect == 0.03);
    assert_true(p.waves[0].min_effect == 0.01); /* the default */
    assert_round_trip(&p);

    /* Percent in JSON, ppm in the struct; seconds in JSON, ms inside. */
    json_t *j = rg_plan_to_json(&p);
    json_t *w1 = json_array_get(json_object_get(j, "waves"), 1);
    assert_true(json_real_value(json_object_get(w1, "share")) == 0.1234);
    json_t *w0 = json_array_get(json_object_get(j, "waves"), 0);
    assert_true(json_real_value(json_object_get(w0, "min_bake_s")) == 1.5);
    assert_int_equal(json_integer_value(json_object_get(w0, "max_bake_s")),
                     3600);
    assert_string_equal(json_string_value(json_object_get(j, "on_halt")),
                        "pause");
    json_decref(j);
}

/* Every on_halt name round-trips; the old "revert" reads as revert_all. */
static void on_halt_names(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
        int v;
    } cases[] = {
        {"revert_stratum", "revert_stratum", RG_ON_HALT_REVERT_STRATUM},
        {"revert_all", "revert_all", RG_ON_HALT_REVERT_ALL},
        {"revert", "revert_all", RG_ON_HALT_REVERT_ALL},
        {"pause", "pause", RG_ON_HALT_PAUSE}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[128];
        snprintf(text, sizeof text,
                 "{\"on_halt\": \"%s\", \"waves\": [{\"share\": 100}]}",
                 cases[i].in);
        rg_plan p = must_parse(text);
        assert_int_equal(p.on_halt, cases[i].v);
        json_t *j = rg_plan_to_json(&p);
        assert_string_equal(json_string_value(json_object_get(j, "on_halt")),
                            cases[i].out);
        json_decref(j);
    }
}

static void omitted_fields_take_defaults(void **state)
{
    (void)state;
    rg_plan p = must_parse("{\"waves\": [{\"share\": 100}]}");
    assert_string_equal(p.name, "custom");
    assert_int_equal(p.on_halt, RG_ON_HALT_REVERT_STRATUM);
    assert_int_equal(p.n_waves, 1);
    const rg_wave *w = &p.waves[0];
    assert_string_equal(w->name, "100%");
    assert_false(w->internal);
    assert_int_equal(w->share_ppm, RG_PPM);
    assert_int_equal(w->min_endpoints, 0);
    assert_int_equal(w->min_bake_ms, 10 * MIN_MS);
    assert_int_equal(w->max_bake_ms, 0);
    assert_int_equal(w->window_ms, 10 * MIN_MS);
    assert_true(w->alpha == 1e-3);
    assert_true(w->beta == 1e-2);
    assert_true(w->tolerated_excess == 0.02);

    p = must_parse("{\"waves\": [{\"internal\": true, \"share\": 0}, "
                   "{\"share\": 100, \"name\": null}]}");
    assert_string_equal(p.waves[0].name, "internal");
    assert_string_equal(p.waves[1].name, "100%");
}

struct bad_case {
    const char *json;
    const char *field; /* expected err.field */
    const char *words; /* expected in err.msg */
};

static void every_validation_error(void **state)
{
    (void)state;
    static const struct bad_case cases[] = {
        /* shares */
        {"{\"waves\": [{\"share\": 10}, {\"share\": 5}, {\"share\": 100}]}",
         "plan.waves[1].share", "previous"},
        {"{\"waves\": [{\"share\": 1}, {\"share\": 10}, {\"share\": 50}]}",
         "plan.waves[2].share", "must be 100"},
        {"{\"waves\": [{\"share\": 100.5}]}", "plan.waves[0].share", "between"},
        {"{\"waves\": [{\"share\": -1}, {\"share\": 100}]}",
         "plan.waves[0].share", "between"},
        {"{\"waves\": [{\"share\": \"10%\"}, {\"share\": 100}]}",
         "plan.waves[0].share", "number"},
        {"{\"waves\": [{\"share\": 1}, {\"min_endpoints\": 3}]}",
         "plan.waves[1].share", "required"},
        /* types */
        {"{\"waves\": [{\"share\": 100, \"internal\": \"yes\"}]}",
         "plan.waves[0].internal", "true or false"},
        {"{\"waves\": [{\"share\": 100, \"min_endpoints\": 1.5}]}",
         "plan.waves[0].min_endpoints", "integer"},
        {"{\"waves\": [{\"share\": 100, \"min_endpoints\": -1}]}",
         "plan.waves[0].min_endpoints", "between"},
        {"{\"waves\": [{\"share\": 100, \"min_bake_s\": \"10m\"}]}",
         "plan.waves[0].min_bake_s", "number"},
        {"{\"waves\": [{\"share\": 100, \"name\": 7}]}", "plan.waves[0].name",
         "string"},
        {"{\"waves\": [{\"share\": 100, \"name\": \"\"}]}",
         "plan.waves[0].name", "empty"},
        {"{\"waves\": [{\"share\": 100, \"name\": "
         "\"abcdefghijklmnopqrstuvwxyz012345\"}]}",
         "plan.waves[0].name", "longer"},
        {"{\"name\": \"abcdefghijklmnopqrstuvwxyz012345\", \"waves\": "
         "[{\"share\": 100}]}",
         "plan.name", "longer"},
        {"{\"waves\": [{\"share\": 1}, 5]}", "plan.waves[1]", "object"},
        {"{\"waves\": {\"share\": 100}}", "plan.waves", "array"},
        {"{\"on_halt\": \"explode\", \"waves\": [{\"share\": 100}]}",
         "plan.on_halt", "'revert_all' or 'pause'"},
        {"{\"on_halt\": true, \"waves\": [{\"share\": 100}]}", "plan.on_halt",
         "string"},
        {"{\"waves\": [{\"share\": 100, \"shares\": 5}]}",
         "plan.waves[0].shares", "not a known field"},
        {"{\"wavez\": [], \"waves\": [{\"share\": 100}]}", "plan.wavez",
         "not a known field"},
        /* wave count */
        {"{\"name\": \"x\"}", "plan.waves", "required"},
        {"{\"waves\": []}", "plan.waves", "at least one"},
        {"{\"waves\": [{\"share\": 1}, {\"share\": 2}, {\"share\": 3}, "
         "{\"share\": 4},"
         " {\"share\": 5}, {\"share\": 6}, {\"share\": 7}, {\"share\": 8}, "
         "{\"share\": 9},"
         " {\"share\": 10}, {\"share\": 11}, {\"share\": 12}, {\"share\": 13},"
         " {\"share\": 14}, {\"share\": 15}, {\"share\": 16}, {\"share\": "
         "100}]}",
         "plan.waves", "more than 16"},
        /* times */
        {"{\"waves\": [{\"share\": 100, \"min_bake_s\": -1}]}",
         "plan.waves[0].min_bake_s", "between"},
        {"{\"waves\": [{\"share\": 100, \"max_bake_s\": -60}]}",
         "plan.waves[0].max_bake_s", "between"},
        {"{\"waves\": [{\"share\": 100, \"window_s\": -5}]}",
         "plan.waves[0].window_s", "between"},
        {"{\"waves\": [{\"share\": 100, \"window_s\": 0}]}",
         "plan.waves[0].window_s", "between"},
        {"{\"waves\": [{\"share\": 100, \"min_bake_s\": 99999999}]}",
         "plan.waves[0].min_bake_s", "between"},
        {"{\"waves\": [{\"share\": 100, \"min_bake_s\": 600, \"max_bake_s\": "
         "60}]}",
         "plan.waves[0].max_bake_s", "at least min_bake_s"},
        /* probabilities */
        {"{\"waves\": [{\"share\": 100, \"alpha\": 0}]}", "plan.waves[0].alpha",
         "above 0 and below 1"},
        {"{\"waves\": [{\"share\": 100, \"alpha\": 1}]}", "plan.waves[0].alpha",
         "above 0 and below 1"},
        {"{\"waves\": [{\"share\": 100, \"alpha\": 1.5}]}",
         "plan.waves[0].alpha", "between"},
        {"{\"waves\": [{\"share\": 100, \"alpha\": -0.01}]}",
         "plan.waves[0].alpha", "between"},
        {"{\"waves\": [{\"share\": 100, \"alpha\": \"low\"}]}",
         "plan.waves[0].alpha", "number"},
        {"{\"waves\": [{\"share\": 100, \"beta\": 0}]}", "plan.waves[0].beta",
         "above 0 and below 1"},
        {"{\"waves\": [{\"share\": 100, \"tolerated_excess\": 1}]}",
         "plan.waves[0].tolerated_excess", "at least 0 and below 1"},
        {"{\"waves\": [{\"share\": 100, \"min_effect\": 0.6}]}",
         "plan.waves[0].min_effect", "at most 0.5"},
        {"{\"waves\": [{\"share\": 100, \"min_effect\": -0.01}]}",
         "plan.waves[0].min_effect", "between 0 and 1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct bad_case *c = &cases[i];
        json_t *v = json_loads(c->json, 0, NULL);
        if (!v)
            fail_msg("case %zu is not JSON", i);
        rg_plan p, untouched;
        memset(&p, 0x5a, sizeof p);
        untouched = p;
        rg_err e;
        rg_err_clear(&e);
        int rc = rg_plan_from_json(v, &p, &e);
        if (rc != RG_EINVAL || strcmp(e.field, c->field) != 0 ||
            !strstr(e.msg, c->words) || !strstr(e.msg, c->field))
            fail_msg("case %zu %s: rc %d field '%s' msg '%s'; expected field "
                     "'%s' and '%s'",
                     i, c->json, rc, e.field, e.msg, c->field, c->words);
        assert_memory_equal(&p, &untouched, sizeof p); /* out untouched */
        assert_int_equal(rg_plan_from_json(v, &p, NULL),
                         RG_EINVAL); /* NULL err */
        json_decref(v);
    }
}

static void effective_share(void **state)
{
    (void)state;
    rg_plan p;
    assert_int_equal(rg_plan_builtin("standard", &p, NULL), 0);
    const rg_wave *canary = &p.waves[1]; /* 0.1%, >= 50 endpoints */
    assert_int_equal(rg_wave_effective_share(canary, 1000000), 1000);
    assert_int_equal(rg_wave_effective_share(canary, 50000),
                     1000); /* exactly 50 */
    assert_int_equal(rg_wave_effective_share(canary, 49999), 1001); /* ceil */
    assert_int_equal(rg_wave_effective_share(canary, 1000), 50000);
    assert_int_equal(rg_wave_effective_share(canary, 20), RG_PPM); /* capped */
    assert_int_equal(rg_wave_effective_share(canary, 0), 1000);
    assert_int_equal(rg_wave_effective_share(&p.waves[0], 1000),
                     0); /* internal */
    rg_wave w = *canary;
    w.min_endpoints = 0;
    assert_int_equal(rg_wave_effective_share(&w, 10), 1000);

    /* The budget of a wave also holds every earlier wave's minimum. */
    assert_int_equal(rg_plan_wave_share(&p, 0, 1000), 0);
    assert_int_equal(rg_plan_wave_share(&p, 1, 1000), 50000);
    assert_int_equal(rg_plan_wave_share(&p, 2, 1000), 50000);
    assert_int_equal(rg_plan_wave_share(&p, 3, 1000), 100000);
    assert_int_equal(rg_plan_wave_share(&p, 5, 1000), RG_PPM);
    p.waves[2].min_endpoints = 0;
    assert_int_equal(rg_plan_wave_share(&p, 2, 1000), 50000);
    assert_int_equal(rg_wave_effective_share(&p.waves[2], 1000), 10000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(builtin_standard),
        cmocka_unit_test(builtin_emergency),
        cmocka_unit_test(builtin_unknown_and_by_string),
        cmocka_unit_test(json_round_trip),
        cmocka_unit_test(omitted_fields_take_defaults),
        cmocka_unit_test(on_halt_names),
        cmocka_unit_test(every_validation_error),
        cmocka_unit_test(effective_share),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
