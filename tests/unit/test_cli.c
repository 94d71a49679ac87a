/* Unit tests for src/cli: argument parsing, config precedence, tables,
 * human formats and duration/time parsing, error lines, exit statuses,
 * the mapping of the server's error shape, and usage errors end to end
 * through rg_cli_run (no server needed).
 * ctest-labels: foundation */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/config.h"
#include "cli/fmt.h"
#include "cli/table.h"
#include "cli/view.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- args ---------------------------------------------------------- */

static const char *const global_spec[] = {"server:", "json", NULL};
static const char *const cmd_spec[] = {"channel:", "active", NULL};

static int parse(rg_cli_args *a, rg_err *err, int argc, char **argv)
{
    const char *const *specs[] = {global_spec, cmd_spec};
    rg_cli_args_init(a);
    rg_err_clear(err);
    return rg_cli_args_parse(a, specs, 2, argc, argv, err);
}

static void args_values_flags_positionals(void **state)
{
    (void)state;
    char *argv[] = {"release", "--channel",           "det", "list",
                    "--json",  "--server=http://x:1", "--",  "--not-an-option"};
    rg_cli_args a;
    rg_err err;
    assert_int_equal(parse(&a, &err, 8, argv), 0);
    assert_string_equal(rg_cli_args_get(&a, "channel"), "det");
    assert_string_equal(rg_cli_args_get(&a, "server"), "http://x:1");
    assert_string_equal(rg_cli_args_get(&a, "json"), "");
    assert_true(rg_cli_args_has(&a, "json"));
    assert_false(rg_cli_args_has(&a, "active"));
    assert_null(rg_cli_args_get(&a, "chan")); /* no prefix matching */
    assert_int_equal(a.n_pos, 3);
    assert_string_equal(a.pos[0], "release");
    assert_string_equal(a.pos[1], "list");
    assert_string_equal(a.pos[2], "--not-an-option");
}

/* "OLD=NEW:" keeps an old spelling: its values are found under NEW, in
 * command-line order with NEW's own. */
static void args_alias(void **state)
{
    (void)state;
    static const char *const spec[] = {
        "signing-key:", "sign=signing-key:", NULL};
    const char *const *specs[] = {spec};
    char *argv[] = {"--sign", "a", "--signing-key", "b", "--sign=c"};
    const char *all[4];
    rg_cli_args a;
    rg_err err;
    rg_cli_args_init(&a);
    assert_int_equal(rg_cli_args_parse(&a, specs, 1, 5, argv, &err), 0);
    assert_int_equal(rg_cli_args_all(&a, "signing-key", all, 4), 3);
    assert_string_equal(all[0], "a");
    assert_string_equal(all[1], "b");
    assert_string_equal(all[2], "c");
    assert_false(rg_cli_args_has(&a, "sign"));
    char *bad[] = {"--signing"};
    assert_int_equal(rg_cli_args_parse(&a, specs, 1, 1, bad, &err), RG_EINVAL);
}

static void args_last_repeat_wins_and_dash_is_positional(void **state)
{
    (void)state;
    char *argv[] = {"--channel", "a", "-", "--channel=b", "--channel="};
    rg_cli_args a;
    rg_err err;
    assert_int_equal(parse(&a, &err, 5, argv), 0);
    assert_string_equal(rg_cli_args_get(&a, "channel"), "");
    const char *all[4];
    assert_int_equal(rg_cli_args_all(&a, "channel", all, 4), 3);
    assert_string_equal(all[0], "a");
    assert_string_equal(all[1], "b");
    assert_string_equal(all[2], "");
    assert_int_equal(rg_cli_args_all(&a, "channel", all, 2), 2);
    assert_int_equal(rg_cli_args_all(&a, "json", all, 4), 0);
    assert_int_equal(a.n_pos, 1);
    assert_string_equal(a.pos[0], "-");
}

