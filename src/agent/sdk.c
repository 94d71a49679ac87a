/* sdk.c - include/rollgate/agent.h over the agent's modules. */
#include "rollgate/agent.h"

#include "common/clock.h"
#include "common/crypto.h"
#include "common/json.h"
#include "status.h"
#include "trial.h"

#include <stdio.h>

static void copy_msg(char *msg, size_t msglen, const char *text)
{
    if (msg && msglen)
        snprintf(msg, msglen, "%s", text);
}

/* Opens channel, takes its lock and reconciles slots and trial. */
static int open_locked(const char *state_dir, const char *channel, rg_slots *s,
                       rg_outbox *ob, rg_err *err)
{
    int rc;
    rg_err_clear(err);
    if ((rc = rg_crypto_init()) != 0 ||
        (rc = rg_slots_open(s, state_dir, channel, err)) != 0 ||
        (rc = rg_outbox_open(ob, state_dir, err)) != 0 ||
        (rc = rg_slots_lock(s, err)) != 0)
        return rc;
    rg_trial_env te = {state_dir, s, ob, RG_AGENT_DEFAULT_MAX_STARTS, NULL};
    if ((rc = rg_slots_reconcile(s, err)) == 0)
        rc = rg_trial_reconcile(&te, rg_clock_now(rg_clock_system()), err);
    return rc;
}

int rg_agent_trial_start(const char *state_dir, const char *channel,
                         int max_starts, int *reverted, char *msg,
                         size_t msglen)
{
    rg_slots s = {.lock_fd = -1};
    rg_outbox ob;
    rg_err err;
    bool rev = false;
    int rc = open_locked(state_dir, channel, &s, &ob, &err);
    if (rc == 0) {
        rg_trial_env te = {
            state_dir, &s, &ob,
            max_starts > 0 ? max_starts : RG_AGENT_DEFAULT_MAX_STARTS, NULL};
        rc = rg_trial_count_start(&te, rg_clock_now(rg_clock_system()), &rev,
                                  &err);
    }
    rg_slots_unlock(&s);
    if (reverted)
        *reverted = rev;
    copy_msg(msg, msglen,
             rc    ? err.msg
             : rev ? "reverted to the last known good content"
                   : "start counted");
    return rc;
}

int rg_agent_trial_confirm(const char *state_dir, const char *channel,
                           const char *detail, char *msg, size_t msglen)
{
    rg_slots s = {.lock_fd = -1};
    rg_outbox ob;
    rg_err err;
    int rc = open_locked(state_dir, channel, &s, &ob, &err);
    if (rc == 0) {
        rg_trial_env te = {state_dir, &s, &ob, RG_AGENT_DEFAULT_MAX_STARTS,
                           NULL};
        rc =
            rg_trial_confirm(&te, detail ? detail : "confirmed by the consumer",
                             rg_clock_now(rg_clock_system()), &err);
        if (rc == RG_ENOTFOUND)
            rg_err_set(&err, rc, "channel '%s': no trial to confirm", channel);
    }
    rg_slots_unlock(&s);
    copy_msg(msg, msglen, rc ? err.msg : "confirmed");
    return rc;
}

char *rg_agent_status_json(const char *state_dir)
{
    json_t *st = rg_agent_status(state_dir);
    char *text = st ? json_dumps(st, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    json_decref(st);
    return text;
}
