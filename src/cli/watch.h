/*
 * watch.h - `rollgate rollout status ID --watch`: follow a rollout until
 * it ends. Internal to src/cli.
 *
 * Polls GET /v1/rollouts/ID every interval. On a terminal it redraws one
 * screen in place: the waves with progress bars, per stratum the
 * exposed/healthy/silent/failed/pending counts of the rollout's newest gate
 * evidence with the control cohort's silent windows, and the current
 * decision in plain words. Otherwise it appends plain lines, only when
 * something changed. Ends when the rollout does (docs/rollout.md,
 * "Watching a rollout").
 */
#ifndef RG_CLI_WATCH_H
#define RG_CLI_WATCH_H

#include "cli/ctx.h"

/* Watches rollout id, polling every interval_s seconds (>= 1). Returns 0
 * when it completed; with cli->refused and cli->err set (exit status 1)
 * when it ended halted, rolled back or aborted; or the failure of a call
 * (exit 3 when the server is unreachable). */
int rg__cli_rollout_watch(rg_cli *cli, int64_t id, int64_t interval_s);

/* The newest gate evidence of rollout r (a GET /v1/rollouts/{id} answer):
 * its latest evaluation's, or its last decision's when that is newer;
 * borrowed from r, NULL when there is none. Defined in cmd_rollout.c. */
const json_t *rg__cli_rollout_evidence(const json_t *r);

#endif
