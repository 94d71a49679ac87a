/* gate.c - see gate.h. */
#include "gate.h"

#include "evidence.h"
#include "model/bucket.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_PASSABLE_LIMIT (1ull << 31)

/* Formats ms like "1h2m3s", "3m0s", "45s" (whole seconds) into out. */
static void span(int64_t ms, char *out, size_t n)
{
    int64_t s = ms / 1000;
    if (s < 0)
        s = 0;
    if (s >= 3600)
        snprintf(out, n, "%" PRId64 "h%" PRId64 "m%" PRId64 "s", s / 3600,
                 s / 60 % 60, s % 60);
    else if (s >= 60)
        snprintf(out, n, "%" PRId64 "m%" PRId64 "s", s / 60, s % 60);
    else
        snprintf(out, n, "%" PRId64 "s", s);
}

/* Writes the one-line reason of out (truncated to fit). */
static void set_reason(rg_gate_result *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_reason(rg_gate_result *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->reason, sizeof out->reason, fmt, ap);
    va_end(ap);
}

/* Whether rg_analyze(p) passes n all-healthy exposed endpoints against
 * 10 n quiet control windows. */
static bool passes_all_healthy(const rg_gate_params *p, uint64_t n)
{
    rg_stratum_counts c = {.stratum = "probe",
                           .exposed = n,
                           .exposed_healthy = n,
                           .control_windows = 10 * n};
    rg_analysis a;
    bool pass =
        rg_analyze(p, &c, 1, &a, NULL) == 0 && a.verdict == RG_VERDICT_PASS;
    rg_analysis_release(&a);
    return pass;
}

