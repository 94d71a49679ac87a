/*
 * session.h - a node's own session with the store's database, for what
 * several rollgated nodes on one PostgreSQL share besides the data
 * (docs/scale.md, "Several nodes"): who leads, and the change
 * announcements.
 *
 * On PostgreSQL a session is a dedicated connection (not the store's),
 * named by the node id (application_name), that
 *  - holds the leader's session advisory lock, key RG_SESSION_LEADER_KEY,
 *    while the node leads (pg_try_advisory_lock: taken by one session at
 *    a time, released by PostgreSQL when the session ends, so a killed
 *    leader's lock goes with its connection);
 *  - LISTENs on channel "rollgate", where the store's write transactions
 *    announce what changed (NOTIFY rollgate, '<kind>'; store.h).
 * On SQLite (one process per database) there is no session: the node
 * always leads and nothing is announced.
 *
 * A session is used by one thread at a time.
 */
#ifndef RG_STORE_SESSION_H
#define RG_STORE_SESSION_H

#include "common/err.h"

#include <stdbool.h>
#include <stddef.h>

/* The session advisory lock of the leader. Distinct from the write
 * transactions' key (7162840671, pg.c): never use either for anything
 * else. */
#define RG_SESSION_LEADER_KEY 7162840672LL

typedef struct rg_store_session rg_store_session;

/* What a store write announces (its NOTIFY payload), as bits. */
enum {
    RG_ANNOUNCE_STATE = 1,    /* "state": channels, releases, rollouts,
                                 policies: what check-in answers */
    RG_ANNOUNCE_DECISION = 2, /* "decision": a stored gate evaluation */
    RG_ANNOUNCE_ENDPOINT = 4, /* "endpoint": enrolled or identity reset */
    RG_ANNOUNCE_FLAG = 8,     /* "flag": flags, segments, flag rollouts */
    RG_ANNOUNCE_RELEASE = 16, /* "release": a release awaits preflight */
};

/* The payload of announcement bit kind (one RG_ANNOUNCE_* bit), or NULL. */
const char *rg_store_announce_name(unsigned kind);

/* Opens the session of node node_id on the store at url: for a
 * postgres:// URL, *out receives a session (connected later, by
 * rg_store_session_poll); for any other store *out is NULL (a single
 * node, always leading). Returns 0 or RG_ENOMEM / RG_EINVAL. */
int rg_store_session_open(const char *url, const char *node_id,
                          rg_store_session **out, rg_err *err);

/* Closes the session (the lock and the listening go with it). NULL is a
 * no-op. */
void rg_store_session_close(rg_store_session *s);

/* What a poll found. */
typedef struct rg_session_state {
    bool connected; /* the session is up */
    bool leader;    /* this session holds the leader's lock */
    bool lost;      /* the connection was lost since the last poll (the
                       lock and any announcement in between with it) */
    unsigned kinds; /* announcements received: RG_ANNOUNCE_* bits */
} rg_session_state;

/* Waits up to wait_ms for an announcement, then: connects again when the
 * session is down (at most once a second), tries to take the leader's
 * lock when it does not hold it (at most once a second), and checks the
 * connection when it does. Fills *st. Returns 0, or RG_EUNAVAIL with err
 * filled when the database cannot be reached (st says not leading). */
int rg_store_session_poll(rg_store_session *s, int wait_ms,
                          rg_session_state *st, rg_err *err);

/* The node id of the session that holds the leader's lock, into out ("":
 * none, or s is NULL). Returns 0 or RG_EUNAVAIL. */
int rg_store_session_leader(rg_store_session *s, char *out, size_t cap,
                            rg_err *err);

#endif
