/*
 * flag_strategy.h - the strategy a guarded flag rollout raises, in the
 * flag's stored versions (docs/flags.md): the flag's flexibleRollout
 * strategy whose groupId is the flag's name, and its `rollout`
 * percentage, and the floor's userWithId strategy (flag_floor.h: a
 * userWithId strategy whose groupId is the flag's name, after it, with
 * its constraints and segments). Changing them writes the next version of
 * the flag, as every flag change does (store.h rg_store_flag_put).
 */
#ifndef RG_FLAG_STRATEGY_H
#define RG_FLAG_STRATEGY_H

#include "common/err.h"
#include "store/store.h"

#include <stdbool.h>
#include <stdint.h>

/* What a flag's current version says of its rollout strategy. */
typedef struct rg_flag_strategy {
    int percent;     /* the strategy's rollout 0..100; -1: no such strategy
                        (or not a number in range) */
    bool enabled;    /* the flag's switch */
    int64_t version; /* the flag's current version */
    char *floor;     /* the floor's userIds (malloc'd), NULL: no floor */
} rg_flag_strategy;

/* Frees what rg_flag_strategy_read filled in s. */
void rg_flag_strategy_release(rg_flag_strategy *s);

/* Reads flag name of env (release *out afterwards, whatever this
 * returns). Returns 0, RG_ENOTFOUND (field "name") for an unknown flag,
 * RG_EIO for bad stored JSON, or a store error. */
int rg_flag_strategy_read(rg_store *s, const char *env, const char *name,
                          rg_flag_strategy *out, rg_err *err);

/* Writes the next version of flag name of env: its current definition with
 * the strategy's rollout set to percent, the floor's strategy listing the
 * ids of floor (comma-separated; NULL or "": no floor strategy), and
 * switched off when disable.
 * expect is the version the caller read (RG_ECONFLICT when another is
 * current); audit (actor, action, reason...) is written with it and also
 * names the version's author and reason. Returns 0, RG_ENOTFOUND when the
 * flag or its strategy is gone, or a store error. */
int rg_flag_strategy_write(rg_store *s, const char *env, const char *name,
                           int64_t expect, uint32_t percent, const char *floor,
                           bool disable, const rg_audit_rec *audit,
                           rg_err *err);

#endif