uint64_t rg_health_gate_min_passable(const rg_gate_params *p)
{
    rg_gate_params q = *p;
    q.min_endpoints = 0;
    if (!passes_all_healthy(&q, MIN_PASSABLE_LIMIT))
        return 0;
    uint64_t lo = 1, hi = MIN_PASSABLE_LIMIT; /* answer in [lo, hi] */
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (passes_all_healthy(&q, mid))
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* The larger of a stratum's two halt statistics. */
static double stratum_lean(const rg_stratum_evidence *e)
{
    return e->silence_llr > e->failure_llr ? e->silence_llr : e->failure_llr;
}

/* Index of the stratum of a with the largest failure (or silence) halt
 * statistic (0 if none). */
static size_t max_llr(const rg_analysis *a, bool failures)
{
    size_t k = 0;
    for (size_t i = 1; i < a->n_strata; i++) {
        double vi =
            failures ? a->strata[i].failure_llr : a->strata[i].silence_llr;
        double vk =
            failures ? a->strata[k].failure_llr : a->strata[k].silence_llr;
        if (vi > vk)
            k = i;
    }
    return k;
}

/* Index of the stratum of a with the largest halt statistic (0 if none). */
static size_t leaning_max(const rg_analysis *a)
{
    size_t k = 0;
    for (size_t i = 1; i < a->n_strata; i++)
        if (stratum_lean(&a->strata[i]) > stratum_lean(&a->strata[k]))
            k = i;
    return k;
}

/* Whether a passes once a stratum's lean towards excess only blocks the
 * pass when it reaches the pass threshold log(1/beta): the analyzer's
 * pass, or its continue with both pass statistics and min_endpoints met
 * and every stratum's halt statistics below log(1/beta). */
static bool passes(const rg_analysis *a)
{
    if (a->verdict == RG_VERDICT_PASS)
        return true;
    if (a->verdict != RG_VERDICT_CONTINUE ||
        a->silence_pass_llr < a->pass_threshold ||
        a->failure_pass_llr < a->pass_threshold ||
        a->exposed_healthy < a->params.min_endpoints)
        return false;
    for (size_t i = 0; i < a->n_strata; i++)
        if (stratum_lean(&a->strata[i]) >= a->pass_threshold)
            return false;
    return true;
}

/* True when nothing in a argues against the release: no stratum's halt
 * statistics lean towards excess and failures stay within the harmless
 * share of the resolved exposed endpoints. */
static bool nothing_against(const rg_analysis *a)
{
    for (size_t i = 0; i < a->n_strata; i++)
        if (a->strata[i].silence_llr > 0.0 || a->strata[i].failure_llr > 0.0)
            return false;
    uint64_t resolved = a->exposed - a->exposed_pending;
    return (double)a->exposed_failed <=
           a->params.baseline_failure * (double)resolved;
}

/* Outcome of the small-wave rule (apart from the bake time). */
enum { SMALL_WAIT, SMALL_PASS, SMALL_HOLD };

/* The small-wave conditions of gate.h: SMALL_WAIT while windows are
 * pending or healthy reports are missing, SMALL_HOLD when the resolved
 * windows hold more failures than allowed or a stratum's silence leans
 * towards excess (its halt statistic, in a or in pooled, at least the pass
 * threshold log(1/beta)), SMALL_PASS otherwise. Writes what is missing (or
 * what holds) into why. */
static int small_wave_check(const rg_analysis *a, const rg_analysis *pooled,
                            const rg_wave *w, const rg_wave_counts *c,
                            char *why, size_t n)
{
    uint64_t need =
        w->min_endpoints < c->targeted ? w->min_endpoints : c->targeted;
    if (need < 1)
        need = 1;
    uint64_t resolved = a->exposed - a->exposed_pending;
    double share = a->control_windows
                       ? (double)a->control_silent / (double)a->control_windows
                       : 0.0;
    size_t ks = max_llr(a, false), ps = max_llr(pooled, false);
    double lean = a->n_strata ? a->strata[ks].silence_llr : 0.0;
    if (pooled->n_strata && pooled->strata[ps].silence_llr > lean)
        lean = pooled->strata[ps].silence_llr;
    double failed_allowed = (double)resolved * (a->params.baseline_failure +
                                                a->params.tolerated_excess);
    double pending_allowed = a->params.tolerated_excess * (double)a->exposed;
    if (pending_allowed < 1.0)
        pending_allowed = 1.0;
    if ((double)a->exposed_pending > pending_allowed) {
        snprintf(why, n, "%" PRIu64 " exposed endpoints still in their window",
                 a->exposed_pending);
        return SMALL_WAIT;
    }
    if ((double)a->exposed_failed > failed_allowed) {
        snprintf(why, n,
                 "%" PRIu64 " of %" PRIu64 " exposed endpoints failed, more "
                 "than %g + %g allows",
                 a->exposed_failed, resolved, a->params.baseline_failure,
                 a->params.tolerated_excess);
        return SMALL_HOLD;
    }
    if (lean >= a->pass_threshold) {
        snprintf(why, n,
                 "%" PRIu64 " of %" PRIu64 " exposed windows silent while "
                 "%.4f of control windows were: silence leans towards excess "
                 "(llr %.2f >= %.2f)",
                 a->exposed_silent, resolved, share, lean, a->pass_threshold);
        return SMALL_HOLD;
    }
    if (c->healthy < need) {
        snprintf(why, n,
                 "%" PRIu64 " of %" PRIu64 " healthy endpoints needed (the "
                 "rollout's so far)",
                 c->healthy, need);
        return SMALL_WAIT;
    }
    /* Windows that ended healthy, and the healthy reports `rollout
     * status` counts (an endpoint may report before its window ends). */
    snprintf(why, n,
             "%" PRIu64 " of %" PRIu64 " windows healthy (%" PRIu64
             " reported), %" PRIu64 " failed (at most %.1f allowed), %" PRIu64
             " silent (silence llr %.2f)",
             a->exposed_healthy, a->exposed, c->healthy,
             a->exposed_failed + a->early_failed, failed_allowed,
             a->exposed_silent, lean);
    return SMALL_PASS;
}

/* Sums the entries [i, j) of one stratum (its periods) into *t. */
static void stratum_total(const rg_analysis *a, size_t i, size_t j,
                          rg_stratum_evidence *t)
{
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
    }
}

