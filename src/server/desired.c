/* desired.c - see desired.h. */
#include "desired.h"

#include "common/json.h"
#include "common/jsonw.h"
#include "common/log.h"
#include "model/activation.h"
#include "model/bucket.h"
#include "model/plan.h"
#include "model/rollout.h"
#include "server/deltas.h"
#include "server/url_sign.h"

#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Which policies match each attribute profile (fleet.h), filled on first
 * need: chunks of PCHUNK entries, allocated and published lock-free. */
#define PCHUNK 4096u
#define PCHUNKS 256u /* profiles 0 .. PCHUNK * PCHUNKS - 1 are cached */

typedef struct pmatch {
    _Atomic uint64_t mask; /* bit i: snapshot policy i matches */
    _Atomic uint32_t known;
} pmatch;

typedef struct snapshot {
    size_t n;
    rg_desired_channel *ch;
    size_t n_pol; /* <= RG_POLICIES_MAX, in rg_policy_precedes order */
    rg_desired_policy *pol;
    _Atomic(pmatch *) pm[PCHUNKS];
} snapshot;

struct rg_desired {
    rg_server *srv;
    rg_canary *canary;
    rg_strata *strata;
    pthread_rwlock_t lock; /* guards snap (the pointer) and its reading */
    snapshot *snap;
    pthread_mutex_t reload_mu; /* one reload at a time: the last one wins */
    pthread_rwlock_t publish;  /* rollout state: commit + reload vs. report */
};

/* ------------------------------------------------------------------ */
/* the pure part                                                      */

static bool announcing(int state)
{
    return state == RG_RO_PENDING || state == RG_RO_RUNNING ||
           state == RG_RO_PAUSED || state == RG_RO_HELD;
}

/* See desired.h: when the endpoint's bucket would enter the rollout if
 * every wave passed at its minimum bake time. */
static int64_t earliest_ms(const rg_rollout_rec *ro, uint32_t bucket,
                           bool internal, int64_t now_ms, uint64_t fleet)
{
    const rg_plan *p = &ro->plan;
    const rg_rollout_status *st = &ro->status;
    size_t first;
    int64_t t;
    if (st->state == RG_RO_PENDING) {
        first = 0;
        t = now_ms;
    } else {
        size_t cur =
            (size_t)st->wave < p->n_waves ? (size_t)st->wave : p->n_waves - 1;
        int64_t base = st->state == RG_RO_PAUSED || st->state == RG_RO_HELD
                           ? now_ms
                           : st->wave_started_ms;
        t = base + p->waves[cur].min_bake_ms;
        first = cur + 1;
    }
    for (size_t w = first; w < p->n_waves; w++) {
        if (internal || rg_bucket_in(bucket, rg_plan_wave_share(p, w, fleet)))
            break;
        t += p->waves[w].min_bake_ms;
    }
    return t > now_ms ? t : now_ms;
}

void rg_desired_pick_for(const rg_desired_channel *c, const char *endpoint_id,
                         bool internal, int64_t now_ms, uint64_t fleet_size,
                         rg_desired_pick *out)
{
    memset(out, 0, sizeof *out);
    if (!c->has_rollout) {
        out->release = c->current.id ? &c->current : NULL;
        return;
    }
    const rg_rollout_rec *ro = &c->rollout;
    uint32_t bucket = rg_bucket(ro->salt, endpoint_id);
    if (rg_rollout_assigns(&ro->plan, &ro->status, bucket, internal)) {
        out->release = &c->release;
        out->rollout_id = ro->id;
        return;
    }
    out->release = c->prev.id ? &c->prev : NULL;
    if (announcing(ro->status.state)) {
        out->notice = &c->release;
        out->earliest_ms =
            earliest_ms(ro, bucket, internal, now_ms, fleet_size);
    }
}

/* The time rollout ro would complete if every wave passed at its
 * minimum bake time: no bucket is inside any share. */
static int64_t completion_ms(const rg_rollout_rec *ro, int64_t now_ms,
                             uint64_t fleet)
{
    return earliest_ms(ro, UINT32_MAX, false, now_ms, fleet);
}

void rg_desired_pick_held(const rg_desired_channel *c,
                          const rg_desired_policy *pol, int64_t now_ms,
                          uint64_t fleet_size, rg_desired_pick *out)
{
    memset(out, 0, sizeof *out);
    if (pol->mode == RG_POLICY_PIN) {
        out->release = &pol->pinned;
        return;
    }
    out->release = c->current.id ? &c->current : NULL;
    if (c->has_rollout && announcing(c->rollout.status.state) &&
        c->release.id != c->current.id) {
        out->notice = &c->release;
        out->earliest_ms = completion_ms(&c->rollout, now_ms, fleet_size);
    }
}

