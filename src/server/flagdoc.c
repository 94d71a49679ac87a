/* flagdoc.c - see flagdoc.h. */
#include "flagdoc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
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

/* Environments kept; past it the oldest-filled slot is replaced. */
#define CACHE_SLOTS 16

typedef struct cached {
    char env[RG_NAME_MAX + 1];
    char stamp[RG_FLAG_STAMP_MAX];
    char *text; /* NULL: slot free */
    size_t len;
} cached;

struct rg_flagdoc_cache {
    pthread_mutex_t mu;
    cached slot[CACHE_SLOTS];
    unsigned next; /* slot replaced when env has none */
};

int rg_flagdoc_cache_new(rg_flagdoc_cache **out, rg_err *err)
{
    rg_flagdoc_cache *c = calloc(1, sizeof *c);
    if (!c)
        return rg_err_set(err, RG_ENOMEM, "out of memory");
    pthread_mutex_init(&c->mu, NULL);
    *out = c;
    return 0;
}

void rg_flagdoc_cache_free(rg_flagdoc_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < CACHE_SLOTS; i++)
        free(c->slot[i].text);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

/* env's slot in c, or NULL. Caller holds c->mu. */
static cached *slot_of(rg_flagdoc_cache *c, const char *env)
{
    for (size_t i = 0; i < CACHE_SLOTS; i++)
        if (c->slot[i].text && strcmp(c->slot[i].env, env) == 0)
            return &c->slot[i];
    return NULL;
}

/* A copy of env's text at stamp from c, or NULL (not held, or no memory:
 * the caller then builds). */
static char *lookup(rg_flagdoc_cache *c, const char *env, const char *stamp,
                    size_t *len)
{
    char *copy = NULL;
    pthread_mutex_lock(&c->mu);
    cached *e = slot_of(c, env);
    if (e && strcmp(e->stamp, stamp) == 0 && (copy = malloc(e->len + 1))) {
        memcpy(copy, e->text, e->len + 1);
        *len = e->len;
    }
    pthread_mutex_unlock(&c->mu);
    return copy;
}

/* Keeps a copy of text as env's at stamp (nothing when out of memory or
 * the names do not fit: the next request builds again). */
static void keep(rg_flagdoc_cache *c, const char *env, const char *stamp,
                 const char *text, size_t len)
{
    char *copy = malloc(len + 1);
    if (!copy || strlen(env) > RG_NAME_MAX ||
        strlen(stamp) >= RG_FLAG_STAMP_MAX) {
        free(copy);
        return;
    }
    memcpy(copy, text, len + 1);
    pthread_mutex_lock(&c->mu);
    cached *e = slot_of(c, env);
    if (!e)
        e = &c->slot[c->next++ % CACHE_SLOTS];
    free(e->text);
    snprintf(e->env, sizeof e->env, "%s", env);
    snprintf(e->stamp, sizeof e->stamp, "%s", stamp);
    e->text = copy;
    e->len = len;
    pthread_mutex_unlock(&c->mu);
}

char *rg_flagdoc_text(rg_flagdoc_cache *c, rg_store *s, const char *env,
                      const char *stamp, size_t *len, rg_err *err)
{
    char *text = c ? lookup(c, env, stamp, len) : NULL;
    if (text)
        return text;
    json_t *doc = rg_flagdoc_build(s, env, NULL, NULL, err);
    text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!text) {
        if (!err->code)
            rg_err_set(err, RG_ENOMEM, "out of memory");
        return NULL;
    }
    *len = strlen(text);
    if (c)
        keep(c, env, stamp, text, *len);
    return text;
}
