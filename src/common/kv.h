/*
 * kv.h - the `key = value` text format of Rollgate's configuration files:
 * rollgated's (--config, docs/operations.md), rollgate-agent's
 * (docs/agent.md) and the rollgate CLI's (docs/tls.md, README.md).
 *
 *   # a comment
 *   key = value
 *   [section NAME]
 *
 * One setting per line. Blank lines and lines whose first non-blank
 * character is '#' are skipped; spaces around the key and the value are
 * trimmed; the value is the rest of the line as written (quotes are kept,
 * a '#' inside a value is part of it). A `[...]` line opens a section
 * (only the agent's files have them). The meaning of keys is the
 * caller's: it gets each line through a callback.
 */
#ifndef RG_KV_H
#define RG_KV_H

#include "common/err.h"

#include <stdbool.h>
#include <stddef.h>

/* One line of a file, as the callback sees it (strings borrowed for the
 * call only). A section line has section set and key and value NULL;
 * a setting has key and value set and section NULL. */
typedef struct rg_kv_line {
    const char *where;   /* "NAME:LINE" for messages ("line LINE" when the
                            parse was given no name) */
    int line;            /* 1-based */
    const char *section; /* the text between '[' and ']', trimmed */
    const char *key;
    const char *value; /* may be "" */
} rg_kv_line;

/* Returns 0 to go on, or an rg_code (err set) to stop the parse. */
typedef int (*rg_kv_fn)(void *ctx, const rg_kv_line *l, rg_err *err);

/* Removes the white space around s in place: returns the first non-space
 * character of s, with a NUL written after its last. */
char *rg_kv_trim(char *s);

/* Parses text[0..len) (NUL bytes end a line's text) and calls fn for each
 * section and setting in order. name (may be NULL) prefixes the line
 * numbers in messages. Returns 0, the callback's error, RG_EINVAL with
 * "WHERE: expected 'key = value'" (a line without '=' or with an empty
 * key) or "WHERE: unterminated section", or RG_ENOMEM. */
int rg_kv_parse(const char *text, size_t len, const char *name, rg_kv_fn fn,
                void *ctx, rg_err *err);

/* A reload's verdict on one setting whose value was before and is now
 * after (formatted by the caller; a section's key is "[channel NAME]
 * KEY"), from a file or a flag (from: a note for the log, or NULL). Equal:
 * nothing. Changed and live: logs "reload: KEY: 'before' -> 'after'" and
 * returns true (the caller applies it). Changed and not live: warns
 * "reload: KEY changed to 'after' but takes a restart: still 'before'"
 * and returns false. rollgated and rollgate-agent log their reloads
 * alike through it. */
bool rg_kv_reload_note(const char *key, const char *before, const char *after,
                       bool live, const char *from);

#endif
