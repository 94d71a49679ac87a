/* Unit tests for src/store, on SQLite and (label pg, RG_TEST_PG set by
 * tests/with_postgres.sh) on PostgreSQL: every call, its error codes,
 * that failed calls leave nothing behind, idempotent events, persistence
 * across reopen, audit filters, schema migration, concurrent key use.
 * Each test gets its own temporary directory (and, on PostgreSQL, its
 * own schema); test_store_pg runs it there.
 * ctest-labels: foundation */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/crypto.h"
#include "model/activation.h"
#include "store/backend.h"
#include "store/store.h"
#include "support/storeurl.h"

#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define T0 1700000000000LL

typedef struct fx {
    char dir[64];
    char path[512]; /* the store's URL (support/storeurl.h) */
    rg_store *s;
    rg_err err;
} fx;

static int fx_setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/rg-store-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    rg_test_store_url(f->dir, "rollgate", f->path, sizeof f->path);
    assert_int_equal(rg_store_open(f->path, &f->s, &f->err), 0);
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

static void reopen(fx *f)
{
    rg_store_close(f->s);
    f->s = NULL;
    assert_int_equal(rg_store_open(f->path, &f->s, &f->err), 0);
}

static rg_audit_rec audit(const char *action, const char *target, int64_t at)
{
    rg_audit_rec a;
    memset(&a, 0, sizeof a);
    a.at_ms = at;
    snprintf(a.actor, sizeof a.actor, "ci");
    snprintf(a.role, sizeof a.role, "operator");
    snprintf(a.action, sizeof a.action, "%s", action);
    snprintf(a.target, sizeof a.target, "%s", target);
    return a;
}

static int count_cb(void *ctx, const rg_audit_rec *a)
{
    (void)a;
    (*(int *)ctx)++;
    return 0;
}

static int audit_rows(fx *f)
{
    int n = 0;
    assert_int_equal(rg_store_audit_list(f->s, NULL, count_cb, &n, &f->err), 0);
    return n;
}

/* The number of audit rows whose target is "<kind>:<id>". */
static int audit_rows_for(fx *f, const char *kind, int64_t id)
{
    char target[64];
    snprintf(target, sizeof target, "%s:%lld", kind, (long long)id);
    rg_audit_filter flt = {.target = target};
    int n = 0;
    assert_int_equal(rg_store_audit_list(f->s, &flt, count_cb, &n, &f->err), 0);
    return n;
}

static void hash_of(const char *s, char out[RG_HASH_HEX])
{
    rg_sha256_hex(s, strlen(s), out);
}

static void add_channel(fx *f, const char *name)
{
    rg_channel_rec c;
    memset(&c, 0, sizeof c);
    snprintf(c.name, sizeof c.name, "%s", name);
    snprintf(c.description, sizeof c.description, "channel %s", name);
    c.created_ms = T0;
    rg_audit_rec a = audit("channel.create", "channel", T0);
    assert_int_equal(rg_store_channel_create(f->s, &c, &a, &f->err), 0);
}

static void add_artifact(fx *f, const char *content, char sha[RG_HASH_HEX])
{
    hash_of(content, sha);
    assert_int_equal(
        rg_store_artifact_put(f->s, sha, strlen(content), T0, NULL, &f->err),
        0);
}

static rg_release_rec release_rec(const char *channel, int64_t version,
                                  const char *sha)
{
    rg_release_rec r;
    memset(&r, 0, sizeof r);
    snprintf(r.channel, sizeof r.channel, "%s", channel);
    r.version = version;
    snprintf(r.sha256, sizeof r.sha256, "%s", sha);
    snprintf(r.notes, sizeof r.notes, "version %lld: fixes",
             (long long)version);
    snprintf(r.urgency, sizeof r.urgency, "standard");
    r.created_ms = T0 + version;
    snprintf(r.created_by, sizeof r.created_by, "ci");
    return r;
}

/* A channel "det" with one artifact and releases of the given versions;
 * ids[i] receives release i's id. */
static void add_releases(fx *f, const int64_t *versions, size_t n, int64_t *ids)
{
    char sha[RG_HASH_HEX];
    add_channel(f, "det");
    add_artifact(f, "content", sha);
    for (size_t i = 0; i < n; i++) {
        rg_release_rec r = release_rec("det", versions[i], sha);
        assert_int_equal(rg_store_release_create(f->s, &r, NULL, &f->err), 0);
        ids[i] = r.id;
    }
}

static rg_rollout_rec rollout_rec(int64_t release_id)
{
    rg_rollout_rec r;
    memset(&r, 0, sizeof r);
    r.release_id = release_id;
    assert_int_equal(rg_plan_builtin("standard", &r.plan, NULL), 0);
    snprintf(r.salt, sizeof r.salt, "00112233445566778899aabbccddeeff");
    r.status = (rg_rollout_status){RG_RO_RUNNING, 0, 0, T0, T0};
    r.created_ms = T0;
    snprintf(r.created_by, sizeof r.created_by, "ci");
    return r;
}

/* --- opening ------------------------------------------------------------ */

