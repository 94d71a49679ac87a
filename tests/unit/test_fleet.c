/* Unit tests for src/server/fleet.c: insert, lookup and update; token
 * verification (own, foreign, unknown); re-enrollment; growth to many
 * endpoints with paging; concurrent check-ins; flush batches reaching the
 * store and reloading after a reopen.
 * ctest-labels: foundation */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/clock.h"
#include "common/crypto.h"
#include "common/err.h"
#include "server/fleet.h"
#include "server/server.h"
#include "store/store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ATTRS                                                                  \
    "{\"os\":\"linux\",\"os_version\":\"6.1\",\"arch\":\"x86_64\",\"tags\":[]" \
    "}"
#define ATTRS_INTERNAL                                                         \
    "{\"os\":\"windows\",\"os_version\":\"10\",\"arch\":\"x86_64\",\"tags\":[" \
    "\"internal\",\"lab\"]}"

typedef struct fixture {
    char dir[64];
    char db[128];
    int64_t now;
    rg_clock clock;
    rg_server srv;
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    assert_int_equal(rg_crypto_init(), 0);
    snprintf(fx->dir, sizeof fx->dir, "/tmp/rg-test-fleet-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    snprintf(fx->db, sizeof fx->db, "%s/rollgate.db", fx->dir);
    fx->now = 1700000000000;
    fx->clock = rg_clock_manual(&fx->now);
    fx->srv.clock = &fx->clock;
    fx->srv.cfg.flush_ms = 2000;
    fx->srv.cfg.tick_ms = 1000;
    fx->srv.cfg.checkin_interval_s = 60;
    rg_err err;
    rg_err_clear(&err);
    assert_int_equal(rg_store_open(fx->db, &fx->srv.store, &err), 0);
    assert_int_equal(rg_fleet_open(&fx->srv, &fx->srv.fleet, &err), 0);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    rg_fleet_close(fx->srv.fleet);
    rg_store_close(fx->srv.store);
    char path[160];
    const char *files[] = {"rollgate.db", "rollgate.db-wal", "rollgate.db-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", fx->dir, files[i]);
        unlink(path);
    }
    rmdir(fx->dir);
    free(fx);
    return 0;
}

/* A token for endpoint i and its hashes (hex and binary). */
static void token_for(int i, char token[80], char hex[RG_HASH_HEX],
                      uint8_t bin[RG_FLEET_TOKEN_BYTES])
{
    snprintf(token, 80, "token-%d", i);
    rg_sha256_hex(token, strlen(token), hex);
    crypto_hash_sha256(bin, (const unsigned char *)token, strlen(token));
}

static void make_rec(rg_endpoint_rec *e, const char *id, int tok,
                     const char *attrs, int64_t enrolled)
{
    char token[80];
    uint8_t bin[RG_FLEET_TOKEN_BYTES];
    memset(e, 0, sizeof *e);
    snprintf(e->id, sizeof e->id, "%s", id);
    token_for(tok, token, e->token_hash, bin);
    snprintf(e->attrs_json, sizeof e->attrs_json, "%s", attrs);
    snprintf(e->installed_json, sizeof e->installed_json, "{}");
    e->enrolled_ms = enrolled;
}

/* Enrolls id durably in the store and in the fleet, as the agent API does. */
static void enroll(fixture *fx, const char *id, int tok, const char *attrs)
{
    rg_err err;
    rg_err_clear(&err);
    rg_endpoint_rec *e = malloc(sizeof *e);
    assert_non_null(e);
    make_rec(e, id, tok, attrs, fx->now);
    e->proven = true; /* re-enrollments here present the current token */
    assert_int_equal(rg_store_endpoint_enroll(fx->srv.store, e, NULL, &err), 0);
    assert_int_equal(rg_fleet_put(fx->srv.fleet, e, &err), 0);
    free(e);
}

static int checkin(fixture *fx, const char *id, int tok,
                   const rg_fleet_installed *inst, size_t n, bool *internal)
{
    char token[80], hex[RG_HASH_HEX];
    uint8_t bin[RG_FLEET_TOKEN_BYTES];
    token_for(tok, token, hex, bin);
    rg_fleet_checkin_out out = {0};
    rg_err err;
    rg_err_clear(&err);
    int rc =
        rg_fleet_checkin(fx->srv.fleet, id, bin, fx->now, inst, n, &out, &err);
    if (internal)
        *internal = out.internal;
    return rc;
}