static void args_errors_name_the_option(void **state)
{
    (void)state;
    rg_cli_args a;
    rg_err err;
    char *unknown[] = {"list", "--chanel", "x"};
    assert_int_equal(parse(&a, &err, 3, unknown), RG_EINVAL);
    assert_string_equal(err.field, "chanel");
    assert_non_null(strstr(err.msg, "unknown option '--chanel'"));

    char *missing[] = {"list", "--channel"};
    assert_int_equal(parse(&a, &err, 2, missing), RG_EINVAL);
    assert_string_equal(err.field, "channel");
    assert_non_null(strstr(err.msg, "needs a value"));

    char *flag_value[] = {"--json=yes"};
    assert_int_equal(parse(&a, &err, 1, flag_value), RG_EINVAL);
    assert_non_null(strstr(err.msg, "takes no value"));

    char *short_opt[] = {"-j"};
    assert_int_equal(parse(&a, &err, 1, short_opt), RG_EINVAL);
    assert_non_null(strstr(err.msg, "'-j'"));

    char *bare[] = {"--"};
    assert_int_equal(parse(&a, &err, 1, bare), 0);
    assert_int_equal(a.n_pos, 0);
    char *empty_name[] = {"--=x"};
    assert_int_equal(parse(&a, &err, 1, empty_name), RG_EINVAL);
}

static void args_cap_positionals(void **state)
{
    (void)state;
    char *argv[RG_CLI_ARGS_MAX + 1];
    for (size_t i = 0; i <= RG_CLI_ARGS_MAX; i++)
        argv[i] = "p";
    rg_cli_args a;
    rg_err err;
    assert_int_equal(parse(&a, &err, RG_CLI_ARGS_MAX, argv), 0);
    assert_int_equal(parse(&a, &err, RG_CLI_ARGS_MAX + 1, argv), RG_EINVAL);
    assert_non_null(strstr(err.msg, "too many"));
}

/* ---- config -------------------------------------------------------- */

static char tmp_root[256];

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

/* A fresh $HOME with .config/rollgate/config holding text (NULL: none). */
static void make_home(char *home, size_t n, const char *name, const char *text)
{
    char dir[512];
    assert_true(snprintf(home, n, "%s/%s", tmp_root, name) < (int)n);
    mkdir(home, 0700);
    assert_true(snprintf(dir, sizeof dir, "%s/.config", home) <
                (int)sizeof dir);
    mkdir(dir, 0700);
    assert_true(snprintf(dir, sizeof dir, "%s/.config/rollgate", home) <
                (int)sizeof dir);
    mkdir(dir, 0700);
    if (text) {
        char path[600];
        assert_true(snprintf(path, sizeof path, "%s/config", dir) <
                    (int)sizeof path);
        write_file(path, text);
    }
}

static void config_precedence(void **state)
{
    (void)state;
    char home[512], other[600];
    make_home(
        home, sizeof home, "home1",
        "# defaults\nserver = http://file:1/\n\ntoken = \"file-token\"\n");
    snprintf(other, sizeof other, "%s/other.conf", tmp_root);
    write_file(other, "url=http://other:2\ntoken=other-token\n"); /* url: old */
    rg_cli_config cfg;
    rg_err err;

    /* Flags beat everything. */
    rg_cli_config_in in = {.flag_url = "http://flag:3",
                           .flag_token = "flag-token",
                           .env_url = "http://env:4",
                           .env_token = "env-token",
                           .home = home};
    assert_int_equal(rg_cli_config_resolve(&in, &cfg, &err), 0);
    assert_string_equal(cfg.url, "http://flag:3");
    assert_string_equal(cfg.token, "flag-token");
    assert_string_equal(cfg.url_from, "--server");
    assert_string_equal(cfg.token_from, "--token");

    /* The environment beats the file; each value resolves on its own. */
    in = (rg_cli_config_in){.flag_token = "flag-token",
                            .env_url = "http://env:4",
                            .env_token = "env-token",
                            .home = home};
    assert_int_equal(rg_cli_config_resolve(&in, &cfg, &err), 0);
    assert_string_equal(cfg.url, "http://env:4");
    assert_string_equal(cfg.token, "flag-token");

    /* The default file fills what is missing; trailing '/' is dropped and
     * quotes are removed. */
    in = (rg_cli_config_in){.env_token = "env-token", .home = home};
    assert_int_equal(rg_cli_config_resolve(&in, &cfg, &err), 0);
    assert_string_equal(cfg.url, "http://file:1");
    assert_string_equal(cfg.url_from, "config");
    assert_string_equal(cfg.token, "env-token");
    in = (rg_cli_config_in){.home = home};
    assert_int_equal(rg_cli_config_resolve(&in, &cfg, &err), 0);
    assert_string_equal(cfg.token, "file-token");

    /* ROLLGATE_CONFIG beats the default file, --config beats both. */
    in.env_config = other;
    assert_int_equal(rg_cli_config_resolve(&in, &cfg, &err), 0);
    assert_string_equal(cfg.url, "http://other:2");
    assert_string_equal(cfg.token, "other-token");
    in.env_config = "/nonexistent/rollgate.conf";
    in.flag_config = other;
    assert_int_equal(rg_cli_config_resolve(&in, &cfg, &err), 0);
    assert_string_equal(cfg.token, "other-token");

    /* Nothing anywhere: the default URL and no token. */
    char empty_home[512];
    make_home(empty_home, sizeof empty_home, "home-empty", NULL);
    in = (rg_cli_config_in){.home = empty_home, .env_url = ""};
    assert_int_equal(rg_cli_config_resolve(&in, &cfg, &err), 0);
    assert_string_equal(cfg.url, RG_CLI_DEFAULT_URL);
    assert_string_equal(cfg.url_from, "default");
    assert_string_equal(cfg.token, "");
}

