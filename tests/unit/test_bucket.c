/* Property tests for src/model/bucket.c: stable (pinned values), uniform
 * (chi-square over 1,000,000 ids), monotone in the share, independent
 * across salts, and needing no allocation; murmur3 fed in pieces.
 * ctest-labels: foundation */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/murmur3.h"
#include "model/bucket.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define N_IDS 1000000

/* splitmix64: a seeded PRNG so every run draws the same numbers. */
static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint32_t rng_below(uint64_t *s, uint32_t n)
{
    return (uint32_t)(rng_next(s) % n);
}

static void host_id(char *out, size_t n, uint32_t i)
{
    snprintf(out, n, "host-%u", i);
}

static void stable_pinned_values(void **state)
{
    (void)state;
    /* Computed once (and cross-checked with an independent murmur3
     * implementation); a change here moves endpoints between waves of
     * every rollout in flight. */
    static const struct {
        const char *salt, *id;
        uint32_t bucket;
    } pins[] = {
        {"r1", "host-1", 766388},        {"r1", "host-2", 456420},
        {"r1", "host-42", 654572},       {"r1", "host-1000000", 282266},
        {"r1", "\xcf\x80", 915143}, /* UTF-8 "π" */
        {"rollout-7", "host-1", 446235}, {"rollout-7", "host-1000000", 25186},
        {"", "host-1", 60967},           {"", "\xcf\x80", 353332},
    };
    for (size_t i = 0; i < sizeof pins / sizeof pins[0]; i++) {
        assert_int_equal(rg_bucket(pins[i].salt, pins[i].id), pins[i].bucket);
        assert_int_equal(rg_bucket(pins[i].salt, pins[i].id), pins[i].bucket);
    }
    /* The published murmur3 vector "Feature.flexibleRollout.10:174" ->
     * 0xb6ddee0d, scaled to ppm: 0xb6ddee0d * 1e6 >> 32 = 714323. */
    assert_int_equal(rg_bucket("Feature.flexibleRollout.10", "174"), 714323);
}

static void long_ids_hash_the_whole_string(void **state)
{
    (void)state;
    char salt[200], id[300], joined[501];
    memset(salt, 's', sizeof salt - 1);
    salt[sizeof salt - 1] = '\0';
    memset(id, 'i', sizeof id - 1);
    id[sizeof id - 1] = '\0';
    int n = snprintf(joined, sizeof joined, "%s:%s", salt, id);
    assert_int_equal(n, 199 + 1 + 299);
    uint32_t h = rg_murmur3_32(joined, (size_t)n, 0);
    assert_int_equal(rg_bucket(salt, id),
                     (uint32_t)(((uint64_t)h * RG_PPM) >> 32));
    id[298] = 'j'; /* the last byte matters */
    assert_int_not_equal(rg_bucket(salt, id),
                         (uint32_t)(((uint64_t)h * RG_PPM) >> 32));
}

/* The linker sends every malloc of this program here (-Wl,--wrap=malloc,
 * tests/unit/CMakeLists.txt): it fails while malloc_fails is set. */
