/* gate.c - see gate.h. */
#include "gate.h"

#include "evidence.h"
#include "model/bucket.h"
#include "resolve.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_PASSABLE_LIMIT (1ull << 31)

/* What the steps of rg_health_gate share. */
typedef struct judged {
    rg_gate_params p;
    rg_analysis a;      /* per stratum (alpha/2) */
    rg_analysis pooled; /* every stratum as one (alpha/2) */
    rg_analysis worst;  /* pooled, every pending window silent */
    bool pooled_halt;   /* only the pooled analysis halted */
    bool small;
    bool last; /* the plan's last wave: passing it completes the rollout */
    uint64_t min_passable;
    int64_t bake;                  /* max(min_bake, W) */
    size_t n_wait, n_dark, n_hold; /* strata per class (resolve.h) */
    char blocker[240]; /* the first WAIT (else DARK) stratum, in words */
    char held[120];    /* names of the held strata */
} judged;

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
    return fmax(e->silence_llr, e->failure_llr);
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

/* Whether a passes once its strata's leans are left to their classes
 * (resolve.h; strata_lean false) or block from log(1/beta) on (true): the
 * analyzer's pass, or its continue with both pass statistics and
 * min_endpoints met. */
static bool passes(const rg_analysis *a, bool strata_lean)
{
    if (a->verdict == RG_VERDICT_PASS)
        return true;
    if (a->verdict != RG_VERDICT_CONTINUE ||
        a->silence_pass_llr < a->pass_threshold ||
        a->failure_pass_llr < a->pass_threshold ||
        a->exposed_healthy < a->params.min_endpoints)
        return false;
    for (size_t i = 0; strata_lean && i < a->n_strata; i++)
        if (stratum_lean(&a->strata[i]) >= a->pass_threshold)
            return false;
    return true;
}

/* The gate's parameters for wave w (gate.h, "Mapping"). */
static void gate_params(const rg_wave *w, const rg_wave_counts *c,
                        const rg_health_gate_ctx *g, rg_gate_params *p)
{
    rg_gate_params_default(p);
    p->alpha = w->alpha / 2.0; /* the other half is the pooled test's */
    p->beta = w->beta;
    p->tolerated_excess = w->tolerated_excess;
    p->min_effect = w->min_effect;
    p->window_ms = w->window_ms;
    if (g->baseline_failure > 0.0)
        p->baseline_failure = g->baseline_failure;
    p->min_endpoints =
        w->min_endpoints < c->targeted ? w->min_endpoints : c->targeted;
}

/* Runs the pooled analysis into j->pooled and its worst case (every
 * pending window silent) into j->worst. */
static int analyse_pooled(judged *j, const rg_health_gate_ctx *g, rg_err *err)
{
    rg_stratum_counts *in = NULL;
    int rc = 0;
    if (g->n_strata > 0 && !(in = malloc(g->n_strata * sizeof *in)))
        return rg_err_set(err, RG_ENOMEM, "health gate: out of memory");
    for (size_t i = 0; i < g->n_strata; i++) {
        in[i] = g->strata[i];
        in[i].stratum = RG_HEALTH_GATE_POOLED;
    }
    if ((rc = rg_analyze(&j->p, in, g->n_strata, &j->pooled, err)) != 0)
        goto cleanup;
    for (size_t i = 0; i < g->n_strata; i++) { /* as silent sets of the
                                                  most controls, all heard:
                                                  the most a set pays */
        uint64_t pending = in[i].exposed - in[i].exposed_healthy -
                           in[i].exposed_failed - in[i].exposed_silent;
        in[i].exposed_silent += pending;
        rg_msprt_sets_count(&in[i].sets, true, RG_MSPRT_SET_MAX_CONTROLS, 0,
                            pending);
    }
    rc = rg_analyze(&j->p, in, g->n_strata, &j->worst, err);
cleanup:
    free(in);
    return rc;
}

