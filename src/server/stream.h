/*
 * stream.h - the push stream of the dashboard, GET /v1/stream
 * (docs/dashboard.md): Server-Sent Events telling open pages what changed,
 * so that a decision appears without polling.
 *
 * The hub keeps the last RG_STREAM_KEEP events in a ring, each with an id
 * "BOOT-SEQ" (BOOT: when this process's hub opened, in ms; SEQ counts from
 * 1). A subscriber that reconnects with Last-Event-ID gets every event
 * after it that the ring still holds; when the ring no longer holds them,
 * or the id is of another process, it first gets an event `reset` (the page
 * reloads its data). A new subscriber starts with an event `hello` whose id
 * is the newest one. Events:
 *   decision  {"rollout", "from", "to", "from_wave", "to_wave", "reason",
 *              "actor", "at_ms"}: a stored decision (a transition, an
 *              operator action, an evaluation that changed the verdict,
 *              a rollout created)
 *   counts    {"rollout", "at_ms", "counts": {...}}: the gate's counts of
 *              a rollout after a tick of the orchestrator, sent only when
 *              they differ from the last ones sent for it (the same
 *              object the rollout lists answer as "counts")
 * A comment line is sent every RG_STREAM_KEEPALIVE_MS of quiet, which
 * also finds connections whose peer went away.
 *
 * Caps (each answers 429 with the error shape): streams per token
 * (cfg.stream_per_token), per client address (cfg.stream_per_address),
 * and RG_STREAM_MAX in all.
 *
 * Each open stream is an HTTP answer that never ends: the adapter asks the
 * hub for bytes (rg_resp_stream); with none to send, the hub parks the
 * connection (rg_http_suspend) and wakes it (rg_http_resume) when an event
 * is published, the keepalive is due, or the hub stops.
 *
 * Thread-safety: every function may be called from any thread.
 */
#ifndef RG_STREAM_H
#define RG_STREAM_H

#include "model/rollout.h"
#include "server/server.h"

#include <jansson.h>

#include <stdint.h>

#define RG_STREAM_KEEP 512           /* events kept for resumption */
#define RG_STREAM_KEEPALIVE_MS 15000 /* quiet before a comment line */
#define RG_STREAM_MAX 1024           /* open streams in all */
#define RG_STREAM_FRAME_MAX 2048     /* one event's text, at most */
#define RG_STREAM_ROLLOUTS 1024      /* rollouts whose last counts are kept */

typedef struct rg_stream rg_stream;

/* Opens a hub (and its keepalive thread). Returns 0 and *out (the caller
 * frees it with rg_stream_free), or RG_ENOMEM / RG_EIO. */
int rg_stream_open(rg_stream **out, rg_err *err);

/* Ends every open stream and refuses new ones; call before the HTTP
 * daemon stops (it must not stop with parked connections). NULL is ok. */
void rg_stream_stop(rg_stream *s);

/* Frees the hub after every publisher has stopped: the HTTP daemon and the
 * orchestrator (both call rg_stream_decision). NULL is ok. */
void rg_stream_free(rg_stream *s);

/* Publishes a stored decision of rollout id (tr: the transition; actor:
 * who made it; at_ms: when) as a `decision` event. s NULL: nothing. */
void rg_stream_decision(rg_stream *s, int64_t rollout, const rg_transition *tr,
                        const char *actor, int64_t at_ms);

/* Publishes the gate's counts of rollout id after a tick at at_ms (counts:
 * a JSON object, borrowed; NULL: nothing) as a `counts` event, unless they
 * are those last published for it. The last counts of the
 * RG_STREAM_ROLLOUTS most recently changed rollouts are kept. s NULL:
 * nothing. */
void rg_stream_counts(rg_stream *s, int64_t rollout, const json_t *counts,
                      int64_t at_ms);

/* GET /v1/stream (viewer): opens a stream for the caller (req->auth). */
void rg_api_stream(rg_server *srv, rg_req *req, rg_resp *resp);

#endif
