/* fleet_installed.c - see fleet_installed.h. */
#include "fleet_installed.h"

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

void rg__fleet_set_installed(rg_fleet *f, rg__ep *r,
                             const rg_fleet_installed *in, size_t n)
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

bool rg__fleet_same_installed(rg_fleet *f, const rg__ep *r,
                              const rg_fleet_installed *in, size_t n)
{
    rg__ep tmp;
    rg__fleet_set_installed(f, &tmp, in, n);
    return memcmp(tmp.inst_ch, r->inst_ch, sizeof tmp.inst_ch) == 0 &&
           memcmp(tmp.inst_release, r->inst_release, sizeof tmp.inst_release) ==
               0;
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

void rg__fleet_installed_json(rg_fleet *f, const rg__ep *r, char *out)
{
    size_t len = 0;
    out[len++] = '{';
    for (size_t i = 0; i < RG_FLEET_CHANNELS; i++) {
        if (!r->inst_ch[i])
            continue;
        int w = snprintf(out + len, RG__FLEET_INSTALLED_JSON_MAX - len,
                         "%s\"%s\":{\"release\":%u}", len > 1 ? "," : "",
                         f->ch_names[r->inst_ch[i] - 1], r->inst_release[i]);
        if (w < 0 || (size_t)w >= RG__FLEET_INSTALLED_JSON_MAX - len - 1)
            break;
        len += (size_t)w;
    }
    out[len++] = '}';
    out[len] = '\0';
}
