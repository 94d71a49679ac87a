/* event_type.c - see event_type.h. */
#include "event_type.h"

#include <stddef.h>
#include <string.h>

const char *const rg_event_type_names[RG_EVENT_TYPES + 1] = {
    [RG_EVENT_APPLYING] = "applying", [RG_EVENT_HEALTHY] = "healthy",
    [RG_EVENT_FAILED] = "failed",     [RG_EVENT_REVERTED] = "reverted",
    [RG_EVENT_CRASHED] = "crashed",   [RG_EVENT_TYPES] = NULL,
};

int rg_event_type_parse(const char *name)
{
    for (int i = 0; name && i < RG_EVENT_TYPES; i++)
        if (strcmp(name, rg_event_type_names[i]) == 0)
            return i;
    return -1;
}
