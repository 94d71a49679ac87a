/* evidence.c - see evidence.h. */
#include "evidence.h"

#include "common/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *stratum_counts_json(const rg_stratum_evidence *e)
{
    return json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
                     "s:I, s:f, s:f, s:f, s:f}",
                     "stratum", e->stratum, "exposed", (json_int_t)e->exposed,
                     "exposed_healthy", (json_int_t)e->exposed_healthy,
                     "exposed_failed", (json_int_t)e->exposed_failed,
                     "exposed_silent", (json_int_t)e->exposed_silent,
                     "exposed_pending", (json_int_t)e->exposed_pending,
                     "control_windows", (json_int_t)e->control_windows,
                     "control_silent", (json_int_t)e->control_silent,
                     "early_failed", (json_int_t)e->early_failed,
                     "prior_trials", (json_int_t)e->prior_trials,
                     "prior_failed", (json_int_t)e->prior_failed, "rho", e->rho,
                     "silence_llr", e->silence_llr, "failure_llr",
                     e->failure_llr, "silence_bad", e->silence_bad);
}

/* [[k, s, n], ...]: the cells of n (RG_MSPRT_SET_CELLS counts) that hold
 * sets, by k then s. */
static json_t *cells_json(const uint64_t *n)
{
    json_t *a = json_array();
    for (uint32_t k = 1; a && k <= RG_MSPRT_SET_MAX_CONTROLS; k++)
        for (uint32_t j = 0; a && j <= k; j++) {
            uint64_t v = n[rg_msprt_set_cell(k, j)];
            if (v &&
                json_array_append_new(a, json_pack("[i, i, I]", (int)k, (int)j,
                                                   (json_int_t)v)) != 0) {
                json_decref(a);
                a = NULL;
            }
        }
    return a;
}

/* Adds s to o as key (nothing when s is empty). Returns 0 or -1. */
static int add_sets(json_t *o, const char *key, const rg_msprt_sets *s)
{
    if (rg_msprt_sets_empty(s))
        return 0;
    json_t *v = json_pack("{s:o, s:o}", "silent", cells_json(s->silent),
                          "heard", cells_json(s->heard));
    return v ? json_object_set_new(o, key, v) : -1;
}

