/* scenario.c - see scenario.h. */
#include "scenario.h"

#include "common/file.h"
#include "common/json.h"
#include "sim/knobs.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILE (1 << 20)
#define MAX_DURATION_S (7 * 24 * 3600)

/* Index of the stratum called name, RG_SIM_ALL_STRATA for "*", or -2. */
static int stratum_index(const rg_scenario *s, const char *name)
{
    if (strcmp(name, "*") == 0)
        return RG_SIM_ALL_STRATA;
    for (size_t i = 0; i < s->n_strata; i++)
        if (strcmp(s->strata[i], name) == 0)
            return (int)i;
    return -2;
}

static int read_fleet(const json_t *f, rg_scenario *s, rg_err *err)
{
    static const char *const keys[] = {"endpoints", "heartbeat_interval_s",
                                       "internal",  "strata",
                                       "jitter_s",  NULL};
    int64_t v = 0;
    json_t *strata = NULL;
    int rc = rg_json_only(f, keys, err);
    if (rc == 0)
        rc =
            rg_json_int(f, "endpoints", true, 1, RG_SIM_MAX_ENDPOINTS, &v, err);
    if (rc != 0)
        return rg_knobs_qualify(err, "fleet.");
    s->endpoints = (uint32_t)v;
    v = 60;
    if ((rc = rg_json_int(f, "heartbeat_interval_s", false, 1, 3600, &v, err)))
        return rg_knobs_qualify(err, "fleet.");
    s->interval_s = (int)v;
    v = 0;
    if ((rc = rg_json_int(f, "internal", false, 0, s->endpoints, &v, err)))
        return rg_knobs_qualify(err, "fleet.");
    s->internal = (uint32_t)v;
    v = 0;
    if ((rc = rg_json_int(f, "jitter_s", false, 0, 3599, &v, err)))
        return rg_knobs_qualify(err, "fleet.");
    s->jitter_s = (int)v;
    if ((rc =
             rg_json_array(f, "strata", true, RG_SIM_MAX_STRATA, &strata, err)))
        return rg_knobs_qualify(err, "fleet.");
    if (json_array_size(strata) == 0)
        return rg_err_field(err, RG_EINVAL, "fleet.strata",
                            "scenario: fleet.strata must not be empty");
    double sum = 0.0;
    for (size_t i = 0; i < json_array_size(strata); i++) {
        static const char *const skeys[] = {
            "name", "share", "heartbeat_interval_s", "loss", "endpoints", NULL};
        const json_t *o = json_array_get(strata, i);
        const char *name = NULL;
        double share = 0.0;
        char path[40];
        snprintf(path, sizeof path, "fleet.strata[%zu].", i);
        if (!json_is_object(o))
            return rg_err_field(err, RG_EINVAL, "fleet.strata",
                                "scenario: fleet.strata[%zu] must be an object",
                                i);
        if ((rc = rg_json_only(o, skeys, err)) ||
            (rc = rg_json_string(o, "name", true, RG_SIM_NAME_MAX - 1, &name,
                                 err)) ||
            (rc = rg_json_number(o, "share", true, 0.0, 1.0, &share, err)) ||
            (rc = rg_knobs_stratum(o, s->n_strata, s, err)))
            return rg_knobs_qualify(err, path);
        if (stratum_index(s, name) != -2)
            return rg_err_field(err, RG_EINVAL, "fleet.strata",
                                "scenario: stratum '%s' is listed twice or "
                                "named '*'",
                                name);
        snprintf(s->strata[s->n_strata], RG_SIM_NAME_MAX, "%s", name);
        s->shares[s->n_strata++] = share;
        sum += share;
    }
    if (fabs(sum - 1.0) > 1e-3)
        return rg_err_field(err, RG_EINVAL, "fleet.strata",
                            "scenario: strata shares sum to %g, not 1", sum);
    for (size_t i = 0; i < s->n_strata; i++)
        s->shares[i] /= sum;
    return 0;
}

