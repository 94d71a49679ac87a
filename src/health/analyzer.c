/* analyzer.c - see analyzer.h. */
#include "analyzer.h"

#include "common/json.h"
#include "msprt.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A pass-side boundary may not reach 1: log1p(-1) is -inf. */
#define MAX_BAD_SHARE (1.0 - 1e-9)
/* Width of the lower bound on the control silence share (pass side). */
#define CONTROL_SIGMAS 2.0

void rg_gate_params_default(rg_gate_params *p)
{
    p->alpha = 1e-3;
    p->beta = 1e-2;
    p->tolerated_excess = 0.02;
    p->baseline_failure = 1e-3;
    p->window_ms = 600000;
    p->min_endpoints = 0;
    p->min_effect = 0.01;
}

void rg_analysis_release(rg_analysis *a)
{
    free(a->strata);
    memset(a, 0, sizeof *a);
}

static int check_params(const rg_gate_params *p, rg_err *err)
{
    if (!(p->alpha > 0.0 && p->alpha < 0.5))
        return rg_err_field(err, RG_EINVAL, "alpha",
                            "gate: alpha %g must be in (0, 0.5)", p->alpha);
    if (!(p->beta > 0.0 && p->beta < 0.5))
        return rg_err_field(err, RG_EINVAL, "beta",
                            "gate: beta %g must be in (0, 0.5)", p->beta);
    if (!(p->tolerated_excess > 0.0 && p->tolerated_excess <= 0.5))
        return rg_err_field(err, RG_EINVAL, "tolerated_excess",
                            "gate: tolerated_excess %g must be in (0, 0.5]",
                            p->tolerated_excess);
    if (!(p->baseline_failure > 0.0 && p->baseline_failure <= 0.25))
        return rg_err_field(err, RG_EINVAL, "baseline_failure",
                            "gate: baseline_failure %g must be in (0, 0.25]",
                            p->baseline_failure);
    if (!(p->min_effect >= 0.0 && p->min_effect <= 0.5))
        return rg_err_field(err, RG_EINVAL, "min_effect",
                            "gate: min_effect %g must be in [0, 0.5]",
                            p->min_effect);
    if (p->window_ms <= 0)
        return rg_err_field(err, RG_EINVAL, "window_ms",
                            "gate: window_ms %lld must be positive",
                            (long long)p->window_ms);
    return 0;
}

static int check_counts(const rg_stratum_counts *c, size_t i, rg_err *err)
{
    char field[64];
    const char *what = NULL;
    size_t len = c->stratum ? strlen(c->stratum) : 0;
    if (len == 0 || len >= RG_STRATUM_NAME_MAX) {
        snprintf(field, sizeof field, "strata[%zu].stratum", i);
        return rg_err_field(err, RG_EINVAL, field,
                            "gate: stratum %zu: name must be 1..%d bytes", i,
                            RG_STRATUM_NAME_MAX - 1);
    }
    if (c->exposed > RG_ANALYZER_MAX_COUNT)
        what = "exposed";
    else if (c->control_windows > RG_ANALYZER_MAX_COUNT)
        what = "control_windows";
    else if (c->exposed_healthy > c->exposed)
        what = "exposed_healthy";
    else if (c->exposed_failed > c->exposed - c->exposed_healthy)
        what = "exposed_failed";
    else if (c->exposed_silent >
             c->exposed - c->exposed_healthy - c->exposed_failed)
        what = "exposed_silent";
    else if (c->control_silent > c->control_windows)
        what = "control_silent";
    else if (c->early_failed > RG_ANALYZER_MAX_COUNT)
        what = "early_failed";
    else if (c->prior_trials > RG_ANALYZER_MAX_COUNT)
        what = "prior_trials";
    else if (c->prior_failed > c->prior_trials)
        what = "prior_failed";
    for (size_t j = 0; !what && j < RG_MSPRT_SET_CELLS; j++)
        if (c->sets.silent[j] > RG_ANALYZER_MAX_COUNT ||
            c->sets.heard[j] > RG_ANALYZER_MAX_COUNT)
            what = "sets";
        else if (c->soak_sets.silent[j] > RG_ANALYZER_MAX_COUNT ||
                 c->soak_sets.heard[j] > RG_ANALYZER_MAX_COUNT)
            what = "soak_sets";
    if (what) {
        snprintf(field, sizeof field, "strata[%zu].%s", i, what);
        return rg_err_field(err, RG_EINVAL, field,
                            "stratum '%s': %s out of range (exposed %llu "
                            "= healthy %llu + failed %llu + silent %llu + "
                            "pending; control silent %llu of %llu windows; "
                            "each at most 1e12)",
                            c->stratum, what, (unsigned long long)c->exposed,
                            (unsigned long long)c->exposed_healthy,
                            (unsigned long long)c->exposed_failed,
                            (unsigned long long)c->exposed_silent,
                            (unsigned long long)c->control_silent,
                            (unsigned long long)c->control_windows);
    }
    return 0;
}

