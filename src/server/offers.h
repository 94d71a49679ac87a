/*
 * offers.h - what the server offered each endpoint: the only evidence it
 * can vouch for (DESIGN.md, health analysis 2).
 *
 * A check-in answer offers an endpoint its desired releases. The first
 * time a release is offered to an endpoint the offer is written to the
 * store (the check-in's group-commit write, durable before the answer
 * leaves, so it survives kill -9) and then cached in the fleet table
 * (rg_fleet_offer).
 * An agent event counts only for a release offered to its endpoint, and an
 * endpoint downloads only artifacts of releases offered to it: what an
 * endpoint claims (installed, events) never admits it to anything.
 *
 * Thread-safe (the fleet table and the store are).
 */
#ifndef RG_OFFERS_H
#define RG_OFFERS_H

#include "common/err.h"
#include "server/server.h"
#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

#define RG_OFFERS_PENDING_MAX 64 /* releases one answer may offer */

/* The releases one check-in answer offers that were not yet recorded. */
typedef struct rg_offers_pending {
    rg_server *srv;
    const char *id; /* endpoint, borrowed */
    size_t n;
    int64_t release[RG_OFFERS_PENDING_MAX];
} rg_offers_pending;

/* An rg_desired_offer callback (ctx: an rg_offers_pending): notes release
 * when the fleet table does not already know it was offered. Returns 0,
 * RG_ETOOBIG past RG_OFFERS_PENDING_MAX, or the fleet's error. */
int rg_offers_collect(void *ctx, int64_t release, rg_err *err);

/* Sets w's offers (w->offer_*) to p's releases, offered at now_ms: the
 * write (store.h, group commit; an offer already stored keeps its first
 * time) that must be durable before the answer is sent. w points into p
 * then. Returns how many releases (0: nothing to write). */
size_t rg_offers_write(rg_offers_pending *p, int64_t now_ms, rg_store_write *w);

/* Once that write is durable: caches p's releases as offered in the fleet
 * table. Returns 0 or the fleet's error. */
int rg_offers_cache(rg_offers_pending *p, rg_err *err);

/* What the server can vouch for about endpoint id and release. */
enum {
    RG_OFFER_YES = 0,     /* offered: its events count */
    RG_OFFER_NOT_OFFERED, /* a known release never offered to it */
    RG_OFFER_UNKNOWN,     /* a release the store does not know */
};

/* Returns RG_OFFER_YES, RG_OFFER_NOT_OFFERED, RG_OFFER_UNKNOWN, or a
 * negative rg_code (err filled). */
int rg_offers_vouch(rg_server *srv, const char *id, int64_t release,
                    rg_err *err);

/* Whether endpoint id may download artifact sha (64 hex): some release
 * offered to it (or in one of its canary slots) has that digest. Returns
 * 1, 0, or a negative rg_code (err filled). */
int rg_offers_artifact(rg_server *srv, const char *id, const char *sha,
                       rg_err *err);

#endif
