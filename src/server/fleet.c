/* fleet.c - see fleet.h: the table's lifecycle, enrollment (put) and the
 * check-in path. The table's layout is in fleet_table.h; its parts are
 * fleet_shard (storage, id index), fleet_token (token index),
 * fleet_profile (attributes, strata), fleet_installed, fleet_persist
 * (load, flush), fleet_canary, fleet_query and fleet_stats. */
#include "fleet.h"

#include "fleet_installed.h"
#include "fleet_persist.h"
#include "fleet_profile.h"
#include "fleet_shard.h"
#include "fleet_token.h"

#include "common/crypto.h"

#include <stdlib.h>
#include <string.h>

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

/* What rg_fleet_put writes into a record, read and checked first. */
typedef struct put_in {
    uint8_t tok[RG_FLEET_TOKEN_BYTES];
    uint32_t prof, sid;
    bool internal;
    size_t n_inst;
    rg_fleet_installed inst[RG_FLEET_CHANNELS];
} put_in;

/* Interns e's stored attributes into in's profile and stratum. Returns 0,
 * RG_EINVAL, RG_ENOMEM or RG_ETOOBIG. */
static int put_profile(rg_fleet *f, const rg_endpoint_rec *e, put_in *in,
                       rg_err *err)
{
    int rc = 0;
    rg_fleet_attrs *attrs = malloc(sizeof *attrs);
    json_t *aj = NULL;
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
    pthread_mutex_lock(&f->prof_mu);
    rc = rg__fleet_profile_intern(f, attrs, &in->prof, &in->internal, err);
    if (rc == 0)
        in->sid = f->profiles[in->prof].stratum_id;
    pthread_mutex_unlock(&f->prof_mu);
cleanup:
    json_decref(aj);
    free(attrs);
    return rc;
}

/* Reads and checks everything of e that goes into its record. */
static int put_read(rg_fleet *f, const rg_endpoint_rec *e, put_in *in,
                    rg_err *err)
{
    memset(in, 0, sizeof *in);
    if (!rg_fleet_id_valid(e->id))
        return rg_err_field(
            err, RG_EINVAL, "endpoint_id",
            "endpoint id '%.*s' must be 1..%d bytes of [A-Za-z0-9._:-]", 64,
            e->id, RG_EPID_MAX);
    if (rg__fleet_token_from_hex(e->token_hash, in->tok) < 0)
        return rg_err_set(err, RG_EINVAL, "endpoint '%s': bad token hash",
                          e->id);
    int rc = put_profile(f, e, in, err);
    if (rc == 0)
        in->n_inst = rg__fleet_parse_installed(e->installed_json, in->inst);
    return rc;
}

/* Writes in into record r of s (existed: r was there before; a new record
 * takes e's last-seen time and installed releases too). Returns 0 or
 * RG_ENOMEM (installed releases not kept). */
static int put_record(rg_fleet *f, rg__fleet_shard *s, rg__ep *r, bool existed,
                      const rg_endpoint_rec *e, const put_in *in)
{
    memcpy(r->token, in->tok, sizeof r->token);
    r->prof_stratum = in->prof | in->sid << RG__FLEET_PROFILE_BITS;
    r->flags = (uint8_t)((r->flags & ~RG__FLEET_F_INTERNAL) |
                         (in->internal ? RG__FLEET_F_INTERNAL : 0));
    r->enrolled = rg__t48_of(e->enrolled_ms);
    if (existed)
        return 0;
    r->last_seen = rg__t48_of(e->last_seen_ms);
    return rg__fleet_set_installed(f, s, r, in->inst, in->n_inst);
}

int rg_fleet_put(rg_fleet *f, const rg_endpoint_rec *e, rg_err *err)
{
    uint8_t old[RG__FLEET_TOKEN_KEPT];
    put_in in;
    int rc = put_read(f, e, &in, err);
    if (rc < 0)
        return rc;
    size_t len = strlen(e->id), no;
    uint32_t h = rg__fleet_id_hash(e->id, len);
    rg__fleet_shard *s = rg__fleet_shard_of(f, h, &no);
    pthread_mutex_lock(&s->mu);
    int64_t idx = rg__fleet_shard_find(s, e->id, len, h);
    bool existed = idx >= 0;
    if (!existed && (idx = rg__fleet_shard_append(s, e->id, len, h)) < 0) {
        pthread_mutex_unlock(&s->mu);
        return rg_err_set(err, RG_ENOMEM, "endpoint '%s': out of memory",
                          e->id);
    }
    rg__ep *r = rg__fleet_rec_at(s, (uint32_t)idx);
    memcpy(old, r->token, sizeof old);
    int rec_rc = put_record(f, s, r, existed, e, &in);
    pthread_mutex_unlock(&s->mu);
    if (!existed)
        atomic_fetch_add(&f->size, 1);
    if (!existed || memcmp(old, in.tok, sizeof old) != 0)
        rc = rg__fleet_tok_update(f, existed, old, in.tok,
                                  rg__fleet_make_ref(no, (uint32_t)idx));
    if (rc == 0)
        rc = rec_rc;
    if (rc < 0)
        rg_err_set(err, rc, "endpoint '%s': out of memory", e->id);
    return rc;
}

