/* fleet_profile.c - see fleet_profile.h. */
#include "fleet_profile.h"

#include "common/json.h"
#include "common/murmur3.h"

#include <stdlib.h>
#include <string.h>

#define PROFILES_MAX 1000000u

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

int rg_fleet_attrs_from_json(const json_t *v, rg_fleet_attrs *out, rg_err *err)
{
    static const char *const allowed[] = {"os",     "os_version", "arch", "hw",
                                          "region", "tags",       NULL};
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
    return 0;
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
    if (json_object_set(o, "tags", tags) < 0)
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

/* Interns attrs; *out receives the profile index. Caller holds prof_mu. */
int rg__fleet_profile_intern(rg_fleet *f, const rg_fleet_attrs *a,
                             uint32_t *out, bool *internal, rg_err *err)
{
    int rc = 0;
    char *json = rg_fleet_attrs_json(a);
    char *stratum = NULL;
    if (!json) {
        rc = rg_err_set(err, RG_ENOMEM, "out of memory interning attributes");
        goto cleanup;
    }
    uint32_t h = rg_murmur3_32(json, strlen(json), RG__FLEET_SEED);
    if (f->prof_index_cap) {
        for (uint32_t p = h & (f->prof_index_cap - 1); f->prof_index[p];
             p = (p + 1) & (f->prof_index_cap - 1)) {
            rg__fleet_profile *pr = &f->profiles[f->prof_index[p] - 1];
            if (pr->hash == h && strcmp(pr->json, json) == 0) {
                *out = f->prof_index[p] - 1;
                *internal = pr->internal;
                goto cleanup;
            }
        }
    }
    if (f->n_profiles >= PROFILES_MAX) {
        rc = rg_err_set(err, RG_ETOOBIG,
                        "too many distinct attribute sets (%u)", PROFILES_MAX);
        goto cleanup;
    }
    if ((f->n_profiles + 1) * 10 > f->prof_index_cap * 7 &&
        prof_index_grow(f) < 0) {
        rc = rg_err_set(err, RG_ENOMEM, "out of memory interning attributes");
        goto cleanup;
    }
    if (f->n_profiles == f->cap_profiles) {
        uint32_t cap = f->cap_profiles ? f->cap_profiles * 2 : 16;
        rg__fleet_profile *np = realloc(f->profiles, cap * sizeof *np);
        if (!np) {
            rc = rg_err_set(err, RG_ENOMEM,
                            "out of memory interning attributes");
            goto cleanup;
        }
        f->profiles = np;
        f->cap_profiles = cap;
    }
    size_t sl = strlen(a->os) + strlen(a->os_version) + strlen(a->arch) + 3;
    stratum = malloc(sl);
    if (!stratum) {
        rc = rg_err_set(err, RG_ENOMEM, "out of memory interning attributes");
        goto cleanup;
    }
    snprintf(stratum, sl, "%s-%s-%s", a->os, a->os_version, a->arch);
    int64_t sid = stratum_intern(f, stratum);
    if (sid < 0) {
        rc = rg_err_set(err, RG_ETOOBIG, "too many distinct strata (%d)",
                        RG_FLEET_MAX_STRATA);
        goto cleanup;
    }
    bool in = false;
    for (size_t i = 0; i < a->n_tags; i++)
        if (strcmp(a->tags[i], "internal") == 0)
            in = true;
    rg__fleet_profile *pr = &f->profiles[f->n_profiles];
    pr->json = json;
    pr->stratum = stratum;
    pr->hash = h;
    pr->stratum_id = (uint32_t)sid;
    pr->internal = in;
    json = NULL;
    stratum = NULL;
    uint32_t p = h & (f->prof_index_cap - 1);
    while (f->prof_index[p])
        p = (p + 1) & (f->prof_index_cap - 1);
    f->prof_index[p] = f->n_profiles + 1;
    *out = f->n_profiles++;
    *internal = in;
cleanup:
    free(json);
    free(stratum);
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
    }
    free(f->profiles);
    free(f->prof_index);
    for (uint32_t i = 0; i < atomic_load(&f->n_strata); i++)
        free(f->strata[i]);
}
