/* parse.c - features of the client-features JSON (see pstate.h); the
 * document around them is read by flagset.c, constraints by pconstraint.c. */
#include "bucket.h"
#include "number.h"
#include "pstate.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define OOM(p) rg_err_set((p)->err, RG_ENOMEM, "out of memory")

static const struct {
    const char *name;
    rg_flag_strategy_kind kind;
} kinds[] = {
    {"default", RG_STRAT_DEFAULT},
    {"flexibleRollout", RG_STRAT_FLEXIBLE_ROLLOUT},
    {"userWithId", RG_STRAT_USER_WITH_ID},
    {"gradualRolloutUserId", RG_STRAT_GRADUAL_USER_ID},
    {"gradualRolloutSessionId", RG_STRAT_GRADUAL_SESSION_ID},
    {"gradualRolloutRandom", RG_STRAT_GRADUAL_RANDOM},
    {"remoteAddress", RG_STRAT_REMOTE_ADDRESS},
    {"applicationHostname", RG_STRAT_APPLICATION_HOSTNAME},
};

/* Reads a string field; strict mode requires it when required is true. */
static int text_field(rg__fparse *p, const json_t *obj, const char *field,
                      bool required, char **out)
{
    const json_t *v = json_object_get(obj, field);
    if (p->mode == RG_FLAGS_STRICT && (v || required) && !json_is_string(v) &&
        !(!required && json_is_null(v)))
        return rg__fparse_fail(p, field, "must be a string");
    bool oom = false;
    *out = rg__ftext(v, &oom);
    if (oom)
        return OOM(p);
    if (p->mode == RG_FLAGS_STRICT && required && !**out)
        return rg__fparse_fail(p, field, "must not be empty");
    return 0;
}

/* Allocates *out for the items of arr; a missing or null arr is empty;
 * anything else than an array is an error in strict mode. Returns 1 when
 * there is something to read, 0 when not, negative on error. */
static int array_of(rg__fparse *p, const json_t *arr, const char *field,
                    size_t size, void **out)
{
    *out = NULL;
    if (!arr || json_is_null(arr))
        return 0;
    if (!json_is_array(arr))
        return p->mode == RG_FLAGS_STRICT
                   ? rg__fparse_fail(p, field, "must be an array")
                   : 0;
    *out = calloc(json_array_size(arr) + 1, size);
    return *out ? 1 : OOM(p);
}

/* Parses each item of the array arr (field of the object being read) with
 * one into a new array of item-sized elements, *out; *n counts the items
 * begun, so that a failure midway frees what was filled. Each item is read
 * with the path "field[i]". */
static int each(rg__fparse *p, const json_t *arr, const char *field,
                size_t size, void **out, size_t *n,
                int (*one)(rg__fparse *p, const json_t *j, void *item))
{
    int rc = array_of(p, arr, field, size, out);
    if (rc <= 0)
        return rc;
    size_t i;
    json_t *item;
    json_array_foreach(arr, i, item)
    {
        size_t mark = rg__fparse_push(p, field, -1);
        rg__fparse_push(p, NULL, (long)i);
        *n = i + 1;
        if ((rc = one(p, item, (char *)*out + i * size)))
            return rc;
        rg__fparse_pop(p, mark);
    }
    return 0;
}

/* Splits s on commas with the white space around each comma, as the SDK's
 * split(/\s*,\s*\/) does. */
static int split_list(rg__fparse *p, const char *s, bool lower, char ***out,
                      size_t *n)
{
    size_t cap = 1;
    for (const char *c = s; *c; c++)
        cap += *c == ',';
    if (!(*out = calloc(cap, sizeof **out)))
        return OOM(p);
    for (const char *start = s;; *n += 1) {
        const char *comma = strchr(start, ',');
        const char *end = comma ? comma : start + strlen(start);
        const char *e = end;
        while (comma && e > start && isspace((unsigned char)e[-1]))
            e--;
        if (!((*out)[*n] = strndup(start, (size_t)(e - start))))
            return OOM(p);
        for (char *c = (*out)[*n]; lower && *c; c++)
            *c = (char)tolower((unsigned char)*c);
        if (!comma) {
            *n += 1;
            return 0;
        }
        for (start = comma + 1; isspace((unsigned char)*start);)
            start++;
    }
}

static const char *param(const rg_flag_strategy *s, const char *name)
{
    for (size_t i = 0; i < s->nparams; i++)
        if (strcmp(s->params[i].name, name) == 0)
            return s->params[i].value;
    return NULL;
}