static bool malloc_fails;
void *__real_malloc(size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_malloc(size_t n)
{
    return malloc_fails ? NULL : __real_malloc(n);
}

/* Bucketing needs no memory: with malloc failing, a salt and id longer
 * than any stack copy still get their true bucket (the copy it used to
 * malloc gave RG_PPM - 1 when that failed). */
static void long_ids_need_no_allocation(void **state)
{
    (void)state;
    char salt[300], id[300], joined[601];
    memset(salt, 's', sizeof salt - 1);
    salt[sizeof salt - 1] = '\0';
    memset(id, 'i', sizeof id - 1);
    id[sizeof id - 1] = '\0';
    int n = snprintf(joined, sizeof joined, "%s:%s", salt, id);
    uint32_t want =
        (uint32_t)(((uint64_t)rg_murmur3_32(joined, (size_t)n, 0) * RG_PPM) >>
                   32);
    malloc_fails = true;
    uint32_t got = rg_bucket(salt, id);
    malloc_fails = false;
    assert_int_equal(got, want);
}

/* Hashing in pieces gives the one-shot hash, wherever the cuts fall. */
static void pieces_hash_as_one(void **state)
{
    (void)state;
    static const char text[] = "The quick brown fox jumps over the lazy dog";
    size_t len = sizeof text - 1;
    assert_int_equal(rg_murmur3_32(text, len, 0), 0x2e4ff723u);
    for (size_t a = 0; a <= len; a++)
        for (size_t b = a; b <= len; b += 3) {
            rg_murmur3 m;
            rg_murmur3_init(&m, 7);
            rg_murmur3_update(&m, text, a);
            rg_murmur3_update(&m, text + a, b - a);
            rg_murmur3_update(&m, text + b, len - b);
            assert_int_equal(rg_murmur3_final(&m), rg_murmur3_32(text, len, 7));
        }
}

static void uniform_chi_square(void **state)
{
    (void)state;
    static uint32_t bins[100];
    memset(bins, 0, sizeof bins);
    char id[32];
    for (uint32_t i = 0; i < N_IDS; i++) {
        host_id(id, sizeof id, i);
        uint32_t b = rg_bucket("rollout-1", id);
        assert_true(b < RG_PPM);
        bins[b / 10000]++;
    }
    double expected = N_IDS / 100.0, chi2 = 0;
    for (int i = 0; i < 100; i++) {
        double d = bins[i] - expected;
        chi2 += d * d / expected;
    }
    /* 0.999 quantile of chi-square with 99 degrees of freedom. */
    if (chi2 >= 148.2)
        fail_msg("chi-square %.1f >= 148.2: buckets are not uniform", chi2);
    /* And the statistic is not suspiciously perfect either (0.001 quantile). */
    if (chi2 <= 61.0)
        fail_msg("chi-square %.1f <= 61.0: buckets are too regular", chi2);
}

static void monotone_in_share(void **state)
{
    (void)state;
    enum { N = 20000, PAIRS = 200 };
    static uint32_t buckets[N];
    char id[32];
    for (uint32_t i = 0; i < N; i++) {
        host_id(id, sizeof id, i);
        buckets[i] = rg_bucket("monotone", id);
    }
    uint64_t rng = 12345;
    for (int p = 0; p < PAIRS; p++) {
        uint32_t s1 = rng_below(&rng, RG_PPM + 1);
        uint32_t s2 = rng_below(&rng, RG_PPM + 1);
        if (s1 > s2) {
            uint32_t t = s1;
            s1 = s2;
            s2 = t;
        }
        uint32_t in1 = 0, in2 = 0;
        for (uint32_t i = 0; i < N; i++) {
            bool a = rg_bucket_in(buckets[i], s1),
                 b = rg_bucket_in(buckets[i], s2);
            if (a && !b)
                fail_msg("host-%u in share %u ppm but not in %u ppm", i, s1,
                         s2);
            in1 += a;
            in2 += b;
        }
        /* Each wave holds about its share of the fleet (6 sigma). */
        double q = s2 / (double)RG_PPM;
        double sd = sqrt(N * q * (1 - q));
        assert_true(fabs(in2 - N * q) <= 6 * sd + 1);
        assert_true(in1 <= in2);
    }
    /* Edges: nobody at 0, everybody at 100%. */
    for (uint32_t i = 0; i < N; i++) {
        assert_false(rg_bucket_in(buckets[i], 0));
        assert_true(rg_bucket_in(buckets[i], RG_PPM));
    }
}

static void salts_are_independent(void **state)
{
    (void)state;
    const uint32_t ten = RG_PPM / 10;
    uint32_t a = 0, b = 0, both = 0;
    char id[32];
    for (uint32_t i = 0; i < N_IDS; i++) {
        host_id(id, sizeof id, i);
        bool in_a = rg_bucket_in(rg_bucket("rollout-1", id), ten);
        bool in_b = rg_bucket_in(rg_bucket("rollout-2", id), ten);
        a += in_a;
        b += in_b;
        both += in_a && in_b;
    }
    /* Independent 10% waves overlap on about 1%: 10,000 of 1,000,000,
     * standard deviation about 99.5; allow 6 sigma. The same salt would
     * overlap on 10%. */
    if (fabs(both - 10000.0) > 600)
        fail_msg("two 10%% waves under different salts share %u endpoints; "
                 "expected about 10000",
                 both);
    assert_true(fabs(a - 100000.0) < 1800);
    assert_true(fabs(b - 100000.0) < 1800);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stable_pinned_values),
        cmocka_unit_test(long_ids_hash_the_whole_string),
        cmocka_unit_test(long_ids_need_no_allocation),
        cmocka_unit_test(pieces_hash_as_one),
        cmocka_unit_test(uniform_chi_square),
        cmocka_unit_test(monotone_in_share),
        cmocka_unit_test(salts_are_independent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
