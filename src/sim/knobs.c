/* knobs.c - see knobs.h. */
#include "knobs.h"

#include "common/json.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define DAY_S 86400
#define MAX_DAYS 30

int rg_knobs_qualify(rg_err *err, const char *path)
{
    if (!err)
        return RG_EINVAL;
    char field[sizeof err->field];
    char msg[sizeof err->msg];
    snprintf(field, sizeof field, "%.30s%.32s", path, err->field);
    snprintf(msg, sizeof msg, "scenario: %.180s (in '%.30s')", err->msg, path);
    snprintf(err->field, sizeof err->field, "%s", field);
    snprintf(err->msg, sizeof err->msg, "%s", msg);
    return err->code;
}

int rg_knobs_range(const json_t *o, const char *field, int max, int *lo,
                   int *hi, rg_err *err)
{
    json_t *a = NULL;
    int rc = rg_json_array(o, field, false, 2, &a, err);
    if (rc != 0 || !a)
        return rc;
    if (json_array_size(a) != 2 || !json_is_integer(json_array_get(a, 0)) ||
        !json_is_integer(json_array_get(a, 1)))
        return rg_err_field(err, RG_EINVAL, field,
                            "field '%s' must be [min, max] in whole numbers",
                            field);
    json_int_t a0 = json_integer_value(json_array_get(a, 0));
    json_int_t a1 = json_integer_value(json_array_get(a, 1));
    if (a0 < 0 || a1 < a0 || a1 > max)
        return rg_err_field(err, RG_EINVAL, field,
                            "field '%s' must satisfy 0 <= min <= max <= %d",
                            field, max);
    *lo = (int)a0;
    *hi = (int)a1;
    return 0;
}

int rg_knobs_stratum(const json_t *o, size_t k, rg_scenario *s, rg_err *err)
{
    int64_t v = 0, exact = 0;
    int rc = rg_json_int(o, "heartbeat_interval_s", false, 1, 86400, &v, err);
    if (rc == 0)
        rc = rg_json_number(o, "loss", false, 0.0, 0.99, &s->stratum_loss[k],
                            err);
    if (rc == 0)
        rc = rg_json_int(o, "endpoints", false, 1, RG_SIM_MAX_ENDPOINTS, &exact,
                         err);
    if (rc == 0 && v > 0)
        s->stratum_interval_s[k] = (int)v;
    s->stratum_exact[k] = (uint32_t)exact;
    return rc;
}

static int read_sleep(const json_t *o, rg_sim_sleep *z, rg_err *err)
{
    static const char *const keys[] = {"share", "start_h", "hours", "clock_h",
                                       NULL};
    int64_t clock = z->clock_h;
    int rc = rg_json_only(o, keys, err);
    if (rc == 0)
        rc = rg_json_number(o, "share", true, 0.0, 1.0, &z->share, err);
    if (rc == 0)
        rc = rg_knobs_range(o, "start_h", 24, &z->start_min_h, &z->start_max_h,
                            err);
    if (rc == 0)
        rc = rg_knobs_range(o, "hours", 23, &z->min_h, &z->max_h, err);
    if (rc == 0)
        rc = rg_json_int(o, "clock_h", false, 0, 23, &clock, err);
    if (rc == 0 && z->max_h < 1)
        rc = rg_err_field(err, RG_EINVAL, "hours",
                          "field 'hours' must allow at least 1 hour of sleep");
    z->clock_h = (int)clock;
    return rc;
}

static int read_flaps(const json_t *o, rg_sim_flaps *f, rg_err *err)
{
    static const char *const keys[] = {"share", "per_hour", "duration_s", NULL};
    int64_t per = f->per_hour;
    int rc = rg_json_only(o, keys, err);
    if (rc == 0)
        rc = rg_json_number(o, "share", true, 0.0, 1.0, &f->share, err);
    if (rc == 0)
        rc = rg_json_int(o, "per_hour", false, 1, 60, &per, err);
    f->per_hour = (int)per;
    if (rc == 0)
        rc = rg_knobs_range(o, "duration_s", 3600 / f->per_hour, &f->min_s,
                            &f->max_s, err);
    return rc;
}

static int read_long_offline(const json_t *o, rg_sim_long_offline *l,
                             rg_err *err)
{
    static const char *const keys[] = {"share", "days", NULL};
    int rc = rg_json_only(o, keys, err);
    if (rc == 0)
        rc = rg_json_number(o, "share", true, 0.0, 1.0, &l->share, err);
    if (rc == 0)
        rc = rg_knobs_range(o, "days", MAX_DAYS, &l->min_days, &l->max_days,
                            err);
    if (rc == 0 && l->max_days < 1)
        rc = rg_err_field(err, RG_EINVAL, "days",
                          "field 'days' must allow at least 1 day");
    return rc;
}