static void config_errors(void **state)
{
    (void)state;
    rg_cli_config cfg;
    rg_err err;
    char bad[600];

    /* An explicitly named file must exist. */
    rg_cli_config_in in = {.flag_config = "/nonexistent/rollgate.conf"};
    assert_int_equal(rg_cli_config_resolve(&in, &cfg, &err), RG_EINVAL);
    assert_non_null(strstr(err.msg, "does not exist"));

    /* Malformed lines and unknown keys are refused with the line number. */
    snprintf(bad, sizeof bad, "%s/bad.conf", tmp_root);
    write_file(bad, "url = http://a:1\n\njust words\n");
    in = (rg_cli_config_in){.flag_config = bad};
    assert_int_equal(rg_cli_config_resolve(&in, &cfg, &err), RG_EINVAL);
    assert_non_null(strstr(err.msg, "bad.conf:3: expected 'key = value'"));
    write_file(bad, "tokn = x\n");
    assert_int_equal(rg_cli_config_resolve(&in, &cfg, &err), RG_EINVAL);
    assert_non_null(strstr(err.msg, ":1: unknown key 'tokn'"));

    /* The broken file is not even read when flags give everything. */
    in.flag_url = "http://a:1";
    in.flag_token = "t";
    assert_int_equal(rg_cli_config_resolve(&in, &cfg, &err), 0);

    /* Only http(s) URLs. */
    in = (rg_cli_config_in){.flag_url = "ftp://a", .flag_token = "t"};
    assert_int_equal(rg_cli_config_resolve(&in, &cfg, &err), RG_EINVAL);
    assert_string_equal(err.field, "server");

    /* Values over the buffer are refused, not truncated. */
    char token[RG_CLI_TOKEN_MAX + 10];
    memset(token, 'a', sizeof token - 1);
    token[sizeof token - 1] = '\0';
    in = (rg_cli_config_in){.flag_url = "http://a", .flag_token = token};
    assert_int_equal(rg_cli_config_resolve(&in, &cfg, &err), RG_EINVAL);
}

/* ---- tables -------------------------------------------------------- */

static char *render(rg_cli_table *t)
{
    rg_buf b;
    rg_buf_init(&b, 1 << 20);
    assert_int_equal(rg_cli_table_render(t, &b), 0);
    rg_cli_table_release(t);
    return rg_buf_detach(&b);
}

static void table_aligns_columns(void **state)
{
    (void)state;
    static const char *const headers[] = {"ID", "NAME", "SIZE", "NOTES", NULL};
    rg_cli_table t;
    rg_cli_table_init(&t, headers);
    rg_cli_table_align_right(&t, 0);
    rg_cli_table_align_right(&t, 2);
    rg_cli_table_cell(&t, "1");
    rg_cli_table_cell(&t, "detections");
    rg_cli_table_cell(&t, "4.0 KiB");
    rg_cli_table_cell(&t, "first");
    rg_cli_table_cellf(&t, "%d", 12);
    rg_cli_table_cell(&t, "flags");
    rg_cli_table_cell(&t, "512 B");
    rg_cli_table_cell(&t, NULL);
    assert_int_equal(rg_cli_table_rows(&t), 2);
    char *s = render(&t);
    assert_string_equal(s, "ID  NAME           SIZE  NOTES\n"
                           " 1  detections  4.0 KiB  first\n"
                           "12  flags         512 B  -\n");
    free(s);
}

