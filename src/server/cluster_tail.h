/*
 * cluster_tail.h - what other nodes made durable, read into this node's
 * fleet table (cluster.h; store.h, "tails"). Internal to cluster.c.
 */
#ifndef RG_CLUSTER_TAIL_H
#define RG_CLUSTER_TAIL_H

#include "common/err.h"
#include "server/server.h"
#include "store/store.h"

#include <stdint.h>

/* Where each tail stands, and what it read (for /metrics). */
typedef struct rg__tail_pos {
    rg_tail_heads at; /* the last number read of each */
    uint64_t endpoints, events, offers;
} rg__tail_pos;

/* Reads, in this order, the endpoints, events and offers numbered after
 * pos->at (each up to RG_CLUSTER_TAIL_BATCH rows a call) into srv's
 * fleet: endpoints it does not know (or with a new token) are put, later
 * check-in times taken; events go to the canary slots as at check-in
 * (fleet.h, rg_fleet_canary_event); an offer of the release of a
 * channel's newest rollout (at or after its creation, unless it completed
 * with every stratum cleared) marks the endpoint's slot ASSIGNED and is
 * cached as offered. Moves pos on. Call from one thread at a time.
 * Returns 0 or the store's error (pos kept where it got to). */
int rg__cluster_tail(rg_server *srv, rg__tail_pos *pos, rg_err *err);

#endif
