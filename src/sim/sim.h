/*
 * sim.h - rollgate-sim's model mode: one rollout of a scenario's release
 * over a synthetic fleet on a simulated clock, decided by the real state
 * machine (rg_rollout_tick, rg_rollout_assigns, rg_bucket) with the gate of
 * the chosen policy (Rollgate's health gate or a comparison, policy.h).
 *
 * Clock: fixed 1-second steps. The fleet is split into heartbeat_interval_s
 * blocks of consecutive endpoints; block g checks in at every second
 * congruent to g, so each step touches 1/interval of the fleet, in memory
 * order. Everything between heartbeats (end of the apply latency,
 * activation, the end of an exposure window W, a crashed endpoint coming
 * back) is an event in a per-second timer wheel. The orchestrator ticks
 * every scenario tick_s (default 5 s). The rollout starts after two
 * heartbeat intervals of warm-up; reported times count from its start.
 *
 * Endpoint (10 bytes: bucket, last contact, stratum, state): it checks in
 * every interval unless the check-in is lost (independent loss), it is in
 * an offline stretch (each stretch of offline_stretch_s, phase per
 * endpoint, is offline with probability offline_share) or in an outage.
 * At the first check-in at which the rollout assigns it (and, for
 * Rollgate, the stratum's exposure budget admits it) it downloads for a
 * uniform apply latency, then sends `applying` (exposure begins when it
 * gets through; it retries at its next check-ins and never switches
 * before), activates for a uniform healthy_after time, then crashes
 * (silent for crash_revert_s, then reverted and reporting `crashed`),
 * reports `failed`, or reports `healthy` (each report retried at every
 * check-in until it gets through). What real fleets do beyond this
 * (per-stratum intervals and loss, jitter, sleep, VPN flaps, days offline,
 * outages of the exposed cohort, reboots that make an endpoint
 * unreachable, rollgated restarting) is fleetmodel.h; delayed-onset,
 * hanging and unreported faults are fault.h. After a halt with on_halt
 * revert,
 * exposed endpoints return to the previous release at their next
 * check-in and pending applies are cancelled.
 *
 * A guarded flag rollout (scenario release.flag, docs/flags.md) runs
 * through the same code with what differs for a flag: each endpoint's
 * bucket is the flag's (flags/share.h: the wave's share taken as a whole
 * percentage, as the flexibleRollout strategy the endpoint evaluates), no
 * stratified floor, exposure budget or internal ring (the server sends
 * one document to all and cannot admit endpoints one by one), and a crash
 * is the consumer's: the endpoint keeps checking in while its consumer
 * crash-loops, until the agent falls back to the last known good set and
 * reports it (`crashed`, after crash_revert_s). A halt with revert puts
 * the previous share back: exposed endpoints return at their next
 * check-in.
 *
 * Health counts (Rollgate policy): rollgated's own cohort tracker
 * (health/cohort.h) fed with what would reach rollgated: each endpoint's
 * last two contacts, its `healthy` time and its failure report; an
 * exposure is handed over at the tick after its `applying` got through
 * (controls drawn, A and W taken then, as the server's scan does), a
 * failure report when it gets through; the stratum's check-in interval
 * is observed from the contacts as the server observes it. A completed
 * rollout is watched by the gate (rg_rollout_watch) until its newest
 * exposure is the plan's soak old, as rollgated's orchestrator does.
 * tests/unit/test_cohort_replay.c replays a run's stream (the recorder
 * below) through rollgated's counting path and gets the same gate input
 * at every tick.
 *
 * Memory: 26 bytes per endpoint (plus 16 per member kept by the tracker)
 * and the timer wheel (8 bytes per pending event) and about 100 bytes per
 * open judged span.
 */
#ifndef RG_SIM_SIM_H
#define RG_SIM_SIM_H

#include "common/err.h"
#include "health/analyzer.h"
#include "sim/scenario.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* What reached rollgated in a run, as a server would have seen it, for
 * tests that replay it through the server's counting path
 * (tests/unit/test_cohort_replay.c). Times are the simulator's seconds x
 * 1000 (absolute, warm-up included). */
