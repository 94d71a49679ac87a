/* ctest-labels: canary */
/*
 * test_silence_delta.c - the silence halt test's minimum effect size
 * (rg_gate_params.silence_delta) and its e-process carried across waves
 * (rg_stratum_counts.prior_*), by property over seeded runs
 * (docs/health.md, "Halt side, silence"). Never timed.
 *
 * Each run draws resolved exposed windows one by one into three strata,
 * each window with K matched control windows on the same span. A span
 * is in a correlated outage with probability 0.1 (both cohorts then
 * silent with probability 0.8) and otherwise has the run's base control
 * silence (drawn per run); the exposed endpoint is silent with the span's
 * probability + the release's excess. The real analyzer is evaluated
 * every EVAL windows; a run halts when any evaluation does.
 */
#include "health/analyzer.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "support/prng.h"

#define K 10      /* matched controls per exposed window */
#define EVAL 50   /* windows between evaluations */
#define STRATA 3
#define DELTA 0.01


/* A release: excess of exposed over control silence, and a bias of the
 * control cohort (its silence lowered by control_bias). */
typedef struct world {
    double excess, control_bias;
    bool outages;
    double base_lo, base_hi; /* the run's base control silence, uniform */
} world;

static const char *const names[STRATA] = {"win10-x64", "win11-x64",
                                          "ubuntu22-x64"};

/* Adds one resolved exposed window and its K controls to c. */
static void draw_window(const world *w, double base, uint64_t *rng,
                        rg_stratum_counts *c)
{
    double p = base;
    if (w->outages && rng_unit(rng) < 0.1)
        p = 0.8;
    double pe = p + w->excess, pc = p - w->control_bias;
    bool silent = rng_unit(rng) < pe;
    c->exposed++;
    c->exposed_silent += silent;
    c->exposed_healthy += !silent;
    for (int j = 0; j < K; j++) {
        c->control_windows++;
        c->control_silent += rng_unit(rng) < pc;
    }
}

/* Whether the analyzer halts on the counts (alpha as given). */
static bool halts(const rg_stratum_counts *c, double alpha)
{
    rg_gate_params p;
    rg_gate_params_default(&p);
    p.alpha = alpha;
    p.silence_delta = DELTA;
    rg_analysis a;
    assert_int_equal(rg_analyze(&p, c, STRATA, &a, NULL), 0);
    bool h = a.verdict == RG_VERDICT_HALT;
    rg_analysis_release(&a);
    return h;
}

/* Folds the wave's counts of every stratum into its prior_* (carried to
 * the next wave) when carry is set, and starts a new wave. */
static void next_wave(rg_stratum_counts *c, bool carry)
{
    for (int s = 0; s < STRATA; s++) {
        rg_stratum_counts n = {.stratum = names[s]};
        if (carry) {
            n.prior_windows = c[s].prior_windows + c[s].exposed;
            n.prior_silent = c[s].prior_silent + c[s].exposed_silent;
            n.prior_control_windows =
                c[s].prior_control_windows + c[s].control_windows;
            n.prior_control_silent =
                c[s].prior_control_silent + c[s].control_silent;
        }
        c[s] = n;
    }
}

/* One run: `waves` waves of `per_wave` windows (spread over the strata;
 * with only_first, all in the first stratum). Returns whether it halted. */
static bool run(const world *w, uint64_t seed, int waves, int per_wave,
                bool carry, bool only_first, double alpha)
{
    uint64_t rng = seed;
    double base = w->base_lo + (w->base_hi - w->base_lo) * rng_unit(&rng);
    rg_stratum_counts c[STRATA];
    for (int s = 0; s < STRATA; s++)
        c[s] = (rg_stratum_counts){.stratum = names[s]};
    for (int v = 0; v < waves; v++) {
        for (int i = 1; i <= per_wave; i++) {
            draw_window(w, base, &rng, &c[only_first ? 0 : i % STRATA]);
            if (i % EVAL == 0 && halts(c, alpha))
                return true;
        }
        next_wave(c, carry);
    }
    return false;
}