static void table_wraps_cleans_and_counts_utf8(void **state)
{
    (void)state;
    static const char *const headers[] = {"A", "B", NULL};
    rg_cli_table t;
    rg_cli_table_init(&t, headers);
    rg_cli_table_max_width(&t, 0, 6);
    rg_cli_table_cell(&t, "line one\nline two"); /* cleaned and wrapped */
    rg_cli_table_cell(&t, "x");
    rg_cli_table_cell(&t, "\xc3\xa9t\xc3\xa9"); /* "été": 3 columns */
    rg_cli_table_cell(&t, "y");
    rg_cli_table_cell(&t, "tab\there"); /* partial last row */
    rg_cli_table_cell(&t, "z");
    rg_cli_table_cell(&t, "abcdefghij k"); /* a word wider than 6 */
    char *s = render(&t);
    assert_string_equal(s, "A       B\n"
                           "line    x\n"
                           "one\n"
                           "line\n"
                           "two\n"
                           "\xc3\xa9t\xc3\xa9     y\n"
                           "tab     z\n"
                           "here\n"
                           "abcdef\n"
                           "ghij k\n");
    free(s);
}

static void table_kv_block(void **state)
{
    (void)state;
    rg_cli_table t;
    rg_cli_table_init_kv(&t);
    rg_cli_table_kv(&t, "release", "%d", 3);
    rg_cli_table_kv(&t, "channel", "%s", "detections");
    rg_cli_table_kv(&t, "notes", "%s", "");
    char *s = render(&t);
    assert_string_equal(s, "release:  3\nchannel:  detections\nnotes:\n");
    free(s);
}

static void table_render_respects_output_cap(void **state)
{
    (void)state;
    static const char *const headers[] = {"NAME", NULL};
    rg_cli_table t;
    rg_cli_table_init(&t, headers);
    rg_cli_table_cell(&t, "a long enough cell");
    rg_buf b;
    rg_buf_init(&b, 8);
    assert_int_equal(rg_cli_table_render(&t, &b), RG_ETOOBIG);
    rg_buf_release(&b);
    rg_cli_table_release(&t);
}

/* ---- formats and parsers ------------------------------------------- */

static void durations_parse(void **state)
{
    (void)state;
    int64_t s = 0;
    rg_err err;
    assert_int_equal(rg_cli_parse_duration("24h", &s, &err), 0);
    assert_int_equal(s, 86400);
    assert_int_equal(rg_cli_parse_duration("90m", &s, &err), 0);
    assert_int_equal(s, 5400);
    assert_int_equal(rg_cli_parse_duration("1h30m", &s, &err), 0);
    assert_int_equal(s, 5400);
    assert_int_equal(rg_cli_parse_duration("45", &s, &err), 0);
    assert_int_equal(s, 45);
    assert_int_equal(rg_cli_parse_duration("2w1d", &s, &err), 0);
    assert_int_equal(s, 15 * 86400);
    assert_int_equal(rg_cli_parse_duration("30s", &s, &err), 0);
    assert_int_equal(s, 30);
    s = -1;
    static const char *const bad[] = {"",
                                      "h",
                                      "1x",
                                      "1h30",
                                      "-5",
                                      "0",
                                      "0h",
                                      "1.5h",
                                      " 1h",
                                      "1h ",
                                      "99999999999999999999s",
                                      "40000d",
                                      NULL};
    for (size_t i = 0; bad[i]; i++) {
        assert_int_equal(rg_cli_parse_duration(bad[i], &s, &err), RG_EINVAL);
        assert_int_equal(s, -1); /* untouched on failure */
    }
    assert_int_equal(rg_cli_parse_duration("1x", &s, &err), RG_EINVAL);
    assert_non_null(strstr(err.msg, "'1x' is not a duration"));
}

static void durations_format(void **state)
{
    (void)state;
    char b[RG_CLI_FMT_MAX];
    rg_cli_fmt_duration(b, sizeof b, 0);
    assert_string_equal(b, "0s");
    rg_cli_fmt_duration(b, sizeof b, 45);
    assert_string_equal(b, "45s");
    rg_cli_fmt_duration(b, sizeof b, 600);
    assert_string_equal(b, "10m");
    rg_cli_fmt_duration(b, sizeof b, 5400);
    assert_string_equal(b, "1h30m");
    rg_cli_fmt_duration(b, sizeof b, 3605);
    assert_string_equal(b, "1h");
    rg_cli_fmt_duration(b, sizeof b, 2 * 86400 + 3 * 3600 + 7);
    assert_string_equal(b, "2d3h");
    rg_cli_fmt_duration(b, sizeof b, -90);
    assert_string_equal(b, "-1m30s");
}