enum {
    RG_SIM_REC_CONTACT,  /* a check-in (or report) got through */
    RG_SIM_REC_ASSIGNED, /* the rollout gave the endpoint the release */
    RG_SIM_REC_APPLYING, /* its `applying` got through */
    RG_SIM_REC_HEALTHY,  /* its first `healthy` got through */
    RG_SIM_REC_FAILED,   /* its `failed` got through */
    RG_SIM_REC_CRASHED,  /* its `crashed` got through */
};

/* One tick of the health gate (Rollgate policy): its input, borrowed for
 * the call. */
typedef struct rg_sim_tick {
    int64_t now_ms;
    int wave;              /* the rollout's wave when the gate ran */
    int64_t wave_begin_ms; /* when it began */
    const rg_stratum_counts *entries;
    size_t n_entries;
    int verdict; /* the gate's (rg_verdict) */
    /* per stratum of the scenario: the activation allowance a new
     * exposure gets now and whether it is final (health/cohort.h) */
    const int64_t *allowance_ms;
    const bool *allowance_final;
} rg_sim_tick;

/* The callbacks: endpoint once per endpoint (index, stratum) before the
 * run, as the fleet would be enrolled; event at every event above; tick
 * at every gate evaluation. */
typedef struct rg_sim_recorder {
    void *ctx;
    void (*endpoint)(void *ctx, uint32_t endpoint, uint32_t stratum);
    void (*event)(void *ctx, uint32_t endpoint, int what, int64_t at_ms);
    void (*tick)(void *ctx, const rg_sim_tick *t);
} rg_sim_recorder;

typedef struct rg_sim_options {
    int policy;    /* rg_sim_policy */
    uint64_t seed; /* the scenario's seed unless seed_set */
    bool seed_set;
    bool progress; /* progress lines on stderr */
    bool trace;    /* every gate reason on stderr, once a minute */
    const rg_sim_recorder *recorder; /* NULL: none */
} rg_sim_options;

#define RG_SIM_NONE (-1) /* a time that did not happen */

/* What a run produced. Times are seconds since the rollout started. */
typedef struct rg_sim_result {
    char scenario[RG_SIM_NAME_MAX];
    int policy;
    uint64_t seed;
    uint32_t endpoints;
    bool faulty; /* the release carries a fault */
    bool halted;
    int64_t halt_time_s;        /* or RG_SIM_NONE */
    uint64_t exposed;           /* endpoints that applied (sent applying) */
    uint64_t failed_or_crashed; /* of those, crashed or failed */
    uint64_t reverted;          /* returned to the previous release */
    bool completed;
    int64_t time_to_complete_s;     /* or RG_SIM_NONE */
    int64_t time_to_99pct_s;        /* first time 99% of online endpoints ran
                                       the release, or RG_SIM_NONE */
    int64_t first_crash_exposure_s; /* or RG_SIM_NONE */
    double final_coverage;          /* share of online endpoints on the release
                                       at the end */
    bool false_halt;                /* halted though the release had no fault */
    char final_state[16];
    int final_wave;
    int64_t end_s;     /* simulated time at the end */
    json_t *decisions; /* array of decisions with evidence; owned */
} rg_sim_result;

/* Runs sc under o. On success returns 0 and fills *out (release it with
 * rg_sim_result_release). Deterministic: the same scenario, policy and
 * seed give the same result, to the bit. Returns RG_EINVAL for a bad
 * option, RG_ENOMEM, or a gate error. */
int rg_sim_run(const rg_scenario *sc, const rg_sim_options *o,
               rg_sim_result *out, rg_err *err);

/* Frees what a result owns; r becomes empty. */
void rg_sim_result_release(rg_sim_result *r);

/* The result as one JSON object (fields as in rg_sim_result, decisions
 * included, times null when they did not happen). New reference or NULL
 * on allocation failure. */
json_t *rg_sim_result_to_json(const rg_sim_result *r);

/* Prints the result as a human table (decisions without evidence). */
void rg_sim_result_print(FILE *f, const rg_sim_result *r);

#endif
