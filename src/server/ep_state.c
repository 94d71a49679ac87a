/* ep_state.c - see ep_state.h. */
#include "ep_state.h"

#include <string.h>

static const char *const names[] = {"none",   "assigned", "pending", "healthy",
                                    "silent", "failed",   "unjudged"};
_Static_assert(sizeof names / sizeof *names == RG_EP_N_STATES,
               "a name for every state");

rg_ep_state rg_ep_state_of(const rg_fleet_canary *cn)
{
    if (!cn || !(cn->flags & (RG_CN_ASSIGNED | RG_CN_EXPOSED)))
        return RG_EP_NONE;
    if (cn->flags & RG_CN_FAILED)
        return RG_EP_FAILED;
    if (cn->flags & RG_CN_SILENT)
        return RG_EP_SILENT;
    if (cn->flags & RG_CN_JUDGED)
        return RG_EP_HEALTHY;
    if (cn->flags & RG_CN_EXPOSED)
        return RG_EP_PENDING;
    return RG_EP_ASSIGNED;
}

rg_ep_state rg_ep_state_in(const rg_fleet_canary *cn, bool judging)
{
    rg_ep_state s = rg_ep_state_of(cn);
    return s == RG_EP_PENDING && !judging ? RG_EP_UNJUDGED : s;
}

const char *rg_ep_state_name(rg_ep_state s)
{
    return (size_t)s < sizeof names / sizeof *names ? names[s] : "none";
}

bool rg_ep_state_parse(const char *name, rg_ep_state *out)
{
    for (size_t i = RG_EP_ASSIGNED; i < sizeof names / sizeof *names; i++)
        if (strcmp(name, names[i]) == 0) {
            *out = (rg_ep_state)i;
            return true;
        }
    return false;
}

rg_ep_state rg_ep_tally_add(rg_ep_tally *t, const rg_fleet_canary *cn,
                            bool judging)
{
    rg_ep_state s = rg_ep_state_in(cn, judging);
    if (s != RG_EP_NONE)
        t->n[s]++;
    return s;
}

uint64_t rg_ep_tally_exposed(const rg_ep_tally *t)
{
    return t->n[RG_EP_PENDING] + t->n[RG_EP_HEALTHY] + t->n[RG_EP_SILENT] +
           t->n[RG_EP_FAILED] + t->n[RG_EP_UNJUDGED];
}

/* The state of release's slot of the endpoint with handle ref (RG_EP_NONE
 * when it has none or is gone). */
static rg_ep_state state_at(rg_fleet *f, uint32_t ref, int64_t release)
{
    rg_fleet_view v;
    if (rg_fleet_view_ref(f, ref, &v) != 0)
        return RG_EP_NONE;
    return rg_ep_state_of(rg_fleet_canary_of(&v, release));
}

void rg_ep_state_judged(rg_fleet *f, uint32_t ref, int64_t release, bool silent,
                        rg_ep_tally *t)
{
    rg_ep_state before = t ? state_at(f, ref, release) : RG_EP_NONE;
    rg_fleet_canary_set_ref(f, ref, release,
                            RG_CN_JUDGED | (silent ? RG_CN_SILENT : 0u));
    if (!t || before == RG_EP_NONE || t->n[before] == 0)
        return;
    rg_ep_state after = state_at(f, ref, release);
    if (after != RG_EP_NONE) {
        t->n[before]--;
        t->n[after]++;
    }
}