/* ------------------------------------------------------------------ */
/* loading                                                            */

typedef struct load_ctx {
    snapshot *snap;
    size_t cap;
    int oom;
} load_ctx;

static int load_channel(void *ctx, const rg_channel_rec *c)
{
    load_ctx *l = ctx;
    if (l->snap->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        rg_desired_channel *n = realloc(l->snap->ch, cap * sizeof *n);
        if (!n) {
            l->oom = 1;
            return 1;
        }
        l->snap->ch = n;
        l->cap = cap;
    }
    rg_desired_channel *d = &l->snap->ch[l->snap->n++];
    memset(d, 0, sizeof *d);
    d->channel = *c;
    return 0;
}

/* Rollouts arrive newest first: keep the first one of each channel. */
static int load_rollout(void *ctx, const rg_rollout_rec *r)
{
    load_ctx *l = ctx;
    for (size_t i = 0; i < l->snap->n; i++) {
        rg_desired_channel *d = &l->snap->ch[i];
        if (d->channel.id == r->channel_id && !d->has_rollout) {
            d->has_rollout = true;
            d->rollout = *r;
        }
    }
    return 0;
}

static void snapshot_free(snapshot *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < PCHUNKS; i++)
        free(atomic_load(&s->pm[i]));
    free(s->pol);
    free(s->ch);
    free(s);
}

/* Keeps policy p (its selector parsed) in l->snap; a stored selector this
 * build cannot read is skipped with a warning. */
static int load_policy(void *ctx, const rg_policy_rec *p)
{
    load_ctx *l = ctx;
    snapshot *s = l->snap;
    rg_err err;
    rg_err_clear(&err);
    if (s->n_pol == RG_POLICIES_MAX)
        return 0;
    rg_desired_policy *d = &s->pol[s->n_pol];
    json_t *v = json_loads(p->selector_json, 0, NULL);
    int rc = rg_policy_selector_parse(v, &d->sel, &err);
    json_decref(v);
    int mode = rg_policy_mode_parse(p->mode);
    if (rc < 0 || mode < 0) {
        rg_warn("policy %lld '%s': ignored: %s", (long long)p->id, p->name,
                rc < 0 ? err.msg : "unknown mode");
        return 0;
    }
    d->id = p->id;
    d->channel_id = p->channel_id;
    d->mode = mode;
    d->pinned.id = p->release_id;
    s->n_pol++;
    return 0;
}

static int cmp_policy(const void *a, const void *b)
{
    const rg_desired_policy *x = a, *y = b;
    if (rg_policy_precedes(x->mode, x->id, y->mode, y->id))
        return -1;
    return rg_policy_precedes(y->mode, y->id, x->mode, x->id) ? 1 : 0;
}

/* Check-ins send a release's signed metadata as compact JSON text
 * (write_entry): rewrite it once here as rg_json_dump writes it (what the
 * answer held when it was built with jansson); text that is not JSON is
 * dropped (sent as null). */
static void metadata_compact(rg_release_rec *r)
{
    json_t *v = json_loads(r->metadata, 0, NULL);
    char *text = v ? rg_json_dump(v) : NULL;
    json_decref(v);
    if (!v)
        r->metadata[0] = '\0';
    else if (text && strlen(text) < sizeof r->metadata)
        memcpy(r->metadata, text, strlen(text) + 1);
    free(text);
}

static int release_get(rg_store *st, int64_t id, rg_release_rec *out,
                       rg_err *err)
{
    memset(out, 0, sizeof *out);
    if (id == 0)
        return 0;
    int rc = rg_store_release_get(st, id, out, err);
    if (rc == 0 && out->metadata[0])
        metadata_compact(out);
    return rc;
}

