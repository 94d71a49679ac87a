/* fleetmodel.c - see fleetmodel.h. */
#include "fleetmodel.h"

#include "sim/rng.h"

#define DAY_S INT64_C(86400)

/* Hash salts (sim.c's are below 0x100). */
enum {
    H_OFFLINE_PHASE = 1,
    H_OFFLINE = 2,
    H_OUTAGE = 3,
    H_SLEEPER = 0x101,
    H_SLEEP_AT,
    H_SLEEP_LEN,
    H_FLAPPER,
    H_FLAP_PHASE,
    H_FLAP_AT,
    H_FLAP_LEN,
    H_AWAY,
    H_AWAY_AT,
    H_AWAY_LEN,
    H_DUE,
    H_JITTER,
};

void rg_fleetmodel_init(rg_fleetmodel *m, const rg_scenario *sc,
                        uint64_t seed, int64_t T0)
{
    m->sc = sc;
    m->seed = seed;
    m->T0 = T0;
    for (size_t k = 0; k < sc->n_strata; k++) {
        m->loss_thr[k] = rg_share_thr(sc->stratum_loss[k]);
        m->every[k] = sc->stratum_interval_s[k] / sc->interval_s;
    }
    m->offline_thr = rg_share_thr(sc->offline_share);
    m->sleep_thr = rg_share_thr(sc->sleep.share);
    m->flap_thr = rg_share_thr(sc->flaps.share);
    m->away_thr = rg_share_thr(sc->long_offline.share);
    for (size_t o = 0; o < sc->n_outages; o++)
        m->outage_thr[o] = rg_share_thr(sc->outages[o].share);
}

/* A uniform draw in [lo, hi] from 64 hashed bits. */
static int64_t pick(uint64_t h, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(h % (uint64_t)(hi - lo + 1));
}

static int64_t mod(int64_t a, int64_t b)
{
    return ((a % b) + b) % b;
}

static bool in_stretch(const rg_fleetmodel *m, uint32_t i, int64_t T)
{
    uint64_t E = (uint64_t)m->sc->offline_stretch_s;
    uint64_t phase = rg_hash(m->seed, H_OFFLINE_PHASE, i) % E;
    uint64_t stretch = ((uint64_t)T + phase) / E;
    return rg_hash(m->seed ^ stretch * 0x9e3779b97f4a7c15ull, H_OFFLINE, i) <
           m->offline_thr;
}

static bool in_outage(const rg_fleetmodel *m, uint32_t i, int k, bool exposed,
                      int64_t t)
{
    const rg_scenario *sc = m->sc;
    for (size_t o = 0; o < sc->n_outages; o++) {
        const rg_sim_outage *out = &sc->outages[o];
        if (t < out->start_s || t >= out->start_s + out->duration_s)
            continue;
        if (out->stratum != RG_SIM_ALL_STRATA && out->stratum != k)
            continue;
        if (out->exposed_only && !exposed)
            continue;
        if (rg_hash(m->seed + o, H_OUTAGE, i) < m->outage_thr[o])
            return true;
    }
    return false;
}

static bool asleep(const rg_fleetmodel *m, uint32_t i, int64_t t)
{
    const rg_sim_sleep *z = &m->sc->sleep;
    if (rg_hash(m->seed, H_SLEEPER, i) >= m->sleep_thr)
        return false;
    int64_t at = pick(rg_hash(m->seed, H_SLEEP_AT, i), z->start_min_h * 3600,
                      z->start_max_h * 3600);
    int64_t len = pick(rg_hash(m->seed, H_SLEEP_LEN, i), z->min_h * 3600,
                       z->max_h * 3600);
    return mod(t + z->clock_h * 3600 - at, DAY_S) < len;
}

static bool flapping(const rg_fleetmodel *m, uint32_t i, int64_t T)
{
    const rg_sim_flaps *f = &m->sc->flaps;
    if (rg_hash(m->seed, H_FLAPPER, i) >= m->flap_thr)
        return false;
    int64_t L = 3600 / f->per_hour;
    int64_t u = T + (int64_t)(rg_hash(m->seed, H_FLAP_PHASE, i) % (uint64_t)L);
    for (int64_t slot = u / L - 1; slot <= u / L; slot++) {
        uint64_t salt = m->seed ^ (uint64_t)slot * 0x9e3779b97f4a7c15ull;
        int64_t at = slot * L + pick(rg_hash(salt, H_FLAP_AT, i), 0, L - 1);
        int64_t len = pick(rg_hash(salt, H_FLAP_LEN, i), f->min_s, f->max_s);
        if (u >= at && u < at + len)
            return true;
    }
    return false;
}

static bool away(const rg_fleetmodel *m, uint32_t i, int64_t t)
{
    const rg_sim_long_offline *l = &m->sc->long_offline;
    if (rg_hash(m->seed, H_AWAY, i) >= m->away_thr)
        return false;
    int64_t before = l->max_days * DAY_S;
    int64_t at = pick(rg_hash(m->seed, H_AWAY_AT, i), -before,
                      m->sc->duration_s);
    int64_t len = pick(rg_hash(m->seed, H_AWAY_LEN, i), l->min_days * DAY_S,
                       l->max_days * DAY_S);
    return t >= at && t < at + len;
}

bool rg_fleetmodel_online(const rg_fleetmodel *m, uint32_t i, int k,
                          bool exposed, int64_t T)
{
    int64_t t = T - m->T0;
    if (rg_fleetmodel_server_down(m, T))
        return false;
    if (m->offline_thr && in_stretch(m, i, T))
        return false;
    if (m->sc->n_outages && in_outage(m, i, k, exposed, t))
        return false;
    if (m->sleep_thr && asleep(m, i, t))
        return false;
    if (m->flap_thr && flapping(m, i, T))
        return false;
    return !(m->away_thr && away(m, i, t));
}

bool rg_fleetmodel_due(const rg_fleetmodel *m, uint32_t i, int k, int64_t T)
{
    int n = m->every[k];
    if (n <= 1)
        return true;
    uint64_t visit = (uint64_t)T / (uint64_t)m->sc->interval_s;
    return (visit + rg_hash(m->seed, H_DUE, i)) % (uint64_t)n == 0;
}

int64_t rg_fleetmodel_jitter(const rg_fleetmodel *m, uint32_t i, int64_t T)
{
    if (m->sc->jitter_s == 0)
        return 0;
    return pick(rg_hash(m->seed ^ (uint64_t)T, H_JITTER, i), 0,
                m->sc->jitter_s);
}

int rg_fleetmodel_interval(const rg_fleetmodel *m, int k)
{
    return m->sc->stratum_interval_s[k];
}

bool rg_fleetmodel_server_down(const rg_fleetmodel *m, int64_t T)
{
    const rg_sim_restart *r = &m->sc->restart;
    int64_t t = T - m->T0;
    return r->at_s != RG_SIM_NEVER && t >= r->at_s && t < r->at_s + r->down_s;
}

bool rg_fleetmodel_server_back(const rg_fleetmodel *m, int64_t T)
{
    const rg_sim_restart *r = &m->sc->restart;
    return r->at_s != RG_SIM_NEVER && T - m->T0 == r->at_s + r->down_s;
}
