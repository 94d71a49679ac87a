/* policy.c - see policy.h. */
#include "policy.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char *const names[] = {"rollgate", "threshold", "fixed-bake"};

const char *rg_sim_policy_name(int policy)
{
    if (policy < 0 || policy > RG_SIM_FIXED_BAKE)
        return "unknown";
    return names[policy];
}

int rg_sim_policy_parse(const char *name)
{
    for (int i = 0; name && i <= RG_SIM_FIXED_BAKE; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    return -1;
}

/* The fixed bake both comparison policies wait: max(min_bake, W). */
static int64_t fixed_bake_ms(const rg_wave *w)
{
    return w->min_bake_ms > w->window_ms ? w->min_bake_ms : w->window_ms;
}

int rg_gate_threshold(const rg_wave *wave, const rg_wave_counts *counts,
                      int64_t elapsed_ms, void *ctx, rg_gate_result *out,
                      rg_err *err)
{
    (void)ctx;
    (void)err;
    int64_t bake = fixed_bake_ms(wave);
    memset(out, 0, sizeof *out);
    out->evidence = json_pack(
        "{s:s, s:I, s:I, s:I, s:f, s:I, s:I}", "gate", "threshold", "targeted",
        (json_int_t)counts->targeted, "failed", (json_int_t)counts->failed,
        "exposed", (json_int_t)counts->exposed, "fail_share_limit",
        RG_THRESHOLD_FAIL_SHARE, "bake_ms", (json_int_t)bake, "elapsed_ms",
        (json_int_t)elapsed_ms);
    if (counts->targeted > 0 &&
        (double)counts->failed >
            RG_THRESHOLD_FAIL_SHARE * (double)counts->targeted) {
        out->verdict = RG_VERDICT_HALT;
        snprintf(out->reason, sizeof out->reason,
                 "threshold: %" PRIu64 " failed of %" PRIu64
                 " targeted, above 50%%",
                 counts->failed, counts->targeted);
    } else if (elapsed_ms >= bake) {
        out->verdict = RG_VERDICT_PASS;
        snprintf(out->reason, sizeof out->reason,
                 "threshold: baked %" PRId64 " s; %" PRIu64
                 " failed of %" PRIu64 " targeted",
                 elapsed_ms / 1000, counts->failed, counts->targeted);
    } else {
        out->verdict = RG_VERDICT_CONTINUE;
        snprintf(out->reason, sizeof out->reason,
                 "threshold: baking %" PRId64 " of %" PRId64 " s",
                 elapsed_ms / 1000, bake / 1000);
    }
    return 0;
}

int rg_gate_fixed_bake(const rg_wave *wave, const rg_wave_counts *counts,
                       int64_t elapsed_ms, void *ctx, rg_gate_result *out,
                       rg_err *err)
{
    const rg_fixed_bake_ctx *c = ctx;
    int64_t bake = fixed_bake_ms(wave);
    memset(out, 0, sizeof *out);
    if (!c)
        return rg_err_set(err, RG_EINVAL, "fixed-bake gate: no measurements");
    out->evidence = json_pack(
        "{s:s, s:I, s:I, s:f, s:f, s:I, s:I, s:I}", "gate", "fixed-bake",
        "checks", (json_int_t)c->checks, "failed_checks",
        (json_int_t)c->failed_checks, "last_share", c->last_share,
        "silence_share_limit", RG_FIXED_BAKE_SILENCE_SHARE, "exposed",
        (json_int_t)counts->exposed, "bake_ms", (json_int_t)bake, "elapsed_ms",
        (json_int_t)elapsed_ms);
    if (c->failed_checks >= RG_FIXED_BAKE_FAILURE_LIMIT) {
        out->verdict = RG_VERDICT_HALT;
        snprintf(out->reason, sizeof out->reason,
                 "fixed-bake: %u of %u checks failed (last: %.1f%% of exposed "
                 "failed or silent, limit %.0f%%)",
                 c->failed_checks, c->checks, 100.0 * c->last_share,
                 100.0 * RG_FIXED_BAKE_SILENCE_SHARE);
    } else if (elapsed_ms >= bake) {
        out->verdict = RG_VERDICT_PASS;
        snprintf(out->reason, sizeof out->reason,
                 "fixed-bake: waited %" PRId64 " s; %u of %u checks failed",
                 elapsed_ms / 1000, c->failed_checks, c->checks);
    } else {
        out->verdict = RG_VERDICT_CONTINUE;
        snprintf(out->reason, sizeof out->reason,
                 "fixed-bake: waiting %" PRId64 " of %" PRId64 " s",
                 elapsed_ms / 1000, bake / 1000);
    }
    return 0;
}
