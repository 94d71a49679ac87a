/* Unit tests for webhooks (docs/webhooks.md): the signature against an
 * HMAC-SHA256 computed independently (Python's hmac module), the backoff
 * and what is retried, the events a transition is, the body, and the
 * store's outbox: a transition queues one delivery per matching
 * subscription (event and channel), in its own transaction, with the
 * decision's reason and counts; attempts, deletion and retention.
 * ctest-labels: ops */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/crypto.h"
#include "model/rollout.h"
#include "model/rollout_event.h"
#include "server/webhook_sign.h"
#include "server/webhooks.h"
#include "support/fixture.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static void signature_is_hmac_sha256_of_t_dot_body(void **state)
{
    (void)state;
    char sig[RG_WEBHOOK_SIG_MAX];
    /* python3 -c 'import hmac,hashlib; print(hmac.new(
     *   b"whsec-test-0123456789", b"1700000000." b"{\"event\":\"halt\"}",
     *   hashlib.sha256).hexdigest())' */
    rg_webhook_sign("whsec-test-0123456789", 1700000000, "{\"event\":\"halt\"}",
                    16, sig);
    assert_string_equal(sig, "t=1700000000,v1=a28703874546ead00a756bc340bd5e"
                             "bc2e724221c502859e95ea7c14c43a1692");
    /* Another time or another body: another signature. */
    char other[RG_WEBHOOK_SIG_MAX];
    rg_webhook_sign("whsec-test-0123456789", 1700000001, "{\"event\":\"halt\"}",
                    16, other);
    assert_string_not_equal(strchr(sig, 'v'), strchr(other, 'v'));
}

static void backoff_doubles_with_jitter_and_a_cap(void **state)
{
    (void)state;
    assert_int_equal(rg_webhook_backoff_ms(1, 0), 500);
    assert_int_equal(rg_webhook_backoff_ms(1, UINT32_MAX), 1000);
    assert_int_equal(rg_webhook_backoff_ms(3, 0), 2000);
    assert_int_equal(rg_webhook_backoff_ms(3, UINT32_MAX), 4000);
    int64_t mid = rg_webhook_backoff_ms(3, UINT32_MAX / 2);
    assert_true(mid > 2000 && mid < 4000);
    assert_int_equal(rg_webhook_backoff_ms(40, UINT32_MAX),
                     RG_WEBHOOK_BACKOFF_CAP_MS);
    assert_int_equal(rg_webhook_backoff_ms(40, 0),
                     RG_WEBHOOK_BACKOFF_CAP_MS / 2);
}

static void what_is_retried(void **state)
{
    (void)state;
    const long again[] = {0, 408, 429, 500, 502, 503, 504};
    const long never[] = {200, 204, 301, 302, 400, 401, 403, 404, 410, 422};
    for (size_t i = 0; i < sizeof again / sizeof *again; i++)
        assert_true(rg_webhook_retryable(again[i]));
    for (size_t i = 0; i < sizeof never / sizeof *never; i++)
        assert_false(rg_webhook_retryable(never[i]));
}

static void transitions_and_their_events(void **state)
{
    (void)state;
    assert_string_equal(rg_rollout_event(RG_RO_RUNNING, RG_RO_HALTED), "halt");
    assert_string_equal(rg_rollout_event(RG_RO_COMPLETED, RG_RO_HALTED),
                        "halt");
    assert_string_equal(rg_rollout_event(RG_RO_RUNNING, RG_RO_HELD), "hold");
    assert_string_equal(rg_rollout_event(RG_RO_RUNNING, RG_RO_COMPLETED),
                        "complete");
    assert_string_equal(rg_rollout_event(RG_RO_HALTED, RG_RO_ROLLED_BACK),
                        "rollback");
    assert_string_equal(rg_rollout_event(RG_RO_RUNNING, RG_RO_PAUSED), "pause");
    assert_string_equal(rg_rollout_event(RG_RO_PAUSED, RG_RO_RUNNING),
                        "resume");
    assert_string_equal(rg_rollout_event(RG_RO_HELD, RG_RO_RUNNING), "resume");
    assert_null(rg_rollout_event(RG_RO_RUNNING, RG_RO_RUNNING)); /* advance */
    assert_null(rg_rollout_event(RG_RO_RUNNING, RG_RO_ABORTED));
    assert_null(rg_rollout_event(RG_RO_PENDING, RG_RO_RUNNING));
    assert_true(rg_rollout_event_known("rollback"));
    assert_false(rg_rollout_event_known("*"));
    assert_false(rg_rollout_event_known("abort"));
}