static int snapshot_load(rg_store *st, snapshot **out, rg_err *err)
{
    int rc = 0;
    load_ctx l = {0};
    l.snap = calloc(1, sizeof *l.snap);
    if (!l.snap)
        return rg_err_set(err, RG_ENOMEM, "out of memory loading channels");
    l.snap->pol = calloc(RG_POLICIES_MAX, sizeof *l.snap->pol);
    if (!l.snap->pol) {
        rc = rg_err_set(err, RG_ENOMEM, "out of memory loading policies");
        goto cleanup;
    }
    rc = rg_store_channel_list(st, load_channel, &l, err);
    if (rc == 0)
        rc = rg_store_rollout_list(st, false, load_rollout, &l, err);
    if (rc == 0)
        rc = rg_store_policy_list(st, load_policy, &l, err);
    if (l.oom) {
        rc = rg_err_set(err, RG_ENOMEM, "out of memory loading channels");
        goto cleanup;
    }
    if (rc < 0)
        goto cleanup;
    for (size_t i = 0; i < l.snap->n && rc == 0; i++) {
        rg_desired_channel *d = &l.snap->ch[i];
        rc = release_get(st, d->channel.current_release_id, &d->current, err);
        if (rc == 0 && d->has_rollout)
            rc = release_get(st, d->rollout.release_id, &d->release, err);
        if (rc == 0 && d->has_rollout)
            rc = release_get(st, d->rollout.prev_release_id, &d->prev, err);
    }
    for (size_t i = 0; i < l.snap->n_pol && rc == 0; i++) {
        rg_desired_policy *p = &l.snap->pol[i];
        if (p->mode == RG_POLICY_PIN)
            rc = release_get(st, p->pinned.id, &p->pinned, err);
    }
    if (l.snap->n_pol > 1)
        qsort(l.snap->pol, l.snap->n_pol, sizeof *l.snap->pol, cmp_policy);
cleanup:
    if (rc < 0) {
        snapshot_free(l.snap);
        return rc;
    }
    *out = l.snap;
    return 0;
}

/* Loads the strata states of snapshot s's rollouts (strata.h) and forgets
 * those of rollouts no channel shows any more. Without a fleet (tests)
 * there is nothing to name strata by: a no-op. */
static int strata_sync(rg_desired *d, const snapshot *s, rg_err *err)
{
    rg_fleet *f = d->srv->fleet;
    int64_t *ids = f ? malloc((s->n + 1) * sizeof *ids) : NULL;
    size_t n = 0;
    int rc = 0;
    if (f && !ids)
        return rg_err_set(err, RG_ENOMEM, "out of memory");
    for (size_t i = 0; f && i < s->n && rc == 0; i++) {
        if (!s->ch[i].has_rollout)
            continue;
        const rg_rollout_rec *ro = &s->ch[i].rollout;
        ids[n++] = ro->id;
        rc = rg_strata_restore(d->strata, d->srv->store, f, ro, err);
        /* First sight of a rollout nothing measures before check-ins are
         * answered: who it admitted, and keeps (rg_rollout_keeps: an
         * aborted one too), comes back from the stored events. */
        if (rc == 1 && (ro->status.state == RG_RO_HALTED ||
                        ro->status.state == RG_RO_ABORTED ||
                        ro->status.state == RG_RO_COMPLETED))
            rc = rg_canary_rebuild(d->srv, ro, err);
        rc = rc > 0 ? 0 : rc;
    }
    if (f && rc == 0)
        rg_strata_retain(d->strata, ids, n);
    free(ids);
    return rc;
}

int rg_desired_reload(rg_desired *d, rg_err *err)
{
    snapshot *s = NULL, *old;
    pthread_mutex_lock(&d->reload_mu);
    int rc = snapshot_load(d->srv->store, &s, err);
    if (rc == 0 && (rc = strata_sync(d, s, err)) < 0)
        snapshot_free(s);
    if (rc == 0) {
        pthread_rwlock_wrlock(&d->lock);
        old = d->snap;
        d->snap = s;
        pthread_rwlock_unlock(&d->lock);
        snapshot_free(old);
    }
    pthread_mutex_unlock(&d->reload_mu);
    return rc;
}

int rg_desired_open(rg_server *srv, rg_desired **out, rg_err *err)
{
    *out = NULL;
    rg_desired *d = calloc(1, sizeof *d);
    if (!d)
        return rg_err_set(err, RG_ENOMEM,
                          "out of memory creating the desired state");
    d->srv = srv;
    pthread_rwlock_init(&d->lock, NULL);
    pthread_rwlock_init(&d->publish, NULL);
    pthread_mutex_init(&d->reload_mu, NULL);
    int rc = rg_canary_new(&d->canary, err);
    if (rc == 0)
        rc = rg_strata_new(&d->strata, err);
    if (rc == 0)
        rc = rg_desired_reload(d, err);
    if (rc < 0) {
        rg_desired_close(d);
        return rc;
    }
    *out = d;
    return 0;
}