/* Combines the two analyses into j->a: halt when either halts, pass when
 * both pass (strata leans aside: their classes decide). */
static void combine(judged *j)
{
    rg_analysis *a = &j->a;
    if (j->pooled.verdict == RG_VERDICT_HALT && a->verdict != RG_VERDICT_HALT) {
        j->pooled_halt = true;
        a->verdict = RG_VERDICT_HALT;
        memcpy(a->reason, j->pooled.reason, sizeof a->reason);
    } else if (a->verdict != RG_VERDICT_HALT) {
        bool pass_a = passes(a, false), pass_p = passes(&j->pooled, true);
        if (pass_a && pass_p && a->verdict != RG_VERDICT_PASS) {
            size_t k = leaning_max(a);
            a->verdict = RG_VERDICT_PASS;
            snprintf(a->reason, sizeof a->reason,
                     "pass: %llu of %llu exposed endpoints healthy; pass llr "
                     "silence %.2f, failures %.2f >= %.2f; stratum '%.60s' "
                     "leans most (llr %.2f)",
                     (unsigned long long)a->exposed_healthy,
                     (unsigned long long)a->exposed, a->silence_pass_llr,
                     a->failure_pass_llr, a->pass_threshold,
                     a->strata[k].stratum, stratum_lean(&a->strata[k]));
        } else if (!pass_p && a->verdict == RG_VERDICT_PASS) {
            a->verdict = RG_VERDICT_CONTINUE;
            memcpy(a->reason, j->pooled.reason, sizeof a->reason);
        }
    }
}

/* The class of the stratum whose entries start at i (resolve.h), its
 * totals in *t, its reason in why; *end: one past its entries. */
static rg_stratum_class classify(const judged *j, size_t i, size_t *end,
                                 rg_stratum_evidence *t, char *why, size_t n)
{
    const rg_analysis *a = &j->a;
    size_t blamed =
        a->verdict == RG_VERDICT_HALT && !j->pooled_halt ? leaning_max(a) : 0;
    *end = rg_analysis_stratum(a, i, t);
    bool is_blamed = a->verdict == RG_VERDICT_HALT && !j->pooled_halt &&
                     blamed >= i && blamed < *end;
    rg_stratum_class c = rg_resolve_stratum(a, t, is_blamed, why, n);
    if (j->pooled_halt && t->exposed + t->prior_trials > 0) {
        snprintf(why, n,
                 "the pooled test halted: the release fails in excess "
                 "across strata");
        c = RG_SC_HALT;
    }
    return c;
}

/* Counts the strata of j per class; keeps the first blocking stratum's
 * words and the held strata's names. */
static void tally_classes(judged *j)
{
    char why[200];
    size_t hl = 0;
    for (size_t i = 0, end; i < j->a.n_strata; i = end) {
        rg_stratum_evidence t;
        rg_stratum_class c = classify(j, i, &end, &t, why, sizeof why);
        if (c == RG_SC_HOLD && j->last &&
            stratum_lean(&t) >= j->a.pass_threshold) {
            /* completing lifts a cleared stratum's budget (gate.h) */
            c = RG_SC_DARK;
            snprintf(why, sizeof why,
                     "leans towards excess (llr %.2f >= %.2f): the last "
                     "wave does not complete while it does",
                     stratum_lean(&t), j->a.pass_threshold);
        }
        if ((c == RG_SC_WAIT && j->n_wait++ == 0) ||
            (c == RG_SC_DARK && j->n_dark++ == 0 && j->n_wait == 0))
            snprintf(j->blocker, sizeof j->blocker, "stratum '%.40s': %.180s",
                     t.stratum, why);
        if (c == RG_SC_HOLD && j->n_hold++ < 3 && hl < sizeof j->held)
            hl += (size_t)snprintf(j->held + hl, sizeof j->held - hl, "%s'%s'",
                                   hl ? ", " : "", t.stratum);
    }
}

