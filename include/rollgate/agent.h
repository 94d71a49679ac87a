/*
 * rollgate/agent.h - librollgate-agent, for programs that embed the
 * endpoint side of Rollgate (link the static library rg_agent).
 *
 * A consumer that loads channel content itself calls
 * rg_agent_trial_start() before it loads the content (it counts the start,
 * fsynced, and reverts to the last known good content after K failed
 * starts) and rg_agent_trial_confirm() once the content works. Both work
 * with no network; events wait in the agent's outbox for the daemon.
 * The content to load is always STATE/channels/CHANNEL/active/content.
 *
 * Functions return 0 on success or a negative error code, and write a
 * message into msg (msglen bytes, may be NULL/0). They lock the channel
 * (flock) and may be called from several processes at once; they are not
 * meant to be called from several threads of one process at once.
 */
#ifndef ROLLGATE_AGENT_H
#define ROLLGATE_AGENT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RG_AGENT_DEFAULT_MAX_STARTS 3

/* Counts one start of channel's consumer. When the channel is on trial
 * and max_starts starts already failed, reverts first (switch back,
 * quarantine, `reverted` queued) and sets *reverted to 1, else 0. Also
 * finishes any revert or confirmation a killed process left half-done and
 * discards a half-written inactive slot. */
int rg_agent_trial_start(const char *state_dir, const char *channel,
                         int max_starts, int *reverted, char *msg,
                         size_t msglen);

/* Confirms the channel's running trial (queues `healthy`); returns a
 * negative code when there is no trial. detail may be NULL. */
int rg_agent_trial_confirm(const char *state_dir, const char *channel,
                           const char *detail, char *msg, size_t msglen);

/* The agent's status as a JSON text (what `rollgate-agent status --json`
 * prints); the caller frees it with free(). NULL when out of memory. */
char *rg_agent_status_json(const char *state_dir);

#ifdef __cplusplus
}
#endif

#endif