static unsigned count_halts(const world *w, unsigned runs, int waves,
                            int per_wave, bool carry, bool only_first,
                            double alpha)
{
    unsigned n = 0;
    for (unsigned r = 0; r < runs; r++)
        n += run(w, 0x5eed0000u + r, waves, per_wave, carry, only_first,
                 alpha);
    return n;
}

/* A true excess of delta/2 (and a release exactly as silent as control
 * whose control cohort is biased delta/2 low), base silence 2% .. 5%,
 * over 2 waves of 40000 windows in one stratum with the e-process
 * carried: at most alpha of the runs halt. The conditional test without delta (before
 * this test) halted nearly all of them. */
static void excess_below_delta_rarely_halts(void **state)
{
    (void)state;
    const double alpha = 0.05;
    const unsigned runs = 200;
    world half = {.excess = DELTA / 2,
                  .base_lo = 0.02, .base_hi = 0.05};
    world bias = {.control_bias = DELTA / 2,
                  .base_lo = 0.02, .base_hi = 0.05};
    unsigned h1 = count_halts(&half, runs, 2, 40000, true, true, alpha);
    unsigned h2 = count_halts(&bias, runs, 2, 40000, true, true, alpha);
    print_message("excess delta/2: %u of %u runs halt; control biased "
                  "delta/2: %u of %u (bound %.0f)\n",
                  h1, runs, h2, runs, alpha * runs);
    assert_true(h1 <= alpha * runs);
    assert_true(h2 <= alpha * runs);
}

/* An excess of 5 delta in one stratum halts (nearly) every run of 4
 * waves of 8000 windows (control silence up to 30% and outages make
 * the differences noisy: the test needs thousands of windows). */
static void excess_of_five_delta_halts(void **state)
{
    (void)state;
    const unsigned runs = 100;
    world bad = {.excess = 5 * DELTA, .outages = true,
                 .base_lo = 0.02, .base_hi = 0.3};
    unsigned h = count_halts(&bad, runs, 4, 8000, true, true, 1e-3);
    print_message("excess 5 delta: %u of %u runs halt\n", h, runs);
    assert_true(h >= runs * 95 / 100);
}

/* Correlated outages in both cohorts, no excess: no halt beyond alpha. */
static void correlated_outage_does_not_halt(void **state)
{
    (void)state;
    const double alpha = 0.05;
    const unsigned runs = 200;
    world good = {.outages = true, .base_lo = 0.02, .base_hi = 0.3};
    unsigned h = count_halts(&good, runs, 4, 3000, true, false, alpha);
    print_message("correlated outages, no excess: %u of %u runs halt\n", h,
                  runs);
    assert_true(h <= alpha * runs);
}

/* Carrying the e-process across waves keeps the bound for the whole
 * rollout and lets the evidence of waves add up: a 5-delta excess over 8
 * waves of 1500 windows halts far more often carried than judged wave by
 * wave. */
static void carried_evidence_adds_up(void **state)
{
    (void)state;
    const unsigned runs = 100;
    world bad = {.excess = 5 * DELTA, .outages = true,
                 .base_lo = 0.02, .base_hi = 0.3};
    unsigned carried = count_halts(&bad, runs, 8, 1500, true, true, 1e-3);
    unsigned restarted = count_halts(&bad, runs, 8, 1500, false, true, 1e-3);
    print_message("5 delta over 8 waves of 1500: %u of %u halt carried, %u "
                  "restarted every wave\n",
                  carried, runs, restarted);
    assert_true(carried >= restarted + runs / 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(excess_below_delta_rarely_halts),
        cmocka_unit_test(excess_of_five_delta_halts),
        cmocka_unit_test(correlated_outage_does_not_halt),
        cmocka_unit_test(carried_evidence_adds_up),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