/* Runs both analyses and classifies the strata into j. */
static int judge(judged *j, const rg_wave *w, const rg_wave_counts *c,
                 const rg_health_gate_ctx *g, int64_t elapsed_ms, rg_err *err)
{
    int rc;
    gate_params(w, c, g, &j->p);
    j->last = w->share_ppm >= RG_PPM;
    if ((rc = rg_analyze(&j->p, g->strata, g->n_strata, &j->a, err)) != 0 ||
        (rc = analyse_pooled(j, g, err)) != 0)
        return rc;
    combine(j);
    tally_classes(j);
    j->min_passable = rg_health_gate_min_passable(&j->p);
    j->bake = w->min_bake_ms > w->window_ms ? w->min_bake_ms : w->window_ms;
    j->small = w->internal || c->targeted < j->min_passable ||
               (j->a.exposed < j->min_passable && elapsed_ms >= j->bake);
    return 0;
}

/* "; held alone: 'a', 'b'" when strata are held, else "". */
static const char *held_words(const judged *j, char *buf, size_t n)
{
    buf[0] = '\0';
    if (j->n_hold > 0)
        snprintf(buf, n, "; held alone: %s%s", j->held,
                 j->n_hold > 3 ? " and more" : "");
    return buf;
}

/* A small wave that targets nobody: passes after the bake when it can
 * target nobody (internal ring without members, empty target fleet), else
 * waits for its endpoints to check in. */
static const char *nobody_targeted(const judged *j, const rg_wave *w,
                                   const rg_wave_counts *c, int64_t elapsed,
                                   const char *el, rg_gate_result *out)
{
    bool can_target = !w->internal && w->share_ppm > 0 && c->fleet > 0;
    if (!can_target && elapsed >= j->bake) {
        out->verdict = RG_VERDICT_PASS;
        set_reason(out, "small wave passed after %s: no endpoints to test", el);
    } else {
        set_reason(out, "continue: small wave, baking %s: %s", el,
                   can_target ? "none of the wave's endpoints has checked "
                                "in since it began"
                              : "no endpoints to test");
    }
    return "small_wave";
}

/* A stratum waits (windows open, unresolved) or has no healthy evidence:
 * the wave cannot pass. After the bake, a stratum without healthy
 * evidence and nothing open holds the rollout; so does the max bake. */
static const char *blocked(const judged *j, const rg_wave *w, int64_t elapsed,
                           const char *el, rg_gate_result *out)
{
    bool max_baked = w->max_bake_ms > 0 && elapsed >= w->max_bake_ms;
    if (j->n_wait == 0 && elapsed >= j->bake) {
        out->verdict = RG_VERDICT_HOLD;
        set_reason(out,
                   "held after %s: %.180s; the wave widens no further "
                   "until it shows healthy evidence or an operator decides",
                   el, j->blocker);
        return "strata";
    }
    if (max_baked) {
        char lim[32];
        span(w->max_bake_ms, lim, sizeof lim);
        out->verdict = RG_VERDICT_HOLD;
        set_reason(out, "max bake of %s reached without a pass: %.200s", lim,
                   j->blocker);
        return "max_bake";
    }
    set_reason(out, "continue: baking %s, waiting for %.200s", el, j->blocker);
    return "strata";
}

/* The end of a small wave or of a wave whose evidence is final (past its
 * bake, no stratum waiting): NULL when the pending windows could still
 * tip the pooled silence test (its worst case leans) and the wave is not
 * small; else the rule, having decided. */
