/*
 * cohort.h - the cohort tracker: the one implementation of a rollout's
 * exposure counting, fed and read by rollgated (server/canary.c) and
 * rollgate-sim (sim/sim.c) alike (docs/health.md, "One cohort tracker").
 *
 * It keeps, for one rollout: every exposure taken in (its endpoint, its
 * stratum, its `applying` time a), the judged span [a + A, a + A + W) of
 * each one not yet resolved with its RG_TALLY_CONTROLS matched control
 * endpoints, the resolved windows in cells per stratum and period
 * (tally.h), and the failure evidence per stratum (current wave, earlier
 * waves). All times are milliseconds of the caller's clock.
 *
 * What the caller does: at every tick, in this order, it hands over the
 * fleet's members (rg_cohort_members: endpoint handle, stratum, id key;
 * the tracker orders them canonically, so the same fleet gives the same
 * control draws whatever order the caller found them in), the exposures
 * it has not handed over yet (rg_cohort_expose, with A and W), the
 * failure reports it has not counted yet (rg_cohort_failed), then calls
 * rg_cohort_tick and reads the gate's input (rg_cohort_entries). It
 * answers the tracker's questions about one endpoint through an
 * rg_cohort_src: its last two contacts, its reports, whether it is in the
 * rollout. The server answers from its fleet table, the simulator from
 * its arrays; the counting itself is here, once.
 *
 * Controls: the j-th control of an exposure of endpoint key k is the
 * member of its stratum at index murmur3(k, j + 1) mod the stratum's size,
 * members ordered by their key (rg_cohort_key: murmur3 of the endpoint id).
 * It counts when it is not the exposed endpoint nor an earlier pick of
 * the same exposure (controls are distinct endpoints), not in the rollout, and
 * was heard from within RG_TALLY_FRESH_NUM / _DEN check-in intervals
 * before a (rg_tally_control_fresh), all as of the tick that takes the
 * exposure in; when a first span is resolved, only if the rollout has
 * not assigned it since (its `applying` and `healthy` are contacts its own
 * rollout caused).
 *
 * Heard: every tick inside a span records which of the exposed endpoint
 * and its controls had a contact in it (the caller keeps only the last
 * two); the span is resolved at the first tick at or after its end
 * (rg_silence_outcome; a healthy report inside the span is a contact).
 *
 * Soak: an exposure resolved healthy whose soak (rg_cohort_soak) goes on
 * past its span is judged once more, on a soak span of the same W ending
 * at the soak's end, [max(end, a + soak - W), ... + W), against its
 * controls that were heard in its first span and that the rollout has
 * not assigned (in_rollout) by the soak span's first tick, when they are
 * fixed: both cohorts heard then, each silent in the soak span when it
 * has no contact in it. An endpoint that went dark after its healthy
 * report is silent there where its controls keep checking in.
 * (Assignment needs a check-in, so the controls left out lean active and
 * those kept towards silence: the comparison can only err towards
 * passing, never towards a false halt; where the rollout has assigned
 * every control, as after completing at 100 %, the soak span has none
 * and says nothing about silence.) The soak span is a matched set of its
 * stratum's soak stream (rg_stratum_counts.soak_sets), and its window
 * counts in the cell of the period it ends in, in the wave current then
 * (whichever wave the exposure was in); an endpoint that reported a
 * failure by then is left out (its failure counts once, as reported)
 * (docs/health.md, "Soak").
 *
 * Activation: A is the release's declared maximum, or learned here from
 * the exposures taken in (silence.h rg_act_learner, one per stratum and
 * one for the fleet), so rollgated and rollgate-sim learn it alike;
 * spans taken in before a proof start once it is made. An exposure is
 * late at a candidate t when it failed, or was heard from in
 * [a + t, a + t + W) without having reported healthy by its end; it is
 * counted at age t + W (docs/health.md: lost check-ins do not make it
 * late, a host that crashes silent is caught by its silent span).
 *
 * Cost per tick: O(members) to order them (radix sort) plus O(open spans
 * x controls not yet heard); memory 16 bytes per member handed over and
 * about 100 bytes per open span.
 *
 * Pure: no I/O, no clock, no globals; one tracker per thread.
 */
#ifndef RG_HEALTH_COHORT_H
#define RG_HEALTH_COHORT_H

#include "health/analyzer.h"
#include "health/silence.h"
#include "health/tally.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rg_cohort rg_cohort;

/* What the caller knows of one endpoint now. */
typedef struct rg_cohort_seen {
    int64_t last_ms, prev_ms; /* its last two contacts; 0: none */
    int64_t healthy_ms;       /* when `healthy` arrived; 0: never */
    bool failed;              /* reported failed, reverted or crashed */
    bool in_rollout;          /* assigned or exposed: never a control */
} rg_cohort_seen;

/* The caller's answers: seen fills *out for handle ref and returns 0,
 * or returns non-zero for an endpoint it no longer knows; contacts fills
 * only its last two contacts (the question asked most: of every control
 * not heard yet at every tick), the same way. */
typedef struct rg_cohort_src {
    void *ctx;
    int (*seen)(void *ctx, uint32_t ref, rg_cohort_seen *out);
    int (*contacts)(void *ctx, uint32_t ref, int64_t *last_ms,
                    int64_t *prev_ms);
    /* Told of each exposed span as it is resolved (silent or not); may be
     * NULL. */
    void (*judged)(void *ctx, uint32_t ref, bool silent);
} rg_cohort_src;

