/* rollout_event.c - see rollout_event.h. */
#include "model/rollout_event.h"

#include "model/rollout.h"

#include <string.h>

const char *const rg_rollout_event_names[] = {
    "halt", "hold", "complete", "rollback", "pause", "resume", NULL};

const char *rg_rollout_event(int from, int to)
{
    if (from == to)
        return NULL;
    switch (to) {
    case RG_RO_HALTED:
        return "halt";
    case RG_RO_HELD:
        return "hold";
    case RG_RO_COMPLETED:
        return "complete";
    case RG_RO_ROLLED_BACK:
        return "rollback";
    case RG_RO_PAUSED:
        return "pause";
    case RG_RO_RUNNING:
        return from == RG_RO_PAUSED || from == RG_RO_HELD ? "resume" : NULL;
    default:
        return NULL;
    }
}

bool rg_rollout_event_known(const char *name)
{
    for (const char *const *n = rg_rollout_event_names; *n; n++)
        if (strcmp(*n, name) == 0)
            return true;
    return false;
}
