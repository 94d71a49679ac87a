/* Unit tests for src/agent/outbox.c: durability before sending, retry
 * until acknowledged, idempotent ids, and the bound (applying refused at
 * MAX - RESERVE, everything at MAX, counted, never dropped silently).
 * ctest-labels: agent */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agent/durable.h"
#include "agent/outbox.h"
#include "common/crypto.h"
#include "common/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char root[64];

static int setup(void **state)
{
    (void)state;
    rg_crypto_init();
    snprintf(root, sizeof root, "/tmp/rg-outbox-XXXXXX");
    return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    return system(cmd) == 0 ? 0 : -1;
}

static rg_event make(const char *type, int64_t release)
{
    rg_event ev;
    memset(&ev, 0, sizeof ev);
    rg_event_new_id(ev.id);
    ev.type = type;
    snprintf(ev.channel, sizeof ev.channel, "detections");
    ev.release = release;
    ev.at_ms = 1000 + release;
    return ev;
}

static void durable_before_send_and_retried_until_acked(void **state)
{
    (void)state;
    rg_outbox ob;
    rg_err err;
    char sub[128];
    snprintf(sub, sizeof sub, "%s/a", root);
    assert_int_equal(rg_outbox_open(&ob, sub, &err), 0);
    rg_event e1 = make("applying", 4), e2 = make("healthy", 4);
    snprintf(e2.detail, sizeof e2.detail, "probe ok");
    assert_int_equal(rg_outbox_add(&ob, &e1, &err), 0);
    assert_int_equal(rg_outbox_add(&ob, &e2, &err), 0);

    /* A fresh handle (a restarted process) sees both events, oldest first,
     * in the check-in shape: they were on disk when add returned. */
    rg_outbox again;
    assert_int_equal(rg_outbox_open(&again, sub, &err), 0);
    for (int round = 0; round < 2; round++) { /* unacked: sent again */
        json_t *arr = rg_outbox_pending(&again, 256, &err);
        assert_non_null(arr);
        assert_int_equal(json_array_size(arr), 2);
        json_t *first = json_array_get(arr, 0);
        assert_string_equal(json_string_value(json_object_get(first, "id")),
                            e1.id);
        assert_string_equal(json_string_value(json_object_get(first, "type")),
                            "applying");
        assert_string_equal(
            json_string_value(json_object_get(first, "channel")), "detections");
        assert_int_equal(json_integer_value(json_object_get(first, "release")),
                         4);
        json_t *second = json_array_get(arr, 1);
        assert_string_equal(
            json_string_value(json_object_get(second, "detail")), "probe ok");
        json_decref(arr);
    }
    assert_int_equal(rg_outbox_lookup(&ob, e1.id), RG_OUTBOX_PENDING);
    assert_int_equal(rg_outbox_ack(&ob, e1.id, &err), 0);
    assert_int_equal(rg_outbox_ack(&ob, "e-unknown", &err), 0);
    assert_int_equal(rg_outbox_lookup(&again, e1.id), RG_OUTBOX_ACKED);
    assert_int_equal(rg_outbox_count(&again), 1);
    /* Adding an acknowledged or pending id again changes nothing. */
    assert_int_equal(rg_outbox_add(&ob, &e1, &err), 0);
    assert_int_equal(rg_outbox_add(&ob, &e2, &err), 0);
    assert_int_equal(rg_outbox_count(&ob), 1);
    assert_int_equal(rg_outbox_lookup(&ob, "e-never"), RG_OUTBOX_UNKNOWN);
    json_t *arr = rg_outbox_pending(&ob, 256, &err);
    assert_int_equal(json_array_size(arr), 1);
    json_decref(arr);
    /* Bad input is refused. */
    rg_event bad = make("exploded", 1);
    assert_int_equal(rg_outbox_add(&ob, &bad, &err), RG_EINVAL);
    bad = make("healthy", 1);
    snprintf(bad.id, sizeof bad.id, "../x");
    assert_int_equal(rg_outbox_add(&ob, &bad, &err), RG_EINVAL);
}

static void bound_refuses_and_counts(void **state)
{
    (void)state;
    rg_outbox ob;
    rg_err err;
    char sub[128];
    snprintf(sub, sizeof sub, "%s/b", root);
    assert_int_equal(rg_outbox_open(&ob, sub, &err), 0);
    int i = 0;
    for (; i < RG_OUTBOX_MAX - RG_OUTBOX_RESERVE; i++) {
        rg_event ev = make("applying", i);
        assert_int_equal(rg_outbox_add(&ob, &ev, &err), 0);
    }
    rg_event ap = make("applying", 9999);
    assert_int_equal(rg_outbox_add(&ob, &ap, &err), RG_ETOOBIG);
    assert_int_equal(rg_outbox_refused(&ob),
                     0); /* not an event lost: the apply waits */
    for (; i < RG_OUTBOX_MAX; i++) {
        rg_event ev = make(i % 2 ? "crashed" : "reverted", i);
        assert_int_equal(rg_outbox_add(&ob, &ev, &err), 0);
    }
    assert_int_equal(rg_outbox_count(&ob), RG_OUTBOX_MAX);
    rg_event over = make("reverted", 7777);
    assert_int_equal(rg_outbox_add(&ob, &over, &err), RG_ETOOBIG);
    assert_int_equal(rg_outbox_refused(&ob), 1);
    assert_int_equal(rg_outbox_lookup(&ob, over.id), RG_OUTBOX_UNKNOWN);
    /* A batch is capped and oldest first. */
    json_t *arr = rg_outbox_pending(&ob, 10, &err);
    assert_int_equal(json_array_size(arr), 10);
    assert_int_equal(
        json_integer_value(json_object_get(json_array_get(arr, 0), "release")),
        0);
    assert_int_equal(
        json_integer_value(json_object_get(json_array_get(arr, 9), "release")),
        9);
    /* Acknowledging makes room again. */
    for (size_t k = 0; k < json_array_size(arr); k++)
        assert_int_equal(rg_outbox_ack(&ob,
                                       json_string_value(json_object_get(
                                           json_array_get(arr, k), "id")),
                                       &err),
                         0);
    json_decref(arr);
    assert_int_equal(rg_outbox_add(&ob, &over, &err), 0);
    assert_int_equal(rg_outbox_count(&ob), RG_OUTBOX_MAX - 9);
    /* Order survives acks: the newest event is last. */
    arr = rg_outbox_pending(&ob, RG_OUTBOX_MAX, &err);
    json_t *last = json_array_get(arr, json_array_size(arr) - 1);
    assert_string_equal(json_string_value(json_object_get(last, "id")),
                        over.id);
    json_decref(arr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(durable_before_send_and_retried_until_acked),
        cmocka_unit_test(bound_refuses_and_counts),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