/* --- the store's outbox -------------------------------------------------- */

typedef struct fx {
    rg_server srv;
    rg_clock clock;
    int64_t now;
    rg_err err;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->now = 1000000;
    rg_test_server_store(&f->srv, &f->clock, &f->now);
    rg_err_clear(&f->err);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    rg_store_close(f->srv.store);
    free(f);
    return 0;
}

static int64_t add_webhook(fx *f, const char *events, const char *channel)
{
    rg_webhook_rec w;
    memset(&w, 0, sizeof w);
    snprintf(w.url, sizeof w.url, "http://127.0.0.1:9/hook");
    snprintf(w.events, sizeof w.events, "%s", events);
    snprintf(w.channel, sizeof w.channel, "%s", channel);
    snprintf(w.secret, sizeof w.secret, "whsec-test-0123456789");
    w.created_ms = f->now;
    rg_test_ok(rg_store_webhook_create(f->srv.store, &w, NULL, &f->err),
               &f->err);
    return w.id;
}

typedef struct seen {
    rg_delivery_rec d[8];
    size_t n;
} seen;

static int keep(void *ctx, const rg_delivery_rec *d)
{
    seen *s = ctx;
    assert_true(s->n < 8);
    s->d[s->n++] = *d;
    return 0;
}

static int count_due(void *ctx, const rg_delivery_rec *d,
                     const rg_webhook_rec *w)
{
    (void)d, (void)w;
    ++*(size_t *)ctx;
    return 0;
}

static seen *deliveries(fx *f, int64_t webhook)
{
    static seen s;
    memset(&s, 0, sizeof s);
    rg_test_ok(rg_store_delivery_list(f->srv.store, webhook, keep, &s, &f->err),
               &f->err);
    return &s;
}

static void halt_queues_one_delivery_per_match(void **state)
{
    fx *f = *state;
    int64_t halts = add_webhook(f, "halt,complete", "detections");
    int64_t pauses = add_webhook(f, "pause", "");
    int64_t other = add_webhook(f, "*", "other-channel");
    int64_t all = add_webhook(f, "*", "");
    int64_t rel = rg_test_add_release(f->srv.store, "detections", 1, f->now);
    const char *ev = "{\"counts\":{\"exposed\":30,\"failed\":3},\"gate\":{}}";
    rg_rollout_rec *r =
        rg_test_add_rollout(f->srv.store, rel, RG_RO_HALTED, f->now, ev);

    assert_int_equal(deliveries(f, pauses)->n, 0);
    assert_int_equal(deliveries(f, other)->n, 0);
    assert_int_equal(deliveries(f, all)->n, 1);
    seen *s = deliveries(f, halts);
    assert_int_equal(s->n, 1);
    rg_delivery_rec d = s->d[0];
    assert_string_equal(d.event, "halt");
    assert_string_equal(d.state, "pending");
    assert_int_equal(d.rollout_id, r->id);
    assert_int_equal(d.release_id, rel);
    assert_int_equal(d.version, 1);
    assert_string_equal(d.channel, "detections");
    assert_int_equal(d.to_state, RG_RO_HALTED);
    assert_int_equal(d.next_ms, f->now + 1);
    assert_int_equal(strlen(d.uid), 32);

    /* The body: the rollout's fields and the decision's counts, the same
     * for every attempt. */
    char *body = rg_webhook_body(&d), *again = rg_webhook_body(&d);
    assert_string_equal(body, again);
    json_t *o = json_loads(body, 0, NULL);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "event")), "halt");
    assert_string_equal(json_string_value(json_object_get(o, "delivery")),
                        d.uid);
    json_t *ro = json_object_get(o, "rollout");
    assert_int_equal(json_integer_value(json_object_get(ro, "id")), r->id);
    assert_string_equal(json_string_value(json_object_get(ro, "state")),
                        "halted");
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(ro, "counts"), "failed")),
                     3);
    json_decref(o);
    free(body);
    free(again);
    free(r);
}

/* A subscription to every event (*id) and a test delivery queued to it. */
static rg_delivery_rec queue_test(fx *f, int64_t *id)
{
    rg_delivery_rec d;
    *id = add_webhook(f, "*", "");
    rg_test_ok(
        rg_store_webhook_test(f->srv.store, *id, f->now, &d, NULL, &f->err),
        &f->err);
    return d;
}

