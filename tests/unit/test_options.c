/* Unit tests for the configuration format (src/common/kv.c) and
 * rollgated's settings (src/server/options.c): comments, sections and
 * lines without a final newline; defaults < file < flags with where each
 * value came from; every class of bad file or flag refused with its
 * FILE:LINE and key; what a reload compares and copies.
 * ctest-labels: ops */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/kv.h"
#include "server/options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct seen {
    char text[512];
} seen;

static int record(void *ctx, const rg_kv_line *l, rg_err *err)
{
    (void)err;
    seen *s = ctx;
    size_t n = strlen(s->text);
    snprintf(s->text + n, sizeof s->text - n, "%s|%s|%s|%s;", l->where,
             l->section ? l->section : "-", l->key ? l->key : "-",
             l->value ? l->value : "-");
    return 0;
}

static void kv_lines(void **state)
{
    (void)state;
    seen s = {""};
    const char *t = "# c\n\n  a = 1 \nb=\n[channel x]\n  #x = y\nc = \"q # r\"";
    assert_int_equal(rg_kv_parse(t, strlen(t), "f", record, &s, NULL), 0);
    assert_string_equal(s.text, "f:3|-|a|1;f:4|-|b|;f:5|channel x|-|-;"
                                "f:7|-|c|\"q # r\";");
    rg_err err;
    s.text[0] = '\0';
    assert_int_equal(rg_kv_parse("a\n", 2, NULL, record, &s, &err), RG_EINVAL);
    assert_string_equal(err.msg, "line 1: expected 'key = value'");
    assert_int_equal(rg_kv_parse("x=1\n = 2", 8, "g", record, &s, &err),
                     RG_EINVAL);
    assert_string_equal(err.msg, "g:2: expected 'key = value'");
    assert_int_equal(rg_kv_parse("[x", 2, "g", record, &s, &err), RG_EINVAL);
    assert_string_equal(err.msg, "g:1: unterminated section");
}

static rg_server_options opts;

/* Writes text to a temp file named into path. */
static void temp_file(char *path, size_t cap, const char *text)
{
    snprintf(path, cap, "/tmp/rg-test-options-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static size_t option(const char *name)
{
    for (size_t i = 0; i < rg_options_count(); i++)
        if (strcmp(rg_options_name(i), name) == 0)
            return i;
    fail_msg("no option %s", name);
    return 0;
}

static void file_then_flags(void **state)
{
    (void)state;
    char path[64], want[128], v[64];
    rg_err err;
    temp_file(path, sizeof path,
              "data = /d\ninterval = 30\nevent_burst = 7\nlog_level = warn\n"
              "store = postgres://rg:pw@db/rg\n");
    char *argv[] = {"--interval", "45", "--config", path, NULL};
    assert_int_equal(rg_options_load(&opts, 4, argv, &err), 0);
    assert_string_equal(opts.cfg.data_dir, "/d");
    assert_int_equal(opts.cfg.checkin_interval_s, 45);
    assert_int_equal(opts.cfg.event_burst, 7);
    assert_int_equal(opts.cfg.events_per_min, 120);
    assert_string_equal(opts.from[option("interval")], "--interval");
    snprintf(want, sizeof want, "%s:3", path);
    assert_string_equal(opts.from[option("event-burst")], want);
    assert_string_equal(opts.from[option("events-per-min")], "default");
    rg_options_format(&opts.cfg, option("log-level"), v, sizeof v);
    assert_string_equal(v, "warn");
    /* The store URL is used whole and shown without its password. */
    assert_string_equal(opts.cfg.store, "postgres://rg:pw@db/rg");
    rg_options_format(&opts.cfg, option("store"), v, sizeof v);
    assert_string_equal(v, "postgres://rg:***@db/rg");
    assert_true(rg_options_live(option("log-level")));
    assert_false(rg_options_live(option("listen")));

    /* A reload reads the same file and flags again. */
    static rg_server_options next;
    FILE *f = fopen(path, "w");
    fputs("data = /d\nevent_burst = 9\n", f);
    fclose(f);
    assert_int_equal(rg_options_reload(&opts, &next, &err), 0);
    assert_int_equal(next.cfg.event_burst, 9);
    assert_int_equal(next.cfg.checkin_interval_s, 45);
    rg_options_copy(&opts.cfg, &next.cfg, option("event-burst"));
    assert_int_equal(opts.cfg.event_burst, 9);
    unlink(path);
}

static void refused(const char *text, const char *msg)
{
    char path[64], want[256];
    rg_err err;
    temp_file(path, sizeof path, text);
    char *argv[] = {"--config", path, NULL};
    assert_int_equal(rg_options_load(&opts, 2, argv, &err), RG_EINVAL);
    snprintf(want, sizeof want, "%s%s", path, msg);
    if (strncmp(err.msg, want, strlen(want)) != 0)
        fail_msg("'%s' does not start with '%s'", err.msg, want);
    unlink(path);
}

static void bad_files_and_flags(void **state)
{
    (void)state;
    rg_err err;
    refused("data = /d\nfoo = 1\n",
            ":2: unknown key 'foo' (see rollgated --help)");
    refused("tick-ms = 5\n", ":1: unknown key 'tick-ms' (keys are spelt with "
                             "'_' for '-': see rollgated --help)");
    refused("threads = 999\n",
            ":1: 'threads': expected threads (1..256), got '999'");
    refused("log_level = loud\n", ":1: 'log_level': expected debug, info, "
                                  "warn or error, got 'loud'");
    refused("listen = 7400\n", ":1: 'listen': expected HOST:PORT, got '7400'");
    refused("rate_table = 16\nrate_table = 32\n",
            ":2: 'rate_table' set twice (first at ");
    refused("[server]\n", ":1: sections ([server]) are not used in this file");
    refused("config = x\n", ":1: unknown key 'config' (see rollgated --help)");
    char *argv[] = {"--tick-ms", "0", NULL};
    assert_int_equal(rg_options_load(&opts, 2, argv, &err), RG_EINVAL);
    assert_string_equal(err.msg, "--tick-ms: expected milliseconds "
                                 "(1..3600000), got '0'");
    char *missing[] = {"--config", "/nonexistent/rollgated.conf", NULL};
    assert_int_equal(rg_options_load(&opts, 2, missing, &err), RG_EIO);
    assert_non_null(strstr(err.msg, "/nonexistent/rollgated.conf"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kv_lines),
        cmocka_unit_test(file_then_flags),
        cmocka_unit_test(bad_files_and_flags),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
