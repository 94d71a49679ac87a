/* Unit tests for src/agent/slots.c and verify.c: install into the inactive
 * slot, atomic switch, and startup reconciliation of half-written slots.
 * ctest-labels: agent */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agent/durable.h"
#include "agent/slots.h"
#include "common/crypto.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char root[64];

static int setup(void **state)
{
    (void)state;
    rg_crypto_init();
    snprintf(root, sizeof root, "/tmp/rg-slots-XXXXXX");
    return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    return system(cmd) == 0 ? 0 : -1;
}

/* Writes text to root/name and fills want for it. */
static void stage(const char *name, const char *text, int64_t release,
                  rg_artifact_want *want, char path[RG_PATH_MAX])
{
    snprintf(path, RG_PATH_MAX, "%s/%s", root, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    want->release = release;
    want->version = release * 10;
    want->size = (int64_t)strlen(text);
    rg_sha256_hex(text, strlen(text), want->sha256);
}

static void read_active(const rg_slots *s, char *out, size_t n)
{
    char p[RG_PATH_MAX];
    snprintf(p, sizeof p, "%s/active/content", s->dir);
    FILE *f = fopen(p, "r");
    assert_non_null(f);
    size_t r = fread(out, 1, n - 1, f);
    out[r] = '\0';
    fclose(f);
}

static void install_switch_and_verify(void **state)
{
    (void)state;
    rg_slots s;
    rg_err err;
    rg_artifact_want w1, w2, got;
    char p[RG_PATH_MAX], text[64];
    assert_int_equal(rg_slots_open(&s, root, "detections", &err), 0);
    assert_int_equal(rg_slots_active(&s), 0);
    stage("dl1", "version one", 1, &w1, p);
    assert_int_equal(rg_slots_install(&s, 'a', p, &w1, &err), 0);
    assert_int_equal(rg_slots_switch(&s, 'a', &err), 0);
    assert_int_equal(rg_slots_active(&s), 'a');
    read_active(&s, text, sizeof text);
    assert_string_equal(text, "version one");
    /* The active slot is never written. */
    stage("dl2", "version two", 2, &w2, p);
    assert_int_equal(rg_slots_install(&s, 'a', p, &w2, &err), RG_ECONFLICT);
    assert_int_equal(rg_slots_install(&s, 'b', p, &w2, &err), 0);
    assert_int_equal(rg_slots_verify(&s, 'b', &got, &err), 0);
    assert_int_equal(got.release, 2);
    assert_int_equal(got.version, 20);
    assert_string_equal(got.sha256, w2.sha256);
    assert_int_equal(rg_slots_switch(&s, 'b', &err), 0);
    read_active(&s, text, sizeof text);
    assert_string_equal(text, "version two");
    assert_int_equal(rg_slots_switch(&s, 0, &err), 0);
    assert_int_equal(rg_slots_active(&s), 0);
    assert_int_equal(rg_slots_open(&s, root, "../x", &err), RG_EINVAL);
}

static void verify_detects_mismatch(void **state)
{
    (void)state;
    rg_artifact_want w;
    char p[RG_PATH_MAX];
    rg_err err;
    stage("f", "abc", 7, &w, p);
    assert_int_equal(rg_agent_verify_file(p, &w, &err), 0);
    w.size = 4;
    assert_int_equal(rg_agent_verify_file(p, &w, &err), RG_EINVAL);
    assert_non_null(strstr(err.msg, "release 7: size"));
    w.size = 3;
    w.sha256[0] = w.sha256[0] == '0' ? '1' : '0';
    assert_int_equal(rg_agent_verify_file(p, &w, &err), RG_EINVAL);
    assert_non_null(strstr(err.msg, "sha256 mismatch"));
    assert_int_equal(rg_agent_verify_file("/nonexistent/x", &w, &err),
                     RG_ENOTFOUND);
}

static void reconcile_discards_half_written_inactive(void **state)
{
    (void)state;
    rg_slots s;
    rg_err err;
    rg_artifact_want w1, w2;
    char p[RG_PATH_MAX], q[RG_PATH_MAX], text[64];
    assert_int_equal(rg_slots_open(&s, root, "flags", &err), 0);
    stage("d1", "good", 1, &w1, p);
    assert_int_equal(rg_slots_install(&s, 'a', p, &w1, &err), 0);
    assert_int_equal(rg_slots_switch(&s, 'a', &err), 0);

    /* Killed after the content moved in, before meta.json was written. */
    rg_slots_content_path(&s, 'b', q);
    stage("d2", "half", 2, &w2, p);
    assert_int_equal(rename(p, q), 0);
    snprintf(p, sizeof p, "%s/active.tmp", s.dir);
    assert_int_equal(symlink("slot-b", p), 0);
    assert_int_equal(rg_slots_reconcile(&s, &err), 0);
    assert_false(rg__exists(q));
    assert_false(rg__exists(p));
    assert_int_equal(rg_slots_active(&s), 'a');
    assert_int_equal(rg_slots_verify(&s, 'b', NULL, &err), RG_ENOTFOUND);

    /* Meta present but content truncated (outside damage): discarded. */
    stage("d3", "complete", 3, &w2, p);
    assert_int_equal(rg_slots_install(&s, 'b', p, &w2, &err), 0);
    assert_int_equal(truncate(q, 2), 0);
    assert_int_equal(rg_slots_reconcile(&s, &err), 0);
    assert_int_equal(rg_slots_verify(&s, 'b', NULL, &err), RG_ENOTFOUND);

    /* A complete inactive slot survives reconciliation. */
    stage("d4", "complete", 4, &w2, p);
    assert_int_equal(rg_slots_install(&s, 'b', p, &w2, &err), 0);
    assert_int_equal(rg_slots_reconcile(&s, &err), 0);
    assert_int_equal(rg_slots_verify(&s, 'b', NULL, &err), 0);

    /* A corrupt active slot falls back to the verified other slot. */
    rg_slots_content_path(&s, 'a', q);
    assert_int_equal(truncate(q, 1), 0);
    assert_int_equal(rg_slots_reconcile(&s, &err), 0);
    assert_int_equal(rg_slots_active(&s), 'b');
    read_active(&s, text, sizeof text);
    assert_string_equal(text, "complete");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(install_switch_and_verify),
        cmocka_unit_test(verify_detects_mismatch),
        cmocka_unit_test(reconcile_discards_half_written_inactive),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
