/*
 * status.h - what `rollgate-agent status` shows: installed versions per
 * channel, trial state, quarantined digests, pending notices, the outbox
 * and the last server contact, read from the state directory only (works
 * while the daemon runs, and with no network).
 */
#ifndef RG_AGENT_STATUS_H
#define RG_AGENT_STATUS_H

#include <jansson.h>
#include <stdio.h>

/* A new JSON object describing state_dir (caller decrefs), or NULL when
 * out of memory. */
json_t *rg_agent_status(const char *state_dir);

/* Prints a status object readably to f. */
void rg_agent_status_print(FILE *f, const json_t *status);

#endif
