/* fleet_profile.c - see fleet_profile.h. */
#include "fleet_profile.h"

#include "common/json.h"
#include "common/murmur3.h"
#include "common/name.h"
#include "server/flagdoc.h"

#include <stdlib.h>
#include <string.h>

static int attr_string(const json_t *v, const char *name, bool required,
                       char out[RG_FLEET_ATTR_MAX + 1], rg_err *err)
{
    const char *s = NULL;
    int rc = rg_json_string(v, name, required, RG_FLEET_ATTR_MAX, &s, err);
    if (rc < 0) {
        char field[64], msg[sizeof err->msg];
        snprintf(field, sizeof field, "attributes.%s", name);
        snprintf(msg, sizeof msg, "%s", err ? err->msg : "invalid");
        return rg_err_field(err, rc, field, "attributes: %s", msg);
    }
    out[0] = '\0';
    if (s)
        snprintf(out, RG_FLEET_ATTR_MAX + 1, "%s", s);
    return 0;
}

/* Reads v's optional "flag_environments" into out. */
static int attr_envs(const json_t *v, rg_fleet_attrs *out, rg_err *err)
{
    json_t *envs = NULL, *e;
    size_t i;
    if (rg_json_array(v, "flag_environments", false, RG_FLAG_ENVS_MAX, &envs,
                      err) < 0)
        return rg_err_field(err, RG_EINVAL, "attributes.flag_environments",
                            "attributes.flag_environments must be an array of "
                            "at most %d names",
                            RG_FLAG_ENVS_MAX);
    json_array_foreach(envs, i, e)
    {
        const char *s = json_string_value(e);
        if (!s || !rg_channel_name_valid(s))
            return rg_err_field(err, RG_EINVAL, "attributes.flag_environments",
                                "attributes.flag_environments[%zu] must be %s",
                                i, RG_CHANNEL_NAME_RULE);
        snprintf(out->envs[out->n_envs++], RG_NAME_MAX + 1, "%s", s);
    }
    return 0;
}

int rg_fleet_attrs_from_json(const json_t *v, rg_fleet_attrs *out, rg_err *err)
{
    static const char *const allowed[] = {
        "os",   "os_version",        "arch", "hw", "region",
        "tags", "flag_environments", NULL};
    memset(out, 0, sizeof *out);
    if (!json_is_object(v))
        return rg_err_field(err, RG_EINVAL, "attributes",
                            "attributes must be an object");
    if (rg_json_only(v, allowed, err) < 0) {
        char field[sizeof err->field + 16], msg[sizeof err->msg];
        snprintf(field, sizeof field, "attributes.%s", err ? err->field : "");
        snprintf(msg, sizeof msg, "%s", err ? err->msg : "unknown field");
        return rg_err_field(err, RG_EINVAL, field, "attributes: %s", msg);
    }
    int rc;
    if ((rc = attr_string(v, "os", true, out->os, err)) < 0 ||
        (rc = attr_string(v, "os_version", true, out->os_version, err)) < 0 ||
        (rc = attr_string(v, "arch", true, out->arch, err)) < 0 ||
        (rc = attr_string(v, "hw", false, out->hw, err)) < 0 ||
        (rc = attr_string(v, "region", false, out->region, err)) < 0)
        return rc;
    json_t *tags = NULL;
    if (rg_json_array(v, "tags", false, RG_FLEET_TAGS_MAX, &tags, err) < 0)
        return rg_err_field(
            err, RG_EINVAL, "attributes.tags",
            "attributes.tags must be an array of at most %d strings",
            RG_FLEET_TAGS_MAX);
    size_t i;
    json_t *t;
    json_array_foreach(tags, i, t)
    {
        const char *s = json_string_value(t);
        if (!s || s[0] == '\0' || strlen(s) > RG_FLEET_ATTR_MAX)
            return rg_err_field(
                err, RG_EINVAL, "attributes.tags",
                "attributes.tags[%zu] must be a string of 1..%d bytes", i,
                RG_FLEET_ATTR_MAX);
        snprintf(out->tags[out->n_tags++], RG_FLEET_ATTR_MAX + 1, "%s", s);
    }
    return attr_envs(v, out, err);
}

/* Sets o's "flag_environments" from a (nothing when a has none). */
static int envs_json(json_t *o, const rg_fleet_attrs *a)
{
    json_t *envs = a->n_envs ? json_array() : NULL;
    for (size_t i = 0; envs && i < a->n_envs; i++)
        if (json_array_append_new(envs, json_string(a->envs[i])) < 0)
            break;
    if (a->n_envs && !envs)
        return -1;
    return envs ? json_object_set_new(o, "flag_environments", envs) : 0;
}

