/*
 * fault.h - what a faulty release does to one simulated endpoint: its
 * fate (crash, fail, hang or nothing), when the fault strikes (at
 * activation, or onset_s after the endpoint became healthy: delayed-onset
 * failures such as leaks or a crash at the next reboot) and whether the
 * failure is ever reported (a crash whose agent reverts and says nothing,
 * a failure the endpoint never notices).
 *
 * Pure: a function of (scenario, seed, endpoint, stratum) drawn by
 * hashing (rng.h), independent of the order of events. The first fault of
 * the scenario's list that matches decides; crash is tried before fail
 * and hang.
 */
#ifndef RG_SIM_FAULT_H
#define RG_SIM_FAULT_H

#include "sim/scenario.h"

#include <stdbool.h>
#include <stdint.h>

typedef enum rg_fate_kind {
    RG_FATE_OK = 0, /* runs the release healthily */
    RG_FATE_CRASH,  /* crashes and boot-loops until its agent reverts */
    RG_FATE_FAIL,   /* the release fails to work; the agent reverts */
    RG_FATE_HANG,   /* goes dark for good: no check-in, no report */
} rg_fate_kind;

typedef struct rg_fate {
    int kind;      /* rg_fate_kind */
    int onset_s;   /* 0: at activation; else this long after healthy */
    bool reported; /* the agent reports crashed / failed (never for hang) */
} rg_fate;

/* The fate of endpoint i of stratum k under sc's faults and seed. */
rg_fate rg_fault_fate(const rg_scenario *sc, uint64_t seed, uint32_t i, int k);

/* The longest onset of sc's faults, in seconds (0 when none is delayed). */
int rg_fault_max_onset(const rg_scenario *sc);

#endif
