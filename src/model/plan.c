/* plan.c - see plan.h. */
#include "plan.h"

#include "bucket.h"
#include "common/json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define MIN_MS (60 * 1000)
#define MAX_TIME_S (30 * 24 * 3600) /* 30 days: any time field's ceiling */

/* The values an omitted wave field takes (the standard plan's canary). */
static rg_wave default_wave(void)
{
    rg_wave w;
    memset(&w, 0, sizeof w);
    w.min_endpoints = 0;
    w.min_bake_ms = 10 * MIN_MS;
    w.max_bake_ms = 0;
    w.window_ms = 10 * MIN_MS;
    w.alpha = 1e-3;
    w.beta = 1e-2;
    w.tolerated_excess = 0.02;
    w.min_effect = 0.01;
    return w;
}

/* Writes the display name of a wave without one: "internal" or "0.1%". */
static void default_wave_name(rg_wave *w)
{
    if (w->internal)
        snprintf(w->name, sizeof w->name, "internal");
    else
        snprintf(w->name, sizeof w->name, "%g%%", w->share_ppm / 10000.0);
}

/* Appends a wave to p built from the defaults with the given fields. */
static void add_wave(rg_plan *p, bool internal, uint32_t share_ppm,
                     uint32_t min_endpoints, int64_t min_bake_ms,
                     int64_t window_ms)
{
    rg_wave *w = &p->waves[p->n_waves++];
    *w = default_wave();
    w->internal = internal;
    w->share_ppm = share_ppm;
    w->min_endpoints = min_endpoints;
    w->min_bake_ms = min_bake_ms;
    w->window_ms = window_ms;
    default_wave_name(w);
}

/* standard: every wave bakes at least one window W (10 min), so each
 * exposed endpoint has had its full W to confirm before the wave passes;
 * the wider waves bake longer (20 and 30 min). The internal ring needs one
 * healthy report (or passes empty, see rg_gate_bake); every other wave
 * needs at least 50 endpoints. emergency: W = 3 min, no minimum bake
 * (the health gate alone decides), same endpoint minimums. */
static void plan_standard(rg_plan *p)
{
    const int64_t w = 10 * MIN_MS;
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "standard");
    p->on_halt = RG_ON_HALT_REVERT_STRATUM;
    p->soak_ms = RG_PLAN_SOAK_MS;
    p->grow_after_ms = RG_PLAN_SOAK_MS;
    add_wave(p, true, 0, 1, 10 * MIN_MS, w);
    add_wave(p, false, 1000, 50, 10 * MIN_MS, w);
    add_wave(p, false, 10000, 50, 10 * MIN_MS, w);
    add_wave(p, false, 100000, 50, 20 * MIN_MS, w);
    add_wave(p, false, 500000, 50, 30 * MIN_MS, w);
    add_wave(p, false, RG_PPM, 50, 10 * MIN_MS, w);
}

static void plan_emergency(rg_plan *p)
{
    const int64_t w = 3 * MIN_MS;
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "emergency");
    p->on_halt = RG_ON_HALT_REVERT_STRATUM;
    p->soak_ms = RG_PLAN_SOAK_MS;
    add_wave(p, true, 0, 1, 0, w);
    add_wave(p, false, 10000, 50, 0, w);
    add_wave(p, false, RG_PPM, 50, 0, w);
}

int rg_plan_builtin(const char *name, rg_plan *out, rg_err *err)
{
    if (name && strcmp(name, "standard") == 0) {
        plan_standard(out);
        return 0;
    }
    if (name && strcmp(name, "emergency") == 0) {
        plan_emergency(out);
        return 0;
    }
    return rg_err_field(err, RG_EINVAL, "plan",
                        "unknown plan '%s'; expected 'standard', 'emergency' "
                        "or a plan object",
                        name ? name : "");
}

/* Re-targets an error a json.h getter filled for field `name` so that it
 * names the full path (e.g. "plan.waves[2].share") in field and message. */
static void qualify(rg_err *e, const char *path)
{
    char rest[sizeof e->msg];
    char head[sizeof e->field + 16];
    snprintf(head, sizeof head, "field '%s' ", e->field);
    if (strncmp(e->msg, head, strlen(head)) == 0)
        snprintf(rest, sizeof rest, "%s", e->msg + strlen(head));
    else if (strncmp(e->msg, "unknown field ", 14) == 0)
        snprintf(rest, sizeof rest, "is not a known field");
    else
        snprintf(rest, sizeof rest, "is invalid: %.200s", e->msg);
    char full[sizeof e->field];
    snprintf(full, sizeof full, "%.24s%.39s", path, e->field);
    rg_err_field(e, e->code, full, "field '%s' %.180s", full, rest);
}

/* Reads a time field in seconds (integer or fractional) into *ms. */
static int time_field(const json_t *o, const char *field, double min_s,
                      int64_t *ms, rg_err *e)
{
    double s = (double)*ms / 1000.0; /* an absent field keeps *ms */
    int rc = rg_json_number(o, field, false, min_s, MAX_TIME_S, &s, e);
    if (rc < 0)
        return rc;
    *ms = llround(s * 1000.0);
    return 0;
}