/* Index one past the last period of the stratum whose first entry is i. */
static size_t group_end(const rg_analysis *a, size_t i)
{
    size_t j = i + 1;
    while (j < a->n_strata &&
           strcmp(a->strata[j].stratum, a->strata[i].stratum) == 0)
        j++;
    return j;
}

static int cmp_name(const void *a, const void *b)
{
    const rg_stratum_evidence *x = *(const rg_stratum_evidence *const *)a;
    const rg_stratum_evidence *y = *(const rg_stratum_evidence *const *)b;
    return strcmp(x->stratum, y->stratum);
}

/* Fails with RG_EINVAL when a stratum name appears in two places that are
 * not adjacent (adjacent entries are periods of one stratum). */
static int check_unique(const rg_analysis *a, rg_err *err)
{
    int rc = 0;
    const rg_stratum_evidence **v = NULL;
    size_t m = 0;
    if (a->n_strata < 2)
        goto cleanup;
    v = malloc(a->n_strata * sizeof *v);
    if (!v) {
        rc = rg_err_set(err, RG_ENOMEM, "gate: out of memory");
        goto cleanup;
    }
    for (size_t i = 0; i < a->n_strata; i = group_end(a, i))
        v[m++] = &a->strata[i];
    qsort(v, m, sizeof *v, cmp_name);
    for (size_t i = 1; i < m; i++) {
        if (strcmp(v[i - 1]->stratum, v[i]->stratum) == 0) {
            char field[64];
            snprintf(field, sizeof field, "strata[%zu].stratum",
                     (size_t)(v[i] - a->strata));
            rc = rg_err_field(err, RG_EINVAL, field,
                              "stratum '%s' appears twice (the periods of a "
                              "stratum must be adjacent)",
                              v[i]->stratum);
            goto cleanup;
        }
    }
cleanup:
    free(v);
    return rc;
}

/* Fails with RG_EINVAL when a stratum's early failures (summed over its
 * entries) exceed its exposed endpoints whose window did not end failed. */
static int check_early(const rg_analysis *a, rg_err *err)
{
    for (size_t i = 0, j; i < a->n_strata; i = j) {
        uint64_t early = 0, room = 0;
        j = group_end(a, i);
        for (size_t k = i; k < j; k++) {
            early += a->strata[k].early_failed;
            room += a->strata[k].exposed - a->strata[k].exposed_failed;
        }
        if (early > room) {
            char field[64];
            snprintf(field, sizeof field, "strata[%zu].early_failed", i);
            return rg_err_field(err, RG_EINVAL, field,
                                "stratum '%s': %llu early failures but only "
                                "%llu exposed endpoints not counted failed",
                                a->strata[i].stratum, (unsigned long long)early,
                                (unsigned long long)room);
        }
    }
    return 0;
}

