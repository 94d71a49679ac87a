/*
 * interp.h - the interpreter: which instances of a channel an event
 * matches.
 *
 * An event is evaluated against every instance of its template type, in
 * file order. An instance matches when each of its criteria holds for the
 * corresponding event field; criteria are tried in field order and the
 * first failing one ends the instance (the fields after it are not read).
 * `any` never reads its field. Events of a type the channel does not
 * declare match nothing. Fields an event carries beyond its template's
 * are ignored.
 *
 * The safety check: before reading field i the interpreter checks i
 * against the number of fields the event actually carries. An instance
 * that needs a field the event lacks is an error (RG_EINVAL) naming the
 * event line, the instance and the field, never a read past the end.
 * Building with -DROLLGATE_ENGINE_UNSAFE=ON removes that check (for tests
 * and demos of the 2024 bug class only): the read then runs past the end
 * of the event's field array.
 *
 * Thread-safe: the channel is only read.
 */
#ifndef RG_ENGINE_INTERP_H
#define RG_ENGINE_INTERP_H

#include "common/err.h"
#include "engine/channel.h"
#include "engine/event.h"

#include <stdbool.h>
#include <stdio.h>

typedef struct rg_interp_stats {
    size_t events;  /* events evaluated (blank and comment lines excluded) */
    size_t matches; /* (event, instance) matches */
    size_t unknown; /* events whose type the channel does not declare */
} rg_interp_stats;

/* Called for each instance an event matches, in file order. A non-zero
 * return stops the evaluation and is returned by rg_interp_event. */
typedef int (*rg_match_fn)(void *ctx, const rg_instance *in);

/* True when this build has the field-count check removed. */
bool rg_engine_unsafe(void);

/* Evaluates ev (read from line `lineno`, used in messages) and calls
 * on_match (may be NULL) for each matching instance; adds to *st (may be
 * NULL). Returns 0, RG_EINVAL when an instance needs a field the event
 * does not carry, or what on_match returned. */
int rg_interp_event(const rg_channel *ch, const rg_event *ev, long lineno,
                    rg_match_fn on_match, void *ctx, rg_interp_stats *st,
                    rg_err *err);

/* Reads events from in until its end and writes one line per match to
 * out (may be NULL): "LINE\tTEMPLATE\tINSTANCE\n", LINE counting every
 * input line from 1.
 * Stops at the first error: a malformed or oversized event line, or an
 * instance needing a missing field; err then starts with "event line N: ".
 * Returns 0 or the error's code. st (may be NULL) receives the counts. */
int rg_interp_run(const rg_channel *ch, FILE *in, FILE *out,
                  rg_interp_stats *st, rg_err *err);

#endif