void rg_desired_close(rg_desired *d)
{
    if (!d)
        return;
    snapshot_free(d->snap);
    rg_canary_free(d->canary);
    rg_strata_free(d->strata);
    pthread_rwlock_destroy(&d->lock);
    pthread_rwlock_destroy(&d->publish);
    pthread_mutex_destroy(&d->reload_mu);
    free(d);
}

void rg_desired_publish_begin(rg_desired *d)
{
    if (d)
        pthread_rwlock_wrlock(&d->publish);
}

void rg_desired_publish_end(rg_desired *d)
{
    if (d)
        pthread_rwlock_unlock(&d->publish);
}

void rg_desired_observe_begin(rg_desired *d)
{
    if (d)
        pthread_rwlock_rdlock(&d->publish);
}

void rg_desired_observe_end(rg_desired *d)
{
    if (d)
        pthread_rwlock_unlock(&d->publish);
}

int rg_server_state_changed(rg_server *srv, rg_err *err)
{
    if (!srv->desired)
        return 0;
    return rg_desired_reload(srv->desired, err);
}

/* ------------------------------------------------------------------ */
/* answering                                                          */

/* Writes the URL artifact sha is offered at into url: the public route
 * on a public channel (is_public), signed (url_sign.h) when the server has
 * a signed-URL window, else the endpoint token's route. */
static void artifact_url(const rg_server *srv, bool is_public, const char *sha,
                         int64_t now_ms, char url[RG_SIGNED_URL_MAX])
{
    unsigned window = srv->cfg.signed_url_window_s;
    if (is_public)
        snprintf(url, RG_SIGNED_URL_MAX, "/v1/public/artifacts/%.64s", sha);
    else if (window)
        rg_url_sign(srv->url_key, sha, rg_url_expiry(now_ms / 1000, window),
                    url);
    else
        snprintf(url, RG_SIGNED_URL_MAX, "/v1/agent/artifacts/%.64s", sha);
}

/* What one desired entry says: the release, where its bytes are, and
 * the delta to it from what the endpoint has (NULL: none). */
typedef struct entry {
    const char *channel;
    const rg_release_rec *r;
    int64_t rollout_id;
    const char *url;
    const rg_delta_rec *delta;
    const char *delta_url;
} entry;

/* Appends `,"delta":{...}` for e's delta. */
static int write_delta(rg_buf *b, const entry *e)
{
    int rc = rg_buf_adds(b, ",\"delta\":{\"base\":");
    if (rc == 0)
        rc = rg_jsonw_str(b, e->delta->base);
    if (rc == 0)
        rc = rg_buf_adds(b, ",\"sha256\":");
    if (rc == 0)
        rc = rg_jsonw_str(b, e->delta->sha256);
    if (rc == 0)
        rc = rg_buf_adds(b, ",\"size\":");
    if (rc == 0)
        rc = rg_jsonw_int(b, (int64_t)e->delta->size);
    if (rc == 0)
        rc = rg_buf_adds(b, ",\"url\":");
    if (rc == 0)
        rc = rg_jsonw_str(b, e->delta_url);
    if (rc == 0)
        rc = rg_buf_adds(b, "}");
    return rc;
}

/* Appends `"channel":{entry}` to b (after a comma unless first). */
static int write_entry(rg_buf *b, bool first, const entry *e)
{
    const rg_release_rec *r = e->r;
    int64_t rollout_id = e->rollout_id;
    int rc = first ? 0 : rg_buf_add(b, ",", 1);
    if (rc == 0)
        rc = rg_jsonw_str(b, e->channel);
    if (rc == 0)
        rc = rg_buf_adds(b, ":{\"release\":");
    if (rc == 0)
        rc = rg_jsonw_int(b, r->id);
    if (rc == 0)
        rc = rg_buf_adds(b, ",\"version\":");
    if (rc == 0)
        rc = rg_jsonw_int(b, r->version);
    if (rc == 0)
        rc = rg_buf_adds(b, ",\"sha256\":");
    if (rc == 0)
        rc = rg_jsonw_str(b, r->sha256);
    if (rc == 0)
        rc = rg_buf_adds(b, ",\"size\":");
    if (rc == 0)
        rc = rg_jsonw_int(b, r->size);
    if (rc == 0)
        rc = rg_buf_adds(b, ",\"url\":");
    if (rc == 0)
        rc = rg_jsonw_str(b, e->url);
    if (rc == 0 && e->delta)
        rc = write_delta(b, e);
    if (rc == 0)
        rc = rg_buf_adds(b, ",\"rollout\":");
    if (rc == 0)
        rc = rollout_id ? rg_jsonw_int(b, rollout_id) : rg_buf_adds(b, "null");
    /* The release's signed metadata, verbatim (compacted at load): the
     * agent verifies it (docs/signing.md); null for an unsigned release. */
    if (rc == 0)
        rc = rg_buf_adds(b, ",\"metadata\":");
    if (rc == 0)
        rc = rg_buf_adds(b, r->metadata[0] ? r->metadata : "null");
    /* Only when an operator lifted the release's quarantine: an agent
     * that quarantined its digest applies it again (docs/agent.md). */
    if (rc == 0 && r->quarantine_lifted_ms)
        rc = rg_buf_adds(b, ",\"lift_quarantine\":true");
    /* How it activates (model/activation.h): the agent knows how long
     * applying -> healthy may take. */
    if (rc == 0)
        rc = rg_buf_adds(b, ",\"activation\":{\"kind\":");
    if (rc == 0)
        rc = rg_jsonw_str(b, rg_activation_name(r->activation));
    if (rc == 0)
        rc = rg_buf_adds(b, ",\"max_s\":");
    if (rc == 0)
        rc = rg_jsonw_int(b, r->activation_max_ms / 1000);
    if (rc == 0)
        rc = rg_buf_adds(b, "}}");
    return rc;
}