/* The verdict of one stratum (its counts summed in t) and its reason in
 * plain words: when the analysis halts, halt if its own halt statistic
 * reaches the halt threshold or it is the stratum the analysis blames
 * (alone, a stratum's statistic is not the test: the strata's combined
 * one is); pending
 * while nothing of this wave is exposed, or nothing failed and windows are
 * still open with no healthy report yet or more of them than the
 * small-wave rule lets a wave pass with; hold when it leans towards excess at
 * the pass threshold, no exposed endpoint reported healthy, or its failures or
 * silence exceed what the small-wave rule allows; pass otherwise (healthy
 * evidence). */
static const char *stratum_verdict(const rg_analysis *a,
                                   const rg_stratum_evidence *t, bool blamed,
                                   char *why, size_t n)
{
    uint64_t failed = t->exposed_failed + t->early_failed;
    uint64_t resolved = t->exposed - t->exposed_pending;
    double ctl = t->control_windows
                     ? (double)t->control_silent / (double)t->control_windows
                     : 0.0;
    double lean = stratum_lean(t);
    double pending_allowed = a->params.tolerated_excess * (double)t->exposed;
    if (a->verdict == RG_VERDICT_HALT &&
        (lean >= a->halt_threshold || blamed)) {
        if (t->silence_llr >= t->failure_llr)
            snprintf(why, n,
                     "%" PRIu64 " of %" PRIu64 " exposed endpoints went "
                     "silent after applying while %.0f %% of comparable "
                     "endpoints did",
                     t->exposed_silent, resolved, 100.0 * ctl);
        else
            snprintf(why, n,
                     "%" PRIu64 " of %" PRIu64 " exposed endpoints failed "
                     "(this wave and earlier ones)",
                     failed + t->prior_failed, t->exposed + t->prior_trials);
        return "halt";
    }
    if (t->exposed == 0) {
        snprintf(why, n, "no endpoint of this wave exposed yet");
        return "pending";
    }
    if (pending_allowed < 1.0)
        pending_allowed = 1.0;
    if (failed == 0 && t->exposed_pending > 0 &&
        (t->exposed_healthy == 0 ||
         (double)t->exposed_pending > pending_allowed)) {
        snprintf(why, n,
                 "%" PRIu64 " of %" PRIu64 " exposed endpoints still within "
                 "their window",
                 t->exposed_pending, t->exposed);
        return "pending";
    }
    double silent_allowed =
        (double)resolved * (ctl + a->params.tolerated_excess);
    double failed_allowed = (double)resolved * (a->params.baseline_failure +
                                                a->params.tolerated_excess);
    if (lean >= a->pass_threshold || t->exposed_healthy == 0 ||
        (double)failed > failed_allowed ||
        (double)t->exposed_silent >
            (silent_allowed > 1.0 ? silent_allowed : 1.0)) {
        snprintf(why, n,
                 "%" PRIu64 " of %" PRIu64
                 " exposed endpoints healthy, %" PRIu64 " failed, %" PRIu64
                 " silent while %.0f %% of comparable "
                 "endpoints were: not clean enough to pass",
                 t->exposed_healthy, t->exposed, failed, t->exposed_silent,
                 100.0 * ctl);
        return "hold";
    }
    snprintf(why, n,
             "%" PRIu64 " of %" PRIu64 " exposed endpoints healthy, %" PRIu64
             " failed, %" PRIu64 " silent",
             t->exposed_healthy, t->exposed, failed, t->exposed_silent);
    return "pass";
}

/* The per-stratum verdicts of analysis a (gate.h, evidence "strata"):
 * [{"name", "verdict", "reason"}], one per stratum in input order. When
 * only the pooled test halted (pooled_halt) the evidence is about every
 * stratum: each exposed one halts. NULL on allocation failure. */
