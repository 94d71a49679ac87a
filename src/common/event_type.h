/*
 * event_type.h - the types of the events an agent reports about a
 * release, in one table: the agent queues them (agent/outbox.c), the store
 * refuses any other (store/store.c), the server counts them into canary
 * slots and metrics (server/agent_api.c, server/canary.c, server/fleet.h).
 *
 * The codes are the indexes of rg_event_type_names and are relied on
 * across files (counters, canary slots): append a new type, never reorder.
 * Pure; thread-safe.
 */
#ifndef RG_EVENT_TYPE_H
#define RG_EVENT_TYPE_H

typedef enum rg_event_type {
    RG_EVENT_APPLYING = 0, /* about to switch to the release (exposure) */
    RG_EVENT_HEALTHY = 1,  /* active and its probe passed */
    RG_EVENT_FAILED = 2,   /* could not apply it */
    RG_EVENT_REVERTED = 3, /* went back to the last known good release */
    RG_EVENT_CRASHED = 4,  /* the consumer crashed on it */
} rg_event_type;

#define RG_EVENT_TYPES 5

/* The names by code, then NULL: "applying", "healthy", "failed",
 * "reverted", "crashed". */
extern const char *const rg_event_type_names[RG_EVENT_TYPES + 1];

/* The code of name, or -1 when name is NULL or no event type. */
int rg_event_type_parse(const char *name);

#endif