static void attempts_are_logged_and_pruned(void **state)
{
    fx *f = *state;
    int64_t id;
    rg_delivery_rec d = queue_test(f, &id);
    assert_string_equal(d.event, "test");
    rg_attempt_rec a = {.delivery_id = d.id,
                        .n = 1,
                        .at_ms = f->now + 5,
                        .took_ms = 2,
                        .status = 503};
    snprintf(a.error, sizeof a.error, "HTTP 503");
    rg_test_ok(rg_store_delivery_attempt(f->srv.store, &a, "pending",
                                         f->now + 1000, &f->err),
               &f->err);
    seen *s = deliveries(f, id);
    assert_int_equal(s->d[0].attempts, 1);
    assert_int_equal(s->d[0].last_status, 503);
    assert_int_equal(s->d[0].next_ms, f->now + 1000);
    /* Not due before next_ms. */
    size_t n = 0, pruned = 0;
    rg_test_ok(rg_store_delivery_due(f->srv.store, f->now + 999, 16, count_due,
                                     &n, &f->err),
               &f->err);
    assert_int_equal(n, 0);
    a = (rg_attempt_rec){
        .delivery_id = d.id, .n = 2, .at_ms = f->now + 1000, .status = 200};
    rg_test_ok(
        rg_store_delivery_attempt(f->srv.store, &a, "delivered", 0, &f->err),
        &f->err);
    assert_string_equal(deliveries(f, id)->d[0].state, "delivered");
    /* Retention takes finished deliveries older than its bound only. */
    rg_test_ok(rg_store_deliveries_prune(f->srv.store, f->now + 1000, 100,
                                         &pruned, &f->err),
               &f->err);
    assert_int_equal(pruned, 0);
    rg_test_ok(rg_store_deliveries_prune(f->srv.store, f->now + 1001, 100,
                                         &pruned, &f->err),
               &f->err);
    assert_int_equal(pruned, 1);
    assert_int_equal(deliveries(f, id)->n, 0);
    /* A bad state changes nothing. */
    assert_int_equal(
        rg_store_delivery_attempt(f->srv.store, &a, "lost", 0, &f->err),
        RG_EINVAL);
}

static void deleting_a_webhook_drops_its_outbox(void **state)
{
    fx *f = *state;
    int64_t id;
    rg_delivery_rec d = queue_test(f, &id);
    rg_test_ok(rg_store_webhook_delete(f->srv.store, id, NULL, NULL, &f->err),
               &f->err);
    assert_int_equal(
        rg_store_delivery_list(f->srv.store, id, keep, NULL, &f->err),
        RG_ENOTFOUND);
    rg_attempt_rec a = {.delivery_id = d.id, .n = 1, .at_ms = f->now};
    assert_int_equal(
        rg_store_delivery_attempt(f->srv.store, &a, "failed", 0, &f->err),
        RG_ENOTFOUND);
    assert_int_equal(
        rg_store_webhook_delete(f->srv.store, id, NULL, NULL, &f->err),
        RG_ENOTFOUND);
}

static void subscriptions_are_capped(void **state)
{
    fx *f = *state;
    for (int i = 0; i < RG_WEBHOOKS_MAX; i++)
        add_webhook(f, "halt", "");
    rg_webhook_rec w;
    memset(&w, 0, sizeof w);
    snprintf(w.url, sizeof w.url, "http://127.0.0.1:9/");
    snprintf(w.events, sizeof w.events, "halt");
    snprintf(w.secret, sizeof w.secret, "whsec-test-0123456789");
    assert_int_equal(rg_store_webhook_create(f->srv.store, &w, NULL, &f->err),
                     RG_ECONFLICT);
}

int main(void)
{
    rg_crypto_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(signature_is_hmac_sha256_of_t_dot_body),
        cmocka_unit_test(backoff_doubles_with_jitter_and_a_cap),
        cmocka_unit_test(what_is_retried),
        cmocka_unit_test(transitions_and_their_events),
        cmocka_unit_test_setup_teardown(halt_queues_one_delivery_per_match,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(attempts_are_logged_and_pruned, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(deleting_a_webhook_drops_its_outbox,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(subscriptions_are_capped, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
