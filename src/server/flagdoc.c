/* flagdoc.c - see flagdoc.h. */
#include "flagdoc.h"

#include <stdio.h>
#include <string.h>

typedef struct build {
    json_t *features;
    const char *name;
    rg_err *err;
} build;

static int add_one(void *ctx, const rg_flag_rec *f)
{
    build *b = ctx;
    if (b->name && strcmp(f->name, b->name) == 0)
        return 0;
    if (json_array_size(b->features) >= RG_FLAGS_PER_ENV_MAX)
        return rg_err_set(b->err, RG_ETOOBIG,
                          "environment '%s': more than %d flags",
                          f->environment, RG_FLAGS_PER_ENV_MAX);
    json_t *def = json_loads(f->definition, 0, NULL);
    if (!def)
        return rg_err_set(b->err, RG_EIO,
                          "flag '%s': stored definition "
                          "is not JSON",
                          f->name);
    return json_array_append_new(b->features, def)
               ? rg_err_set(b->err, RG_ENOMEM, "out of memory")
               : 0;
}

json_t *rg_flagdoc_build(rg_store *s, const char *env, const char *name,
                         const json_t *feature, rg_err *err)
{
    build b = {json_array(), name, err};
    json_t *doc = json_pack("{s:i,s:o,s:[]}", "version", 1, "features",
                            b.features, "segments");
    if (!doc) {
        rg_err_set(err, RG_ENOMEM, "out of memory");
        return NULL;
    }
    int rc = rg_store_flag_list(s, env, add_one, &b, err);
    if (rc == 0 && feature &&
        json_array_append(b.features, (json_t *)feature) != 0)
        rc = rg_err_set(err, RG_ENOMEM, "out of memory");
    if (rc) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

int rg_flagdoc_stamp(rg_store *s, const char *env, char out[RG_FLAG_STAMP_MAX],
                     rg_err *err)
{
    int64_t versions = 0, newest_ms = 0;
    int rc = rg_store_flag_stamp(s, env, &versions, &newest_ms, err);
    if (rc == 0)
        snprintf(out, RG_FLAG_STAMP_MAX, "%lld-%lld", (long long)versions,
                 (long long)newest_ms);
    return rc;
}