static void open_urls(void **state)
{
    fx *f = *state;
    rg_store *s = NULL;
    char url[600];

    assert_int_equal(rg_store_schema_version(f->s), 20);
    rg_store_close(f->s);
    f->s = NULL;
    snprintf(url, sizeof url, "%s%s", rg_test_pg() ? "" : "sqlite:", f->path);
    assert_int_equal(rg_store_open(url, &f->s, &f->err), 0);
    assert_int_equal(rg_store_schema_version(f->s), 20);

    /* A PostgreSQL server that does not answer: said so, with the URL but
     * not its password. */
    assert_int_equal(rg_store_open("postgres://ci:s3cret@/db?host=/nonexistent"
                                   "&port=1",
                                   &s, &f->err),
                     RG_EUNAVAIL);
    assert_null(s);
    assert_non_null(strstr(f->err.msg, "postgres://ci:***@/db"));
    assert_null(strstr(f->err.msg, "s3cret"));
    assert_int_equal(rg_store_open("", &s, &f->err), RG_EINVAL);
    assert_int_equal(rg_store_open("sqlite:", &s, &f->err), RG_EINVAL);
    snprintf(url, sizeof url, "%s/no/such/dir/x.db", f->dir);
    assert_int_equal(rg_store_open(url, &s, &f->err), RG_EIO);
    assert_non_null(strstr(f->err.msg, url));
    assert_null(s);
    if (rg_test_pg())
        return;

    /* The file is in WAL mode (a property of the database file). */
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* --- channels ----------------------------------------------------------- */

static int channel_names(void *ctx, const rg_channel_rec *c)
{
    char *out = ctx;
    size_t n = strlen(out);
    snprintf(out + n, 128 - n, "%s,", c->name);
    return 0;
}

static void channels(void **state)
{
    fx *f = *state;
    rg_channel_rec c, got;
    char names[128] = "";

    add_channel(f, "flags");
    add_channel(f, "detections");
    assert_int_equal(audit_rows(f), 2);
    assert_int_equal(rg_store_channel_get(f->s, "detections", &got, &f->err),
                     0);
    assert_true(got.id > 0);
    assert_string_equal(got.description, "channel detections");
    assert_int_equal(got.created_ms, T0);
    assert_int_equal(got.current_release_id, 0);
    assert_int_equal(rg_store_channel_list(f->s, channel_names, names, &f->err),
                     0);
    assert_string_equal(names, "detections,flags,");

    /* Duplicate: conflict, and no audit row. */
    memset(&c, 0, sizeof c);
    snprintf(c.name, sizeof c.name, "flags");
    rg_audit_rec a = audit("channel.create", "channel:flags", T0);
    assert_int_equal(rg_store_channel_create(f->s, &c, &a, &f->err),
                     RG_ECONFLICT);
    assert_non_null(strstr(f->err.msg, "'flags'"));
    assert_int_equal(audit_rows(f), 2);

    assert_int_equal(rg_store_channel_get(f->s, "nope", &got, &f->err),
                     RG_ENOTFOUND);

    /* Text that does not end inside its field is refused, never cut. */
    memset(&c, 'x', sizeof c);
    c.description[0] = '\0';
    assert_int_equal(rg_store_channel_create(f->s, &c, NULL, &f->err),
                     RG_EINVAL);
    assert_string_equal(f->err.field, "name");
    memset(&c, 0, sizeof c);
    snprintf(c.name, sizeof c.name, "ok");
    memset(c.description, 'd', sizeof c.description);
    assert_int_equal(rg_store_channel_create(f->s, &c, NULL, &f->err),
                     RG_EINVAL);
    assert_string_equal(f->err.field, "description");
    memset(&c, 0, sizeof c);
    assert_int_equal(rg_store_channel_create(f->s, &c, NULL, &f->err),
                     RG_EINVAL);
    /* An oversize audit field fails the whole call. */
    memset(&c, 0, sizeof c);
    snprintf(c.name, sizeof c.name, "ok");
    a = audit("channel.create", "channel:ok", T0);
    memset(a.reason, 'r', sizeof a.reason);
    assert_int_equal(rg_store_channel_create(f->s, &c, &a, &f->err), RG_EINVAL);
    assert_int_equal(rg_store_channel_get(f->s, "ok", &got, &f->err),
                     RG_ENOTFOUND);
    assert_int_equal(audit_rows(f), 2);
}

/* --- artifacts ---------------------------------------------------------- */

static void artifacts(void **state)
{
    fx *f = *state;
    char sha[RG_HASH_HEX], other[RG_HASH_HEX];
    uint64_t size = 0;
    rg_audit_rec a = audit("artifact.put", "artifact", T0);

    hash_of("bytes", sha);
    assert_int_equal(rg_store_artifact_put(f->s, sha, 5, T0, &a, &f->err), 0);
    assert_int_equal(rg_store_artifact_put(f->s, sha, 5, T0, &a, &f->err), 0);
    assert_int_equal(audit_rows(f), 1); /* the repeat changed nothing */
    assert_int_equal(rg_store_artifact_get(f->s, sha, &size, &f->err), 0);
    assert_int_equal(size, 5);
    assert_int_equal(rg_store_artifact_put(f->s, sha, 6, T0, &a, &f->err),
                     RG_ECONFLICT);
    assert_int_equal(audit_rows(f), 1);

    hash_of("other", other);
    assert_int_equal(rg_store_artifact_get(f->s, other, &size, &f->err),
                     RG_ENOTFOUND);
    assert_int_equal(rg_store_artifact_put(f->s, "ABC", 1, T0, NULL, &f->err),
                     RG_EINVAL);
    assert_int_equal(
        rg_store_artifact_put(f->s, other, UINT64_MAX, T0, NULL, &f->err),
        RG_EINVAL);
    assert_int_equal(rg_store_artifact_get(f->s, "zz", &size, &f->err),
                     RG_ENOTFOUND);
}

/* --- releases ----------------------------------------------------------- */

static int release_versions(void *ctx, const rg_release_rec *r)
{
    char *out = ctx;
    size_t n = strlen(out);
    snprintf(out + n, 128 - n, "%s:%lld,", r->channel, (long long)r->version);
    return 0;
}

static int stop_at_first(void *ctx, const rg_release_rec *r)
{
    *(int64_t *)ctx = r->version;
    return 42;
}

static void releases(void **state)
{
    fx *f = *state;
    char sha[RG_HASH_HEX], missing[RG_HASH_HEX];
    rg_release_rec r, got;
    rg_audit_rec a = audit("release.create", "release", T0);
    char list[128] = "";

    add_channel(f, "det");
    add_channel(f, "flags");
    add_artifact(f, "content v1", sha);
    int base = audit_rows(f);

    r = release_rec("det", 1, sha);
    assert_int_equal(rg_store_release_create(f->s, &r, &a, &f->err), 0);
    assert_true(r.id > 0);
    assert_true(r.channel_id > 0);
    assert_int_equal(r.size, strlen("content v1"));
    r = release_rec("det", 3, sha);
    assert_int_equal(rg_store_release_create(f->s, &r, &a, &f->err), 0);
    int64_t id3 = r.id;
    r = release_rec("flags", 1, sha); /* versions are per channel */
    assert_int_equal(rg_store_release_create(f->s, &r, &a, &f->err), 0);
    assert_int_equal(audit_rows(f), base + 3);

    /* Every failure below writes nothing, not even its audit row. */
    r = release_rec("det", 2, sha);
    assert_int_equal(rg_store_release_create(f->s, &r, &a, &f->err),
                     RG_ECONFLICT);
    assert_string_equal(f->err.field, "version");
    r = release_rec("det", 3, sha);
    assert_int_equal(rg_store_release_create(f->s, &r, &a, &f->err),
                     RG_ECONFLICT);
    r = release_rec("nope", 9, sha);
    assert_int_equal(rg_store_release_create(f->s, &r, &a, &f->err),
                     RG_ENOTFOUND);
    assert_non_null(strstr(f->err.msg, "'nope'"));
    hash_of("never uploaded", missing);
    r = release_rec("det", 9, missing);
    assert_int_equal(rg_store_release_create(f->s, &r, &a, &f->err),
                     RG_ENOTFOUND);
    r = release_rec("det", 9, sha);
    snprintf(r.urgency, sizeof r.urgency, "whenever");
    assert_int_equal(rg_store_release_create(f->s, &r, &a, &f->err), RG_EINVAL);
    r = release_rec("det", 9, sha);
    r.notes[0] = '\0';
    assert_int_equal(rg_store_release_create(f->s, &r, &a, &f->err), RG_EINVAL);
    r = release_rec("det", 9, sha);
    memset(r.notes, 'n', sizeof r.notes);
    assert_int_equal(rg_store_release_create(f->s, &r, &a, &f->err), RG_EINVAL);
    assert_string_equal(f->err.field, "notes");
    r = release_rec("det", 0, sha);
    assert_int_equal(rg_store_release_create(f->s, &r, &a, &f->err), RG_EINVAL);
    assert_int_equal(audit_rows(f), base + 3);

    /* Notes of exactly RG_NOTES_MAX bytes fit. */
    r = release_rec("det", 4, sha);
    memset(r.notes, 'n', RG_NOTES_MAX);
    r.notes[RG_NOTES_MAX] = '\0';
    snprintf(r.urgency, sizeof r.urgency, "emergency");
    assert_int_equal(rg_store_release_create(f->s, &r, NULL, &f->err), 0);
    assert_int_equal(rg_store_release_get(f->s, r.id, &got, &f->err), 0);
    assert_int_equal(strlen(got.notes), RG_NOTES_MAX);
    assert_string_equal(got.urgency, "emergency");
    assert_string_equal(got.channel, "det");
    assert_string_equal(got.sha256, sha);
    assert_string_equal(got.created_by, "ci");
    assert_int_equal(got.created_ms, T0 + 4);

    assert_int_equal(rg_store_release_get(f->s, 999, &got, &f->err),
                     RG_ENOTFOUND);

    /* Lifting a release's quarantine: recorded with its audit row; an
     * unknown release or a bad time writes nothing. */
    assert_int_equal(got.quarantine_lifted_ms, 0);
    rg_audit_rec lift = audit("release.lift_quarantine", "release", T0 + 9);
    int before = audit_rows(f);
    assert_int_equal(
        rg_store_release_lift_quarantine(f->s, id3, T0 + 9, &lift, &f->err), 0);
    assert_int_equal(rg_store_release_get(f->s, id3, &got, &f->err), 0);
    assert_int_equal(got.quarantine_lifted_ms, T0 + 9);
    assert_int_equal(audit_rows(f), before + 1);
    assert_int_equal(
        rg_store_release_lift_quarantine(f->s, 999, T0 + 9, &lift, &f->err),
        RG_ENOTFOUND);
    assert_int_equal(
        rg_store_release_lift_quarantine(f->s, id3, 0, &lift, &f->err),
        RG_EINVAL);
    assert_int_equal(audit_rows(f), before + 1);
    assert_int_equal(rg_store_release_get(f->s, r.id, &got, &f->err), 0);
    assert_int_equal(got.quarantine_lifted_ms, 0);
    assert_int_equal(
        rg_store_release_list(f->s, NULL, release_versions, list, &f->err), 0);
    assert_string_equal(list, "det:4,flags:1,det:3,det:1,");
    list[0] = '\0';
    assert_int_equal(
        rg_store_release_list(f->s, "det", release_versions, list, &f->err), 0);
    assert_string_equal(list, "det:4,det:3,det:1,");
    assert_int_equal(
        rg_store_release_list(f->s, "nope", release_versions, list, &f->err),
        RG_ENOTFOUND);
    int64_t first = 0;
    assert_int_equal(
        rg_store_release_list(f->s, "det", stop_at_first, &first, &f->err), 42);
    assert_int_equal(first, 4);
    (void)id3;
}

/* --- rollouts ----------------------------------------------------------- */

typedef struct decisions_seen {
    int n;
    int64_t at[8];
    int to_state[8];
    char evidence[8][64];
    char reason[8][64];
} decisions_seen;

/* --- signed releases and roots (schema 6) ------------------------------ */

static int root_versions(void *ctx, const rg_root_rec *r)
{
    int64_t *v = ctx;
    assert_non_null(strstr(r->json, "\"version\""));
    v[++v[0]] = r->version;
    return 0;
}

static void signed_metadata_and_roots(void **state)
{
    fx *f = *state;
    char sha[RG_HASH_HEX], digest[RG_HASH_HEX];
    int64_t got[8] = {0};
    add_channel(f, "det");
    add_artifact(f, "content", sha);
    rg_release_rec r = release_rec("det", 1, sha), back;
    snprintf(r.metadata, sizeof r.metadata,
             "{\"signatures\":[],\"signed\":{}}");
    assert_int_equal(rg_store_release_create(f->s, &r, NULL, &f->err), 0);
    assert_int_equal(rg_store_release_get(f->s, r.id, &back, &f->err), 0);
    assert_string_equal(back.metadata, r.metadata);
    rg_release_rec u = release_rec("det", 2, sha);
    assert_int_equal(rg_store_release_create(f->s, &u, NULL, &f->err), 0);
    assert_int_equal(rg_store_release_get(f->s, u.id, &back, &f->err), 0);
    assert_string_equal(back.metadata, "");

    /* Roots are consecutive versions, listed oldest first after a version. */
    hash_of("root", digest);
    rg_root_rec root = {
        .version = 2, .json = "{\"version\":2}", .created_ms = T0};
    snprintf(root.digest, sizeof root.digest, "%s", digest);
    rg_audit_rec a = audit("root.put", "root:2", T0);
    assert_int_equal(rg_store_root_put(f->s, &root, &a, &f->err), RG_ECONFLICT);
    root.version = 1;
    root.json = "{\"version\":1}";
    assert_int_equal(rg_store_root_put(f->s, &root, &a, &f->err), 0);
    assert_int_equal(rg_store_root_put(f->s, &root, &a, &f->err), RG_ECONFLICT);
    root.version = 2;
    root.json = "{\"version\":2}";
    assert_int_equal(rg_store_root_put(f->s, &root, &a, &f->err), 0);
    assert_int_equal(rg_store_root_list(f->s, 0, root_versions, got, &f->err),
                     0);
    assert_int_equal(got[0], 2);
    assert_int_equal(got[1], 1);
    assert_int_equal(got[2], 2);
    got[0] = 0;
    assert_int_equal(rg_store_root_list(f->s, 1, root_versions, got, &f->err),
                     0);
    assert_int_equal(got[0], 1);
    assert_int_equal(got[1], 2);
    root.json = "";
    root.version = 3;
    assert_int_equal(rg_store_root_put(f->s, &root, &a, &f->err), RG_EINVAL);
}

static int decision_cb(void *ctx, const rg_decision_rec *d)
{
    decisions_seen *s = ctx;
    if (s->n < 8) {
        s->at[s->n] = d->at_ms;
        s->to_state[s->n] = d->tr.to_state;
        snprintf(s->evidence[s->n], 64, "%.63s", d->evidence_json);
        snprintf(s->reason[s->n], 64, "%.63s", d->tr.reason);
    }
    s->n++;
    return 0;
}

static int rollout_ids(void *ctx, const rg_rollout_rec *r)
{
    char *out = ctx;
    size_t n = strlen(out);
    snprintf(out + n, 128 - n, "%lld:%s,", (long long)r->id,
             rg_rollout_state_name(r->status.state));
    return 0;
}

static rg_transition trans(const rg_rollout_status *a,
                           const rg_rollout_status *b, const char *reason)
{
    rg_transition tr;
    memset(&tr, 0, sizeof tr);
    tr.from_state = a->state;
    tr.to_state = b->state;
    tr.from_wave = a->wave;
    tr.to_wave = b->wave;
    snprintf(tr.reason, sizeof tr.reason, "%s", reason);
    return tr;
}

static void rollouts(void **state)
{
    fx *f = *state;
    int64_t versions[] = {1, 2, 3}, rel[3];
    rg_rollout_rec r, got;
    rg_channel_rec ch;
    char list[128] = "";

    add_releases(f, versions, 3, rel);
    int base = audit_rows(f);

    r = rollout_rec(rel[1]);
    rg_audit_rec a = audit("rollout.create", "rollout", T0);
    assert_int_equal(rg_store_rollout_create(f->s, &r, &a, &f->err), 0);
    assert_true(r.id > 0);
    assert_string_equal(r.channel, "det");
    assert_int_equal(r.prev_release_id, 0);
    int64_t first = r.id;

    /* One active rollout per channel; unknown releases. No audit rows. */
    r = rollout_rec(rel[2]);
    assert_int_equal(rg_store_rollout_create(f->s, &r, &a, &f->err),
                     RG_ECONFLICT);
    assert_non_null(strstr(f->err.msg, "active rollout"));
    r = rollout_rec(999);
    assert_int_equal(rg_store_rollout_create(f->s, &r, &a, &f->err),
                     RG_ENOTFOUND);
    r = rollout_rec(rel[2]);
    r.salt[0] = '\0';
    assert_int_equal(rg_store_rollout_create(f->s, &r, &a, &f->err), RG_EINVAL);
    assert_int_equal(audit_rows(f), base + 1);

    assert_int_equal(rg_store_rollout_get(f->s, first, &got, &f->err), 0);
    rg_plan std;
    assert_int_equal(rg_plan_builtin("standard", &std, NULL), 0);
    assert_string_equal(got.plan.name, std.name);
    assert_int_equal(got.plan.n_waves, std.n_waves);
    for (size_t i = 0; i < std.n_waves; i++) {
        assert_string_equal(got.plan.waves[i].name, std.waves[i].name);
        assert_int_equal(got.plan.waves[i].share_ppm, std.waves[i].share_ppm);
        assert_int_equal(got.plan.waves[i].min_endpoints,
                         std.waves[i].min_endpoints);
        assert_int_equal(got.plan.waves[i].window_ms, std.waves[i].window_ms);
    }
    assert_int_equal(got.status.state, RG_RO_RUNNING);
    assert_int_equal(got.status.updated_ms, T0);
    assert_string_equal(got.salt, "00112233445566778899aabbccddeeff");
    assert_int_equal(rg_store_rollout_get(f->s, 999, &got, &f->err),
                     RG_ENOTFOUND);

    /* Compare-and-set: running(0) -> running(1). */
    rg_rollout_status cur = got.status, next = cur;
    next.wave = 1;
    next.share_ppm = 1000;
    next.wave_started_ms = T0 + 100;
    next.updated_ms = T0 + 100;
    rg_transition tr = trans(&cur, &next, "wave 0 passed");
    a = audit("rollout.advance", "rollout:1", T0 + 100);
    assert_int_equal(rg_store_rollout_transition(f->s, first, &cur, &next, &tr,
                                                 "orchestrator",
                                                 "{\"llr\":1.5}", &a, &f->err),
                     0);
    /* The same call again is stale: nothing written. */
    assert_int_equal(rg_store_rollout_transition(f->s, first, &cur, &next, &tr,
                                                 "orchestrator", NULL, &a,
                                                 &f->err),
                     RG_ECONFLICT);
    assert_non_null(strstr(f->err.msg, "changed"));
    rg_rollout_status other = next;
    other.updated_ms++; /* one field differs */
    assert_int_equal(rg_store_rollout_transition(f->s, first, &other, &next,
                                                 &tr, "orchestrator", NULL, &a,
                                                 &f->err),
                     RG_ECONFLICT);
    assert_int_equal(rg_store_rollout_transition(f->s, 999, &cur, &next, &tr,
                                                 "orchestrator", NULL, &a,
                                                 &f->err),
                     RG_ENOTFOUND);
    assert_int_equal(rg_store_rollout_transition(f->s, first, &next, &next, &tr,
                                                 "orchestrator", "not json", &a,
                                                 &f->err),
                     RG_EINVAL);
    assert_int_equal(audit_rows(f), base + 2);

    /* Complete: the channel's current release becomes this one. */
    cur = next;
    next.state = RG_RO_COMPLETED;
    next.share_ppm = 1000000;
    next.updated_ms = T0 + 200;
    tr = trans(&cur, &next, "last wave passed");
    assert_int_equal(rg_store_rollout_transition(f->s, first, &cur, &next, &tr,
                                                 "orchestrator", NULL, NULL,
                                                 &f->err),
                     0);
    assert_int_equal(rg_store_channel_get(f->s, "det", &ch, &f->err), 0);
    assert_int_equal(ch.current_release_id, rel[1]);

    decisions_seen ds = {0};
    assert_int_equal(
        rg_store_decision_list(f->s, first, decision_cb, &ds, &f->err), 0);
    /* The start (pending -> running, written by create) comes first. */
    assert_int_equal(ds.n, 3);
    assert_int_equal(ds.to_state[0], RG_RO_RUNNING);
    assert_int_equal(ds.at[1], T0 + 100);
    assert_string_equal(ds.evidence[1], "{\"llr\":1.5}");
    assert_string_equal(ds.reason[1], "wave 0 passed");
    assert_int_equal(ds.to_state[2], RG_RO_COMPLETED);
    assert_string_equal(ds.evidence[2], "");

    /* An older release cannot follow; a newer one records its predecessor. */
    r = rollout_rec(rel[0]);
    assert_int_equal(rg_store_rollout_create(f->s, &r, NULL, &f->err),
                     RG_ECONFLICT);
    r = rollout_rec(rel[1]);
    assert_int_equal(rg_store_rollout_create(f->s, &r, NULL, &f->err),
                     RG_ECONFLICT);
    r = rollout_rec(rel[2]);
    assert_int_equal(rg_store_rollout_create(f->s, &r, NULL, &f->err), 0);
    assert_int_equal(r.prev_release_id, rel[1]);
    int64_t second = r.id;

    list[0] = '\0';
    assert_int_equal(
        rg_store_rollout_list(f->s, true, rollout_ids, list, &f->err), 0);
    char want[64];
    snprintf(want, sizeof want, "%lld:running,", (long long)second);
    assert_string_equal(list, want);
    list[0] = '\0';
    assert_int_equal(
        rg_store_rollout_list(f->s, false, rollout_ids, list, &f->err), 0);
    snprintf(want, sizeof want, "%lld:running,%lld:completed,",
             (long long)second, (long long)first);
    assert_string_equal(list, want);

    /* The database filters: by channel, state, release, cursor, limit. */
    rg_rollout_filter q = {.channel = "det", .state = RG_RO_COMPLETED};
    list[0] = '\0';
    assert_int_equal(
        rg_store_rollout_query(f->s, &q, rollout_ids, list, &f->err), 0);
    snprintf(want, sizeof want, "%lld:completed,", (long long)first);
    assert_string_equal(list, want);
    q = (rg_rollout_filter){.state = -1, .release_id = rel[2]};
    list[0] = '\0';
    assert_int_equal(
        rg_store_rollout_query(f->s, &q, rollout_ids, list, &f->err), 0);
    snprintf(want, sizeof want, "%lld:running,", (long long)second);
    assert_string_equal(list, want);
    q = (rg_rollout_filter){.state = -1, .before_id = second, .limit = 1};
    list[0] = '\0';
    assert_int_equal(
        rg_store_rollout_query(f->s, &q, rollout_ids, list, &f->err), 0);
    snprintf(want, sizeof want, "%lld:completed,", (long long)first);
    assert_string_equal(list, want);
    q = (rg_rollout_filter){.channel = "other", .state = -1};
    list[0] = '\0';
    assert_int_equal(
        rg_store_rollout_query(f->s, &q, rollout_ids, list, &f->err), 0);
    assert_string_equal(list, "");

    /* Complete the second, then roll it back: the channel returns to the
     * first rollout's release. */
    cur = r.status;
    next = cur;
    next.state = RG_RO_COMPLETED;
    next.updated_ms = T0 + 300;
    tr = trans(&cur, &next, "done");
    assert_int_equal(rg_store_rollout_transition(f->s, second, &cur, &next, &tr,
                                                 "orchestrator", NULL, NULL,
                                                 &f->err),
                     0);
    assert_int_equal(rg_store_channel_get(f->s, "det", &ch, &f->err), 0);
    assert_int_equal(ch.current_release_id, rel[2]);
    cur = next;
    next.state = RG_RO_ROLLED_BACK;
    next.updated_ms = T0 + 400;
    tr = trans(&cur, &next, "bad after all");
    assert_int_equal(rg_store_rollout_transition(f->s, second, &cur, &next, &tr,
                                                 "alice", NULL, NULL, &f->err),
                     0);
    assert_int_equal(rg_store_channel_get(f->s, "det", &ch, &f->err), 0);
    assert_int_equal(ch.current_release_id, rel[1]);
    list[0] = '\0';
    assert_int_equal(
        rg_store_rollout_list(f->s, true, rollout_ids, list, &f->err), 0);
    assert_string_equal(list, "");
}

/* --- tokens ------------------------------------------------------------- */

static int token_count(void *ctx, const rg_token_rec *t)
{
    (*(int *)ctx)++;
    assert_int_not_equal(t->id, 0);
    return 0;
}

static void tokens(void **state)
{
    fx *f = *state;
    rg_token_rec t, got;
    rg_audit_rec a = audit("token.create", "token", T0);

    memset(&t, 0, sizeof t);
    snprintf(t.name, sizeof t.name, "ci");
    snprintf(t.role, sizeof t.role, "operator");
    hash_of("secret-1", t.hash);
    t.created_ms = T0;
    t.expires_ms = T0 + 1000;
    snprintf(t.created_by, sizeof t.created_by, "admin");
    assert_int_equal(rg_store_token_create(f->s, &t, &a, &f->err), 0);
    assert_true(t.id > 0);
    assert_int_equal(rg_store_token_find(f->s, t.hash, &got, &f->err), 0);
    assert_int_equal(got.id, t.id);
    assert_string_equal(got.role, "operator");
    assert_int_equal(got.expires_ms, T0 + 1000);
    assert_int_equal(got.revoked_ms, 0);

    /* Same hash again: conflict; unknown role: invalid. No audit rows. */
    assert_int_equal(rg_store_token_create(f->s, &t, &a, &f->err),
                     RG_ECONFLICT);
    rg_token_rec bad = t;
    hash_of("secret-2", bad.hash);
    snprintf(bad.role, sizeof bad.role, "root");
    assert_int_equal(rg_store_token_create(f->s, &bad, &a, &f->err), RG_EINVAL);
    assert_string_equal(f->err.field, "role");
    assert_int_equal(audit_rows(f), 1);

    char unknown[RG_HASH_HEX];
    hash_of("nobody", unknown);
    assert_int_equal(rg_store_token_find(f->s, unknown, &got, &f->err),
                     RG_ENOTFOUND);
    assert_int_equal(rg_store_token_find(f->s, "short", &got, &f->err),
                     RG_ENOTFOUND);

    int n = 0;
    assert_int_equal(rg_store_token_list(f->s, token_count, &n, &f->err), 0);
    assert_int_equal(n, 1);

    a = audit("token.revoke", "token:1", T0 + 5);
    assert_int_equal(rg_store_token_revoke(f->s, t.id, T0 + 5, &a, &f->err), 0);
    assert_int_equal(rg_store_token_find(f->s, t.hash, &got, &f->err), 0);
    assert_int_equal(got.revoked_ms, T0 + 5);
    assert_int_equal(rg_store_token_revoke(f->s, t.id, T0 + 6, &a, &f->err),
                     RG_ECONFLICT);
    assert_int_equal(rg_store_token_revoke(f->s, 999, T0 + 6, &a, &f->err),
                     RG_ENOTFOUND);
    assert_int_equal(audit_rows(f), 2);
    /* One target for the token's life: the store named the creation. */
    assert_int_equal(audit_rows_for(f, "token", t.id), 2);
}

/* --- enrollment keys ---------------------------------------------------- */

static void make_key(fx *f, const char *secret, int64_t uses, int64_t expires,
                     int64_t revoked, char hash[RG_HASH_HEX])
{
    rg_enroll_key_rec k;
    memset(&k, 0, sizeof k);
    hash_of(secret, k.hash);
    k.created_ms = T0;
    k.expires_ms = expires;
    k.revoked_ms = revoked;
    k.uses_left = uses;
    snprintf(k.created_by, sizeof k.created_by, "ci");
    assert_int_equal(rg_store_enroll_key_create(f->s, &k, NULL, &f->err), 0);
    assert_true(k.id > 0);
    memcpy(hash, k.hash, RG_HASH_HEX);
}

static void enroll_keys(void **state)
{
    fx *f = *state;
    char two[RG_HASH_HEX], exp[RG_HASH_HEX], rev[RG_HASH_HEX], inf[RG_HASH_HEX];
    char unknown[RG_HASH_HEX];

    make_key(f, "two-uses", 2, 0, 0, two);
    make_key(f, "expiring", -1, T0 + 10, 0, exp);
    make_key(f, "revoked", -1, 0, T0, rev);
    make_key(f, "unlimited", -1, 0, 0, inf);

    assert_int_equal(rg_store_enroll_key_use(f->s, two, T0, NULL, &f->err), 0);
    assert_int_equal(rg_store_enroll_key_use(f->s, two, T0, NULL, &f->err), 0);
    assert_int_equal(rg_store_enroll_key_use(f->s, two, T0, NULL, &f->err),
                     RG_EAUTH);
    assert_non_null(strstr(f->err.msg, "used up"));

    assert_int_equal(rg_store_enroll_key_use(f->s, exp, T0 + 9, NULL, &f->err),
                     0);
    assert_int_equal(rg_store_enroll_key_use(f->s, exp, T0 + 10, NULL, &f->err),
                     RG_EAUTH);
    assert_non_null(strstr(f->err.msg, "expired"));
    assert_int_equal(rg_store_enroll_key_use(f->s, rev, T0, NULL, &f->err),
                     RG_EAUTH);
    assert_non_null(strstr(f->err.msg, "revoked"));
    hash_of("never issued", unknown);
    assert_int_equal(rg_store_enroll_key_use(f->s, unknown, T0, NULL, &f->err),
                     RG_EAUTH);
    assert_int_equal(rg_store_enroll_key_use(f->s, "", T0, NULL, &f->err),
                     RG_EAUTH);
    for (int i = 0; i < 20; i++)
        assert_int_equal(rg_store_enroll_key_use(f->s, inf, T0, NULL, &f->err),
                         0);

    /* the key used comes back with the flag environments it allows */
    rg_enroll_key_rec k, used;
    memset(&k, 0, sizeof k);
    hash_of("envs", k.hash);
    k.uses_left = -1;
    snprintf(k.flag_envs, sizeof k.flag_envs, "prod,staging");
    assert_int_equal(rg_store_enroll_key_create(f->s, &k, NULL, &f->err), 0);
    assert_int_equal(rg_store_enroll_key_use(f->s, k.hash, T0, &used, &f->err),
                     0);
    assert_int_equal(used.id, k.id);
    assert_string_equal(used.flag_envs, "prod,staging");
    memset(&used, 0, sizeof used);
    assert_int_equal(rg_store_enroll_key_use(f->s, inf, T0, &used, &f->err), 0);
    assert_string_equal(used.flag_envs, "");

    memset(&k, 0, sizeof k);
    hash_of("zero", k.hash);
    k.uses_left = 0;
    assert_int_equal(rg_store_enroll_key_create(f->s, &k, NULL, &f->err),
                     RG_EINVAL);
    memcpy(k.hash, two, RG_HASH_HEX);
    k.uses_left = 1;
    assert_int_equal(rg_store_enroll_key_create(f->s, &k, NULL, &f->err),
                     RG_ECONFLICT);
}

/* --- direct lookups ----------------------------------------------------- */

/* Get by id and find by version read one indexed row, revoked records
 * included, and say what is missing. */
static void lookups_by_key(void **state)
{
    fx *f = *state;
    rg_token_rec t, got;
    rg_enroll_key_rec k;
    rg_release_rec *r = malloc(sizeof *r);
    char hash[RG_HASH_HEX];
    int64_t versions[] = {3, 7}, ids[2];
    assert_non_null(r);

    memset(&t, 0, sizeof t);
    snprintf(t.name, sizeof t.name, "reader");
    snprintf(t.role, sizeof t.role, "viewer");
    hash_of("secret-get", t.hash);
    t.created_ms = T0;
    snprintf(t.created_by, sizeof t.created_by, "admin");
    assert_int_equal(rg_store_token_create(f->s, &t, NULL, &f->err), 0);
    assert_int_equal(rg_store_token_revoke(f->s, t.id, T0 + 5, NULL, &f->err),
                     0);
    assert_int_equal(rg_store_token_get(f->s, t.id, &got, &f->err), 0);
    assert_int_equal(got.id, t.id);
    assert_string_equal(got.name, "reader");
    assert_string_equal(got.hash, t.hash);
    assert_int_equal(got.revoked_ms, T0 + 5);
    assert_int_equal(rg_store_token_get(f->s, t.id + 1, &got, &f->err),
                     RG_ENOTFOUND);
    assert_non_null(strstr(f->err.msg, "token"));

    make_key(f, "key-a", 2, 0, 0, hash);
    make_key(f, "key-b", -1, 0, T0 + 1, hash);
    assert_int_equal(rg_store_enroll_key_get(f->s, 2, &k, &f->err), 0);
    assert_int_equal(k.id, 2);
    assert_string_equal(k.hash, hash);
    assert_int_equal(k.revoked_ms, T0 + 1);
    assert_int_equal(k.uses_left, -1);
    assert_int_equal(rg_store_enroll_key_get(f->s, 3, &k, &f->err),
                     RG_ENOTFOUND);

    add_releases(f, versions, 2, ids);
    assert_int_equal(rg_store_release_find(f->s, "det", 7, r, &f->err), 0);
    assert_int_equal(r->id, ids[1]);
    assert_int_equal(r->version, 7);
    assert_string_equal(r->channel, "det");
    assert_int_equal(rg_store_release_find(f->s, "det", 5, r, &f->err),
                     RG_ENOTFOUND);
    assert_string_equal(f->err.field, "version");
    assert_int_equal(rg_store_release_find(f->s, "nope", 3, r, &f->err),
                     RG_ENOTFOUND);
    free(r);
}

typedef struct key_race {
    rg_store *s;     /* the store to use, or NULL: ... */
    const char *url; /* ... open one of its own at url */
    const char *hash;
    int ok;
} key_race;

static void *use_key_many(void *arg)
{
    key_race *r = arg;
    rg_store *own = NULL;
    if (!r->s && rg_store_open(r->url, &own, NULL) != 0)
        return NULL;
    for (int i = 0; i < 50; i++)
        if (rg_store_enroll_key_use(own ? own : r->s, r->hash, T0, NULL,
                                    NULL) == 0)
            r->ok++;
    rg_store_close(own);
    return NULL;
}

/* Four threads race for a key of 100 uses (hash into hash), through f's
 * store or each through a store of its own on the same database: how
 * many succeed. */
static int race_for_key(fx *f, bool own_stores, char hash[RG_HASH_HEX])
{
    pthread_t th[4];
    key_race r[4];

    make_key(f, "raced", 100, 0, 0, hash);
    for (int i = 0; i < 4; i++) {
        r[i] = (key_race){own_stores ? NULL : f->s, f->path, hash, 0};
        assert_int_equal(pthread_create(&th[i], NULL, use_key_many, &r[i]), 0);
    }
    int total = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        total += r[i].ok;
    }
    return total;
}

