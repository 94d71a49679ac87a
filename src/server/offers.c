/* offers.c - see offers.h. */
#include "offers.h"

#include "common/crypto.h"
#include "server/fleet.h"
#include "store/store.h"

#include <stdlib.h>

int rg_offers_collect(void *ctx, int64_t release, rg_err *err)
{
    rg_offers_pending *p = ctx;
    int rc = rg_fleet_offered(p->srv->fleet, p->id, release, err);
    if (rc != 0)
        return rc < 0 ? rc : 0;
    for (size_t i = 0; i < p->n; i++)
        if (p->release[i] == release)
            return 0;
    if (p->n == RG_OFFERS_PENDING_MAX)
        return rg_err_set(err, RG_ETOOBIG,
                          "endpoint '%.64s': more than %d releases offered "
                          "at once",
                          p->id, RG_OFFERS_PENDING_MAX);
    p->release[p->n++] = release;
    return 0;
}

size_t rg_offers_write(rg_offers_pending *p, int64_t now_ms, rg_store_write *w)
{
    w->offer_endpoint = p->id;
    w->offers = p->release;
    w->n_offers = p->n;
    w->offer_ms = now_ms;
    return p->n;
}

int rg_offers_cache(rg_offers_pending *p, rg_err *err)
{
    int rc;
    for (size_t i = 0; i < p->n; i++)
        if ((rc = rg_fleet_offer(p->srv->fleet, p->id, p->release[i], err)) < 0)
            return rc;
    return 0;
}

int rg_offers_vouch(rg_server *srv, const char *id, int64_t release,
                    rg_err *err)
{
    int rc = rg_fleet_offered(srv->fleet, id, release, err);
    if (rc != 0)
        return rc < 0 ? rc : RG_OFFER_YES;
    rc = rg_store_offer_check(srv->store, id, release, err);
    if (rc != RG_ENOTFOUND)
        return rc < 0 ? rc : RG_OFFER_YES;
    rg_release_rec *r = malloc(sizeof *r);
    if (!r)
        return rg_err_set(err, RG_ENOMEM, "out of memory");
    rc = rg_store_release_get(srv->store, release, r, err);
    free(r);
    if (rc == RG_ENOTFOUND)
        return RG_OFFER_UNKNOWN;
    return rc < 0 ? rc : RG_OFFER_NOT_OFFERED;
}

int rg_offers_artifact(rg_server *srv, const char *id, const char *sha,
                       rg_err *err)
{
    int64_t ids[RG_FLEET_OFFERED + RG_FLEET_CANARY_SLOTS];
    size_t n = 0;
    int rc = rg_fleet_releases_of(srv->fleet, id, ids, sizeof ids / sizeof *ids,
                                  &n, err);
    if (rc < 0)
        return rc;
    rg_release_rec *r = malloc(sizeof *r);
    if (!r)
        return rg_err_set(err, RG_ENOMEM, "out of memory");
    for (size_t i = 0; i < n && rc == 0; i++)
        if (rg_store_release_get(srv->store, ids[i], r, NULL) == 0 &&
            rg_ct_streq(r->sha256, sha))
            rc = 1;
    free(r);
    if (rc == 1)
        return 1;
    rc = rg_store_offer_artifact(srv->store, id, sha, err);
    return rc == 0 ? 1 : rc == RG_ENOTFOUND ? 0 : rc;
}