char *rg_fleet_attrs_json(const rg_fleet_attrs *a)
{
    char *s = NULL;
    json_t *o = json_object();
    json_t *tags = json_array();
    if (!o || !tags)
        goto cleanup;
    for (size_t i = 0; i < a->n_tags; i++)
        if (json_array_append_new(tags, json_string(a->tags[i])) < 0)
            goto cleanup;
    if (json_object_set_new(o, "os", json_string(a->os)) < 0 ||
        json_object_set_new(o, "os_version", json_string(a->os_version)) < 0 ||
        json_object_set_new(o, "arch", json_string(a->arch)) < 0)
        goto cleanup;
    if (a->hw[0] && json_object_set_new(o, "hw", json_string(a->hw)) < 0)
        goto cleanup;
    if (a->region[0] &&
        json_object_set_new(o, "region", json_string(a->region)) < 0)
        goto cleanup;
    if (json_object_set(o, "tags", tags) < 0 || envs_json(o, a) < 0)
        goto cleanup;
    s = json_dumps(o, JSON_COMPACT);
cleanup:
    json_decref(tags);
    json_decref(o);
    return s;
}

static int prof_index_grow(rg_fleet *f)
{
    uint32_t cap = f->prof_index_cap ? f->prof_index_cap * 2 : 64;
    uint32_t *idx = calloc(cap, sizeof *idx);
    if (!idx)
        return RG_ENOMEM;
    for (uint32_t i = 0; i < f->n_profiles; i++) {
        uint32_t p = f->profiles[i].hash & (cap - 1);
        while (idx[p])
            p = (p + 1) & (cap - 1);
        idx[p] = i + 1;
    }
    free(f->prof_index);
    f->prof_index = idx;
    f->prof_index_cap = cap;
    return 0;
}

/* Index of stratum name (interned), or -1 when the table is full. Caller
 * holds prof_mu. */
static int64_t stratum_intern(rg_fleet *f, const char *name)
{
    uint32_t n = atomic_load(&f->n_strata);
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(f->strata[i], name) == 0)
            return i;
    if (n >= RG_FLEET_MAX_STRATA || !(f->strata[n] = strdup(name)))
        return -1;
    atomic_store(&f->n_strata, n + 1);
    return n;
}

/* The index of the profile whose stored form is json (hash h), or -1.
 * Caller holds prof_mu. */
static int64_t profile_find(rg_fleet *f, const char *json, uint32_t h)
{
    if (!f->prof_index_cap)
        return -1;
    uint32_t mask = f->prof_index_cap - 1;
    for (uint32_t p = h & mask; f->prof_index[p]; p = (p + 1) & mask) {
        rg__fleet_profile *pr = &f->profiles[f->prof_index[p] - 1];
        if (pr->hash == h && strcmp(pr->json, json) == 0)
            return f->prof_index[p] - 1;
    }
    return -1;
}

/* Makes room for one more profile (the index kept under 0.7 load).
 * Returns 0, RG_ETOOBIG or RG_ENOMEM (err filled). */
static int profiles_reserve(rg_fleet *f, rg_err *err)
{
    if (f->n_profiles >= RG__FLEET_PROFILES_MAX)
        return rg_err_set(err, RG_ETOOBIG,
                          "too many distinct attribute sets (%u)",
                          RG__FLEET_PROFILES_MAX);
    if ((f->n_profiles + 1) * 10 > f->prof_index_cap * 7 &&
        prof_index_grow(f) < 0)
        return rg_err_set(err, RG_ENOMEM, "out of memory interning attributes");
    if (f->n_profiles < f->cap_profiles)
        return 0;
    uint32_t cap = f->cap_profiles ? f->cap_profiles * 2 : 16;
    rg__fleet_profile *np = realloc(f->profiles, cap * sizeof *np);
    if (!np)
        return rg_err_set(err, RG_ENOMEM, "out of memory interning attributes");
    f->profiles = np;
    f->cap_profiles = cap;
    return 0;
}

/* The interned stratum (os-os_version-arch) of a into *sid; *name receives
 * the name (malloc'd, caller frees). Returns 0, RG_ENOMEM or RG_ETOOBIG. */
static int stratum_of(rg_fleet *f, const rg_fleet_attrs *a, char **name,
                      uint32_t *sid, rg_err *err)
{
    size_t sl = strlen(a->os) + strlen(a->os_version) + strlen(a->arch) + 3;
    if (!(*name = malloc(sl)))
        return rg_err_set(err, RG_ENOMEM, "out of memory interning attributes");
    snprintf(*name, sl, "%s-%s-%s", a->os, a->os_version, a->arch);
    int64_t id = stratum_intern(f, *name);
    if (id < 0)
        return rg_err_set(err, RG_ETOOBIG, "too many distinct strata (%d)",
                          RG_FLEET_MAX_STRATA);
    *sid = (uint32_t)id;
    return 0;
}

