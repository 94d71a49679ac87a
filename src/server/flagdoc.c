/* flagdoc.c - see flagdoc.h. */
#include "flagdoc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct build {
    json_t *features, *segments;
    const rg_flagdoc_change *chg;
    rg_err *err;
} build;

/* Appends item to arr unless arr is full; takes item. */
static int append(build *b, json_t *arr, json_t *item, const char *env,
                  const char *what)
{
    if (json_array_size(arr) >= RG_FLAGS_PER_ENV_MAX) {
        json_decref(item);
        return rg_err_set(b->err, RG_ETOOBIG,
                          "environment '%s': more than %d %s", env,
                          RG_FLAGS_PER_ENV_MAX, what);
    }
    return json_array_append_new(arr, item)
               ? rg_err_set(b->err, RG_ENOMEM, "out of memory")
               : 0;
}

static int add_one(void *ctx, const rg_flag_rec *f)
{
    build *b = ctx;
    if (b->chg->flag && strcmp(f->name, b->chg->flag) == 0)
        return 0;
    json_t *def = json_loads(f->definition, 0, NULL);
    if (!def)
        return rg_err_set(b->err, RG_EIO,
                          "flag '%s': stored definition "
                          "is not JSON",
                          f->name);
    return append(b, b->features, def, f->environment, "flags");
}

json_t *rg_flagdoc_segment(const rg_segment_rec *g, rg_err *err)
{
    json_t *def = json_loads(g->definition, 0, NULL);
    if (!json_is_object(def)) {
        json_decref(def);
        rg_err_set(err, RG_EIO, "segment '%s': stored definition is not JSON",
                   g->name);
        return NULL;
    }
    if (json_object_set_new(def, "id", json_integer(g->id)) ||
        json_object_set_new(def, "name", json_string(g->name))) {
        json_decref(def);
        rg_err_set(err, RG_ENOMEM, "out of memory");
        return NULL;
    }
    return def;
}

static int add_segment(void *ctx, const rg_segment_rec *g)
{
    build *b = ctx;
    if (b->chg->segment && strcmp(g->name, b->chg->segment) == 0)
        return 0;
    json_t *seg = rg_flagdoc_segment(g, b->err);
    return seg ? append(b, b->segments, seg, g->environment, "segments")
               : b->err->code;
}

/* Appends item (borrowed) to arr when not NULL. */
static int add_change(build *b, json_t *arr, const json_t *item)
{
    if (item && json_array_append(arr, (json_t *)item) != 0)
        return rg_err_set(b->err, RG_ENOMEM, "out of memory");
    return 0;
}

json_t *rg_flagdoc_build(rg_store *s, const char *env,
                         const rg_flagdoc_change *chg, rg_err *err)
{
    static const rg_flagdoc_change none = {0};
    build b = {json_array(), json_array(), chg ? chg : &none, err};
    json_t *doc = json_pack("{s:i,s:o,s:o}", "version", 1, "features",
                            b.features, "segments", b.segments);
    if (!doc) {
        rg_err_set(err, RG_ENOMEM, "out of memory");
        return NULL;
    }
    int rc = rg_store_flag_list(s, env, add_one, &b, err);
    if (rc == 0)
        rc = rg_store_segment_list(s, env, add_segment, &b, err);
    if (rc == 0)
        rc = add_change(&b, b.features, b.chg->feature);
    if (rc == 0)
        rc = add_change(&b, b.segments, b.chg->seg);
    if (rc) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

/* Environments kept; past it the oldest-filled slot is replaced. */
#define CACHE_SLOTS 16

typedef struct cached {
    char env[RG_NAME_MAX + 1]; /* "": slot free */
    char stamp[RG_FLAG_STAMP_MAX];
    char *text; /* the document at stamp; NULL: none yet */
    size_t len;
    char live[RG_FLAG_STAMP_MAX]; /* env's stamp as last read; "": none */
    uint64_t live_writes;         /* rg_store_flag_writes before that read */
    int64_t live_ms;              /* when it was read */
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
        if (c->slot[i].env[0] && strcmp(c->slot[i].env, env) == 0)
            return &c->slot[i];
    return NULL;
}

/* env's slot in c, else the next one emptied for it. env fits (the
 * caller checked). Caller holds c->mu. */
static cached *claim(rg_flagdoc_cache *c, const char *env)
{
    cached *e = slot_of(c, env);
    if (e)
        return e;
    e = &c->slot[c->next++ % CACHE_SLOTS];
    free(e->text);
    memset(e, 0, sizeof *e);
    snprintf(e->env, sizeof e->env, "%s", env);
    return e;
}

/* Copies env's stamp into out when c read it less than the TTL before
 * now_ms with writes store writes done then too; returns whether it did. */
static bool live_lookup(rg_flagdoc_cache *c, const char *env, uint64_t writes,
                        int64_t now_ms, char out[RG_FLAG_STAMP_MAX])
{
    pthread_mutex_lock(&c->mu);
    const cached *e = slot_of(c, env);
    bool hit = e && e->live[0] && e->live_writes == writes &&
               now_ms >= e->live_ms &&
               now_ms - e->live_ms < RG_FLAGDOC_STAMP_TTL_MS;
    if (hit)
        memcpy(out, e->live, RG_FLAG_STAMP_MAX);
    pthread_mutex_unlock(&c->mu);
    return hit;
}

/* Keeps stamp as env's, read at now_ms after writes store writes. */
static void live_keep(rg_flagdoc_cache *c, const char *env, const char *stamp,
                      uint64_t writes, int64_t now_ms)
{
    if (strlen(env) > RG_NAME_MAX)
        return;
    pthread_mutex_lock(&c->mu);
    cached *e = claim(c, env);
    snprintf(e->live, sizeof e->live, "%s", stamp);
    e->live_writes = writes;
    e->live_ms = now_ms;
    pthread_mutex_unlock(&c->mu);
}

int rg_flagdoc_stamp(rg_flagdoc_cache *c, rg_store *s, const char *env,
                     int64_t now_ms, char out[RG_FLAG_STAMP_MAX], rg_err *err)
{
    /* read before the store: a write that commits meanwhile moves it */
    uint64_t writes = rg_store_flag_writes(s);
    if (c && live_lookup(c, env, writes, now_ms, out))
        return 0;
    int64_t versions = 0, newest_ms = 0;
    int rc = rg_store_flag_stamp(s, env, &versions, &newest_ms, err);
    if (rc)
        return rc;
    snprintf(out, RG_FLAG_STAMP_MAX, "%lld-%lld", (long long)versions,
             (long long)newest_ms);
    if (c)
        live_keep(c, env, out, writes, now_ms);
    return 0;
}

/* A copy of env's text at stamp from c, or NULL (not held, or no memory:
 * the caller then builds). */
static char *lookup(rg_flagdoc_cache *c, const char *env, const char *stamp,
                    size_t *len)
{
    char *copy = NULL;
    pthread_mutex_lock(&c->mu);
    cached *e = slot_of(c, env);
    if (e && e->text && strcmp(e->stamp, stamp) == 0 &&
        (copy = malloc(e->len + 1))) {
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
    cached *e = claim(c, env);
    free(e->text);
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
    json_t *doc = rg_flagdoc_build(s, env, NULL, err);
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
