/*
 * knobs.h - reading the scenario fields that model what real fleets do
 * (scenario.h, "What real fleets do"): per-stratum check-in interval and
 * loss, jitter, sleep, VPN flaps, multi-day offline stretches, outages
 * aimed at the exposed cohort, activation, delayed and partly reported
 * faults, a server restart. Internal to src/sim: scenario.c calls these
 * while it reads a scenario. Every reader returns 0, or RG_EINVAL with
 * err->field naming the offending field relative to the object it read;
 * it only reads its JSON argument and writes the scenario's fields.
 */
#ifndef RG_SIM_KNOBS_H
#define RG_SIM_KNOBS_H

#include "common/err.h"
#include "sim/scenario.h"

#include <jansson.h>

/* Reads field of o as [min, max] whole numbers in [0, max] into *lo, *hi
 * (left alone when the field is absent). */
int rg_knobs_range(const json_t *o, const char *field, int max, int *lo,
                   int *hi, rg_err *err);

/* Prefixes err->field and its message with path ("loss.sleep.").
 * Returns err->code (RG_EINVAL without err). */
int rg_knobs_qualify(rg_err *err, const char *path);

/* Stratum k's optional heartbeat_interval_s, loss and endpoints (o is its
 * object). */
int rg_knobs_stratum(const json_t *o, size_t k, rg_scenario *s, rg_err *err);

/* loss.sleep, loss.vpn_flaps, loss.long_offline (l is the loss object). */
int rg_knobs_loss(const json_t *l, rg_scenario *s, rg_err *err);

/* An outage's optional "cohort": "all" or "exposed". */
int rg_knobs_outage(const json_t *o, rg_sim_outage *out, rg_err *err);

/* release.activation (r is the release object). */
int rg_knobs_activation(const json_t *r, rg_scenario *s, rg_err *err);

/* release.healthy_after_dist (r is the release object). */
int rg_knobs_delay(const json_t *r, rg_scenario *s, rg_err *err);

/* A fault's optional hang, onset_s and report. */
int rg_knobs_fault(const json_t *o, rg_sim_fault *f, rg_err *err);

/* The top-level server_restart object (v is the scenario). */
int rg_knobs_restart(const json_t *v, rg_scenario *s, rg_err *err);

/* Checks the fields across objects once everything is read: stratum
 * intervals are multiples of the fleet's, jitter below it; fills the
 * strata's loss from the fleet's where unset. */
int rg_knobs_finish(rg_scenario *s, rg_err *err);

/* Sets the knobs' defaults (nothing of the above happens). */
void rg_knobs_defaults(rg_scenario *s);

#endif