/* Through one store: exactly 100 succeed. */
static void enroll_key_use_is_atomic(void **state)
{
    fx *f = *state;
    char hash[RG_HASH_HEX];
    assert_int_equal(race_for_key(f, false, hash), 100);
    assert_int_equal(rg_store_enroll_key_use(f->s, hash, T0, NULL, &f->err),
                     RG_EAUTH);
}

/* Through four stores open on one database (four nodes, or four
 * processes): each check-then-write holds against the others (a write
 * transaction excludes other writers: BEGIN IMMEDIATE on SQLite, an
 * advisory lock on PostgreSQL), so again exactly 100 succeed. */
static void enroll_key_use_is_atomic_across_stores(void **state)
{
    char hash[RG_HASH_HEX];
    assert_int_equal(race_for_key(*state, true, hash), 100);
}

/* --- endpoints ---------------------------------------------------------- */

typedef struct ep_seen {
    int n;
    rg_endpoint_rec last;
} ep_seen;

static int ep_cb(void *ctx, const rg_endpoint_rec *e)
{
    ep_seen *s = ctx;
    s->n++;
    if (strcmp(e->id, "host-1") == 0)
        s->last = *e;
    return 0;
}

static rg_endpoint_rec endpoint(const char *id, const char *token_secret,
                                const char *os)
{
    rg_endpoint_rec e;
    memset(&e, 0, sizeof e);
    snprintf(e.id, sizeof e.id, "%s", id);
    hash_of(token_secret, e.token_hash);
    snprintf(e.attrs_json, sizeof e.attrs_json,
             "{\"os\":\"%s\",\"os_version\":\"10\",\"arch\":\"x86_64\"}", os);
    e.enrolled_ms = T0;
    return e;
}

