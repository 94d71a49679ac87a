/*
 * silence.h - one definition of silence for the exposed and the control
 * cohort (docs/health.md, "One definition of silence"), shared by the
 * server (server/canary.c) and rollgate-sim (sim/sim.c).
 *
 * An exposure that began at a (`applying` received) is PENDING until
 * s = a + A, A its activation allowance (rg_silence_allowance_ms). After
 * s it is judged on the span [s, s + W), W its window
 * (rg_silence_window_ms), exactly like each of its matched control
 * endpoints on the same span: a control is heard when it checked in
 * during the span; the exposed endpoint is heard when it checked in
 * during the span AND has reported healthy by its end
 * (rg_silence_outcome). A reported failure beats everything. A good
 * release is healthy by s (A covers its activation), so its healthy
 * report goes out with the first check-in that gets through in the span
 * (the agent's outbox retries it): the exposed endpoint is then heard
 * exactly when a control would be, and harmless silence (loss, sleep,
 * shutdown, outages) hits both cohorts with the same probability.
 *
 * A is the release's declared maximum activation time when it declares
 * one; otherwise it is learned per stratum (rg_act_learner): the
 * smallest of RG_ACT_STEPS candidates t (geometric from the floor to the
 * cap) for which none of at least rg_act_learner_sample exposures at
 * least t + W old was late at t: heard from (a check-in) in
 * [a + t, a + t + W) without having reported healthy by its end, or
 * failed (the tracker counts, health/cohort.c). Only such an exposure
 * can be silent where its controls are heard (an endpoint not heard in
 * the span is silent as a control would be, unless the activation took
 * it off the network: declare reboots). If that share were at least
 * `late`, a sample of that size would all be on time with probability
 * at most miss / RG_ACT_STEPS, so the learned A leaves an excess of
 * `late` or more with probability at most `miss`, however often it is
 * evaluated (docs/health.md). Exposures count at a fixed age, so fast
 * activators do not bias the sample. A proof, once made, holds. A
 * stratum without one uses the fleet's learner; without either, the cap.
 *
 * Pure: no I/O, no clock, no globals; thread-safe (learners are the
 * caller's).
 */
#ifndef RG_HEALTH_SILENCE_H
#define RG_HEALTH_SILENCE_H

#include <stdbool.h>
#include <stdint.h>

#define RG_SILENCE_UNDECLARED (-1) /* no declared activation maximum */
#define RG_ACT_STEPS 14            /* candidate allowances, floor .. cap */
#define RG_IVL_BINS                                                            \
    64 /* interval histogram: 4 per octave from                                \
          256 ms to 2^24 ms (4.7 h) */

/* Parameters; defaults from rg_silence_params_default (docs/health.md). */
typedef struct rg_silence_params {
    int checkins;     /* k: check-in intervals per window; 3 */
    int64_t floor_ms; /* least allowance; 30 s */
    int64_t cap_ms;   /* largest learned allowance; 600 s */
    double late;      /* share late (healthy after a + t) a learned A
                         may leave; 0.05 */
    double miss;      /* chance it leaves more, per learner; 0.05 */
} rg_silence_params;

/* What one stratum's (or the fleet's) exposures say about their
 * applying -> healthy latency, per candidate allowance (step) j. Zeroed:
 * nothing learned. */
typedef struct rg_act_learner {
    uint32_t aged[RG_ACT_STEPS]; /* exposures counted at step j */
    uint32_t late[RG_ACT_STEPS]; /* of those, late at step j */
    uint8_t covered; /* 1 + the smallest step proved (kept once proved);
                        0: none */
} rg_act_learner;

/* Observed check-in intervals (gap between an endpoint's last two
 * check-ins) of one stratum. */
typedef struct rg_interval_hist {
    uint32_t n[RG_IVL_BINS];
    double sum[RG_IVL_BINS];
} rg_interval_hist;

void rg_silence_params_default(rg_silence_params *p);

/* Adds one endpoint's gap (ms; <= 0: nothing). */
void rg_interval_add(rg_interval_hist *h, int64_t gap_ms);

/* Removes a gap added before (an endpoint's gap changed: rollgate-sim
 * keeps its histograms up to date at every contact instead of
 * rebuilding them at every tick as rollgated's scan does). Sums of whole
 * milliseconds stay exact in a double, so the result is the histogram of
 * the gaps left, to the bit. */
void rg_interval_remove(rg_interval_hist *h, int64_t gap_ms);

/* The stratum's typical interval: the mean of the gaps in the bin that
 * holds their median (exact for endpoints that keep to one interval;
 * sleepers and lost check-ins do not move it), or fallback_ms when h holds
 * nothing. */
int64_t rg_interval_typical(const rg_interval_hist *h, int64_t fallback_ms);

/* W of an endpoint checking in every interval_ms in a wave whose plan
 * says window_ms: the smallest whole number of intervals, at least k, that
 * covers window_ms (window_ms when interval_ms <= 0). Whole intervals: a
 * span [s, s + W) then holds exactly W / interval scheduled check-ins of
 * ANY endpoint, whatever its phase, so the exposed endpoint (whose phase
 * is tied to its `applying`) and its controls (random phases) get the
 * same number of chances to be heard; a fractional W would give the
 * controls more on average (test_silence.c). */
int64_t rg_silence_window_ms(const rg_silence_params *p, int64_t window_ms,
                             int64_t interval_ms);

/* Candidate allowance j (0 .. RG_ACT_STEPS - 1): floor x (cap / floor)
 * ^ (j / (RG_ACT_STEPS - 1)), the last one the cap; the cap for all when
 * the cap is at most the floor. */
int64_t rg_act_step_ms(const rg_silence_params *p, int j);

/* Whether step j still matters to l (below the step it has proved). */
bool rg_act_learner_wants(const rg_act_learner *l, int j);

/* Exposures a step needs, all on time, to be proved: the least n with
 * (1 - late)^n <= miss / RG_ACT_STEPS (110 by default). */
uint32_t rg_act_learner_sample(const rg_silence_params *p);

/* Counts one exposure at step j, late or not (the caller's rule:
 * health/cohort.c); then tests step j. Nothing when the step no longer
 * matters. */
void rg_act_learner_count(rg_act_learner *l, const rg_silence_params *p, int j,
                          bool late);

/* A of a new exposure: declared_ms when >= 0 (the release's declared
 * maximum); otherwise the step the stratum's learner proved, else the
 * fleet's (may be NULL), else the cap. */
int64_t rg_silence_allowance_ms(const rg_silence_params *p, int64_t declared_ms,
                                const rg_act_learner *stratum,
                                const rg_act_learner *fleet);

/* Whether that A is final: declared, or proved by a learner. An exposure
 * whose A is not final may start its span earlier once it is
 * (docs/health.md): at max(a + A, the moment it becomes final). */
bool rg_silence_allowance_final(int64_t declared_ms,
                                const rg_act_learner *stratum,
                                const rg_act_learner *fleet);

/* Whether a check-in at contact_ms (0: none) falls in [start_ms, end_ms). */
bool rg_silence_heard(int64_t contact_ms, int64_t start_ms, int64_t end_ms);

/* Outcome (RG_TALLY_HEALTHY / _FAILED / _SILENT, tally.h) of an exposed
 * endpoint judged on a span ending at end_ms (excluded): failed when it
 * reported a failure; healthy when it reported healthy before end_ms
 * (healthy_ms) and heard is true (it checked in during the span); silent
 * otherwise. */
int rg_silence_outcome(bool failed, bool healthy, int64_t healthy_ms,
                       bool heard, int64_t end_ms);

#endif