static void put_get_update(void **state)
{
    fixture *fx = *state;
    enroll(fx, "host-1", 1, ATTRS);
    enroll(fx, "host-2", 2, ATTRS_INTERNAL);
    assert_int_equal(rg_fleet_size(fx->srv.fleet), 2);

    rg_fleet_endpoint e;
    rg_err err;
    rg_err_clear(&err);
    assert_int_equal(rg_fleet_get(fx->srv.fleet, "host-1", &e, &err), 0);
    assert_string_equal(e.id, "host-1");
    assert_string_equal(e.stratum, "linux-6.1-x86_64");
    assert_string_equal(e.attrs_json, ATTRS);
    assert_false(e.internal);
    assert_int_equal(e.last_seen_ms, 0);
    assert_int_equal(e.n_installed, 0);
    assert_int_equal(rg_fleet_get(fx->srv.fleet, "host-2", &e, &err), 0);
    assert_true(e.internal);
    assert_string_equal(e.stratum, "windows-10-x86_64");
    assert_int_equal(rg_fleet_get(fx->srv.fleet, "host-3", &e, &err),
                     RG_ENOTFOUND);

    fx->now += 5000;
    rg_fleet_installed inst[2] = {{"detections", 3}, {"flags", 9}};
    bool internal = true;
    assert_int_equal(checkin(fx, "host-1", 1, inst, 2, &internal), 0);
    assert_false(internal);
    assert_int_equal(checkin(fx, "host-2", 2, NULL, 0, &internal), 0);
    assert_true(internal);
    assert_int_equal(rg_fleet_get(fx->srv.fleet, "host-1", &e, &err), 0);
    assert_int_equal(e.last_seen_ms, fx->now);
    assert_int_equal(e.n_installed, 2);
    assert_string_equal(e.installed[0].channel, "detections");
    assert_int_equal(e.installed[0].release_id, 3);
    assert_string_equal(e.installed[1].channel, "flags");
    assert_int_equal(e.installed[1].release_id, 9);

    /* A later check-in replaces the installed map. */
    rg_fleet_installed inst2[1] = {{"detections", 4}};
    assert_int_equal(checkin(fx, "host-1", 1, inst2, 1, NULL), 0);
    assert_int_equal(rg_fleet_get(fx->srv.fleet, "host-1", &e, &err), 0);
    assert_int_equal(e.n_installed, 1);
    assert_int_equal(e.installed[0].release_id, 4);

    rg_fleet_stats st;
    rg_fleet_stats_get(fx->srv.fleet, &st);
    assert_int_equal(st.checkins, 3);
    assert_int_equal(st.endpoints, 2);
    assert_int_equal(st.dirty, 2);
}

static void tokens_own_foreign_unknown(void **state)
{
    fixture *fx = *state;
    enroll(fx, "host-a", 10, ATTRS);
    enroll(fx, "host-b", 11, ATTRS);
    assert_int_equal(checkin(fx, "host-a", 10, NULL, 0, NULL), 0);
    /* host-b's token used as host-a: forbidden; an unknown token: 401. */
    assert_int_equal(checkin(fx, "host-a", 11, NULL, 0, NULL), RG_EFORBIDDEN);
    assert_int_equal(checkin(fx, "host-a", 99, NULL, 0, NULL), RG_EAUTH);
    assert_int_equal(checkin(fx, "nobody", 11, NULL, 0, NULL), RG_EFORBIDDEN);
    assert_int_equal(checkin(fx, "nobody", 99, NULL, 0, NULL), RG_EAUTH);

    char token[80], hex[RG_HASH_HEX], owner[RG_EPID_MAX + 1];
    uint8_t bin[RG_FLEET_TOKEN_BYTES];
    rg_err err;
    rg_err_clear(&err);
    token_for(11, token, hex, bin);
    assert_int_equal(rg_fleet_token_owner(fx->srv.fleet, bin, owner, &err), 0);
    assert_string_equal(owner, "host-b");
    token_for(99, token, hex, bin);
    assert_int_equal(rg_fleet_token_owner(fx->srv.fleet, bin, owner, &err),
                     RG_EAUTH);

    /* Re-enrollment replaces the token and keeps last_seen. */
    fx->now += 1000;
    assert_int_equal(checkin(fx, "host-b", 11, NULL, 0, NULL), 0);
    int64_t seen = fx->now;
    fx->now += 1000;
    enroll(fx, "host-b", 12, ATTRS_INTERNAL);
    assert_int_equal(rg_fleet_size(fx->srv.fleet), 2);
    assert_int_equal(checkin(fx, "host-b", 11, NULL, 0, NULL), RG_EAUTH);
    rg_fleet_endpoint e;
    assert_int_equal(rg_fleet_get(fx->srv.fleet, "host-b", &e, &err), 0);
    assert_int_equal(e.last_seen_ms, seen);
    assert_true(e.internal);
    bool internal = false;
    assert_int_equal(checkin(fx, "host-b", 12, NULL, 0, &internal), 0);
    assert_true(internal);
    token_for(11, token, hex, bin);
    assert_int_equal(rg_fleet_token_owner(fx->srv.fleet, bin, owner, &err),
                     RG_EAUTH);
    token_for(12, token, hex, bin);
    assert_int_equal(rg_fleet_token_owner(fx->srv.fleet, bin, owner, &err), 0);
    assert_string_equal(owner, "host-b");
}