static void endpoints(void **state)
{
    fx *f = *state;
    ep_seen seen;
    rg_endpoint_rec e = endpoint("host-1", "t1", "windows");
    rg_audit_rec a = audit("endpoint.enroll", "endpoint:host-1", T0);

    assert_int_equal(rg_store_endpoint_enroll(f->s, &e, &a, &f->err), 0);
    e = endpoint("host-2", "t2", "linux");
    assert_int_equal(rg_store_endpoint_enroll(f->s, &e, NULL, &f->err), 0);

    rg_endpoint_seen batch[] = {
        {"host-1", T0 + 50, "{\"det\":{\"release\":3}}"},
        {"ghost", T0 + 50, "{}"}, /* unknown: skipped */
    };
    assert_int_equal(rg_store_endpoint_flush(f->s, batch, 2, &f->err), 0);

    memset(&seen, 0, sizeof seen);
    assert_int_equal(rg_store_endpoint_load(f->s, ep_cb, &seen, &f->err), 0);
    assert_int_equal(seen.n, 2);
    assert_int_equal(seen.last.last_seen_ms, T0 + 50);
    assert_string_equal(seen.last.installed_json, "{\"det\":{\"release\":3}}");

    /* An enrollment key alone never takes over an enrolled id. */
    e = endpoint("host-1", "t1-new", "macos");
    e.enrolled_ms = T0 + 60;
    assert_int_equal(rg_store_endpoint_enroll(f->s, &e, NULL, &f->err),
                     RG_ECONFLICT);
    assert_string_equal(f->err.field, "endpoint_id");
    memset(&seen, 0, sizeof seen);
    assert_int_equal(rg_store_endpoint_load(f->s, ep_cb, &seen, &f->err), 0);
    assert_string_not_equal(seen.last.token_hash, e.token_hash);

    /* An operator's identity reset allows one fresh enrollment. */
    rg_audit_rec ra = audit("endpoint.reset_identity", "endpoint:host-1", T0);
    assert_int_equal(
        rg_store_endpoint_reset_identity(f->s, "ghost", T0, &ra, &f->err),
        RG_ENOTFOUND);
    assert_int_equal(
        rg_store_endpoint_reset_identity(f->s, "host-1", T0, NULL, &f->err),
        RG_EINVAL);
    assert_int_equal(
        rg_store_endpoint_reset_identity(f->s, "host-1", T0, &ra, &f->err), 0);
    assert_int_equal(rg_store_endpoint_enroll(f->s, &e, NULL, &f->err), 0);
    e = endpoint("host-1", "t1-newer", "macos");
    e.enrolled_ms = T0 + 60;
    assert_int_equal(rg_store_endpoint_enroll(f->s, &e, NULL, &f->err),
                     RG_ECONFLICT); /* the reset was used up */

    /* Re-enrollment with proof of the current token replaces token and
     * attributes, keeps what was seen. */
    e.proven = true;
    assert_int_equal(rg_store_endpoint_enroll(f->s, &e, NULL, &f->err), 0);
    memset(&seen, 0, sizeof seen);
    assert_int_equal(rg_store_endpoint_load(f->s, ep_cb, &seen, &f->err), 0);
    assert_int_equal(seen.n, 2);
    assert_string_equal(seen.last.token_hash, e.token_hash);
    assert_non_null(strstr(seen.last.attrs_json, "macos"));
    assert_int_equal(seen.last.enrolled_ms, T0 + 60);
    assert_int_equal(seen.last.last_seen_ms, T0 + 50);
    assert_string_equal(seen.last.installed_json, "{\"det\":{\"release\":3}}");

    /* Bad input: nothing written. */
    e = endpoint("host-3", "t3", "linux");
    snprintf(e.attrs_json, sizeof e.attrs_json, "not json");
    assert_int_equal(rg_store_endpoint_enroll(f->s, &e, NULL, &f->err),
                     RG_EINVAL);
    assert_string_equal(f->err.field, "attributes");
    e = endpoint("host-3", "t3", "linux");
    memset(e.id, 'h', sizeof e.id);
    assert_int_equal(rg_store_endpoint_enroll(f->s, &e, NULL, &f->err),
                     RG_EINVAL);
    char long_json[RG_ATTRS_MAX + 10];
    memset(long_json, ' ', sizeof long_json);
    long_json[0] = '{';
    long_json[sizeof long_json - 2] = '}';
    long_json[sizeof long_json - 1] = '\0';
    rg_endpoint_seen too_long[] = {
        {"host-2", T0 + 70, "{}"},
        {"host-1", T0 + 70, long_json},
    };
    assert_int_equal(rg_store_endpoint_flush(f->s, too_long, 2, &f->err),
                     RG_EINVAL);
    memset(&seen, 0, sizeof seen);
    assert_int_equal(rg_store_endpoint_load(f->s, ep_cb, &seen, &f->err), 0);
    assert_int_equal(seen.n, 2);
    assert_int_equal(seen.last.last_seen_ms, T0 + 50);
    assert_int_equal(audit_rows(f), 2); /* the enrollment and the reset */
}

/* --- events ------------------------------------------------------------- */

static rg_event_rec event(const char *ep, const char *id, const char *type,
                          int64_t release)
{
    rg_event_rec e;
    memset(&e, 0, sizeof e);
    snprintf(e.endpoint_id, sizeof e.endpoint_id, "%s", ep);
    snprintf(e.event_id, sizeof e.event_id, "%s", id);
    snprintf(e.type, sizeof e.type, "%s", type);
    e.release_id = release;
    snprintf(e.channel, sizeof e.channel, "det");
    e.reported_ms = T0;
    e.received_ms = T0 + 1;
    return e;
}

/* What the tails read (store.h, "tails"). */
typedef struct tailed {
    size_t n;
    int64_t seq[8];
    char id[8][RG_EPID_MAX + 1];
    char installed[8][RG_ATTRS_MAX + 1];
} tailed;

static int tail_ep(void *ctx, const rg_endpoint_tail *t)
{
    tailed *x = ctx;
    assert_true(x->n < 8);
    x->seq[x->n] = t->seq;
    snprintf(x->id[x->n], sizeof x->id[0], "%s", t->e.id);
    snprintf(x->installed[x->n++], sizeof x->installed[0], "%s",
             t->e.installed_json);
    return 0;
}

static int tail_ev(void *ctx, const rg_event_tail *t)
{
    tailed *x = ctx;
    x->seq[x->n] = t->seq;
    snprintf(x->id[x->n++], sizeof x->id[0], "%s", t->e.event_id);
    return 0;
}

static int tail_offer(void *ctx, const rg_offer_rec *o)
{
    tailed *x = ctx;
    x->seq[x->n] = o->seq;
    snprintf(x->id[x->n++], sizeof x->id[0], "%s", o->endpoint_id);
    return 0;
}

/* Endpoints are numbered by the enrollment or flush that wrote them last
 * (both engines; one flush, one number, even for a batch written in one
 * statement, whose text survives quoting); events and offers by their
 * own sequence on PostgreSQL (on SQLite, one node, they stay 0). */
static void tails(void **state)
{
    fx *f = *state;
    tailed t = {0};
    rg_tail_heads h;
    int64_t versions[] = {1}, rel[1];
    add_releases(f, versions, 1, rel);
    assert_int_equal(rg_store_tail_heads(f->s, &h, &f->err), 0);
    assert_true(h.endpoints == 0 && h.events == 0 && h.offers == 0);
    rg_endpoint_rec e = endpoint("h1", "t1", "linux");
    assert_int_equal(rg_store_endpoint_enroll(f->s, &e, NULL, &f->err), 0);
    e = endpoint("h2", "t2", "linux");
    assert_int_equal(rg_store_endpoint_enroll(f->s, &e, NULL, &f->err), 0);
    assert_int_equal(
        rg_store_endpoints_after(f->s, 0, 10, tail_ep, &t, &f->err), 0);
    assert_int_equal(t.n, 2);
    assert_string_equal(t.id[0], "h1");
    assert_true(t.seq[0] > 0 && t.seq[1] > t.seq[0]);

    const char *odd = "{\"a\\\"b,c}\":{\"x\":\"c\\\\d {e}\"}}";
    rg_endpoint_seen batch[] = {{"h2", T0 + 7, odd}, {"h1", T0 + 8, "{}"}};
    assert_int_equal(rg_store_endpoint_flush(f->s, batch, 2, &f->err), 0);
    int64_t after = t.seq[1];
    memset(&t, 0, sizeof t);
    assert_int_equal(
        rg_store_endpoints_after(f->s, after, 10, tail_ep, &t, &f->err), 0);
    assert_int_equal(t.n, 2);
    assert_int_equal(t.seq[0], t.seq[1]); /* one flush */
    assert_true(t.seq[0] > after);
    assert_string_equal(t.id[0], "h1");
    assert_string_equal(t.installed[1], odd);
    memset(&t, 0, sizeof t);
    assert_int_equal(
        rg_store_endpoints_after(f->s, after, 1, tail_ep, &t, &f->err), 0);
    assert_int_equal(t.n, 1); /* max rows */

    rg_event_rec ev = event("h1", "a1", "applying", rel[0]);
    assert_int_equal(rg_store_events_record(f->s, &ev, 1, NULL, &f->err), 0);
    assert_int_equal(rg_store_offers_record(f->s, "h2", rel, 1, T0, &f->err),
                     0);
    assert_int_equal(rg_store_tail_heads(f->s, &h, &f->err), 0);
    memset(&t, 0, sizeof t);
    assert_int_equal(rg_store_events_after(f->s, 0, 10, tail_ev, &t, &f->err),
                     0);
    assert_int_equal(t.n, rg_test_pg() ? 1 : 0);
    assert_int_equal(h.events, rg_test_pg() ? t.seq[0] : 0);
    memset(&t, 0, sizeof t);
    assert_int_equal(
        rg_store_offers_after(f->s, 0, 10, tail_offer, &t, &f->err), 0);
    assert_int_equal(t.n, rg_test_pg() ? 1 : 0);
    if (rg_test_pg())
        assert_string_equal(t.id[0], "h2");
}

static void events(void **state)
{
    fx *f = *state;
    int64_t versions[] = {1, 2}, rel[2];
    rg_event_counts c;
    size_t n_new = 99;

    add_releases(f, versions, 2, rel);
    for (int i = 1; i <= 3; i++) {
        char id[16];
        snprintf(id, sizeof id, "h%d", i);
        rg_endpoint_rec e = endpoint(id, id, "linux");
        assert_int_equal(rg_store_endpoint_enroll(f->s, &e, NULL, &f->err), 0);
    }

    rg_event_rec ev[] = {
        event("h1", "a1", "applying", rel[1]),
        event("h1", "a2", "healthy", rel[1]),
        event("h1", "a3", "healthy", rel[1]), /* same endpoint: counted once */
        event("h2", "b1", "applying", rel[1]),
        event("h2", "b2", "failed", rel[1]),
        event("h2", "b3", "crashed", rel[1]), /* failed class: once per endpoint
                                               */
        event("h3", "c1", "applying", rel[1]),
        event("h3", "c2", "reverted", rel[1]),
        event("h3", "c3", "applying", rel[0]), /* another release */
    };
    assert_int_equal(rg_store_events_record(f->s, ev, 9, &n_new, &f->err), 0);
    assert_int_equal(n_new, 9);
    assert_int_equal(rg_store_event_counts(f->s, rel[1], &c, &f->err), 0);
    assert_int_equal(c.applying, 3);
    assert_int_equal(c.healthy, 1);
    assert_int_equal(c.failed, 2);
    assert_int_equal(rg_store_event_counts(f->s, rel[0], &c, &f->err), 0);
    assert_int_equal(c.applying, 1);
    assert_int_equal(c.healthy + c.failed, 0);

    /* A retried batch (plus one new event) counts only the new one. */
    rg_event_rec retry[] = {ev[0], ev[1], event("h3", "c4", "healthy", rel[1])};
    assert_int_equal(rg_store_events_record(f->s, retry, 3, &n_new, &f->err),
                     0);
    assert_int_equal(n_new, 1);
    assert_int_equal(rg_store_events_record(f->s, retry, 3, &n_new, &f->err),
                     0);
    assert_int_equal(n_new, 0);
    assert_int_equal(rg_store_event_counts(f->s, rel[1], &c, &f->err), 0);
    assert_int_equal(c.healthy, 2);
    assert_int_equal(c.applying, 3);

    /* A batch with a bad event is refused whole. */
    rg_event_rec bad[] = {event("h1", "d1", "applying", rel[0]),
                          event("ghost", "d2", "applying", rel[0])};
    assert_int_equal(rg_store_events_record(f->s, bad, 2, &n_new, &f->err),
                     RG_ENOTFOUND);
    assert_non_null(strstr(f->err.msg, "'ghost'"));
    bad[1] = event("h2", "d2", "applying", 999);
    assert_int_equal(rg_store_events_record(f->s, bad, 2, &n_new, &f->err),
                     RG_ENOTFOUND);
    bad[1] = event("h2", "d2", "exploded", rel[0]);
    assert_int_equal(rg_store_events_record(f->s, bad, 2, &n_new, &f->err),
                     RG_EINVAL);
    bad[1] = event("h2", "d2", "applying", rel[0]);
    memset(bad[1].detail, 'x', sizeof bad[1].detail);
    assert_int_equal(rg_store_events_record(f->s, bad, 2, &n_new, &f->err),
                     RG_EINVAL);
    assert_int_equal(rg_store_event_counts(f->s, rel[0], &c, &f->err), 0);
    assert_int_equal(c.applying, 1); /* d1 was not stored */

    assert_int_equal(rg_store_event_counts(f->s, 999, &c, &f->err), 0);
    assert_int_equal(c.applying + c.healthy + c.failed, 0);

    /* One endpoint writes at most RG_EVENTS_PER_KIND rows per release and
     * type (h1 has 2 healthy for rel[1] already); the rest are skipped. */
    rg_event_rec flood[2 * RG_EVENTS_PER_KIND];
    for (int i = 0; i < 2 * RG_EVENTS_PER_KIND; i++) {
        char id[16];
        snprintf(id, sizeof id, "f%d", i);
        flood[i] = event("h1", id, "healthy", rel[1]);
    }
    assert_int_equal(rg_store_events_record(f->s, flood, 2 * RG_EVENTS_PER_KIND,
                                            &n_new, &f->err),
                     0);
    assert_int_equal(n_new, RG_EVENTS_PER_KIND - 2);
    rg_event_rec other = event("h1", "f-other", "failed", rel[1]);
    assert_int_equal(rg_store_events_record(f->s, &other, 1, &n_new, &f->err),
                     0);
    assert_int_equal(n_new, 1); /* another type has its own room */
}

/* Retention: the oldest events before a time go, in batches, except
 * those of a release with an active rollout. */
/* --- group commit (store.h) ------------------------------------------- */

#define GC_THREADS 8
#define GC_PER_THREAD 25

