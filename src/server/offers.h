/*
 * offers.h - what the server offered each endpoint: the only evidence it
 * can vouch for (DESIGN.md, health analysis 2).
 *
 * A check-in answer offers an endpoint its desired releases. The first
 * time a release is offered to an endpoint the offer is written to the
 * store (rg_store_offers_record, durable before the answer leaves, so it
 * survives kill -9) and then cached in the fleet table (rg_fleet_offer).
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

/* Records p's releases as offered at now_ms: in the store first (skipping
 * those it already has, so a restart costs reads, not writes), then in the
 * fleet table. Call before the answer is sent. Returns 0 or the store's
 * error (then nothing is cached and the answer must not be sent). */
int rg_offers_commit(rg_offers_pending *p, int64_t now_ms, rg_err *err);

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
