/* fixture.c - see fixture.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "fixture.h"

#include "common/crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rg_test_ok(int rc, const rg_err *err)
{
    if (rc != 0)
        fail_msg("rc %d: %s", rc, err->msg);
}

void rg_test_token_bin(const char *hex, uint8_t out[RG_FLEET_TOKEN_BYTES])
{
    for (size_t i = 0; i < RG_FLEET_TOKEN_BYTES; i++) {
        unsigned v = 0;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
}

int64_t rg_test_add_release(rg_store *s, const char *channel, int version,
                            int64_t now_ms)
{
    rg_err err;
    rg_err_clear(&err);
    char data[96], sha[RG_HASH_HEX];
    snprintf(data, sizeof data, "%s content v%d", channel, version);
    rg_sha256_hex(data, strlen(data), sha);
    rg_test_ok(rg_store_artifact_put(s, sha, strlen(data), now_ms, NULL, &err),
               &err);
    rg_release_rec *r = calloc(1, sizeof *r); /* 12 KiB: not on the stack */
    assert_non_null(r);
    snprintf(r->channel, sizeof r->channel, "%s", channel);
    r->version = version;
    snprintf(r->sha256, sizeof r->sha256, "%s", sha);
    snprintf(r->notes, sizeof r->notes, "v%d", version);
    snprintf(r->urgency, sizeof r->urgency, "standard");
    r->created_ms = now_ms;
    rg_test_ok(rg_store_release_create(s, r, NULL, &err), &err);
    int64_t id = r->id;
    free(r);
    return id;
}
