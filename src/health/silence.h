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
 * one; otherwise it is learned per stratum from the applying -> healthy
 * latencies of endpoints that did report healthy (rg_act_learner): the
 * `quantile` of those latencies times `margin`, floored and capped. Only
 * exposures at least `cap_ms` old give a sample (their latency, when at
 * most the cap, is then fully observed), so the sample is not biased
 * towards fast activators; a stratum with fewer than `min_samples` uses
 * the whole fleet's learner, and with fewer there too, the cap.
 *
 * Pure: no I/O, no clock, no globals; thread-safe (learners are the
 * caller's).
 */
#ifndef RG_HEALTH_SILENCE_H
#define RG_HEALTH_SILENCE_H

#include <stdbool.h>
#include <stdint.h>

#define RG_SILENCE_UNDECLARED (-1) /* no declared activation maximum */
#define RG_ACT_BINS 64             /* learner histogram bins over [0, cap] */
#define RG_IVL_BINS                                                            \
    64 /* interval histogram: 4 per octave from                                \
          256 ms to 2^24 ms (4.7 h) */

/* Parameters; defaults from rg_silence_params_default (docs/health.md). */
typedef struct rg_silence_params {
    int checkins;         /* k: check-in intervals per window; 3 */
    int64_t floor_ms;     /* least allowance; 30 s */
    int64_t cap_ms;       /* largest learned allowance; 600 s */
    double quantile;      /* of the learned latencies; 0.99 */
    double margin;        /* factor on that quantile; 2 */
    uint32_t min_samples; /* latencies needed to learn; 20 */
} rg_silence_params;

/* Latencies (applying -> healthy) of one stratum, or of the fleet. */
typedef struct rg_act_learner {
    uint32_t bins[RG_ACT_BINS]; /* bin b: latency in (b, b + 1] * cap / 64 */
    uint32_t n;
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

/* Adds latency_ms of an exposure that is at least p->cap_ms old and
 * reported healthy; latencies above the cap are not recorded. */
void rg_act_learner_add(rg_act_learner *l, const rg_silence_params *p,
                        int64_t latency_ms);

/* A of a new exposure: declared_ms when >= 0 (the release's declared
 * maximum); otherwise min(max(margin * quantile, floor), cap) of the
 * stratum's learner when it holds min_samples, else of the fleet's
 * (may be NULL) when it does, else the cap. */
int64_t rg_silence_allowance_ms(const rg_silence_params *p, int64_t declared_ms,
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
