/*
 * flag_floor.h - the stratified floor of a guarded flag rollout
 * (docs/flags.md): from the plan's first non-internal wave on, every
 * stratum, however small, gets early canaries, as a release's does
 * (model/exposure.h, the same code and defaults). A flag's share is one
 * percentage for the whole fleet, so the endpoints that the stratum's
 * raised share holds beyond it are named one by one: the flag gets a
 * userWithId strategy listing them (flag_strategy.h), and the check-in
 * path counts them as exposed (flag_rollout.c).
 */
#ifndef RG_FLAG_FLOOR_H
#define RG_FLAG_FLOOR_H

#include "common/err.h"
#include "model/plan.h"
#include "server/fleet.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The floor of the rollout of flag name (plan, in wave `wave` at
 * share_ppm; from_pct: the share the flag had before the rollout): the
 * ids of the fleet's endpoints whose flag bucket (flags/share.h) is
 * below their stratum's share as rg_exposure_stratum_share raises it
 * (default exposure parameters) and at least both the wave's share and
 * from_pct, i.e. those the floor alone turns on. Two scans of the fleet.
 * *ids receives a malloc'd array of *n malloc'd ids in strcmp order
 * (free with rg_flag_floor_free); NULL when *n is 0. Returns 0 or
 * RG_ENOMEM. */
int rg_flag_floor(rg_fleet *fleet, const char *name, const rg_plan *plan,
                  int wave, uint32_t share_ppm, uint32_t from_pct, char ***ids,
                  size_t *n, rg_err *err);

/* Frees ids[0..n) and ids. */
void rg_flag_floor_free(char **ids, size_t n);

/* Whether id is in ids[0..n) (strcmp order). */
bool rg_flag_floor_has(char *const *ids, size_t n, const char *id);

#endif
