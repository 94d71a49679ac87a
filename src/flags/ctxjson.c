/* ctxjson.c - see ctxjson.h. */
#include "ctxjson.h"

#include "pstate.h"

#include <stdlib.h>
#include <string.h>

/* Text of a scalar: borrowed from j for strings, converted otherwise.
 * Sets *value to NULL for null. */
static int text(rg_flag_ctx_json *c, const char *key, const json_t *v,
                const char **value, rg_err *err)
{
    *value = NULL;
    if (json_is_null(v))
        return 0;
    if (json_is_string(v)) {
        *value = json_string_value(v);
        return 0;
    }
    if (json_is_object(v) || json_is_array(v))
        return rg_err_field(err, RG_EINVAL, key,
                            "context field '%s': must be a string or number",
                            key);
    bool oom = false;
    char *s = rg__ftext(v, &oom);
    if (!s || c->nowned >= sizeof c->owned / sizeof c->owned[0]) {
        free(s);
        return rg_err_set(err, RG_ENOMEM, "context: out of memory");
    }
    c->owned[c->nowned++] = s;
    *value = s;
    return 0;
}

static int properties(rg_flag_ctx_json *c, const json_t *props, rg_err *err)
{
    if (json_is_null(props))
        return 0;
    if (!json_is_object(props))
        return rg_err_field(err, RG_EINVAL, "properties",
                            "context properties: must be an object");
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)props, key, v)
    {
        const char *value;
        int rc = text(c, key, v, &value, err);
        if (rc)
            return rc;
        if (!value)
            continue;
        if (c->ctx.nprops >= RG_FLAG_CTX_MAX_FIELDS)
            return rg_err_field(err, RG_EINVAL, "properties",
                                "context: more than %d properties",
                                RG_FLAG_CTX_MAX_FIELDS);
        c->props[c->ctx.nprops++] = (rg_flag_field){key, value};
    }
    return 0;
}

/* Stores a top-level field in its named slot or among the others. */
static int field(rg_flag_ctx_json *c, const char *key, const char *value,
                 rg_err *err)
{
    static const struct {
        const char *name;
        size_t offset;
    } named[] = {
        {"userId", offsetof(rg_flag_ctx, user_id)},
        {"sessionId", offsetof(rg_flag_ctx, session_id)},
        {"remoteAddress", offsetof(rg_flag_ctx, remote_address)},
        {"environment", offsetof(rg_flag_ctx, environment)},
        {"appName", offsetof(rg_flag_ctx, app_name)},
        {"currentTime", offsetof(rg_flag_ctx, current_time)},
    };
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
        if (strcmp(key, named[i].name) == 0) {
            *(const char **)((char *)&c->ctx + named[i].offset) = value;
            return 0;
        }
    if (c->ctx.nfields >= RG_FLAG_CTX_MAX_FIELDS)
        return rg_err_field(err, RG_EINVAL, key, "context: more than %d fields",
                            RG_FLAG_CTX_MAX_FIELDS);
    c->fields[c->ctx.nfields++] = (rg_flag_field){key, value};
    return 0;
}

int rg_flag_ctx_json_init(rg_flag_ctx_json *c, const json_t *j, double now_ms,
                          rg_err *err)
{
    memset(c, 0, sizeof *c);
    c->ctx.fields = c->fields;
    c->ctx.props = c->props;
    c->ctx.now_ms = now_ms;
    if (!j)
        return 0;
    if (!json_is_object(j))
        return rg_err_field(err, RG_EINVAL, "context",
                            "context: must be a JSON object");
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)j, key, v)
    {
        int rc;
        const char *value;
        if (strcmp(key, "properties") == 0)
            rc = properties(c, v, err);
        else if ((rc = text(c, key, v, &value, err)) == 0 && value)
            rc = field(c, key, value, err);
        if (rc) {
            rg_flag_ctx_json_release(c);
            return rc;
        }
    }
    return 0;
}

void rg_flag_ctx_json_release(rg_flag_ctx_json *c)
{
    for (size_t i = 0; i < c->nowned; i++)
        free(c->owned[i]);
    c->nowned = 0;
}
