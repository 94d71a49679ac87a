/*
 * fleet_installed.h - the installed releases a record keeps (internal to
 * the fleet_*.c files).
 *
 * A record keeps the first RG_FLEET_CHANNELS channels an endpoint reports,
 * as an interned tuple of (channel name index + 1, release id); the names are
 * interned in f->ch_names, at most RG_FLEET_CHANNEL_NAMES fleet-wide, read
 * without a lock (published by an atomic count) and appended under f->ch_mu.
 * Entries with a release id outside 1..UINT32_MAX, a bad channel name or no
 * room left are dropped.
 */
#ifndef RG_FLEET_INSTALLED_H
#define RG_FLEET_INSTALLED_H

#include "server/fleet_table.h"

#define RG__FLEET_INSTALLED_JSON_MAX 512

/* Stores up to RG_FLEET_CHANNELS of the n entries in r (an interned
 * tuple of s, fleet_tuple.h). Caller holds s->mu. Returns 0 or RG_ENOMEM
 * (r unchanged). */
int rg__fleet_set_installed(rg_fleet *f, rg__fleet_shard *s, rg__ep *r,
                            const rg_fleet_installed *in, size_t n);

/* Whether r already holds what rg__fleet_set_installed would store. */
bool rg__fleet_same_installed(rg_fleet *f, rg__fleet_shard *s, const rg__ep *r,
                              const rg_fleet_installed *in, size_t n);

/* Parses a stored installed map {"ch": {"release": N, ...}, ...}; entries
 * it cannot read are skipped. Returns how many it filled. */
size_t rg__fleet_parse_installed(const char *text,
                                 rg_fleet_installed out[RG_FLEET_CHANNELS]);

/* Writes r's installed map as JSON into out
 * (RG__FLEET_INSTALLED_JSON_MAX bytes). Caller holds s->mu. */
void rg__fleet_installed_json(rg_fleet *f, rg__fleet_shard *s, const rg__ep *r,
                              char *out);

#endif
