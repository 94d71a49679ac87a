/* Unit tests for src/flags/share.c: a guarded flag rollout's exposure
 * classification. For any share step, the exposed set (rg_flag_share_flipped)
 * is exactly the endpoints whose bucket is in [old, new) and exactly the
 * endpoints whose evaluation by the real evaluator (a flexibleRollout of the
 * step's percentages, groupId = the flag, userId = the endpoint id) flipped
 * from off to on; rg_bucket_in at the raw share agrees with the evaluator.
 * ctest-labels: flags */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "flags/eval.h"
#include "flags/parse.h"
#include "flags/share.h"
#include "model/bucket.h"

#include <stdio.h>
#include <string.h>

#define FLAG "new-parser"
#define N_IDS 3000

/* A flag set with FLAG as a flexibleRollout of pct percent. */
static rg_flagset *rollout_set(uint32_t pct)
{
    char text[512];
    snprintf(text, sizeof text,
             "{\"features\":[{\"name\":\"" FLAG "\",\"enabled\":true,"
             "\"strategies\":[{\"name\":\"flexibleRollout\",\"parameters\":{"
             "\"rollout\":\"%u\",\"stickiness\":\"default\","
             "\"groupId\":\"" FLAG "\"}}]}]}",
             pct);
    json_t *doc = json_loads(text, 0, NULL);
    assert_non_null(doc);
    rg_flagset *fs = NULL;
    rg_err err;
    rg_err_clear(&err);
    assert_int_equal(rg_flagset_parse(doc, RG_FLAGS_STRICT, &fs, &err), 0);
    json_decref(doc);
    return fs;
}

static bool on(const rg_flagset *fs, const char *id)
{
    rg_flag_ctx ctx = {.user_id = id};
    return rg_flags_enabled(fs, FLAG, &ctx);
}

/* xorshift64: the test's own deterministic randomness. */
static uint32_t next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return (uint32_t)(*s >> 16);
}

/* Checks the property for the step old_ppm -> new_ppm over N_IDS ids;
 * returns how many endpoints were exposed. */
static size_t check_step(uint32_t old_ppm, uint32_t new_ppm)
{
    rg_flagset *before = rollout_set(rg_flag_share_percent(old_ppm));
    rg_flagset *after = rollout_set(rg_flag_share_percent(new_ppm));
    size_t exposed = 0;
    char id[32];
    for (int i = 0; i < N_IDS; i++) {
        snprintf(id, sizeof id, "host-%d", i);
        uint32_t b = rg_flag_share_bucket(FLAG, id);
        bool flipped = rg_flag_share_flipped(b, old_ppm, new_ppm);
        bool in_range =
            b >= rg_flag_share_percent(old_ppm) * RG_FLAG_SHARE_STEP_PPM &&
            b < rg_flag_share_percent(new_ppm) * RG_FLAG_SHARE_STEP_PPM;
        assert_int_equal(flipped, in_range);
        assert_int_equal(flipped, !on(before, id) && on(after, id));
        assert_int_equal(rg_bucket_in(b, new_ppm), on(after, id));
        assert_int_equal(rg_bucket_in(b, old_ppm), on(before, id));
        exposed += flipped;
    }
    rg_flagset_free(before);
    rg_flagset_free(after);
    return exposed;
}

static void buckets_are_whole_percents(void **state)
{
    (void)state;
    char id[32];
    for (int i = 0; i < N_IDS; i++) {
        snprintf(id, sizeof id, "ep-%d", i);
        uint32_t b = rg_flag_share_bucket(FLAG, id);
        assert_int_equal(b % RG_FLAG_SHARE_STEP_PPM, 0);
        assert_true(b <= 990000);
    }
    assert_int_equal(rg_flag_share_percent(0), 0);
    assert_int_equal(rg_flag_share_percent(1), 1);
    assert_int_equal(rg_flag_share_percent(10000), 1);
    assert_int_equal(rg_flag_share_percent(10001), 2);
    assert_int_equal(rg_flag_share_percent(999999), 100);
    assert_int_equal(rg_flag_share_percent(RG_PPM), 100);
    assert_int_equal(rg_flag_share_percent(UINT32_MAX), 100);
}

static void plan_steps_expose_the_flipped(void **state)
{
    (void)state;
    /* the standard plan's kind of steps: tiny first wave, then growing */
    static const uint32_t steps[] = {0,      1000,   10000,  50000,
                                     250000, 500000, 1000000};
    size_t total = 0;
    for (size_t i = 0; i + 1 < sizeof steps / sizeof *steps; i++)
        total += check_step(steps[i], steps[i + 1]);
    assert_int_equal(total, N_IDS); /* 0 -> 100 %: everyone, once */
}

static void any_step_exposes_the_flipped(void **state)
{
    (void)state;
    uint64_t s = 0x9e3779b97f4a7c15u;
    for (int k = 0; k < 60; k++) {
        uint32_t a = next(&s) % (RG_PPM + 1), b = next(&s) % (RG_PPM + 1);
        uint32_t lo = a < b ? a : b, hi = a < b ? b : a;
        check_step(lo, hi);
        assert_int_equal(check_step(hi, lo), 0); /* lowering exposes none */
    }
    assert_int_equal(check_step(RG_PPM, RG_PPM), 0);
    assert_int_equal(check_step(0, RG_PPM), N_IDS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(buckets_are_whole_percents),
        cmocka_unit_test(plan_steps_expose_the_flipped),
        cmocka_unit_test(any_step_exposes_the_flipped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
