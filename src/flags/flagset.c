/* flagset.c - rg_flagset_parse (parse.h): the document, its segments, the
 * order of its features and, in strict mode, the checks across features
 * (references and dependency cycles). */
#include "pstate.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int by_name(const void *a, const void *b)
{
    return strcmp(((const rg_flag_feature *)a)->name,
                  ((const rg_flag_feature *)b)->name);
}

static int by_id(const void *a, const void *b)
{
    int64_t x = ((const rg_flag_segment *)a)->id;
    int64_t y = ((const rg_flag_segment *)b)->id;
    return (x > y) - (x < y);
}

/* Marks in keep[] the last item of arr for each key (a later item replaces
 * an earlier one, as in the SDKs); strict mode refuses duplicates. */
static int last_of_each(rg__fparse *p, const json_t *arr, const char *what,
                        bool by_integer_id, bool *keep)
{
    json_t *seen = json_object();
    if (!seen)
        return rg_err_set(p->err, RG_ENOMEM, "out of memory");
    size_t i;
    json_t *item;
    int rc = 0;
    json_array_foreach(arr, i, item)
    {
        const json_t *k = json_object_get(item, by_integer_id ? "id" : "name");
        char key[64];
        if (by_integer_id && !json_is_integer(k)) {
            rc = rg__fparse_fail(p, what, "item %zu has no integer id", i);
            break;
        }
        if (!by_integer_id && !json_is_string(k))
            continue; /* rg__fparse_feature reports it */
        if (by_integer_id)
            snprintf(key, sizeof key, "%" PRId64,
                     (int64_t)json_integer_value(k));
        const char *name = by_integer_id ? key : json_string_value(k);
        json_t *prev = json_object_get(seen, name);
        if (prev && p->mode == RG_FLAGS_STRICT) {
            rc = rg__fparse_fail(p, what, "'%s' appears twice", name);
            break;
        }
        if (prev)
            keep[json_integer_value(prev)] = false;
        keep[i] = true;
        json_object_set_new(seen, name, json_integer((json_int_t)i));
    }
    json_decref(seen);
    return rc;
}

static int segments(rg__fparse *p, const json_t *arr, rg_flagset *fs)
{
    if (!arr || json_is_null(arr))
        return 0;
    if (!json_is_array(arr))
        return rg__fparse_fail(p, "segments", "must be an array");
    size_t n = json_array_size(arr), i;
    bool *keep = calloc(n + 1, sizeof *keep);
    fs->segments = calloc(n + 1, sizeof *fs->segments);
    int rc = keep && fs->segments
                 ? last_of_each(p, arr, "segments", true, keep)
                 : rg_err_set(p->err, RG_ENOMEM, "out of memory");
    for (i = 0; rc == 0 && i < n; i++) {
        if (!keep[i])
            continue;
        const json_t *s = json_array_get(arr, i);
        rg_flag_segment *seg = &fs->segments[fs->nsegments++];
        seg->id = json_integer_value(json_object_get(s, "id"));
        size_t mark = rg__fparse_push(p, "segments", -1);
        rg__fparse_push(p, NULL, (long)i);
        rg__fparse_push(p, "constraints", -1);
        rc = rg__fconstraints(p, json_object_get(s, "constraints"),
                              &seg->constraints, &seg->nconstraints);
        if (!rc)
            rg__fparse_pop(p, mark);
    }
    free(keep);
    if (rc == 0)
        qsort(fs->segments, fs->nsegments, sizeof *fs->segments, by_id);
    return rc;
}

static int features(rg__fparse *p, const json_t *arr, rg_flagset *fs)
{
    if (!json_is_array(arr))
        return rg__fparse_fail(p, "features", "must be an array");
    size_t n = json_array_size(arr), i;
    bool *keep = calloc(n + 1, sizeof *keep);
    fs->features = calloc(n + 1, sizeof *fs->features);
    int rc = keep && fs->features
                 ? last_of_each(p, arr, "features", false, keep)
                 : rg_err_set(p->err, RG_ENOMEM, "out of memory");
    for (i = 0; rc == 0 && i < n; i++) {
        const json_t *f = json_array_get(arr, i);
        if (!keep[i] && json_is_string(json_object_get(f, "name")))
            continue;
        size_t mark = rg__fparse_push(p, "features", -1);
        rg__fparse_push(p, NULL, (long)i);
        rc = rg__fparse_feature(p, f, &fs->features[fs->nfeatures++]);
        if (!rc)
            rg__fparse_pop(p, mark);
    }
    free(keep);
    if (rc == 0) {
        qsort(fs->features, fs->nfeatures, sizeof *fs->features, by_name);
        if (rg_flagset_index(fs))
            rc = rg_err_set(p->err, RG_ENOMEM, "out of memory");
    }
    return rc;
}

