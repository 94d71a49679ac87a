/* exposure.c - see exposure.h. */
#include "exposure.h"

#include "bucket.h"

void rg_exposure_params_default(rg_exposure_params *p)
{
    p->min_stratum_size = 1;
    p->min_per_stratum = 3;
    p->initial_budget = 6;
    p->growth = 4;
}

int rg_exposure_params_check(const rg_exposure_params *p, rg_err *err)
{
    if (p->min_per_stratum < 1 ||
        p->min_per_stratum > RG_EXPOSURE_MAX_PER_STRATUM)
        return rg_err_field(err, RG_EINVAL, "min_per_stratum",
                            "exposure: min_per_stratum %u must be in 1..%d",
                            p->min_per_stratum, RG_EXPOSURE_MAX_PER_STRATUM);
    if (p->initial_budget < p->min_per_stratum)
        return rg_err_field(err, RG_EINVAL, "initial_budget",
                            "exposure: initial_budget %u must be at least "
                            "min_per_stratum %u",
                            p->initial_budget, p->min_per_stratum);
    if (p->growth < 1 || p->growth > 1000)
        return rg_err_field(err, RG_EINVAL, "growth",
                            "exposure: growth %u must be in 1..1000",
                            p->growth);
    return 0;
}

int rg_exposure_first_wave(const rg_plan *plan)
{
    for (size_t i = 0; i < plan->n_waves; i++)
        if (!plan->waves[i].internal)
            return (int)i;
    return -1;
}

void rg_exposure_track_lowest(uint32_t *lowest, size_t *n, size_t k,
                              uint32_t bucket)
{
    if (k > RG_EXPOSURE_MAX_PER_STRATUM)
        k = RG_EXPOSURE_MAX_PER_STRATUM;
    if (k == 0 || (*n == k && bucket >= lowest[k - 1]))
        return;
    size_t i = *n < k ? (*n)++ : k - 1; /* slot freed at the end */
    while (i > 0 && lowest[i - 1] > bucket) {
        lowest[i] = lowest[i - 1];
        i--;
    }
    lowest[i] = bucket;
}

uint32_t rg_exposure_stratum_share(const rg_exposure_params *p,
                                   const rg_plan *plan, int wave,
                                   uint32_t share_ppm, uint64_t stratum_size,
                                   const uint32_t *lowest, size_t n_lowest)
{
    int first = rg_exposure_first_wave(plan);
    size_t k = p->min_per_stratum;
    if (first < 0 || wave < first || stratum_size < p->min_stratum_size ||
        k == 0 || n_lowest == 0)
        return share_ppm;
    uint32_t floor = lowest[(n_lowest < k ? n_lowest : k) - 1] + 1;
    if (floor > RG_PPM)
        floor = RG_PPM;
    return floor > share_ppm ? floor : share_ppm;
}

bool rg_exposure_grows(int64_t grow_after_ms, int64_t healthy_ms, bool failed,
                       int64_t now_ms)
{
    return healthy_ms > 0 && !failed && now_ms - healthy_ms >= grow_after_ms;
}

uint64_t rg_exposure_budget(const rg_exposure_params *p, uint64_t healthy)
{
    if (p->growth > 0 && healthy > (UINT64_MAX - p->initial_budget) / p->growth)
        return UINT64_MAX;
    return p->initial_budget + (uint64_t)p->growth * healthy;
}

bool rg_exposure_admits(const rg_exposure_params *p, uint64_t assigned,
                        uint64_t healthy)
{
    return assigned < rg_exposure_budget(p, healthy);
}
