/*
 * supply.h - how many fields an event source really supplies, per
 * template type.
 *
 * A channel file declares how many fields a template has; the sensor
 * decides how many an event carries. The 2024 incident was the gap
 * between the two (21 declared, 20 supplied). A supply set records the
 * (template type, field count) pairs seen in recorded events, so coverage
 * (corpus.h) can build events of exactly the shapes the sensor sends.
 * The set owns its memory; release it with rg_supply_release.
 */
#ifndef RG_ENGINE_SUPPLY_H
#define RG_ENGINE_SUPPLY_H

#include "common/err.h"

#include <stddef.h>
#include <stdio.h>

#define RG_ENGINE_SUPPLY_MAX 1024 /* distinct (type, count) pairs */

typedef struct rg_supply_item {
    char *type;     /* owned template type name */
    size_t nfields; /* a field count events of that type carried */
} rg_supply_item;

typedef struct rg_supply {
    rg_supply_item *items;
    size_t n;
} rg_supply;

/* Initialises an empty set. */
void rg_supply_init(rg_supply *s);

/* Frees the set's memory; it is empty again. */
void rg_supply_release(rg_supply *s);

/* Records the shape of one event line (blank and comment lines are
 * ignored). Returns 0, RG_EINVAL/RG_ETOOBIG for a malformed line, or
 * RG_ETOOBIG past RG_ENGINE_SUPPLY_MAX pairs. */
int rg_supply_observe(rg_supply *s, const char *line, rg_err *err);

/* Records every line of in; errors start with "event line N: ". */
int rg_supply_observe_file(rg_supply *s, FILE *in, rg_err *err);

/* Records the built-in sample sensor's recorded events (sensor.h). */
int rg_supply_observe_sensor(rg_supply *s, rg_err *err);

#endif
