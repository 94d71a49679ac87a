/*
 * checkin.h - one conversation with the server: enroll when there is no
 * token, then POST /v1/agent/checkin with what is installed and the
 * pending events, and take in the answer (acks, desired, notices).
 *
 *   STATE/token          endpoint token, mode 0600
 *   STATE/notices.json   the latest notices from the server
 *   STATE/contact.json   last successful contact and last error
 */
#ifndef RG_AGENT_CHECKIN_H
#define RG_AGENT_CHECKIN_H

#include "apply.h"
#include "client.h"
#include "config.h"
#include "outbox.h"

#include <jansson.h>

#define RG_CHECKIN_MAX_DESIRED 64

/* What a check-in brought back. desired[] is on the heap (an entry holds
 * up to 8 KiB of signed metadata; 64 of them do not belong on a stack). */
typedef struct rg_checkin_result {
    int64_t interval_ms; /* from the server */
    size_t ndesired;
    char channels[RG_CHECKIN_MAX_DESIRED][65];
    rg_desired *desired; /* owned: ndesired entries */
    json_t *notices;     /* owned: decref */
    json_t *flags;       /* owned: the answer's "flags" object, or NULL */
    size_t sent, acked;  /* events */
} rg_checkin_result;

/* Enrolls if needed and checks in once; insecure (the agent applies
 * unverified releases) adds "insecure": true to the check-in, flags (may
 * be NULL; only read) is sent as its "flags" (flagstate.h). On success
 * fills r (release with rg_checkin_result_release) and records the
 * contact; on failure records the error in contact.json. A 401 drops the
 * stored token so the next call enrolls again. Returns 0 or an rg_code
 * (RG_EUNAVAIL: unreachable). */
int rg_checkin(const rg_agent_config *conf, rg_client *client,
               rg_outbox *outbox, bool insecure, const json_t *flags,
               int64_t now_ms, rg_checkin_result *r, rg_err *err);

/* Frees what r owns (desired, notices, flags); r may be released twice. */
void rg_checkin_result_release(rg_checkin_result *r);

/* A new object {channel: {"release","version","sha256"}} of every
 * channel's active slot under state_dir (caller decrefs). */
json_t *rg_checkin_installed(const char *state_dir);

#endif
