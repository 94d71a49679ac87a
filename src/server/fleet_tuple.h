/*
 * fleet_tuple.h - a shard's interned tuples (internal to the fleet_*.c
 * files): the installed sets and offered lists its records share.
 *
 * Most endpoints of a fleet have the same releases installed and were
 * offered the same ones, so a record holds a tuple number (4 bytes) in
 * place of the tuple (20). Tuples are counted references: a record takes
 * one (rg__fleet_tuple_take) and gives it back when it moves to another
 * (rg__fleet_tuple_drop); a tuple no record holds is freed and its number
 * reused, so the table never holds more tuples than the shard has records.
 * Number 0 is the empty tuple and is never stored. An open-addressing
 * index (linear probing, backward-shift deletion) finds a tuple by its
 * content. Every function expects the shard's mutex held.
 */
#ifndef RG_FLEET_TUPLE_H
#define RG_FLEET_TUPLE_H

#include "server/fleet_table.h"

/* Tuple number no of s (the empty tuple for 0), borrowed until the shard
 * changes. */
const rg__fleet_tuple *rg__fleet_tuple_at(const rg__fleet_shard *s,
                                          uint32_t no);

/* Takes a reference on the tuple equal to key (refs ignored), interning it
 * when new; *no receives its number (0 for an empty key, which takes
 * nothing). Returns 0 or RG_ENOMEM (nothing taken). */
int rg__fleet_tuple_take(rg__fleet_shard *s, const rg__fleet_tuple *key,
                         uint32_t *no);

/* Gives back a reference on tuple no (0: nothing); the last one frees it. */
void rg__fleet_tuple_drop(rg__fleet_shard *s, uint32_t no);

/* Makes *held hold key: takes key's tuple, then drops the one held before.
 * Returns 0 or RG_ENOMEM (*held unchanged). */
int rg__fleet_tuple_set(rg__fleet_shard *s, uint32_t *held,
                        const rg__fleet_tuple *key);

/* Frees s's tuples and their index. */
void rg__fleet_tuple_release(rg__fleet_shard *s);

#endif