static int params(rg__fparse *p, const json_t *obj, rg_flag_strategy *s)
{
    if (!obj || json_is_null(obj))
        return 0;
    if (!json_is_object(obj))
        return p->mode == RG_FLAGS_STRICT
                   ? rg__fparse_fail(p, "parameters", "must be an object")
                   : 0;
    if (!(s->params = calloc(json_object_size(obj) + 1, sizeof *s->params)))
        return OOM(p);
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        bool oom = false;
        char *text = rg__ftext(v, &oom);
        if (!text && !oom)
            continue;
        s->params[s->nparams].value = text;
        if (oom || !(s->params[s->nparams++].name = strdup(key)))
            return OOM(p);
    }
    return 0;
}

/* Derives what the strategy's kind reads from its parameters. */
static int strategy_settings(rg__fparse *p, rg_flag_strategy *s)
{
    s->group_id = param(s, "groupId");
    s->has_group = s->group_id && *s->group_id;
    rg_flag_bucket_prefix(&s->group_prefix, s->group_id ? s->group_id : "",
                          RG_FLAG_STRATEGY_SEED);
    s->stickiness = param(s, "stickiness");
    s->stick_field = rg_flag_field_of(s->stickiness);
    s->stick_default = !s->stickiness || !*s->stickiness ||
                       strcmp(s->stickiness, "default") == 0;
    s->stick_random = s->stickiness && strcmp(s->stickiness, "random") == 0;
    const char *pct = param(
        s, s->kind == RG_STRAT_FLEXIBLE_ROLLOUT ? "rollout" : "percentage");
    s->percentage = pct ? rg_flag_js_number(pct) : NAN;
    const char *list = s->kind == RG_STRAT_USER_WITH_ID ? param(s, "userIds")
                       : s->kind == RG_STRAT_REMOTE_ADDRESS ? param(s, "IPs")
                       : s->kind == RG_STRAT_APPLICATION_HOSTNAME
                           ? param(s, "hostNames")
                           : NULL;
    if (list && *list) /* "" is no list, as in the SDK */
        return split_list(p, list, s->kind == RG_STRAT_APPLICATION_HOSTNAME,
                          &s->list, &s->nlist);
    if (p->mode == RG_FLAGS_STRICT && isnan(s->percentage) &&
        (s->kind == RG_STRAT_FLEXIBLE_ROLLOUT ||
         s->kind == RG_STRAT_GRADUAL_USER_ID ||
         s->kind == RG_STRAT_GRADUAL_SESSION_ID ||
         s->kind == RG_STRAT_GRADUAL_RANDOM))
        return rg__fparse_fail(
            p, "parameters", "needs a numeric %s",
            s->kind == RG_STRAT_FLEXIBLE_ROLLOUT ? "rollout" : "percentage");
    return 0;
}

static int override_one(rg__fparse *p, const json_t *o, void *item)
{
    rg_flag_override *ov = item;
    int rc = text_field(p, o, "contextName", true, &ov->context_name);
    return rc ? rc
              : rg__fstrings(p, json_object_get(o, "values"), "values", false,
                             &ov->values, &ov->nvalues);
}

static int payload(rg__fparse *p, const json_t *j, rg_flag_variant_def *v)
{
    if (!j || json_is_null(j))
        return 0;
    if (!json_is_object(j))
        return p->mode == RG_FLAGS_STRICT
                   ? rg__fparse_fail(p, "payload", "must be an object")
                   : 0;
    const json_t *value = json_object_get(j, "value");
    bool oom = false;
    v->payload_type = rg__ftext(json_object_get(j, "type"), &oom);
    v->payload_value = json_is_object(value) || json_is_array(value)
                           ? json_dumps(value, JSON_COMPACT)
                           : rg__ftext(value, &oom);
    if (oom)
        return OOM(p);
    if (p->mode == RG_FLAGS_STRICT && (!v->payload_type || !v->payload_value))
        return rg__fparse_fail(p, "payload", "needs a type and a value");
    return 0;
}

