/* strategy.c - see strategy.h. */
#include "strategy.h"

#include "bucket.h"
#include "cidr.h"
#include "constraint.h"
#include "variant.h"

#include <stdio.h>
#include <string.h>

static bool segments_hold(const rg_flagset *fs, const rg_flag_strategy *s,
                          const rg_flag_ctx *ctx)
{
    for (size_t i = 0; i < s->nsegments; i++) {
        const rg_flag_segment *seg = rg_flagset_segment(fs, s->segments[i]);
        if (!seg ||
            !rg_flag_constraints_hold(seg->constraints, seg->nconstraints, ctx))
            return false;
    }
    return true;
}

/* group: the strategy's groupId (its hashed prefix is kept), else
 * another group (flexibleRollout without groupId: featureToggle). */
static bool rollout(const rg_flag_strategy *s, const char *id,
                    const char *group)
{
    if (!id || !*id || !(s->percentage > 0))
        return false;
    uint32_t pos = group == s->group_id
                       ? rg_flag_bucket_from(&s->group_prefix, id, 100)
                       : rg_flag_bucket(group ? group : "", id,
                                        RG_FLAG_STRATEGY_SEED, 100);
    return pos <= s->percentage;
}

static bool flexible(const rg_flag_strategy *s, const rg_flag_ctx *ctx)
{
    const char *group =
        s->has_group ? s->group_id : rg_flag_ctx_value(ctx, "featureToggle");
    char buf[16];
    const char *id = NULL;
    if (!s->stick_default && !s->stick_random)
        return rollout(s, rg_flag_ctx_get(ctx, s->stick_field, s->stickiness),
                       group);
    if (s->stick_default)
        id = ctx->user_id && *ctx->user_id         ? ctx->user_id
             : ctx->session_id && *ctx->session_id ? ctx->session_id
                                                   : NULL;
    if (!id) {
        snprintf(buf, sizeof buf, "%u", rg_flag_ctx_random(ctx) % 10001u + 1);
        id = buf;
    }
    return rollout(s, id, group);
}

static bool listed(const rg_flag_strategy *s, const char *v)
{
    for (size_t i = 0; v && i < s->nlist; i++)
        if (strcmp(s->list[i], v) == 0)
            return true;
    return false;
}

static bool remote_address(const rg_flag_strategy *s, const rg_flag_ctx *ctx)
{
    rg_cidr addr, range;
    bool addr_ok = ctx->remote_address &&
                   rg_cidr_parse(ctx->remote_address, &addr) &&
                   addr.family == 4;
    for (size_t i = 0; i < s->nlist; i++) {
        if (ctx->remote_address && strcmp(s->list[i], ctx->remote_address) == 0)
            return true;
        if (addr_ok && rg_cidr_parse(s->list[i], &range) && range.family == 4 &&
            rg_cidr_contains(&range, &addr))
            return true;
    }
    return false;
}

static bool kind_on(const rg_flag_strategy *s, const rg_flag_ctx *ctx)
{
    switch (s->kind) {
    case RG_STRAT_DEFAULT:
        return true;
    case RG_STRAT_FLEXIBLE_ROLLOUT:
        return flexible(s, ctx);
    case RG_STRAT_USER_WITH_ID:
        return listed(s, ctx->user_id);
    case RG_STRAT_GRADUAL_USER_ID:
        return rollout(s, ctx->user_id, s->group_id);
    case RG_STRAT_GRADUAL_SESSION_ID:
        return rollout(s, ctx->session_id, s->group_id);
    case RG_STRAT_GRADUAL_RANDOM:
        return s->percentage >= (double)(rg_flag_ctx_random(ctx) % 100u + 1);
    case RG_STRAT_REMOTE_ADDRESS:
        return remote_address(s, ctx);
    case RG_STRAT_APPLICATION_HOSTNAME:
        return listed(s, ctx->hostname ? ctx->hostname : "undefined");
    case RG_STRAT_UNKNOWN:
        break;
    }
    return false;
}

bool rg_flag_strategy_on(const rg_flagset *fs, const rg_flag_strategy *s,
                         const rg_flag_ctx *ctx,
                         const rg_flag_variant_def **variant)
{
    *variant = NULL;
    if (s->kind == RG_STRAT_UNKNOWN ||
        !rg_flag_constraints_hold(s->constraints, s->nconstraints, ctx) ||
        !segments_hold(fs, s, ctx) || !kind_on(s, ctx))
        return false;
    if (s->nvariants > 0) {
        const char *stick =
            s->variants[0].stickiness && *s->variants[0].stickiness
                ? s->variants[0].stickiness
                : s->stickiness;
        *variant = rg_flag_variant_select(s->variants, s->nvariants,
                                          s->group_id, stick, ctx);
    }
    return true;
}