/* Appends the notice of pick p on channel c to b (after a comma unless
 * first). */
static int write_notice(rg_buf *b, bool first, const rg_desired_channel *c,
                        const rg_desired_pick *p)
{
    const rg_release_rec *r = p->notice;
    int rc = first ? 0 : rg_buf_add(b, ",", 1);
    if (rc == 0)
        rc = rg_buf_adds(b, "{\"channel\":");
    if (rc == 0)
        rc = rg_jsonw_str(b, c->channel.name);
    if (rc == 0)
        rc = rg_buf_adds(b, ",\"release\":");
    if (rc == 0)
        rc = rg_jsonw_int(b, r->id);
    if (rc == 0)
        rc = rg_buf_adds(b, ",\"version\":");
    if (rc == 0)
        rc = rg_jsonw_int(b, r->version);
    if (rc == 0)
        rc = rg_buf_adds(b, ",\"notes\":");
    if (rc == 0)
        rc = rg_jsonw_str(b, r->notes);
    if (rc == 0)
        rc = rg_buf_adds(b, ",\"urgency\":");
    if (rc == 0)
        rc = rg_jsonw_str(b, r->urgency);
    if (rc == 0)
        rc = rg_buf_adds(b, ",\"earliest_ms\":");
    if (rc == 0)
        rc = rg_jsonw_int(b, p->earliest_ms);
    if (rc == 0)
        rc = rg_buf_adds(b, ",\"rollout\":");
    if (rc == 0)
        rc = rg_jsonw_int(b, c->rollout.id);
    if (rc == 0)
        rc = rg_buf_add(b, "}", 1);
    return rc;
}

rg_canary *rg_desired_canary(rg_desired *d)
{
    return d->canary;
}

rg_strata *rg_desired_strata(rg_desired *d)
{
    return d->strata;
}

/* The channels' latest rollouts (completed ones only, or all) into a
 * malloc'd array. */
static int collect_rollouts(rg_desired *d, bool completed_only,
                            rg_rollout_rec **out, size_t *n, rg_err *err)
{
    int rc = 0;
    *out = NULL;
    *n = 0;
    pthread_rwlock_rdlock(&d->lock);
    const snapshot *s = d->snap;
    for (size_t i = 0; i < s->n && rc == 0; i++) {
        const rg_desired_channel *c = &s->ch[i];
        if (!c->has_rollout ||
            (completed_only && c->rollout.status.state != RG_RO_COMPLETED))
            continue;
        if (!*out && !(*out = malloc(s->n * sizeof **out)))
            rc = rg_err_set(err, RG_ENOMEM, "out of memory");
        else
            (*out)[(*n)++] = c->rollout;
    }
    pthread_rwlock_unlock(&d->lock);
    return rc;
}

int rg_desired_watched(rg_desired *d, rg_rollout_rec **out, size_t *n,
                       rg_err *err)
{
    return collect_rollouts(d, true, out, n, err);
}

int rg_desired_rollouts(rg_desired *d, rg_rollout_rec **out, size_t *n,
                        rg_err *err)
{
    return collect_rollouts(d, false, out, n, err);
}

/* The mask of snapshot s's policies that match attribute profile p of f
 * (computed from the profile's attributes on first need, then cached in
 * s). An unknown profile matches nothing. */