typedef struct gc_arg {
    fx *f;
    int t;
    int64_t rel;
    int acked_missing; /* acknowledged events not found right after */
} gc_arg;

static int count_rows(void *ctx, const rg_event_rec *e)
{
    (void)e;
    (*(size_t *)ctx)++;
    return 0;
}

/* One endpoint per thread, one event per call, as many check-ins at once:
 * each call returns only once its event is durable and readable. */
static void *gc_appender(void *p)
{
    gc_arg *a = p;
    char ep[16];
    snprintf(ep, sizeof ep, "g%d", a->t);
    for (int i = 0; i < GC_PER_THREAD; i++) {
        char id[32];
        snprintf(id, sizeof id, "e%d-%d", a->t, i);
        rg_event_rec ev = event(ep, id, i ? "healthy" : "applying", a->rel);
        rg_err err;
        size_t n_new = 0, seen = 0;
        if (rg_store_events_record(a->f->s, &ev, 1, &n_new, &err) != 0)
            return "record failed";
        rg_store_event_list_endpoint(a->f->s, ep, RG_EVENTS_LIST_MAX,
                                     count_rows, &seen, &err);
        if (seen !=
            (size_t)(i < RG_EVENTS_PER_KIND ? i + 1 : RG_EVENTS_PER_KIND + 1))
            a->acked_missing++;
    }
    return NULL;
}

static void group_commit_threads(void **state)
{
    fx *f = *state;
    int64_t v = 1, rel;
    pthread_t th[GC_THREADS];
    gc_arg args[GC_THREADS];
    add_releases(f, &v, 1, &rel);
    for (int t = 0; t < GC_THREADS; t++) {
        char id[16];
        snprintf(id, sizeof id, "g%d", t);
        rg_endpoint_rec e = endpoint(id, id, "linux");
        assert_int_equal(rg_store_endpoint_enroll(f->s, &e, NULL, &f->err), 0);
    }
    rg_store_group_stats before, after;
    rg_store_group_stats_get(f->s, &before);
    for (int t = 0; t < GC_THREADS; t++) {
        args[t] = (gc_arg){f, t, rel, 0};
        assert_int_equal(pthread_create(&th[t], NULL, gc_appender, &args[t]),
                         0);
    }
    for (int t = 0; t < GC_THREADS; t++) {
        void *res = NULL;
        pthread_join(th[t], &res);
        assert_null(res);
        assert_int_equal(args[t].acked_missing, 0);
    }
    rg_store_group_stats_get(f->s, &after);
    assert_int_equal(after.writes - before.writes, GC_THREADS * GC_PER_THREAD);
    assert_int_equal(after.failed, 0);
    assert_true(after.commits - before.commits <= GC_THREADS * GC_PER_THREAD);
    reopen(f); /* what was acknowledged is on disk */
    rg_event_counts c;
    assert_int_equal(rg_store_event_counts(f->s, rel, &c, &f->err), 0);
    assert_int_equal(c.applying, GC_THREADS);
    assert_int_equal(c.healthy, GC_THREADS);
    size_t rows = 0;
    assert_int_equal(rg_store_event_list(f->s, rel, count_rows, &rows, &f->err),
                     0);
    assert_int_equal(rows, GC_THREADS * (1 + RG_EVENTS_PER_KIND));
}

/* A write that is refused alone (unknown endpoint, unknown release) fails
 * alone; the others of its transaction are kept. */
typedef struct gc_wait {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int left;
} gc_wait;

static void gc_done(rg_store_write *w)
{
    gc_wait *x = w->ctx;
    pthread_mutex_lock(&x->mu);
    x->left--;
    pthread_cond_broadcast(&x->cv);
    pthread_mutex_unlock(&x->mu);
}

/* Submits w[0 .. n) at once and waits for all of them. */
static void gc_submit_all(fx *f, rg_store_write *w, int n)
{
    gc_wait x = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, n};
    for (int i = 0; i < n; i++) {
        w[i].done = gc_done;
        w[i].ctx = &x;
        assert_int_equal(rg_store_write_submit(f->s, &w[i]), 0);
    }
    pthread_mutex_lock(&x.mu);
    while (x.left > 0)
        pthread_cond_wait(&x.cv, &x.mu);
    pthread_mutex_unlock(&x.mu);
}

static void group_refused_alone(void **state)
{
    fx *f = *state;
    int64_t v = 1, rel, ghost_rel = 999;
    add_releases(f, &v, 1, &rel);
    rg_endpoint_rec e = endpoint("h1", "h1", "linux");
    assert_int_equal(rg_store_endpoint_enroll(f->s, &e, NULL, &f->err), 0);
    rg_event_rec good1 = event("h1", "a", "applying", rel);
    rg_event_rec ghost = event("ghost", "b", "applying", rel);
    rg_event_rec good2[] = {event("h1", "c", "healthy", rel),
                            event("h1", "d", "healthy", rel)};
    rg_store_write w[4] = {
        {.events = &good1, .n_events = 1},
        {.events = &ghost, .n_events = 1},
        {.events = good2,
         .n_events = 2,
         .offer_endpoint = "h1",
         .offers = &rel,
         .n_offers = 1,
         .offer_ms = T0},
        {.events = &good1, /* a retry in the same group: stored once */
         .n_events = 1,
         .offer_endpoint = "h1",
         .offers = &ghost_rel,
         .n_offers = 1,
         .offer_ms = T0},
    };
    gc_submit_all(f, w, 4);
    assert_int_equal(w[0].rc, 0);
    assert_int_equal(w[0].n_new, 1);
    assert_int_equal(w[1].rc, RG_ENOTFOUND);
    assert_non_null(strstr(w[1].err.msg, "'ghost'"));
    assert_int_equal(w[2].rc, 0);
    assert_int_equal(w[2].n_new, 2);
    assert_int_equal(w[3].rc, RG_ENOTFOUND); /* its offer's release */
    assert_int_equal(w[3].n_new, 0);
    assert_int_equal(rg_store_offer_check(f->s, "h1", rel, &f->err), 0);
    assert_int_equal(rg_store_offer_check(f->s, "h1", ghost_rel, &f->err),
                     RG_ENOTFOUND);
    size_t rows = 0;
    assert_int_equal(rg_store_event_list(f->s, rel, count_rows, &rows, &f->err),
                     0);
    assert_int_equal(rows, 3);

    /* Bad input is refused at submit: nothing queued, done never runs. */
    rg_event_rec bad = event("h1", "x", "exploded", rel);
    rg_store_write wb = {.events = &bad, .n_events = 1, .done = gc_done};
    assert_int_equal(rg_store_write_submit(f->s, &wb), RG_EINVAL);
    assert_int_equal(wb.err.code, RG_EINVAL);
}

/* A transaction that fails (the database locked by another process past
 * the busy timeout) fails every write in it; none is kept. SQLite only:
 * the lock is taken through SQLite's own API. */
static void group_failed_commit(void **state)
{
    fx *f = *state;
    int64_t v = 1, rel;
    if (rg_test_pg())
        return;
    add_releases(f, &v, 1, &rel);
    rg_endpoint_rec e = endpoint("h1", "h1", "linux");
    assert_int_equal(rg_store_endpoint_enroll(f->s, &e, NULL, &f->err), 0);
    sqlite3 *other = NULL;
    assert_int_equal(sqlite3_open(f->path, &other), SQLITE_OK);
    assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL),
                     SQLITE_OK);
    enum { N = 6 };
    rg_event_rec ev[N];
    rg_store_write w[N];
    memset(w, 0, sizeof w);
    for (int i = 0; i < N; i++) {
        char id[16];
        snprintf(id, sizeof id, "f%d", i);
        ev[i] = event("h1", id, "applying", rel);
        w[i].events = &ev[i];
        w[i].n_events = 1;
    }
    gc_submit_all(f, w, N);
    for (int i = 0; i < N; i++) {
        assert_int_equal(w[i].rc, RG_EIO);
        assert_int_equal(w[i].n_new, 0);
        assert_non_null(strstr(w[i].err.msg, "locked"));
    }
    rg_store_group_stats st;
    rg_store_group_stats_get(f->s, &st);
    assert_int_equal(st.failed, N);
    sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(other);
    size_t rows = 0;
    assert_int_equal(rg_store_event_list(f->s, rel, count_rows, &rows, &f->err),
                     0);
    assert_int_equal(rows, 0);
    gc_submit_all(f, w, N); /* the agent's retry, once the lock is gone */
    for (int i = 0; i < N; i++)
        assert_int_equal(w[i].rc, 0);
    assert_int_equal(rg_store_event_list(f->s, rel, count_rows, &rows, &f->err),
                     0);
    assert_int_equal(rows, N);
}

static void events_prune(void **state)
{
    fx *f = *state;
    int64_t versions[] = {1, 2}, rel[2];
    size_t n = 99;
    rg_event_counts c;
    add_releases(f, versions, 2, rel);
    rg_endpoint_rec e = endpoint("h1", "h1", "linux");
    assert_int_equal(rg_store_endpoint_enroll(f->s, &e, NULL, &f->err), 0);
    rg_rollout_rec ro = rollout_rec(rel[1]);
    assert_int_equal(rg_store_rollout_create(f->s, &ro, NULL, &f->err), 0);
    rg_event_rec ev[] = {event("h1", "a", "applying", rel[0]),
                         event("h1", "b", "healthy", rel[0]),
                         event("h1", "c", "applying", rel[1])};
    ev[1].received_ms = T0 + 5;
    assert_int_equal(rg_store_events_record(f->s, ev, 3, &n, &f->err), 0);
    assert_int_equal(rg_store_events_prune(f->s, T0 + 1, 10, &n, &f->err), 0);
    assert_int_equal(n, 0); /* nothing received before T0 + 1 */
    assert_int_equal(rg_store_events_prune(f->s, T0 + 100, 1, &n, &f->err), 0);
    assert_int_equal(n, 1); /* the oldest first, one per batch */
    assert_int_equal(rg_store_event_counts(f->s, rel[0], &c, &f->err), 0);
    assert_int_equal(c.applying, 0);
    assert_int_equal(c.healthy, 1);
    assert_int_equal(rg_store_events_prune(f->s, T0 + 100, 10, &n, &f->err), 0);
    assert_int_equal(n, 1); /* rel[1]'s rollout is active: kept */
    assert_int_equal(rg_store_event_counts(f->s, rel[1], &c, &f->err), 0);
    assert_int_equal(c.applying, 1);
    assert_int_equal(rg_store_events_prune(f->s, T0 + 100, 0, &n, &f->err),
                     RG_EINVAL);
}

/* Activation: declared kind and max kept, 0 max takes the kind's
 * default, bad kinds and maxima are refused before anything is written. */
static void release_activation(void **state)
{
    fx *f = *state;
    char sha[RG_HASH_HEX];
    rg_release_rec r, got;
    add_channel(f, "det");
    add_artifact(f, "content", sha);
    r = release_rec("det", 1, sha);
    assert_int_equal(rg_store_release_create(f->s, &r, NULL, &f->err), 0);
    assert_int_equal(rg_store_release_get(f->s, r.id, &got, &f->err), 0);
    assert_int_equal(got.activation, RG_ACTIVATION_NONE);
    assert_int_equal(got.activation_max_ms, 120000);
    r = release_rec("det", 2, sha);
    r.activation = RG_ACTIVATION_REBOOT;
    r.activation_max_ms = 900000;
    assert_int_equal(rg_store_release_create(f->s, &r, NULL, &f->err), 0);
    assert_int_equal(rg_store_release_get(f->s, r.id, &got, &f->err), 0);
    assert_int_equal(got.activation, RG_ACTIVATION_REBOOT);
    assert_int_equal(got.activation_max_ms, 900000);
    r = release_rec("det", 3, sha);
    r.activation = RG_ACTIVATION_RESTART;
    assert_int_equal(rg_store_release_create(f->s, &r, NULL, &f->err), 0);
    assert_int_equal(r.activation_max_ms, 600000);
    r = release_rec("det", 4, sha);
    r.activation = 7;
    assert_int_equal(rg_store_release_create(f->s, &r, NULL, &f->err),
                     RG_EINVAL);
    assert_string_equal(f->err.field, "activation.kind");
    r = release_rec("det", 4, sha);
    r.activation_max_ms = RG_ACTIVATION_MAX_MS_LIMIT + 1;
    assert_int_equal(rg_store_release_create(f->s, &r, NULL, &f->err),
                     RG_EINVAL);
    assert_string_equal(f->err.field, "activation.max_s");
    int kind = -1;
    assert_int_equal(rg_activation_parse("reboot", &kind, &f->err), 0);
    assert_int_equal(kind, RG_ACTIVATION_REBOOT);
    assert_string_equal(rg_activation_name(kind), "reboot");
    assert_int_equal(rg_activation_parse("Reboot", &kind, &f->err), RG_EINVAL);
}

/* Offers: recorded once (the first time kept), checked per release and
 * per artifact digest; unknown endpoints and releases are refused. */
static void offers(void **state)
{
    fx *f = *state;
    int64_t versions[] = {1, 2}, rel[2];
    rg_release_rec r;
    add_releases(f, versions, 2, rel);
    rg_endpoint_rec e = endpoint("h1", "h1", "linux");
    assert_int_equal(rg_store_endpoint_enroll(f->s, &e, NULL, &f->err), 0);

    assert_int_equal(rg_store_offer_check(f->s, "h1", rel[0], &f->err),
                     RG_ENOTFOUND);
    assert_int_equal(rg_store_offers_record(f->s, "h1", rel, 1, T0, &f->err),
                     0);
    assert_int_equal(
        rg_store_offers_record(f->s, "h1", rel, 1, T0 + 5, &f->err),
        0); /* idempotent */
    assert_int_equal(rg_store_offer_check(f->s, "h1", rel[0], &f->err), 0);
    assert_int_equal(rg_store_offer_check(f->s, "h1", rel[1], &f->err),
                     RG_ENOTFOUND);
    assert_int_equal(rg_store_offer_check(f->s, "h2", rel[0], &f->err),
                     RG_ENOTFOUND);
    assert_int_equal(rg_store_release_get(f->s, rel[0], &r, &f->err), 0);
    assert_int_equal(rg_store_offer_artifact(f->s, "h1", r.sha256, &f->err), 0);
    assert_int_equal(rg_store_offer_artifact(f->s, "h2", r.sha256, &f->err),
                     RG_ENOTFOUND);
    char other[RG_HASH_HEX];
    hash_of("other bytes", other);
    assert_int_equal(rg_store_offer_artifact(f->s, "h1", other, &f->err),
                     RG_ENOTFOUND);

    int64_t ghost[] = {rel[1], 999};
    assert_int_equal(rg_store_offers_record(f->s, "h1", ghost, 2, T0, &f->err),
                     RG_ENOTFOUND);
    assert_int_equal(rg_store_offer_check(f->s, "h1", rel[1], &f->err),
                     RG_ENOTFOUND); /* the failed batch changed nothing */
    assert_int_equal(rg_store_offers_record(f->s, "ghost", rel, 1, T0, &f->err),
                     RG_ENOTFOUND);
    int64_t zero = 0;
    assert_int_equal(rg_store_offers_record(f->s, "h1", &zero, 1, T0, &f->err),
                     RG_EINVAL);
}

