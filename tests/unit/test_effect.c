/* Property test of the silence halt test's minimum effect size and of its
 * bound over a whole rollout (issue 10; docs/health.md "Halt side,
 * silence"), through the real analyzer (rg_analyze on matched sets, per
 * stratum and pooled, each at ALPHA / 2 as the gate runs them):
 *  - a GOOD release whose exposed endpoints are silent more often than
 *    their controls by a constant excess anywhere in [0, delta / 2] (an
 *    agent restart at apply, say), in 1 to 4 strata with control silence
 *    of 0.5 % to 30 % and correlated outages (60 % of both cohorts), on
 *    fleets of 10 thousand to 8.5 million endpoints through the standard
 *    plan's waves (0.1 %, 1 %, 10 %, 50 %, 100 %), judged after every
 *    twentieth of a wave and never restarted between waves: the share of
 *    rollouts ever halted stays below ALPHA. The conditional test this
 *    replaced (null "no excess", restarted every wave) halts far more of
 *    the same rollouts: the test fails on it;
 *  - an excess of 5 delta in every stratum halts every rollout of 100
 *    thousand endpoints or more;
 *  - a stratum of 1 to 500 endpoints that goes entirely silent while its
 *    controls are heard halts as soon as as few of its windows are judged
 *    as the conditional test needed, or fewer.
 * Seeded; never timed.
 * ctest-labels: canary */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "health/analyzer.h"
#include "health/gate.h"
#include "health/msprt.h"
#include "health/tally.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define RUNS 300
#define ALPHA 0.05 /* per rollout: ALPHA / 2 per analysis */
#define DELTA 0.01
#define MAX_STRATA 4
#define BATCHES 20 /* evaluations per wave */
#define N_WAVES 5
#define K RG_TALLY_CONTROLS

static const double wave_share[N_WAVES] = {0.001, 0.01, 0.1, 0.5, 1.0};

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static double unit(uint64_t *s)
{
    return (double)(rng_next(s) >> 11) * 0x1.0p-53;
}

/* Binomial(n, p): exact for small n, Poisson for a small mean, normal
 * otherwise (accurate enough for counts of millions). */
static uint64_t binom(uint64_t *r, uint64_t n, double p)
{
    if (n == 0 || p <= 0.0)
        return 0;
    if (p >= 1.0)
        return n;
    uint64_t x = 0;
    if (n <= 64) {
        for (uint64_t i = 0; i < n; i++)
            x += unit(r) < p;
        return x;
    }
    double mean = (double)n * p;
    if (mean < 30.0) {
        double lim = exp(-mean), prod = unit(r);
        while (prod > lim && x < n) {
            x++;
            prod *= unit(r);
        }
        return x;
    }
    double u1 = unit(r), u2 = unit(r);
    double z = sqrt(-2.0 * log(u1 + 1e-300)) * cos(2.0 * M_PI * u2);
    double v = round(mean + z * sqrt(mean * (1.0 - p)));
    return v < 0.0 ? 0 : v > (double)n ? n : (uint64_t)v;
}

/* Adds n windows of one span state to t: exposed silent with probability
 * q, each of its K controls with p; counts per (E, s) cell by sequential
 * binomials. */
static void add_windows(uint64_t *r, rg_msprt_sets *t, uint64_t n, double p,
                        double q)
{
    uint64_t silent = binom(r, n, q);
    uint64_t left[2] = {n - silent, silent};
    for (int e = 0; e < 2; e++) {
        double rest = 1.0;
        for (uint32_t s = 0; s <= K && left[e]; s++) {
            double pmf =
                exp(lgamma(K + 1.0) - lgamma(s + 1.0) - lgamma(K - s + 1.0) +
                    s * log(p + 1e-300) + (K - s) * log1p(-p));
            uint64_t c =
                s == K ? left[e] : binom(r, left[e], fmin(pmf / rest, 1.0));
            rest -= pmf;
            left[e] -= c;
            rg_msprt_sets_count(t, e, K, s, c);
        }
    }
}

/* The conditional test the sets replaced, on one stratum's counts of one
 * wave: x exposed silent windows, n silent windows of both cohorts, rho
 * the exposure share; mixture over theta = 1.25 * 2^j, j < 13, null
 * theta = 1 (the reference the test must fail on). */