int rg_knobs_loss(const json_t *l, rg_scenario *s, rg_err *err)
{
    json_t *sleep = NULL, *flaps = NULL, *away = NULL;
    int rc = rg_json_object(l, "sleep", false, &sleep, err);
    if (rc == 0)
        rc = rg_json_object(l, "vpn_flaps", false, &flaps, err);
    if (rc == 0)
        rc = rg_json_object(l, "long_offline", false, &away, err);
    if (rc != 0)
        return rc;
    if (sleep && (rc = read_sleep(sleep, &s->sleep, err)) != 0)
        return rg_knobs_qualify(err, "sleep.");
    if (flaps && (rc = read_flaps(flaps, &s->flaps, err)) != 0)
        return rg_knobs_qualify(err, "vpn_flaps.");
    if (away && (rc = read_long_offline(away, &s->long_offline, err)) != 0)
        return rg_knobs_qualify(err, "long_offline.");
    return 0;
}

int rg_knobs_outage(const json_t *o, rg_sim_outage *out, rg_err *err)
{
    const char *cohort = "all";
    int rc = rg_json_string(o, "cohort", false, 16, &cohort, err);
    if (rc != 0)
        return rc;
    if (strcmp(cohort, "all") != 0 && strcmp(cohort, "exposed") != 0)
        return rg_err_field(err, RG_EINVAL, "cohort",
                            "field 'cohort' must be \"all\" or \"exposed\"");
    out->exposed_only = strcmp(cohort, "exposed") == 0;
    return 0;
}

static int activation_kind(const char *name)
{
    static const char *const names[] = {"undeclared", "none", "restart",
                                        "reboot"};
    for (int k = 0; k < 4; k++)
        if (strcmp(name, names[k]) == 0)
            return k;
    return -1;
}

int rg_knobs_activation(const json_t *r, rg_scenario *s, rg_err *err)
{
    static const char *const keys[] = {"declared", "max_s", "unreachable_s",
                                       NULL};
    rg_sim_activation *a = &s->activation;
    json_t *o = NULL;
    const char *declared = "undeclared";
    int64_t max = 0;
    int rc = rg_json_object(r, "activation", false, &o, err);
    if (rc != 0 || !o)
        return rc;
    if ((rc = rg_json_only(o, keys, err)) ||
        (rc = rg_json_string(o, "declared", false, 16, &declared, err)) ||
        (rc = rg_json_int(o, "max_s", false, 1, DAY_S, &max, err)) ||
        (rc = rg_knobs_range(o, "unreachable_s", 3600, &a->unreachable_min_s,
                             &a->unreachable_max_s, err)))
        return rg_knobs_qualify(err, "activation.");
    a->declared = activation_kind(declared);
    if (a->declared < 0)
        return rg_err_field(err, RG_EINVAL, "activation.declared",
                            "scenario: activation.declared must be none, "
                            "restart, reboot or undeclared");
    if ((a->declared == RG_SIM_ACT_UNDECLARED) != (max == 0))
        return rg_err_field(err, RG_EINVAL, "activation.max_s",
                            "scenario: activation.max_s is required when the "
                            "activation is declared, and only then");
    a->max_s = (int)max;
    return 0;
}

static int delay_kind(const char *name)
{
    static const char *const names[] = {"uniform", "lognormal", "bimodal"};
    for (int k = 0; k < 3; k++)
        if (strcmp(name, names[k]) == 0)
            return k;
    return -1;
}

int rg_knobs_delay(const json_t *r, rg_scenario *s, rg_err *err)
{
    static const char *const keys[] = {"kind",       "median_s",   "sigma",
                                       "slow_share", "fast_max_s", NULL};
    rg_sim_delay *d = &s->delay;
    json_t *o = NULL;
    const char *kind = "uniform";
    int64_t fast = 0;
    int rc = rg_json_object(r, "healthy_after_dist", false, &o, err);
    if (rc != 0 || !o)
        return rc;
    if ((rc = rg_json_only(o, keys, err)) ||
        (rc = rg_json_string(o, "kind", true, 16, &kind, err)) ||
        (rc = rg_json_number(o, "median_s", false, 0.0, DAY_S, &d->median_s,
                             err)) ||
        (rc = rg_json_number(o, "sigma", false, 0.0, 5.0, &d->sigma, err)) ||
        (rc = rg_json_number(o, "slow_share", false, 0.0, 1.0, &d->slow_share,
                             err)) ||
        (rc = rg_json_int(o, "fast_max_s", false, 0, 3600, &fast, err)))
        return rg_knobs_qualify(err, "healthy_after_dist.");
    d->kind = delay_kind(kind);
    d->fast_max_s = (int)fast;
    if (d->kind < 0)
        return rg_err_field(err, RG_EINVAL, "healthy_after_dist.kind",
                            "scenario: healthy_after_dist.kind must be "
                            "uniform, lognormal or bimodal");
    if (d->kind == RG_SIM_DELAY_LOGNORMAL && d->median_s <= 0.0)
        return rg_err_field(err, RG_EINVAL, "healthy_after_dist.median_s",
                            "scenario: a lognormal delay needs median_s > 0");
    return 0;
}