static int read_loss(const json_t *l, rg_scenario *s, rg_err *err)
{
    static const char *const keys[] = {
        "independent", "offline_share", "offline_stretch_s", "outages",
        "sleep",       "vpn_flaps",     "long_offline",      NULL};
    json_t *outages = NULL;
    int64_t v = s->offline_stretch_s;
    int rc = rg_json_only(l, keys, err);
    if (rc == 0)
        rc = rg_json_number(l, "independent", false, 0.0, 0.99, &s->loss, err);
    if (rc == 0)
        rc = rg_json_number(l, "offline_share", false, 0.0, 0.9,
                            &s->offline_share, err);
    if (rc == 0)
        rc = rg_json_int(l, "offline_stretch_s", false, 60, MAX_DURATION_S, &v,
                         err);
    if (rc == 0)
        rc = rg_json_array(l, "outages", false, RG_SIM_MAX_OUTAGES, &outages,
                           err);
    if (rc != 0)
        return rg_knobs_qualify(err, "loss.");
    if ((rc = rg_knobs_loss(l, s, err)) != 0)
        return rg_knobs_qualify(err, "loss.");
    s->offline_stretch_s = v;
    for (size_t i = 0; outages && i < json_array_size(outages); i++) {
        static const char *const okeys[] = {"stratum", "start_s", "duration_s",
                                            "share",   "cohort",  NULL};
        const json_t *o = json_array_get(outages, i);
        rg_sim_outage *out = &s->outages[s->n_outages];
        const char *name = NULL;
        char path[40];
        snprintf(path, sizeof path, "loss.outages[%zu].", i);
        if (!json_is_object(o))
            return rg_err_field(err, RG_EINVAL, "loss.outages",
                                "scenario: loss.outages[%zu] must be an object",
                                i);
        if ((rc = rg_json_only(o, okeys, err)) ||
            (rc = rg_json_string(o, "stratum", true, RG_SIM_NAME_MAX - 1, &name,
                                 err)) ||
            (rc = rg_json_int(o, "start_s", true, 0, MAX_DURATION_S,
                              &out->start_s, err)) ||
            (rc = rg_json_int(o, "duration_s", true, 1, MAX_DURATION_S,
                              &out->duration_s, err)) ||
            (rc = rg_json_number(o, "share", true, 0.0, 1.0, &out->share,
                                 err)) ||
            (rc = rg_knobs_outage(o, out, err)))
            return rg_knobs_qualify(err, path);
        out->stratum = stratum_index(s, name);
        if (out->stratum == -2)
            return rg_err_field(err, RG_EINVAL, "loss.outages",
                                "scenario: outage %zu names unknown stratum "
                                "'%s'",
                                i, name);
        s->n_outages++;
    }
    return 0;
}

static int read_release(const json_t *r, rg_scenario *s, rg_err *err)
{
    static const char *const keys[] = {"plan",
                                       "apply_latency_s",
                                       "healthy_after_s",
                                       "crash_revert_s",
                                       "activation",
                                       "healthy_after_dist",
                                       "flag",
                                       NULL};
    int64_t v = s->crash_revert_s;
    const char *flag = NULL;
    const json_t *plan = json_object_get(r, "plan");
    int rc = rg_json_only(r, keys, err);
    if (rc != 0)
        return rg_knobs_qualify(err, "release.");
    if (!plan)
        return rg_err_field(err, RG_EINVAL, "release.plan",
                            "scenario: release.plan is required");
    if ((rc = rg_plan_from_json(plan, &s->plan, err)) != 0)
        return rg_knobs_qualify(err, "release.");
    if ((rc = rg_knobs_range(r, "apply_latency_s", 3600, &s->apply_min_s,
                             &s->apply_max_s, err)) ||
        (rc = rg_knobs_range(r, "healthy_after_s", 3600, &s->healthy_min_s,
                             &s->healthy_max_s, err)) ||
        (rc = rg_json_int(r, "crash_revert_s", false, 1, 86400, &v, err)) ||
        (rc = rg_knobs_activation(r, s, err)) ||
        (rc = rg_knobs_delay(r, s, err)) ||
        (rc =
             rg_json_string(r, "flag", false, RG_SIM_NAME_MAX - 1, &flag, err)))
        return rg_knobs_qualify(err, "release.");
    snprintf(s->flag, sizeof s->flag, "%s", flag ? flag : "");
    s->crash_revert_s = (int)v;
    return 0;
}