static void sizes_format(void **state)
{
    (void)state;
    char b[RG_CLI_FMT_MAX];
    rg_cli_fmt_size(b, sizeof b, 0);
    assert_string_equal(b, "0 B");
    rg_cli_fmt_size(b, sizeof b, 1023);
    assert_string_equal(b, "1023 B");
    rg_cli_fmt_size(b, sizeof b, 4096);
    assert_string_equal(b, "4.0 KiB");
    rg_cli_fmt_size(b, sizeof b, 1536 * 1024);
    assert_string_equal(b, "1.5 MiB");
    rg_cli_fmt_size(b, sizeof b, 1048575); /* rounds up: not "1024.0 KiB" */
    assert_string_equal(b, "1.0 MiB");
    rg_cli_fmt_size(b, sizeof b, 3ull << 30);
    assert_string_equal(b, "3.0 GiB");
}

static void times_format(void **state)
{
    (void)state;
    char b[RG_CLI_FMT_MAX];
    const int64_t t = 1795664400000; /* 2026-11-26T03:40:00Z */
    rg_cli_fmt_iso(b, sizeof b, t + 999);
    assert_string_equal(b, "2026-11-26T03:40:00Z");
    rg_cli_fmt_iso(b, sizeof b, 0);
    assert_string_equal(b, "-");
    rg_cli_fmt_ago(b, sizeof b, t, t - 500);
    assert_string_equal(b, "just now");
    rg_cli_fmt_ago(b, sizeof b, t, t - 45000);
    assert_string_equal(b, "45s ago");
    rg_cli_fmt_ago(b, sizeof b, t, t - 5 * 60000 - 59000);
    assert_string_equal(b, "5m ago");
    rg_cli_fmt_ago(b, sizeof b, t, t - 3 * 3600000);
    assert_string_equal(b, "3h ago");
    rg_cli_fmt_ago(b, sizeof b, t, t - 4 * 86400000LL);
    assert_string_equal(b, "4d ago");
    rg_cli_fmt_ago(b, sizeof b, t, t + 10 * 60000);
    assert_string_equal(b, "in 10m");
    rg_cli_fmt_ago(b, sizeof b, t, 0);
    assert_string_equal(b, "-");
}

static void times_parse(void **state)
{
    (void)state;
    const int64_t now = 1795664400000;
    int64_t ms = 0;
    rg_err err;
    assert_int_equal(rg_cli_parse_time("1795664400123", now, &ms, &err), 0);
    assert_int_equal(ms, 1795664400123);
    assert_int_equal(rg_cli_parse_time("2026-11-26T03:40:00Z", now, &ms, &err),
                     0);
    assert_int_equal(ms, now);
    assert_int_equal(rg_cli_parse_time("2026-11-26 03:40:00", now, &ms, &err),
                     0);
    assert_int_equal(ms, now);
    assert_int_equal(rg_cli_parse_time("2026-11-26", now, &ms, &err), 0);
    assert_int_equal(ms, now - (3 * 3600 + 40 * 60) * 1000LL);
    assert_int_equal(rg_cli_parse_time("1h", now, &ms, &err), 0);
    assert_int_equal(ms, now - 3600000);
    static const char *const bad[] = {
        "",   "yesterday", "2026-11-26T03:40", "2026-13-01", "2026-11-26Zx",
        "-1", NULL};
    for (size_t i = 0; bad[i]; i++)
        assert_int_equal(rg_cli_parse_time(bad[i], now, &ms, &err), RG_EINVAL);
}

static void ints_parse(void **state)
{
    (void)state;
    int64_t v = 0;
    rg_err err;
    assert_int_equal(rg_cli_parse_int("42", 1, 100, &v, &err), 0);
    assert_int_equal(v, 42);
    assert_int_equal(
        rg_cli_parse_int("9007199254740992", 1, 1LL << 53, &v, &err), 0);
    assert_int_equal(
        rg_cli_parse_int("9007199254740993", 1, 1LL << 53, &v, &err),
        RG_EINVAL);
    assert_non_null(strstr(err.msg, "out of range"));
    static const char *const bad[] = {
        "", "x", "4x", " 4", "+4", "0x10", "99999999999999999999", NULL};
    for (size_t i = 0; bad[i]; i++)
        assert_int_equal(rg_cli_parse_int(bad[i], 0, INT64_MAX, &v, &err),
                         RG_EINVAL);
}

/* ---- errors -------------------------------------------------------- */

