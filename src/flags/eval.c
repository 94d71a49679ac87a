/* eval.c - see eval.h. */
#include "eval.h"

#include "strategy.h"
#include "variant.h"

#include <string.h>

static bool feature_on(const rg_flagset *fs, const rg_flag_feature *f,
                       const rg_flag_ctx *ctx,
                       const rg_flag_variant_def **variant);

static bool has_name(char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

static void resolve(const rg_flagset *fs, const rg_flag_feature *f,
                    const rg_flag_ctx *ctx, rg_flag_result *out);

static bool dependency_met(const rg_flagset *fs, const rg_flag_dependency *d,
                           const rg_flag_ctx *ctx)
{
    const rg_flag_feature *parent = rg_flagset_feature(fs, d->feature);
    const rg_flag_variant_def *unused;
    if (!parent || parent->ndeps > 0)
        return false;
    if (!d->enabled)
        return !feature_on(fs, parent, ctx, &unused);
    if (d->nvariants == 0)
        return feature_on(fs, parent, ctx, &unused);
    rg_flag_result r;
    resolve(fs, parent, ctx, &r);
    return r.feature_enabled && has_name(d->variants, d->nvariants, r.name);
}

/* The SDK's isFeatureEnabled: on or off, and the strategy variant. */
static bool feature_on(const rg_flagset *fs, const rg_flag_feature *f,
                       const rg_flag_ctx *ctx,
                       const rg_flag_variant_def **variant)
{
    *variant = NULL;
    for (size_t i = 0; i < f->ndeps; i++)
        if (!dependency_met(fs, &f->deps[i], ctx))
            return false;
    if (!f->enabled || !f->strategies_ok)
        return false;
    if (f->nstrategies == 0)
        return true;
    for (size_t i = 0; i < f->nstrategies; i++)
        if (rg_flag_strategy_on(fs, &f->strategies[i], ctx, variant))
            return true;
    return false;
}

static void set_result(rg_flag_result *out, const rg_flag_variant_def *v,
                       bool feature_enabled)
{
    out->name = v ? v->name : "disabled";
    out->payload_type = v ? v->payload_type : NULL;
    out->payload_value = v ? v->payload_value : NULL;
    out->enabled = v != NULL;
    out->feature_enabled = feature_enabled;
}

/* The SDK's resolveVariant with the toggle checked. */
static void resolve(const rg_flagset *fs, const rg_flag_feature *f,
                    const rg_flag_ctx *ctx, rg_flag_result *out)
{
    const rg_flag_variant_def *v = NULL;
    bool on = feature_on(fs, f, ctx, &v);
    if (on && !v && f->nvariants > 0)
        v = rg_flag_variant_select(f->variants, f->nvariants, f->name,
                                   f->variants[0].stickiness, ctx);
    set_result(out, on ? v : NULL, on);
}

bool rg_flags_enabled(const rg_flagset *fs, const char *name,
                      const rg_flag_ctx *ctx)
{
    const rg_flag_feature *f = rg_flagset_feature(fs, name);
    const rg_flag_variant_def *unused;
    return f && feature_on(fs, f, ctx, &unused);
}

void rg_flags_variant(const rg_flagset *fs, const char *name,
                      const rg_flag_ctx *ctx, rg_flag_result *out)
{
    const rg_flag_feature *f = rg_flagset_feature(fs, name);
    if (!f) {
        set_result(out, NULL, false);
        return;
    }
    resolve(fs, f, ctx, out);
}
