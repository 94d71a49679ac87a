/* resolve.c - see resolve.h. */
#include "resolve.h"

#include "msprt.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* The pass boundary stays below this, so that "broken" stays below 1. */
#define MAX_GOOD_SHARE 0.45

double rg_resolve_llr(const rg_analysis *a, const rg_stratum_evidence *t)
{
    double good = fmin(rg_analyzer_silence_bad(&a->params, t->control_windows,
                                               t->control_silent),
                       MAX_GOOD_SHARE);
    double broken = good + RG_RESOLVE_BROKEN_EXCESS;
    uint64_t bad = t->exposed_silent + t->exposed_failed + t->early_failed;
    return rg_msprt_binom_llr(bad, t->exposed_healthy + bad, good, broken);
}

/* Share of t's control windows that were silent. */
static double control_share(const rg_stratum_evidence *t)
{
    return t->control_windows
               ? (double)t->control_silent / (double)t->control_windows
               : 0.0;
}

/* The reason of a halted stratum. */
static void halt_words(const rg_stratum_evidence *t, char *why, size_t n)
{
    if (t->silence_llr >= t->failure_llr)
        snprintf(why, n,
                 "%" PRIu64 " of %" PRIu64 " exposed endpoints went silent "
                 "after applying while %.0f %% of comparable endpoints did",
                 t->exposed_silent, t->exposed - t->exposed_pending,
                 100.0 * control_share(t));
    else
        snprintf(why, n,
                 "%" PRIu64 " of %" PRIu64 " exposed endpoints failed (this "
                 "wave and earlier ones)",
                 t->exposed_failed + t->early_failed + t->prior_failed,
                 t->exposed + t->prior_trials);
}

rg_stratum_class rg_resolve_stratum(const rg_analysis *a,
                                    const rg_stratum_evidence *t, bool blamed,
                                    char *why, size_t n)
{
    uint64_t failed = t->exposed_failed + t->early_failed;
    double lean = fmax(t->silence_llr, t->failure_llr);
    double r = rg_resolve_llr(a, t), ctl = 100.0 * control_share(t);
    if (a->verdict == RG_VERDICT_HALT &&
        (lean >= a->halt_threshold || blamed)) {
        halt_words(t, why, n);
        return RG_SC_HALT;
    }
    if (t->exposed == 0) {
        snprintf(why, n, "no endpoint of this wave exposed yet");
        return RG_SC_NONE;
    }
    if (r >= a->pass_threshold && lean < a->pass_threshold) {
        snprintf(why, n,
                 "%" PRIu64 " of %" PRIu64 " exposed endpoints healthy, "
                 "%" PRIu64 " failed, %" PRIu64 " silent while %.0f %% of "
                 "comparable endpoints were: not broken (llr %.2f)",
                 t->exposed_healthy, t->exposed, failed, t->exposed_silent, ctl,
                 r);
        return RG_SC_PASS;
    }
    if (r >= a->pass_threshold) {
        snprintf(why, n,
                 "%" PRIu64 " of %" PRIu64 " exposed endpoints healthy, "
                 "%" PRIu64 " failed, %" PRIu64 " silent while %.0f %% of "
                 "comparable endpoints were: not broken, but leans towards "
                 "excess (llr %.2f); held at its budget while the others go "
                 "on",
                 t->exposed_healthy, t->exposed, failed, t->exposed_silent, ctl,
                 lean);
        return RG_SC_HOLD;
    }
    if (t->exposed_pending > 0) {
        snprintf(why, n,
                 "%" PRIu64 " of %" PRIu64 " exposed endpoints still within "
                 "their window, %" PRIu64 " healthy so far",
                 t->exposed_pending, t->exposed, t->exposed_healthy);
        return RG_SC_WAIT;
    }
    if (t->exposed_healthy == 0 && lean > 0.0) {
        snprintf(why, n,
                 "none of its %" PRIu64 " exposed endpoints is healthy "
                 "(%" PRIu64 " silent while %.0f %% of comparable endpoints "
                 "were, %" PRIu64 " failed): no healthy evidence, and it "
                 "leans towards excess",
                 t->exposed, t->exposed_silent, ctl, failed);
        return RG_SC_DARK;
    }
    snprintf(why, n,
             "%" PRIu64 " of %" PRIu64 " exposed endpoints healthy, %" PRIu64
             " failed, %" PRIu64 " silent while %.0f %% of comparable "
             "endpoints were: %s; held at its budget while the others go on",
             t->exposed_healthy, t->exposed, failed, t->exposed_silent, ctl,
             lean >= a->pass_threshold ? "leans towards excess"
                                       : "too little evidence to clear it");
    return RG_SC_HOLD;
}

const char *rg_resolve_verdict(rg_stratum_class c)
{
    switch (c) {
    case RG_SC_HALT:
        return "halt";
    case RG_SC_PASS:
        return "pass";
    case RG_SC_DARK:
    case RG_SC_HOLD:
        return "hold";
    case RG_SC_NONE:
    case RG_SC_WAIT:
        break;
    }
    return "pending";
}

rg_stratum_state rg_resolve_next_state(rg_stratum_state from,
                                       const char *verdict)
{
    if (!verdict)
        return from;
    if (strcmp(verdict, "pass") == 0)
        return RG_STRATUM_CLEARED;
    if (strcmp(verdict, "halt") == 0)
        return RG_STRATUM_HALTED;
    if (strcmp(verdict, "hold") == 0 && from != RG_STRATUM_CLEARED)
        return RG_STRATUM_HELD;
    return from;
}