/* Depth-first search from f; state: 0 unseen, 1 on the path, 2 done. */
static const rg_flag_feature *
cycle_from(const rg_flagset *fs, const rg_flag_feature *f, unsigned char *state)
{
    size_t at = (size_t)(f - fs->features);
    if (state[at] == 1)
        return f;
    if (state[at] == 2)
        return NULL;
    state[at] = 1;
    for (size_t i = 0; i < f->ndeps; i++) {
        const rg_flag_feature *parent =
            rg_flagset_feature(fs, f->deps[i].feature);
        const rg_flag_feature *c =
            parent ? cycle_from(fs, parent, state) : NULL;
        if (c)
            return c;
    }
    state[at] = 2;
    return NULL;
}

/* Strict mode: every segment strategy s of f names exists. */
static int segments_known(rg__fparse *p, const rg_flagset *fs,
                          const rg_flag_feature *f, size_t s)
{
    const rg_flag_strategy *st = &f->strategies[s];
    for (size_t k = 0; k < st->nsegments; k++) {
        if (rg_flagset_segment(fs, st->segments[k]))
            continue;
        snprintf(p->path, sizeof p->path, "features['%s'].strategies[%zu]",
                 f->name, s);
        return rg__fparse_fail(p, "segments", "unknown segment %" PRId64,
                               st->segments[k]);
    }
    return 0;
}

/* Strict mode: every reference resolves and dependencies have no cycle. */
static int references(rg__fparse *p, const rg_flagset *fs)
{
    unsigned char *state = calloc(fs->nfeatures + 1, 1);
    if (!state)
        return rg_err_set(p->err, RG_ENOMEM, "out of memory");
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < fs->nfeatures; i++) {
        const rg_flag_feature *f = &fs->features[i];
        snprintf(p->path, sizeof p->path, "features['%s']", f->name);
        for (size_t d = 0; rc == 0 && d < f->ndeps; d++)
            if (!rg_flagset_feature(fs, f->deps[d].feature))
                rc = rg__fparse_fail(p, "dependencies", "unknown feature '%s'",
                                     f->deps[d].feature);
        for (size_t s = 0; rc == 0 && s < f->nstrategies; s++)
            rc = segments_known(p, fs, f, s);
        const rg_flag_feature *c = rc ? NULL : cycle_from(fs, f, state);
        if (c)
            rc = rg__fparse_fail(p, "dependencies",
                                 "dependency cycle through '%s'", c->name);
    }
    free(state);
    return rc;
}

int rg_flagset_parse(const json_t *doc, rg_flags_mode mode, rg_flagset **out,
                     rg_err *err)
{
    rg__fparse p = {.mode = mode, .err = err};
    if (!json_is_object(doc))
        return rg_err_field(err, RG_EINVAL, "features",
                            "client features: must be a JSON object");
    rg_flagset *fs = calloc(1, sizeof *fs);
    if (!fs || !(fs->pool = p.pool = rg_flag_strpool_new())) {
        free(fs);
        return rg_err_set(err, RG_ENOMEM, "out of memory");
    }
    const json_t *version = json_object_get(doc, "version");
    fs->version = json_is_integer(version) ? json_integer_value(version) : 0;
    int rc = segments(&p, json_object_get(doc, "segments"), fs);
    if (rc == 0)
        rc = features(&p, json_object_get(doc, "features"), fs);
    if (rc == 0 && mode == RG_FLAGS_STRICT)
        rc = references(&p, fs);
    if (rc) {
        rg_flagset_free(fs);
        return rc;
    }
    *out = fs;
    return 0;
}
