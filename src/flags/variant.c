/* variant.c - see variant.h. */
#include "variant.h"

#include "bucket.h"

#include <stdio.h>
#include <string.h>

static const rg_flag_variant_def *override_for(const rg_flag_variant_def *v,
                                               size_t n, const rg_flag_ctx *ctx)
{
    for (size_t i = 0; i < n; i++)
        for (size_t o = 0; o < v[i].noverrides; o++) {
            const rg_flag_override *ov = &v[i].overrides[o];
            const char *value = rg_flag_ctx_value(ctx, ov->context_name);
            for (size_t k = 0; value && k < ov->nvalues; k++)
                if (strcmp(ov->values[k], value) == 0)
                    return &v[i];
        }
    return NULL;
}

/* The SDK's getSeed: the stickiness field's value, or for "default" the
 * first non-empty of userId, sessionId, remoteAddress; else a random
 * number written into buf. */
static const char *seed(const char *stickiness, const rg_flag_ctx *ctx,
                        char *buf, size_t size)
{
    const char *value = NULL;
    if (stickiness && strcmp(stickiness, "default") != 0) {
        value = rg_flag_ctx_value(ctx, stickiness);
    } else {
        const char *candidates[] = {ctx->user_id, ctx->session_id,
                                    ctx->remote_address};
        for (size_t i = 0; !value && i < 3; i++)
            if (candidates[i] && *candidates[i])
                value = candidates[i];
    }
    if (value && *value)
        return value;
    snprintf(buf, size, "%u", rg_flag_ctx_random(ctx) % 100001u);
    return buf;
}

const rg_flag_variant_def *rg_flag_variant_select(const rg_flag_variant_def *v,
                                                  size_t n, const char *group,
                                                  const char *stickiness,
                                                  const rg_flag_ctx *ctx)
{
    int64_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += v[i].weight;
    if (total <= 0)
        return NULL;
    const rg_flag_variant_def *o = override_for(v, n, ctx);
    if (o)
        return o;
    char buf[16];
    const char *id = seed(stickiness, ctx, buf, sizeof buf);
    uint32_t target = rg_flag_bucket(group ? group : "undefined", id,
                                     RG_FLAG_VARIANT_SEED, (uint32_t)total);
    int64_t counter = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i].weight == 0)
            continue;
        counter += v[i].weight;
        if (counter >= target)
            return &v[i];
    }
    return NULL;
}
