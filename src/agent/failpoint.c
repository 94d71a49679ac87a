/* failpoint.c - see failpoint.h. */
#include "failpoint.h"

#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const names[] = {
    "apply.during_download",       /* part of the artifact written */
    "apply.after_download",        /* download complete and fsynced */
    "apply.after_write_inactive",  /* inactive slot complete */
    "apply.after_validate",        /* validate hook passed */
    "apply.after_applying_intent", /* applying.json written */
    "apply.after_queue_applying",  /* `applying` in the outbox */
    "apply.after_trial_begin",     /* trial.json written, not switched */
    "apply.after_switch",          /* active link renamed */
    "apply.after_activate",        /* activate hook ran */
    "trial.after_count_start",     /* start counted and fsynced */
    "trial.after_confirm_intent",  /* trial marked confirmed */
    "trial.after_queue_healthy",   /* `healthy` in the outbox */
    "revert.after_intent",         /* trial marked reverting */
    "revert.after_quarantine",     /* digest quarantined */
    "revert.after_queue_reverted", /* `reverted` in the outbox */
    "revert.after_switch",         /* active link back on the good slot */
    "rollback.after_switch",       /* returned to the server's older release */
    NULL,
};

bool rg_failpoint_env_ok(void)
{
    const char *name = getenv("RG_FAILPOINT");
    if (!name || !*name)
        return true;
    for (int i = 0; names[i]; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

void rg_failpoint(const char *name)
{
    const char *want = getenv("RG_FAILPOINT");
    if (want && strcmp(want, name) == 0)
        kill(getpid(), SIGKILL);
}

const char *const *rg_failpoint_names(void)
{
    return names;
}
