/* pconstraint.c - constraints of the client-features JSON (see pstate.h). */
#include "number.h"
#include "pstate.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const op_names[] = {
    [RG_OP_IN] = "IN",
    [RG_OP_NOT_IN] = "NOT_IN",
    [RG_OP_STR_STARTS_WITH] = "STR_STARTS_WITH",
    [RG_OP_STR_ENDS_WITH] = "STR_ENDS_WITH",
    [RG_OP_STR_CONTAINS] = "STR_CONTAINS",
    [RG_OP_NUM_EQ] = "NUM_EQ",
    [RG_OP_NUM_GT] = "NUM_GT",
    [RG_OP_NUM_GTE] = "NUM_GTE",
    [RG_OP_NUM_LT] = "NUM_LT",
    [RG_OP_NUM_LTE] = "NUM_LTE",
    [RG_OP_DATE_AFTER] = "DATE_AFTER",
    [RG_OP_DATE_BEFORE] = "DATE_BEFORE",
    [RG_OP_SEMVER_EQ] = "SEMVER_EQ",
    [RG_OP_SEMVER_GT] = "SEMVER_GT",
    [RG_OP_SEMVER_GTE] = "SEMVER_GTE",
    [RG_OP_SEMVER_LT] = "SEMVER_LT",
    [RG_OP_SEMVER_LTE] = "SEMVER_LTE",
    [RG_OP_REGEX] = "REGEX",
    [RG_OP_IN_CIDR] = "IN_CIDR",
};

static rg_flag_op op_from_name(const char *s)
{
    for (size_t i = 1; s && i < sizeof op_names / sizeof op_names[0]; i++)
        if (strcmp(s, op_names[i]) == 0)
            return (rg_flag_op)i;
    return RG_OP_UNKNOWN;
}

static bool is_op(rg_flag_op op, rg_flag_op lo, rg_flag_op hi)
{
    return op >= lo && op <= hi;
}

/* Strict mode: the single value must suit the operator. */
static int check_value(rg__fparse *p, rg_flag_constraint *c)
{
    if (p->mode != RG_FLAGS_STRICT)
        return 0;
    if (is_op(c->op, RG_OP_NUM_EQ, RG_OP_NUM_LTE) && isnan(c->num))
        return rg__fparse_fail(p, "value", "'%s' is not a number",
                               c->value ? c->value : "");
    if (is_op(c->op, RG_OP_DATE_AFTER, RG_OP_DATE_BEFORE) && isnan(c->date_ms))
        return rg__fparse_fail(p, "value", "'%s' is not an ISO 8601 date",
                               c->value ? c->value : "");
    if (is_op(c->op, RG_OP_SEMVER_EQ, RG_OP_SEMVER_LTE) && !c->semver_ok)
        return rg__fparse_fail(p, "value", "'%s' is not a semantic version",
                               c->value ? c->value : "");
    if (c->op == RG_OP_IN_CIDR && c->ncidrs != c->nvalues)
        return rg__fparse_fail(p, "values",
                               "not every value is an address "
                               "or a CIDR range");
    return 0;
}

