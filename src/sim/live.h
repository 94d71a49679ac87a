/*
 * live.h - rollgate-sim's live mode: N lightweight simulated agents over
 * real HTTP against a running rollgated, for load tests and the demo.
 *
 * Each agent enrolls (POST /v1/agent/enroll with the enrollment key; its
 * stratum is one of the configured os/os_version/arch triples, round
 * robin; the first `internal` agents carry the `internal` tag), then checks
 * in every interval (the server's interval_s, or --interval) with +-20%
 * jitter. When the desired release of a channel differs from what it has,
 * it downloads the artifact (GET url, bearer token), reports `applying`,
 * and after one more interval reports the outcome:
 *  - the artifact has a line `FAULT crash S` (S its stratum, or `*`): the
 *    agent goes silent for crash_checkins intervals (its process crashes,
 *    it restarts K times), then reverts and reports `crashed`;
 *  - `FAULT fail S`: it reports `failed` and stays on what it had;
 *  - otherwise `healthy`, and it runs the release.
 * --fault none ignores the markers; --fault crash / fail applies that
 * fault to every faulty marker whatever its kind. When the desired release
 * goes back (a revert), the agent returns to it at once.
 *
 * A few threads, each with its own curl handle and its own agents, do the
 * work; a progress line on stderr every 2 s: agents enrolled, check-ins,
 * errors, agents per installed release, crashed ones. Stops by itself
 * after duration_s.
 */
#ifndef RG_SIM_LIVE_H
#define RG_SIM_LIVE_H

#include "common/err.h"

#include <stdbool.h>
#include <stdint.h>

#define RG_LIVE_MAX_AGENTS 20000
#define RG_LIVE_MAX_STRATA 16

enum {
    RG_LIVE_FAULT_MARKER = 0,
    RG_LIVE_FAULT_NONE,
    RG_LIVE_FAULT_CRASH,
    RG_LIVE_FAULT_FAIL
};

typedef struct rg_live_options {
    const char *server;     /* base URL, e.g. http://127.0.0.1:7400 */
    const char *enroll_key; /* required */
    const char *prefix;     /* endpoint ids are <prefix>-<n>; "sim" */
    uint32_t endpoints;     /* 1..RG_LIVE_MAX_AGENTS */
    uint32_t internal;      /* the first ones carry the `internal` tag */
    int interval_s;         /* 0: the server's */
    int duration_s;         /* > 0 */
    int threads;            /* 1..64; default 4 */
    int fault;              /* RG_LIVE_FAULT_* */
    int crash_checkins;     /* silent check-ins before `crashed`; 3 */
    size_t n_strata;        /* "os:os_version:arch" triples */
    const char *strata[RG_LIVE_MAX_STRATA];
    bool progress;
} rg_live_options;

/* Runs the agents until duration_s. Returns 0 when every agent enrolled
 * (check-in errors are counted and shown, not fatal), RG_EINVAL for bad
 * options, RG_EIO when enrollment failed. */
int rg_live_run(const rg_live_options *o, rg_err *err);

#endif
