/* fleet.c - see fleet.h. */
#include "fleet.h"

#include "common/name.h"
#include "common/buf.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/json.h"
#include "common/log.h"
#include "common/murmur3.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define CHUNK_RECS 1024u          /* records per storage chunk */
#define ARENA_CHUNK (64u * 1024u) /* bytes per id arena chunk */
#define IDX_BITS 26               /* record index bits in a ref */
#define IDX_MAX ((1u << IDX_BITS) - 2u)
#define SLOT_REC ((1u << IDX_BITS) - 1u) /* id index slot: record index + 1 */
#define PROFILES_MAX 1000000u
#define ID_SEED 0x5eedu
#define F_DIRTY 1u
#define F_INTERNAL 2u
#define F_SEEN 4u /* last_seen_ms changed since the store last had it */
#define INSTALLED_JSON_MAX 512

_Static_assert(RG_FLEET_SHARDS == 64, "refs keep the shard in 6 bits");

/* One endpoint: 152 bytes. */
typedef struct rg__ep {
    uint8_t token[RG_FLEET_TOKEN_BYTES]; /* sha256 of the endpoint token */
    int64_t enrolled_ms;
    int64_t last_seen_ms;
    int64_t prev_seen_ms; /* the check-in before the last one */
    rg_fleet_canary canary[RG_FLEET_CANARY_SLOTS];
    uint32_t id_off;  /* id offset in the shard arena */
    uint32_t profile; /* index into f->profiles */
    uint32_t inst_release[RG_FLEET_CHANNELS];
    uint32_t offered[RG_FLEET_OFFERED]; /* newest first; 0: none */
    uint8_t inst_ch[RG_FLEET_CHANNELS]; /* channel name index + 1; 0: none */
    uint8_t id_len;
    uint8_t flags;    /* F_DIRTY, F_INTERNAL, F_SEEN */
    uint16_t stratum; /* index into f->strata */
} rg__ep;

typedef struct shard {
    pthread_mutex_t mu;
    rg__ep **chunks; /* CHUNK_RECS records each; records never move */
    size_t n_chunks, cap_chunks;
    uint32_t n;   /* records in use */
    char **arena; /* ARENA_CHUNK bytes each; ids NUL-terminated */
    size_t n_arena, cap_arena;
    uint32_t arena_used; /* bytes used in the last arena chunk */
    uint32_t *index;     /* open addressing: slot_of(), 0 empty */
    uint32_t index_cap;  /* power of two, or 0 */
    uint32_t *dirty;     /* record indexes waiting for a flush */
    size_t n_dirty, cap_dirty;
} shard;

/* One interned attribute set, shared by the endpoints that have it. */
typedef struct profile {
    char *json;    /* stored attribute form */
    char *stratum; /* os-os_version-arch */
    uint32_t hash;
    uint32_t stratum_id; /* index into rg_fleet.strata */
    bool internal;
} profile;

/* Token index slot: the first 4 bytes of the token hash and a ref. */
typedef struct tok_slot {
    uint32_t key;
    uint32_t ref; /* (shard << IDX_BITS | index) + 1; 0: empty */
} tok_slot;

struct rg_fleet {
    rg_server *srv;
    shard shards[RG_FLEET_SHARDS];

    pthread_rwlock_t tok_lock;
    tok_slot *tok;
    uint32_t tok_cap, tok_n;

    pthread_mutex_t prof_mu;
    profile *profiles;
    uint32_t n_profiles, cap_profiles;
    uint32_t *prof_index;
    uint32_t prof_index_cap;
    char *strata[RG_FLEET_MAX_STRATA]; /* names, owned; guarded by prof_mu */
    _Atomic uint32_t n_strata;

    pthread_mutex_t ch_mu; /* serialises appends to channel names */
    char ch_names[RG_FLEET_CHANNEL_NAMES][RG_NAME_MAX + 1];
    _Atomic uint32_t n_ch; /* published after the name is written */

    pthread_mutex_t flush_mu; /* one flush at a time */

    _Atomic uint64_t size;
    _Atomic uint64_t checkins;
    _Atomic uint64_t flushes, flushed_records, flush_errors;
    _Atomic int64_t last_flush_ms, max_flush_ms;
};

/* ------------------------------------------------------------------ */
/* helpers                                                            */

static uint32_t id_hash(const char *id, size_t len)
{
    return rg_murmur3_32(id, len, ID_SEED);
}

static uint32_t tok_key(const uint8_t t[RG_FLEET_TOKEN_BYTES])
{
    uint32_t k;
    memcpy(&k, t, sizeof k);
    return k;
}

static shard *ref_shard(rg_fleet *f, uint32_t ref)
{
    return &f->shards[(ref - 1) >> IDX_BITS];
}

static uint32_t ref_index(uint32_t ref)
{
    return (ref - 1) & ((1u << IDX_BITS) - 1u);
}

static uint32_t make_ref(size_t shard_no, uint32_t idx)
{
    return (((uint32_t)shard_no << IDX_BITS) | idx) + 1u;
}

static rg__ep *rec_at(shard *s, uint32_t idx)
{
    return &s->chunks[idx / CHUNK_RECS][idx % CHUNK_RECS];
}

static const char *rec_id(shard *s, const rg__ep *r)
{
    return s->arena[r->id_off / ARENA_CHUNK] + r->id_off % ARENA_CHUNK;
}

/* An id index slot: record index + 1 in the low IDX_BITS, and the top bits
 * of the id's hash as a tag, so that a probe only reads the records (and
 * ids) whose tag matches. */
static uint32_t slot_of(uint32_t idx, uint32_t h)
{
    return (idx + 1u) | (h & ~SLOT_REC);
}

/* Zeroed memory of n bytes straight from the kernel: pages are resident
 * only once written, so a record chunk or id arena chunk costs what its
 * records use (malloc'd chunks were fully resident: calloc zeroes them
 * when they come from a thread's heap). NULL when out of memory. */
