/*
 * fleet_persist.h - loading the fleet table from the store and writing it
 * back (internal to the fleet_*.c files; rg_fleet_flush is in fleet.h).
 *
 * Nothing is written per check-in: dirty records are written in batches of
 * RG_FLEET_FLUSH_BATCH by rg_fleet_flush (see fleet.h for when a record
 * becomes dirty and what a crash may lose).
 */
#ifndef RG_FLEET_PERSIST_H
#define RG_FLEET_PERSIST_H

#include "server/fleet_table.h"

/* Puts every stored endpoint into f (a bad stored one is skipped with a
 * warning). Returns 0, RG_ENOMEM or the store's error. */
int rg__fleet_load(rg_fleet *f, rg_err *err);

/* Marks the records whose last-seen time a period held back dirty, then
 * flushes everything (errors are logged). */
void rg__fleet_flush_last(rg_fleet *f);

#endif