/* --- audit -------------------------------------------------------------- */

typedef struct audit_seen {
    int n;
    int64_t at[16];
} audit_seen;

static int audit_cb(void *ctx, const rg_audit_rec *a)
{
    audit_seen *s = ctx;
    if (s->n < 16)
        s->at[s->n] = a->at_ms;
    s->n++;
    return 0;
}

static void audit_filters(void **state)
{
    fx *f = *state;
    const char *actors[] = {"alice", "bob", "alice", "carol", "alice"};
    const char *targets[] = {"rollout:1", "rollout:1", "rollout:2",
                             "channel:det", "rollout:1"};
    for (int i = 0; i < 5; i++) {
        rg_audit_rec a = audit("rollout.pause", targets[i], T0 + 10 * i);
        snprintf(a.actor, sizeof a.actor, "%s", actors[i]);
        snprintf(a.reason, sizeof a.reason, "because %d", i);
        snprintf(a.source, sizeof a.source, "127.0.0.1");
        assert_int_equal(rg_store_audit_append(f->s, &a, &f->err), 0);
        assert_int_equal(a.id, i + 1);
    }
    audit_seen s = {0};
    assert_int_equal(rg_store_audit_list(f->s, NULL, audit_cb, &s, &f->err), 0);
    assert_int_equal(s.n, 5);
    assert_int_equal(s.at[0], T0 + 40); /* newest first */
    assert_int_equal(s.at[4], T0);

    rg_audit_filter flt = {.actor = "alice"};
    memset(&s, 0, sizeof s);
    assert_int_equal(rg_store_audit_list(f->s, &flt, audit_cb, &s, &f->err), 0);
    assert_int_equal(s.n, 3);
    flt = (rg_audit_filter){.target = "rollout:1"};
    memset(&s, 0, sizeof s);
    assert_int_equal(rg_store_audit_list(f->s, &flt, audit_cb, &s, &f->err), 0);
    assert_int_equal(s.n, 3);
    flt = (rg_audit_filter){.actor = "alice", .target = "rollout:1"};
    memset(&s, 0, sizeof s);
    assert_int_equal(rg_store_audit_list(f->s, &flt, audit_cb, &s, &f->err), 0);
    assert_int_equal(s.n, 2);
    flt = (rg_audit_filter){.since_ms = T0 + 10, .until_ms = T0 + 40};
    memset(&s, 0, sizeof s);
    assert_int_equal(rg_store_audit_list(f->s, &flt, audit_cb, &s, &f->err), 0);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.at[0], T0 + 30);
    assert_int_equal(s.at[2], T0 + 10);
    flt = (rg_audit_filter){.limit = 2};
    memset(&s, 0, sizeof s);
    assert_int_equal(rg_store_audit_list(f->s, &flt, audit_cb, &s, &f->err), 0);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.at[1], T0 + 30);
    /* a page cursor: ids below 4, with the other filters */
    flt = (rg_audit_filter){.before_id = 4, .actor = "alice"};
    memset(&s, 0, sizeof s);
    assert_int_equal(rg_store_audit_list(f->s, &flt, audit_cb, &s, &f->err), 0);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.at[0], T0 + 20);
    assert_int_equal(s.at[1], T0);
    flt = (rg_audit_filter){.actor = "nobody"};
    memset(&s, 0, sizeof s);
    assert_int_equal(rg_store_audit_list(f->s, &flt, audit_cb, &s, &f->err), 0);
    assert_int_equal(s.n, 0);

    rg_audit_rec bad = audit("", "x", T0);
    assert_int_equal(rg_store_audit_append(f->s, &bad, &f->err), RG_EINVAL);
    bad = audit("x", "x", T0);
    memset(bad.detail, 'd', sizeof bad.detail);
    assert_int_equal(rg_store_audit_append(f->s, &bad, &f->err), RG_EINVAL);
    assert_int_equal(audit_rows(f), 5);
}

/* --- persistence -------------------------------------------------------- */

static void persists_across_reopen(void **state)
{
    fx *f = *state;
    int64_t versions[] = {5}, rel[1];
    rg_release_rec got;
    rg_rollout_rec ro;
    char tok[RG_HASH_HEX];

    add_releases(f, versions, 1, rel);
    ro = rollout_rec(rel[0]);
    assert_int_equal(rg_store_rollout_create(f->s, &ro, NULL, &f->err), 0);
    rg_rollout_status next = ro.status;
    next.state = RG_RO_PAUSED;
    next.updated_ms = T0 + 9;
    rg_transition tr = trans(&ro.status, &next, "operator pause");
    assert_int_equal(rg_store_rollout_transition(f->s, ro.id, &ro.status, &next,
                                                 &tr, "alice", "{}", NULL,
                                                 &f->err),
                     0);
    rg_endpoint_rec e = endpoint("host-1", "t1", "linux");
    assert_int_equal(rg_store_endpoint_enroll(f->s, &e, NULL, &f->err), 0);
    rg_event_rec ev = event("host-1", "e1", "applying", rel[0]);
    assert_int_equal(rg_store_events_record(f->s, &ev, 1, NULL, &f->err), 0);
    make_key(f, "k", 1, 0, 0, tok);
    int rows = audit_rows(f);

    reopen(f);
    assert_int_equal(rg_store_release_get(f->s, rel[0], &got, &f->err), 0);
    assert_int_equal(got.version, 5);
    rg_rollout_rec ro2;
    assert_int_equal(rg_store_rollout_get(f->s, ro.id, &ro2, &f->err), 0);
    assert_int_equal(ro2.status.state, RG_RO_PAUSED);
    assert_int_equal(ro2.status.updated_ms, T0 + 9);
    decisions_seen ds = {0};
    assert_int_equal(
        rg_store_decision_list(f->s, ro.id, decision_cb, &ds, &f->err), 0);
    assert_int_equal(ds.n, 2); /* the start, then the pause */
    assert_string_equal(ds.reason[1], "operator pause");
    rg_event_counts c;
    assert_int_equal(rg_store_event_counts(f->s, rel[0], &c, &f->err), 0);
    assert_int_equal(c.applying, 1);
    size_t n_new = 9;
    assert_int_equal(rg_store_events_record(f->s, &ev, 1, &n_new, &f->err), 0);
    assert_int_equal(n_new, 0);
    assert_int_equal(audit_rows(f), rows);
    /* The key's one use is still there, and is consumed durably. */
    assert_int_equal(rg_store_enroll_key_use(f->s, tok, T0, NULL, &f->err), 0);
    reopen(f);
    assert_int_equal(rg_store_enroll_key_use(f->s, tok, T0, NULL, &f->err),
                     RG_EAUTH);
}

static int first_due(void *ctx, const rg_delivery_rec *d,
                     const rg_webhook_rec *w)
{
    (void)w;
    *(rg_delivery_rec *)ctx = *d;
    return 1;
}

static int count_attempts(void *ctx, const rg_attempt_rec *a)
{
    (void)a;
    (*(int *)ctx)++;
    return 0;
}

static int flag_due(void *ctx, const rg_delivery_rec *d,
                    const rg_webhook_rec *w)
{
    (void)w;
    if (d->flag[0])
        *(rg_delivery_rec *)ctx = *d;
    return 0;
}

/* Webhooks through the statements each engine words its own way: a
 * transition queues a delivery carrying its evidence's counts, a flag
 * rollout's put with an event queues one carrying its object (to the
 * subscriptions naming no channel), a test delivery gets a random
 * 32-hex-digit uid, attempts and pruning. */
static void webhook_outbox(void **state)
{
    fx *f = *state;
    int64_t ids[1], v[] = {1};
    add_releases(f, v, 1, ids);
    rg_rollout_rec ro = rollout_rec(ids[0]);
    assert_int_equal(rg_store_rollout_create(f->s, &ro, NULL, &f->err), 0);
    rg_webhook_rec w = {.created_ms = T0};
    snprintf(w.url, sizeof w.url, "http://127.0.0.1:9/hook");
    snprintf(w.events, sizeof w.events, "*");
    snprintf(w.secret, sizeof w.secret, "0123456789abcdef");
    assert_int_equal(rg_store_webhook_create(f->s, &w, NULL, &f->err), 0);

    rg_rollout_status cur = ro.status, next = cur;
    next.state = RG_RO_HALTED;
    next.updated_ms = T0 + 5;
    rg_transition tr = trans(&cur, &next, "halted by the gate");
    assert_int_equal(rg_store_rollout_transition(
                         f->s, ro.id, &cur, &next, &tr, "orchestrator",
                         "{\"counts\":{\"exposed\":3},\"llr\":9}", NULL,
                         &f->err),
                     0);
    rg_delivery_rec d;
    memset(&d, 0, sizeof d);
    assert_int_equal(
        rg_store_delivery_due(f->s, T0 + 5, 10, first_due, &d, &f->err), 1);
    assert_int_equal(d.rollout_id, ro.id);
    assert_string_equal(d.counts, "{\"exposed\":3}");
    assert_int_equal(strlen(d.uid), 32);
    assert_string_equal(d.flag, "");

    rg_webhook_rec scoped = w; /* a channel's: no flag deliveries */
    snprintf(scoped.channel, sizeof scoped.channel, "detections");
    assert_int_equal(rg_store_webhook_create(f->s, &scoped, NULL, &f->err), 0);
    rg_audit_rec a = audit("flag.rollout.halt", "flag:default/f", T0 + 5);
    rg_flag_rollout_rec fr = {.environment = "default",
                              .name = "f",
                              .active = 1,
                              .state = "{}",
                              .created_ms = T0,
                              .event = "halt",
                              .hook = "{\"flag\":\"f\"}"};
    assert_int_equal(rg_store_flag_rollout_put(f->s, &fr, &a, &f->err), 0);
    rg_delivery_rec fd;
    memset(&fd, 0, sizeof fd);
    assert_int_equal(
        rg_store_delivery_due(f->s, T0 + 5, 10, flag_due, &fd, &f->err), 0);
    assert_string_equal(fd.flag, "{\"flag\":\"f\"}");
    assert_string_equal(fd.event, "halt");
    assert_int_equal(fd.webhook_id, w.id);
    assert_int_equal(fd.decision_id, 0);
    assert_int_equal(fd.created_ms, T0 + 5);
    assert_int_equal(
        rg_store_webhook_delete(f->s, scoped.id, NULL, NULL, &f->err), 0);

    rg_delivery_rec t;
    assert_int_equal(
        rg_store_webhook_test(f->s, w.id, T0 + 6, &t, NULL, &f->err), 0);
    assert_string_equal(t.event, "test");
    assert_int_equal(strlen(t.uid), 32);
    assert_string_not_equal(t.uid, d.uid);
    rg_attempt_rec at = {.delivery_id = t.id,
                         .n = 1,
                         .at_ms = T0 + 7,
                         .took_ms = 1,
                         .status = 200};
    assert_int_equal(
        rg_store_delivery_attempt(f->s, &at, "delivered", 0, &f->err), 0);
    int n = 0;
    assert_int_equal(
        rg_store_attempt_list(f->s, t.id, count_attempts, &n, &f->err), 0);
    assert_int_equal(n, 1);
    size_t pruned = 0;
    assert_int_equal(
        rg_store_deliveries_prune(f->s, T0 + 100, 10, &pruned, &f->err), 0);
    assert_int_equal(pruned, 1); /* the delivered one; the other pends */
    assert_int_equal(rg_store_webhook_delete(f->s, w.id, NULL, NULL, &f->err),
                     0);
    assert_int_equal(rg_store_webhook_get(f->s, w.id, &w, &f->err),
                     RG_ENOTFOUND);
}

/* --- migrations --------------------------------------------------------- */

static int count_reverts(void *ctx, const rg_flag_revert_rec *r)
{
    assert_string_equal(r->detail, "crashed");
    (*(size_t *)ctx)++;
    return 0;
}