static uint64_t profile_mask(snapshot *s, rg_fleet *f, uint32_t p)
{
    uint64_t m = 0;
    bool ok = false;
    char *json = NULL;
    rg_fleet_attrs *a = NULL;
    pmatch *chunk = NULL, *e = NULL;
    if (s->n_pol == 0)
        return 0;
    if (p / PCHUNK < PCHUNKS) {
        _Atomic(pmatch *) *slot = &s->pm[p / PCHUNK];
        chunk = atomic_load(slot);
        if (!chunk) {
            pmatch *fresh = calloc(PCHUNK, sizeof *fresh);
            pmatch *expect = NULL;
            if (fresh && atomic_compare_exchange_strong(slot, &expect, fresh))
                chunk = fresh;
            else {
                free(fresh);
                chunk = expect;
            }
        }
        e = chunk ? &chunk[p % PCHUNK] : NULL;
    }
    if (e && atomic_load(&e->known))
        return atomic_load(&e->mask);
    json = malloc(RG_ATTRS_MAX + 1);
    a = malloc(sizeof *a);
    if (!json || !a)
        goto cleanup;
    rg_fleet_profile_json(f, p, json, RG_ATTRS_MAX + 1);
    json_t *v = json[0] ? json_loads(json, 0, NULL) : NULL;
    if (v && rg_fleet_attrs_from_json(v, a, NULL) == 0) {
        ok = true;
        for (size_t i = 0; i < s->n_pol; i++)
            if (rg_policy_matches(&s->pol[i].sel, a))
                m |= UINT64_C(1) << i;
    }
    json_decref(v);
    if (e && ok) {
        atomic_store(&e->mask, m);
        atomic_store(&e->known, 1);
    }
cleanup:
    free(json);
    free(a);
    return m;
}

/* The policy holding endpoints of profile p on channel_id, or NULL. */
static const rg_desired_policy *policy_for(snapshot *s, rg_fleet *f, uint32_t p,
                                           int64_t channel_id)
{
    for (uint64_t m = profile_mask(s, f, p); m; m &= m - 1) {
        const rg_desired_policy *pol = &s->pol[__builtin_ctzll(m)];
        if (pol->channel_id == channel_id)
            return pol;
    }
    return NULL;
}

int rg_desired_held(rg_desired *d, rg_fleet *f, int64_t channel_id,
                    uint8_t **held, uint32_t *n, rg_err *err)
{
    int rc = 0;
    *held = NULL;
    *n = 0;
    pthread_rwlock_rdlock(&d->lock);
    snapshot *s = d->snap;
    bool any = false;
    for (size_t i = 0; i < s->n_pol && !any; i++)
        any = s->pol[i].channel_id == channel_id;
    uint32_t np = any ? rg_fleet_profiles(f) : 0;
    if (np) {
        *held = calloc(np, 1);
        if (!*held)
            rc = rg_err_set(err, RG_ENOMEM, "out of memory matching policies");
        for (uint32_t p = 0; p < np && rc == 0; p++)
            (*held)[p] = policy_for(s, f, p, channel_id) != NULL;
        if (rc == 0)
            *n = np;
    }
    pthread_rwlock_unlock(&d->lock);
    return rc;
}

/* Whether the check-in path may assign ro's release to one more endpoint
 * of stratum state sst (rg_strata_get; -1 unknown: open) now: while ro
 * runs, or after it completed; never to a halted stratum; after
 * completion a cleared stratum without a budget, any other (open, held:
 * no healthy evidence) within it. */
static bool admits(rg_desired *d, const rg_rollout_rec *ro, int sst,
                   const rg_fleet_view *v)
{
    int state = ro->status.state;
    if ((state != RG_RO_RUNNING && state != RG_RO_COMPLETED) ||
        sst == RG_STRATUM_HALTED)
        return false;
    if (state == RG_RO_COMPLETED && sst == RG_STRATUM_CLEARED)
        return true;
    return rg_canary_admit(d->canary, ro, v->stratum,
                           rg_bucket(ro->salt, v->id), v->internal);
}

/* Applies exposure control (desired.h) to p, the pure pick of endpoint
 * (view v, in fleet f) on channel c. */
