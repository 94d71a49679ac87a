/* fault.c - see fault.h. */
#include "fault.h"

#include "sim/rng.h"

/* Hash salts: crash and fail keep the values sim.c used before this file
 * existed (runs of older scenarios are unchanged). */
enum { H_CRASH = 4, H_FAIL = 5, H_HANG = 0x201, H_ONSET, H_REPORT };

static bool matches(const rg_sim_fault *f, int k)
{
    return f->stratum == RG_SIM_ALL_STRATA || f->stratum == k;
}

/* The fate kind and the index of the fault that decides it, or -1. */
static int decide(const rg_scenario *sc, uint64_t seed, uint32_t i, int k,
                  int *kind)
{
    for (size_t f = 0; f < sc->n_faults; f++)
        if (matches(&sc->faults[f], k) &&
            rg_hash(seed + f, H_CRASH, i) < rg_share_thr(sc->faults[f].crash)) {
            *kind = RG_FATE_CRASH;
            return (int)f;
        }
    for (size_t f = 0; f < sc->n_faults; f++)
        if (matches(&sc->faults[f], k) &&
            rg_hash(seed + f, H_FAIL, i) < rg_share_thr(sc->faults[f].fail)) {
            *kind = RG_FATE_FAIL;
            return (int)f;
        }
    for (size_t f = 0; f < sc->n_faults; f++)
        if (matches(&sc->faults[f], k) &&
            rg_hash(seed + f, H_HANG, i) < rg_share_thr(sc->faults[f].hang)) {
            *kind = RG_FATE_HANG;
            return (int)f;
        }
    *kind = RG_FATE_OK;
    return -1;
}

rg_fate rg_fault_fate(const rg_scenario *sc, uint64_t seed, uint32_t i, int k)
{
    rg_fate out = {.kind = RG_FATE_OK, .onset_s = 0, .reported = true};
    int f = decide(sc, seed, i, k, &out.kind);
    if (f < 0)
        return out;
    const rg_sim_fault *x = &sc->faults[f];
    if (x->onset_max_s > 0)
        out.onset_s =
            x->onset_min_s +
            (int)(rg_hash(seed + (uint64_t)f, H_ONSET, i) %
                  (uint64_t)(x->onset_max_s - x->onset_min_s + 1));
    out.reported = out.kind != RG_FATE_HANG &&
                   (x->report >= 1.0 ||
                    rg_hash(seed + (uint64_t)f, H_REPORT, i) <
                        rg_share_thr(x->report));
    return out;
}

int rg_fault_max_onset(const rg_scenario *sc)
{
    int m = 0;
    for (size_t f = 0; f < sc->n_faults; f++)
        if (sc->faults[f].onset_max_s > m)
            m = sc->faults[f].onset_max_s;
    return m;
}