static void migrates_old_schema(void **state)
{
    fx *f = *state;
    char old[512], sql[512], sha[RG_HASH_HEX];
    rg_store *s = NULL;
    rg_channel_rec c;
    rg_release_rec r;
    rg_token_rec t;

    /* Schema 1 with a channel, an artifact and a release in it (raw SQL:
     * this build's statements speak the newest schema). */
    rg_test_store_url(f->dir, "old", old, sizeof old);
    assert_int_equal(rg__store_open_upto(old, 1, &s, &f->err), 0);
    assert_int_equal(rg_store_schema_version(s), 1);
    /* Version 1 has no token table yet. */
    memset(&t, 0, sizeof t);
    snprintf(t.name, sizeof t.name, "ci");
    snprintf(t.role, sizeof t.role, "admin");
    hash_of("s", t.hash);
    assert_int_equal(rg_store_token_create(s, &t, NULL, &f->err), RG_EIO);
    rg_store_close(s);
    assert_int_equal(rg_test_schema_get(old), 1);
    hash_of("legacy bytes", sha);
    snprintf(sql, sizeof sql,
             "INSERT INTO channels (name, description, created_ms)"
             " VALUES ('legacy', '', 1);"
             "INSERT INTO artifacts VALUES ('%s', 12, 1);"
             "INSERT INTO releases (channel_id, version, sha256, notes,"
             " urgency, created_ms, created_by)"
             " VALUES (1, 1, '%s', 'n', 'standard', 1, 'ci');",
             sha, sha);
    rg_test_raw_sql(old, sql);

    /* 1 -> 2: tokens. */
    assert_int_equal(rg__store_open_upto(old, 2, &s, &f->err), 0);
    assert_int_equal(rg_store_schema_version(s), 2);
    assert_int_equal(rg_store_token_create(s, &t, NULL, &f->err), 0);
    rg_store_close(s);
    assert_int_equal(rg_test_schema_get(old), 2);

    /* 2 -> 3: preflight. Old channels have none (read at the end: a
     * channel's row has columns of later schemas), old releases "none". */
    assert_int_equal(rg__store_open_upto(old, 3, &s, &f->err), 0);
    assert_int_equal(rg_store_schema_version(s), 3);
    assert_int_equal(rg_store_token_find(s, t.hash, &t, &f->err), 0);
    rg_store_close(s);
    assert_int_equal(rg_test_schema_get(old), 3);

    /* 3 -> 4: group policies, none yet; the old data stays (the channel
     * is read at the end). */
    assert_int_equal(rg__store_open_upto(old, 4, &s, &f->err), 0);
    assert_int_equal(rg_store_schema_version(s), 4);
    assert_int_equal(rg_store_policy_list(s, NULL, NULL, &f->err), 0);
    rg_store_close(s);
    assert_int_equal(rg_test_schema_get(old), 4);

    /* 4 -> 5: the audit log becomes append-only (test_audit_log.c). */
    assert_int_equal(rg__store_open_upto(old, 5, &s, &f->err), 0);
    assert_int_equal(rg_store_schema_version(s), 5);
    rg_store_close(s);
    assert_int_equal(rg_test_schema_get(old), 5);

    /* 5 -> 6: signed releases; old releases are unsigned (and keep their
     * preflight "none" from 3), no root yet. */
    assert_int_equal(rg__store_open_upto(old, 6, &s, &f->err), 0);
    assert_int_equal(rg_store_schema_version(s), 6);
    assert_int_equal(rg_store_root_list(s, 0, NULL, NULL, &f->err), 0);
    rg_store_close(s);
    assert_int_equal(rg_test_schema_get(old), 6);

    /* 6 -> 7: no release has had its quarantine lifted. */
    assert_int_equal(rg__store_open_upto(old, 7, &s, &f->err), 0);
    assert_int_equal(rg_store_schema_version(s), 7);
    rg_store_close(s);
    assert_int_equal(rg_test_schema_get(old), 7);

    /* 7 -> 8: endpoints that reported events before offers were recorded
     * keep counting: each (endpoint, release) of an event is an offer. */
    rg_test_raw_sql(
        old, "INSERT INTO endpoints VALUES ('h1', 'x', '{}', 1, 0, '{}');"
             "INSERT INTO events VALUES ('h1', 'e1', 'applying', 1,"
             " 'legacy', 1, 2, '')");
    assert_int_equal(rg__store_open_upto(old, 8, &s, &f->err), 0);
    assert_int_equal(rg_store_schema_version(s), 8);
    assert_int_equal(rg_store_offer_check(s, "h1", 1, &f->err), 0);
    assert_int_equal(rg_store_offer_check(s, "h2", 1, &f->err), RG_ENOTFOUND);
    rg_store_close(s);
    assert_int_equal(rg_test_schema_get(old), 8);

    /* 8 -> 9: no enrolled identity is reset: re-enrolling needs proof. */
    assert_int_equal(rg__store_open_upto(old, 9, &s, &f->err), 0);
    assert_int_equal(rg_store_schema_version(s), 9);
    rg_endpoint_rec e = endpoint("h1", "new", "linux");
    assert_int_equal(rg_store_endpoint_enroll(s, &e, NULL, &f->err),
                     RG_ECONFLICT);
    rg_store_close(s);
    assert_int_equal(rg_test_schema_get(old), 9);

    /* 9 -> 10: old releases activate at once (none, 120 s). */
    assert_int_equal(rg__store_open_upto(old, 10, &s, &f->err), 0);
    assert_int_equal(rg_store_schema_version(s), 10);
    assert_int_equal(rg_store_release_get(s, 1, &r, &f->err), 0);
    assert_string_equal(r.preflight_status, "none");
    assert_string_equal(r.preflight.engine, "");
    assert_string_equal(r.metadata, "");
    assert_int_equal(r.quarantine_lifted_ms, 0);
    assert_int_equal(r.activation, RG_ACTIVATION_NONE);
    assert_int_equal(r.activation_max_ms, 120000);
    rg_store_close(s);
    assert_int_equal(rg_test_schema_get(old), 10);

    /* 10 -> 11: events indexed by received time; the old one is kept. */
    assert_int_equal(rg__store_open_upto(old, 11, &s, &f->err), 0);
    assert_int_equal(rg_store_schema_version(s), 11);
    size_t pruned = 0;
    assert_int_equal(rg_store_events_prune(s, 1, 10, &pruned, &f->err), 0);
    assert_int_equal(pruned, 0); /* received at 2 */
    rg_store_close(s);
    assert_int_equal(rg_test_schema_get(old), 11);

    /* 11 -> 12: feature flags (versions) and client tokens, empty. */
    assert_int_equal(rg__store_open_upto(old, 12, &s, &f->err), 0);
    assert_int_equal(rg_store_schema_version(s), 12);
    assert_int_equal(rg_store_flag_list(s, NULL, NULL, NULL, &f->err), 0);
    rg_store_close(s);
    assert_int_equal(rg_test_schema_get(old), 12);

    /* 12 -> 13: webhooks and their outbox, empty. */
    assert_int_equal(rg__store_open_upto(old, 13, &s, &f->err), 0);
    assert_int_equal(rg_store_schema_version(s), 13);
    assert_int_equal(rg_store_webhook_list(s, NULL, NULL, &f->err), 0);
    rg_store_close(s);
    assert_int_equal(rg_test_schema_get(old), 13);

    /* 13 -> 14: flag set reverts, stored once per (endpoint, env, stamp);
     * client tokens revocable, a revoked one is not found; the change
     * stamps of existing flags carried over, then kept by every write. */
    rg_test_raw_sql(old,
                    "INSERT INTO flag_versions VALUES ('prod', 'a', 1, '{}', 5,"
                    " 't', 'r'), ('prod', 'a', 2, '{}', 9, 't', 'r')");
    assert_int_equal(rg__store_open_upto(old, 14, &s, &f->err), 0);
    assert_int_equal(rg_store_schema_version(s), 14);
    int64_t versions = 0, newest = 0;
    assert_int_equal(
        rg_store_flag_stamp(s, "prod", &versions, &newest, &f->err), 0);
    assert_true(versions == 2 && newest == 9);
    assert_int_equal(
        rg_store_flag_stamp(s, "none", &versions, &newest, &f->err), 0);
    assert_true(versions == 0 && newest == 0);
    rg_flag_rec fl = {.environment = "prod",
                      .name = "a",
                      .definition = "{}",
                      .created_ms = 7,
                      .created_by = "t",
                      .reason = "r"};
    assert_int_equal(rg_store_flag_put(s, &fl, 2, NULL, &f->err), 0);
    assert_int_equal(
        rg_store_flag_stamp(s, "prod", &versions, &newest, &f->err), 0);
    assert_true(versions == 3 && newest == 9);
    rg_client_token_rec ct = {.name = "sdk",
                              .environment = "default",
                              .hash = "00",
                              .created_ms = 1,
                              .created_by = "t"};
    assert_int_equal(rg_store_client_token_create(s, &ct, NULL, &f->err), 0);
    assert_int_equal(rg_store_client_token_find(s, "00", &ct, &f->err), 0);
    assert_int_equal(ct.revoked_ms, 0);
    assert_int_equal(rg_store_client_token_revoke(s, ct.id, 7, NULL, &f->err),
                     0);
    assert_int_equal(rg_store_client_token_revoke(s, ct.id, 8, NULL, &f->err),
                     RG_ECONFLICT);
    assert_int_equal(rg_store_client_token_find(s, "00", &ct, &f->err),
                     RG_ENOTFOUND);
    assert_int_equal(rg_store_client_token_get(s, ct.id, &ct, &f->err), 0);
    assert_int_equal(ct.revoked_ms, 7);
    rg_flag_revert_rec fr = {.endpoint_id = "h1",
                             .environment = "default",
                             .stamp = "2-5",
                             .reported_ms = 4,
                             .received_ms = 5,
                             .detail = "crashed"};
    assert_int_equal(rg_store_flag_reverts_record(s, &fr, 1, &f->err), 0);
    assert_int_equal(rg_store_flag_reverts_record(s, &fr, 1, &f->err), 0);
    size_t nfr = 0;
    assert_int_equal(rg_store_flag_reverts_endpoint(s, "h1", 10, count_reverts,
                                                    &nfr, &f->err),
                     0);
    assert_int_equal(nfr, 1);
    rg_store_close(s);
    assert_int_equal(rg_test_schema_get(old), 14);

    /* 14 -> 20: flag segments (15) and key environments (16), none yet;
     * guarded flag rollouts (17), none yet; tail sequences (18); flag
     * rollouts' webhook deliveries (19); channels not public (20). */
    assert_int_equal(rg_store_open(old, &s, &f->err), 0);
    assert_int_equal(rg_store_schema_version(s), 20);
    assert_int_equal(rg_store_channel_get(s, "legacy", &c, &f->err), 0);
    assert_string_equal(c.preflight.engine, "");
    assert_int_equal(c.preflight.timeout_s, 0);
    assert_false(c.is_public);
    assert_int_equal(rg_store_segment_list(s, "default", NULL, NULL, &f->err),
                     0);
    assert_int_equal(
        rg_store_flag_rollout_list(s, NULL, NULL, false, NULL, NULL, &f->err),
        0);
    rg_store_close(s);
    assert_int_equal(rg_test_schema_get(old), 20);
    rg_test_store_drop(old);
}

/* Public channels (schema 19): a digest is public when a release of a
 * public channel has it, whatever other channel has it too. */
static void public_channels(void **state)
{
    fx *f = *state;
    char both[RG_HASH_HEX], priv[RG_HASH_HEX];
    rg_channel_rec c;
    memset(&c, 0, sizeof c);
    snprintf(c.name, sizeof c.name, "open");
    c.created_ms = T0;
    c.is_public = true;
    assert_int_equal(rg_store_channel_create(f->s, &c, NULL, &f->err), 0);
    add_channel(f, "closed");
    add_artifact(f, "in both", both);
    add_artifact(f, "private only", priv);
    rg_release_rec r = release_rec("open", 1, both);
    assert_int_equal(rg_store_release_create(f->s, &r, NULL, &f->err), 0);
    r = release_rec("closed", 1, both);
    assert_int_equal(rg_store_release_create(f->s, &r, NULL, &f->err), 0);
    r = release_rec("closed", 2, priv);
    assert_int_equal(rg_store_release_create(f->s, &r, NULL, &f->err), 0);
    assert_int_equal(rg_store_artifact_public(f->s, both, &f->err), 0);
    assert_int_equal(rg_store_artifact_public(f->s, priv, &f->err),
                     RG_ENOTFOUND);
    assert_int_equal(rg_store_channel_get(f->s, "open", &c, &f->err), 0);
    assert_true(c.is_public);
    assert_int_equal(rg_store_channel_get(f->s, "closed", &c, &f->err), 0);
    assert_false(c.is_public);
}

static void failed_migration_changes_nothing(void **state)
{
    fx *f = *state;
    char old[512];
    rg_store *s = NULL;

    rg_test_store_url(f->dir, "old", old, sizeof old);
    assert_int_equal(rg__store_open_upto(old, 1, &s, &f->err), 0);
    rg_store_close(s);
    /* Someone created a table migration 2 wants: it must fail whole. */
    rg_test_raw_sql(old, "CREATE TABLE endpoints (x INTEGER)");
    assert_int_equal(rg_store_open(old, &s, &f->err), RG_EIO);
    assert_null(s);
    assert_non_null(strstr(f->err.msg, "migration 2"));
    assert_int_equal(rg_test_schema_get(old), 1);
    /* Its earlier statement (CREATE TABLE tokens) was rolled back. */
    rg_test_raw_sql(old, "CREATE TABLE tokens (x INTEGER)");

    /* A database newer than this build is refused. */
    rg_test_schema_set(old, 99);
    assert_int_equal(rg_store_open(old, &s, &f->err), RG_EIO);
    assert_non_null(strstr(f->err.msg, "newer"));

    rg_test_store_drop(old);
}

/* --- kill -9 ------------------------------------------------------------ */

/* Child: creates releases 1, 2, 3, ... on channel "det" (each audited in
 * its transaction) and writes each acknowledged version to fd. Never
 * returns; the parent kills it. */
static void release_writer(const char *path, int fd)
{
    rg_store *s = NULL;
    char sha[RG_HASH_HEX];
    rg_channel_rec c;
    memset(&c, 0, sizeof c);
    snprintf(c.name, sizeof c.name, "det");
    hash_of("bytes", sha);
    if (rg_store_open(path, &s, NULL) != 0 ||
        rg_store_channel_create(s, &c, NULL, NULL) != 0 ||
        rg_store_artifact_put(s, sha, 5, T0, NULL, NULL) != 0)
        _exit(2);
    for (int64_t v = 1;; v++) {
        rg_release_rec r = release_rec("det", v, sha);
        rg_audit_rec a = audit("release.create", "release", T0 + v);
        if (rg_store_release_create(s, &r, &a, NULL) != 0)
            _exit(3);
        if (write(fd, &v, sizeof v) != (ssize_t)sizeof v)
            _exit(4);
    }
}

/* A writer killed with SIGKILL mid-stream loses no acknowledged release,
 * and no release exists without its audit row (nor the reverse). */
static void acknowledged_writes_survive_kill(void **state)
{
    fx *f = *state;
    char path[512];
    int fds[2];
    int64_t v = 0, acked = 0;
    int status = 0;

    rg_test_store_url(f->dir, "killed", path, sizeof path);
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        release_writer(path, fds[1]);
    }
    close(fds[1]);
    while (acked < 40 && read(fds[0], &v, sizeof v) == (ssize_t)sizeof v)
        acked = v;
    assert_int_equal(acked, 40);
    assert_int_equal(kill(pid, SIGKILL), 0);
    /* Acks written before death still count. */
    while (read(fds[0], &v, sizeof v) == (ssize_t)sizeof v)
        acked = v;
    close(fds[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));

    rg_store *s = NULL;
    assert_int_equal(rg_store_open(path, &s, &f->err), 0);
    int64_t newest = 0;
    assert_int_equal(
        rg_store_release_list(s, "det", stop_at_first, &newest, &f->err), 42);
    assert_true(newest >= acked);
    int rows = 0;
    assert_int_equal(rg_store_audit_list(s, NULL, count_cb, &rows, &f->err), 0);
    assert_int_equal(rows, newest);
    /* And the store goes on where it stopped. */
    char sha[RG_HASH_HEX];
    hash_of("bytes", sha);
    rg_release_rec r = release_rec("det", newest + 1, sha);
    assert_int_equal(rg_store_release_create(s, &r, NULL, &f->err), 0);
    rg_store_close(s);

    rg_test_store_drop(path);
}

