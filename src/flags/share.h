/*
 * share.h - a guarded flag rollout's share in the rollout machinery's
 * terms (docs/flags.md, "Guarded flag rollouts"). A flag rollout raises a
 * flexibleRollout strategy's `rollout` percentage (groupId = the flag's
 * name, stickiness = the endpoint id as the context's userId) through a
 * plan's waves; the endpoint evaluates it itself, so who is exposed
 * follows from Unleash's bucketing (flags/bucket.h, normalizedHash
 * 1..100), plus the few endpoints rollgated names for the stratified
 * floor (server/flag_floor.h).
 *
 * The endpoint's bucket is mapped into model/bucket.h's parts per
 * million as (normalizedHash - 1) * 10000, and a wave's share_ppm becomes
 * the percentage ceil(share_ppm / 10000). Then rg_bucket_in(bucket,
 * share_ppm) is exactly "the strategy is on at that percentage", so the
 * rollout state machine, wave assignment and the health gate run
 * unchanged on flag rollouts, in rollgated and rollgate-sim alike. Pure;
 * thread-safe.
 */
#ifndef RG_FLAGS_SHARE_H
#define RG_FLAGS_SHARE_H

#include <stdbool.h>
#include <stdint.h>

#define RG_FLAG_SHARE_STEP_PPM 10000u /* one percent */

/* The bucket (ppm, a multiple of RG_FLAG_SHARE_STEP_PPM in [0, 990000])
 * of endpoint_id in the flag rollout of group (both NUL-terminated). */
uint32_t rg_flag_share_bucket(const char *group, const char *endpoint_id);

/* The flexibleRollout percentage (0..100) that turns the flag on for
 * every bucket below share_ppm: share_ppm / 10000 rounded up. */
uint32_t rg_flag_share_percent(uint32_t share_ppm);

/* Whether the evaluation of the endpoint in bucket (rg_flag_share_bucket)
 * flipped from off to on when the share rose from old_ppm to new_ppm:
 * its bucket is in [percent(old) * 10000, percent(new) * 10000). Such an
 * endpoint is exposed; every other endpoint of the target is a control.
 * False whenever new_ppm <= old_ppm. */
bool rg_flag_share_flipped(uint32_t bucket, uint32_t old_ppm, uint32_t new_ppm);

#endif
