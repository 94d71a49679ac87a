/*
 * fixture.h - helpers the server-level unit tests share (linked into every
 * tests/unit program as the rg_test_support library).
 */
#ifndef RG_TEST_FIXTURE_H
#define RG_TEST_FIXTURE_H

#include "common/err.h"
#include "common/clock.h"
#include "server/fleet.h"
#include "server/server.h"
#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>
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

/* Points srv at clock, a manual clock reading *now_ms (both must outlive
 * srv), sets a check-in interval of 60 s and opens a fresh in-memory
 * store holding the channel "detections" created at *now_ms. Fails the
 * test on error. */
void rg_test_server_store(rg_server *srv, rg_clock *clock, int64_t *now_ms);

/* Enrolls endpoint id (os, os_version, arch x86_64, no tags) at now_ms in
 * srv's store and fleet (both open). Returns its fleet stratum; fails the
 * test on error. */
uint32_t rg_test_enroll(rg_server *srv, const char *id, const char *os,
                        const char *os_version, int64_t now_ms);

/* Stores a rollout of release (built-in plan "emergency", salt "done")
 * created at now_ms and moved from running to state (completed, halted,
 * ...) at now_ms + 1 by a decision whose evidence is evidence_json (NULL:
 * none); completed makes release the channel's current one. Returns the
 * rollout as stored (caller frees); fails the test on error. */
rg_rollout_rec *rg_test_add_rollout(rg_store *s, int64_t release, int state,
                                    int64_t now_ms, const char *evidence_json);

/* A check-in of endpoint id (token tok) at now_ms in srv's fleet and, for
 * each of the n types (rg_event_type codes), an event for release on
 * channel "detections", stored and given to the canary, its id "e<seq>"
 * from ++*ev_seq. Returns the release srv's answer desires on "detections"
 * (0: none) when answer, else 0. Fails the test on error. */
int64_t rg_test_checkin(rg_server *srv, const char *id,
                        const uint8_t tok[RG_FLEET_TOKEN_BYTES], int64_t now_ms,
                        int64_t release, const int *types, size_t n,
                        uint64_t *ev_seq, bool answer);

#endif
