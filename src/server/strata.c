/* strata.c - see strata.h. */
#include "strata.h"

#include "model/rollout.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define MAXS RG_FLEET_MAX_STRATA
#define NAME_MAX_ 64

/* One rollout's strata. */
typedef struct entry {
    int64_t id;
    _Atomic bool settled;     /* the last rg_strata_settled's answer */
    _Atomic uint8_t st[MAXS]; /* rg_stratum_state per fleet stratum */
} entry;

struct rg_strata {
    pthread_rwlock_t lock;    /* guards v, n (the list, not the states) */
    pthread_mutex_t write_mu; /* one writer of states at a time */
    entry **v;
    size_t n, cap;
};

static const char *const state_keys[] = {NULL, "cleared", "held", "halted"};

int rg_strata_new(rg_strata **out, rg_err *err)
{
    rg_strata *s = calloc(1, sizeof *s);
    if (!s)
        return rg_err_set(err, RG_ENOMEM, "out of memory");
    pthread_rwlock_init(&s->lock, NULL);
    pthread_mutex_init(&s->write_mu, NULL);
    *out = s;
    return 0;
}

void rg_strata_free(rg_strata *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    pthread_rwlock_destroy(&s->lock);
    pthread_mutex_destroy(&s->write_mu);
    free(s);
}

/* Rollout id's entry or NULL. Caller holds s->lock. */
static entry *find(rg_strata *s, int64_t id)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i]->id == id)
            return s->v[i];
    return NULL;
}

/* Rollout id's entry, added (all open) when missing; NULL on allocation
 * failure. *added tells which. Caller holds s->write_mu. */
static entry *find_or_add(rg_strata *s, int64_t id, bool *added)
{
    *added = false;
    pthread_rwlock_wrlock(&s->lock);
    entry *e = find(s, id);
    if (!e && s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4;
        entry **v = realloc(s->v, cap * sizeof *v);
        if (v) {
            s->v = v;
            s->cap = cap;
        }
    }
    if (!e && s->n < s->cap && (e = calloc(1, sizeof *e))) {
        e->id = id;
        s->v[s->n++] = e;
        *added = true;
    }
    pthread_rwlock_unlock(&s->lock);
    return e;
}

/* The fleet index of stratum `name`, or -1. */
static int64_t index_of(rg_fleet *fleet, const char *name)
{
    uint32_t n = rg_fleet_strata(fleet);
    char buf[NAME_MAX_];
    for (uint32_t i = 0; i < n && i < MAXS; i++) {
        rg_fleet_stratum_name(fleet, i, buf, sizeof buf);
        if (strcmp(buf, name) == 0)
            return i;
    }
    return -1;
}

/* Sets every stratum of e to state. */
static void set_all(entry *e, uint8_t state)
{
    for (size_t i = 0; i < MAXS; i++)
        atomic_store(&e->st[i], state);
}

/* What restore reads: the newest stored strata state. */
typedef struct newest {
    char *json; /* malloc'd copy, or NULL */
    int oom;
} newest;

static int keep_newest(void *ctx, const rg_decision_rec *d)
{
    newest *n = ctx;
    if (!d->evidence_json || !strstr(d->evidence_json, "\"strata_state\""))
        return 0;
    free(n->json);
    n->json = strdup(d->evidence_json);
    n->oom |= n->json == NULL;
    return 0;
}

/* Sets the states e's stored strata_state object names. */
static void load_states(entry *e, rg_fleet *fleet, const json_t *state)
{
    for (uint8_t k = RG_STRATUM_CLEARED; k <= RG_STRATUM_HALTED; k++) {
        const json_t *names = json_object_get(state, state_keys[k]);
        for (size_t i = 0; i < json_array_size(names); i++) {
            const char *name = json_string_value(json_array_get(names, i));
            int64_t s = name ? index_of(fleet, name) : -1;
            if (s >= 0)
                atomic_store(&e->st[s], k);
        }
    }
}

int rg_strata_restore(rg_strata *s, rg_store *store, rg_fleet *fleet,
                      const rg_rollout_rec *ro, rg_err *err)
{
    int rc = 0;
    bool added;
    newest n = {0};
    pthread_mutex_lock(&s->write_mu);
    entry *e = find_or_add(s, ro->id, &added);
    if (!e) {
        rc = rg_err_set(err, RG_ENOMEM, "out of memory");
        goto cleanup;
    }
    if (!added)
        goto cleanup;
    rc = rg_store_decision_list(store, ro->id, keep_newest, &n, err);
    if (rc == 0 && n.oom)
        rc = rg_err_set(err, RG_ENOMEM, "out of memory");
    if (rc < 0)
        goto cleanup;
    json_t *ev = n.json ? json_loads(n.json, 0, NULL) : NULL;
    const json_t *state = json_object_get(ev, "strata_state");
    if (state)
        load_states(e, fleet, state);
    else if (ro->status.state == RG_RO_HALTED)
        set_all(e, RG_STRATUM_HALTED);
    else if (ro->status.state == RG_RO_COMPLETED)
        set_all(e, RG_STRATUM_CLEARED);
    json_decref(ev);
    rg_strata_settled(s, fleet, ro->id);
    rc = 1;
cleanup:
    pthread_mutex_unlock(&s->write_mu);
    free(n.json);
    return rc;
}

