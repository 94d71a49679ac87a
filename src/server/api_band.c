/* api_band.c - GET /v1/rollouts/{id}/band (viewer): the gate's evidence
 * over time as anytime-valid confidence bands per stratum (health/band.h,
 * docs/dashboard.md). One point per stored evaluation or transition whose
 * evidence holds the analyzer's record (the newest RG_BAND_POINTS), then
 * the gate's latest evaluation when it is newer: read from what the gate
 * stored and keeps, never from a fleet scan. */
#include "api.h"

#include "common/json.h"
#include "health/band.h"
#include "health/evidence.h"
#include "server/canary.h"
#include "server/desired.h"

#include <math.h>
#include <stdlib.h>

#define RG_BAND_POINTS 500 /* points answered, the newest */

/* An estimate for JSON: null when there is none (a ratio < 0, an excess
 * NAN). */
static json_t *estimate(double v)
{
    return v < 0 || isnan(v) ? json_null() : json_real(v);
}

static json_t *stratum_json(const rg_band_stratum *b, double baseline)
{
    json_t *silence = json_pack(
        "{s:o,s:f,s:f,s:f,s:I,s:I,s:f,s:f}", "excess",
        isnan(b->silence.est) ? json_null() : json_real(b->silence.est), "lo",
        b->silence.lo, "hi", b->silence.hi, "min_effect", b->min_effect,
        "exposed_windows", (json_int_t)b->exposed_windows, "exposed_silent",
        (json_int_t)b->exposed_silent, "control_share", b->control_share, "llr",
        b->silence_llr);
    return json_pack("{s:s, s:o, s:{s:o,s:f,s:f,s:I,s:I,s:f,s:f}}", "stratum",
                     b->stratum, "silence", silence, "failure", "ratio",
                     estimate(b->failure.est), "lo", b->failure.lo, "hi",
                     b->failure.hi, "trials", (json_int_t)b->trials, "failed",
                     (json_int_t)b->failed, "baseline", baseline, "llr",
                     b->failure_llr);
}

/* The analyzer's record in a decision's evidence (docs/api.md:
 * evidence.gate.evidence.analysis), or NULL. Borrowed. */
static const json_t *analysis_of(const json_t *evidence)
{
    const json_t *gate = json_object_get(evidence, "gate");
    return json_object_get(json_object_get(gate, "evidence"), "analysis");
}

/* The point of a decision's evidence at at_ms in wave: a new reference, or
 * NULL when it holds no analysis (an operator's action, a gate without
 * evidence) or it does not replay (docs/health.md, "Evidence record"). */
static json_t *point_json(const json_t *evidence, int64_t at_ms, int wave)
{
    const json_t *an = analysis_of(evidence);
    rg_analysis a = {0};
    rg_band_stratum *bands = NULL;
    json_t *strata = NULL, *out = NULL;
    rg_err err;
    rg_err_clear(&err);
    if (!an)
        return NULL;
    int rc = rg_analyzer_replay(an, &a, &err);
    if (rc != 0 && rc != RG_ECONFLICT) /* a changed verdict: same counts */
        goto cleanup;
    long n = rg_band_analysis(&a, &bands);
    if (n < 0 || !(strata = json_array()))
        goto cleanup;
    for (long i = 0; i < n; i++)
        if (json_array_append_new(
                strata, stratum_json(&bands[i], a.params.baseline_failure)))
            goto cleanup;
    out = json_pack("{s:I,s:i,s:f,s:f,s:O}", "at_ms", (json_int_t)at_ms, "wave",
                    wave, "alpha", a.params.alpha, "threshold",
                    a.halt_threshold, "strata", strata);
cleanup:
    json_decref(strata);
    free(bands);
    rg_analysis_release(&a);
    return out;
}

/* Appends p (stolen; NULL: nothing) to points, dropping the oldest past
 * RG_BAND_POINTS. Returns 0, or -1 when out of memory. */
static int add_point(json_t *points, json_t *p)
{
    if (!p)
        return 0;
    if (json_array_append_new(points, p) != 0)
        return -1;
    if (json_array_size(points) > RG_BAND_POINTS)
        json_array_remove(points, 0);
    return 0;
}

static int decision_point(void *ctx, const rg_decision_rec *d)
{
    if (!d->evidence_json || !d->evidence_json[0])
        return 0;
    json_t *ev = json_loads(d->evidence_json, 0, NULL);
    json_t *p = ev ? point_json(ev, d->at_ms, d->tr.to_wave) : NULL;
    json_decref(ev);
    return add_point(ctx, p) == 0 ? 0 : RG_ENOMEM;
}

/* The gate's latest evaluation of r, when newer than the last point. */
static int latest_point(rg_server *srv, const rg_rollout_rec *r, json_t *points)
{
    json_t *last = rg_canary_last(rg_desired_canary(srv->desired), r->id);
    json_int_t at = json_integer_value(json_object_get(last, "at_ms"));
    json_t *prev = json_array_get(points, json_array_size(points) - 1);
    json_t *p = NULL;
    if (last &&
        (!prev || at > json_integer_value(json_object_get(prev, "at_ms"))))
        p = point_json(json_object_get(last, "evidence"), at, r->status.wave);
    json_decref(last);
    return add_point(points, p);
}

void rg_api_rollout_band(rg_server *srv, rg_req *req, rg_resp *resp)
{
    int64_t id;
    rg_rollout_rec r;
    rg_err err;
    rg_err_clear(&err);
    if (rg__api_param_id(req, 0, "id", &id, resp) != 0)
        return;
    json_t *points = json_array();
    if (!points) {
        rg_resp_errorf(resp, RG_ENOMEM, NULL, "out of memory");
        return;
    }
    int rc = rg_store_rollout_get(srv->store, id, &r, &err);
    if (rc == 0)
        rc = rg_store_decision_list(srv->store, id, decision_point, points,
                                    &err);
    if (rc == RG_ENOMEM || (rc == 0 && latest_point(srv, &r, points) != 0))
        rc = rg_err_set(&err, RG_ENOMEM, "out of memory");
    if (rc != 0) {
        json_decref(points);
        rg_resp_error(resp, &err);
        return;
    }
    json_t *v =
        json_pack("{s:I,s:o}", "rollout", (json_int_t)id, "points", points);
    if (v)
        rg_resp_json(resp, 200, v);
    else
        rg_resp_errorf(resp, RG_ENOMEM, NULL, "out of memory");
}