/* Reads a probability field strictly inside (0, 1) (or [0, 1) with
 * zero_ok). */
static int prob_field(const json_t *o, const char *field, bool zero_ok,
                      double *out, rg_err *e)
{
    double d = *out;
    int rc = rg_json_number(o, field, false, 0, 1, &d, e);
    if (rc < 0)
        return rc;
    if (d >= 1 || (!zero_ok && d <= 0))
        return rg_err_field(e, RG_EINVAL, field, "field '%s' must be %s", field,
                            zero_ok ? "at least 0 and below 1"
                                    : "above 0 and below 1");
    *out = d;
    return 0;
}

static int wave_from_json(const json_t *o, rg_wave *w, rg_err *e)
{
    static const char *const allowed[] = {
        "name",       "internal",         "share",      "min_endpoints",
        "min_bake_s", "max_bake_s",       "window_s",   "alpha",
        "beta",       "tolerated_excess", "min_effect", NULL};
    const char *name = NULL;
    double share;
    int64_t min_ep = 0;
    int rc;

    *w = default_wave();
    if ((rc = rg_json_only(o, allowed, e)) < 0 ||
        (rc = rg_json_string(o, "name", false, RG_PLAN_NAME_MAX - 1, &name,
                             e)) < 0 ||
        (rc = rg_json_bool(o, "internal", false, &w->internal, e)) < 0 ||
        (rc = rg_json_number(o, "share", true, 0, 100, &share, e)) < 0 ||
        (rc = rg_json_int(o, "min_endpoints", false, 0, 1000000000, &min_ep,
                          e)) < 0 ||
        (rc = time_field(o, "min_bake_s", 0, &w->min_bake_ms, e)) < 0 ||
        (rc = time_field(o, "max_bake_s", 0, &w->max_bake_ms, e)) < 0 ||
        (rc = time_field(o, "window_s", 0.001, &w->window_ms, e)) < 0 ||
        (rc = prob_field(o, "alpha", false, &w->alpha, e)) < 0 ||
        (rc = prob_field(o, "beta", false, &w->beta, e)) < 0 ||
        (rc = prob_field(o, "tolerated_excess", true, &w->tolerated_excess,
                         e)) < 0 ||
        (rc = prob_field(o, "min_effect", true, &w->min_effect, e)) < 0)
        return rc;
    if (w->min_effect > 0.5)
        return rg_err_field(e, RG_EINVAL, "min_effect",
                            "field 'min_effect' must be at most 0.5");
    w->share_ppm = (uint32_t)llround(share * 10000.0);
    w->min_endpoints = (uint32_t)min_ep;
    if (w->max_bake_ms != 0 && w->max_bake_ms < w->min_bake_ms)
        return rg_err_field(e, RG_EINVAL, "max_bake_s",
                            "field 'max_bake_s' must be 0 (none) or at least "
                            "min_bake_s");
    if (name)
        snprintf(w->name, sizeof w->name, "%s", name);
    else
        default_wave_name(w);
    return 0;
}

static int plan_object_from_json(const json_t *v, rg_plan *p, rg_err *e)
{
    static const char *const allowed[] = {"name",         "on_halt", "soak_s",
                                          "grow_after_s", "waves",   NULL};
    const char *name = NULL, *on_halt = NULL;
    json_t *waves = NULL;
    int rc;

    memset(p, 0, sizeof *p);
    p->soak_ms = RG_PLAN_SOAK_MS;
    if ((rc = rg_json_only(v, allowed, e)) < 0 ||
        (rc = time_field(v, "soak_s", 0, &p->soak_ms, e)) < 0 ||
        (rc = time_field(v, "grow_after_s", 0, &p->grow_after_ms, e)) < 0 ||
        (rc = rg_json_string(v, "name", false, RG_PLAN_NAME_MAX - 1, &name,
                             e)) < 0 ||
        (rc = rg_json_string(v, "on_halt", false, 16, &on_halt, e)) < 0 ||
        (rc = rg_json_array(v, "waves", true, RG_MAX_WAVES, &waves, e)) < 0) {
        qualify(e, "plan.");
        return rc;
    }
    snprintf(p->name, sizeof p->name, "%s", name ? name : "custom");
    if (!on_halt || strcmp(on_halt, "revert_stratum") == 0)
        p->on_halt = RG_ON_HALT_REVERT_STRATUM;
    else if (strcmp(on_halt, "revert_all") == 0 ||
             strcmp(on_halt, "revert") == 0)
        p->on_halt = RG_ON_HALT_REVERT_ALL;
    else if (strcmp(on_halt, "pause") == 0)
        p->on_halt = RG_ON_HALT_PAUSE;
    else
        return rg_err_field(e, RG_EINVAL, "plan.on_halt",
                            "field 'plan.on_halt' must be 'revert_stratum', "
                            "'revert_all' or 'pause', not '%s'",
                            on_halt);
    p->n_waves = json_array_size(waves);
    if (p->n_waves == 0)
        return rg_err_field(e, RG_EINVAL, "plan.waves",
                            "field 'plan.waves' needs at least one wave");
    for (size_t i = 0; i < p->n_waves; i++) {
        char path[48];
        snprintf(path, sizeof path, "plan.waves[%zu]", i);
        if (!json_is_object(json_array_get(waves, i)))
            return rg_err_field(e, RG_EINVAL, path,
                                "field '%s' must be an object", path);
        snprintf(path, sizeof path, "plan.waves[%zu].", i);
        rc = wave_from_json(json_array_get(waves, i), &p->waves[i], e);
        if (rc < 0) {
            qualify(e, path);
            return rc;
        }
        if (i > 0 && p->waves[i].share_ppm < p->waves[i - 1].share_ppm) {
            snprintf(path, sizeof path, "plan.waves[%zu].share", i);
            return rg_err_field(e, RG_EINVAL, path,
                                "field '%s' must not be below the previous "
                                "wave's share (shares are cumulative)",
                                path);
        }
    }
    if (p->waves[p->n_waves - 1].share_ppm != RG_PPM) {
        char path[48];
        snprintf(path, sizeof path, "plan.waves[%zu].share", p->n_waves - 1);
        return rg_err_field(e, RG_EINVAL, path,
                            "field '%s' must be 100: the last wave covers the "
                            "whole target fleet",
                            path);
    }
    return 0;
}