static const char *endgame(const judged *j, const rg_wave *w,
                           const rg_wave_counts *c, const char *el,
                           rg_gate_result *out)
{
    const char *rule = j->small ? "small_wave" : "final_evidence";
    const char *what = j->small ? "small wave" : "wave with final evidence";
    const rg_analysis *a = &j->a;
    double tau = a->pass_threshold, worst = 0.0, sil = 0.0, fail = 0.0;
    if (j->pooled.n_strata > 0) {
        worst = j->worst.strata[0].silence_llr;
        sil = j->pooled.strata[0].silence_llr;
        fail = j->pooled.strata[0].failure_llr;
    }
    char tail[160], held[160];
    held_words(j, held, sizeof held);
    if (a->exposed == 0 && j->small) {
        if (c->healthy == 0) {
            set_reason(out,
                       "continue: small wave, %" PRIu64 " targeted, "
                       "none exposed yet",
                       c->targeted);
            return rule;
        }
        out->verdict = RG_VERDICT_PASS;
        set_reason(out,
                   "small wave passed after %s: nothing newly exposed; "
                   "the rollout holds %" PRIu64 " healthy reports",
                   el, c->healthy);
        return rule;
    }
    if (a->exposed == 0 || worst >= tau) {
        if (!j->small)
            return NULL;
        set_reason(out,
                   "continue: small wave, %" PRIu64 " exposed "
                   "endpoints still within their window could tip the "
                   "silence test (llr %.2f if all went silent)",
                   a->exposed_pending, worst);
        return rule;
    }
    if (sil >= tau || (fail >= tau && j->last)) {
        out->verdict = RG_VERDICT_HOLD;
        set_reason(out,
                   "%s held after %s (too little evidence to halt, "
                   "too much against to pass): %s leans towards excess "
                   "across strata (llr %.2f >= %.2f)",
                   what, el, sil >= tau ? "silence" : "failure",
                   fmax(sil, fail), tau);
        return rule;
    }
    tail[0] = '\0';
    if (fail >= tau)
        snprintf(tail, sizeof tail,
                 "; failures lean (llr %.2f): the failure "
                 "test carries into the next wave",
                 fail);
    out->verdict = RG_VERDICT_PASS;
    set_reason(out,
               "%s passed after %s: %" PRIu64 " of %" PRIu64 " exposed "
               "endpoints healthy, %" PRIu64 " failed, %" PRIu64 " silent "
               "(silence llr %.2f)%s%s",
               what, el, a->exposed_healthy, a->exposed,
               a->exposed_failed + a->early_failed, a->exposed_silent, sil,
               tail, held);
    return rule;
}

/* Max bake reached without a pass: pass when the pooled analysis has
 * nothing against the release (both halt statistics <= 0), else hold. */
static const char *max_baked(const judged *j, const rg_wave *w,
                             rg_gate_result *out)
{
    char lim[32], held[160];
    span(w->max_bake_ms, lim, sizeof lim);
    const rg_stratum_evidence *p = j->pooled.n_strata ? j->pooled.strata : NULL;
    if (!p || (p->silence_llr <= 0.0 && p->failure_llr <= 0.0)) {
        out->verdict = RG_VERDICT_PASS;
        set_reason(out,
                   "max bake reached without evidence against (%s; "
                   "%" PRIu64 " of %" PRIu64 " exposed healthy)%s",
                   lim, j->a.exposed_healthy, j->a.exposed,
                   held_words(j, held, sizeof held));
    } else {
        out->verdict = RG_VERDICT_HOLD;
        set_reason(out, "max bake of %s reached without a pass: %.200s", lim,
                   j->a.reason);
    }
    return "max_bake";
}

