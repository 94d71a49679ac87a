/*
 * rollout_event.h - the notable events of a rollout's life that
 * subscribers are told of (webhooks, docs/webhooks.md): a transition is
 * named by the state it reaches (and, for resume, the one it leaves).
 *
 *   halt      the gate (or its watch after completion) halted it
 *   hold      the gate held it for an operator
 *   complete  every wave passed
 *   rollback  an operator rolled it back
 *   pause     an operator paused it
 *   resume    an operator resumed it (paused or held -> running)
 *
 * Pure; thread-safe.
 */
#ifndef RG_ROLLOUT_EVENT_H
#define RG_ROLLOUT_EVENT_H

#include <stdbool.h>
#include <stddef.h>

/* The longest event list text: every name, comma-separated, and its NUL. */
#define RG_ROLLOUT_EVENTS_TEXT_MAX 48

/* The event a transition from state `from` to state `to` (RG_RO_*) is, or
 * NULL when it is none of the above (an advance, an abort...). Returns a
 * static string. */
const char *rg_rollout_event(int from, int to);

/* Whether name is one of the event names above. */
bool rg_rollout_event_known(const char *name);

/* The events' names in order, NULL-ended (static). */
extern const char *const rg_rollout_event_names[];

#endif
