/* Unit tests for src/server/fleet_tuple.c (a shard's interned installed
 * sets and offered lists) and the shard's canary slot pool: equal tuples
 * share one number, the last reference frees it and its number is reused,
 * the index still finds every live tuple after removals, records moving to
 * one set leave one tuple; canary slots go back to the pool when cleared.
 * ctest-labels: foundation scale */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/clock.h"
#include "common/crypto.h"
#include "common/err.h"
#include "server/fleet_shard.h"
#include "server/fleet_tuple.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static rg__fleet_tuple key_of(uint32_t n)
{
    rg__fleet_tuple k;
    memset(&k, 0, sizeof k);
    k.v[0] = n;
    k.v[1] = n * 7u + 1u;
    k.tag[0] = (uint8_t)(n % 200 + 1);
    return k;
}

static void share_free_reuse(void **state)
{
    (void)state;
    rg__fleet_shard s;
    memset(&s, 0, sizeof s);
    rg__fleet_tuple a = key_of(1), b = key_of(2), none;
    memset(&none, 0, sizeof none);
    uint32_t na, na2, nb, n0;
    assert_int_equal(rg__fleet_tuple_take(&s, &none, &n0), 0);
    assert_int_equal(n0, 0);
    assert_int_equal(rg__fleet_tuple_take(&s, &a, &na), 0);
    assert_int_equal(rg__fleet_tuple_take(&s, &a, &na2), 0);
    assert_int_equal(rg__fleet_tuple_take(&s, &b, &nb), 0);
    assert_int_equal(na, na2);
    assert_int_not_equal(na, nb);
    assert_int_equal(rg__fleet_tuple_at(&s, na)->refs, 2);
    assert_int_equal(rg__fleet_tuple_at(&s, na)->v[1], a.v[1]);
    assert_int_equal(s.tup_live, 2);
    rg__fleet_tuple_drop(&s, na);
    assert_int_equal(s.tup_live, 2);
    rg__fleet_tuple_drop(&s, na);
    assert_int_equal(s.tup_live, 1);
    /* a's number is reused for the next new tuple */
    rg__fleet_tuple c = key_of(3);
    uint32_t nc;
    assert_int_equal(rg__fleet_tuple_take(&s, &c, &nc), 0);
    assert_int_equal(nc, na);
    assert_int_equal(rg__fleet_tuple_at(&s, nc)->v[0], 3);
    /* b is still found (and not duplicated) */
    uint32_t nb2;
    assert_int_equal(rg__fleet_tuple_take(&s, &b, &nb2), 0);
    assert_int_equal(nb2, nb);
    assert_int_equal(s.tup_live, 2);
    rg__fleet_tuple_release(&s);
}

static void removals_keep_index_whole(void **state)
{
    (void)state;
    enum { N = 5000 };
    rg__fleet_shard s;
    memset(&s, 0, sizeof s);
    static uint32_t no[N];
    for (uint32_t i = 0; i < N; i++) {
        rg__fleet_tuple k = key_of(i + 1);
        assert_int_equal(rg__fleet_tuple_take(&s, &k, &no[i]), 0);
    }
    for (uint32_t i = 0; i < N; i += 2)
        rg__fleet_tuple_drop(&s, no[i]);
    assert_int_equal(s.tup_live, N / 2);
    for (uint32_t i = 1; i < N; i += 2) {
        rg__fleet_tuple k = key_of(i + 1);
        uint32_t again;
        assert_int_equal(rg__fleet_tuple_take(&s, &k, &again), 0);
        assert_int_equal(again, no[i]);
        assert_int_equal(rg__fleet_tuple_at(&s, again)->refs, 2);
    }
    /* Every record moves to one set: one tuple is left. */
    rg__fleet_tuple one = key_of(999999);
    for (uint32_t i = 1; i < N; i += 2) {
        uint32_t held = no[i];
        rg__fleet_tuple_drop(&s, held); /* the second reference above */
        assert_int_equal(rg__fleet_tuple_set(&s, &held, &one), 0);
    }
    assert_int_equal(s.tup_live, 1);
    assert_true(s.n_tup <= N + 1); /* freed numbers were reused */
    rg__fleet_tuple_release(&s);
}

