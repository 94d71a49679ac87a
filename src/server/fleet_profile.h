/*
 * fleet_profile.h - interned attribute sets and strata (internal to the
 * fleet_*.c files; the public accessors are in fleet.h).
 *
 * Endpoints that share an attribute set share one profile (its stored
 * JSON, its stratum os-os_version-arch and whether it is tagged
 * `internal`); at most 1,000,000 profiles and RG_FLEET_MAX_STRATA strata.
 * Both tables only grow, under f->prof_mu.
 */
#ifndef RG_FLEET_PROFILE_H
#define RG_FLEET_PROFILE_H

#include "server/fleet_table.h"

/* Interns attrs; *out receives the profile index and *internal whether it
 * carries the `internal` tag. Caller holds f->prof_mu. Returns 0,
 * RG_ENOMEM or RG_ETOOBIG when a table is full. */
int rg__fleet_profile_intern(rg_fleet *f, const rg_fleet_attrs *a,
                             uint32_t *out, bool *internal, rg_err *err);

/* Frees every profile and stratum name (no lock taken). */
void rg__fleet_profiles_release(rg_fleet *f);

#endif
