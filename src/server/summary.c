/* summary.c - see summary.h. */
#include "summary.h"

#include "model/rollout.h"
#include "server/desired.h"
#include "server/fleet.h"
#include "server/orchestrator.h"
#include "server/strata.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct scan_ctx {
    const rg_rollout_rec *r;
    bool judging;      /* rg_orchestrator_judges */
    rg_strata *strata; /* the strata's states (strata.h) */
    rg_summary *out;
} scan_ctx;

/* Whether the desired state gives r's release to the endpoint of view v
 * now (desired.c): everyone once r completed with every stratum cleared;
 * otherwise those admitted (canary slot ASSIGNED: inside the share, the
 * stratified floor or a completed rollout's strata) that r lets keep it
 * (rg_rollout_keeps, their stratum's state from strata.h). */
static bool targeted(const scan_ctx *x, const rg_fleet_view *v,
                     const rg_fleet_canary *cn)
{
    const rg_rollout_rec *r = x->r;
    if (r->status.state == RG_RO_COMPLETED &&
        rg_strata_was_settled(x->strata, r->id))
        return true;
    if (!cn || !(cn->flags & RG_CN_ASSIGNED))
        return false;
    int sst = rg_strata_get(x->strata, r->id, v->stratum);
    return rg_rollout_keeps(&r->plan, &r->status,
                            sst < 0 || sst == RG_STRATUM_HALTED);
}

static int scan_one(void *ctx, const rg_fleet_view *v)
{
    scan_ctx *x = ctx;
    rg_summary *s = x->out;
    const rg_fleet_canary *cn = rg_fleet_canary_of(v, x->r->release_id);
    s->total.targeted += targeted(x, v, cn);
    rg_ep_state st = rg_ep_tally_add(&s->total.by_state, cn, x->judging);
    if (st != RG_EP_NONE && v->stratum < s->n_strata)
        s->strata[v->stratum].n[st]++;
    return 0;
}

int rg_summary_measure(rg_server *srv, const rg_rollout_rec *r, rg_summary *out,
                       rg_err *err)
{
    memset(out, 0, sizeof *out);
    int rc =
        rg_store_event_counts(srv->store, r->release_id, &out->reports, err);
    if (rc < 0)
        return rc;
    /* A stratum added during the scan is counted in the total only. */
    out->n_strata = rg_fleet_strata(srv->fleet);
    if (out->n_strata &&
        !(out->strata = calloc(out->n_strata, sizeof *out->strata)))
        return rg_err_set(err, RG_ENOMEM, "out of memory");
    scan_ctx x = {.r = r,
                  .judging =
                      rg_orchestrator_judges(srv, r, rg_clock_now(srv->clock)),
                  .strata = rg_desired_strata(srv->desired),
                  .out = out};
    rg_fleet_scan(srv->fleet, scan_one, &x);
    out->total.fleet = rg_fleet_size(srv->fleet);
    return 0;
}

void rg_summary_release(rg_summary *out)
{
    free(out->strata);
    memset(out, 0, sizeof *out);
}
