/*
 * event.h - events: the input of the sample engine.
 *
 * One event per line: the template type name, then the event's fields,
 * all separated by single tabs ("proc_exec\t/bin/sh\t42"). A field may be
 * empty. Blank lines and lines starting with '#' are not events. An event
 * may carry fewer or more fields than its template declares; the
 * interpreter (interp.h) decides what that means.
 *
 * The fields live in a heap array of exactly nfields pointers, so a read
 * past the last field is a heap-buffer-overflow that ASan reports (this
 * is what the unsafe engine build demonstrates). Not thread-safe per
 * event; distinct events are independent.
 */
#ifndef RG_ENGINE_EVENT_H
#define RG_ENGINE_EVENT_H

#include "common/buf.h"
#include "common/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define RG_ENGINE_EVENT_LINE_MAX 65536 /* bytes in one event line */
#define RG_ENGINE_EVENT_FIELDS_MAX 256 /* fields after the type name */

typedef struct rg_event {
    char *buf;        /* owned copy of the line, tabs turned into NULs */
    const char *type; /* template type name (points into buf) */
    size_t nfields;   /* fields after the type name */
    char **fields;    /* owned array of exactly nfields pointers into buf */
} rg_event;

/* True when a line (without its newline) is blank or a '#' comment. */
bool rg_event_skip(const char *line);

/* Splits a line of len bytes (no newline; a NUL inside ends the field it
 * is in) into *ev. Returns 0, RG_EINVAL (empty type name), RG_ETOOBIG
 * (over a cap) or RG_ENOMEM;
 * on failure *ev is empty. Release *ev with rg_event_release. */
int rg_event_parse(const char *line, size_t len, rg_event *ev, rg_err *err);

/* Frees what ev owns and empties it. */
void rg_event_release(rg_event *ev);

/* Reads the next line of in into line (replacing its content, newline and
 * a trailing '\r' removed); line->max should be RG_ENGINE_EVENT_LINE_MAX.
 * Returns 1 when a line was read, 0 at end of input, RG_ETOOBIG for a line
 * over line->max, RG_EINVAL for a NUL byte, RG_EIO on a read error. */
int rg_event_read_line(FILE *in, rg_buf *line, rg_err *err);

#endif
