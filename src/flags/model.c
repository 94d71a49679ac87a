/* model.c - see model.h. */
#include "model.h"
#include "strpool.h"

#include "common/err.h"

#include <stdlib.h>
#include <string.h>

/* The last len (1..7) bytes at s as one word, read in at most two loads
 * within the string: the bytes copied one by one into a word on the
 * stack and read back as a whole would stall the load (no store
 * forwarding from narrower stores). */
static uint64_t tail_word(const char *s, size_t len)
{
    uint32_t lo, hi;
    uint16_t mid;
    if (len >= 4) { /* two 4-byte loads that overlap */
        memcpy(&lo, s, 4);
        memcpy(&hi, s + len - 4, 4);
        return lo | (uint64_t)hi << 32;
    }
    if (len >= 2) {
        memcpy(&mid, s + len - 2, 2);
        return (uint64_t)(unsigned char)s[0] | (uint64_t)mid << 8;
    }
    return len ? (unsigned char)s[0] : 0;
}

/* The name hash, for the index only (never stored): eight bytes at a
 * time, each word mixed by a multiply and a rotation, then murmur3's
 * finalizer. Names are short; this costs a few instructions per word. */
static uint32_t name_hash(const char *s, size_t len)
{
    uint64_t h = 0x9e3779b97f4a7c15u ^ len, w;
    for (; len >= 8; s += 8, len -= 8) {
        memcpy(&w, s, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdu;
        h = (h << 29) | (h >> 35);
    }
    w = tail_word(s, len);
    h = (h ^ w) * 0xc4ceb9fe1a85ec53u;
    h ^= h >> 32;
    h *= 0x85ebca6bu;
    h ^= h >> 29;
    return (uint32_t)h;
}

static void index_free(rg_flagset *fs)
{
    free(fs->index);
    free(fs->index_names);
    fs->index = NULL;
    fs->index_names = NULL;
}

int rg_flagset_index(rg_flagset *fs)
{
    size_t slots = 8, bytes = 0, used = 0;
    while (slots < 2 * fs->nfeatures)
        slots *= 2;
    for (size_t i = 0; i < fs->nfeatures; i++)
        bytes += strlen(fs->features[i].name) + 1;
    index_free(fs);
    fs->index = calloc(slots, sizeof *fs->index);
    fs->index_names = malloc(bytes + 1);
    if (!fs->index || !fs->index_names || bytes > UINT32_MAX)
        return RG_ENOMEM;
    fs->index_mask = slots - 1;
    for (size_t i = 0; i < fs->nfeatures; i++) {
        size_t len = strlen(fs->features[i].name);
        uint32_t h = name_hash(fs->features[i].name, len);
        size_t at = h & fs->index_mask;
        while (fs->index[at].feature)
            at = (at + 1) & fs->index_mask;
        fs->index[at] =
            (rg_flag_index_slot){(uint32_t)(i + 1), h, (uint32_t)used};
        memcpy(fs->index_names + used, fs->features[i].name, len + 1);
        used += len + 1;
    }
    return 0;
}

const rg_flag_feature *rg_flagset_feature(const rg_flagset *fs,
                                          const char *name)
{
    if (!fs->index)
        return NULL;
    size_t len = strlen(name);
    uint32_t h = name_hash(name, len);
    for (size_t at = h & fs->index_mask; fs->index[at].feature;
         at = (at + 1) & fs->index_mask) {
        const rg_flag_index_slot *x = &fs->index[at];
        if (x->hash == h &&
            memcmp(fs->index_names + x->name, name, len + 1) == 0)
            return &fs->features[x->feature - 1];
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
        free(c[i].values); /* the strings are the pool's */
        free_strings(c[i].lower, c[i].nvalues);
        free(c[i].value);
        rg_flag_regex_free(c[i].re);
        free(c[i].cidrs);
    }
    free(c);
}

static void free_variants(rg_flag_variant_def *v, size_t n)
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
    index_free(fs);
    for (size_t i = 0; fs->segments && i < fs->nsegments; i++)
        free_constraints(fs->segments[i].constraints,
                         fs->segments[i].nconstraints);
    free(fs->segments);
    rg_flag_strpool_free(fs->pool);
    free(fs);
}