static void validation(void **state)
{
    fixture *fx = *state;
    assert_true(rg_fleet_id_valid("a"));
    assert_true(rg_fleet_id_valid("Host_1.example:com-2"));
    assert_false(rg_fleet_id_valid(""));
    assert_false(rg_fleet_id_valid("host 1"));
    assert_false(rg_fleet_id_valid("host/1"));
    char longid[RG_EPID_MAX + 2];
    memset(longid, 'x', sizeof longid - 1);
    longid[RG_EPID_MAX + 1] = '\0';
    assert_false(rg_fleet_id_valid(longid));
    longid[RG_EPID_MAX] = '\0';
    assert_true(rg_fleet_id_valid(longid));

    rg_err err;
    rg_err_clear(&err);
    rg_fleet_attrs a;
    const char *cases[][2] = {
        {"{\"os_version\":\"1\",\"arch\":\"x\"}", "attributes.os"},
        {"{\"os\":\"l\",\"arch\":\"x\"}", "attributes.os_version"},
        {"{\"os\":\"l\",\"os_version\":\"1\"}", "attributes.arch"},
        {"{\"os\":7,\"os_version\":\"1\",\"arch\":\"x\"}", "attributes.os"},
        {"{\"os\":\"l\",\"os_version\":\"1\",\"arch\":\"x\",\"colour\":"
         "\"red\"}",
         "attributes.colour"},
        {"{\"os\":\"l\",\"os_version\":\"1\",\"arch\":\"x\",\"tags\":[1]}",
         "attributes.tags"},
        {"{\"os\":\"l\",\"os_version\":\"1\",\"arch\":\"x\",\"tags\":\"t\"}",
         "attributes.tags"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        json_t *v = json_loads(cases[i][0], 0, NULL);
        assert_non_null(v);
        rg_err_clear(&err);
        assert_int_equal(rg_fleet_attrs_from_json(v, &a, &err), RG_EINVAL);
        assert_string_equal(err.field, cases[i][1]);
        json_decref(v);
    }
    json_t *tags = json_array();
    for (int i = 0; i < RG_FLEET_TAGS_MAX + 1; i++)
        json_array_append_new(tags, json_string("t"));
    json_t *v = json_pack("{s:s,s:s,s:s,s:o}", "os", "l", "os_version", "1",
                          "arch", "x", "tags", tags);
    assert_int_equal(rg_fleet_attrs_from_json(v, &a, &err), RG_EINVAL);
    json_array_remove(json_object_get(v, "tags"), 0);
    assert_int_equal(rg_fleet_attrs_from_json(v, &a, &err), 0);
    assert_int_equal(a.n_tags, RG_FLEET_TAGS_MAX);
    json_decref(v);

    rg_endpoint_rec *e = malloc(sizeof *e);
    assert_non_null(e);
    make_rec(e, "bad id", 1, ATTRS, 0);
    assert_int_equal(rg_fleet_put(fx->srv.fleet, e, &err), RG_EINVAL);
    make_rec(e, "ok", 1, "{\"os\":\"l\"}", 0);
    assert_int_equal(rg_fleet_put(fx->srv.fleet, e, &err), RG_EINVAL);
    make_rec(e, "ok", 1, ATTRS, 0);
    snprintf(e->token_hash, sizeof e->token_hash, "nothex");
    assert_int_equal(rg_fleet_put(fx->srv.fleet, e, &err), RG_EINVAL);
    assert_int_equal(rg_fleet_size(fx->srv.fleet), 0);
    free(e);
}

static int collect_ids(void *ctx, const char *id, bool internal)
{
    uint64_t *n = ctx;
    (*n)++;
    return 0;
}

/* Growth far past the initial index and chunk sizes; every endpoint found
 * again; paging visits each id once, in order. */
static bool keep_internal(void *ctx, const rg_fleet_view *v)
{
    (void)ctx;
    return v->internal;
}

static void many_endpoints(void **state)
{
    fixture *fx = *state;
    enum { N = 100000 };
    rg_err err;
    rg_err_clear(&err);
    rg_endpoint_rec *e = malloc(sizeof *e);
    assert_non_null(e);
    for (int i = 0; i < N; i++) {
        char id[32];
        snprintf(id, sizeof id, "ep-%06d", i);
        make_rec(e, id, i, (i % 100) ? ATTRS : ATTRS_INTERNAL, 1);
        assert_int_equal(rg_fleet_put(fx->srv.fleet, e, &err), 0);
    }
    free(e);
    assert_int_equal(rg_fleet_size(fx->srv.fleet), N);
    for (int i = 0; i < N; i++) {
        char id[32];
        snprintf(id, sizeof id, "ep-%06d", i);
        bool internal = false;
        assert_int_equal(checkin(fx, id, i, NULL, 0, &internal), 0);
        assert_int_equal(internal, i % 100 == 0);
    }
    assert_int_equal(checkin(fx, "ep-000001", 2, NULL, 0, NULL), RG_EFORBIDDEN);
    uint64_t seen = 0;
    assert_int_equal(rg_fleet_foreach(fx->srv.fleet, collect_ids, &seen), 0);
    assert_int_equal(seen, N);

    /* Page through everything in steps of 999. */
    char after[RG_EPID_MAX + 1] = "";
    int expect = 0;
    for (;;) {
        char(*ids)[RG_EPID_MAX + 1] = NULL;
        size_t n = 0;
        bool more = false;
        assert_int_equal(rg_fleet_page(fx->srv.fleet, after, 999, NULL, NULL,
                                       &ids, &n, &more, &err),
                         0);
        for (size_t i = 0; i < n; i++) {
            char id[32];
            snprintf(id, sizeof id, "ep-%06d", expect++);
            assert_string_equal(ids[i], id);
        }
        if (n)
            snprintf(after, sizeof after, "%s", ids[n - 1]);
        free(ids);
        if (!more)
            break;
    }
    assert_int_equal(expect, N);

    /* A filtered page holds only the kept endpoints (the internal ones,
     * every 100th), in id order, and says whether more follow. */
    char(*ids)[RG_EPID_MAX + 1] = NULL;
    size_t n = 0;
    bool more = false;
    assert_int_equal(rg_fleet_page(fx->srv.fleet, "ep-000100", 3, keep_internal,
                                   NULL, &ids, &n, &more, &err),
                     0);
    assert_int_equal(n, 3);
    assert_true(more);
    assert_string_equal(ids[0], "ep-000200");
    assert_string_equal(ids[2], "ep-000400");
    free(ids);
}

typedef struct worker {
    fixture *fx;
    int first, n, rounds;
    int failures;
} worker;

static void *checkin_worker(void *arg)
{
    worker *w = arg;
    for (int r = 0; r < w->rounds; r++)
        for (int i = w->first; i < w->first + w->n; i++) {
            char id[32], token[80], hex[RG_HASH_HEX];
            uint8_t bin[RG_FLEET_TOKEN_BYTES];
            snprintf(id, sizeof id, "c-%d", i);
            token_for(i, token, hex, bin);
            rg_fleet_installed inst = {"detections", r + 1};
            rg_fleet_checkin_out out;
            if (rg_fleet_checkin(w->fx->srv.fleet, id, bin, 1000 + r, &inst, 1,
                                 &out, NULL) != 0)
                w->failures++;
        }
    return NULL;
}

/* Check-ins from several threads while flushes run: every check-in counts
 * and the last state of each endpoint reaches the store. */
static void concurrent_checkins_and_flush(void **state)
{
    fixture *fx = *state;
    enum { THREADS = 4, PER = 500, ROUNDS = 20 };
    for (int i = 0; i < THREADS * PER; i++) {
        char id[32];
        snprintf(id, sizeof id, "c-%d", i);
        enroll(fx, id, i, ATTRS);
    }
    pthread_t th[THREADS];
    worker w[THREADS];
    for (int t = 0; t < THREADS; t++) {
        w[t] = (worker){fx, t * PER, PER, ROUNDS, 0};
        assert_int_equal(pthread_create(&th[t], NULL, checkin_worker, &w[t]),
                         0);
    }
    rg_err err;
    rg_err_clear(&err);
    for (int k = 0; k < 5; k++)
        assert_int_equal(rg_fleet_flush(fx->srv.fleet, &err), 0);
    for (int t = 0; t < THREADS; t++) {
        assert_int_equal(pthread_join(th[t], NULL), 0);
        assert_int_equal(w[t].failures, 0);
    }
    assert_int_equal(rg_fleet_flush(fx->srv.fleet, &err), 0);
    rg_fleet_stats st;
    rg_fleet_stats_get(fx->srv.fleet, &st);
    assert_int_equal(st.checkins, THREADS * PER * ROUNDS);
    assert_int_equal(st.dirty, 0);

    /* Reopen from the store: every endpoint shows its last round. */
    rg_fleet_close(fx->srv.fleet);
    assert_int_equal(rg_fleet_open(&fx->srv, &fx->srv.fleet, &err), 0);
    for (int i = 0; i < THREADS * PER; i += 97) {
        char id[32];
        snprintf(id, sizeof id, "c-%d", i);
        rg_fleet_endpoint e;
        assert_int_equal(rg_fleet_get(fx->srv.fleet, id, &e, &err), 0);
        assert_int_equal(e.last_seen_ms, 1000 + ROUNDS - 1);
        assert_int_equal(e.n_installed, 1);
        assert_int_equal(e.installed[0].release_id, ROUNDS);
    }
}

/* Flushes write in batches of RG_FLEET_FLUSH_BATCH; nothing is written per
 * check-in; a reopened fleet has every endpoint's last state, and close
 * flushes what is still dirty. */
static void flush_batches_and_reload(void **state)
{
    fixture *fx = *state;
    enum { N = 2 * RG_FLEET_FLUSH_BATCH + 345 };
    for (int i = 0; i < N; i++) {
        char id[32];
        snprintf(id, sizeof id, "f-%d", i);
        enroll(fx, id, i, (i % 10) ? ATTRS : ATTRS_INTERNAL);
    }
    rg_err err;
    rg_err_clear(&err);
    fx->now += 60000;
    for (int i = 0; i < N; i++) {
        char id[32];
        snprintf(id, sizeof id, "f-%d", i);
        rg_fleet_installed inst[2] = {{"detections", i + 1}, {"flags", 7}};
        assert_int_equal(checkin(fx, id, i, inst, 2, NULL), 0);
    }
    rg_fleet_stats st;
    rg_fleet_stats_get(fx->srv.fleet, &st);
    assert_int_equal(st.dirty, N);
    assert_int_equal(st.flushed_records, 0);

    /* Not flushed yet: the store still has the enrollment state. */
    rg_fleet *other = NULL;
    assert_int_equal(rg_fleet_open(&fx->srv, &other, &err), 0);
    rg_fleet_endpoint e;
    assert_int_equal(rg_fleet_get(other, "f-5", &e, &err), 0);
    assert_int_equal(e.last_seen_ms, 0);
    assert_int_equal(e.n_installed, 0);
    rg_fleet_close(other);

    assert_int_equal(rg_fleet_flush(fx->srv.fleet, &err), 0);
    rg_fleet_stats_get(fx->srv.fleet, &st);
    assert_int_equal(st.dirty, 0);
    assert_int_equal(st.flushed_records, N);
    assert_int_equal(st.flushes, 1);
    /* A second flush has nothing to write. */
    assert_int_equal(rg_fleet_flush(fx->srv.fleet, &err), 0);
    rg_fleet_stats_get(fx->srv.fleet, &st);
    assert_int_equal(st.flushed_records, N);

    /* One more check-in, left for close to flush. */
    fx->now += 1000;
    rg_fleet_installed last = {"detections", 4242};
    assert_int_equal(checkin(fx, "f-7", 7, &last, 1, NULL), 0);
    rg_fleet_close(fx->srv.fleet);
    fx->srv.fleet = NULL;
    assert_int_equal(rg_fleet_open(&fx->srv, &fx->srv.fleet, &err), 0);
    assert_int_equal(rg_fleet_size(fx->srv.fleet), N);
    for (int i = 0; i < N; i++) {
        char id[32];
        snprintf(id, sizeof id, "f-%d", i);
        assert_int_equal(rg_fleet_get(fx->srv.fleet, id, &e, &err), 0);
        assert_int_equal(e.internal, i % 10 == 0);
        if (i == 7) {
            assert_int_equal(e.last_seen_ms, fx->now);
            assert_int_equal(e.n_installed, 1);
            assert_int_equal(e.installed[0].release_id, 4242);
            continue;
        }
        assert_int_equal(e.last_seen_ms, fx->now - 1000);
        assert_int_equal(e.n_installed, 2);
        assert_string_equal(e.installed[0].channel, "detections");
        assert_int_equal(e.installed[0].release_id, i + 1);
        assert_string_equal(e.installed[1].channel, "flags");
        assert_int_equal(e.installed[1].release_id, 7);
    }
    /* Tokens survive too. */
    assert_int_equal(checkin(fx, "f-9", 9, NULL, 0, NULL), 0);
    assert_int_equal(checkin(fx, "f-9", 8, NULL, 0, NULL), RG_EFORBIDDEN);
}

/* A check-in within the last-seen period of the previous one writes
 * nothing (unless its installed releases change); one entering the next
 * period does; close writes the last-seen times held back. */
static void last_seen_written_once_a_period(void **state)
{
    fixture *fx = *state;
    rg_err err;
    rg_err_clear(&err);
    rg_fleet_stats st;
    fx->now = (fx->now / RG_FLEET_SEEN_MS) * RG_FLEET_SEEN_MS; /* start */
    enroll(fx, "p-1", 1, ATTRS);
    enroll(fx, "p-2", 2, ATTRS);
    assert_int_equal(checkin(fx, "p-1", 1, NULL, 0, NULL), 0);
    assert_int_equal(checkin(fx, "p-2", 2, NULL, 0, NULL), 0);
    rg_fleet_stats_get(fx->srv.fleet, &st);
    assert_int_equal(st.dirty, 2); /* first check-ins: written */
    assert_int_equal(rg_fleet_flush(fx->srv.fleet, &err), 0);

    fx->now += RG_FLEET_SEEN_MS / 2; /* same period */
    assert_int_equal(checkin(fx, "p-1", 1, NULL, 0, NULL), 0);
    rg_fleet_installed inst = {"detections", 3};
    assert_int_equal(checkin(fx, "p-2", 2, &inst, 1, NULL), 0);
    rg_fleet_stats_get(fx->srv.fleet, &st);
    assert_int_equal(st.dirty, 1); /* only the install change */
    assert_int_equal(rg_fleet_flush(fx->srv.fleet, &err), 0);
    rg_fleet_endpoint e;
    assert_int_equal(rg_fleet_get(fx->srv.fleet, "p-1", &e, &err), 0);
    assert_int_equal(e.last_seen_ms, fx->now); /* in memory: the latest */

    fx->now += RG_FLEET_SEEN_MS / 2; /* the next period */
    assert_int_equal(checkin(fx, "p-2", 2, &inst, 1, NULL), 0);
    rg_fleet_stats_get(fx->srv.fleet, &st);
    assert_int_equal(st.dirty, 1);
    assert_int_equal(rg_fleet_flush(fx->srv.fleet, &err), 0);

    /* The store: p-2 has its latest time, p-1 its first check-in's. */
    rg_fleet *other = NULL;
    assert_int_equal(rg_fleet_open(&fx->srv, &other, &err), 0);
    assert_int_equal(rg_fleet_get(other, "p-2", &e, &err), 0);
    assert_int_equal(e.last_seen_ms, fx->now);
    assert_int_equal(rg_fleet_get(other, "p-1", &e, &err), 0);
    assert_int_equal(e.last_seen_ms, fx->now - RG_FLEET_SEEN_MS);
    rg_fleet_close(other);

    /* Close writes p-1's held-back time. */
    rg_fleet_close(fx->srv.fleet);
    assert_int_equal(rg_fleet_open(&fx->srv, &fx->srv.fleet, &err), 0);
    assert_int_equal(rg_fleet_get(fx->srv.fleet, "p-1", &e, &err), 0);
    assert_int_equal(e.last_seen_ms, fx->now - RG_FLEET_SEEN_MS / 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(put_get_update, setup, teardown),
        cmocka_unit_test_setup_teardown(tokens_own_foreign_unknown, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(validation, setup, teardown),
        cmocka_unit_test_setup_teardown(many_endpoints, setup, teardown),
        cmocka_unit_test_setup_teardown(concurrent_checkins_and_flush, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(last_seen_written_once_a_period, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(flush_batches_and_reload, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