static void control_exposure(rg_desired *d, rg_fleet *f,
                             const rg_desired_channel *c,
                             const rg_fleet_view *v, rg_desired_pick *p)
{
    const rg_rollout_rec *ro = &c->rollout;
    int state = ro->status.state;
    if (!c->has_rollout || state == RG_RO_PENDING)
        return;
    const rg_fleet_canary *cn = rg_fleet_canary_of(v, ro->release_id);
    int sst = rg_strata_get(d->strata, ro->id, v->stratum);
    const rg_release_rec *prev = c->prev.id ? &c->prev : NULL;
    /* Completed with every stratum cleared: the gate watches no more and
     * the pure pick (everyone) stands; no canary slot is taken, so slots
     * stay free for the rollouts that can still halt. */
    if (state == RG_RO_COMPLETED && sst == RG_STRATUM_CLEARED &&
        rg_strata_was_settled(d->strata, ro->id))
        return;
    if (!rg_rollout_keeps(&ro->plan, &ro->status,
                          sst < 0 || sst == RG_STRATUM_HALTED)) {
        p->release = prev; /* reverted: the previous release, no notice */
        p->rollout_id = 0;
        p->notice = NULL;
        return;
    }
    /* Admitted endpoints keep the release, those the stratified floor let
     * in from outside the rollout's share included; the floor can admit
     * one the pure pick leaves out. */
    bool inside = p->release == &c->release;
    if (rg_canary_holds(d->canary, ro, cn) ||
        (admits(d, ro, sst, v) &&
         rg_fleet_canary_set(f, v->id, ro->release_id, RG_CN_ASSIGNED, NULL) ==
             0)) {
        p->release = &c->release;
        p->rollout_id = ro->id;
        p->notice = NULL;
        p->earliest_ms = 0;
        return;
    }
    if (!inside)
        return; /* previous, with the pure pick's notice */
    p->release = prev;
    p->rollout_id = 0;
    if (announcing(state) || state == RG_RO_COMPLETED) {
        p->notice = &c->release;
        p->earliest_ms = 0;
    }
}

/* The digest have says the endpoint has on channel, or NULL. */
static const char *have_on(const rg_desired_have *have, size_t n_have,
                           const char *channel)
{
    for (size_t i = 0; i < n_have; i++)
        if (have[i].sha256 && strcmp(have[i].channel, channel) == 0)
            return have[i].sha256;
    return NULL;
}

/* Appends channel c's entry for pick p, with a delta from what the
 * endpoint has when there is one. */
static int write_release(rg_desired *d, rg_buf *b, bool first,
                         const rg_desired_channel *c, const rg_desired_pick *p,
                         const rg_desired_have *have, size_t n_have,
                         int64_t now_ms)
{
    char url[RG_SIGNED_URL_MAX], durl[RG_SIGNED_URL_MAX];
    const char *base = have_on(have, n_have, c->channel.name);
    rg_delta_rec delta;
    entry e = {c->channel.name, p->release, p->rollout_id, url, NULL, durl};
    artifact_url(d->srv, c->channel.is_public, p->release->sha256, now_ms, url);
    if (base && strcmp(base, p->release->sha256) != 0 &&
        rg_deltas_find(d->srv, p->release->sha256, base, &delta)) {
        e.delta = &delta;
        artifact_url(d->srv, c->channel.is_public, delta.sha256, now_ms, durl);
    }
    return write_entry(b, first, &e);
}

/* Appends endpoint_id's desired entries to desired and its notices to
 * notices (see rg_desired_write_checkin); offer (may be NULL) is told each
 * desired release; have (n_have entries, may be NULL) is what the endpoint
 * says it has. fleet and v NULL: no exposure control, no policies. */
static int for_endpoint(rg_desired *d, rg_fleet *f, const char *endpoint_id,
                        bool internal, const rg_fleet_view *v,
                        const rg_desired_have *have, size_t n_have,
                        int64_t now_ms, uint64_t fleet_size, rg_buf *desired,
                        rg_buf *notices, rg_desired_offer offer, void *ctx,
                        rg_err *err)
{
    int rc = 0;
    size_t n_desired = 0, n_notices = 0;
    pthread_rwlock_rdlock(&d->lock);
    snapshot *s = d->snap;
    for (size_t i = 0; i < s->n && rc == 0; i++) {
        const rg_desired_channel *c = &s->ch[i];
        rg_desired_pick p;
        const rg_desired_policy *pol =
            f && v && s->n_pol ? policy_for(s, f, v->profile, c->channel.id)
                               : NULL;
        if (pol)
            rg_desired_pick_held(c, pol, now_ms, fleet_size, &p);
        else
            rg_desired_pick_for(c, endpoint_id, internal, now_ms, fleet_size,
                                &p);
        if (f && v && !pol) {
            control_exposure(d, f, c, v, &p);
            if (p.notice && p.earliest_ms < now_ms)
                p.earliest_ms = now_ms;
        }
        if (p.release) {
            rc = write_release(d, desired, n_desired++ == 0, c, &p, have,
                               n_have, now_ms);
            if (rc < 0) {
                rg_err_set(err, rc, "desired state of '%.64s': %s", endpoint_id,
                           rg_code_name(rc));
                break;
            }
            if (offer && (rc = offer(ctx, p.release->id, err)) < 0)
                break;
        }
        if (p.notice &&
            (rc = write_notice(notices, n_notices++ == 0, c, &p)) < 0)
            rg_err_set(err, rc, "notices of '%.64s': %s", endpoint_id,
                       rg_code_name(rc));
    }
    pthread_rwlock_unlock(&d->lock);
    return rc;
}

