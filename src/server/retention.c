/* retention.c - see retention.h. */
#include "server/retention.h"

#include "common/log.h"
#include "store/store.h"

#include <stdatomic.h>

static _Atomic uint64_t st_pruned;

void rg_retention_run(rg_server *srv, int64_t now_ms)
{
    if (srv->cfg.event_retention_s == 0)
        return;
    rg_err err;
    rg_err_clear(&err);
    size_t n = 0;
    int64_t before = now_ms - (int64_t)srv->cfg.event_retention_s * 1000;
    if (rg_store_events_prune(srv->store, before, RG_RETENTION_BATCH, &n,
                              &err) < 0)
        rg_warn("event retention: %s", err.msg);
    atomic_fetch_add(&st_pruned, n);
    if (rg_store_deliveries_prune(srv->store, before, RG_RETENTION_BATCH, &n,
                                  &err) < 0)
        rg_warn("webhook delivery retention: %s", err.msg);
}

uint64_t rg_retention_pruned(void)
{
    return atomic_load(&st_pruned);
}