/* The wave's verdict from j (gate.h, rules 1-6); returns the rule. */
static const char *decide(const judged *j, const rg_wave *w,
                          const rg_wave_counts *c, int64_t elapsed,
                          rg_gate_result *out)
{
    const rg_analysis *a = &j->a;
    char el[32], lim[32], held[160];
    span(elapsed, el, sizeof el);
    out->verdict = RG_VERDICT_CONTINUE;
    if (a->verdict == RG_VERDICT_HALT) {
        out->verdict = RG_VERDICT_HALT;
        set_reason(out, "%s", a->reason);
        return "analyzer";
    }
    if (j->small && c->targeted == 0)
        return nobody_targeted(j, w, c, elapsed, el, out);
    if (j->n_wait + j->n_dark > 0)
        return blocked(j, w, elapsed, el, out);
    if (a->verdict == RG_VERDICT_PASS && elapsed >= w->min_bake_ms) {
        out->verdict = RG_VERDICT_PASS;
        set_reason(out, "%.200s%s", a->reason,
                   held_words(j, held, sizeof held));
        return "analyzer";
    }
    const char *rule = NULL;
    if (a->verdict != RG_VERDICT_PASS && elapsed >= j->bake &&
        (rule = endgame(j, w, c, el, out)) != NULL)
        return rule;
    if (w->max_bake_ms > 0 && elapsed >= w->max_bake_ms)
        return max_baked(j, w, out);
    span(a->verdict == RG_VERDICT_PASS ? w->min_bake_ms : j->bake, lim,
         sizeof lim);
    if (a->verdict == RG_VERDICT_PASS) {
        set_reason(out,
                   "continue: the analyzer passes; baking %s of at least %s",
                   el, lim);
        return "min_bake";
    }
    if (j->small) {
        set_reason(out,
                   "continue: small wave (%" PRIu64 " targeted, %" PRIu64
                   " needed to pass statistically), baking %s of %s",
                   c->targeted, j->min_passable, el, lim);
        return "small_wave";
    }
    set_reason(out, "%s", a->reason);
    return "analyzer";
}

/* The per-stratum verdicts of j (gate.h, evidence "strata"): [{"name",
 * "verdict", "reason"}], one per stratum in input order. NULL on
 * allocation failure. */
static json_t *strata_verdicts(const judged *j)
{
    json_t *out = json_array();
    for (size_t i = 0, end; out && i < j->a.n_strata; i = end) {
        rg_stratum_evidence t;
        char why[200];
        rg_stratum_class c = classify(j, i, &end, &t, why, sizeof why);
        if (json_array_append_new(
                out, json_pack("{s:s, s:s, s:s}", "name", t.stratum, "verdict",
                               rg_resolve_verdict(c), "reason", why)) < 0) {
            json_decref(out);
            out = NULL;
        }
    }
    return out;
}

static json_t *evidence(const judged *j, const char *rule, const rg_wave *w,
                        const rg_wave_counts *c, int64_t elapsed_ms)
{
    json_t *an = rg_analysis_to_json(&j->a);
    json_t *po = rg_analysis_to_json(&j->pooled);
    json_t *st = strata_verdicts(j);
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
        "window_ms", (json_int_t)w->window_ms, "small_wave", "small", j->small,
        "min_passable", (json_int_t)j->min_passable, "targeted",
        (json_int_t)c->targeted);
}

int rg_health_gate(const rg_wave *wave, const rg_wave_counts *counts,
                   int64_t elapsed_ms, void *ctx, rg_gate_result *out,
                   rg_err *err)
{
    const rg_health_gate_ctx *g = ctx;
    judged j;
    int rc = 0;
    memset(&j, 0, sizeof j);
    memset(out, 0, sizeof *out);
    if (!g || (g->n_strata > 0 && !g->strata))
        rc = rg_err_set(err, RG_EINVAL, "health gate: no counts given");
    else if ((rc = judge(&j, wave, counts, g, elapsed_ms, err)) == 0) {
        const char *rule = decide(&j, wave, counts, elapsed_ms, out);
        out->evidence = evidence(&j, rule, wave, counts, elapsed_ms);
        if (!out->evidence)
            rc = rg_err_set(err, RG_ENOMEM, "health gate: out of memory");
    }
    if (rc != 0)
        rg_gate_result_release(out);
    rg_analysis_release(&j.a);
    rg_analysis_release(&j.pooled);
    rg_analysis_release(&j.worst);
    return rc;
}