static json_t *strata_verdicts(const rg_analysis *a, bool pooled_halt)
{
    json_t *out = json_array();
    size_t blamed = a->verdict == RG_VERDICT_HALT && !pooled_halt
                        ? leaning_max(a)
                        : SIZE_MAX;
    for (size_t i = 0, j; out && i < a->n_strata; i = j) {
        for (j = i + 1; j < a->n_strata &&
                        strcmp(a->strata[j].stratum, a->strata[i].stratum) == 0;
             j++)
            ;
        rg_stratum_evidence t;
        char why[200];
        stratum_total(a, i, j, &t);
        const char *v =
            stratum_verdict(a, &t, blamed >= i && blamed < j, why, sizeof why);
        if (pooled_halt && t.exposed + t.prior_trials > 0) {
            v = "halt";
            snprintf(why, sizeof why,
                     "the pooled test halted: the release fails in excess "
                     "across strata");
        }
        if (json_array_append_new(out, json_pack("{s:s, s:s, s:s}", "name",
                                                 t.stratum, "verdict", v,
                                                 "reason", why)) < 0) {
            json_decref(out);
            out = NULL;
        }
    }
    return out;
}

static json_t *evidence(const rg_analysis *a, const rg_analysis *pooled,
                        bool pooled_halt, const char *rule, const rg_wave *w,
                        const rg_wave_counts *c, int64_t elapsed_ms, bool small,
                        uint64_t min_passable)
{
    json_t *an = rg_analysis_to_json(a);
    json_t *po = rg_analysis_to_json(pooled);
    json_t *st = strata_verdicts(a, pooled_halt);
    if (!an || !po || !st) {
        json_decref(an);
        json_decref(po);
        json_decref(st);
        return NULL;
    }
    return json_pack(
        "{s:s, s:s, s:o, s:o, s:o, s:{s:I, s:I, s:I, s:I}, "
        "s:{s:b, s:I, s:I}}",
        "gate", "health", "rule", rule, "analysis", an, "pooled", po, "strata",
        st, "bake", "elapsed_ms", (json_int_t)elapsed_ms, "min_bake_ms",
        (json_int_t)w->min_bake_ms, "max_bake_ms", (json_int_t)w->max_bake_ms,
        "window_ms", (json_int_t)w->window_ms, "small_wave", "small", small,
        "min_passable", (json_int_t)min_passable, "targeted",
        (json_int_t)c->targeted);
}

