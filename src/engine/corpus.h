/*
 * corpus.h - coverage: events generated from a channel's own content.
 *
 * For every instance, in file order:
 *   - a comment line naming the instance;
 *   - one event that matches it (every criterion satisfied; wildcarded
 *     fields get a plain value of their type);
 *   - for each non-wildcard criterion, events that drive it: the bounds
 *     that still match (range HI, the last address of a cidr) and values
 *     just outside it (range LO-1 and HI+1, a neighbouring network, a
 *     changed literal or prefix, a string the glob rejects), with every
 *     other field left matching;
 *   - the same events cut to every shorter field count the event source
 *     is known to supply for the template (supply.h). These are the
 *     events with fewer fields than the template declares: they reach a
 *     criterion on a field the sensor does not send, the blind spot of the
 *     2024 incident, where a field had only ever been wildcarded.
 *
 * Each event records what it expects of its instance (match, no match,
 * or nothing for the cut ones). The corpus owns its lines; release it
 * with rg_corpus_release.
 */
#ifndef RG_ENGINE_CORPUS_H
#define RG_ENGINE_CORPUS_H

#include "common/err.h"
#include "engine/channel.h"
#include "engine/supply.h"

#include <stddef.h>
#include <stdio.h>

typedef enum rg_expect {
    RG_EXPECT_NONE = 0,    /* a comment, or an event cut short */
    RG_EXPECT_MATCH = 1,   /* the event must match its instance */
    RG_EXPECT_NOMATCH = 2, /* the event must not match its instance */
} rg_expect;

typedef struct rg_probe {
    char *line;       /* owned: an event line, or a "# ..." comment */
    size_t instance;  /* index of the instance it was generated for */
    rg_expect expect; /* what it expects of that instance */
} rg_probe;

typedef struct rg_corpus {
    rg_probe *items;
    size_t n;
} rg_corpus;

/* Fills *out (initially anything) with the coverage of ch; sup (may be
 * NULL) gives the shorter field counts to cut events to. Returns 0,
 * RG_ENOMEM, or RG_EINTERNAL if a generated event fails to do what it
 * was built for (a bug). On failure *out is empty. */
int rg_corpus_build(const rg_channel *ch, const rg_supply *sup, rg_corpus *out,
                    rg_err *err);

/* Frees every line; the corpus is empty again. */
void rg_corpus_release(rg_corpus *c);

/* Writes one line per probe ("\n"-terminated) to out. */
void rg_corpus_write(const rg_corpus *c, FILE *out);

#endif
