/* constraint.c - see constraint.h. */
#include "constraint.h"

#include "number.h"
#include "streq.h"

#include <ctype.h>
#include <math.h>
#include <string.h>

static bool in_values(const rg_flag_constraint *c, const char *v)
{
    for (size_t i = 0; v && i < c->nvalues; i++)
        if (rg__fstreq(c->values[i], v))
            return true;
    return false;
}

/* Compares n bytes, folding ASCII case in a (needles are pre-folded). */
static bool eq_fold(const char *a, const char *b, size_t n, bool fold)
{
    if (!fold)
        return memcmp(a, b, n) == 0;
    for (size_t i = 0; i < n; i++)
        if (tolower((unsigned char)a[i]) != (unsigned char)b[i])
            return false;
    return true;
}

static bool str_op(const rg_flag_constraint *c, const char *v)
{
    if (!v)
        return false;
    bool fold = c->case_insensitive;
    size_t vlen = strlen(v);
    for (size_t i = 0; i < c->nvalues; i++) {
        const char *needle = fold ? c->lower[i] : c->values[i];
        size_t n = strlen(needle);
        if (n > vlen)
            continue;
        if (c->op == RG_OP_STR_STARTS_WITH && eq_fold(v, needle, n, fold))
            return true;
        if (c->op == RG_OP_STR_ENDS_WITH &&
            eq_fold(v + vlen - n, needle, n, fold))
            return true;
        for (size_t at = 0; c->op == RG_OP_STR_CONTAINS && at + n <= vlen; at++)
            if (eq_fold(v + at, needle, n, fold))
                return true;
    }
    return false;
}

static bool num_op(const rg_flag_constraint *c, const char *v)
{
    double x = rg_flag_js_number(v), y = c->num;
    if (isnan(x) || isnan(y))
        return false;
    switch (c->op) {
    case RG_OP_NUM_EQ:
        return x == y;
    case RG_OP_NUM_GT:
        return x > y;
    case RG_OP_NUM_GTE:
        return x >= y;
    case RG_OP_NUM_LT:
        return x < y;
    case RG_OP_NUM_LTE:
        return x <= y;
    default:
        return false;
    }
}

/* DATE_* compare the context's currentTime (not contextName), as the SDK. */
static bool date_op(const rg_flag_constraint *c, const rg_flag_ctx *ctx)
{
    double now = ctx->now_ms;
    if (ctx->current_time && !rg_flag_js_date(ctx->current_time, &now))
        return false;
    if (isnan(c->date_ms))
        return false;
    return c->op == RG_OP_DATE_AFTER ? now > c->date_ms : now < c->date_ms;
}

static bool semver_op(const rg_flag_constraint *c, const char *v)
{
    rg_semver sv;
    if (!v || !*v || v[0] == 'v' || !c->semver_ok || !rg_semver_parse(v, &sv))
        return false;
    int cmp = rg_semver_cmp(&sv, &c->semver);
    switch (c->op) {
    case RG_OP_SEMVER_EQ:
        return cmp == 0;
    case RG_OP_SEMVER_GT:
        return cmp > 0;
    case RG_OP_SEMVER_GTE:
        return cmp >= 0;
    case RG_OP_SEMVER_LT:
        return cmp < 0;
    case RG_OP_SEMVER_LTE:
        return cmp <= 0;
    default:
        return false;
    }
}

static bool cidr_op(const rg_flag_constraint *c, const char *v)
{
    rg_cidr addr;
    if (!v || !rg_cidr_parse(v, &addr))
        return false;
    for (size_t i = 0; i < c->ncidrs; i++)
        if (rg_cidr_contains(&c->cidrs[i], &addr))
            return true;
    return false;
}

static bool evaluate(const rg_flag_constraint *c, const rg_flag_ctx *ctx)
{
    const char *v = rg_flag_ctx_get(ctx, c->field, c->context_name);
    switch (c->op) {
    case RG_OP_IN:
        return in_values(c, v);
    case RG_OP_NOT_IN:
        return !in_values(c, v);
    case RG_OP_STR_STARTS_WITH:
    case RG_OP_STR_ENDS_WITH:
    case RG_OP_STR_CONTAINS:
        return str_op(c, v);
    case RG_OP_NUM_EQ:
    case RG_OP_NUM_GT:
    case RG_OP_NUM_GTE:
    case RG_OP_NUM_LT:
    case RG_OP_NUM_LTE:
        return num_op(c, v);
    case RG_OP_DATE_AFTER:
    case RG_OP_DATE_BEFORE:
        return date_op(c, ctx);
    case RG_OP_SEMVER_EQ:
    case RG_OP_SEMVER_GT:
    case RG_OP_SEMVER_GTE:
    case RG_OP_SEMVER_LT:
    case RG_OP_SEMVER_LTE:
        return semver_op(c, v);
    case RG_OP_REGEX:
        return v && c->re && rg_flag_regex_find(c->re, v);
    case RG_OP_IN_CIDR:
        return cidr_op(c, v);
    case RG_OP_UNKNOWN:
        break;
    }
    return false;
}

bool rg_flag_constraint_holds(const rg_flag_constraint *c,
                              const rg_flag_ctx *ctx)
{
    if (c->op == RG_OP_UNKNOWN)
        return false;
    return c->inverted ? !evaluate(c, ctx) : evaluate(c, ctx);
}

bool rg_flag_constraints_hold(const rg_flag_constraint *c, size_t n,
                              const rg_flag_ctx *ctx)
{
    for (size_t i = 0; i < n; i++)
        if (!rg_flag_constraint_holds(&c[i], ctx))
            return false;
    return true;
}