/* Records a check-in at now_ms in record idx of s (its token verified).
 * Caller holds s->mu. Returns 0 or RG_ENOMEM (nothing recorded). */
static int checkin_record(rg_fleet *f, rg__fleet_shard *s, uint32_t idx,
                          int64_t now_ms, const rg_fleet_installed *installed,
                          size_t n, rg_fleet_checkin_out *out)
{
    rg__ep *r = rg__fleet_rec_at(s, idx);
    /* A changed install is written at the next flush; a new last-seen time
     * once it enters another RG_FLEET_SEEN_MS period (every check-in of an
     * agent checking in less often), else at close. */
    bool moved = !rg__fleet_same_installed(f, s, r, installed, n);
    if (moved && rg__fleet_set_installed(f, s, r, installed, n) < 0)
        return RG_ENOMEM;
    int64_t last = rg__t48_get(r->last_seen);
    int64_t period = atomic_load(&f->seen_period_ms);
    if (period <= 0)
        period = RG_FLEET_SEEN_MS;
    if (moved || last / period != now_ms / period)
        rg__fleet_mark_dirty(s, idx);
    else
        r->flags |= RG__FLEET_F_SEEN;
    r->prev_seen = r->last_seen;
    r->last_seen = rg__t48_of(now_ms);
    out->stratum = rg__ep_stratum(r);
    out->profile = rg__ep_profile(r);
    out->internal = (r->flags & RG__FLEET_F_INTERNAL) != 0;
    return 0;
}

int rg_fleet_checkin(rg_fleet *f, const char *id,
                     const uint8_t token_hash[RG_FLEET_TOKEN_BYTES],
                     int64_t now_ms, const rg_fleet_installed *installed,
                     size_t n, rg_fleet_checkin_out *out, rg_err *err)
{
    size_t len = strlen(id);
    uint32_t h = rg__fleet_id_hash(id, len);
    size_t no;
    rg__fleet_shard *s = rg__fleet_shard_of(f, h, &no);
    bool ok = false, oom = false;
    pthread_mutex_lock(&s->mu);
    int64_t idx = rg__fleet_shard_find(s, id, len, h);
    if (idx >= 0) {
        rg__ep *r = rg__fleet_rec_at(s, (uint32_t)idx);
        if (sodium_memcmp(r->token, token_hash, sizeof r->token) == 0) {
            ok = true;
            oom = checkin_record(f, s, (uint32_t)idx, now_ms, installed, n,
                                 out) < 0;
        }
    }
    pthread_mutex_unlock(&s->mu);
    if (oom)
        return rg_err_set(err, RG_ENOMEM, "endpoint '%s': out of memory", id);
    if (ok) {
        atomic_fetch_add_explicit(&f->checkins, 1, memory_order_relaxed);
        return 0;
    }
    if (rg__fleet_tok_find(f, token_hash, NULL))
        return rg_err_set(err, RG_EFORBIDDEN,
                          "token does not belong to endpoint '%s'", id);
    return rg_err_set(err, RG_EAUTH, "unknown endpoint token");
}

int rg_fleet_token_owner(rg_fleet *f,
                         const uint8_t token_hash[RG_FLEET_TOKEN_BYTES],
                         char id_out[RG_EPID_MAX + 1], rg_err *err)
{
    if (!rg__fleet_tok_find(f, token_hash, id_out))
        return rg_err_set(err, RG_EAUTH, "unknown endpoint token");
    return 0;
}

static void fleet_free(rg_fleet *f)
{
    for (size_t i = 0; i < RG_FLEET_SHARDS; i++)
        rg__fleet_shard_release(&f->shards[i]);
    rg__fleet_profiles_release(f);
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
    rc = rg__fleet_load(f, err);
    if (rc < 0) {
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
    rg__fleet_flush_last(f); /* held-back last-seen times too */
    fleet_free(f);
}
