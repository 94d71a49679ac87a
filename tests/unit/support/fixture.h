/*
 * fixture.h - helpers the server-level unit tests share (linked into every
 * tests/unit program as the rg_test_support library).
 */
#ifndef RG_TEST_FIXTURE_H
#define RG_TEST_FIXTURE_H

#include "common/err.h"
#include "server/fleet.h"
#include "store/store.h"

#include <stdint.h>

/* Fails the running cmocka test with err's message unless rc is 0. */
void rg_test_ok(int rc, const rg_err *err);

/* Decodes a 64-hex-digit token hash into its RG_FLEET_TOKEN_BYTES bytes. */
void rg_test_token_bin(const char *hex, uint8_t out[RG_FLEET_TOKEN_BYTES]);

/* Stores an artifact "CHANNEL content vVERSION" and creates release
 * VERSION of it on channel (which must exist) at now_ms, notes "vN",
 * urgency standard. Returns the release id; fails the test on error. */
int64_t rg_test_add_release(rg_store *s, const char *channel, int version,
                            int64_t now_ms);

#endif