/* Adds the JSON text members (wrapped in open..close) in b to out, an
 * object or an array. Returns 0 or RG_ENOMEM. */
static int merge_text(const rg_buf *b, const char *open, const char *close,
                      json_t *out)
{
    rg_buf t;
    rg_buf_init(&t, SIZE_MAX / 2);
    int rc = rg_buf_adds(&t, open);
    if (rc == 0 && b->len)
        rc = rg_buf_add(&t, b->data, b->len);
    if (rc == 0)
        rc = rg_buf_adds(&t, close);
    json_t *v = rc == 0 ? json_loadb(t.data, t.len, 0, NULL) : NULL;
    if (!v || (json_is_object(out) ? json_object_update(out, v)
                                   : json_array_extend(out, v)) < 0)
        rc = RG_ENOMEM;
    json_decref(v);
    rg_buf_release(&t);
    return rc;
}

/* The JSON form of for_endpoint's text. */
static int for_endpoint_json(rg_desired *d, rg_fleet *f,
                             const char *endpoint_id, bool internal,
                             const rg_fleet_view *v, int64_t now_ms,
                             uint64_t fleet_size, json_t *desired,
                             json_t *notices, rg_err *err)
{
    rg_buf db, nb;
    rg_buf_init(&db, SIZE_MAX / 4);
    rg_buf_init(&nb, SIZE_MAX / 4);
    int rc = for_endpoint(d, f, endpoint_id, internal, v, NULL, 0, now_ms,
                          fleet_size, &db, &nb, NULL, NULL, err);
    if (rc == 0 && (merge_text(&db, "{", "}", desired) < 0 ||
                    merge_text(&nb, "[", "]", notices) < 0))
        rc = rg_err_set(err, RG_ENOMEM,
                        "out of memory building the desired state");
    rg_buf_release(&db);
    rg_buf_release(&nb);
    return rc;
}

int rg_desired_for_endpoint(rg_desired *d, const char *endpoint_id,
                            bool internal, int64_t now_ms, uint64_t fleet_size,
                            json_t *desired, json_t *notices, rg_err *err)
{
    return for_endpoint_json(d, NULL, endpoint_id, internal, NULL, now_ms,
                             fleet_size, desired, notices, err);
}

int rg_desired_for_checkin(rg_desired *d, rg_fleet *fleet,
                           const char *endpoint_id,
                           const rg_fleet_checkin_out *who, int64_t now_ms,
                           json_t *desired, json_t *notices, rg_err *err)
{
    rg_fleet_view v;
    int rc = rg_fleet_view_id(fleet, endpoint_id, &v, err);
    if (rc < 0)
        return rc;
    return for_endpoint_json(d, fleet, endpoint_id, who->internal, &v, now_ms,
                             rg_fleet_size(fleet), desired, notices, err);
}

int rg_desired_write_checkin(rg_desired *d, rg_fleet *fleet,
                             const char *endpoint_id,
                             const rg_fleet_checkin_out *who,
                             const rg_desired_have *have, size_t n_have,
                             int64_t now_ms, rg_buf *desired, rg_buf *notices,
                             rg_desired_offer offer, void *ctx, rg_err *err)
{
    rg_fleet_view v;
    int rc = rg_fleet_view_id(fleet, endpoint_id, &v, err);
    if (rc < 0)
        return rc;
    return for_endpoint(d, fleet, endpoint_id, who->internal, &v, have, n_have,
                        now_ms, rg_fleet_size(fleet), desired, notices, offer,
                        ctx, err);
}

size_t rg_desired_channels(rg_desired *d)
{
    pthread_rwlock_rdlock(&d->lock);
    size_t n = d->snap->n;
    pthread_rwlock_unlock(&d->lock);
    return n;
}
