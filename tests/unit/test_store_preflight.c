/* Unit tests for the store's preflight functions (schema 3): a channel's
 * preflight spec (create, replace, remove, validation, unknown corpus),
 * a release's copy of it and its status (none / pending), finishing a
 * preflight (once, with its audit row), its result, and the pending list
 * that the worker resumes from after a restart.
 * Also run on PostgreSQL as test_store_preflight_pg (label pg).
 * ctest-labels: preflight */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/crypto.h"
#include "store/store.h"
#include "support/storeurl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T0 1700000000000LL

typedef struct fx {
    char dir[64];
    char path[512]; /* the store's URL (support/storeurl.h) */
    rg_store *s;
    rg_err err;
    char art[RG_HASH_HEX];    /* a recorded artifact: the content */
    char corpus[RG_HASH_HEX]; /* another: the recorded events */
} fx;

static void hash_of(const char *s, char out[RG_HASH_HEX])
{
    rg_sha256_hex(s, strlen(s), out);
}

static int fx_setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/rg-storepf-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    rg_test_store_url(f->dir, "rollgate", f->path, sizeof f->path);
    assert_int_equal(rg_store_open(f->path, &f->s, &f->err), 0);
    hash_of("content", f->art);
    hash_of("events", f->corpus);
    assert_int_equal(rg_store_artifact_put(f->s, f->art, 7, T0, NULL, &f->err),
                     0);
    assert_int_equal(
        rg_store_artifact_put(f->s, f->corpus, 6, T0, NULL, &f->err), 0);
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    fx *f = *state;
    rg_store_close(f->s);
    rg_test_store_drop(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

static rg_preflight_spec spec(const char *engine, const char *corpus,
                              int64_t timeout_s, int64_t memory_mb)
{
    rg_preflight_spec p;
    memset(&p, 0, sizeof p);
    snprintf(p.engine, sizeof p.engine, "%s", engine);
    snprintf(p.corpus, sizeof p.corpus, "%s", corpus);
    p.timeout_s = timeout_s;
    p.memory_mb = memory_mb;
    return p;
}

static rg_audit_rec audit(const char *action, int64_t at)
{
    rg_audit_rec a;
    memset(&a, 0, sizeof a);
    a.at_ms = at;
    snprintf(a.actor, sizeof a.actor, "alice");
    snprintf(a.role, sizeof a.role, "operator");
    snprintf(a.action, sizeof a.action, "%s", action);
    snprintf(a.target, sizeof a.target, "channel:det");
    return a;
}

static int audit_count(void *ctx, const rg_audit_rec *a)
{
    (*(int *)ctx)++;
    return 0;
}

static int audit_rows(fx *f)
{
    int n = 0;
    assert_int_equal(rg_store_audit_list(f->s, NULL, audit_count, &n, &f->err),
                     0);
    return n;
}

static void add_channel(fx *f, const char *name, const rg_preflight_spec *p)
{
    rg_channel_rec c;
    memset(&c, 0, sizeof c);
    snprintf(c.name, sizeof c.name, "%s", name);
    c.created_ms = T0;
    if (p)
        c.preflight = *p;
    assert_int_equal(rg_store_channel_create(f->s, &c, NULL, &f->err), 0);
}

static int64_t add_release(fx *f, const char *channel, int64_t version)
{
    rg_release_rec r;
    memset(&r, 0, sizeof r);
    snprintf(r.channel, sizeof r.channel, "%s", channel);
    r.version = version;
    snprintf(r.sha256, sizeof r.sha256, "%s", f->art);
    snprintf(r.notes, sizeof r.notes, "why");
    snprintf(r.urgency, sizeof r.urgency, "standard");
    r.created_ms = T0 + version;
    assert_int_equal(rg_store_release_create(f->s, &r, NULL, &f->err), 0);
    return r.id;
}

static void channel_spec(void **state)
{
    fx *f = *state;
    rg_channel_rec c;
    rg_preflight_spec p = spec("/usr/bin/engine", f->corpus, 30, 1024);
    add_channel(f, "det", &p);
    add_channel(f, "plain", NULL);
    assert_int_equal(rg_store_channel_get(f->s, "det", &c, &f->err), 0);
    assert_string_equal(c.preflight.engine, "/usr/bin/engine");
    assert_string_equal(c.preflight.corpus, f->corpus);
    assert_int_equal(c.preflight.timeout_s, 30);
    assert_int_equal(c.preflight.memory_mb, 1024);
    assert_int_equal(rg_store_channel_get(f->s, "plain", &c, &f->err), 0);
    assert_string_equal(c.preflight.engine, "");

    /* Replace (audited), then remove. */
    int rows = audit_rows(f);
    rg_audit_rec a = audit("channel.preflight", T0 + 1);
    p = spec("rollgate-engine", "", 5, 0);
    assert_int_equal(
        rg_store_channel_set_preflight(f->s, "plain", &p, &a, &f->err), 0);
    assert_int_equal(audit_rows(f), rows + 1);
    assert_int_equal(rg_store_channel_get(f->s, "plain", &c, &f->err), 0);
    assert_string_equal(c.preflight.engine, "rollgate-engine");
    assert_string_equal(c.preflight.corpus, "");
    assert_int_equal(c.preflight.timeout_s, 5);
    assert_int_equal(c.preflight.memory_mb, 0);
    assert_int_equal(
        rg_store_channel_set_preflight(f->s, "plain", NULL, &a, &f->err), 0);
    assert_int_equal(rg_store_channel_get(f->s, "plain", &c, &f->err), 0);
    assert_string_equal(c.preflight.engine, "");
    assert_int_equal(c.preflight.timeout_s, 0);
    assert_int_equal(audit_rows(f), rows + 2);
}

static void channel_spec_checks(void **state)
{
    fx *f = *state;
    rg_channel_rec c;
    rg_audit_rec a = audit("channel.preflight", T0);
    char unknown[RG_HASH_HEX];
    hash_of("never uploaded", unknown);
    add_channel(f, "det", NULL);
    int rows = audit_rows(f);

    struct {
        rg_preflight_spec p;
        int code;
        const char *field;
    } bad[] = {
        {spec("e", unknown, 30, 0), RG_ENOTFOUND, "preflight.corpus"},
        {spec("e", "ABC", 30, 0), RG_EINVAL, "preflight.corpus"},
        {spec("e", "", 0, 0), RG_EINVAL, "preflight.timeout_s"},
        {spec("e", "", RG_PREFLIGHT_TIMEOUT_MAX + 1, 0), RG_EINVAL,
         "preflight.timeout_s"},
        {spec("e", "", 30, -1), RG_EINVAL, "preflight.memory_mb"},
        {spec("e", "", 30, RG_PREFLIGHT_MEMORY_MAX + 1), RG_EINVAL,
         "preflight.memory_mb"},
        {spec("e\nx", "", 30, 0), RG_EINVAL, "preflight.engine"},
        {spec("", f->corpus, 30, 0), RG_EINVAL, "preflight.engine"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        rg_err_clear(&f->err);
        assert_int_equal(
            rg_store_channel_set_preflight(f->s, "det", &bad[i].p, &a, &f->err),
            bad[i].code);
        assert_string_equal(f->err.field, bad[i].field);
        /* Channel creation checks the same. */
        memset(&c, 0, sizeof c);
        snprintf(c.name, sizeof c.name, "new%zu", i);
        c.preflight = bad[i].p;
        assert_int_equal(rg_store_channel_create(f->s, &c, &a, &f->err),
                         bad[i].code);
        assert_int_equal(rg_store_channel_get(f->s, c.name, &c, &f->err),
                         RG_ENOTFOUND);
    }
    rg_preflight_spec p = spec("e", "", 30, 0);
    assert_int_equal(
        rg_store_channel_set_preflight(f->s, "nope", &p, &a, &f->err),
        RG_ENOTFOUND);
    /* Nothing changed, nothing audited. */
    assert_int_equal(rg_store_channel_get(f->s, "det", &c, &f->err), 0);
    assert_string_equal(c.preflight.engine, "");
    assert_int_equal(audit_rows(f), rows);
}

static void release_status(void **state)
{
    fx *f = *state;
    rg_release_rec r;
    char *json = NULL;
    rg_preflight_spec p = spec("/bin/engine", f->corpus, 20, 0);
    add_channel(f, "det", &p);
    add_channel(f, "plain", NULL);

    int64_t none = add_release(f, "plain", 1);
    int64_t pend = add_release(f, "det", 1);
    assert_int_equal(rg_store_release_get(f->s, none, &r, &f->err), 0);
    assert_string_equal(r.preflight_status, "none");
    assert_string_equal(r.preflight.engine, "");
    assert_int_equal(rg_store_release_get(f->s, pend, &r, &f->err), 0);
    assert_string_equal(r.preflight_status, "pending");
    assert_string_equal(r.preflight.engine, "/bin/engine");
    assert_string_equal(r.preflight.corpus, f->corpus);
    assert_int_equal(r.preflight.timeout_s, 20);
    assert_int_equal(r.preflight_done_ms, 0);
    assert_int_equal(
        rg_store_release_preflight_result(f->s, pend, &json, &f->err), 0);
    assert_string_equal(json, "");
    free(json);

    /* A later change of the channel's spec does not touch the release. */
    rg_preflight_spec q = spec("/bin/other", "", 9, 0);
    assert_int_equal(
        rg_store_channel_set_preflight(f->s, "det", &q, NULL, &f->err), 0);
    assert_int_equal(rg_store_release_get(f->s, pend, &r, &f->err), 0);
    assert_string_equal(r.preflight.engine, "/bin/engine");
    int64_t pend2 = add_release(f, "det", 2);
    assert_int_equal(rg_store_release_get(f->s, pend2, &r, &f->err), 0);
    assert_string_equal(r.preflight.engine, "/bin/other");
}

typedef struct ids {
    size_t n;
    int64_t v[8];
} ids;

static int collect(void *ctx, const rg_release_rec *r)
{
    ids *l = ctx;
    assert_string_equal(r->preflight_status, "pending");
    if (l->n < 8)
        l->v[l->n++] = r->id;
    return 0;
}

static void finish_once(void **state)
{
    fx *f = *state;
    rg_release_rec r;
    char *json = NULL;
    ids l = {0};
    rg_preflight_spec p = spec("/bin/engine", "", 20, 0);
    add_channel(f, "det", &p);
    add_channel(f, "plain", NULL);
    int64_t a = add_release(f, "det", 1);
    int64_t b = add_release(f, "det", 2);
    int64_t none = add_release(f, "plain", 1);

    assert_int_equal(
        rg_store_release_preflight_pending(f->s, collect, &l, &f->err), 0);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.v[0], a); /* oldest first */
    assert_int_equal(l.v[1], b);

    int rows = audit_rows(f);
    rg_audit_rec au = audit("release.preflight", T0 + 50);
    const char *res = "{\"status\":\"failed\",\"reason\":\"exit\"}";
    assert_int_equal(
        rg_store_release_preflight_finish(f->s, a, false, "run: exit status 1",
                                          res, T0 + 50, &au, &f->err),
        0);
    assert_int_equal(audit_rows(f), rows + 1);
    assert_int_equal(rg_store_release_get(f->s, a, &r, &f->err), 0);
    assert_string_equal(r.preflight_status, "failed");
    assert_string_equal(r.preflight_detail, "run: exit status 1");
    assert_int_equal(r.preflight_done_ms, T0 + 50);
    assert_int_equal(rg_store_release_preflight_result(f->s, a, &json, &f->err),
                     0);
    assert_string_equal(json, res);
    free(json);

    /* Once only; not for releases without a preflight; nor unknown ids. */
    assert_int_equal(rg_store_release_preflight_finish(f->s, a, true, "", "{}",
                                                       T0 + 60, &au, &f->err),
                     RG_ECONFLICT);
    assert_non_null(strstr(f->err.msg, "failed"));
    assert_int_equal(rg_store_release_preflight_finish(
                         f->s, none, true, "", "{}", T0 + 60, &au, &f->err),
                     RG_ECONFLICT);
    assert_int_equal(rg_store_release_preflight_finish(
                         f->s, 999, true, "", "{}", T0 + 60, &au, &f->err),
                     RG_ENOTFOUND);
    assert_int_equal(
        rg_store_release_preflight_result(f->s, 999, &json, &f->err),
        RG_ENOTFOUND);
    assert_null(json);
    /* Bad arguments. */
    assert_int_equal(rg_store_release_preflight_finish(
                         f->s, b, true, "", "not json", T0, &au, &f->err),
                     RG_EINVAL);
    assert_int_equal(rg_store_release_preflight_finish(f->s, b, true, "", "",
                                                       T0, &au, &f->err),
                     RG_EINVAL);
    assert_int_equal(audit_rows(f), rows + 1);

    assert_int_equal(rg_store_release_preflight_finish(
                         f->s, b, true, "", "{\"status\":\"passed\"}", T0 + 70,
                         NULL, &f->err),
                     0);
    assert_int_equal(rg_store_release_get(f->s, b, &r, &f->err), 0);
    assert_string_equal(r.preflight_status, "passed");
    l.n = 0;
    assert_int_equal(
        rg_store_release_preflight_pending(f->s, collect, &l, &f->err), 0);
    assert_int_equal(l.n, 0);
}

/* What the worker relies on after a kill: pending survives a reopen. */
static void pending_survives_reopen(void **state)
{
    fx *f = *state;
    ids l = {0};
    rg_preflight_spec p = spec("/bin/engine", "", 20, 0);
    add_channel(f, "det", &p);
    int64_t a = add_release(f, "det", 1);
    rg_store_close(f->s);
    f->s = NULL;
    assert_int_equal(rg_store_open(f->path, &f->s, &f->err), 0);
    assert_int_equal(
        rg_store_release_preflight_pending(f->s, collect, &l, &f->err), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.v[0], a);
}

int main(void)
{
    rg_crypto_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(channel_spec, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(channel_spec_checks, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(release_status, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(finish_once, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(pending_survives_reopen, fx_setup,
                                        fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
