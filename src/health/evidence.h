/*
 * evidence.h - the evidence record of a gate decision: an rg_analysis as
 * JSON (stored with every decision, printed by `rollgate rollout explain`)
 * and its replay, which evaluates the recorded inputs again and checks
 * that the verdict is the same.
 *
 * Pure; thread-safe.
 */
#ifndef RG_EVIDENCE_H
#define RG_EVIDENCE_H

#include "analyzer.h"
#include "common/err.h"

#include <jansson.h>

/* The evidence record as JSON: {"verdict", "reason", "params": {alpha,
 * beta, tolerated_excess, baseline_failure, window_ms, min_endpoints,
 * min_effect (absent in older records: the default)},
 * "thresholds": {"halt", "pass"}, "stratum_prior", "llr": {silence_halt,
 * failure_halt, silence_pass, failure_pass}, "totals": {counts...},
 * "strata": [{"stratum", counts..., "rho", "silence_llr", "failure_llr",
 * "silence_bad", "sets"?, "soak_sets"?}]}: the matched sets of first and
 * of soak spans (msprt.h; each absent when none) as {"silent": [[k, s,
 * count], ...], "heard": [...]}, the cells holding sets (k controls, s of
 * them silent). Returns a new reference the caller json_decref's, or NULL
 * on allocation failure. */
json_t *rg_analysis_to_json(const rg_analysis *a);

/* Replays an evidence record made by rg_analysis_to_json: reads its params
 * and per-stratum counts, evaluates the gate again into *out (caller
 * releases) and checks that the verdict is the recorded one. Returns 0;
 * RG_EINVAL when evidence is malformed (err->field names the field);
 * RG_ECONFLICT when the replayed verdict differs from the recorded one
 * (*out then holds the replayed analysis); RG_ENOMEM. evidence is only
 * read. */
int rg_analyzer_replay(const json_t *evidence, rg_analysis *out, rg_err *err);

#endif