double rg_analyzer_silence_bad(const rg_gate_params *p,
                               uint64_t control_windows,
                               uint64_t control_silent)
{
    /* The control share is estimated, so take its lower 2-sigma bound: an
     * overestimate would make passing too easy. */
    double share = 0.0, sigma = 0.0;
    if (control_windows > 0) {
        share = (double)control_silent / (double)control_windows;
        sigma = sqrt(share * (1.0 - share) / (double)control_windows);
    }
    return fmin(fmax(share - CONTROL_SIGMAS * sigma, 0.0) + p->tolerated_excess,
                MAX_BAD_SHARE);
}

/* Computes an entry's exposure share, pending count and pass boundary
 * from its counts (already checked). */
static void entry_stats(const rg_gate_params *p, rg_stratum_evidence *e)
{
    uint64_t windows =
        e->exposed_healthy + e->exposed_failed + e->exposed_silent;
    uint64_t all = windows + e->control_windows;
    e->exposed_pending = e->exposed - windows;
    e->rho = all ? (double)windows / (double)all : 0.0;
    e->silence_bad =
        rg_analyzer_silence_bad(p, e->control_windows, e->control_silent);
}

/* Computes the halt statistics of the stratum made of entries [i, j) (its
 * periods), stores them on each entry and adds the stratum's factors to
 * the totals. */
static void stratum_stats(rg_analysis *a, size_t i, size_t j)
{
    uint64_t failed = 0, trials = 0;
    rg_msprt_sets sets = a->strata[i].sets, soak = a->strata[i].soak_sets;
    for (size_t k = i; k < j; k++) {
        const rg_stratum_evidence *e = &a->strata[k];
        if (k > i) {
            rg_msprt_sets_add(&sets, &e->sets);
            rg_msprt_sets_add(&soak, &e->soak_sets);
        }
        /* Failures need no window: every exposed endpoint is a trial from
         * its exposure on, every reported failure counts at once. */
        failed += e->exposed_failed + e->early_failed + e->prior_failed;
        trials += e->exposed + e->prior_trials;
    }
    double silence = rg_msprt_silence_halt(&sets, &soak, a->params.min_effect);
    double failure =
        rg_msprt_failure_halt(failed, trials, a->params.baseline_failure);
    for (size_t k = i; k < j; k++) {
        a->strata[k].silence_llr = silence;
        a->strata[k].failure_llr = failure;
    }
    a->silence_halt_llr += rg_msprt_combine(silence, a->stratum_prior);
    a->failure_halt_llr += rg_msprt_combine(failure, a->stratum_prior);
}

/* Index of the stratum with the largest silence (or failure) statistic. */
static size_t worst_stratum(const rg_analysis *a, bool failures)
{
    size_t w = 0;
    for (size_t i = 1; i < a->n_strata; i++) {
        double vi =
            failures ? a->strata[i].failure_llr : a->strata[i].silence_llr;
        double vw =
            failures ? a->strata[w].failure_llr : a->strata[w].silence_llr;
        if (vi > vw)
            w = i;
    }
    return w;
}

/* Index of the first stratum whose halt statistics lean towards excess
 * (either > 0), or n_strata. */
static size_t leaning_stratum(const rg_analysis *a)
{
    for (size_t i = 0; i < a->n_strata; i++)
        if (a->strata[i].silence_llr > 0.0 || a->strata[i].failure_llr > 0.0)
            return i;
    return a->n_strata;
}