int rg_knobs_fault(const json_t *o, rg_sim_fault *f, rg_err *err)
{
    f->report = 1.0;
    int rc = rg_json_number(o, "hang", false, 0.0, 1.0, &f->hang, err);
    if (rc == 0)
        rc = rg_knobs_range(o, "onset_s", DAY_S, &f->onset_min_s,
                            &f->onset_max_s, err);
    if (rc == 0)
        rc = rg_json_number(o, "report", false, 0.0, 1.0, &f->report, err);
    return rc;
}

int rg_knobs_restart(const json_t *v, rg_scenario *s, rg_err *err)
{
    static const char *const keys[] = {"at_s", "down_s", NULL};
    json_t *o = NULL;
    int64_t down = 30;
    int rc = rg_json_object(v, "server_restart", false, &o, err);
    if (rc != 0 || !o)
        return rc;
    if ((rc = rg_json_only(o, keys, err)) ||
        (rc = rg_json_int(o, "at_s", true, 1, MAX_DAYS * DAY_S,
                          &s->restart.at_s, err)) ||
        (rc = rg_json_int(o, "down_s", false, 1, 3600, &down, err)))
        return rg_knobs_qualify(err, "server_restart.");
    s->restart.down_s = down;
    return 0;
}

/* Exact stratum sizes must leave at least half of the fleet to the
 * strata sized by share (one of them at least), so that every phase
 * block has room for its part of them; a bimodal delay's fast part lies
 * within healthy_after_s. */
static int finish_sizes(const rg_scenario *s, rg_err *err)
{
    uint64_t exact = 0;
    size_t by_share = 0;
    for (size_t k = 0; k < s->n_strata; k++) {
        exact += s->stratum_exact[k];
        by_share += s->stratum_exact[k] == 0;
    }
    if (exact > 0 && (by_share == 0 || 2 * exact > s->endpoints))
        return rg_err_field(err, RG_EINVAL, "fleet.strata",
                            "scenario: strata of exact size (endpoints) hold "
                            "%" PRIu64
                            " of %u endpoints: at most half, and one "
                            "stratum must be sized by share",
                            exact, s->endpoints);
    const rg_sim_delay *d = &s->delay;
    if (d->kind == RG_SIM_DELAY_BIMODAL &&
        (d->fast_max_s < s->healthy_min_s || d->fast_max_s > s->healthy_max_s))
        return rg_err_field(err, RG_EINVAL,
                            "release.healthy_after_dist.fast_max_s",
                            "scenario: fast_max_s must lie within "
                            "release.healthy_after_s");
    return 0;
}

int rg_knobs_finish(rg_scenario *s, rg_err *err)
{
    if (s->jitter_s >= s->interval_s)
        return rg_err_field(err, RG_EINVAL, "fleet.jitter_s",
                            "scenario: fleet.jitter_s must be below "
                            "fleet.heartbeat_interval_s");
    for (size_t k = 0; k < s->n_strata; k++) {
        if (s->stratum_loss[k] < 0.0)
            s->stratum_loss[k] = s->loss;
        if (s->stratum_interval_s[k] == 0)
            s->stratum_interval_s[k] = s->interval_s;
        if (s->stratum_interval_s[k] % s->interval_s != 0)
            return rg_err_field(err, RG_EINVAL, "fleet.strata",
                                "scenario: stratum '%s' checks in every %d s, "
                                "not a multiple of the fleet's %d s",
                                s->strata[k], s->stratum_interval_s[k],
                                s->interval_s);
    }
    return finish_sizes(s, err);
}

void rg_knobs_defaults(rg_scenario *s)
{
    for (size_t k = 0; k < RG_SIM_MAX_STRATA; k++)
        s->stratum_loss[k] = -1.0;
    s->restart.at_s = RG_SIM_NEVER;
    s->flaps.per_hour = 1;
}
