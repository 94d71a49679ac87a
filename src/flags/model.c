/* model.c - see model.h. */
#include "model.h"

#include "common/err.h"

#include <stdlib.h>
#include <string.h>

/* FNV-1a over the bytes of s: spreads names well, costs one pass. */
static uint32_t name_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

int rg_flagset_index(rg_flagset *fs)
{
    size_t slots = 8;
    while (slots < 2 * fs->nfeatures)
        slots *= 2;
    free(fs->index);
    free(fs->index_hash);
    fs->index = calloc(slots, sizeof *fs->index);
    fs->index_hash = calloc(slots, sizeof *fs->index_hash);
    if (!fs->index || !fs->index_hash)
        return RG_ENOMEM;
    fs->index_mask = slots - 1;
    for (size_t i = 0; i < fs->nfeatures; i++) {
        uint32_t h = name_hash(fs->features[i].name);
        size_t at = h & fs->index_mask;
        while (fs->index[at])
            at = (at + 1) & fs->index_mask;
        fs->index[at] = (uint32_t)(i + 1);
        fs->index_hash[at] = h;
    }
    return 0;
}

const rg_flag_feature *rg_flagset_feature(const rg_flagset *fs,
                                          const char *name)
{
    if (!fs->index)
        return NULL;
    uint32_t h = name_hash(name);
    for (size_t at = h & fs->index_mask; fs->index[at];
         at = (at + 1) & fs->index_mask) {
        const rg_flag_feature *f = &fs->features[fs->index[at] - 1];
        if (fs->index_hash[at] == h && strcmp(f->name, name) == 0)
            return f;
    }
    return NULL;
}

const rg_flag_segment *rg_flagset_segment(const rg_flagset *fs, int64_t id)
{
    size_t lo = 0, hi = fs->nsegments;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (fs->segments[mid].id == id)
            return &fs->segments[mid];
        if (id < fs->segments[mid].id)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

static void free_strings(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

static void free_constraints(rg_flag_constraint *c, size_t n)
{
    for (size_t i = 0; c && i < n; i++) {
        free(c[i].context_name);
        free_strings(c[i].values, c[i].nvalues);
        free_strings(c[i].lower, c[i].nvalues);
        free(c[i].value);
        rg_flag_regex_free(c[i].re);
        free(c[i].cidrs);
    }
    free(c);
}

static void free_variants(rg_flag_variant *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        free(v[i].name);
        free(v[i].stickiness);
        free(v[i].payload_type);
        free(v[i].payload_value);
        for (size_t j = 0; j < v[i].noverrides; j++) {
            free(v[i].overrides[j].context_name);
            free_strings(v[i].overrides[j].values, v[i].overrides[j].nvalues);
        }
        free(v[i].overrides);
    }
    free(v);
}

static void free_strategies(rg_flag_strategy *s, size_t n)
{
    for (size_t i = 0; s && i < n; i++) {
        free(s[i].name);
        for (size_t j = 0; j < s[i].nparams; j++) {
            free(s[i].params[j].name);
            free(s[i].params[j].value);
        }
        free(s[i].params);
        free_strings(s[i].list, s[i].nlist);
        free_constraints(s[i].constraints, s[i].nconstraints);
        free(s[i].segments);
        free_variants(s[i].variants, s[i].nvariants);
    }
    free(s);
}

static void free_feature(rg_flag_feature *f)
{
    free(f->name);
    free_strategies(f->strategies, f->nstrategies);
    free_variants(f->variants, f->nvariants);
    for (size_t i = 0; f->deps && i < f->ndeps; i++) {
        free(f->deps[i].feature);
        free_strings(f->deps[i].variants, f->deps[i].nvariants);
    }
    free(f->deps);
}

void rg_flagset_free(rg_flagset *fs)
{
    if (!fs)
        return;
    for (size_t i = 0; fs->features && i < fs->nfeatures; i++)
        free_feature(&fs->features[i]);
    free(fs->features);
    free(fs->index);
    free(fs->index_hash);
    for (size_t i = 0; fs->segments && i < fs->nsegments; i++)
        free_constraints(fs->segments[i].constraints,
                         fs->segments[i].nconstraints);
    free(fs->segments);
    free(fs);
}