static double old_silence_llr(double x, double n, double rho)
{
    double v[13], theta = 1.25;
    for (int j = 0; j < 13; j++, theta *= 2.0)
        v[j] = x * log(theta) - n * log1p(rho * (theta - 1.0));
    return rg_msprt_log_mean_exp(v, 13);
}

typedef struct world {
    uint64_t fleet;
    int n;                     /* strata */
    double share[MAX_STRATA];  /* of the fleet */
    double pc[MAX_STRATA];     /* control silence */
    double excess[MAX_STRATA]; /* exposed silence over it */
    double outage;             /* chance a batch is hit by an outage */
} world;

typedef struct verdicts {
    bool halted, old_halted;
    uint64_t exposed_at_halt;
} verdicts;

/* Whether the per-stratum and pooled analyses (ALPHA / 2 each) halt on
 * the rollout's sets so far. */
static bool gate_halts(const world *w, const rg_msprt_sets *sets)
{
    rg_gate_params p;
    rg_gate_params_default(&p);
    p.alpha = ALPHA / 2.0;
    p.min_effect = DELTA;
    static const char *const names[MAX_STRATA] = {"a", "b", "c", "d"};
    rg_stratum_counts in[MAX_STRATA];
    memset(in, 0, sizeof in);
    for (int i = 0; i < w->n; i++) {
        in[i].stratum = names[i];
        in[i].sets = sets[i];
    }
    bool halt = false;
    for (int pooled = 0; pooled < 2 && !halt; pooled++) {
        for (int i = 0; i < w->n; i++)
            in[i].stratum = pooled ? RG_HEALTH_GATE_POOLED : names[i];
        rg_analysis a;
        assert_int_equal(rg_analyze(&p, in, (size_t)w->n, &a, NULL), 0);
        halt = a.verdict == RG_VERDICT_HALT;
        rg_analysis_release(&a);
    }
    return halt;
}

/* The old test on this wave's counts, per stratum combined and pooled. */
static bool old_halts(const world *w, const double *x, const double *n)
{
    double per = 0.0, px = 0.0, pn = 0.0, rho = 1.0 / (K + 1.0);
    for (int i = 0; i < w->n; i++) {
        per += rg_msprt_combine(old_silence_llr(x[i], n[i], rho),
                                RG_MSPRT_STRATUM_PRIOR);
        px += x[i];
        pn += n[i];
    }
    double pooled =
        rg_msprt_combine(old_silence_llr(px, pn, rho), RG_MSPRT_STRATUM_PRIOR);
    return fmax(per, pooled) >= log(2.0 / (ALPHA / 2.0));
}

/* One rollout of world w through the standard plan's waves. */
static verdicts rollout(const world *w, uint64_t seed)
{
    uint64_t r = seed;
    verdicts v = {false, false, 0};
    rg_msprt_sets sets[MAX_STRATA];
    memset(sets, 0, sizeof sets);
    uint64_t exposed = 0;
    for (int wave = 0; wave < N_WAVES && !v.halted; wave++) {
        double before = wave ? wave_share[wave - 1] : 0.0;
        double x[MAX_STRATA] = {0}, n[MAX_STRATA] = {0};
        for (int b = 0; b < BATCHES && !v.halted; b++) {
            bool out = unit(&r) < w->outage;
            for (int i = 0; i < w->n; i++) {
                double size = (double)w->fleet * w->share[i];
                uint64_t m = (uint64_t)(size * (wave_share[wave] - before) *
                                        (b + 1) / BATCHES) -
                             (uint64_t)(size * (wave_share[wave] - before) * b /
                                        BATCHES);
                double p = out ? fmax(w->pc[i], 0.6) : w->pc[i];
                double q = fmin(p + w->excess[i], 1.0);
                rg_msprt_sets add = {0};
                add_windows(&r, &add, m, p, q);
                rg_msprt_sets_add(&sets[i], &add);
                for (uint32_t j = 0; j <= K; j++) {
                    int c = rg_msprt_set_cell(K, j);
                    x[i] += (double)add.silent[c];
                    n[i] += (double)add.silent[c] +
                            (double)(add.silent[c] + add.heard[c]) * j;
                }
                exposed += m;
            }
            v.old_halted |= old_halts(w, x, n);
            if (gate_halts(w, sets)) {
                v.halted = true;
                v.exposed_at_halt = exposed;
            }
        }
    }
    return v;
}