static void *pages_alloc(size_t n)
{
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static int hex_to_bin(const char *hex, uint8_t out[RG_FLEET_TOKEN_BYTES])
{
    if (!rg_sha256_hex_valid(hex))
        return -1;
    for (size_t i = 0; i < RG_FLEET_TOKEN_BYTES; i++) {
        unsigned hi = (unsigned)(hex[2 * i] <= '9' ? hex[2 * i] - '0'
                                                   : hex[2 * i] - 'a' + 10);
        unsigned lo =
            (unsigned)(hex[2 * i + 1] <= '9' ? hex[2 * i + 1] - '0'
                                             : hex[2 * i + 1] - 'a' + 10);
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

bool rg_fleet_id_valid(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > RG_EPID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' ||
                  c == '-';
        if (!ok)
            return false;
    }
    return true;
}

/* ------------------------------------------------------------------ */
/* attributes and profiles                                            */

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
static int profile_intern(rg_fleet *f, const rg_fleet_attrs *a, uint32_t *out,
                          bool *internal, rg_err *err)
{
    int rc = 0;
    char *json = rg_fleet_attrs_json(a);
    char *stratum = NULL;
    if (!json) {
        rc = rg_err_set(err, RG_ENOMEM, "out of memory interning attributes");
        goto cleanup;
    }
    uint32_t h = rg_murmur3_32(json, strlen(json), ID_SEED);
    if (f->prof_index_cap) {
        for (uint32_t p = h & (f->prof_index_cap - 1); f->prof_index[p];
             p = (p + 1) & (f->prof_index_cap - 1)) {
            profile *pr = &f->profiles[f->prof_index[p] - 1];
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
        profile *np = realloc(f->profiles, cap * sizeof *np);
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
    profile *pr = &f->profiles[f->n_profiles];
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

/* ------------------------------------------------------------------ */
/* channel names                                                      */

/* Index + 1 of channel name (interning it), or 0 when it cannot be kept. */
static uint8_t channel_index(rg_fleet *f, const char *name)
{
    uint32_t n = atomic_load_explicit(&f->n_ch, memory_order_acquire);
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(f->ch_names[i], name) == 0)
            return (uint8_t)(i + 1);
    if (!rg_channel_name_valid(name))
        return 0;
    uint8_t r = 0;
    pthread_mutex_lock(&f->ch_mu);
    n = atomic_load_explicit(&f->n_ch, memory_order_relaxed);
    for (uint32_t i = 0; i < n && !r; i++)
        if (strcmp(f->ch_names[i], name) == 0)
            r = (uint8_t)(i + 1);
    if (!r && n < RG_FLEET_CHANNEL_NAMES) {
        snprintf(f->ch_names[n], sizeof f->ch_names[n], "%s", name);
        atomic_store_explicit(&f->n_ch, n + 1, memory_order_release);
        r = (uint8_t)(n + 1);
    }
    pthread_mutex_unlock(&f->ch_mu);
    return r;
}

/* Stores up to RG_FLEET_CHANNELS installed entries in r. */
static void set_installed(rg_fleet *f, rg__ep *r, const rg_fleet_installed *in,
                          size_t n)
{
    memset(r->inst_ch, 0, sizeof r->inst_ch);
    memset(r->inst_release, 0, sizeof r->inst_release);
    size_t k = 0;
    for (size_t i = 0; i < n && k < RG_FLEET_CHANNELS; i++) {
        if (in[i].release_id <= 0 || in[i].release_id > UINT32_MAX)
            continue;
        uint8_t c = channel_index(f, in[i].channel);
        if (!c)
            continue;
        r->inst_ch[k] = c;
        r->inst_release[k] = (uint32_t)in[i].release_id;
        k++;
    }
}

static bool same_installed(rg_fleet *f, const rg__ep *r,
                           const rg_fleet_installed *in, size_t n)
{
    rg__ep tmp;
    set_installed(f, &tmp, in, n);
    return memcmp(tmp.inst_ch, r->inst_ch, sizeof tmp.inst_ch) == 0 &&
           memcmp(tmp.inst_release, r->inst_release, sizeof tmp.inst_release) ==
               0;
}

/* Parses a stored installed map {"ch": {"release": N, ...}, ...}; entries
 * it cannot read are skipped. Returns how many it filled. */
static size_t parse_installed(const char *text,
                              rg_fleet_installed out[RG_FLEET_CHANNELS])
{
    size_t n = 0;
    json_t *o = json_loads(text, 0, NULL);
    if (!json_is_object(o))
        goto cleanup;
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        if (n == RG_FLEET_CHANNELS)
            break;
        json_t *rel = json_object_get(v, "release");
        if (!json_is_integer(rel) || strlen(k) > RG_NAME_MAX)
            continue;
        snprintf(out[n].channel, sizeof out[n].channel, "%s", k);
        out[n].release_id = json_integer_value(rel);
        n++;
    }
cleanup:
    json_decref(o);
    return n;
}

/* Writes r's installed map as JSON into out (INSTALLED_JSON_MAX bytes). */
static void installed_json(rg_fleet *f, const rg__ep *r, char *out)
{
    size_t len = 0;
    out[len++] = '{';
    for (size_t i = 0; i < RG_FLEET_CHANNELS; i++) {
        if (!r->inst_ch[i])
            continue;
        int w = snprintf(out + len, INSTALLED_JSON_MAX - len,
                         "%s\"%s\":{\"release\":%u}", len > 1 ? "," : "",
                         f->ch_names[r->inst_ch[i] - 1], r->inst_release[i]);
        if (w < 0 || (size_t)w >= INSTALLED_JSON_MAX - len - 1)
            break;
        len += (size_t)w;
    }
    out[len++] = '}';
    out[len] = '\0';
}

/* ------------------------------------------------------------------ */
/* shards                                                             */

static shard *shard_of(rg_fleet *f, uint32_t h, size_t *no)
{
    *no = h % RG_FLEET_SHARDS;
    return &f->shards[*no];
}

/* Record index of id in s, or -1. Caller holds s->mu. */
static int64_t shard_find(shard *s, const char *id, size_t len, uint32_t h)
{
    if (!s->index_cap)
        return -1;
    uint32_t mask = s->index_cap - 1, tag = h & ~SLOT_REC;
    for (uint32_t p = (h / RG_FLEET_SHARDS) & mask; s->index[p];
         p = (p + 1) & mask) {
        if ((s->index[p] & ~SLOT_REC) != tag)
            continue;
        uint32_t idx = (s->index[p] & SLOT_REC) - 1;
        rg__ep *r = rec_at(s, idx);
        if (r->id_len == len && memcmp(rec_id(s, r), id, len) == 0)
            return idx;
    }
    return -1;
}

static int shard_index_grow(shard *s)
{
    uint32_t cap = s->index_cap ? s->index_cap * 2 : 64;
    uint32_t *idx = calloc(cap, sizeof *idx);
    if (!idx)
        return RG_ENOMEM;
    for (uint32_t i = 0; i < s->n; i++) {
        rg__ep *r = rec_at(s, i);
        uint32_t h = id_hash(rec_id(s, r), r->id_len);
        uint32_t p = (h / RG_FLEET_SHARDS) & (cap - 1);
        while (idx[p])
            p = (p + 1) & (cap - 1);
        idx[p] = slot_of(i, h);
    }
    free(s->index);
    s->index = idx;
    s->index_cap = cap;
    return 0;
}

static int grow_array(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 16;
    while (nc < need)
        nc *= 2;
    void *p = realloc(*arr, nc * elem);
    if (!p)
        return RG_ENOMEM;
    *arr = p;
    *cap = nc;
    return 0;
}

/* Appends a new record for id; returns its index or -1 (out of memory or
 * shard full). Caller holds s->mu. */
static int64_t shard_append(shard *s, const char *id, size_t len, uint32_t h)
{
    if (s->n > IDX_MAX)
        return -1;
    /* Load up to 0.8: tags keep the probes off the records. */
    if ((uint64_t)(s->n + 1) * 5 > (uint64_t)s->index_cap * 4 &&
        shard_index_grow(s) < 0)
        return -1;
    if (s->n == s->n_chunks * CHUNK_RECS) {
        if (grow_array((void **)&s->chunks, &s->cap_chunks, s->n_chunks + 1,
                       sizeof *s->chunks) < 0)
            return -1;
        rg__ep *c = pages_alloc(CHUNK_RECS * sizeof *c);
        if (!c)
            return -1;
        s->chunks[s->n_chunks++] = c;
    }
    if (s->n_arena == 0 || s->arena_used + len + 1 > ARENA_CHUNK) {
        if (grow_array((void **)&s->arena, &s->cap_arena, s->n_arena + 1,
                       sizeof *s->arena) < 0)
            return -1;
        char *a = pages_alloc(ARENA_CHUNK);
        if (!a)
            return -1;
        s->arena[s->n_arena++] = a;
        s->arena_used = 0;
    }
    uint32_t off = (uint32_t)((s->n_arena - 1) * ARENA_CHUNK + s->arena_used);
    memcpy(s->arena[s->n_arena - 1] + s->arena_used, id, len);
    s->arena[s->n_arena - 1][s->arena_used + len] = '\0';
    s->arena_used += (uint32_t)len + 1;
    uint32_t idx = s->n++;
    rg__ep *r = rec_at(s, idx);
    memset(r, 0, sizeof *r);
    r->id_off = off;
    r->id_len = (uint8_t)len;
    uint32_t mask = s->index_cap - 1;
    uint32_t p = (h / RG_FLEET_SHARDS) & mask;
    while (s->index[p])
        p = (p + 1) & mask;
    s->index[p] = slot_of(idx, h);
    return idx;
}

/* Marks record idx dirty. Caller holds s->mu. Returns 0 or RG_ENOMEM (the
 * record then stays clean until its next change). */
static int mark_dirty(shard *s, uint32_t idx)
{
    rg__ep *r = rec_at(s, idx);
    if (r->flags & F_DIRTY)
        return 0;
    if (grow_array((void **)&s->dirty, &s->cap_dirty, s->n_dirty + 1,
                   sizeof *s->dirty) < 0)
        return RG_ENOMEM;
    s->dirty[s->n_dirty++] = idx;
    r->flags |= F_DIRTY;
    return 0;
}

/* ------------------------------------------------------------------ */
/* token index                                                        */

static int tok_grow(rg_fleet *f)
{
    uint32_t cap = f->tok_cap ? f->tok_cap * 2 : 1024;
    tok_slot *t = calloc(cap, sizeof *t);
    if (!t)
        return RG_ENOMEM;
    for (uint32_t i = 0; i < f->tok_cap; i++) {
        if (!f->tok[i].ref)
            continue;
        uint32_t p = f->tok[i].key & (cap - 1);
        while (t[p].ref)
            p = (p + 1) & (cap - 1);
        t[p] = f->tok[i];
    }
    free(f->tok);
    f->tok = t;
    f->tok_cap = cap;
    return 0;
}

/* Removes (key, ref) with backward-shift deletion. Caller holds the write
 * lock. */
static void tok_remove(rg_fleet *f, uint32_t key, uint32_t ref)
{
    if (!f->tok_cap)
        return;
    uint32_t mask = f->tok_cap - 1;
    uint32_t p = key & mask;
    while (f->tok[p].ref && !(f->tok[p].key == key && f->tok[p].ref == ref))
        p = (p + 1) & mask;
    if (!f->tok[p].ref)
        return;
    f->tok[p].ref = 0;
    f->tok_n--;
    for (uint32_t q = (p + 1) & mask; f->tok[q].ref; q = (q + 1) & mask) {
        uint32_t home = f->tok[q].key & mask;
        /* Move q back into the hole at p when its home is not in (p, q]. */
        bool between =
            p <= q ? (home > p && home <= q) : (home > p || home <= q);
        if (!between) {
            f->tok[p] = f->tok[q];
            f->tok[q].ref = 0;
            p = q;
        }
    }
}

/* Replaces old token (if had_old) of ref by the new one. Runs after the
 * shard is unlocked (lock order: tok_lock before a shard), so two racing
 * re-enrollments of one id may leave a stale slot behind: harmless, since
 * tok_find checks every candidate against the record's current token. */
static int tok_update(rg_fleet *f, bool had_old,
                      const uint8_t old_tok[RG_FLEET_TOKEN_BYTES],
                      const uint8_t new_tok[RG_FLEET_TOKEN_BYTES], uint32_t ref)
{
    int rc = 0;
    pthread_rwlock_wrlock(&f->tok_lock);
    if (had_old)
        tok_remove(f, tok_key(old_tok), ref);
    /* Load up to 0.8 (a probe compares 4-byte keys before any record). */
    if ((uint64_t)(f->tok_n + 1) * 5 > (uint64_t)f->tok_cap * 4 &&
        (rc = tok_grow(f)) < 0)
        goto cleanup;
    uint32_t mask = f->tok_cap - 1;
    uint32_t p = tok_key(new_tok) & mask;
    while (f->tok[p].ref)
        p = (p + 1) & mask;
    f->tok[p].key = tok_key(new_tok);
    f->tok[p].ref = ref;
    f->tok_n++;
cleanup:
    pthread_rwlock_unlock(&f->tok_lock);
    return rc;
}

/* Finds the record whose token is t; copies its id to id_out (may be NULL).
 * Returns true when found. Lock order: tok_lock, then a shard's mutex. */
static bool tok_find(rg_fleet *f, const uint8_t t[RG_FLEET_TOKEN_BYTES],
                     char *id_out)
{
    bool found = false;
    pthread_rwlock_rdlock(&f->tok_lock);
    if (!f->tok_cap)
        goto cleanup;
    uint32_t key = tok_key(t), mask = f->tok_cap - 1;
    for (uint32_t p = key & mask; f->tok[p].ref && !found; p = (p + 1) & mask) {
        if (f->tok[p].key != key)
            continue;
        shard *s = ref_shard(f, f->tok[p].ref);
        pthread_mutex_lock(&s->mu);
        rg__ep *r = rec_at(s, ref_index(f->tok[p].ref));
        if (sodium_memcmp(r->token, t, RG_FLEET_TOKEN_BYTES) == 0) {
            found = true;
            if (id_out) {
                memcpy(id_out, rec_id(s, r), r->id_len);
                id_out[r->id_len] = '\0';
            }
        }
        pthread_mutex_unlock(&s->mu);
    }
cleanup:
    pthread_rwlock_unlock(&f->tok_lock);
    return found;
}

/* ------------------------------------------------------------------ */
/* public                                                             */

int rg_fleet_put(rg_fleet *f, const rg_endpoint_rec *e, rg_err *err)
{
    int rc = 0;
    uint8_t tok[RG_FLEET_TOKEN_BYTES], old[RG_FLEET_TOKEN_BYTES];
    rg_fleet_attrs *attrs = NULL;
    json_t *aj = NULL;
    size_t len = strlen(e->id);
    if (!rg_fleet_id_valid(e->id))
        return rg_err_field(
            err, RG_EINVAL, "endpoint_id",
            "endpoint id '%.*s' must be 1..%d bytes of [A-Za-z0-9._:-]", 64,
            e->id, RG_EPID_MAX);
    if (hex_to_bin(e->token_hash, tok) < 0)
        return rg_err_set(err, RG_EINVAL, "endpoint '%s': bad token hash",
                          e->id);
    attrs = malloc(sizeof *attrs);
    if (!attrs)
        return rg_err_set(err, RG_ENOMEM, "out of memory");
    aj = json_loads(e->attrs_json, 0, NULL);
    if (!aj) {
        rc = rg_err_field(err, RG_EINVAL, "attributes",
                          "endpoint '%s': attributes are not JSON", e->id);
        goto cleanup;
    }
    if ((rc = rg_fleet_attrs_from_json(aj, attrs, err)) < 0)
        goto cleanup;
    uint32_t prof = 0, sid = 0;
    bool internal = false;
    pthread_mutex_lock(&f->prof_mu);
    rc = profile_intern(f, attrs, &prof, &internal, err);
    if (rc == 0)
        sid = f->profiles[prof].stratum_id;
    pthread_mutex_unlock(&f->prof_mu);
    if (rc < 0)
        goto cleanup;
    rg_fleet_installed inst[RG_FLEET_CHANNELS];
    size_t n_inst = parse_installed(e->installed_json, inst);

    uint32_t h = id_hash(e->id, len);
    size_t no;
    shard *s = shard_of(f, h, &no);
    pthread_mutex_lock(&s->mu);
    int64_t idx = shard_find(s, e->id, len, h);
    bool existed = idx >= 0;
    if (!existed) {
        idx = shard_append(s, e->id, len, h);
        if (idx < 0) {
            pthread_mutex_unlock(&s->mu);
            rc = rg_err_set(err, RG_ENOMEM, "endpoint '%s': out of memory",
                            e->id);
            goto cleanup;
        }
    }
    rg__ep *r = rec_at(s, (uint32_t)idx);
    memcpy(old, r->token, sizeof old);
    memcpy(r->token, tok, sizeof tok);
    r->profile = prof;
    r->stratum = (uint16_t)sid;
    r->flags =
        (uint8_t)((r->flags & ~F_INTERNAL) | (internal ? F_INTERNAL : 0));
    r->enrolled_ms = e->enrolled_ms;
    if (!existed) {
        r->last_seen_ms = e->last_seen_ms;
        set_installed(f, r, inst, n_inst);
    }
    pthread_mutex_unlock(&s->mu);
    if (!existed)
        atomic_fetch_add(&f->size, 1);
    if (!existed || memcmp(old, tok, sizeof tok) != 0) {
        rc = tok_update(f, existed, old, tok, make_ref(no, (uint32_t)idx));
        if (rc < 0)
            rg_err_set(err, rc, "endpoint '%s': out of memory", e->id);
    }
cleanup:
    json_decref(aj);
    free(attrs);
    return rc;
}

int rg_fleet_checkin(rg_fleet *f, const char *id,
                     const uint8_t token_hash[RG_FLEET_TOKEN_BYTES],
                     int64_t now_ms, const rg_fleet_installed *installed,
                     size_t n, rg_fleet_checkin_out *out, rg_err *err)
{
    size_t len = strlen(id);
    uint32_t h = id_hash(id, len);
    size_t no;
    shard *s = shard_of(f, h, &no);
    bool ok = false;
    pthread_mutex_lock(&s->mu);
    int64_t idx = shard_find(s, id, len, h);
    if (idx >= 0) {
        rg__ep *r = rec_at(s, (uint32_t)idx);
        if (sodium_memcmp(r->token, token_hash, RG_FLEET_TOKEN_BYTES) == 0) {
            ok = true;
            /* A changed install is written at the next flush; a new
             * last-seen time once it enters another RG_FLEET_SEEN_MS
             * period (every check-in of an agent checking in less often),
             * else at close. */
            bool moved = !same_installed(f, r, installed, n);
            if (moved)
                set_installed(f, r, installed, n);
            if (moved ||
                r->last_seen_ms / RG_FLEET_SEEN_MS != now_ms / RG_FLEET_SEEN_MS)
                mark_dirty(s, (uint32_t)idx);
            else
                r->flags |= F_SEEN;
            r->prev_seen_ms = r->last_seen_ms;
            r->last_seen_ms = now_ms;
            out->stratum = r->stratum;
            out->profile = r->profile;
            out->internal = (r->flags & F_INTERNAL) != 0;
        }
    }
    pthread_mutex_unlock(&s->mu);
    if (ok) {
        atomic_fetch_add_explicit(&f->checkins, 1, memory_order_relaxed);
        return 0;
    }
    if (tok_find(f, token_hash, NULL))
        return rg_err_set(err, RG_EFORBIDDEN,
                          "token does not belong to endpoint '%s'", id);
    return rg_err_set(err, RG_EAUTH, "unknown endpoint token");
}

int rg_fleet_token_owner(rg_fleet *f,
                         const uint8_t token_hash[RG_FLEET_TOKEN_BYTES],
                         char id_out[RG_EPID_MAX + 1], rg_err *err)
{
    if (!tok_find(f, token_hash, id_out))
        return rg_err_set(err, RG_EAUTH, "unknown endpoint token");
    return 0;
}

int rg_fleet_get(rg_fleet *f, const char *id, rg_fleet_endpoint *out,
                 rg_err *err)
{
    size_t len = strlen(id);
    uint32_t h = id_hash(id, len);
    size_t no;
    shard *s = shard_of(f, h, &no);
    uint32_t prof = 0;
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&s->mu);
    int64_t idx = len <= RG_EPID_MAX ? shard_find(s, id, len, h) : -1;
    if (idx >= 0) {
        rg__ep *r = rec_at(s, (uint32_t)idx);
        memcpy(out->id, id, len + 1);
        prof = r->profile;
        out->internal = (r->flags & F_INTERNAL) != 0;
        out->enrolled_ms = r->enrolled_ms;
        out->last_seen_ms = r->last_seen_ms;
        for (size_t i = 0; i < RG_FLEET_CHANNELS; i++) {
            if (!r->inst_ch[i])
                continue;
            rg_fleet_installed *in = &out->installed[out->n_installed++];
            snprintf(in->channel, sizeof in->channel, "%s",
                     f->ch_names[r->inst_ch[i] - 1]);
            in->release_id = r->inst_release[i];
        }
    }
    pthread_mutex_unlock(&s->mu);
    if (idx < 0)
        return rg_err_set(err, RG_ENOTFOUND, "endpoint '%.*s' not found", 128,
                          id);
    pthread_mutex_lock(&f->prof_mu);
    snprintf(out->attrs_json, sizeof out->attrs_json, "%s",
             f->profiles[prof].json);
    snprintf(out->stratum, sizeof out->stratum, "%s",
             f->profiles[prof].stratum);
    pthread_mutex_unlock(&f->prof_mu);
    return 0;
}

static int cmp_idp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void fill_view(shard *s, uint32_t ref, rg__ep *r, rg_fleet_view *v);

int rg_fleet_page(rg_fleet *f, const char *after, size_t limit,
                  bool (*keep)(void *ctx, const rg_fleet_view *v), void *ctx,
                  char (**ids)[RG_EPID_MAX + 1], size_t *n, bool *more,
                  rg_err *err)
{
    rg_fleet_view v;
    int rc = 0;
    const char **all = NULL;
    size_t n_all = 0, cap_all = 0;
    *ids = NULL;
    *n = 0;
    *more = false;
    /* Ids live in append-only arenas that are freed only by rg_fleet_close,
     * so the pointers stay valid after each shard is unlocked. */
    for (size_t i = 0; i < RG_FLEET_SHARDS && rc == 0; i++) {
        shard *s = &f->shards[i];
        pthread_mutex_lock(&s->mu);
        for (uint32_t k = 0; k < s->n; k++) {
            const char *id = rec_id(s, rec_at(s, k));
            if (after && after[0] && strcmp(id, after) <= 0)
                continue;
            if (keep) {
                fill_view(s, make_ref(i, k), rec_at(s, k), &v);
                if (!keep(ctx, &v))
                    continue;
            }
            if (grow_array((void **)&all, &cap_all, n_all + 1, sizeof *all) <
                0) {
                rc = rg_err_set(err, RG_ENOMEM,
                                "out of memory listing endpoints");
                break;
            }
            all[n_all++] = id;
        }
        pthread_mutex_unlock(&s->mu);
    }
    if (rc < 0)
        goto cleanup;
    if (n_all > 1)
        qsort(all, n_all, sizeof *all, cmp_idp);
    size_t take = n_all < limit ? n_all : limit;
    if (take) {
        *ids = malloc(take * sizeof **ids);
        if (!*ids) {
            rc = rg_err_set(err, RG_ENOMEM, "out of memory listing endpoints");
            goto cleanup;
        }
        for (size_t i = 0; i < take; i++)
            snprintf((*ids)[i], RG_EPID_MAX + 1, "%s", all[i]);
    }
    *n = take;
    *more = n_all > take;
cleanup:
    free(all);
    return rc;
}

int rg_fleet_foreach(rg_fleet *f,
                     int (*fn)(void *ctx, const char *id, bool internal),
                     void *ctx)
{
    int rc = 0;
    for (size_t i = 0; i < RG_FLEET_SHARDS && rc == 0; i++) {
        shard *s = &f->shards[i];
        pthread_mutex_lock(&s->mu);
        for (uint32_t k = 0; k < s->n && rc == 0; k++) {
            rg__ep *r = rec_at(s, k);
            rc = fn(ctx, rec_id(s, r), (r->flags & F_INTERNAL) != 0);
        }
        pthread_mutex_unlock(&s->mu);
    }
    return rc;
}

/* A batch of dirty records being written. */
typedef struct flush_batch {
    size_t n;
    uint32_t refs[RG_FLEET_FLUSH_BATCH];
    char ids[RG_FLEET_FLUSH_BATCH][RG_EPID_MAX + 1];
    char inst[RG_FLEET_FLUSH_BATCH][INSTALLED_JSON_MAX];
    rg_endpoint_seen seen[RG_FLEET_FLUSH_BATCH];
} flush_batch;

/* Marks the batch's records dirty again after a failed write. */
static void flush_requeue(rg_fleet *f, const flush_batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        shard *s = ref_shard(f, b->refs[i]);
        pthread_mutex_lock(&s->mu);
        mark_dirty(s, ref_index(b->refs[i]));
        pthread_mutex_unlock(&s->mu);
    }
}

static int flush_write(rg_fleet *f, flush_batch *b, rg_err *err)
{
    if (!b->n)
        return 0;
    int rc = rg_store_endpoint_flush(f->srv->store, b->seen, b->n, err);
    if (rc < 0) {
        atomic_fetch_add(&f->flush_errors, 1);
        flush_requeue(f, b);
    } else {
        atomic_fetch_add(&f->flushed_records, b->n);
    }
    b->n = 0;
    return rc;
}

int rg_fleet_flush(rg_fleet *f, rg_err *err)
{
    int rc = 0;
    flush_batch *b = malloc(sizeof *b);
    if (!b)
        return rg_err_set(err, RG_ENOMEM, "out of memory flushing the fleet");
    b->n = 0;
    pthread_mutex_lock(&f->flush_mu);
    int64_t t0 = rg_monotonic_ms();
    uint64_t before = atomic_load(&f->flushed_records);
    for (size_t i = 0; i < RG_FLEET_SHARDS; i++) {
        shard *s = &f->shards[i];
        for (;;) {
            pthread_mutex_lock(&s->mu);
            while (s->n_dirty && b->n < RG_FLEET_FLUSH_BATCH) {
                uint32_t idx = s->dirty[--s->n_dirty];
                rg__ep *r = rec_at(s, idx);
                r->flags &= (uint8_t) ~(F_DIRTY | F_SEEN);
                size_t k = b->n++;
                b->refs[k] = make_ref(i, idx);
                memcpy(b->ids[k], rec_id(s, r), r->id_len);
                b->ids[k][r->id_len] = '\0';
                installed_json(f, r, b->inst[k]);
                b->seen[k].id = b->ids[k];
                b->seen[k].last_seen_ms = r->last_seen_ms;
                b->seen[k].installed_json = b->inst[k];
            }
            bool more = s->n_dirty > 0;
            if (s->n_dirty == 0 && s->cap_dirty > 4096) {
                /* Give back a large list once drained. */
                free(s->dirty);
                s->dirty = NULL;
                s->cap_dirty = 0;
            }
            pthread_mutex_unlock(&s->mu);
            if (b->n == RG_FLEET_FLUSH_BATCH) {
                int w = flush_write(f, b, err);
                if (w < 0 && rc == 0)
                    rc = w;
                if (w < 0)
                    goto done; /* the store is failing: retry next pass */
            }
            if (!more)
                break;
        }
    }
    int w = flush_write(f, b, err);
    if (w < 0 && rc == 0)
        rc = w;
done:;
    uint64_t wrote = atomic_load(&f->flushed_records) - before;
    if (wrote) {
        int64_t dt = rg_monotonic_ms() - t0;
        atomic_fetch_add(&f->flushes, 1);
        atomic_store(&f->last_flush_ms, dt);
        if (dt > atomic_load(&f->max_flush_ms))
            atomic_store(&f->max_flush_ms, dt);
    }
    pthread_mutex_unlock(&f->flush_mu);
    free(b);
    return rc;
}

/* ------------------------------------------------------------------ */
/* canary slots and views                                             */

const rg_fleet_canary *rg_fleet_canary_of(const rg_fleet_view *v,
                                          int64_t release)
{
    for (size_t i = 0; i < RG_FLEET_CANARY_SLOTS; i++)
        if (release > 0 && v->canary[i].release == (uint64_t)release)
            return &v->canary[i];
    return NULL;
}

/* r's slot for release; when take, a free slot or the one of the oldest
 * release (when older than release) is reset for it. NULL otherwise. */
static rg_fleet_canary *slot_for(rg__ep *r, int64_t release, bool take)
{
    if (release <= 0 || release > UINT32_MAX)
        return NULL;
    rg_fleet_canary *old = &r->canary[0];
    for (size_t i = 0; i < RG_FLEET_CANARY_SLOTS; i++) {
        if (r->canary[i].release == (uint32_t)release)
            return &r->canary[i];
        if (r->canary[i].release < old->release)
            old = &r->canary[i];
    }
    if (!take || old->release >= (uint32_t)release)
        return NULL;
    memset(old, 0, sizeof *old);
    old->release = (uint32_t)release;
    return old;
}

/* Finds id's record and locks its shard; NULL (unlocked) when unknown. */
static rg__ep *find_locked(rg_fleet *f, const char *id, shard **sp)
{
    size_t len = strlen(id), no;
    if (len > RG_EPID_MAX)
        return NULL;
    uint32_t h = id_hash(id, len);
    shard *s = shard_of(f, h, &no);
    pthread_mutex_lock(&s->mu);
    int64_t idx = shard_find(s, id, len, h);
    if (idx < 0) {
        pthread_mutex_unlock(&s->mu);
        return NULL;
    }
    *sp = s;
    return rec_at(s, (uint32_t)idx);
}

int rg_fleet_offer(rg_fleet *f, const char *id, int64_t release, rg_err *err)
{
    if (release <= 0 || release > UINT32_MAX)
        return rg_err_set(err, RG_EINVAL, "release %lld out of range",
                          (long long)release);
    shard *s = NULL;
    rg__ep *r = find_locked(f, id, &s);
    if (!r)
        return rg_err_set(err, RG_ENOTFOUND, "endpoint '%.64s' not found", id);
    size_t at = RG_FLEET_OFFERED - 1; /* the oldest goes, unless present */
    for (size_t i = 0; i < RG_FLEET_OFFERED; i++)
        if (r->offered[i] == (uint32_t)release) {
            at = i;
            break;
        }
    memmove(&r->offered[1], &r->offered[0], at * sizeof r->offered[0]);
    r->offered[0] = (uint32_t)release;
    pthread_mutex_unlock(&s->mu);
    return 0;
}

int rg_fleet_offered(rg_fleet *f, const char *id, int64_t release, rg_err *err)
{
    shard *s = NULL;
    rg__ep *r = find_locked(f, id, &s);
    if (!r)
        return rg_err_set(err, RG_ENOTFOUND, "endpoint '%.64s' not found", id);
    int found = 0;
    for (size_t i = 0; i < RG_FLEET_OFFERED && !found; i++)
        found = release > 0 && r->offered[i] == (uint64_t)release;
    pthread_mutex_unlock(&s->mu);
    return found;
}

/* Appends release to out[0..*n) unless it is 0, there, or out is full. */
static void add_release(int64_t *out, size_t cap, size_t *n, uint32_t release)
{
    if (release == 0 || *n == cap)
        return;
    for (size_t i = 0; i < *n; i++)
        if (out[i] == release)
            return;
    out[(*n)++] = release;
}

int rg_fleet_releases_of(rg_fleet *f, const char *id, int64_t *out, size_t cap,
                         size_t *n, rg_err *err)
{
    shard *s = NULL;
    *n = 0;
    rg__ep *r = find_locked(f, id, &s);
    if (!r)
        return rg_err_set(err, RG_ENOTFOUND, "endpoint '%.64s' not found", id);
    for (size_t i = 0; i < RG_FLEET_OFFERED; i++)
        add_release(out, cap, n, r->offered[i]);
    for (size_t i = 0; i < RG_FLEET_CANARY_SLOTS; i++)
        if (r->canary[i].flags & (RG_CN_ASSIGNED | RG_CN_EXPOSED))
            add_release(out, cap, n, r->canary[i].release);
    pthread_mutex_unlock(&s->mu);
    return 0;
}

int rg_fleet_canary_event(rg_fleet *f, const char *id, int64_t release,
                          int type, int64_t at_ms, rg_err *err)
{
    shard *s = NULL;
    rg__ep *r = find_locked(f, id, &s);
    if (!r)
        return rg_err_set(err, RG_ENOTFOUND, "endpoint '%.64s' not found", id);
    rg_fleet_canary *c = slot_for(r, release, type == 0);
    if (c && type == 0 && !(c->flags & RG_CN_EXPOSED)) {
        c->flags |= RG_CN_EXPOSED | RG_CN_ASSIGNED;
        c->apply_ms = at_ms;
    } else if (c && type == 1 && !(c->flags & RG_CN_HEALTHY)) {
        c->flags |= RG_CN_HEALTHY;
        c->healthy_ms = at_ms;
    } else if (c && type >= 2) {
        c->flags |= RG_CN_FAILED;
    }
    pthread_mutex_unlock(&s->mu);
    return 0;
}

int rg_fleet_canary_set(rg_fleet *f, const char *id, int64_t release,
                        uint32_t flags, rg_err *err)
{
    shard *s = NULL;
    rg__ep *r = find_locked(f, id, &s);
    if (!r)
        return rg_err_set(err, RG_ENOTFOUND, "endpoint '%.64s' not found", id);
    rg_fleet_canary *c = slot_for(r, release, true);
    if (c)
        c->flags |= flags;
    pthread_mutex_unlock(&s->mu);
    return 0;
}

int rg_fleet_canary_set_ref(rg_fleet *f, uint32_t ref, int64_t release,
                            uint32_t flags)
{
    if (ref == 0)
        return RG_ENOTFOUND;
    shard *s = ref_shard(f, ref);
    int rc = RG_ENOTFOUND;
    pthread_mutex_lock(&s->mu);
    if (ref_index(ref) < s->n) {
        rg_fleet_canary *c = slot_for(rec_at(s, ref_index(ref)), release, true);
        if (c)
            c->flags |= flags;
        rc = 0;
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

void rg_fleet_canary_clear(rg_fleet *f, int64_t release)
{
    if (release <= 0 || release > UINT32_MAX)
        return;
    for (size_t i = 0; i < RG_FLEET_SHARDS; i++) {
        shard *s = &f->shards[i];
        pthread_mutex_lock(&s->mu);
        for (uint32_t k = 0; k < s->n; k++) {
            rg__ep *r = rec_at(s, k);
            for (size_t j = 0; j < RG_FLEET_CANARY_SLOTS; j++)
                if (r->canary[j].release == (uint32_t)release)
                    memset(&r->canary[j], 0, sizeof r->canary[j]);
        }
        pthread_mutex_unlock(&s->mu);
    }
}

static void fill_view(shard *s, uint32_t ref, rg__ep *r, rg_fleet_view *v)
{
    v->ref = ref;
    v->id = rec_id(s, r);
    v->stratum = r->stratum;
    v->profile = r->profile;
    v->internal = (r->flags & F_INTERNAL) != 0;
    v->last_seen_ms = r->last_seen_ms;
    v->prev_seen_ms = r->prev_seen_ms;
    memcpy(v->canary, r->canary, sizeof v->canary);
    memcpy(v->installed, r->inst_release, sizeof v->installed);
}

int rg_fleet_view_id(rg_fleet *f, const char *id, rg_fleet_view *out,
                     rg_err *err)
{
    size_t len = strlen(id), no;
    if (len > RG_EPID_MAX)
        return rg_err_set(err, RG_ENOTFOUND, "endpoint not found");
    uint32_t h = id_hash(id, len);
    shard *s = shard_of(f, h, &no);
    pthread_mutex_lock(&s->mu);
    int64_t idx = shard_find(s, id, len, h);
    if (idx >= 0)
        fill_view(s, make_ref(no, (uint32_t)idx), rec_at(s, (uint32_t)idx),
                  out);
    pthread_mutex_unlock(&s->mu);
    if (idx < 0)
        return rg_err_set(err, RG_ENOTFOUND, "endpoint '%.64s' not found", id);
    return 0;
}

int rg_fleet_view_ref(rg_fleet *f, uint32_t ref, rg_fleet_view *out)
{
    if (ref == 0)
        return RG_ENOTFOUND;
    shard *s = ref_shard(f, ref);
    int rc = RG_ENOTFOUND;
    pthread_mutex_lock(&s->mu);
    if (ref_index(ref) < s->n) {
        fill_view(s, ref, rec_at(s, ref_index(ref)), out);
        rc = 0;
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int rg_fleet_scan(rg_fleet *f, int (*fn)(void *ctx, const rg_fleet_view *v),
                  void *ctx)
{
    int rc = 0;
    rg_fleet_view v;
    for (size_t i = 0; i < RG_FLEET_SHARDS && rc == 0; i++) {
        shard *s = &f->shards[i];
        pthread_mutex_lock(&s->mu);
        for (uint32_t k = 0; k < s->n && rc == 0; k++) {
            fill_view(s, make_ref(i, k), rec_at(s, k), &v);
            rc = fn(ctx, &v);
        }
        pthread_mutex_unlock(&s->mu);
    }
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

void rg_fleet_stats_get(rg_fleet *f, rg_fleet_stats *out)
{
    memset(out, 0, sizeof *out);
    out->endpoints = atomic_load(&f->size);
    out->checkins = atomic_load(&f->checkins);
    out->flushes = atomic_load(&f->flushes);
    out->flushed_records = atomic_load(&f->flushed_records);
    out->flush_errors = atomic_load(&f->flush_errors);
    out->last_flush_ms = atomic_load(&f->last_flush_ms);
    out->max_flush_ms = atomic_load(&f->max_flush_ms);
    for (size_t i = 0; i < RG_FLEET_SHARDS; i++) {
        pthread_mutex_lock(&f->shards[i].mu);
        out->dirty += f->shards[i].n_dirty;
        pthread_mutex_unlock(&f->shards[i].mu);
    }
}

uint64_t rg_fleet_size(rg_fleet *f)
{
    return atomic_load(&f->size);
}

static int load_one(void *ctx, const rg_endpoint_rec *e)
{
    rg_err err;
    rg_err_clear(&err);
    int rc = rg_fleet_put(ctx, e, &err);
    if (rc == RG_EINVAL) {
        rg_warn("fleet: skipping stored endpoint '%s': %s", e->id, err.msg);
        return 0;
    }
    if (rc < 0)
        rg_error("fleet: loading endpoint '%s': %s", e->id, err.msg);
    return rc < 0 ? 1 : 0;
}

static void fleet_free(rg_fleet *f)
{
    for (size_t i = 0; i < RG_FLEET_SHARDS; i++) {
        shard *s = &f->shards[i];
        for (size_t k = 0; k < s->n_chunks; k++)
            munmap(s->chunks[k], CHUNK_RECS * sizeof(rg__ep));
        for (size_t k = 0; k < s->n_arena; k++)
            munmap(s->arena[k], ARENA_CHUNK);
        free(s->chunks);
        free(s->arena);
        free(s->index);
        free(s->dirty);
        pthread_mutex_destroy(&s->mu);
    }
    for (uint32_t i = 0; i < f->n_profiles; i++) {
        free(f->profiles[i].json);
        free(f->profiles[i].stratum);
    }
    free(f->profiles);
    free(f->prof_index);
    for (uint32_t i = 0; i < atomic_load(&f->n_strata); i++)
        free(f->strata[i]);
    free(f->tok);
    pthread_rwlock_destroy(&f->tok_lock);
    pthread_mutex_destroy(&f->prof_mu);
    pthread_mutex_destroy(&f->ch_mu);
    pthread_mutex_destroy(&f->flush_mu);
    free(f);
}

int rg_fleet_open(rg_server *srv, rg_fleet **out, rg_err *err)
{
    int rc = 0;
    *out = NULL;
    rg_fleet *f = calloc(1, sizeof *f);
    if (!f)
        return rg_err_set(err, RG_ENOMEM, "out of memory creating the fleet");
    f->srv = srv;
    for (size_t i = 0; i < RG_FLEET_SHARDS; i++)
        pthread_mutex_init(&f->shards[i].mu, NULL);
    pthread_rwlock_init(&f->tok_lock, NULL);
    pthread_mutex_init(&f->prof_mu, NULL);
    pthread_mutex_init(&f->ch_mu, NULL);
    pthread_mutex_init(&f->flush_mu, NULL);
    rc = rg_store_endpoint_load(srv->store, load_one, f, err);
    if (rc != 0) {
        if (rc > 0)
            rc = rg_err_set(err, RG_ENOMEM, "out of memory loading the fleet");
        fleet_free(f);
        return rc;
    }
    *out = f;
    return 0;
}

void rg_fleet_close(rg_fleet *f)
{
    if (!f)
        return;
    rg_err err;
    rg_err_clear(&err);
    /* The last-seen times the periods held back go too. */
    for (size_t i = 0; i < RG_FLEET_SHARDS; i++) {
        shard *s = &f->shards[i];
        pthread_mutex_lock(&s->mu);
        for (uint32_t k = 0; k < s->n; k++)
            if (rec_at(s, k)->flags & F_SEEN)
                mark_dirty(s, k);
        pthread_mutex_unlock(&s->mu);
    }
    if (rg_fleet_flush(f, &err) < 0)
        rg_error("fleet: last flush failed: %s", err.msg);
    fleet_free(f);
}