static void error_line_format(void **state)
{
    (void)state;
    rg_buf b;
    rg_buf_init(&b, 4096);
    assert_int_equal(rg_cli_error_line(&b, "release create", "conflict",
                                       "version 7 is not above 7", "version"),
                     0);
    assert_string_equal(b.data, "rollgate: release create: conflict: version 7 "
                                "is not above 7 (field: version)\n");
    rg_buf_reset(&b);
    assert_int_equal(rg_cli_error_line(&b, "", "usage", "missing command", ""),
                     0);
    assert_string_equal(b.data, "rollgate: usage: missing command\n");
    rg_buf_reset(&b);
    assert_int_equal(
        rg_cli_error_line(&b, "channel list", "internal", "disk\nfull\r", NULL),
        0);
    assert_string_equal(b.data,
                        "rollgate: channel list: internal: disk full \n");
    rg_buf_release(&b);
}

static void exit_statuses(void **state)
{
    (void)state;
    assert_int_equal(rg_cli_exit_status(RG_OK, 200, false), 0);
    assert_int_equal(rg_cli_exit_status(RG_ECONFLICT, 409, false), 1);
    assert_int_equal(rg_cli_exit_status(RG_EINVAL, 400, false), 1);
    assert_int_equal(rg_cli_exit_status(RG_EINVAL, 0, true), 2);
    assert_int_equal(rg_cli_exit_status(RG_EUNAVAIL, 0, false), 3);
    assert_int_equal(rg_cli_exit_status(RG_EINTERNAL, 500, false), 3);
    assert_int_equal(rg_cli_exit_status(RG_EUNAVAIL, 503, false), 3);
    assert_int_equal(rg_cli_exit_status(RG_EINTERNAL, 200, false), 3);
}

static void server_error_shape_maps_back(void **state)
{
    (void)state;
    rg_err err;
    const char *body =
        "{\"error\":{\"code\":\"conflict\",\"message\":\"version 7 "
        "is not above 7\",\"field\":\"version\"}}";
    assert_int_equal(rg_cli_http_error(409, body, strlen(body), &err),
                     RG_ECONFLICT);
    assert_string_equal(err.msg, "version 7 is not above 7");
    assert_string_equal(err.field, "version");
    assert_string_equal(rg_code_name(err.code), "conflict");

    body = "{\"error\":{\"code\":\"range_not_satisfiable\",\"message\":\"m\"}}";
    assert_int_equal(rg_cli_http_error(416, body, strlen(body), &err),
                     RG_ERANGE);
    assert_string_equal(err.field, "");

    /* Not the error shape: the status decides, with a generic message. */
    body = "<html>bad gateway</html>";
    assert_int_equal(rg_cli_http_error(502, body, strlen(body), &err),
                     RG_EINTERNAL);
    assert_string_equal(err.msg, "HTTP 502 from server");
    assert_int_equal(rg_cli_http_error(404, "", 0, &err), RG_ENOTFOUND);
    assert_int_equal(rg_cli_http_error(401, "{}", 2, &err), RG_EAUTH);
    body = "{\"error\":{\"code\":\"made_up\",\"message\":\"x\"}}";
    assert_int_equal(rg_cli_http_error(403, body, strlen(body), &err),
                     RG_EFORBIDDEN);
    assert_string_equal(err.msg, "x");
}

static void urls_escape(void **state)
{
    (void)state;
    rg_buf b;
    rg_buf_init(&b, 256);
    assert_int_equal(rg_buf_adds(&b, "/v1/audit"), 0);
    assert_int_equal(rg_cli_query_add(&b, "target", "rollout:1"), 0);
    assert_int_equal(rg_cli_query_add(&b, "actor", "ci bot&x=y"), 0);
    assert_string_equal(b.data,
                        "/v1/audit?target=rollout%3A1&actor=ci%20bot%26x%3Dy");
    rg_buf_reset(&b);
    assert_int_equal(rg_cli_url_escape(&b, "host-1.a_b~\xc3\xa9/"), 0);
    assert_string_equal(b.data, "host-1.a_b~%C3%A9%2F");
    rg_buf_release(&b);
}

