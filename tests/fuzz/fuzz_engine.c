/*
 * fuzz_engine.c - the sample engine's channel-file parser and interpreter.
 *
 * Input: channel-file text, optionally followed by a line "%%" and event
 * lines. The harness parses the channel; when it parses, builds the
 * coverage events (shapes from the sample sensor and the given events),
 * checks that every generated event does what it was built for (match its
 * instance or not: a broken invariant aborts), interprets every coverage
 * event, then runs the given events through the interpreter.
 */
#include "fuzz.h"

#include "engine/channel.h"
#include "engine/corpus.h"
#include "engine/event.h"
#include "engine/interp.h"
#include "engine/supply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct seen {
    const rg_instance *want;
    int matched;
} seen;

static int note(void *ctx, const rg_instance *in)
{
    seen *s = ctx;
    if (in == s->want)
        s->matched = 1;
    return 0;
}

/* Interprets one coverage probe; aborts when it misbehaves. */
static void probe(const rg_channel *ch, const rg_probe *p)
{
    rg_event ev = {0};
    rg_err err;
    if (rg_event_skip(p->line))
        return;
    if (rg_event_parse(p->line, strlen(p->line), &ev, &err) != 0) {
        fprintf(stderr, "coverage event rejected: %s: %s\n", p->line, err.msg);
        abort();
    }
    seen s = {.want = &ch->instances[p->instance]};
    int rc = rg_interp_event(ch, &ev, 1, note, &s, NULL, &err);
    if (p->expect != RG_EXPECT_NONE &&
        (rc != 0 || s.matched != (p->expect == RG_EXPECT_MATCH))) {
        fprintf(stderr, "coverage event for '%s' (%s) misbehaved: %s\n",
                s.want->name,
                p->expect == RG_EXPECT_MATCH ? "match" : "no match",
                rc ? err.msg : "wrong outcome");
        abort();
    }
    rg_event_release(&ev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    const char *sep = memmem(text, size, "\n%%\n", 4);
    size_t clen = sep ? (size_t)(sep - text) + 1 : size;
    const char *events = sep ? sep + 4 : NULL;
    size_t elen = sep ? size - clen - 3 : 0;
    rg_channel *ch = NULL;
    rg_supply sup;
    rg_corpus cov = {0};
    FILE *in = NULL;
    rg_err err;
    rg_supply_init(&sup);

    if (rg_engine_parse(text, clen, &ch, &err) != 0)
        goto cleanup;
    if (rg_supply_observe_sensor(&sup, &err) != 0)
        abort(); /* static data */
    if (elen > 0 && (in = fmemopen((void *)events, elen, "rb")) != NULL) {
        rg_supply_observe_file(&sup, in, &err);
        rewind(in);
    }
    int rc = rg_corpus_build(ch, &sup, &cov, &err);
    if (rc == RG_EINTERNAL) {
        fprintf(stderr, "coverage: %s\n", err.msg);
        abort();
    }
    for (size_t i = 0; rc == 0 && i < cov.n; i++)
        probe(ch, &cov.items[i]);
    if (in)
        rg_interp_run(ch, in, NULL, NULL, &err);
cleanup:
    if (in)
        fclose(in);
    rg_corpus_release(&cov);
    rg_supply_release(&sup);
    rg_channel_free(ch);
    return 0;
}