static int read_faults(const json_t *a, rg_scenario *s, rg_err *err)
{
    int rc = 0;
    if (json_array_size(a) > RG_SIM_MAX_FAULTS)
        return rg_err_field(err, RG_EINVAL, "faults",
                            "scenario: at most %d faults", RG_SIM_MAX_FAULTS);
    for (size_t i = 0; i < json_array_size(a); i++) {
        static const char *const fkeys[] = {"stratum", "crash",  "fail", "hang",
                                            "onset_s", "report", NULL};
        const json_t *o = json_array_get(a, i);
        rg_sim_fault *f = &s->faults[s->n_faults];
        const char *name = NULL;
        char path[32];
        snprintf(path, sizeof path, "faults[%zu].", i);
        memset(f, 0, sizeof *f);
        if (!json_is_object(o))
            return rg_err_field(err, RG_EINVAL, "faults",
                                "scenario: faults[%zu] must be an object", i);
        if ((rc = rg_json_only(o, fkeys, err)) ||
            (rc = rg_json_string(o, "stratum", true, RG_SIM_NAME_MAX - 1, &name,
                                 err)) ||
            (rc =
                 rg_json_number(o, "crash", false, 0.0, 1.0, &f->crash, err)) ||
            (rc = rg_json_number(o, "fail", false, 0.0, 1.0, &f->fail, err)) ||
            (rc = rg_knobs_fault(o, f, err)))
            return rg_knobs_qualify(err, path);
        f->stratum = stratum_index(s, name);
        if (f->stratum == -2)
            return rg_err_field(
                err, RG_EINVAL, "faults",
                "scenario: fault %zu names unknown stratum '%s'", i, name);
        s->n_faults++;
    }
    return 0;
}

static int read_exposure(const json_t *o, rg_scenario *s, rg_err *err)
{
    static const char *const keys[] = {"min_stratum_size", "min_per_stratum",
                                       "initial_budget", "growth", NULL};
    int64_t n = (int64_t)s->exposure.min_stratum_size;
    int64_t k = s->exposure.min_per_stratum, b = s->exposure.initial_budget;
    int64_t g = s->exposure.growth;
    int rc = rg_json_only(o, keys, err);
    if (rc == 0)
        rc = rg_json_int(o, "min_stratum_size", false, 0, RG_SIM_MAX_ENDPOINTS,
                         &n, err);
    if (rc == 0)
        rc = rg_json_int(o, "min_per_stratum", false, 1,
                         RG_EXPOSURE_MAX_PER_STRATUM, &k, err);
    if (rc == 0)
        rc = rg_json_int(o, "initial_budget", false, 1, 1000000, &b, err);
    if (rc == 0)
        rc = rg_json_int(o, "growth", false, 1, 1000, &g, err);
    if (rc != 0)
        return rg_knobs_qualify(err, "exposure.");
    s->exposure.min_stratum_size = (uint64_t)n;
    s->exposure.min_per_stratum = (uint32_t)k;
    s->exposure.initial_budget = (uint32_t)b;
    s->exposure.growth = (uint32_t)g;
    if ((rc = rg_exposure_params_check(&s->exposure, err)) != 0)
        return rg_knobs_qualify(err, "exposure.");
    return 0;
}

static int read_analysis(const json_t *o, rg_scenario *s, rg_err *err)
{
    static const char *const keys[] = {"baseline_failure", "tick_s", NULL};
    int64_t t = s->tick_s;
    int rc = rg_json_only(o, keys, err);
    if (rc == 0)
        rc = rg_json_number(o, "baseline_failure", false, 1e-6, 0.25,
                            &s->baseline_failure, err);
    if (rc == 0)
        rc = rg_json_int(o, "tick_s", false, 1, 60, &t, err);
    if (rc != 0)
        return rg_knobs_qualify(err, "analysis.");
    s->tick_s = (int)t;
    return 0;
}