/* A world with fleet and strata drawn from seed; excess in [lo, hi]. */
static world draw_world(uint64_t *r, uint64_t min_fleet, double lo, double hi)
{
    world w;
    memset(&w, 0, sizeof w);
    w.fleet = (uint64_t)exp(log((double)min_fleet) +
                            unit(r) * (log(8.5e6) - log((double)min_fleet)));
    w.n = 1 + (int)(unit(r) * MAX_STRATA);
    double sum = 0.0;
    for (int i = 0; i < w.n; i++)
        sum += (w.share[i] = 0.2 + unit(r));
    for (int i = 0; i < w.n; i++) {
        w.share[i] /= sum;
        w.pc[i] = 0.005 + unit(r) * 0.295;
        w.excess[i] = lo + unit(r) * (hi - lo);
    }
    w.outage = unit(r) < 0.5 ? 0.0 : 0.1;
    return w;
}

static void good_release_within_half_delta(void **state)
{
    (void)state;
    unsigned halts = 0, old = 0;
    uint64_t r = 1;
    for (unsigned i = 0; i < RUNS; i++) {
        world w = draw_world(&r, 10000, 0.0, DELTA / 2.0);
        verdicts v = rollout(&w, 1000 + i);
        halts += v.halted;
        old += v.old_halted;
    }
    print_message("excess in [0, %g]: %u of %u rollouts halted (bound %.0f); "
                  "the conditional test restarted per wave: %u\n",
                  DELTA / 2.0, halts, RUNS, ALPHA * RUNS, old);
    assert_true(halts <= (unsigned)(ALPHA * RUNS));
    assert_true(old > (unsigned)(ALPHA * RUNS)); /* the old test fails */
}

static void excess_of_five_delta_halts(void **state)
{
    (void)state;
    uint64_t r = 2, worst = 0;
    double worst_share = 0.0;
    for (unsigned i = 0; i < RUNS; i++) {
        world w = draw_world(&r, 100000, 5.0 * DELTA, 5.0 * DELTA);
        verdicts v = rollout(&w, 5000 + i);
        assert_true(v.halted);
        double share = (double)v.exposed_at_halt / (double)w.fleet;
        if (share > worst_share) {
            worst_share = share;
            worst = v.exposed_at_halt;
        }
    }
    print_message("excess 5 delta: %u of %u rollouts halted; at most %.2f %% "
                  "of the fleet (%llu windows) judged by then\n",
                  RUNS, RUNS, 100.0 * worst_share, (unsigned long long)worst);
}

/* Windows of a stratum gone dark (its controls at pc) that the new test
 * (first) and the old one (second) need before they halt; 0: never
 * within 500. */
static void windows_to_halt(double pc, uint64_t seed, int *now, int *old)
{
    uint64_t r = seed;
    world w = {.fleet = 1, .n = 1, .share = {1.0}, .pc = {pc}};
    rg_msprt_sets sets = {0};
    double x = 0, n = 0;
    *now = *old = 0;
    for (int m = 1; m <= 500 && (!*now || !*old); m++) {
        rg_msprt_sets add = {0};
        add_windows(&r, &add, 1, pc, 1.0);
        rg_msprt_sets_add(&sets, &add);
        for (uint32_t j = 0; j <= K; j++) {
            int c = rg_msprt_set_cell(K, j);
            n += (double)(add.silent[c] + add.heard[c]) * j;
        }
        x++;
        n++;
        if (!*now && gate_halts(&w, &sets))
            *now = m;
        if (!*old && old_halts(&w, &x, &n))
            *old = m;
    }
}

static void dark_tiny_stratum_halts_as_fast(void **state)
{
    (void)state;
    uint64_t r = 3;
    int max_now = 0, max_old = 0;
    for (unsigned i = 0; i < RUNS; i++) {
        double pc = 0.005 + unit(&r) * 0.195;
        int now, old;
        windows_to_halt(pc, 9000 + i, &now, &old);
        assert_true(now > 0);
        max_now = now > max_now ? now : max_now;
        max_old = old > max_old ? old : max_old;
    }
    print_message("stratum gone dark (controls 0.5-20 %% silent): halts after "
                  "at most %d judged windows (the conditional test: %d)\n",
                  max_now, max_old);
    assert_true(max_now <= max_old);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(good_release_within_half_delta),
        cmocka_unit_test(excess_of_five_delta_halts),
        cmocka_unit_test(dark_tiny_stratum_halts_as_fast),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
