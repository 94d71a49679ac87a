/* Property test of the learned activation allowance (src/health/silence.c,
 * docs/health.md "The activation allowance A"): whatever the distribution
 * of the applying -> healthy latency L (uniform, point masses, bimodal,
 * tails beyond the cap, a share never healthy) and whatever the pattern
 * of exposures (all at once, a ramp, bursts, a trickle: the censoring of
 * the young ones), the learner, evaluated at every moment an exposure
 * reaches a step's age, ever proves an allowance t whose true late share
 * P(L > t) is at least `late` in at most `miss` of the worlds. The
 * worlds sit at the boundary (late shares just above `late` at many
 * steps), so a learner that proves too easily fails. A naive learner (the
 * 95 % quantile of the latencies reported so far, i.e. of the young
 * exposures' fast ones) fails the same property. rollgated and
 * rollgate-sim count through the one tracker (health/cohort.c), whose
 * equivalence test_cohort_replay checks.
 * ctest-labels: canary */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "health/silence.h"
#include "support/prng.h"

#include <stdio.h>
#include <stdlib.h>

#define RUNS 400
#define MAX_EXP 1500

/* L: never healthy with probability `never`; else uniform on [lo0, hi0]
 * with probability w0, on [lo1, hi1] otherwise (ms; lo == hi: a point). */
typedef struct world {
    double never, w0;
    double lo0, hi0, lo1, hi1;
} world;

static double comp_above(double lo, double hi, double x)
{
    if (x >= hi)
        return 0.0;
    if (x < lo)
        return 1.0;
    return (hi - x) / (hi - lo);
}

/* P(L > x), exactly. */
static double late_share(const world *w, double x)
{
    return w->never +
           (1.0 - w->never) * (w->w0 * comp_above(w->lo0, w->hi0, x) +
                               (1.0 - w->w0) * comp_above(w->lo1, w->hi1, x));
}

/* One latency (ms), or -1: never healthy. */
static int64_t draw(const world *w, uint64_t *s)
{
    if (rg_prng_unif(s) < w->never)
        return -1;
    bool first = rg_prng_unif(s) < w->w0;
    double lo = first ? w->lo0 : w->lo1, hi = first ? w->hi0 : w->hi1;
    return (int64_t)(lo + (hi - lo) * rg_prng_unif(s));
}

/* A world at the boundary: some step's late share just above `late`
 * (a share never healthy, or a slow mode of that weight), or clearly
 * fine. */
static void make_world(world *w, const rg_silence_params *p, uint64_t *s)
{
    double cap = (double)p->cap_ms;
    double edge = p->late * (1.0 + 0.3 * rg_prng_unif(s)); /* >= late */
    w->lo0 = 1000.0 + 20000.0 * rg_prng_unif(s);
    w->hi0 = w->lo0 + (rg_prng_next(s) % 2 ? 0.0 : 60000.0 * rg_prng_unif(s));
    switch (rg_prng_next(s) % 4) {
    case 0: /* a share never healthy */
        w->never = edge, w->w0 = 1.0, w->lo1 = w->hi1 = 0.0;
        break;
    case 1: /* a slow mode, maybe beyond the cap */
        w->never = 0.0, w->w0 = 1.0 - edge;
        w->lo1 = cap * (0.2 + 1.5 * rg_prng_unif(s));
        w->hi1 = w->lo1 + cap * rg_prng_unif(s);
        break;
    case 2: /* wide uniform up to the cap */
        w->never = 0.0, w->w0 = 1.0, w->lo0 = 0.0,
        w->hi0 = cap * rg_prng_unif(s);
        w->lo1 = w->hi1 = 0.0;
        break;
    default: /* both */
        w->never = edge / 2, w->w0 = 1.0 - edge / 2;
        w->lo1 = cap * rg_prng_unif(s), w->hi1 = w->lo1 + cap * rg_prng_unif(s);
        break;
    }
}

/* Exposure times (ms) of n exposures, sorted, in one of four patterns. */
static void arrivals(int64_t *a, int n, uint64_t *s)
{
    int pattern = (int)(rg_prng_next(s) % 4);
    double span = 60000.0 + 1200000.0 * rg_prng_unif(s), t = 0.0;
    for (int i = 0; i < n; i++) {
        switch (pattern) {
        case 0: /* at once */
            a[i] = 0;
            break;
        case 1: /* ramp */
            a[i] = (int64_t)(span * i / n);
            break;
        case 2: /* bursts of 50 */
            a[i] = (int64_t)(span * (i / 50) * 50 / n);
            break;
        default: /* trickle */
            t += 2.0 * span / n * rg_prng_unif(s);
            a[i] = (int64_t)t;
            break;
        }
    }
}

