/*
 * name.h - the one rule for channel names, shared by the server (which
 * refuses to create a channel with another name) and the agent (which
 * keeps each channel in a directory of that name, and so refuses any
 * other). Pure; thread-safe.
 */
#ifndef RG_NAME_H
#define RG_NAME_H

#include <stdbool.h>

#define RG_CHANNEL_NAME_MAX 64 /* bytes */

/* The rule, for error messages. */
#define RG_CHANNEL_NAME_RULE "1..64 of [a-z0-9._-], not '.' or '..'"

/* True when name (NUL-terminated, not NULL) follows RG_CHANNEL_NAME_RULE:
 * a safe single path component. */
bool rg_channel_name_valid(const char *name);

#endif
