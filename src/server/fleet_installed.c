/* fleet_installed.c - see fleet_installed.h. */
#include "fleet_installed.h"

#include "fleet_tuple.h"

#include "common/name.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

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

/* The tuple rg__fleet_set_installed stores for the n entries. */
static void installed_key(rg_fleet *f, const rg_fleet_installed *in, size_t n,
                          rg__fleet_tuple *key)
{
    memset(key, 0, sizeof *key);
    size_t k = 0;
    for (size_t i = 0; i < n && k < RG_FLEET_CHANNELS; i++) {
        if (in[i].release_id <= 0 || in[i].release_id > UINT32_MAX)
            continue;
        uint8_t c = channel_index(f, in[i].channel);
        if (!c)
            continue;
        key->tag[k] = c;
        key->v[k] = (uint32_t)in[i].release_id;
        k++;
    }
}

int rg__fleet_set_installed(rg_fleet *f, rg__fleet_shard *s, rg__ep *r,
                            const rg_fleet_installed *in, size_t n)
{
    rg__fleet_tuple key;
    installed_key(f, in, n, &key);
    return rg__fleet_tuple_set(s, &r->installed, &key);
}

bool rg__fleet_same_installed(rg_fleet *f, rg__fleet_shard *s, const rg__ep *r,
                              const rg_fleet_installed *in, size_t n)
{
    rg__fleet_tuple key;
    installed_key(f, in, n, &key);
    const rg__fleet_tuple *have = rg__fleet_tuple_at(s, r->installed);
    return memcmp(key.tag, have->tag, sizeof key.tag) == 0 &&
           memcmp(key.v, have->v, sizeof key.v) == 0;
}

size_t rg__fleet_parse_installed(const char *text,
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

void rg__fleet_installed_json(rg_fleet *f, rg__fleet_shard *s, const rg__ep *r,
                              char *out)
{
    const rg__fleet_tuple *t = rg__fleet_tuple_at(s, r->installed);
    size_t len = 0;
    out[len++] = '{';
    for (size_t i = 0; i < RG_FLEET_CHANNELS; i++) {
        if (!t->tag[i])
            continue;
        int w = snprintf(out + len, RG__FLEET_INSTALLED_JSON_MAX - len,
                         "%s\"%s\":{\"release\":%u}", len > 1 ? "," : "",
                         f->ch_names[t->tag[i] - 1], t->v[i]);
        if (w < 0 || (size_t)w >= RG__FLEET_INSTALLED_JSON_MAX - len - 1)
            break;
        len += (size_t)w;
    }
    out[len++] = '}';
    out[len] = '\0';
}
