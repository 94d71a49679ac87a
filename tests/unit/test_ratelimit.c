/* Unit tests for the per-address token buckets (src/server/ratelimit.c)
 * and the pieces of the hardened auth that need no server: burst, refill
 * with time, Retry-After, refusal counts and their draining, a bounded
 * table under a flood of addresses, the disabled limiter, rate_limited in
 * the error table, and the CLI's CA file sources.
 * ctest-labels: security */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cli/config.h"
#include "common/crypto.h"
#include "common/err.h"
#include "server/ratelimit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void burst_then_refill(void **state)
{
    (void)state;
    rg_ratelimit *rl = NULL;
    rg_ratelimit_opts o = {.burst = 3, .per_min = 6, .capacity = 64};
    int retry = 0;
    uint64_t denied = 99;
    assert_int_equal(rg_ratelimit_new(&o, &rl, NULL), 0);
    assert_true(rg_ratelimit_enabled(rl));
    for (int i = 0; i < 3; i++)
        assert_true(rg_ratelimit_take(rl, "10.0.0.1", 1000, &retry, &denied));
    assert_int_equal(denied, 0);
    assert_false(rg_ratelimit_take(rl, "10.0.0.1", 1000, &retry, NULL));
    assert_int_equal(retry, 10); /* 6 a minute: one every 10 s */
    assert_false(rg_ratelimit_take(rl, "10.0.0.1", 5000, &retry, NULL));
    assert_int_equal(retry, 6);
    /* Another address has its own bucket. */
    assert_true(rg_ratelimit_take(rl, "10.0.0.2", 5000, NULL, NULL));
    /* After 10 s one token is back, and the two refusals are reported. */
    assert_true(rg_ratelimit_take(rl, "10.0.0.1", 11000, NULL, &denied));
    assert_int_equal(denied, 2);
    assert_false(rg_ratelimit_take(rl, "10.0.0.1", 11000, NULL, NULL));
    /* Refill never exceeds the burst. */
    for (int i = 0; i < 3; i++)
        assert_true(rg_ratelimit_take(rl, "10.0.0.1", 10000000, NULL, NULL));
    assert_false(rg_ratelimit_take(rl, "10.0.0.1", 10000000, NULL, NULL));
    rg_ratelimit_free(rl);
}

typedef struct drained {
    char keys[32][64];
    uint64_t counts[32];
    size_t n;
} drained;

static void on_drain(void *ctx, const char *key, uint64_t n)
{
    drained *d = ctx;
    if (d->n < 32) {
        snprintf(d->keys[d->n], sizeof d->keys[0], "%s", key);
        d->counts[d->n++] = n;
    }
}

static void drain_waits_for_quiet(void **state)
{
    (void)state;
    rg_ratelimit *rl = NULL;
    rg_ratelimit_opts o = {.burst = 1, .per_min = 1, .capacity = 64};
    drained d = {0};
    assert_int_equal(rg_ratelimit_new(&o, &rl, NULL), 0);
    assert_true(rg_ratelimit_take(rl, "a", 0, NULL, NULL));
    for (int i = 0; i < 5; i++)
        assert_false(rg_ratelimit_take(rl, "a", 1000, NULL, NULL));
    /* Not quiet long enough yet. */
    assert_int_equal(rg_ratelimit_drain(rl, 30000, 60000, on_drain, &d), 0);
    assert_int_equal(rg_ratelimit_drain(rl, 61000, 60000, on_drain, &d), 1);
    assert_string_equal(d.keys[0], "a");
    assert_int_equal(d.counts[0], 5);
    /* Drained counts are not reported again. */
    assert_int_equal(rg_ratelimit_drain(rl, 200000, 0, on_drain, &d), 0);
    rg_ratelimit_free(rl);
}

static void flood_of_addresses_stays_bounded(void **state)
{
    (void)state;
    rg_ratelimit *rl = NULL;
    rg_ratelimit_opts o = {.burst = 1, .per_min = 1, .capacity = 16};
    drained d = {0};
    char key[32];
    assert_int_equal(rg_ratelimit_new(&o, &rl, NULL), 0);
    /* Each address spends its token and is refused once. */
    for (int i = 0; i < 10000; i++) {
        snprintf(key, sizeof key, "10.%d.%d.%d", i >> 16, (i >> 8) & 255,
                 i & 255);
        assert_true(rg_ratelimit_take(rl, key, i, NULL, NULL));
        assert_false(rg_ratelimit_take(rl, key, i, NULL, NULL));
    }
    /* At most 16 addresses are remembered; the refusals of the evicted
     * ones are summed under "*" so none is lost. */
    assert_true(rg_ratelimit_drain(rl, 1000000, 0, on_drain, &d) <= 17);
    uint64_t total = 0, star = 0;
    for (size_t i = 0; i < d.n; i++) {
        total += d.counts[i];
        if (strcmp(d.keys[i], "*") == 0)
            star = d.counts[i];
    }
    assert_true(star >= 10000 - 16);
    assert_int_equal(total, 10000);
    rg_ratelimit_free(rl);
}

static void evicted_address_starts_full(void **state)
{
    (void)state;
    rg_ratelimit *rl = NULL;
    rg_ratelimit_opts o = {.burst = 1, .per_min = 1, .capacity = 8};
    char key[32];
    assert_int_equal(rg_ratelimit_new(&o, &rl, NULL), 0);
    assert_true(rg_ratelimit_take(rl, "victim", 0, NULL, NULL));
    assert_false(rg_ratelimit_take(rl, "victim", 1, NULL, NULL));
    /* The least recently used slot of a full set goes first: the victim,
     * touched at time 1, is older than every later address. */
    for (int i = 0; i < 64; i++) {
        snprintf(key, sizeof key, "other-%d", i);
        rg_ratelimit_take(rl, key, 100 + i, NULL, NULL);
    }
    assert_true(rg_ratelimit_take(rl, "victim", 200, NULL, NULL));
    rg_ratelimit_free(rl);
}