static int variant(rg__fparse *p, const json_t *j, void *item)
{
    rg_flag_variant_def *v = item;
    if (!json_is_object(j))
        return rg__fparse_fail(p, NULL, "must be an object");
    int rc;
    if ((rc = text_field(p, j, "name", true, &v->name)) ||
        (rc = text_field(p, j, "stickiness", false, &v->stickiness)))
        return rc;
    const json_t *w = json_object_get(j, "weight");
    if (json_is_integer(w) && json_integer_value(w) >= 0 &&
        json_integer_value(w) <= 1000000)
        v->weight = json_integer_value(w);
    else if (p->mode == RG_FLAGS_STRICT)
        return rg__fparse_fail(p, "weight", "must be an integer in 0..1000000");
    if ((rc = payload(p, json_object_get(j, "payload"), v)))
        return rc;
    return each(p, json_object_get(j, "overrides"), "overrides",
                sizeof *v->overrides, (void **)&v->overrides, &v->noverrides,
                override_one);
}

/* Variants of a feature or strategy. */
static int variants(rg__fparse *p, const json_t *arr, rg_flag_variant_def **out,
                    size_t *n)
{
    return each(p, arr, "variants", sizeof **out, (void **)out, n, variant);
}

static int segment_ids(rg__fparse *p, const json_t *arr, rg_flag_strategy *s)
{
    int rc = array_of(p, arr, "segments", sizeof *s->segments,
                      (void **)&s->segments);
    if (rc <= 0)
        return rc;
    size_t i;
    json_t *id;
    json_array_foreach(arr, i, id)
    {
        if (!json_is_integer(id))
            return rg__fparse_fail(p, "segments", "item %zu is not an id", i);
        s->segments[s->nsegments++] = json_integer_value(id);
    }
    return 0;
}

static int strategy(rg__fparse *p, const json_t *j, void *item)
{
    rg_flag_strategy *s = item;
    if (!json_is_object(j))
        return rg__fparse_fail(p, NULL, "must be an object");
    int rc;
    if ((rc = text_field(p, j, "name", true, &s->name)))
        return rc;
    for (size_t i = 0; s->name && i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(s->name, kinds[i].name) == 0)
            s->kind = kinds[i].kind;
    if (s->kind == RG_STRAT_UNKNOWN && p->mode == RG_FLAGS_STRICT)
        return rg__fparse_fail(p, "name", "unknown strategy '%s'",
                               s->name ? s->name : "");
    if ((rc = params(p, json_object_get(j, "parameters"), s)) ||
        (rc = strategy_settings(p, s)) ||
        (rc = segment_ids(p, json_object_get(j, "segments"), s)) ||
        (rc = variants(p, json_object_get(j, "variants"), &s->variants,
                       &s->nvariants)))
        return rc;
    size_t mark = rg__fparse_push(p, "constraints", -1);
    rc = rg__fconstraints(p, json_object_get(j, "constraints"), &s->constraints,
                          &s->nconstraints);
    if (!rc)
        rg__fparse_pop(p, mark);
    return rc;
}

static int strategies(rg__fparse *p, const json_t *arr, rg_flag_feature *f)
{
    f->strategies_ok = json_is_array(arr);
    if (!f->strategies_ok && p->mode == RG_FLAGS_STRICT)
        return rg__fparse_fail(p, "strategies", "must be an array");
    return each(p, arr, "strategies", sizeof *f->strategies,
                (void **)&f->strategies, &f->nstrategies, strategy);
}

static int dependency(rg__fparse *p, const json_t *d, void *item)
{
    rg_flag_dependency *dep = item;
    if (!json_is_object(d))
        return rg__fparse_fail(p, NULL, "must be an object");
    dep->enabled = !json_is_false(json_object_get(d, "enabled"));
    int rc = text_field(p, d, "feature", true, &dep->feature);
    return rc ? rc
              : rg__fstrings(p, json_object_get(d, "variants"), "variants",
                             false, &dep->variants, &dep->nvariants);
}

int rg__fparse_feature(rg__fparse *p, const json_t *j, rg_flag_feature *f)
{
    if (!json_is_object(j))
        return rg__fparse_fail(p, NULL, "must be an object");
    int rc;
    if ((rc = text_field(p, j, "name", true, &f->name)))
        return rc;
    if (!f->name)
        return rg__fparse_fail(p, "name", "must be a string");
    const json_t *en = json_object_get(j, "enabled");
    if (p->mode == RG_FLAGS_STRICT && !json_is_boolean(en))
        return rg__fparse_fail(p, "enabled", "must be true or false");
    f->enabled = json_is_true(en);
    if ((rc = strategies(p, json_object_get(j, "strategies"), f)) ||
        (rc = variants(p, json_object_get(j, "variants"), &f->variants,
                       &f->nvariants)))
        return rc;
    return each(p, json_object_get(j, "dependencies"), "dependencies",
                sizeof *f->deps, (void **)&f->deps, &f->ndeps, dependency);
}
