/* fleet_remote.c - see fleet.h, "Several nodes": what other nodes sharing
 * the database tell this node's fleet table. */
#include "server/fleet.h"
#include "server/fleet_shard.h"
#include "server/fleet_installed.h"
#include "server/fleet_table.h"
#include "server/fleet_token.h"

#include <string.h>

void rg_fleet_seen_period(rg_fleet *f, int64_t period_ms)
{
    atomic_store(&f->seen_period_ms, period_ms);
}

/* Takes e's last-seen time and installed releases into the record of
 * e->id when it has e's token. Returns 1 when it did (or the time was not
 * newer), 0 when the table does not know the endpoint with that token. */
static int take_seen(rg_fleet *f, const rg_endpoint_rec *e,
                     const uint8_t tok[RG_FLEET_TOKEN_BYTES])
{
    rg_fleet_installed in[RG_FLEET_CHANNELS];
    size_t n_in = rg__fleet_parse_installed(e->installed_json, in);
    size_t len = strlen(e->id), no;
    uint32_t h = rg__fleet_id_hash(e->id, len);
    rg__fleet_shard *s = rg__fleet_shard_of(f, h, &no);
    int known = 0;
    pthread_mutex_lock(&s->mu);
    int64_t idx = rg__fleet_shard_find(s, e->id, len, h);
    rg__ep *r = idx >= 0 ? rg__fleet_rec_at(s, (uint32_t)idx) : NULL;
    if (r && memcmp(r->token, tok, sizeof r->token) == 0) {
        known = 1;
        if (e->last_seen_ms > rg__t48_get(r->last_seen)) {
            r->prev_seen = r->last_seen;
            r->last_seen = rg__t48_of(e->last_seen_ms);
            rg__fleet_set_installed(f, s, r, in, n_in);
        }
    }
    pthread_mutex_unlock(&s->mu);
    return known;
}

int rg_fleet_remote_seen(rg_fleet *f, const rg_endpoint_rec *e, rg_err *err)
{
    uint8_t tok[RG_FLEET_TOKEN_BYTES];
    if (rg__fleet_token_from_hex(e->token_hash, tok) < 0)
        return rg_err_set(err, RG_EINVAL, "endpoint '%s': bad token hash",
                          e->id);
    if (take_seen(f, e, tok))
        return 0;
    int rc = rg_fleet_put(f, e, err);
    if (rc == 0)
        take_seen(f, e, tok);
    return rc;
}