int rg_plan_from_json(const json_t *v, rg_plan *out, rg_err *err)
{
    rg_plan p;
    rg_err e;
    int rc;

    rg_err_clear(&e);
    if (json_is_string(v))
        rc = rg_plan_builtin(json_string_value(v), &p, &e);
    else if (json_is_object(v))
        rc = plan_object_from_json(v, &p, &e);
    else
        rc = rg_err_field(&e, RG_EINVAL, "plan",
                          "field 'plan' must be 'standard', 'emergency' or a "
                          "plan object");
    if (rc < 0) {
        if (err)
            *err = e;
        return rc;
    }
    *out = p;
    return 0;
}

/* Seconds as JSON: an integer when whole, else a real (ms precision). */
static json_t *seconds(int64_t ms)
{
    if (ms % 1000 == 0)
        return json_integer(ms / 1000);
    return json_real((double)ms / 1000.0);
}

/* A share in ppm as a JSON percent: integer when whole, else a real. */
static json_t *percent(uint32_t ppm)
{
    if (ppm % 10000 == 0)
        return json_integer(ppm / 10000);
    return json_real(ppm / 10000.0);
}

static json_t *wave_to_json(const rg_wave *w)
{
    return json_pack(
        "{s:s, s:b, s:o, s:I, s:o, s:o, s:o, s:f, s:f, s:f, s:f}", "name",
        w->name, "internal", w->internal, "share", percent(w->share_ppm),
        "min_endpoints", (json_int_t)w->min_endpoints, "min_bake_s",
        seconds(w->min_bake_ms), "max_bake_s", seconds(w->max_bake_ms),
        "window_s", seconds(w->window_ms), "alpha", w->alpha, "beta", w->beta,
        "tolerated_excess", w->tolerated_excess, "min_effect", w->min_effect);
}

const char *rg_on_halt_name(int on_halt)
{
    switch (on_halt) {
    case RG_ON_HALT_REVERT_STRATUM:
        return "revert_stratum";
    case RG_ON_HALT_PAUSE:
        return "pause";
    case RG_ON_HALT_REVERT_ALL:
        return "revert_all";
    default:
        return "unknown";
    }
}

json_t *rg_plan_to_json(const rg_plan *p)
{
    json_t *waves = json_array();
    json_t *out = NULL;
    if (!waves)
        goto cleanup;
    for (size_t i = 0; i < p->n_waves; i++)
        if (json_array_append_new(waves, wave_to_json(&p->waves[i])) < 0)
            goto cleanup;
    out = json_pack("{s:s, s:s, s:o, s:o, s:O}", "name", p->name, "on_halt",
                    rg_on_halt_name(p->on_halt), "soak_s", seconds(p->soak_ms),
                    "grow_after_s", seconds(p->grow_after_ms), "waves", waves);
cleanup:
    json_decref(waves);
    return out;
}

uint32_t rg_wave_effective_share(const rg_wave *w, uint64_t fleet_size)
{
    if (w->internal || fleet_size == 0 || w->min_endpoints == 0)
        return w->share_ppm;
    /* Smallest share whose expected population is min_endpoints. */
    uint64_t need =
        ((uint64_t)w->min_endpoints * RG_PPM + fleet_size - 1) / fleet_size;
    if (need > RG_PPM)
        need = RG_PPM;
    return need > w->share_ppm ? (uint32_t)need : w->share_ppm;
}

uint32_t rg_plan_wave_share(const rg_plan *p, size_t wave, uint64_t fleet_size)
{
    uint32_t share = 0;
    for (size_t i = 0; i <= wave && i < p->n_waves; i++) {
        uint32_t s = rg_wave_effective_share(&p->waves[i], fleet_size);
        if (s > share)
            share = s;
    }
    return share;
}
