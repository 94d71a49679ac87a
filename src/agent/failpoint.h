/*
 * failpoint.h - named points where a test can kill the agent.
 *
 * When the environment variable RG_FAILPOINT equals a point's name, the
 * process sends itself SIGKILL on reaching it: no cleanup, no flush, like
 * a power cut. `rollgate-agent failpoints` lists every compiled-in name;
 * the kill test walks through all of them. Names are "stage.moment".
 */
#ifndef RG_AGENT_FAILPOINT_H
#define RG_AGENT_FAILPOINT_H

#include <stdbool.h>

/* Kills the process with SIGKILL when RG_FAILPOINT names this point.
 * name is one of rg_failpoint_names(). */
void rg_failpoint(const char *name);

/* False when RG_FAILPOINT is set to a name that is not compiled in (the
 * agent then refuses to start, so a typo cannot make a kill test pass). */
bool rg_failpoint_env_ok(void);

/* The NULL-terminated list of every fail point name (static storage). */
const char *const *rg_failpoint_names(void);

#endif
