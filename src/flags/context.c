/* context.c - see context.h. */
#include "context.h"

#include "streq.h"

#include <string.h>

static const char *lookup(const rg_flag_field *f, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (rg__fstreq(f[i].name, name))
            return f[i].value;
    return NULL;
}

rg_flag_field_id rg_flag_field_of(const char *name)
{
    static const char *const names[] = {
        [RG_FIELD_USER_ID] = "userId",
        [RG_FIELD_SESSION_ID] = "sessionId",
        [RG_FIELD_REMOTE_ADDRESS] = "remoteAddress",
        [RG_FIELD_ENVIRONMENT] = "environment",
        [RG_FIELD_APP_NAME] = "appName",
        [RG_FIELD_CURRENT_TIME] = "currentTime",
    };
    for (size_t i = 1; name && i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i]) == 0)
            return (rg_flag_field_id)i;
    return RG_FIELD_OTHER;
}

const char *rg_flag_ctx_get(const rg_flag_ctx *ctx, rg_flag_field_id id,
                            const char *field)
{
    const char *v = NULL;
    if (!field)
        return NULL;
    switch (id) {
    case RG_FIELD_USER_ID:
        v = ctx->user_id;
        break;
    case RG_FIELD_SESSION_ID:
        v = ctx->session_id;
        break;
    case RG_FIELD_REMOTE_ADDRESS:
        v = ctx->remote_address;
        break;
    case RG_FIELD_ENVIRONMENT:
        v = ctx->environment;
        break;
    case RG_FIELD_APP_NAME:
        v = ctx->app_name;
        break;
    case RG_FIELD_CURRENT_TIME:
        v = ctx->current_time;
        break;
    case RG_FIELD_OTHER:
        v = lookup(ctx->fields, ctx->nfields, field);
        break;
    }
    return v ? v : lookup(ctx->props, ctx->nprops, field);
}

const char *rg_flag_ctx_value(const rg_flag_ctx *ctx, const char *field)
{
    return rg_flag_ctx_get(ctx, rg_flag_field_of(field), field);
}

uint32_t rg_flag_ctx_random(const rg_flag_ctx *ctx)
{
    return ctx->random ? ctx->random(ctx->random_arg) : 0;
}
