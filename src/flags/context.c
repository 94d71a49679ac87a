/* context.c - see context.h. */
#include "context.h"

#include <string.h>

static const char *lookup(const rg_flag_field *f, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(f[i].name, name) == 0)
            return f[i].value;
    return NULL;
}

const char *rg_flag_ctx_value(const rg_flag_ctx *ctx, const char *field)
{
    const char *v = NULL;
    if (!field)
        return NULL;
    if (strcmp(field, "userId") == 0)
        v = ctx->user_id;
    else if (strcmp(field, "sessionId") == 0)
        v = ctx->session_id;
    else if (strcmp(field, "remoteAddress") == 0)
        v = ctx->remote_address;
    else if (strcmp(field, "environment") == 0)
        v = ctx->environment;
    else if (strcmp(field, "appName") == 0)
        v = ctx->app_name;
    else if (strcmp(field, "currentTime") == 0)
        v = ctx->current_time;
    else
        v = lookup(ctx->fields, ctx->nfields, field);
    return v ? v : lookup(ctx->props, ctx->nprops, field);
}

uint32_t rg_flag_ctx_random(const rg_flag_ctx *ctx)
{
    return ctx->random ? ctx->random(ctx->random_arg) : 0;
}