int rg_health_gate(const rg_wave *wave, const rg_wave_counts *counts,
                   int64_t elapsed_ms, void *ctx, rg_gate_result *out,
                   rg_err *err)
{
    const rg_health_gate_ctx *g = ctx;
    rg_analysis a, pooled;
    rg_stratum_counts *pooled_in = NULL;
    int rc = 0;
    memset(&a, 0, sizeof a);
    memset(&pooled, 0, sizeof pooled);
    memset(out, 0, sizeof *out);
    out->verdict = RG_VERDICT_CONTINUE;
    if (!g || (g->n_strata > 0 && !g->strata)) {
        rc = rg_err_set(err, RG_EINVAL, "health gate: no counts given");
        goto cleanup;
    }

    rg_gate_params p;
    rg_gate_params_default(&p);
    p.alpha = wave->alpha;
    p.beta = wave->beta;
    p.tolerated_excess = wave->tolerated_excess;
    p.window_ms = wave->window_ms;
    if (g->baseline_failure > 0.0)
        p.baseline_failure = g->baseline_failure;
    p.min_endpoints = wave->min_endpoints < counts->targeted
                          ? wave->min_endpoints
                          : counts->targeted;
    p.alpha = wave->alpha / 2.0; /* the other half is the pooled test's */
    if ((rc = rg_analyze(&p, g->strata, g->n_strata, &a, err)) != 0)
        goto cleanup;
    if (g->n_strata > 0) {
        pooled_in = malloc(g->n_strata * sizeof *pooled_in);
        if (!pooled_in) {
            rc = rg_err_set(err, RG_ENOMEM, "health gate: out of memory");
            goto cleanup;
        }
        for (size_t i = 0; i < g->n_strata; i++) {
            pooled_in[i] = g->strata[i];
            pooled_in[i].stratum = RG_HEALTH_GATE_POOLED;
        }
    }
    if ((rc = rg_analyze(&p, pooled_in, g->n_strata, &pooled, err)) != 0)
        goto cleanup;
    bool pooled_halt = false;
    if (pooled.verdict == RG_VERDICT_HALT && a.verdict != RG_VERDICT_HALT) {
        pooled_halt = true;
        a.verdict = RG_VERDICT_HALT;
        memcpy(a.reason, pooled.reason, sizeof a.reason);
    } else if (a.verdict != RG_VERDICT_HALT) {
        bool pass_a = passes(&a), pass_p = passes(&pooled);
        if (pass_a && pass_p && a.verdict != RG_VERDICT_PASS) {
            size_t k = leaning_max(&a);
            a.verdict = RG_VERDICT_PASS;
            snprintf(a.reason, sizeof a.reason,
                     "pass: %llu of %llu exposed endpoints healthy; pass llr "
                     "silence %.2f, failures %.2f >= %.2f; stratum '%.60s' "
                     "leans (llr %.2f) but below %.2f",
                     (unsigned long long)a.exposed_healthy,
                     (unsigned long long)a.exposed, a.silence_pass_llr,
                     a.failure_pass_llr, a.pass_threshold, a.strata[k].stratum,
                     stratum_lean(&a.strata[k]), a.pass_threshold);
        } else if (!pass_p && a.verdict == RG_VERDICT_PASS) {
            a.verdict = RG_VERDICT_CONTINUE;
            memcpy(a.reason, pooled.reason, sizeof a.reason);
        }
    }

    uint64_t min_passable = rg_health_gate_min_passable(&p);
    int64_t small_bake = wave->min_bake_ms > wave->window_ms ? wave->min_bake_ms
                                                             : wave->window_ms;
    bool small = wave->internal || counts->targeted < min_passable ||
                 (a.exposed < min_passable && elapsed_ms >= small_bake);
    char el[32], lim[32], why[512];
    span(elapsed_ms, el, sizeof el);
    const char *rule = "analyzer";
    int small_rule = SMALL_WAIT;
    why[0] = '\0';
    /* Nobody targeted passes only a wave that can target nobody: an
     * internal ring without members, an empty target fleet. Else the
     * wave's endpoints have not checked in since it began: wait for them
     * (a crashing release must not pass a wave nobody tried). */
    bool can_target =
        !wave->internal && wave->share_ppm > 0 && counts->fleet > 0;
    if (small && counts->targeted == 0 && !can_target) {
        small_rule = SMALL_PASS;
        snprintf(why, sizeof why, "no endpoints to test");
    } else if (small && counts->targeted == 0) {
        snprintf(why, sizeof why,
                 "none of the wave's endpoints has checked in since it "
                 "began");
    } else if (small) {
        small_rule =
            small_wave_check(&a, &pooled, wave, counts, why, sizeof why);
    }
    /* Final evidence: a wave past max(min_bake, W) whose windows have
     * (nearly) all ended, on which the analyzer can neither pass nor halt,
     * is judged by the small-wave rule too; in the last wave a stratum
     * whose failures lean at the pass threshold or beyond holds it. */
    double pending_allowed = wave->tolerated_excess * (double)a.exposed;
    bool final = !small && elapsed_ms >= small_bake &&
                 a.verdict == RG_VERDICT_CONTINUE && a.exposed > 0 &&
                 (double)a.exposed_pending <=
                     (pending_allowed > 1.0 ? pending_allowed : 1.0);
    if (final) {
        small_rule =
            small_wave_check(&a, &pooled, wave, counts, why, sizeof why);
        size_t kf = max_llr(&a, true), pf = max_llr(&pooled, true);
        bool failure_leans =
            a.strata[kf].failure_llr >= a.pass_threshold ||
            pooled.strata[pf].failure_llr >= pooled.pass_threshold;
        bool last = wave->share_ppm >= RG_PPM;
        if (small_rule == SMALL_PASS && failure_leans && last) {
            small_rule = SMALL_HOLD;
            snprintf(why, sizeof why,
                     "stratum '%.60s' leans towards excess failures (llr "
                     "%.2f)",
                     a.strata[kf].stratum, a.strata[kf].failure_llr);
        } else if (small_rule == SMALL_PASS && failure_leans) {
            /* Failures within tolerance but leaning: the failure test
             * accumulates over the rollout's waves, so the next wave's
             * exposures settle it (and halt when the release is bad). */
            char tail[sizeof why];
            snprintf(tail, sizeof tail, "%s", why);
            snprintf(why, sizeof why,
                     "%.120s; failures lean in '%.40s' (llr %.2f): the "
                     "failure test carries into the next wave",
                     tail, a.strata[kf].stratum, a.strata[kf].failure_llr);
        }
    }
    bool small_baked = (small || final) && elapsed_ms >= small_bake;

    if (a.verdict == RG_VERDICT_HALT) {
        out->verdict = RG_VERDICT_HALT;
        set_reason(out, "%s", a.reason);
    } else if (small_baked && small_rule == SMALL_PASS) {
        rule = small ? "small_wave" : "final_evidence";
        out->verdict = RG_VERDICT_PASS;
        set_reason(out, "%s passed after %s: %.200s",
                   small ? "small wave" : "wave with final evidence", el, why);
    } else if (small_baked && small_rule == SMALL_HOLD &&
               a.verdict != RG_VERDICT_PASS) {
        rule = small ? "small_wave" : "final_evidence";
        out->verdict = RG_VERDICT_HOLD;
        set_reason(out,
                   "%s held after %s (too little evidence to judge, and it "
                   "does not look clean): %.160s",
                   small ? "small wave" : "wave with final evidence", el, why);
    } else if (a.verdict == RG_VERDICT_PASS &&
               elapsed_ms >= wave->min_bake_ms) {
        out->verdict = RG_VERDICT_PASS;
        set_reason(out, "%s", a.reason);
    } else if (wave->max_bake_ms > 0 && elapsed_ms >= wave->max_bake_ms) {
        rule = "max_bake";
        span(wave->max_bake_ms, lim, sizeof lim);
        if (nothing_against(&a) && nothing_against(&pooled)) {
            out->verdict = RG_VERDICT_PASS;
            set_reason(out,
                       "max bake reached without evidence against (%s; %" PRIu64
                       " of %" PRIu64 " exposed healthy)",
                       lim, a.exposed_healthy, a.exposed);
        } else {
            out->verdict = RG_VERDICT_HOLD;
            set_reason(out, "max bake of %s reached without a pass: %.200s",
                       lim, a.reason);
        }
    } else if (a.verdict == RG_VERDICT_PASS) {
        rule = "min_bake";
        span(wave->min_bake_ms, lim, sizeof lim);
        set_reason(out,
                   "continue: the analyzer passes; baking %s of at least %s",
                   el, lim);
    } else if (small) {
        rule = "small_wave";
        span(small_bake, lim, sizeof lim);
        set_reason(out,
                   "continue: small wave (%" PRIu64 " targeted, %" PRIu64
                   " needed to pass statistically), baking %s of %s: %.150s",
                   counts->targeted, min_passable, el, lim, why);
    } else {
        set_reason(out, "%s", a.reason);
    }
    out->evidence = evidence(&a, &pooled, pooled_halt, rule, wave, counts,
                             elapsed_ms, small, min_passable);
    if (!out->evidence)
        rc = rg_err_set(err, RG_ENOMEM, "health gate: out of memory");
cleanup:
    if (rc != 0)
        rg_gate_result_release(out);
    rg_analysis_release(&a);
    rg_analysis_release(&pooled);
    free(pooled_in);
    return rc;
}
