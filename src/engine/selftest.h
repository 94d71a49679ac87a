/*
 * selftest.h - run a channel through the real interpreter before anyone
 * depends on it: the validate and probe hook of the demos.
 *
 * Three corpora, in this order:
 *   1. coverage (corpus.h) built from the channel itself, cut to the
 *      shapes in the supply set; each generated event must do what it was
 *      built for (match its instance, or not);
 *   2. the sample sensor's recorded events (sensor.h);
 *   3. optionally, more recorded events from a file.
 * The first engine error stops the run: an instance needing a field an
 * event lacks (the safe build's check), an event the interpreter rejects,
 * or a generated event that did not behave as built. The unsafe build has
 * no check and reads past the end of the event instead.
 */
#ifndef RG_ENGINE_SELFTEST_H
#define RG_ENGINE_SELFTEST_H

#include "common/err.h"
#include "engine/channel.h"
#include "engine/interp.h"
#include "engine/supply.h"

#include <stdio.h>

/* Runs the three corpora (recorded may be NULL) against ch; sup (may be
 * NULL) as for rg_corpus_build. Adds the counts to *st (may be NULL).
 * Returns 0 or the first error's code; err then starts with "coverage
 * event line N: ", "sensor event line N: " or "event line N: " (the
 * recorded file). Thread-safe when recorded is not shared. */
int rg_selftest_run(const rg_channel *ch, const rg_supply *sup, FILE *recorded,
                    rg_interp_stats *st, rg_err *err);

#endif