size_t rg_analysis_stratum(const rg_analysis *a, size_t i,
                           rg_stratum_evidence *t)
{
    size_t j = group_end(a, i);
    *t = a->strata[i];
    for (size_t k = i + 1; k < j; k++) {
        const rg_stratum_evidence *e = &a->strata[k];
        t->exposed += e->exposed;
        t->exposed_healthy += e->exposed_healthy;
        t->exposed_failed += e->exposed_failed;
        t->exposed_silent += e->exposed_silent;
        t->exposed_pending += e->exposed_pending;
        t->control_windows += e->control_windows;
        t->control_silent += e->control_silent;
        t->early_failed += e->early_failed;
        t->prior_trials += e->prior_trials;
        t->prior_failed += e->prior_failed;
        rg_msprt_sets_add(&t->sets, &e->sets);
        rg_msprt_sets_add(&t->soak_sets, &e->soak_sets);
    }
    return j;
}

/* The counts of the whole stratum (all its periods) that entry i is in. */
static rg_stratum_evidence stratum_sums(const rg_analysis *a, size_t i)
{
    while (i > 0 && strcmp(a->strata[i - 1].stratum, a->strata[i].stratum) == 0)
        i--;
    rg_stratum_evidence t;
    rg_analysis_stratum(a, i, &t);
    return t;
}

/* Writes the one-line reason (truncated to fit). */
static void set_reason(rg_analysis *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_reason(rg_analysis *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->reason, sizeof a->reason, fmt, ap);
    va_end(ap);
}

static void decide(rg_analysis *a)
{
    const rg_gate_params *p = &a->params;
    if (a->silence_halt_llr >= a->halt_threshold) {
        rg_stratum_evidence sum = stratum_sums(a, worst_stratum(a, false));
        const rg_stratum_evidence *e = &sum;
        uint64_t windows, silent;
        double ctl;
        rg_msprt_sets all = e->sets;
        rg_msprt_sets_add(&all, &e->soak_sets);
        rg_msprt_sets_summary(&all, &windows, &silent, &ctl);
        a->verdict = RG_VERDICT_HALT;
        set_reason(a,
                   "halt: exposed endpoints in '%s' fall silent more often "
                   "than control + %g %% (%llu of %llu judged windows of "
                   "the rollout silent vs %.1f %% of their matched "
                   "controls); silence llr %.2f >= %.2f",
                   e->stratum, 100.0 * p->min_effect,
                   (unsigned long long)silent, (unsigned long long)windows,
                   100.0 * ctl, a->silence_halt_llr, a->halt_threshold);
        return;
    }
    if (a->failure_halt_llr >= a->halt_threshold) {
        rg_stratum_evidence sum = stratum_sums(a, worst_stratum(a, true));
        const rg_stratum_evidence *e = &sum;
        a->verdict = RG_VERDICT_HALT;
        set_reason(a,
                   "halt: %llu of %llu exposed endpoints in '%s' failed "
                   "(this wave and earlier ones; harmless share %g); failure "
                   "llr %.2f >= %.2f",
                   (unsigned long long)(e->exposed_failed + e->early_failed +
                                        e->prior_failed),
                   (unsigned long long)(e->exposed + e->prior_trials),
                   e->stratum, p->baseline_failure, a->failure_halt_llr,
                   a->halt_threshold);
        return;
    }
    a->verdict = RG_VERDICT_CONTINUE;
    size_t lean = leaning_stratum(a);
    if (lean < a->n_strata) {
        set_reason(a,
                   "continue: stratum '%s' leans towards excess (silence llr "
                   "%.2f, failure llr %.2f)",
                   a->strata[lean].stratum, a->strata[lean].silence_llr,
                   a->strata[lean].failure_llr);
    } else if (a->exposed_healthy < p->min_endpoints) {
        set_reason(a, "continue: %llu of %llu healthy endpoints needed",
                   (unsigned long long)a->exposed_healthy,
                   (unsigned long long)p->min_endpoints);
    } else if (a->silence_pass_llr < a->pass_threshold ||
               a->failure_pass_llr < a->pass_threshold) {
        set_reason(a,
                   "continue: not yet clear that silence and failures are "
                   "within tolerance (pass llr silence %.2f, failures %.2f, "
                   "need %.2f)",
                   a->silence_pass_llr, a->failure_pass_llr, a->pass_threshold);
    } else {
        a->verdict = RG_VERDICT_PASS;
        set_reason(
            a,
            "pass: %llu of %llu exposed endpoints healthy; silence within "
            "control + %g (llr %.2f) and failures below %g (llr %.2f), "
            "both >= %.2f",
            (unsigned long long)a->exposed_healthy,
            (unsigned long long)a->exposed, p->tolerated_excess,
            a->silence_pass_llr, p->baseline_failure + p->tolerated_excess,
            a->failure_pass_llr, a->pass_threshold);
    }
}

