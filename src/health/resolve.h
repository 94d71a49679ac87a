/*
 * resolve.h - where one stratum of a wave stands with the gate: halted,
 * resolved (healthy evidence), still open, without any healthy evidence,
 * or held alone (docs/health.md, "Strata gated one by one").
 *
 * A stratum is resolved when its evidence rejects "the release breaks this
 * stratum": the null that each of its judged exposed windows is bad
 * (silent or failed) with probability at least its pass boundary (control
 * silence, lower 2-sigma bound, + tolerated_excess; silence_bad in
 * analyzer.h) plus RG_RESOLVE_BROKEN_EXCESS, against the alternative that
 * it is bad exactly at that boundary. The statistic is the binomial log
 * likelihood ratio of that pair over the stratum's judged windows (healthy,
 * silent, failed, and the failures of pending endpoints); it is a
 * nonnegative martingale under the null, so a broken stratum is ever
 * resolved with probability at most beta (Ville). It must also not lean
 * towards a halt: its halt statistics stay below log(1/beta).
 *
 * Pure; thread-safe.
 */
#ifndef RG_RESOLVE_H
#define RG_RESOLVE_H

#include "analyzer.h"

#include <stdbool.h>
#include <stddef.h>

/* How much worse than its pass boundary a stratum's bad share must be for
 * the stratum to count as broken (absolute share). */
#define RG_RESOLVE_BROKEN_EXCESS 0.5

typedef enum rg_stratum_class {
    RG_SC_NONE, /* nothing of this wave exposed in it */
    RG_SC_HALT, /* the analysis halts on it */
    RG_SC_PASS, /* resolved: healthy evidence; verdict "pass" */
    RG_SC_WAIT, /* unresolved, windows still open (and "broken" not
                   rejected): the wave waits */
    RG_SC_DARK, /* unresolved, no healthy window, none open, and a halt
                   statistic above 0 (leans towards excess): the wave
                   cannot pass it */
    RG_SC_HOLD, /* "broken" rejected but leaning towards excess (open
                   windows or not), or unresolved with none open and some
                   healthy or no lean: held alone at its exposure budget
                   while the others go on */
} rg_stratum_class;

/* Where a stratum of a rollout stands with the gate across its waves
 * (rollgated's server/strata.h, rollgate-sim): open (no verdict yet),
 * cleared (resolved), held, halted. */
typedef enum rg_stratum_state {
    RG_STRATUM_OPEN = 0,
    RG_STRATUM_CLEARED,
    RG_STRATUM_HELD,
    RG_STRATUM_HALTED,
} rg_stratum_state;

/* The state a stratum in state `from` moves to on a verdict word of the
 * gate's evidence ("strata"): "pass" clears it, "halt" halts it, "hold"
 * holds it unless it is cleared (its healthy evidence stands; evidence
 * against it later comes as a halt); any other word changes nothing. */
rg_stratum_state rg_resolve_next_state(rg_stratum_state from,
                                       const char *verdict);

/* The log likelihood ratio above for stratum totals t (rg_analysis_stratum)
 * under a's parameters; resolved when it reaches a->pass_threshold. */
double rg_resolve_llr(const rg_analysis *a, const rg_stratum_evidence *t);

/* The class of stratum totals t in analysis a and, in why (n bytes), the
 * reason in plain words. blamed: the halting analysis names this stratum
 * (its own statistic alone need not reach the threshold). */
rg_stratum_class rg_resolve_stratum(const rg_analysis *a,
                                    const rg_stratum_evidence *t, bool blamed,
                                    char *why, size_t n);

/* The verdict word of a class in the gate's evidence ("strata"): "pass",
 * "hold" (DARK and HOLD), "halt" or "pending" (NONE and WAIT). */
const char *rg_resolve_verdict(rg_stratum_class c);

#endif