static void views_tolerate_missing_fields(void **state)
{
    (void)state;
    json_t *o = json_pack("{s:s, s:i, s:f, s:n, s:[s,i]}", "s", "x", "i", 7,
                          "r", 2.5, "z", "tags", "a", 3);
    char b[64];
    assert_string_equal(rg_cli_jstr(o, "s", "-"), "x");
    assert_string_equal(rg_cli_jstr(o, "i", "-"), "-");
    assert_string_equal(rg_cli_jstr(NULL, "s", "d"), "d");
    assert_int_equal(rg_cli_jint(o, "i"), 7);
    assert_int_equal(rg_cli_jint(o, "r"), 2);
    assert_int_equal(rg_cli_jint(o, "missing"), 0);
    rg_cli_jtext(json_object_get(o, "z"), b, sizeof b);
    assert_string_equal(b, "-");
    rg_cli_jtext(json_object_get(o, "r"), b, sizeof b);
    assert_string_equal(b, "2.5");
    rg_cli_jjoin(o, "tags", ",", b, sizeof b);
    assert_string_equal(b, "a,3");
    rg_cli_jjoin(o, "nope", ",", b, sizeof b);
    assert_string_equal(b, "");
    json_decref(o);
}

/* ---- whole command lines without a server -------------------------- */

typedef struct run_result {
    int status;
    char out[8192];
    char err[1024];
} run_result;

static void slurp(FILE *f, char *buf, size_t n)
{
    rewind(f);
    size_t got = fread(buf, 1, n - 1, f);
    buf[got] = '\0';
    fclose(f);
}

static void run(run_result *r, int argc, char **argv)
{
    FILE *out = tmpfile(), *errf = tmpfile();
    assert_non_null(out);
    assert_non_null(errf);
    r->status = rg_cli_run(argc, argv, out, errf);
    slurp(out, r->out, sizeof r->out);
    slurp(errf, r->err, sizeof r->err);
}

/* True when s is exactly one line ending in '\n'. */
static bool one_line(const char *s)
{
    const char *nl = strchr(s, '\n');
    return nl && nl[1] == '\0';
}