/* Through the fleet: offered lists and canary slots of many endpoints. */
static void fleet_offers_and_canary_pool(void **state)
{
    (void)state;
    char dir[] = "/tmp/rg-test-tuple-XXXXXX", db[64];
    assert_non_null(mkdtemp(dir));
    snprintf(db, sizeof db, "%s/rollgate.db", dir);
    int64_t now = 1700000000000;
    rg_clock clock = rg_clock_manual(&now);
    rg_server srv;
    memset(&srv, 0, sizeof srv);
    srv.clock = &clock;
    srv.cfg.flush_ms = 2000;
    rg_err err;
    rg_err_clear(&err);
    assert_int_equal(rg_crypto_init(), 0);
    assert_int_equal(rg_store_open(db, &srv.store, &err), 0);
    assert_int_equal(rg_fleet_open(&srv, &srv.fleet, &err), 0);
    enum { N = 2000 };
    for (int i = 0; i < N; i++) {
        rg_endpoint_rec e;
        memset(&e, 0, sizeof e);
        snprintf(e.id, sizeof e.id, "t-%d", i);
        snprintf(e.token_hash, sizeof e.token_hash, "%064x", i + 1);
        snprintf(e.attrs_json, sizeof e.attrs_json,
                 "{\"os\":\"linux\",\"os_version\":\"6\",\"arch\":\"x\"}");
        snprintf(e.installed_json, sizeof e.installed_json, "{}");
        assert_int_equal(rg_fleet_put(srv.fleet, &e, &err), 0);
        assert_int_equal(rg_fleet_offer(srv.fleet, e.id, 7, &err), 0);
        assert_int_equal(rg_fleet_offer(srv.fleet, e.id, 9, &err), 0);
        assert_int_equal(
            rg_fleet_canary_set(srv.fleet, e.id, 9, RG_CN_ASSIGNED, &err), 0);
    }
    size_t live = 0, pairs_used = 0;
    for (size_t i = 0; i < RG_FLEET_SHARDS; i++) {
        live += srv.fleet->shards[i].tup_live;
        pairs_used += srv.fleet->shards[i].n_pairs;
    }
    /* one offered list [9, 7] per shard that has endpoints */
    assert_true(live <= RG_FLEET_SHARDS);
    assert_int_equal(pairs_used, N);
    assert_int_equal(rg_fleet_offered(srv.fleet, "t-5", 7, &err), 1);
    assert_int_equal(rg_fleet_offered(srv.fleet, "t-5", 8, &err), 0);
    rg_fleet_view v;
    assert_int_equal(rg_fleet_view_id(srv.fleet, "t-5", &v, &err), 0);
    assert_non_null(rg_fleet_canary_of(&v, 9));
    /* Cleared: every pair goes back to its shard's pool, and is reused. */
    rg_fleet_canary_clear(srv.fleet, 9);
    assert_int_equal(rg_fleet_view_id(srv.fleet, "t-5", &v, &err), 0);
    assert_null(rg_fleet_canary_of(&v, 9));
    for (int i = 0; i < N; i++) {
        char id[16];
        snprintf(id, sizeof id, "t-%d", i);
        assert_int_equal(rg_fleet_canary_event(srv.fleet, id, 10,
                                               RG_EVENT_APPLYING, now, &err),
                         0);
    }
    pairs_used = 0;
    for (size_t i = 0; i < RG_FLEET_SHARDS; i++)
        pairs_used += srv.fleet->shards[i].n_pairs;
    assert_int_equal(pairs_used, N);
    assert_int_equal(rg_fleet_view_id(srv.fleet, "t-5", &v, &err), 0);
    const rg_fleet_canary *c = rg_fleet_canary_of(&v, 10);
    assert_non_null(c);
    assert_int_equal(c->apply_ms, now);
    rg_fleet_close(srv.fleet);
    rg_store_close(srv.store);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(share_free_reuse),
        cmocka_unit_test(removals_keep_index_whole),
        cmocka_unit_test(fleet_offers_and_canary_pool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
