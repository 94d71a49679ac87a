/*
 * fuzz_agent_checkin.c - the agent's parsing of check-in answers
 * (src/agent, used read-only).
 *
 * The agent reads an answer with rg_json_parse_object (rg_client_post),
 * then take_answer (static in src/agent/checkin.c: it acknowledges events
 * in the outbox and writes notices.json, so it cannot be called without a
 * state directory) reads interval_s, acks, desired and notices with the
 * common getters and parses every desired entry whose key passes
 * rg_channel_name_valid with rg_desired_parse. This harness makes the same
 * calls with the same bounds. Invariants: an accepted entry has a release
 * >= 1, version and size >= 0, a valid sha256 and a NUL-terminated,
 * non-empty url; an accepted channel name is 1..64 of [a-z0-9._-] and not
 * "." or "..".
 */
#include "fuzz.h"

#include "agent/apply.h"
#include "agent/durable.h"
#include "common/name.h"
#include "common/crypto.h"
#include "common/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "check-in answer invariant broken: %s: %s\n", what, detail);
    abort();
}

static void check_name(const char *key)
{
    size_t n = strlen(key);
    if (n < 1 || n > 64 ||
        strspn(key, "abcdefghijklmnopqrstuvwxyz0123456789._-") != n ||
        strcmp(key, ".") == 0 || strcmp(key, "..") == 0)
        fail("channel name accepted", key);
}

static void check_desired(const char *key, const rg_desired *d)
{
    if (d->want.release < 1 || d->want.version < 0 || d->want.size < 0 ||
        !rg_sha256_hex_valid(d->want.sha256))
        fail("desired entry accepted", key);
    size_t n = strnlen(d->url, sizeof d->url);
    if (n == 0 || n == sizeof d->url)
        fail("desired url", key);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rg_err err;
    int64_t interval = 0;
    json_t *acks = NULL, *desired = NULL, *notices = NULL, *v;
    const char *key;
    size_t i;
    json_t *resp = rg_json_parse_object((const char *)data, size, &err);
    if (!resp)
        return 0;
    if (rg_json_int(resp, "interval_s", false, 1, 86400, &interval, &err) ||
        rg_json_array(resp, "acks", false, 100000, &acks, &err) ||
        rg_json_object(resp, "desired", false, &desired, &err) ||
        rg_json_array(resp, "notices", false, 1024, &notices, &err))
        goto done;
    if (interval < 0 || interval > 86400)
        fail("interval", "out of range");
    json_array_foreach(acks, i, v)
    {
        if (json_is_string(v) && !json_string_value(v))
            fail("ack", "string without a value");
    }
    json_object_foreach(desired, key, v)
    {
        rg_desired d;
        if (!rg_channel_name_valid(key))
            continue;
        check_name(key);
        if (rg_desired_parse(v, &d, &err) == 0)
            check_desired(key, &d);
    }
done:
    json_decref(resp);
    return 0;
}