static void run_usage_errors_are_one_line_exit_2(void **state)
{
    (void)state;
    char home[512];
    make_home(home, sizeof home, "home-run", NULL);
    setenv("HOME", home, 1);
    unsetenv("ROLLGATE_URL");
    unsetenv("ROLLGATE_TOKEN");
    unsetenv("ROLLGATE_CONFIG");
    static const struct {
        int argc;
        char *argv[8];
        const char *expect;
    } cases[] = {
        {1, {"rollgate"}, "rollgate: usage: missing command"},
        {2, {"rollgate", "frobnicate"}, "unknown command 'frobnicate'"},
        {2,
         {"rollgate", "release"},
         "rollgate: release: usage: missing subcommand"},
        {3, {"rollgate", "rollout", "explode"}, "unknown subcommand 'explode'"},
        {5,
         {"rollgate", "--token", "t", "rollout", "pause"},
         "rollgate: rollout pause: usage: missing argument"},
        {6,
         {"rollgate", "--token", "t", "rollout", "pause", "1"},
         "rollgate: rollout pause: usage: --reason is required"},
        {7,
         {"rollgate", "--token", "t", "rollout", "abort", "x", "--reason=r"},
         "'x' is not a rollout id"},
        {4,
         {"rollgate", "channel", "list", "--active"},
         "option '--active' does not apply here"},
        {3, {"rollgate", "channel", "list"}, "no token"},
        {5,
         {"rollgate", "--token", "t", "token", "create"},
         "--role is required"},
        {4,
         {"rollgate", "--config", "/nonexistent/c", "version"},
         "config file '/nonexistent/c' does not exist"},
        {3, {"rollgate", "help", "nothing"}, "unknown command 'nothing'"},
        {5,
         {"rollgate", "--token", "t", "--server", "gopher://x"},
         "missing command"},
        {5,
         {"rollgate", "--token", "t", "--server=gopher://x", "version"},
         "must start with http:// or https://"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run_result r;
        run(&r, cases[i].argc, (char **)cases[i].argv);
        if (r.status != RG_CLI_EXIT_USAGE || !strstr(r.err, cases[i].expect) ||
            !one_line(r.err) || r.out[0] != '\0')
            fail_msg("case %zu: status %d, stderr '%s', stdout '%s'", i,
                     r.status, r.err, r.out);
    }
}

static void run_local_files_are_usage_errors(void **state)
{
    (void)state;
    char plan[600];
    snprintf(plan, sizeof plan, "%s/plan.json", tmp_root);
    write_file(plan, "{\"waves\": [");
    char plan_arg[700];
    snprintf(plan_arg, sizeof plan_arg, "@%s", plan);
    char *argv1[] = {
        "rollgate", "--token", "t",         "--server", "http://127.0.0.1:1",
        "rollout",  "start",   "--release", "1",        "--plan",
        plan_arg};
    run_result r;
    run(&r, 11, argv1);
    assert_int_equal(r.status, RG_CLI_EXIT_USAGE);
    assert_non_null(strstr(r.err, "rollout start: usage: --plan:"));
    assert_non_null(strstr(r.err, "malformed JSON"));
    assert_true(one_line(r.err));

    char *argv2[] = {
        "rollgate",           "--token",  "t",      "--server",
        "http://127.0.0.1:1", "artifact", "upload", "/nonexistent/file"};
    run(&r, 8, argv2);
    assert_int_equal(r.status, RG_CLI_EXIT_USAGE);
    assert_non_null(strstr(r.err, "cannot open '/nonexistent/file'"));

    char *argv3[] = {"rollgate", "--token",   "t", "release",
                     "create",   "--channel", "c", "--version",
                     "0",        "--notes",   "n", "--artifact",
                     "abc"};
    run(&r, 13, argv3);
    assert_int_equal(r.status, RG_CLI_EXIT_USAGE);
    assert_non_null(strstr(r.err, "--version: '0' is out of range"));

    char *argv4[] = {"rollgate", "--token",   "t", "release",
                     "create",   "--channel", "c", "--version",
                     "3",        "--notes",   "n"};
    run(&r, 11, argv4);
    assert_int_equal(r.status, RG_CLI_EXIT_USAGE);
    assert_non_null(strstr(r.err, "exactly one of --file F or --artifact"));

    char *argv5[] = {"rollgate", "--token",      "t",   "enroll-key",
                     "create",   "--expires-in", "soon"};
    run(&r, 7, argv5);
    assert_int_equal(r.status, RG_CLI_EXIT_USAGE);
    assert_non_null(strstr(r.err, "--expires-in: 'soon' is not a duration"));

    char *argv6[] = {"rollgate", "--token", "t",
                     "audit",    "--since", "yesterday"};
    run(&r, 6, argv6);
    assert_int_equal(r.status, RG_CLI_EXIT_USAGE);
    assert_non_null(strstr(r.err, "--since: 'yesterday' is not a time"));
}

static void run_help_and_version(void **state)
{
    (void)state;
    run_result r;
    char *help[] = {"rollgate", "help"};
    run(&r, 2, help);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.err, "");
    assert_non_null(strstr(r.out, "release create"));
    assert_non_null(strstr(r.out, "enroll-key create"));

    char *cmd_help[] = {"rollgate", "release", "create", "--help"};
    run(&r, 4, cmd_help);
    assert_int_equal(r.status, 0);
    assert_non_null(
        strstr(r.out, "usage: rollgate release create --channel X"));
    char *help_cmd[] = {"rollgate", "help", "rollout", "pause"};
    run(&r, 4, help_cmd);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "usage: rollgate rollout pause ID --reason"));
    char *group_help[] = {"rollgate", "token", "--help"};
    run(&r, 3, group_help);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "rollgate token revoke ID"));

    char *version[] = {"rollgate", "--version"};
    run(&r, 2, version);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "rollgate " RG_VERSION "\n");
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmp_root, sizeof tmp_root, "%s/rg-test-cli-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmp_root))
        return -1;
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    curl_global_cleanup();
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_root);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(args_alias),
        cmocka_unit_test(args_values_flags_positionals),
        cmocka_unit_test(args_last_repeat_wins_and_dash_is_positional),
        cmocka_unit_test(args_errors_name_the_option),
        cmocka_unit_test(args_cap_positionals),
        cmocka_unit_test(config_precedence),
        cmocka_unit_test(config_errors),
        cmocka_unit_test(table_aligns_columns),
        cmocka_unit_test(table_wraps_cleans_and_counts_utf8),
        cmocka_unit_test(table_kv_block),
        cmocka_unit_test(table_render_respects_output_cap),
        cmocka_unit_test(durations_parse),
        cmocka_unit_test(durations_format),
        cmocka_unit_test(sizes_format),
        cmocka_unit_test(times_format),
        cmocka_unit_test(times_parse),
        cmocka_unit_test(ints_parse),
        cmocka_unit_test(error_line_format),
        cmocka_unit_test(exit_statuses),
        cmocka_unit_test(server_error_shape_maps_back),
        cmocka_unit_test(urls_escape),
        cmocka_unit_test(views_tolerate_missing_fields),
        cmocka_unit_test(run_usage_errors_are_one_line_exit_2),
        cmocka_unit_test(run_local_files_are_usage_errors),
        cmocka_unit_test(run_help_and_version),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