/* Precomputes what the operator needs from value(s). */
static int prepare(rg__fparse *p, rg_flag_constraint *c)
{
    c->num = rg_flag_js_number(c->value);
    if (!c->value || !rg_flag_js_date(c->value, &c->date_ms))
        c->date_ms = NAN;
    c->semver_ok = c->value && rg_semver_parse(c->value, &c->semver);
    if (c->op == RG_OP_REGEX && c->value) {
        rg_err rerr = {0};
        c->re = rg_flag_regex_compile(c->value, c->case_insensitive, &rerr);
        if (!c->re && p->mode == RG_FLAGS_STRICT)
            return rg__fparse_fail(p, "value", "%s", rerr.msg);
    }
    if (c->op == RG_OP_IN_CIDR && c->nvalues) {
        c->cidrs = calloc(c->nvalues, sizeof *c->cidrs);
        if (!c->cidrs)
            return rg_err_set(p->err, RG_ENOMEM, "out of memory");
        for (size_t i = 0; i < c->nvalues; i++)
            if (rg_cidr_parse(c->values[i], &c->cidrs[c->ncidrs]))
                c->ncidrs++;
    }
    if (c->case_insensitive && c->nvalues) {
        c->lower = calloc(c->nvalues, sizeof *c->lower);
        if (!c->lower)
            return rg_err_set(p->err, RG_ENOMEM, "out of memory");
        for (size_t i = 0; i < c->nvalues; i++) {
            if (!(c->lower[i] = strdup(c->values[i])))
                return rg_err_set(p->err, RG_ENOMEM, "out of memory");
            for (char *s = c->lower[i]; *s; s++)
                *s = (char)tolower((unsigned char)*s);
        }
    }
    return check_value(p, c);
}

/* Replaces the n strings of s (freed) by the pool's copies. */
static int pooled(rg__fparse *p, char **s, size_t n)
{
    bool oom = false;
    for (size_t i = 0; i < n; i++) {
        char *copy = s[i] ? rg_flag_strpool_intern(p->pool, s[i]) : NULL;
        oom |= s[i] && !copy;
        free(s[i]);
        s[i] = copy;
    }
    return oom ? rg_err_set(p->err, RG_ENOMEM, "out of memory") : 0;
}

static int constraint(rg__fparse *p, const json_t *j, rg_flag_constraint *c)
{
    if (!json_is_object(j)) /* lenient: an operator-less constraint, false */
        return p->mode == RG_FLAGS_STRICT
                   ? rg__fparse_fail(p, NULL, "must be an object")
                   : 0;
    bool oom = false;
    const json_t *name = json_object_get(j, "contextName");
    const json_t *op = json_object_get(j, "operator");
    if (p->mode == RG_FLAGS_STRICT && !json_is_string(name))
        return rg__fparse_fail(p, "contextName", "must be a string");
    if (p->mode == RG_FLAGS_STRICT && !json_is_string(op))
        return rg__fparse_fail(p, "operator", "must be a string");
    c->context_name = rg__ftext(name, &oom);
    if (!oom && pooled(p, &c->context_name, 1))
        return RG_ENOMEM;
    c->field = rg_flag_field_of(c->context_name);
    c->op = op_from_name(json_string_value(op));
    if (c->op == RG_OP_UNKNOWN && p->mode == RG_FLAGS_STRICT)
        return rg__fparse_fail(p, "operator", "unknown operator '%s'",
                               json_string_value(op));
    c->inverted = json_is_true(json_object_get(j, "inverted"));
    c->case_insensitive = json_is_true(json_object_get(j, "caseInsensitive"));
    c->value = rg__ftext(json_object_get(j, "value"), &oom);
    if (oom)
        return rg_err_set(p->err, RG_ENOMEM, "out of memory");
    int rc = rg__fstrings(p, json_object_get(j, "values"), "values", true,
                          &c->values, &c->nvalues);
    if (rc == 0)
        rc = pooled(p, c->values, c->nvalues);
    return rc ? rc : prepare(p, c);
}

int rg__fconstraints(rg__fparse *p, const json_t *arr, rg_flag_constraint **out,
                     size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!arr || json_is_null(arr))
        return 0;
    if (!json_is_array(arr))
        return rg__fparse_fail(p, NULL, "must be an array");
    *out = calloc(json_array_size(arr) + 1, sizeof **out);
    if (!*out)
        return rg_err_set(p->err, RG_ENOMEM, "out of memory");
    size_t i;
    json_t *item;
    json_array_foreach(arr, i, item)
    {
        size_t mark = rg__fparse_push(p, NULL, (long)i);
        *n = i + 1;
        int rc = constraint(p, item, &(*out)[i]);
        if (rc)
            return rc;
        rg__fparse_pop(p, mark);
    }
    return 0;
}