/* a's flag environments as a new rg__fleet_profile.envs list, or NULL. */
static char *envs_list(const rg_fleet_attrs *a)
{
    size_t len = 1;
    for (size_t i = 0; i < a->n_envs; i++)
        len += strlen(a->envs[i]) + 1;
    char *out = malloc(len), *p = out;
    for (size_t i = 0; out && i < a->n_envs; i++) {
        size_t n = strlen(a->envs[i]) + 1;
        memcpy(p, a->envs[i], n);
        p += n;
    }
    if (out)
        *p = '\0';
    return out;
}

bool rg_fleet_profile_reads(rg_fleet *f, uint32_t p, const char *env)
{
    bool ok = false;
    pthread_mutex_lock(&f->prof_mu);
    const char *e = p < f->n_profiles ? f->profiles[p].envs : NULL;
    if (e && !*e)
        ok = strcmp(env, RG_FLAG_ENV_DEFAULT) == 0;
    for (; e && *e && !ok; e += strlen(e) + 1)
        ok = strcmp(env, e) == 0;
    pthread_mutex_unlock(&f->prof_mu);
    return ok;
}

static bool tagged_internal(const rg_fleet_attrs *a)
{
    for (size_t i = 0; i < a->n_tags; i++)
        if (strcmp(a->tags[i], "internal") == 0)
            return true;
    return false;
}

int rg__fleet_profile_intern(rg_fleet *f, const rg_fleet_attrs *a,
                             uint32_t *out, bool *internal, rg_err *err)
{
    int rc = 0;
    char *json = rg_fleet_attrs_json(a), *stratum = NULL, *envs = NULL;
    uint32_t sid = 0;
    if (!json)
        return rg_err_set(err, RG_ENOMEM, "out of memory interning attributes");
    uint32_t h = rg_murmur3_32(json, strlen(json), RG__FLEET_SEED);
    int64_t found = profile_find(f, json, h);
    if (found >= 0) {
        *out = (uint32_t)found;
        *internal = f->profiles[found].internal;
        goto cleanup;
    }
    if ((rc = profiles_reserve(f, err)) < 0 ||
        (rc = stratum_of(f, a, &stratum, &sid, err)) < 0)
        goto cleanup;
    if (!(envs = envs_list(a))) {
        rc = rg_err_set(err, RG_ENOMEM, "out of memory interning attributes");
        goto cleanup;
    }
    rg__fleet_profile *pr = &f->profiles[f->n_profiles];
    *pr = (rg__fleet_profile){.json = json,
                              .stratum = stratum,
                              .hash = h,
                              .stratum_id = sid,
                              .internal = tagged_internal(a),
                              .envs = envs};
    json = stratum = envs = NULL;
    uint32_t mask = f->prof_index_cap - 1, p = h & mask;
    while (f->prof_index[p])
        p = (p + 1) & mask;
    f->prof_index[p] = f->n_profiles + 1;
    *out = f->n_profiles++;
    *internal = pr->internal;
cleanup:
    free(json);
    free(stratum);
    free(envs);
    return rc;
}

uint32_t rg_fleet_strata(rg_fleet *f)
{
    return atomic_load(&f->n_strata);
}

void rg_fleet_stratum_name(rg_fleet *f, uint32_t s, char *out, size_t n)
{
    pthread_mutex_lock(&f->prof_mu);
    snprintf(out, n, "%s", s < atomic_load(&f->n_strata) ? f->strata[s] : "");
    pthread_mutex_unlock(&f->prof_mu);
}

uint32_t rg_fleet_profiles(rg_fleet *f)
{
    pthread_mutex_lock(&f->prof_mu);
    uint32_t n = f->n_profiles;
    pthread_mutex_unlock(&f->prof_mu);
    return n;
}

void rg_fleet_profile_json(rg_fleet *f, uint32_t p, char *out, size_t n)
{
    pthread_mutex_lock(&f->prof_mu);
    snprintf(out, n, "%s", p < f->n_profiles ? f->profiles[p].json : "");
    pthread_mutex_unlock(&f->prof_mu);
}

void rg__fleet_profiles_release(rg_fleet *f)
{
    for (uint32_t i = 0; i < f->n_profiles; i++) {
        free(f->profiles[i].json);
        free(f->profiles[i].stratum);
        free(f->profiles[i].envs);
    }
    free(f->profiles);
    free(f->prof_index);
    for (uint32_t i = 0; i < atomic_load(&f->n_strata); i++)
        free(f->strata[i]);
}