typedef struct age_ev {
    int64_t at;
    int i, j;
} age_ev;

static int by_time(const void *x, const void *y)
{
    const age_ev *a = x, *b = y;
    return a->at < b->at ? -1 : a->at > b->at;
}

/* Runs one world through the simulator's path: each exposure counts at
 * step j when it reaches rg_act_step_ms, in time order; returns the worst
 * (largest) true late share of any allowance the learner ever gave, -1
 * when it proved none. */
static double run_world(const world *w, const rg_silence_params *p,
                        const int64_t *a, const int64_t *lat, int n)
{
    age_ev *ev = malloc((size_t)n * RG_ACT_STEPS * sizeof *ev);
    assert_non_null(ev);
    size_t m = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < RG_ACT_STEPS; j++)
            ev[m++] = (age_ev){a[i] + rg_act_step_ms(p, j), i, j};
    qsort(ev, m, sizeof *ev, by_time);
    rg_act_learner l = {0};
    double worst = -1.0;
    for (size_t k = 0; k < m; k++) {
        int64_t age = rg_act_step_ms(p, ev[k].j);
        int64_t L = lat[ev[k].i];
        rg_act_learner_count(&l, p, ev[k].j, L < 0 || L > age);
        if (l.covered) {
            double x = (double)rg_act_step_ms(p, l.covered - 1);
            double share = late_share(w, x);
            worst = share > worst ? share : worst;
        }
    }
    free(ev);
    return worst;
}

/* The naive learner: the smallest step t that reaches the 95 %
 * quantile of the latencies reported by `now`, once 110 were. */
static double naive_world(const world *w, const rg_silence_params *p,
                          const int64_t *a, const int64_t *lat, int n)
{
    double worst = 0.0;
    int64_t *seen = malloc((size_t)n * sizeof *seen);
    assert_non_null(seen);
    for (int64_t now = 0; now <= 3 * p->cap_ms; now += 30000) {
        int k = 0;
        for (int i = 0; i < n; i++)
            if (a[i] <= now && lat[i] >= 0 && a[i] + lat[i] <= now)
                seen[k++] = lat[i];
        if (k < (int)rg_act_learner_sample(p))
            continue;
        int above = 0;
        for (int j = 0; j < RG_ACT_STEPS; j++) {
            int64_t x = rg_act_step_ms(p, j);
            above = 0;
            for (int i = 0; i < k; i++)
                above += seen[i] > x;
            if (above <= k / 20) {
                double share = late_share(w, (double)x);
                worst = share > worst ? share : worst;
                break;
            }
        }
    }
    free(seen);
    return worst;
}

static void learned_allowance_covers(void **state)
{
    (void)state;
    rg_silence_params p;
    rg_silence_params_default(&p);
    uint64_t s = 20261203;
    int bad = 0, naive_bad = 0, proved = 0;
    int64_t *a = malloc(MAX_EXP * sizeof *a),
            *lat = malloc(MAX_EXP * sizeof *lat);
    assert_true(a && lat);
    for (int r = 0; r < RUNS; r++) {
        world w;
        make_world(&w, &p, &s);
        int n = 100 + (int)(rg_prng_next(&s) % (MAX_EXP - 100));
        arrivals(a, n, &s);
        for (int i = 0; i < n; i++)
            lat[i] = draw(&w, &s);
        double worst = run_world(&w, &p, a, lat, n);
        proved += worst >= 0.0;
        bad += worst >= p.late;
        naive_bad += naive_world(&w, &p, a, lat, n) >= p.late;
    }
    free(a);
    free(lat);
    printf("allowances with a late share >= %.2f: %d of %d worlds (miss %.2f; "
           "%d proved something); naive quantile: %d\n",
           p.late, bad, RUNS, p.miss, proved, naive_bad);
    assert_true(bad <= (int)(p.miss * RUNS));
    assert_true(naive_bad > (int)(p.miss * RUNS));
    assert_true(proved > RUNS / 10); /* it does learn */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(learned_allowance_covers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
