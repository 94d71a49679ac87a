/* Unit tests for src/agent/config.c: the key = value format, channel
 * sections, defaults, validation and os-release detection.
 * ctest-labels: agent */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agent/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void parses_globals_and_channels(void **state)
{
    (void)state;
    const char *text = "# agent config\n"
                       "server = http://127.0.0.1:7400/\n"
                       "enrollment_key = k1\n"
                       "state_dir = /tmp/x\n"
                       "endpoint_id = host-1\n"
                       "tags = internal, lab ,\n"
                       "interval = 0.5\n"
                       "max_starts = 5\n"
                       "trial_deadline = 30\n"
                       "flags_environment = prod.eu\n"
                       "\n"
                       "[channel detections]\n"
                       "consumer = exec ./engine \"$RG_CONTENT\"\n"
                       "probe = test -s \"$RG_CONTENT\"\n"
                       "[ channel flags ]\n"
                       "validate = true\n";
    rg_agent_config c;
    rg_err err;
    rg_err_clear(&err);
    assert_int_equal(rg_agent_config_parse(text, &c, &err), 0);
    assert_string_equal(c.server, "http://127.0.0.1:7400");
    assert_string_equal(c.enrollment_key, "k1");
    assert_string_equal(c.endpoint_id, "host-1");
    assert_int_equal(c.ntags, 2);
    assert_string_equal(c.tags[0], "internal");
    assert_string_equal(c.tags[1], "lab");
    assert_int_equal(c.interval_ms, 500);
    assert_int_equal(c.max_starts, 5);
    assert_int_equal(c.trial_deadline_ms, 30000);
    assert_string_equal(c.flags_env, "prod.eu");
    assert_int_equal(c.nchannels, 2);
    const rg_agent_channel_conf *d = rg_agent_config_channel(&c, "detections");
    assert_non_null(d);
    assert_string_equal(d->consumer, "exec ./engine \"$RG_CONTENT\"");
    assert_string_equal(d->probe, "test -s \"$RG_CONTENT\"");
    assert_null(d->validate);
    const rg_agent_channel_conf *f = rg_agent_config_channel(&c, "flags");
    assert_non_null(f);
    assert_string_equal(f->validate, "true");
    assert_null(rg_agent_config_channel(&c, "nope"));
    rg_agent_config_release(&c);
}

static void defaults(void **state)
{
    (void)state;
    rg_agent_config c;
    assert_int_equal(rg_agent_config_parse("server = http://h\n", &c, NULL), 0);
    assert_int_equal(c.max_starts, 3);
    assert_int_equal(c.interval_ms, 0);
    assert_true(c.trial_deadline_ms > 0);
    assert_true(c.backoff_max_ms > 0);
    assert_int_equal(c.nchannels, 0);
    assert_null(c.root);
    assert_null(c.root_sha256);
    assert_int_equal(c.clock_skew_ms, 300000);
    assert_false(c.insecure); /* secure by default */
    assert_int_equal(c.min_rate, 1024);
    rg_agent_config_release(&c);
    assert_int_equal(rg_agent_config_parse("insecure = true\n", &c, NULL), 0);
    assert_true(c.insecure);
    rg_agent_config_release(&c);
    assert_int_equal(rg_agent_config_parse("insecure = false\n", &c, NULL), 0);
    assert_false(c.insecure);
    rg_agent_config_release(&c);
    /* Deltas (docs/caching.md): on unless turned off. */
    assert_int_equal(rg_agent_config_parse("", &c, NULL), 0);
    assert_true(c.deltas);
    rg_agent_config_release(&c);
    assert_int_equal(rg_agent_config_parse("deltas = false\n", &c, NULL), 0);
    assert_false(c.deltas);
    rg_agent_config_release(&c);
    assert_int_equal(rg_agent_config_parse("deltas = off\n", &c, NULL),
                     RG_EINVAL);
    rg_agent_config_release(&c);
    /* Signed releases: a root file, its pinned digest, the skew. */
    assert_int_equal(
        rg_agent_config_parse(
            "root = /etc/rollgate/root.json\nroot_sha256 = "
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
            "clock_skew = 30\n",
            &c, NULL),
        0);
    assert_string_equal(c.root, "/etc/rollgate/root.json");
    assert_string_equal(
        c.root_sha256,
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    assert_int_equal(c.clock_skew_ms, 30000);
    rg_agent_config_release(&c);
    /* The names of docs/signing.md, "Names of keys" (root, root_sha256:
     * the old spellings above). */
    assert_int_equal(
        rg_agent_config_parse("trust_root = /r.json\ntrust_root_sha256 = "
                              "0123456789abcdef0123456789abcdef0123456789abcdef"
                              "0123456789abcdef\n",
                              &c, NULL),
        0);
    assert_string_equal(c.root, "/r.json");
    assert_non_null(c.root_sha256);
    rg_agent_config_release(&c);
}

static void refuses_bad_input(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "sever = typo\n",
        "no equals sign\n",
        "max_starts = 0\n",
        "max_starts = 11\n",
        "max_starts = 3x\n",
        "interval = -1\n",
        "[channel ../etc]\n",
        "[channel a]\n[channel a]\n",
        "[channel a]\nunknown = x\n",
        "[section a]\n",
        "[channel a\n",
        "root_sha256 = ABC\n",
        "clock_skew = -1\n",
        "insecure = yes\n",
        "insecure = 1\n",
        "min_rate = 0\n",
        "flags_environment = Prod\n",
        "flags_environment = ..\n",
        "mirrors = cache:8080\n",
        "mirrors = ftp://cache\n",
        "mirrors = http://a, http://b, http://c, http://d, http://e\n",
        "log_level = verbose\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rg_agent_config c;
        rg_err err;
        rg_err_clear(&err);
        assert_int_equal(rg_agent_config_parse(bad[i], &c, &err), RG_EINVAL);
        assert_non_null(strstr(err.msg, "line "));
    }
}

static void mirrors_are_a_list_of_base_urls(void **state)
{
    (void)state;
    rg_agent_config c;
    assert_int_equal(rg_agent_config_parse("mirrors = http://a:8080/, "
                                           "https://b/x//\n",
                                           &c, NULL),
                     0);
    assert_int_equal(c.nmirrors, 2);
    assert_string_equal(c.mirrors[0], "http://a:8080");
    assert_string_equal(c.mirrors[1], "https://b/x");
    rg_agent_config_release(&c);
}

static void detects_os_release(void **state)
{
    (void)state;
    char path[] = "/tmp/rg-os-release-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text =
        "NAME=\"Debian GNU/Linux\"\nID=debian\nVERSION_ID=\"12\"\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    rg_agent_config c;
    assert_int_equal(rg_agent_config_parse("os_version = 11\n", &c, NULL), 0);
    assert_int_equal(rg_agent_config_detect_os(&c, path, NULL), 0);
    assert_string_equal(c.os, "debian");
    assert_string_equal(c.os_version, "11"); /* configured wins */
    rg_agent_config_release(&c);
    assert_int_equal(rg_agent_config_parse("", &c, NULL), 0);
    assert_int_equal(rg_agent_config_detect_os(&c, "/nonexistent", NULL), 0);
    assert_string_equal(c.os, "linux");
    assert_string_equal(c.os_version, "unknown");
    rg_agent_config_release(&c);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_globals_and_channels),
        cmocka_unit_test(defaults),
        cmocka_unit_test(refuses_bad_input),
        cmocka_unit_test(mirrors_are_a_list_of_base_urls),
        cmocka_unit_test(detects_os_release),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
