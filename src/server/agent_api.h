/*
 * agent_api.h - the agent routes and /metrics.
 *
 *   POST /v1/agent/enroll              rg_api_agent_enroll
 *   POST /v1/agent/checkin             rg_api_agent_checkin
 *   GET  /v1/agent/artifacts/{sha256}  rg_api_agent_artifact
 *   GET  /metrics                      rg_api_metrics          (metrics.c)
 *
 * Agent routes carry no admin role: enroll authenticates with its
 * enrollment key, the others with `Authorization: Bearer <endpoint
 * token>` checked against the fleet table (401 unknown token, 403 another
 * endpoint's token). A download is allowed only for an artifact of a
 * release the endpoint was offered in a check-in answer (offers.h) or
 * holds in a canary slot; what it claims installed does not count;
 * anything else, unknown digests included, is 403. Enrollment is rate limited
 * per address, and every failed authentication goes through the guard (guard.h:
 * audited as auth.failed, rate limited). Shapes and errors: docs/api.md.
 *
 * Enrollment is durable (rg_store_endpoint_enroll, audited as
 * endpoint.enroll) before the token is returned; only the token's SHA-256
 * is kept. A check-in validates everything first, then authenticates and
 * records last-seen and installed in memory (flushed later), records its
 * events durably (rg_store_events_record, idempotent by event id) before
 * acknowledging them (noting them in the endpoint's in-memory canary
 * slots, fleet.h), and answers with the endpoint's desired state
 * (desired.h, rg_desired_for_checkin: exposure control), whose offers
 * are durable before it is sent (offers.h). Only events about a release
 * offered to the endpoint are stored and counted; the others (a release
 * never offered to it, or unknown to the store, e.g. after a restore) are
 * acknowledged, so that the agent stops resending them, dropped, listed in
 * the answer's "refused" and counted in /metrics.
 * Handlers are thread-safe.
 */
#ifndef RG_AGENT_API_H
#define RG_AGENT_API_H

#include "common/event_type.h"
#include "server/desired.h"
#include "server/fleet.h"
#include "server/server.h"
#include "store/store.h"

#include <jansson.h>
#include <stdint.h>

#define RG_AGENT_EVENTS_MAX 256      /* events per check-in */
#define RG_AGENT_INSTALLED_MAX 64    /* channels in a check-in's installed */
#define RG_AGENT_FLAG_REVERTS_MAX 16 /* flag set reports per check-in */
#define RG_AGENT_TOKEN_MAX 128       /* bearer token length accepted */

void rg_api_agent_enroll(rg_server *srv, rg_req *req, rg_resp *resp);
void rg_api_agent_checkin(rg_server *srv, rg_req *req, rg_resp *resp);

/* Called when a check-in's headers are in, before its body is read: fills
 * resp with a 401 (audited and rate limited like any failed
 * authentication) when the bearer token is missing or malformed, or when
 * the body has no declared length (Transfer-Encoding) and the token
 * belongs to no endpoint; such a body is then never read. Else leaves
 * resp untouched: the handler authenticates fully. */
void rg_api_agent_checkin_begin(rg_server *srv, rg_req *req, rg_resp *resp);
void rg_api_agent_artifact(rg_server *srv, rg_req *req, rg_resp *resp);
void rg_api_metrics(rg_server *srv, rg_req *req, rg_resp *resp);

/* Process-wide agent counters, for /metrics. */
typedef struct rg_agent_stats {
    uint64_t enrollments;
    uint64_t checkins_rejected;      /* 401/403 answers to check-ins */
    uint64_t events[RG_EVENT_TYPES]; /* received, by rg_event_type code */
    uint64_t events_new;             /* events stored for the first time */
    uint64_t artifact_downloads;
    uint64_t events_not_offered;     /* dropped: release never offered */
    uint64_t events_unknown_release; /* dropped: release unknown */
} rg_agent_stats;

void rg_agent_stats_get(rg_agent_stats *out);

/* Prefixes err's field with prefix ("events[i].", "flags."); returns
 * err->code. */
int rg__agent_requalify(rg_err *err, const char *prefix);

/* A check-in's "flags" (agent_flags.c): the environment the agent is
 * configured for, the stamp of the newest set it has, of the one in force
 * and of its last known good one, and the sets it fell back from. Strings
 * borrowed from the body. */
typedef struct rg__flags_req {
    bool present; /* the check-in asked for flags */
    const char *env, *stamp, *active, *good;
    struct {
        const char *stamp, *detail; /* detail "" when absent */
        int64_t at_ms;
    } reverts[RG_AGENT_FLAG_REVERTS_MAX];
    size_t nreverts;
} rg__flags_req;

/* Parses a check-in's "flags" (NULL: absent) into *out. Returns 0 or
 * RG_EINVAL with err naming the field ("flags.environment"). */
int rg__agent_flags_parse(const json_t *flags, rg__flags_req *out, rg_err *err);

/* Appends ,"flags":{"environment","stamp","stored"?,"set"?} to a check-in
 * answer of endpoint id of attribute profile profile (nothing when in is
 * not present): the set only when in->stamp is not the environment's
 * current stamp; its reports stored first (idempotent). An environment
 * the endpoint may not read (rg_fleet_profile_reads) gets
 * ,"flags":{"environment","error":{"code","message"}} instead, and its
 * reports are not stored. Returns 0 or a negative rg_code. */
int rg__agent_flags_answer(rg_server *srv, const char *id, uint32_t profile,
                           const rg__flags_req *in, int64_t now, rg_buf *out,
                           rg_err *err);

/* A check-in body, parsed and validated (internal; the fuzz harness
 * tests/fuzz/fuzz_server_request.c calls it too). */
typedef struct rg__checkin_req {
    const char *id;                                  /* borrowed from body */
    rg_fleet_installed installed[RG_FLEET_CHANNELS]; /* the first ones */
    rg_desired_have have[RG_FLEET_CHANNELS]; /* the same, with digests */
    size_t n_inst;
    rg_event_rec *evs;              /* malloc'd (caller frees), or NULL */
    int types[RG_AGENT_EVENTS_MAX]; /* rg_event_type codes */
    size_t n_ev;
    rg__flags_req flags;
} rg__checkin_req;

/* Parses a check-in body (an object whose keys the caller has checked)
 * received at now into *out: endpoint_id, installed, events, with every
 * check of docs/api.md. Returns 0 (free out->evs) or RG_EINVAL/RG_ENOMEM
 * with err naming the field (nothing to free then). */
int rg__agent_checkin_parse(const json_t *body, int64_t now,
                            rg__checkin_req *out, rg_err *err);

#endif
