/* cluster_tail.c - see cluster_tail.h. */
#include "server/cluster_tail.h"

#include "common/event_type.h"
#include "server/cluster.h"
#include "server/desired.h"
#include "server/fleet.h"

#include <stdlib.h>

/* What the offers' tail needs: the channels' newest rollouts. */
typedef struct tail_ctx {
    rg_server *srv;
    rg__tail_pos *pos;
    rg_rollout_rec *ro;
    size_t n_ro;
} tail_ctx;

static int take_endpoint(void *ctx, const rg_endpoint_tail *t)
{
    tail_ctx *x = ctx;
    rg_fleet_remote_seen(x->srv->fleet, &t->e, NULL);
    x->pos->at.endpoints = t->seq;
    x->pos->endpoints++;
    return 0;
}

static int take_event(void *ctx, const rg_event_tail *t)
{
    tail_ctx *x = ctx;
    int type = rg_event_type_parse(t->e.type);
    if (type >= 0)
        rg_fleet_canary_event(x->srv->fleet, t->e.endpoint_id, t->e.release_id,
                              type, t->e.received_ms, NULL);
    x->pos->at.events = t->seq;
    x->pos->events++;
    return 0;
}

/* Whether an offer of release at offered_ms admitted its endpoint to one
 * of x's rollouts whose slots still matter. */
static bool admits(const tail_ctx *x, int64_t release, int64_t offered_ms)
{
    rg_strata *strata = rg_desired_strata(x->srv->desired);
    for (size_t i = 0; i < x->n_ro; i++) {
        const rg_rollout_rec *ro = &x->ro[i];
        if (ro->release_id == release && offered_ms >= ro->created_ms)
            return ro->status.state != RG_RO_COMPLETED ||
                   !rg_strata_was_settled(strata, ro->id);
    }
    return false;
}

static int take_offer(void *ctx, const rg_offer_rec *o)
{
    tail_ctx *x = ctx;
    rg_fleet *f = x->srv->fleet;
    if (rg_fleet_offer(f, o->endpoint_id, o->release_id, NULL) == 0 &&
        admits(x, o->release_id, o->offered_ms))
        rg_fleet_canary_set(f, o->endpoint_id, o->release_id, RG_CN_ASSIGNED,
                            NULL);
    x->pos->at.offers = o->seq;
    x->pos->offers++;
    return 0;
}

int rg__cluster_tail(rg_server *srv, rg__tail_pos *pos, rg_err *err)
{
    tail_ctx x = {.srv = srv, .pos = pos};
    rg_store *s = srv->store;
    int rc = rg_store_endpoints_after(
        s, pos->at.endpoints, RG_CLUSTER_TAIL_BATCH, take_endpoint, &x, err);
    if (rc == 0)
        rc = rg_store_events_after(s, pos->at.events, RG_CLUSTER_TAIL_BATCH,
                                   take_event, &x, err);
    if (rc == 0)
        rc = rg_desired_rollouts(srv->desired, &x.ro, &x.n_ro, err);
    if (rc == 0)
        rc = rg_store_offers_after(s, pos->at.offers, RG_CLUSTER_TAIL_BATCH,
                                   take_offer, &x, err);
    free(x.ro);
    return rc;
}