static json_t *stratum_json(const rg_stratum_evidence *e)
{
    json_t *o = stratum_counts_json(e);
    if (o && (add_sets(o, "sets", &e->sets) != 0 ||
              add_sets(o, "soak_sets", &e->soak_sets) != 0)) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *rg_analysis_to_json(const rg_analysis *a)
{
    json_t *strata = json_array();
    json_t *o = NULL;
    if (!strata)
        goto cleanup;
    for (size_t i = 0; i < a->n_strata; i++)
        if (json_array_append_new(strata, stratum_json(&a->strata[i])) != 0)
            goto cleanup;
    const rg_gate_params *p = &a->params;
    /* "o" steals strata, also when json_pack fails. */
    o = json_pack(
        "{s:s, s:s, s:{s:f, s:f, s:f, s:f, s:I, s:I, s:f}, s:{s:f, s:f}, s:f, "
        "s:{s:f, s:f, s:f, s:f}, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}, "
        "s:o}",
        "verdict", rg_verdict_name(a->verdict), "reason", a->reason, "params",
        "alpha", p->alpha, "beta", p->beta, "tolerated_excess",
        p->tolerated_excess, "baseline_failure", p->baseline_failure,
        "window_ms", (json_int_t)p->window_ms, "min_endpoints",
        (json_int_t)p->min_endpoints, "min_effect", p->min_effect, "thresholds",
        "halt", a->halt_threshold, "pass", a->pass_threshold, "stratum_prior",
        a->stratum_prior, "llr", "silence_halt", a->silence_halt_llr,
        "failure_halt", a->failure_halt_llr, "silence_pass",
        a->silence_pass_llr, "failure_pass", a->failure_pass_llr, "totals",
        "exposed", (json_int_t)a->exposed, "exposed_healthy",
        (json_int_t)a->exposed_healthy, "exposed_failed",
        (json_int_t)a->exposed_failed, "exposed_silent",
        (json_int_t)a->exposed_silent, "exposed_pending",
        (json_int_t)a->exposed_pending, "control_windows",
        (json_int_t)a->control_windows, "control_silent",
        (json_int_t)a->control_silent, "early_failed",
        (json_int_t)a->early_failed, "strata", strata);
    strata = NULL;
cleanup:
    json_decref(strata);
    return o;
}

static int read_params(const json_t *ev, rg_gate_params *p, rg_err *err)
{
    json_t *o = NULL;
    int64_t w = 0, m = 0;
    int rc;
    rg_gate_params_default(p); /* min_effect: absent in older records */
    if ((rc = rg_json_object(ev, "params", true, &o, err)) != 0 ||
        (rc = rg_json_number(o, "alpha", true, 0, 1, &p->alpha, err)) != 0 ||
        (rc = rg_json_number(o, "beta", true, 0, 1, &p->beta, err)) != 0 ||
        (rc = rg_json_number(o, "tolerated_excess", true, 0, 1,
                             &p->tolerated_excess, err)) != 0 ||
        (rc = rg_json_number(o, "baseline_failure", true, 0, 1,
                             &p->baseline_failure, err)) != 0 ||
        (rc = rg_json_int(o, "window_ms", true, 1, INT64_MAX, &w, err)) != 0 ||
        (rc = rg_json_int(o, "min_endpoints", true, 0, INT64_MAX, &m, err)) !=
            0 ||
        (rc = rg_json_number(o, "min_effect", false, 0, 0.5, &p->min_effect,
                             err)) != 0)
        return rc;
    p->window_ms = w;
    p->min_endpoints = (uint64_t)m;
    return 0;
}

/* Reads one [k, s, n] of sets.<name> into sets. */
static int read_cell(const json_t *c, const char *name, bool silent,
                     rg_msprt_sets *sets, rg_err *err)
{
    const json_t *k = json_array_get(c, 0), *j = json_array_get(c, 1),
                 *n = json_array_get(c, 2);
    json_int_t v = json_integer_value(n);
    if (!json_is_array(c) || json_array_size(c) != 3 || !json_is_integer(k) ||
        !json_is_integer(j) || !json_is_integer(n) || v < 0 ||
        (uint64_t)v > RG_ANALYZER_MAX_COUNT || json_integer_value(k) < 1 ||
        json_integer_value(k) > RG_MSPRT_SET_MAX_CONTROLS ||
        json_integer_value(j) < 0 ||
        json_integer_value(j) > json_integer_value(k))
        return rg_err_field(err, RG_EINVAL, name,
                            "evidence: %s.%s must hold [controls 1..%d, "
                            "silent controls 0..controls, count 0..1e12]",
                            name, silent ? "silent" : "heard",
                            RG_MSPRT_SET_MAX_CONTROLS);
    rg_msprt_sets_count(sets, silent, (uint32_t)json_integer_value(k),
                        (uint32_t)json_integer_value(j), (uint64_t)v);
    return 0;
}

/* Reads a stratum's optional sets `name` (absent: none); a cell given
 * twice adds up (each count still at most 1e12: rg_analyze checks). */
static int read_sets(const json_t *item, const char *name, rg_msprt_sets *sets,
                     rg_err *err)
{
    json_t *o = NULL;
    int rc = rg_json_object(item, name, false, &o, err);
    const char *const keys[] = {"silent", "heard"};
    for (size_t k = 0; rc == 0 && o && k < 2; k++) {
        const json_t *a = json_object_get(o, keys[k]);
        if (!json_is_array(a))
            return rg_err_field(err, RG_EINVAL, name,
                                "evidence: %s.%s must be an array", name,
                                keys[k]);
        for (size_t i = 0; rc == 0 && i < json_array_size(a); i++)
            rc = read_cell(json_array_get(a, i), name, k == 0, sets, err);
    }
    return rc;
}

/* Reads strata[i]'s name and counts; the name points into the JSON. */
static int read_stratum(const json_t *item, size_t i, rg_stratum_counts *c,
                        rg_err *err)
{
    static const char *const names[] = {"exposed",         "exposed_healthy",
                                        "exposed_failed",  "exposed_silent",
                                        "control_windows", "control_silent"};
    uint64_t *dst[] = {&c->exposed,         &c->exposed_healthy,
                       &c->exposed_failed,  &c->exposed_silent,
                       &c->control_windows, &c->control_silent};
    int rc = 0;
    if (!json_is_object(item)) {
        rc = rg_err_set(err, RG_EINVAL,
                        "evidence: strata[%zu] must be an object", i);
    } else {
        rc = rg_json_string(item, "stratum", true, RG_STRATUM_NAME_MAX - 1,
                            &c->stratum, err);
        for (size_t k = 0; rc == 0 && k < sizeof names / sizeof names[0]; k++) {
            int64_t v = 0;
            rc = rg_json_int(item, names[k], true, 0,
                             (int64_t)RG_ANALYZER_MAX_COUNT, &v, err);
            *dst[k] = (uint64_t)v;
        }
        /* Early failures and earlier waves' failure evidence; absent in
         * older records. */
        int64_t ef = 0, pt = 0, pf = 0;
        if (rc == 0)
            rc = rg_json_int(item, "early_failed", false, 0,
                             (int64_t)RG_ANALYZER_MAX_COUNT, &ef, err);
        if (rc == 0)
            rc = rg_json_int(item, "prior_trials", false, 0,
                             (int64_t)RG_ANALYZER_MAX_COUNT, &pt, err);
        if (rc == 0)
            rc = rg_json_int(item, "prior_failed", false, 0,
                             (int64_t)RG_ANALYZER_MAX_COUNT, &pf, err);
        c->early_failed = (uint64_t)ef;
        c->prior_trials = (uint64_t)pt;
        c->prior_failed = (uint64_t)pf;
        if (rc == 0)
            rc = read_sets(item, "sets", &c->sets, err);
        if (rc == 0)
            rc = read_sets(item, "soak_sets", &c->soak_sets, err);
    }
    if (rc != 0 && err) {
        char leaf[sizeof err->field];
        memcpy(leaf, err->field, sizeof leaf);
        if (leaf[0])
            snprintf(err->field, sizeof err->field, "strata[%zu].%.30s", i,
                     leaf);
        else
            snprintf(err->field, sizeof err->field, "strata[%zu]", i);
    }
    return rc;
}

int rg_analyzer_replay(const json_t *evidence, rg_analysis *out, rg_err *err)
{
    rg_gate_params p;
    rg_stratum_counts *s = NULL;
    json_t *arr = NULL;
    const char *verdict = NULL;
    size_t n = 0;
    int rc;
    memset(out, 0, sizeof *out);
    if ((rc = rg_json_string(evidence, "verdict", true, 16, &verdict, err)) !=
            0 ||
        (rc = read_params(evidence, &p, err)) != 0 ||
        (rc = rg_json_array(evidence, "strata", true, RG_ANALYZER_MAX_STRATA,
                            &arr, err)) != 0)
        goto cleanup;
    n = json_array_size(arr);
    if (n > 0 && !(s = calloc(n, sizeof *s))) {
        rc = rg_err_set(err, RG_ENOMEM, "evidence: out of memory");
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++)
        if ((rc = read_stratum(json_array_get(arr, i), i, &s[i], err)) != 0)
            goto cleanup;
    if ((rc = rg_analyze(&p, s, n, out, err)) != 0)
        goto cleanup;
    if (strcmp(verdict, rg_verdict_name(out->verdict)) != 0)
        rc = rg_err_field(err, RG_ECONFLICT, "verdict",
                          "evidence: recorded verdict '%s' but replay gives "
                          "'%s' (%s)",
                          verdict, rg_verdict_name(out->verdict), out->reason);
cleanup:
    free(s);
    return rc;
}
