/*
 * outbox.h - the agent's durable event outbox.
 *
 *   STATE/outbox/pending/<seq>-<id>.json   one event, written durably
 *   STATE/outbox/acked/<seq>-<id>          tombstone of an acknowledged event
 *
 * An event is on disk (file and directory fsynced) before rg_outbox_add
 * returns, so it is on disk before it can be sent. It stays pending until
 * the server acknowledges its id; then it becomes a tombstone, so adding
 * the same id again is a no-op and a caller can ask whether its event was
 * acknowledged (the apply pipeline waits for `applying` this way). The
 * newest RG_OUTBOX_ACKED_KEEP tombstones are kept.
 *
 * The bound: at most RG_OUTBOX_MAX pending events (one check-in carries
 * them all). `applying` is refused once RG_OUTBOX_MAX - RG_OUTBOX_RESERVE
 * are pending, so an apply never starts without room for every event its
 * trial can produce (at most K crashed + one healthy/reverted/failed,
 * K <= 10 < RESERVE); the apply then waits for the outbox to drain. Any
 * event refused at the hard bound is never dropped silently: add returns
 * RG_ETOOBIG, logs an error and increments a persisted refused counter
 * shown by `rollgate-agent status`.
 *
 * Every call takes the outbox lock (flock), so several agent processes
 * sharing a state directory may use it at once.
 */
#ifndef RG_AGENT_OUTBOX_H
#define RG_AGENT_OUTBOX_H

#include "common/err.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define RG_OUTBOX_MAX 256
#define RG_OUTBOX_RESERVE 32
#define RG_OUTBOX_ACKED_KEEP 512
#define RG_EVENT_ID_MAX 40

typedef struct rg_outbox {
    char dir[3584]; /* STATE/outbox */
} rg_outbox;

/* One event, as sent in a check-in. */
typedef struct rg_event {
    char id[RG_EVENT_ID_MAX]; /* "e-" + 32 hex, see rg_event_new_id */
    const char *type;         /* applying healthy failed reverted crashed */
    char channel[65];
    int64_t release;
    int64_t at_ms;
    char detail[256]; /* optional text, "" for none */
} rg_event;

typedef enum rg_outbox_state {
    RG_OUTBOX_UNKNOWN = 0, /* never added, or its tombstone was trimmed */
    RG_OUTBOX_PENDING = 1,
    RG_OUTBOX_ACKED = 2,
} rg_outbox_state;

/* Fills id with a fresh random event id. */
void rg_event_new_id(char id[RG_EVENT_ID_MAX]);

/* Sets up the outbox under state_dir, creating its directories. */
int rg_outbox_open(rg_outbox *ob, const char *state_dir, rg_err *err);

/* Adds ev durably (see the bound above). Adding an id that is pending or
 * acknowledged returns 0 and changes nothing. Returns 0, RG_ETOOBIG,
 * RG_EINVAL (bad type or id) or RG_EIO. */
int rg_outbox_add(rg_outbox *ob, const rg_event *ev, rg_err *err);

/* Returns a new JSON array (caller decrefs) of at most max pending
 * events, oldest first, in the check-in shape; NULL with err on failure. */
json_t *rg_outbox_pending(rg_outbox *ob, size_t max, rg_err *err);

/* Marks id acknowledged (pending file becomes a tombstone, directories
 * fsynced). Unknown ids are ignored. Returns 0 or RG_EIO. */
int rg_outbox_ack(rg_outbox *ob, const char *id, rg_err *err);

/* Where id stands. */
rg_outbox_state rg_outbox_lookup(rg_outbox *ob, const char *id);

/* Number of pending events. */
size_t rg_outbox_count(rg_outbox *ob);

/* Events refused at the hard bound since the state directory was made. */
int64_t rg_outbox_refused(rg_outbox *ob);

#endif