int rg_strata_refresh(rg_strata *s, rg_store *store, rg_fleet *fleet,
                      const rg_rollout_rec *ro, rg_err *err)
{
    newest n = {0};
    bool added;
    int rc = rg_store_decision_list(store, ro->id, keep_newest, &n, err);
    json_t *ev = rc == 0 && n.json ? json_loads(n.json, 0, NULL) : NULL;
    const json_t *state = json_object_get(ev, "strata_state");
    entry *fresh = state ? calloc(1, sizeof *fresh) : NULL;
    if (rc == 0 && (n.oom || (state && !fresh)))
        rc = rg_err_set(err, RG_ENOMEM, "out of memory");
    if (rc == 0 && fresh) {
        load_states(fresh, fleet, state);
        pthread_mutex_lock(&s->write_mu);
        entry *e = find_or_add(s, ro->id, &added);
        for (size_t i = 0; e && i < MAXS; i++)
            atomic_store(&e->st[i], atomic_load(&fresh->st[i]));
        pthread_mutex_unlock(&s->write_mu);
        rg_strata_settled(s, fleet, ro->id);
    }
    json_decref(ev);
    free(fresh);
    free(n.json);
    return rc;
}

int rg_strata_get(rg_strata *s, int64_t id, uint32_t stratum)
{
    int out = -1;
    pthread_rwlock_rdlock(&s->lock);
    entry *e = find(s, id);
    if (e)
        out = stratum < MAXS ? atomic_load(&e->st[stratum]) : RG_STRATUM_OPEN;
    pthread_rwlock_unlock(&s->lock);
    return out;
}

bool rg_strata_update(rg_strata *s, rg_fleet *fleet, int64_t id,
                      const json_t *gate_evidence, bool halt)
{
    bool added, changed = false, any_halted = false;
    const json_t *list = json_object_get(gate_evidence, "strata");
    pthread_mutex_lock(&s->write_mu);
    entry *e = find_or_add(s, id, &added);
    for (size_t i = 0; e && i < json_array_size(list); i++) {
        const json_t *o = json_array_get(list, i);
        const char *name = json_string_value(json_object_get(o, "name"));
        int64_t k = name ? index_of(fleet, name) : -1;
        if (k < 0)
            continue;
        uint8_t from = atomic_load(&e->st[k]);
        uint8_t to = (uint8_t)rg_resolve_next_state(
            from, json_string_value(json_object_get(o, "verdict")));
        changed |= atomic_exchange(&e->st[k], to) != to;
    }
    for (size_t i = 0; e && halt && i < MAXS && !any_halted; i++)
        any_halted = atomic_load(&e->st[i]) == RG_STRATUM_HALTED;
    if (e && halt && !any_halted) {
        set_all(e, RG_STRATUM_HALTED);
        changed = true;
    }
    pthread_mutex_unlock(&s->write_mu);
    return changed;
}

bool rg_strata_release_holds(rg_strata *s, int64_t id)
{
    bool any = false;
    pthread_mutex_lock(&s->write_mu);
    pthread_rwlock_rdlock(&s->lock);
    entry *e = find(s, id);
    for (size_t i = 0; e && i < MAXS; i++) {
        uint8_t held = RG_STRATUM_HELD;
        any |=
            atomic_compare_exchange_strong(&e->st[i], &held, RG_STRATUM_OPEN);
    }
    pthread_rwlock_unlock(&s->lock);
    pthread_mutex_unlock(&s->write_mu);
    return any;
}

bool rg_strata_settled(rg_strata *s, rg_fleet *fleet, int64_t id)
{
    uint32_t n = rg_fleet_strata(fleet);
    bool all = true;
    pthread_rwlock_rdlock(&s->lock);
    entry *e = find(s, id);
    for (uint32_t i = 0; i < n && i < MAXS && all; i++)
        all = e && atomic_load(&e->st[i]) == RG_STRATUM_CLEARED;
    if (e)
        atomic_store(&e->settled, all);
    pthread_rwlock_unlock(&s->lock);
    return all && e;
}

bool rg_strata_was_settled(rg_strata *s, int64_t id)
{
    pthread_rwlock_rdlock(&s->lock);
    entry *e = find(s, id);
    bool out = e && atomic_load(&e->settled);
    pthread_rwlock_unlock(&s->lock);
    return out;
}

json_t *rg_strata_json(rg_strata *s, rg_fleet *fleet, int64_t id)
{
    json_t *out = json_pack("{s:[], s:[], s:[]}", "cleared", "held", "halted");
    uint32_t n = rg_fleet_strata(fleet);
    char name[NAME_MAX_];
    pthread_rwlock_rdlock(&s->lock);
    entry *e = find(s, id);
    for (uint32_t i = 0; out && e && i < n && i < MAXS; i++) {
        uint8_t k = atomic_load(&e->st[i]);
        if (k == RG_STRATUM_OPEN)
            continue;
        rg_fleet_stratum_name(fleet, i, name, sizeof name);
        if (name[0] &&
            json_array_append_new(json_object_get(out, state_keys[k]),
                                  json_string(name)) < 0) {
            json_decref(out);
            out = NULL;
        }
    }
    pthread_rwlock_unlock(&s->lock);
    return out;
}

void rg_strata_retain(rg_strata *s, const int64_t *ids, size_t n)
{
    pthread_mutex_lock(&s->write_mu);
    pthread_rwlock_wrlock(&s->lock);
    for (size_t i = 0; i < s->n;) {
        bool keep = false;
        for (size_t k = 0; k < n && !keep; k++)
            keep = ids[k] == s->v[i]->id;
        if (keep) {
            i++;
            continue;
        }
        free(s->v[i]);
        s->v[i] = s->v[--s->n];
    }
    pthread_rwlock_unlock(&s->lock);
    pthread_mutex_unlock(&s->write_mu);
}