/* The values of every optional field. */
static void defaults(rg_scenario *s)
{
    memset(s, 0, sizeof *s);
    s->seed = 1;
    s->duration_s = 21600;
    s->interval_s = 60;
    s->offline_stretch_s = 7200;
    s->apply_min_s = 5;
    s->apply_max_s = 60;
    s->healthy_min_s = 5;
    s->healthy_max_s = 30;
    s->crash_revert_s = 300;
    rg_exposure_params_default(&s->exposure);
    s->baseline_failure = 1e-3;
    s->tick_s = 5;
    rg_knobs_defaults(s);
}

int rg_scenario_from_json(const json_t *v, rg_scenario *out, rg_err *err)
{
    static const char *const keys[] = {
        "name",   "seed",     "duration_s", "fleet",          "loss", "release",
        "faults", "exposure", "analysis",   "server_restart", NULL};
    rg_scenario s;
    const char *name = "scenario";
    int64_t seed = 1;
    json_t *fleet = NULL, *loss = NULL, *release = NULL, *faults = NULL;
    json_t *exposure = NULL, *analysis = NULL;
    int rc;
    defaults(&s);
    if (!json_is_object(v))
        return rg_err_set(err, RG_EINVAL, "scenario: must be a JSON object");
    if ((rc = rg_json_only(v, keys, err)) ||
        (rc = rg_json_string(v, "name", false, RG_SIM_NAME_MAX - 1, &name,
                             err)) ||
        (rc = rg_json_int(v, "seed", false, 0, INT64_MAX, &seed, err)) ||
        (rc = rg_json_int(v, "duration_s", false, 60, MAX_DURATION_S,
                          &s.duration_s, err)) ||
        (rc = rg_json_object(v, "fleet", true, &fleet, err)) ||
        (rc = rg_json_object(v, "loss", false, &loss, err)) ||
        (rc = rg_json_object(v, "release", true, &release, err)) ||
        (rc = rg_json_array(v, "faults", false, 1024, &faults, err)) ||
        (rc = rg_json_object(v, "exposure", false, &exposure, err)) ||
        (rc = rg_json_object(v, "analysis", false, &analysis, err)))
        return rg_knobs_qualify(err, "");
    snprintf(s.name, sizeof s.name, "%s", name);
    s.seed = (uint64_t)seed;
    if ((rc = read_fleet(fleet, &s, err)) != 0)
        return rc;
    if (loss && (rc = read_loss(loss, &s, err)) != 0)
        return rc;
    if ((rc = read_release(release, &s, err)) != 0)
        return rc;
    if (faults && (rc = read_faults(faults, &s, err)) != 0)
        return rc;
    if (exposure && (rc = read_exposure(exposure, &s, err)) != 0)
        return rc;
    if (analysis && (rc = read_analysis(analysis, &s, err)) != 0)
        return rc;
    if ((rc = rg_knobs_restart(v, &s, err)) != 0 ||
        (rc = rg_knobs_finish(&s, err)) != 0)
        return rc;
    *out = s;
    return 0;
}

int rg_scenario_load(const char *path, rg_scenario *out, rg_err *err)
{
    rg_buf data;
    json_t *v = NULL;
    rg_buf_init(&data, MAX_FILE);
    int rc = rg_file_read(path, &data, NULL);
    if (rc == RG_ENOTFOUND || rc == RG_EIO) {
        rc = rg_err_set(err, RG_EIO, "scenario '%s': cannot open", path);
        goto cleanup;
    }
    if (rc == RG_ENOMEM) {
        rc = rg_err_set(err, RG_ENOMEM, "scenario '%s': out of memory", path);
        goto cleanup;
    }
    if (rc < 0) {
        rc = rg_err_set(err, RG_EINVAL, "scenario '%s': larger than 1 MiB",
                        path);
        goto cleanup;
    }
    v = rg_json_parse_object(data.data ? data.data : "", data.len, err);
    if (!v) {
        rc = err ? err->code : RG_EINVAL;
        goto cleanup;
    }
    rc = rg_scenario_from_json(v, out, err);
cleanup:
    rg_buf_release(&data);
    json_decref(v);
    return rc;
}

bool rg_scenario_faulty(const rg_scenario *s)
{
    for (size_t i = 0; i < s->n_faults; i++)
        if (s->faults[i].crash > 0.0 || s->faults[i].fail > 0.0 ||
            s->faults[i].hang > 0.0)
            return true;
    return false;
}
