/* flag_strategy.c - see flag_strategy.h. */
#include "flag_strategy.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The newest version of a flag (definition parsed). */
typedef struct flag_now {
    json_t *def;
    int64_t version;
} flag_now;

static int take_newest(void *ctx, const rg_flag_rec *f)
{
    flag_now *n = ctx;
    n->def = json_loads(f->definition, 0, NULL);
    n->version = f->version;
    return 1; /* the newest is enough */
}

/* Reads flag name of env into *n (caller decrefs n->def). */
static int flag_read(rg_store *s, const char *env, const char *name,
                     flag_now *n, rg_err *err)
{
    memset(n, 0, sizeof *n);
    int rc = rg_store_flag_history(s, env, name, take_newest, n, err);
    if (rc == 1 && !n->def)
        rc = rg_err_set(err, RG_EIO, "flag '%s': bad stored JSON", name);
    return rc == 1 ? 0 : rc;
}

/* The index of def's strategy of kind grouped by name, or -1. */
static int strategy_at(const json_t *def, const char *kind, const char *name)
{
    json_t *s;
    size_t i;
    json_array_foreach(json_object_get(def, "strategies"), i, s)
    {
        const char *k = json_string_value(json_object_get(s, "name"));
        const char *g = json_string_value(
            json_object_get(json_object_get(s, "parameters"), "groupId"));
        if (k && strcmp(k, kind) == 0 && g && strcmp(g, name) == 0)
            return (int)i;
    }
    return -1;
}

/* def's flexibleRollout strategy grouped by name (borrowed), or NULL. */
static json_t *rollout_strategy(json_t *def, const char *name)
{
    int at = strategy_at(def, "flexibleRollout", name);
    return at < 0
               ? NULL
               : json_array_get(json_object_get(def, "strategies"), (size_t)at);
}

/* Puts into def the floor's strategy for ids (the rollout strategy st's
 * constraints and segments), or takes it out when ids is NULL or "".
 * Returns 0 or -1. */
static int set_floor(json_t *def, const json_t *st, const char *name,
                     const char *ids)
{
    json_t *all = json_object_get(def, "strategies");
    int at = strategy_at(def, "userWithId", name);
    if (at >= 0 && json_array_remove(all, (size_t)at) != 0)
        return -1;
    if (!ids || !*ids)
        return 0;
    json_t *c = json_object_get(st, "constraints"),
           *g = json_object_get(st, "segments");
    json_t *floor = json_pack("{s:s,s:{s:s,s:s},s:o,s:o}", "name", "userWithId",
                              "parameters", "groupId", name, "userIds", ids,
                              "constraints", c ? json_incref(c) : json_array(),
                              "segments", g ? json_incref(g) : json_array());
    return floor ? json_array_append_new(all, floor) : -1;
}

/* The strategy's percentage (a string or a number), 0..100, or -1. */
static int percent_of(const json_t *s)
{
    const json_t *v =
        json_object_get(json_object_get(s, "parameters"), "rollout");
    char *end = NULL;
    double p = json_is_string(v)   ? strtod(json_string_value(v), &end)
               : json_is_number(v) ? json_number_value(v)
                                   : -1;
    if ((end && *end) || p < 0 || p > 100)
        return -1;
    return (int)p;
}

int rg_flag_strategy_read(rg_store *s, const char *env, const char *name,
                          rg_flag_strategy *out, rg_err *err)
{
    flag_now n;
    int rc = flag_read(s, env, name, &n, err);
    if (rc != 0)
        return rc;
    json_t *st = rollout_strategy(n.def, name);
    int at = strategy_at(n.def, "userWithId", name);
    json_t *fl = json_array_get(json_object_get(n.def, "strategies"),
                                at < 0 ? SIZE_MAX : (size_t)at);
    const char *floor = json_string_value(
        json_object_get(json_object_get(fl, "parameters"), "userIds"));
    out->percent = st ? percent_of(st) : -1;
    out->enabled = json_is_true(json_object_get(n.def, "enabled"));
    out->version = n.version;
    out->floor = floor && *floor ? strdup(floor) : NULL;
    json_decref(n.def);
    return floor && *floor && !out->floor
               ? rg_err_set(err, RG_ENOMEM, "out of memory")
               : 0;
}

void rg_flag_strategy_release(rg_flag_strategy *s)
{
    free(s->floor);
    s->floor = NULL;
}

int rg_flag_strategy_write(rg_store *s, const char *env, const char *name,
                           int64_t expect, uint32_t percent, const char *floor,
                           bool disable, const rg_audit_rec *audit, rg_err *err)
{
    flag_now n;
    char num[8], *text = NULL;
    int rc = flag_read(s, env, name, &n, err);
    if (rc != 0)
        return rc;
    json_t *st = rollout_strategy(n.def, name);
    snprintf(num, sizeof num, "%u", percent);
    if (!st)
        rc =
            rg_err_set(err, RG_ENOTFOUND,
                       "flag '%s': its flexibleRollout strategy is gone", name);
    else if (json_object_set_new(json_object_get(st, "parameters"), "rollout",
                                 json_string(num)) != 0 ||
             set_floor(n.def, st, name, floor) != 0 ||
             (disable &&
              json_object_set_new(n.def, "enabled", json_false()) != 0) ||
             !(text = json_dumps(n.def, JSON_COMPACT | JSON_SORT_KEYS)))
        rc = rg_err_set(err, RG_ENOMEM, "out of memory");
    json_decref(n.def);
    if (rc != 0)
        return rc;
    rg_flag_rec f = {.definition = text, .created_ms = audit->at_ms};
    snprintf(f.environment, sizeof f.environment, "%s", env);
    snprintf(f.name, sizeof f.name, "%s", name);
    snprintf(f.created_by, sizeof f.created_by, "%s", audit->actor);
    snprintf(f.reason, sizeof f.reason, "%.*s", (int)sizeof f.reason - 1,
             audit->reason);
    rc = rg_store_flag_put(s, &f, expect, audit, err);
    free(text);
    return rc;
}
