/* selftest.c - see selftest.h. */
#include "selftest.h"

#include "engine/corpus.h"
#include "engine/event.h"
#include "engine/sensor.h"

#include <string.h>

typedef struct seen {
    const rg_instance *want; /* the instance a probe was built for */
    bool matched;            /* whether it matched */
} seen;

static int note_match(void *ctx, const rg_instance *in)
{
    seen *s = ctx;
    if (in == s->want)
        s->matched = true;
    return 0;
}

/* Evaluates one line (the lineno-th of corpus `what`); when expect says
 * so, checks that the line matched instance `want` or did not. */
static int run_line(const rg_channel *ch, const char *line, long lineno,
                    const char *what, const rg_instance *want, rg_expect expect,
                    rg_interp_stats *st, rg_err *err)
{
    int rc = 0;
    rg_event ev = {0};
    rg_err lerr;
    seen s = {.want = want};
    rg_err_clear(&lerr);
    if (rg_event_skip(line))
        return 0;
    if ((rc = rg_event_parse(line, strlen(line), &ev, &lerr)) != 0) {
        rg_err_set(err, rc, "%sevent line %ld: %s", what, lineno, lerr.msg);
        goto cleanup;
    }
    /* The interpreter's messages already start with "event line N: ". */
    if ((rc = rg_interp_event(ch, &ev, lineno, note_match, &s, st, &lerr)) !=
        0) {
        rg_err_set(err, rc, "%s%s", what, lerr.msg);
        goto cleanup;
    }
    if (expect != RG_EXPECT_NONE && s.matched != (expect == RG_EXPECT_MATCH))
        rc = rg_err_set(
            err, RG_EINTERNAL,
            "%sevent line %ld: instance '%s' "
            "%s the event built %s it",
            what, lineno, want->name, s.matched ? "matched" : "did not match",
            expect == RG_EXPECT_MATCH ? "to match" : "not to match");
cleanup:
    rg_event_release(&ev);
    return rc;
}

int rg_selftest_run(const rg_channel *ch, const rg_supply *sup, FILE *recorded,
                    rg_interp_stats *st, rg_err *err)
{
    int rc = 0;
    rg_corpus cov = {0};
    size_t nsensor = 0;
    const char *const *sensor = rg_sensor_events(&nsensor);
    if ((rc = rg_corpus_build(ch, sup, &cov, err)) != 0)
        return rc;
    for (size_t i = 0; rc == 0 && i < cov.n; i++)
        rc = run_line(ch, cov.items[i].line, (long)i + 1, "coverage ",
                      &ch->instances[cov.items[i].instance],
                      cov.items[i].expect, st, err);
    for (size_t i = 0; rc == 0 && i < nsensor; i++)
        rc = run_line(ch, sensor[i], (long)i + 1, "sensor ", NULL,
                      RG_EXPECT_NONE, st, err);
    if (rc == 0 && recorded)
        rc = rg_interp_run(ch, recorded, NULL, st, err);
    rg_corpus_release(&cov);
    return rc;
}