int rg_analyze(const rg_gate_params *p, const rg_stratum_counts *s, size_t n,
               rg_analysis *out, rg_err *err)
{
    int rc = 0;
    rg_msprt_pass_cell *pass = NULL;
    memset(out, 0, sizeof *out);
    if ((rc = check_params(p, err)) != 0)
        goto cleanup;
    if (n > RG_ANALYZER_MAX_STRATA) {
        rc = rg_err_field(err, RG_EINVAL, "strata",
                          "gate: %zu strata, at most %d", n,
                          RG_ANALYZER_MAX_STRATA);
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++)
        if ((rc = check_counts(&s[i], i, err)) != 0)
            goto cleanup;
    out->params = *p;
    out->halt_threshold = log(2.0 / p->alpha);
    out->pass_threshold = log(1.0 / p->beta);
    out->stratum_prior = RG_MSPRT_STRATUM_PRIOR;
    if (n > 0) {
        out->strata = calloc(n, sizeof *out->strata);
        pass = calloc(n, sizeof *pass);
        if (!out->strata || !pass) {
            rc = rg_err_set(err, RG_ENOMEM, "gate: out of memory");
            goto cleanup;
        }
    }
    out->n_strata = n;
    uint64_t windows = 0;
    for (size_t i = 0; i < n; i++) {
        rg_stratum_evidence *e = &out->strata[i];
        memcpy(e->stratum, s[i].stratum, strlen(s[i].stratum) + 1);
        e->exposed = s[i].exposed;
        e->exposed_healthy = s[i].exposed_healthy;
        e->exposed_failed = s[i].exposed_failed;
        e->exposed_silent = s[i].exposed_silent;
        e->control_windows = s[i].control_windows;
        e->control_silent = s[i].control_silent;
        e->early_failed = s[i].early_failed;
        e->prior_trials = s[i].prior_trials;
        e->prior_failed = s[i].prior_failed;
        e->sets = s[i].sets;
        e->soak_sets = s[i].soak_sets;
        entry_stats(p, e);
        pass[i] = (rg_msprt_pass_cell){.silent = e->exposed_silent,
                                       .windows = e->exposed_healthy +
                                                  e->exposed_silent,
                                       .bad = e->silence_bad};
        out->exposed += e->exposed;
        out->exposed_healthy += e->exposed_healthy;
        out->exposed_failed += e->exposed_failed;
        out->exposed_silent += e->exposed_silent;
        out->exposed_pending += e->exposed_pending;
        out->control_windows += e->control_windows;
        out->control_silent += e->control_silent;
        out->early_failed += e->early_failed;
        windows += e->exposed - e->exposed_pending;
    }
    if ((rc = check_unique(out, err)) != 0 || (rc = check_early(out, err)) != 0)
        goto cleanup;
    for (size_t i = 0, j; i < n; i = j) {
        j = group_end(out, i);
        stratum_stats(out, i, j);
    }
    out->silence_pass_llr = rg_msprt_silence_pass(pass, n, p->tolerated_excess);
    out->failure_pass_llr =
        rg_msprt_failure_pass(out->exposed_failed, windows,
                              p->baseline_failure + p->tolerated_excess);
    decide(out);
cleanup:
    free(pass);
    if (rc != 0)
        rg_analysis_release(out);
    return rc;
}