static void disabled_and_invalid(void **state)
{
    (void)state;
    rg_ratelimit *rl = NULL;
    rg_ratelimit_opts off = {.burst = 0};
    rg_ratelimit_opts stuck = {.burst = 5, .per_min = 0};
    rg_err err;
    assert_int_equal(rg_ratelimit_new(&stuck, &rl, &err), RG_EINVAL);
    assert_int_equal(rg_ratelimit_new(&off, &rl, NULL), 0);
    assert_false(rg_ratelimit_enabled(rl));
    for (int i = 0; i < 1000; i++)
        assert_true(rg_ratelimit_take(rl, "x", 0, NULL, NULL));
    rg_ratelimit_free(rl);
    rg_ratelimit_free(NULL);
}

/* A reload changes burst and refill in place: buckets keep their tokens,
 * capped at the new burst; a disabled table can be enabled and back. */
static void set_while_in_use(void **state)
{
    (void)state;
    rg_ratelimit *rl = NULL;
    rg_ratelimit_opts o = {.burst = 0, .per_min = 1, .capacity = 64};
    assert_int_equal(rg_ratelimit_new(&o, &rl, NULL), 0);
    for (int i = 0; i < 5; i++)
        assert_true(rg_ratelimit_take(rl, "a", 1000, NULL, NULL));
    assert_int_equal(rg_ratelimit_set(rl, 2, 1, NULL), 0);
    assert_true(rg_ratelimit_enabled(rl));
    assert_true(rg_ratelimit_take(rl, "a", 1000, NULL, NULL));
    assert_true(rg_ratelimit_take(rl, "a", 1000, NULL, NULL));
    assert_false(rg_ratelimit_take(rl, "a", 1000, NULL, NULL));
    assert_int_equal(rg_ratelimit_set(rl, 10, 60, NULL), 0);
    assert_true(rg_ratelimit_take(rl, "a", 2000, NULL, NULL)); /* +1/s */
    assert_false(rg_ratelimit_take(rl, "a", 2000, NULL, NULL));
    assert_true(rg_ratelimit_take(rl, "b", 2000, NULL, NULL));
    assert_int_equal(rg_ratelimit_set(rl, 1, 1, NULL), 0); /* b: 9 -> 1 */
    assert_true(rg_ratelimit_take(rl, "b", 2000, NULL, NULL));
    assert_false(rg_ratelimit_take(rl, "b", 2000, NULL, NULL));
    assert_int_equal(rg_ratelimit_set(rl, 3, 0, NULL), RG_EINVAL);
    assert_false(rg_ratelimit_take(rl, "b", 2000, NULL, NULL)); /* kept */
    assert_int_equal(rg_ratelimit_set(rl, 0, 0, NULL), 0);
    assert_false(rg_ratelimit_enabled(rl));
    assert_true(rg_ratelimit_take(rl, "b", 2000, NULL, NULL));
    rg_ratelimit_free(rl);
}

static void rate_limited_in_error_table(void **state)
{
    (void)state;
    assert_string_equal(rg_code_name(RG_ERATELIMIT), "rate_limited");
    assert_int_equal(rg_code_http_status(RG_ERATELIMIT), 429);
}

static void cli_ca_file_sources(void **state)
{
    (void)state;
    char dir[] = "/tmp/rg-test-ca-XXXXXX", conf[64];
    rg_cli_config cfg;
    rg_err err;
    assert_non_null(mkdtemp(dir));
    snprintf(conf, sizeof conf, "%s/c", dir);
    FILE *f = fopen(conf, "w");
    assert_non_null(f);
    fputs("url = https://h:1\ntoken = t\nca_file = /etc/from-file.pem\n", f);
    fclose(f);
    rg_cli_config_in in = {.flag_config = conf};
    assert_int_equal(rg_cli_config_resolve(&in, &cfg, &err), 0);
    assert_string_equal(cfg.ca_file, "/etc/from-file.pem");
    in.env_ca = "/env.pem";
    assert_int_equal(rg_cli_config_resolve(&in, &cfg, &err), 0);
    assert_string_equal(cfg.ca_file, "/env.pem");
    in.flag_ca = "/flag.pem";
    assert_int_equal(rg_cli_config_resolve(&in, &cfg, &err), 0);
    assert_string_equal(cfg.ca_file, "/flag.pem");
    /* With an https URL and a token given, the file is still read for
     * the CA; with http it is not needed. */
    in = (rg_cli_config_in){
        .flag_url = "https://x:1", .flag_token = "t", .flag_config = conf};
    assert_int_equal(rg_cli_config_resolve(&in, &cfg, &err), 0);
    assert_string_equal(cfg.ca_file, "/etc/from-file.pem");
    in.flag_url = "http://x:1";
    assert_int_equal(rg_cli_config_resolve(&in, &cfg, &err), 0);
    assert_string_equal(cfg.ca_file, "");
    unlink(conf);
    rmdir(dir);
}

int main(void)
{
    assert_int_equal(rg_crypto_init(), 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(burst_then_refill),
        cmocka_unit_test(drain_waits_for_quiet),
        cmocka_unit_test(flood_of_addresses_stays_bounded),
        cmocka_unit_test(evicted_address_starts_full),
        cmocka_unit_test(disabled_and_invalid),
        cmocka_unit_test(set_while_in_use),
        cmocka_unit_test(rate_limited_in_error_table),
        cmocka_unit_test(cli_ca_file_sources),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