static int count_flag(void *ctx, const rg_flag_rec *fl)
{
    int64_t *versions = ctx;
    *versions = *versions * 10 + fl->version;
    return 0;
}

/* Flags: versions only grow, expect guards against lost updates, the
 * stamp moves with every change, history is newest first. */
static int count_flag_rollout(void *ctx, const rg_flag_rollout_rec *r)
{
    int64_t *seen = ctx;
    *seen = *seen * 10 + r->id;
    return strcmp(r->state, "{}") == 0 || strcmp(r->state, "{\"a\":1}") == 0
               ? 0
               : -1;
}

/* One active rollout per flag; a put applies only to the seq it read. */
static void flag_rollouts(void **state)
{
    fx *f = *state;
    rg_audit_rec a = audit("flag.rollout.start", "flag:default/x", 10);
    rg_flag_rollout_rec r = {.environment = "default",
                             .name = "x",
                             .active = 1,
                             .state = "{}",
                             .created_ms = 10,
                             .created_by = "t",
                             .reason = "r"};
    int64_t seen = 0;
    assert_int_equal(rg_store_flag_rollout_put(f->s, &r, &a, &f->err), 0);
    assert_true(r.id == 1 && r.seq == 1);
    rg_flag_rollout_rec r2 = r;
    r2.id = 0;
    assert_int_equal(rg_store_flag_rollout_put(f->s, &r2, NULL, &f->err),
                     RG_ECONFLICT); /* x has an active one */
    r.state = "{\"a\":1}";
    assert_int_equal(rg_store_flag_rollout_put(f->s, &r, NULL, &f->err), 0);
    assert_int_equal(r.seq, 2);
    r2 = r;
    r2.seq = 1; /* read before that put */
    assert_int_equal(rg_store_flag_rollout_put(f->s, &r2, NULL, &f->err),
                     RG_ECONFLICT);
    r.active = 0;
    assert_int_equal(rg_store_flag_rollout_put(f->s, &r, NULL, &f->err), 0);
    r2 = r;
    r2.id = 0;
    r2.active = 1;
    r2.state = "{}";
    assert_int_equal(rg_store_flag_rollout_put(f->s, &r2, NULL, &f->err), 0);
    assert_int_equal(r2.id, 2); /* a new one once the first is over */
    assert_int_equal(rg_store_flag_rollout_list(f->s, "default", "x", false,
                                                count_flag_rollout, &seen,
                                                &f->err),
                     0);
    assert_int_equal(seen, 21); /* newest first */
    seen = 0;
    assert_int_equal(rg_store_flag_rollout_list(f->s, NULL, NULL, true,
                                                count_flag_rollout, &seen,
                                                &f->err),
                     0);
    assert_int_equal(seen, 2);
    seen = 0;
    assert_int_equal(rg_store_flag_rollout_list(f->s, "other", NULL, false,
                                                count_flag_rollout, &seen,
                                                &f->err),
                     0);
    assert_int_equal(seen, 0);
    r.id = 99;
    assert_int_equal(rg_store_flag_rollout_put(f->s, &r, NULL, &f->err),
                     RG_ENOTFOUND);
}

static void flags_versions(void **state)
{
    fx *f = *state;
    rg_audit_rec a = audit("flag.create", "flag:default/x", 10);
    rg_flag_rec fl = {.environment = "default",
                      .name = "x",
                      .definition = "{\"enabled\":true}",
                      .created_ms = 10};
    int64_t versions = -1, newest = -1, seen = 0;
    assert_int_equal(
        rg_store_flag_stamp(f->s, "default", &versions, &newest, &f->err), 0);
    assert_true(versions == 0 && newest == 0);
    assert_int_equal(rg_store_flag_put(f->s, &fl, 0, &a, &f->err), 0);
    assert_int_equal(fl.version, 1);
    assert_int_equal(rg_store_flag_put(f->s, &fl, 0, &a, &f->err),
                     RG_ECONFLICT);
    fl.created_ms = 20;
    assert_int_equal(rg_store_flag_put(f->s, &fl, 1, &a, &f->err), 0);
    assert_int_equal(fl.version, 2);
    assert_int_equal(rg_store_flag_put(f->s, &fl, 1, &a, &f->err),
                     RG_ECONFLICT); /* someone else wrote version 2 */
    snprintf(fl.name, sizeof fl.name, "y");
    assert_int_equal(rg_store_flag_put(f->s, &fl, 3, &a, &f->err),
                     RG_ENOTFOUND);
    assert_int_equal(
        rg_store_flag_stamp(f->s, "default", &versions, &newest, &f->err), 0);
    assert_true(versions == 2 && newest == 20);
    assert_int_equal(
        rg_store_flag_history(f->s, "default", "x", count_flag, &seen, &f->err),
        0);
    assert_int_equal(seen, 21); /* 2 then 1 */
    seen = 0;
    assert_int_equal(
        rg_store_flag_list(f->s, "default", count_flag, &seen, &f->err), 0);
    assert_int_equal(seen, 2); /* the current version only */
    assert_int_equal(
        rg_store_flag_history(f->s, "other", "x", count_flag, &seen, &f->err),
        RG_ENOTFOUND);
}

static int count_segment(void *ctx, const rg_segment_rec *g)
{
    int64_t *seen = ctx;
    *seen = *seen * 10 + g->version + (g->deleted ? 5 : 0);
    return 0;
}

/* Segments: versions only grow, expect guards against lost updates, a
 * deletion is a version that hides the segment from the list and may be
 * created again with its id, ids are unique across environments, and
 * every change moves the environment's stamp. */
static void segments_versions(void **state)
{
    fx *f = *state;
    rg_audit_rec a = audit("segment.create", "segment:default/s", 10);
    rg_segment_rec g = {.environment = "default",
                        .name = "s",
                        .definition = "{\"constraints\":[]}",
                        .created_ms = 10};
    int64_t versions = -1, newest = -1, seen = 0;
    assert_int_equal(rg_store_segment_put(f->s, &g, 0, &a, &f->err), 0);
    assert_true(g.version == 1 && g.id == 1);
    assert_int_equal(rg_store_segment_put(f->s, &g, 0, &a, &f->err),
                     RG_ECONFLICT);
    assert_string_equal(f->err.field, "name");
    g.created_ms = 20;
    assert_int_equal(rg_store_segment_put(f->s, &g, 1, &a, &f->err), 0);
    assert_int_equal(rg_store_segment_put(f->s, &g, 1, &a, &f->err),
                     RG_ECONFLICT);
    assert_string_equal(f->err.field, "version");
    rg_segment_rec other = g;
    snprintf(other.environment, sizeof other.environment, "prod");
    assert_int_equal(rg_store_segment_put(f->s, &other, 0, &a, &f->err), 0);
    assert_true(other.id == 2 && other.version == 1);
    g.deleted = true;
    g.definition = "";
    assert_int_equal(rg_store_segment_put(f->s, &g, 2, &a, &f->err), 0);
    assert_int_equal(rg_store_segment_put(f->s, &g, 3, &a, &f->err),
                     RG_ENOTFOUND); /* deleted: nothing to change */
    assert_int_equal(
        rg_store_segment_list(f->s, "default", count_segment, &seen, &f->err),
        0);
    assert_int_equal(seen, 0);
    g.deleted = false;
    g.definition = "{}";
    assert_int_equal(rg_store_segment_put(f->s, &g, 0, &a, &f->err), 0);
    assert_true(g.version == 4 && g.id == 1); /* revived with its id */
    assert_int_equal(rg_store_segment_history(f->s, "default", "s",
                                              count_segment, &seen, &f->err),
                     0);
    assert_int_equal(seen, 4821); /* 4, 3 deleted, 2, 1 */
    seen = 0;
    assert_int_equal(
        rg_store_segment_list(f->s, "default", count_segment, &seen, &f->err),
        0);
    assert_int_equal(seen, 4);
    assert_int_equal(rg_store_segment_history(f->s, "default", "t",
                                              count_segment, &seen, &f->err),
                     RG_ENOTFOUND);
    assert_int_equal(
        rg_store_flag_stamp(f->s, "default", &versions, &newest, &f->err), 0);
    assert_true(versions == 4 && newest == 20);
}

/* Flag f of "default" whose one strategy names segment id (0: none). */
static int put_flag_naming(rg_store *s, const char *name, int64_t id,
                           rg_err *err)
{
    char def[160];
    snprintf(def, sizeof def,
             "{\"enabled\":true,\"name\":\"%s\",\"strategies\":[{\"name\":"
             "\"default\",\"segments\":[%lld]}]}",
             name, (long long)id);
    if (!id)
        snprintf(def, sizeof def, "{\"enabled\":true,\"name\":\"%s\"}", name);
    rg_audit_rec a = audit("flag.update", "flag:default/x", 30);
    rg_flag_rec fl = {.environment = "default", .created_ms = 30};
    snprintf(fl.name, sizeof fl.name, "%s", name);
    fl.definition = def;
    return rg_store_flag_put(s, &fl, -1, &a, err);
}

static int newest_version(void *ctx, const rg_segment_rec *g)
{
    *(int64_t *)ctx = g->version;
    return 1; /* the first is the newest: stop */
}

/* Segment s of "default": created (deleted false) or deleted. */
static int put_segment(rg_store *s, bool deleted, int64_t *id, rg_err *err)
{
    rg_audit_rec a = audit("segment.update", "segment:default/s", 30);
    rg_segment_rec g = {.environment = "default",
                        .name = "s",
                        .deleted = deleted,
                        .definition = deleted ? "" : "{\"constraints\":[]}",
                        .created_ms = 30};
    int64_t expect = 0; /* deleted: the current version */
    if (deleted)
        rg_store_segment_history(s, "default", "s", newest_version, &expect,
                                 err);
    int rc = rg_store_segment_put(s, &g, expect, &a, err);
    if (id)
        *id = g.id;
    return rc;
}

typedef struct seg_race {
    const char *path;
    bool deleter; /* deletes the segment, else names it in flag "r" */
    int64_t id;
    pthread_barrier_t *go;
    int rc;
} seg_race;

static void *seg_racer(void *arg)
{
    seg_race *r = arg;
    rg_store *s = NULL;
    rg_err err;
    rg_err_clear(&err);
    r->rc = rg_store_open(r->path, &s, &err);
    pthread_barrier_wait(r->go);
    if (r->rc == 0)
        r->rc = r->deleter ? put_segment(s, true, NULL, &err)
                           : put_flag_naming(s, "r", r->id, &err);
    rg_store_close(s);
    return NULL;
}

/* "Segment in use" is decided in the write's transaction: a segment that
 * a flag names is not deleted, a flag cannot name a deleted or unknown
 * segment, and a deletion racing a flag write (each through a store of
 * its own, as two servers) never ends with the flag naming a deleted
 * segment: exactly one of the two wins. */
static void segment_in_use_is_atomic(void **state)
{
    fx *f = *state;
    int64_t id = 0;
    assert_int_equal(put_segment(f->s, false, &id, &f->err), 0);
    assert_int_equal(put_flag_naming(f->s, "uses-s", id, &f->err), 0);
    assert_int_equal(put_segment(f->s, true, NULL, &f->err), RG_ECONFLICT);
    assert_string_equal(f->err.field, "name");
    assert_non_null(strstr(f->err.msg, "'uses-s'"));
    assert_int_equal(put_flag_naming(f->s, "other", id + 40, &f->err),
                     RG_ECONFLICT);
    assert_string_equal(f->err.field, "segments");
    assert_int_equal(put_flag_naming(f->s, "uses-s", 0, &f->err), 0);
    assert_int_equal(put_segment(f->s, true, NULL, &f->err), 0);
    assert_int_equal(put_flag_naming(f->s, "uses-s", id, &f->err),
                     RG_ECONFLICT);
    for (int round = 0; round < 20; round++) {
        pthread_barrier_t go;
        pthread_t th[2];
        seg_race r[2];
        assert_int_equal(put_segment(f->s, false, &id, &f->err), 0);
        assert_int_equal(pthread_barrier_init(&go, NULL, 2), 0);
        for (int i = 0; i < 2; i++) {
            r[i] = (seg_race){f->path, i == 1, id, &go, -1};
            assert_int_equal(pthread_create(&th[i], NULL, seg_racer, &r[i]), 0);
        }
        for (int i = 0; i < 2; i++)
            pthread_join(th[i], NULL);
        pthread_barrier_destroy(&go);
        assert_true((r[0].rc == 0) != (r[1].rc == 0));
        assert_int_equal(r[0].rc ? r[0].rc : r[1].rc, RG_ECONFLICT);
        assert_int_equal(put_flag_naming(f->s, "r", 0, &f->err), 0);
        if (r[0].rc == 0) /* the flag won: the segment is still there */
            assert_int_equal(put_segment(f->s, true, NULL, &f->err), 0);
    }
}

int main(void)
{
    if (rg_crypto_init() != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(open_urls, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(channels, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(public_channels, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(flags_versions, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(segments_versions, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(segment_in_use_is_atomic, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(flag_rollouts, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(artifacts, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(releases, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(signed_metadata_and_roots, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(rollouts, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(tokens, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(enroll_keys, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(lookups_by_key, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(enroll_key_use_is_atomic, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(enroll_key_use_is_atomic_across_stores,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(endpoints, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(events, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(group_commit_threads, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(group_refused_alone, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(group_failed_commit, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(offers, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(webhook_outbox, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(events_prune, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(release_activation, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(audit_filters, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(tails, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(persists_across_reopen, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(acknowledged_writes_survive_kill,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(migrates_old_schema, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(failed_migration_changes_nothing,
                                        fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