/* One member of the fleet handed to rg_cohort_members. */
typedef struct rg_cohort_member {
    uint64_t key; /* rg_cohort_key of its id */
    uint32_t ref; /* the caller's handle */
    uint32_t stratum;
} rg_cohort_member;

/* Whether an endpoint whose last two contacts were at last_ms and prev_ms
 * (0: none) had one in [from_ms, end_ms) (rg_silence_heard). */
bool rg_cohort_heard(int64_t last_ms, int64_t prev_ms, int64_t from_ms,
                     int64_t end_ms);

/* The canonical key of an endpoint id (two murmur3 of its bytes). */
uint64_t rg_cohort_key(const char *id);

/* Creates an empty tracker for a fleet of up to max_strata (at most
 * 65536) strata.
 * Returns NULL when out of memory. Free with rg_cohort_free (NULL: no-op). */
rg_cohort *rg_cohort_new(uint32_t max_strata);
void rg_cohort_free(rg_cohort *t);

/* Starts counting a wave that began at begin_ms: the cells of the last
 * one are cleared, and its exposures (apply before begin_ms) and their
 * failures become earlier waves' evidence (prior_trials, prior_failed). */
void rg_cohort_wave(rg_cohort *t, int64_t begin_ms);

/* Hands over the fleet's members m[0..n) (taken over: sorted in place and
 * kept until the next call, which the caller must not free before),
 * stratum < max_strata each, with n_strata strata in use. */
void rg_cohort_members(rg_cohort *t, rg_cohort_member *m, size_t n,
                       uint32_t n_strata);

/* Sets the activation allowance's parameters (p copied; its cap is the
 * largest learned A) and the release's declared activation maximum
 * (declared_ms < 0: none, A is learned), for exposures taken in from
 * now on. Defaults: rg_silence_params_default, none declared. */
void rg_cohort_activation(rg_cohort *t, const rg_silence_params *p,
                          int64_t declared_ms);

/* A of an exposure of stratum taken in now (rg_silence_allowance_ms of
 * the declared maximum, the stratum's learner and the fleet's); *final
 * (may be NULL): whether it is final (rg_silence_allowance_final). */
int64_t rg_cohort_allowance_ms(const rg_cohort *t, uint32_t stratum,
                               bool *final);

/* Takes in the exposure of endpoint (ref, key, stratum) that began at
 * apply_ms, judged on [apply_ms + A, ... + window_ms) (A:
 * rg_cohort_allowance_ms; when not final yet, the span starts at
 * max(apply_ms + A, the tick that makes it final) once one does), its
 * controls eligible when heard within the freshness of interval_ms;
 * no controls when the span ended by now_ms (taken in late: after a
 * restart). Returns 0 or -1 when out of memory (nothing changed). */
int rg_cohort_expose(rg_cohort *t, const rg_cohort_src *src, uint32_t ref,
                     uint64_t key, uint32_t stratum, int64_t apply_ms,
                     int64_t window_ms, int64_t interval_ms, int64_t now_ms);

/* Counts a failure report of an exposed endpoint of stratum whose
 * exposure began at apply_ms (once per endpoint): the current wave's
 * when apply_ms >= the wave's begin, else an earlier wave's. */
void rg_cohort_failed(rg_cohort *t, uint32_t stratum, int64_t apply_ms);

/* Tick at now_ms: the learners count every exposure at each step age
 * it reached (silence.h; nothing when the activation is declared), the
 * spans whose A became final start (rg_cohort_expose), then it records
 * who was heard in every open span and resolves the spans that ended.
 * Returns 0 or -1 when out of memory. */
int rg_cohort_tick(rg_cohort *t, const rg_cohort_src *src, int64_t now_ms);

/* Drops the control windows counted so far and those of spans that had
 * ended by now_ms (rollgated restarted: its state is rebuilt from the
 * stored events, and windows that ended before are resolved without
 * control windows; used by rollgate-sim's server_restart). */
void rg_cohort_restarted(rg_cohort *t, int64_t now_ms);

/* The gate's input (rg_tally_entries) for strata names[0..n_strata)
 * (borrowed by the entries): per stratum and period the resolved windows
 * and their control windows, the pending exposures of the current wave,
 * its failures that no failed window shows (early_failed, at most its
 * exposures not counted failed) and the earlier waves' trials and
 * failures. Written to out (room for max); returns the number of
 * entries, or 0 when out of memory. */
size_t rg_cohort_entries(rg_cohort *t, const char *const *names,
                         uint32_t n_strata, rg_stratum_counts *out, size_t max);

/* Sets the plan's soak (plan.h soak_ms; 0, the default: none) for
 * spans resolved from now on. */
void rg_cohort_soak(rg_cohort *t, int64_t soak_ms);

/* Whether the rollout is still soaking at now_ms: its newest exposure is
 * younger than the soak, or a soak span is still open. The gate keeps
 * judging a completed rollout while it is (rg_canary_soaking). */
bool rg_cohort_soaking(const rg_cohort *t, int64_t now_ms);

/* Exposed windows resolved silent so far, over all waves. */
uint64_t rg_cohort_silent_total(const rg_cohort *t);

#endif
