/*
 * hooks.h - running a channel's hook commands and its consumer.
 *
 * Commands run as `/bin/sh -c CMD` with the environment described in
 * docs/agent.md (RG_CHANNEL, RG_STATE_DIR, RG_CONTENT, RG_RELEASE, ...).
 * Children die with the agent (PR_SET_PDEATHSIG; their own children do
 * not), so a killed agent never leaves a consumer running on content it no
 * longer supervises. A
 * consumer leads a process group of its own, so that the agent can end
 * every process it started, not only the first (consumer.h).
 */
#ifndef RG_AGENT_HOOKS_H
#define RG_AGENT_HOOKS_H

#include <stdint.h>
#include <sys/types.h>

/* What a hook or consumer is told. NULL/0 fields are left unset. */
typedef struct rg_hook_env {
    const char *channel;
    const char *state_dir;
    const char *content; /* path of the content file */
    int64_t release, version;
    const char *sha256, *notes, *urgency;
} rg_hook_env;

/* Starts cmd with env in a child process that leads a new process group
 * (its pid is the group's id). Returns its pid, or -1. */
pid_t rg_hook_spawn(const char *cmd, const rg_hook_env *env);

/* Runs cmd to completion, killing it (SIGALRM) after timeout_s seconds.
 * Returns its exit status (0..255), 128+signal when killed, -1 when it
 * could not be started. A NULL cmd returns 0 (no hook: nothing to veto). */
int rg_hook_run(const char *cmd, const rg_hook_env *env, unsigned timeout_s);

#endif
