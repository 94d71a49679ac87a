/*
 * tally.h - the counting rules of the cohort tracker (health/cohort.h),
 * which the server (server/canary.c) and rollgate-sim (sim/sim.c) both
 * feed and read: how a wave's exposures and their matched control
 * windows become the health gate's per-stratum input (analyzer.h).
 *
 * The rules (docs/health.md, "What is counted"):
 *  - an exposure begins at `applying`; it is judged on the span
 *    [s, s + W] after its activation allowance (health/silence.h) and
 *    resolved when the span ends (rg_silence_outcome): failed (a failure
 *    was reported by then; this beats everything), healthy (healthy
 *    reported by then and heard during the span), silent otherwise. The
 *    resolved window goes to the cell of its stratum and of the period in
 *    which it ended (rg_tally_period), with its matched control windows
 *    judged on the same span;
 *  - failures need no window: a failure reported by an exposed endpoint
 *    of the current wave whose window does not show it (still open, or it
 *    ended healthy or silent) counts at once as early_failed; one of an
 *    endpoint exposed in an earlier wave adds to prior_failed. Every
 *    exposed endpoint is a failure trial from its exposure on: pending
 *    ones in `pending`, earlier waves' in prior_trials (all of them, their
 *    windows ended or not);
 *  - every resolved window of the rollout, whatever its wave, is also a
 *    matched set of the silence halt test (health/msprt.h): the exposed
 *    window's outcome (silent or not), its counted controls and how many
 *    of them were silent; kept per stratum for the whole rollout, first
 *    spans and soak spans (health/cohort.h) in two streams;
 *  - the gate's input (rg_tally_entries): per stratum, one entry per
 *    period with something in it, in period order; pending exposures on
 *    the last, early_failed / prior_trials / prior_failed / sets on the
 *    first.
 *
 * Pure: no I/O, no clock, no globals; thread-safe.
 */
#ifndef RG_HEALTH_TALLY_H
#define RG_HEALTH_TALLY_H

#include "health/analyzer.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The counting settings, one set for rollgated and rollgate-sim
 * (docs/health.md, "Control endpoints"). Compile-time: change them here. */
#define RG_TALLY_CONTROLS 16 /* matched control windows per exposure */
#define RG_TALLY_FRESH_NUM 3 /* a control is eligible when heard from */
#define RG_TALLY_FRESH_DEN 2 /* within NUM / DEN check-in intervals */

/* Outcome of an exposure window. */
enum { RG_TALLY_HEALTHY, RG_TALLY_FAILED, RG_TALLY_SILENT };

/* Counts of one stratum in one period of the current wave: the windows
 * that ended in it and their matched control windows. */
typedef struct rg_tally_cell {
    uint32_t stratum, period;
    uint64_t healthy, failed, silent, control_windows, control_silent;
} rg_tally_cell;

/* What a stratum adds beside its cells. */
typedef struct rg_tally_stratum {
    const char *name;        /* borrowed by the entries */
    uint64_t pending;        /* current-wave exposures whose window is open */
    uint64_t early_failed;   /* failures of current-wave exposures that no
                                failed window shows (analyzer.h) */
    uint64_t prior_trials;   /* exposed endpoints of earlier waves */
    uint64_t prior_failed;   /* failures they reported so far */
    rg_msprt_sets sets;      /* matched sets of every wave (analyzer.h) */
    rg_msprt_sets soak_sets; /* those of soak spans (analyzer.h) */
} rg_tally_stratum;

/* Whether a control endpoint last heard from at last_seen_ms (<= 0:
 * never) is eligible for an exposure that began at apply_ms in a stratum
 * whose typical check-in interval is interval_ms (rg_interval_typical):
 * heard within RG_TALLY_FRESH_NUM / RG_TALLY_FRESH_DEN intervals before
 * apply_ms (or after it). Whether it is outside the rollout is the
 * caller's test. */
bool rg_tally_control_fresh(int64_t last_seen_ms, int64_t apply_ms,
                            int64_t interval_ms);

/* Periods per wave with n_strata strata (later windows join the last):
 * as many as let the gate's input (one entry per stratum and period, plus
 * one per stratum) fit in RG_ANALYZER_MAX_STRATA; at least 1. */
uint32_t rg_tally_max_periods(uint32_t n_strata);

/* The period (0..max_periods - 1) of a window that ended at end_ms in a
 * wave that began at begin_ms with windows of window_ms (> 0): one period
 * per W since the wave began; windows that end before the wave began
 * count in period 0, those past the last period in the last one. */
uint32_t rg_tally_period(int64_t end_ms, int64_t begin_ms, int64_t window_ms,
                         uint32_t max_periods);

/* The gate's input from n cells (any order; sorted in place) and n_strata
 * strata (cells[i].stratum < n_strata): per stratum in index order, one
 * entry per period in order (cells with neither a resolved window nor a
 * control window are left out), pending on its last entry, early_failed,
 * prior_* and sets on its first; a stratum with only pending or
 * earlier-wave exposures or sets gets one entry of those; strata with nothing
 * are left out. out has room for max entries (never written past). Returns the
 * number of entries written. */
size_t rg_tally_entries(rg_tally_cell *cells, size_t n,
                        const rg_tally_stratum *strata, uint32_t n_strata,
                        rg_stratum_counts *out, size_t max);

#endif
