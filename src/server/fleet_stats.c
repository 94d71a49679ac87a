/* fleet_stats.c - the fleet table's counters (fleet.h:
 * rg_fleet_stats_get, rg_fleet_size). */
#include "fleet_table.h"

#include <string.h>

void rg_fleet_stats_get(rg_fleet *f, rg_fleet_stats *out)
{
    memset(out, 0, sizeof *out);
    out->endpoints = atomic_load(&f->size);
    out->checkins = atomic_load(&f->checkins);
    out->page_scans = atomic_load(&f->page_scans);
    out->flushes = atomic_load(&f->flushes);
    out->flushed_records = atomic_load(&f->flushed_records);
    out->flush_errors = atomic_load(&f->flush_errors);
    out->last_flush_ms = atomic_load(&f->last_flush_ms);
    out->max_flush_ms = atomic_load(&f->max_flush_ms);
    for (size_t i = 0; i < RG_FLEET_SHARDS; i++) {
        pthread_mutex_lock(&f->shards[i].mu);
        out->dirty += f->shards[i].n_dirty;
        pthread_mutex_unlock(&f->shards[i].mu);
    }
}

uint64_t rg_fleet_size(rg_fleet *f)
{
    return atomic_load(&f->size);
}
