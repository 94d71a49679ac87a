/* share.c - see share.h. */
#include "share.h"

#include "flags/bucket.h"
#include "model/bucket.h"

uint32_t rg_flag_share_bucket(const char *group, const char *endpoint_id)
{
    uint32_t h = rg_flag_bucket(group, endpoint_id, RG_FLAG_STRATEGY_SEED, 100);
    return (h - 1) * RG_FLAG_SHARE_STEP_PPM;
}

uint32_t rg_flag_share_percent(uint32_t share_ppm)
{
    if (share_ppm >= RG_PPM)
        return 100;
    return (share_ppm + RG_FLAG_SHARE_STEP_PPM - 1) / RG_FLAG_SHARE_STEP_PPM;
}

bool rg_flag_share_flipped(uint32_t bucket, uint32_t old_ppm, uint32_t new_ppm)
{
    uint32_t lo = rg_flag_share_percent(old_ppm) * RG_FLAG_SHARE_STEP_PPM;
    uint32_t hi = rg_flag_share_percent(new_ppm) * RG_FLAG_SHARE_STEP_PPM;
    return bucket >= lo && bucket < hi;
}
