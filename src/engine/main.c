/*
 * main.c - rollgate-engine, the sample content engine's command line.
 *
 *   rollgate-engine check FILE                     parse and validate
 *   rollgate-engine run FILE < EVENTS              print matches
 *   rollgate-engine selftest FILE [--corpus EVENTS]  coverage + sensor run
 *   rollgate-engine coverage FILE [--corpus EVENTS]  print coverage events
 *
 * rollgate-engine --help prints this usage on stdout (exit status 0).
 * Exit status: 0 success, 1 bad content or an engine error (one line on
 * stderr), 2 usage. --corpus names recorded events: their shapes (field
 * counts per template) are added to the sample sensor's when events are
 * cut short, and selftest also runs them.
 */
#include "common/err.h"
#include "engine/channel.h"
#include "engine/corpus.h"
#include "engine/interp.h"
#include "engine/selftest.h"
#include "engine/supply.h"

#include <stdio.h>
#include <string.h>

static const char usage_text[] =
    "usage: rollgate-engine check FILE\n"
    "       rollgate-engine run FILE < EVENTS\n"
    "       rollgate-engine selftest FILE [--corpus EVENTS]\n"
    "       rollgate-engine coverage FILE [--corpus EVENTS]\n";

static int usage(void)
{
    fputs(usage_text, stderr);
    return 2;
}

/* --help (the man page is made of it, scripts/manpage.py) and --version. */
static int help_or_version(const char *arg)
{
    if (strcmp(arg, "--version") == 0) {
        printf("rollgate-engine %s\n", RG_VERSION);
        return 0;
    }
    if (strcmp(arg, "--help") != 0 && strcmp(arg, "-h") != 0)
        return usage();
    printf("%s\n"
           "  check FILE      parse and validate a channel file's rules\n"
           "  run FILE        match the events on standard input, print the\n"
           "                  matches\n"
           "  selftest FILE   coverage of the rules plus a run of the sample\n"
           "                  sensor's events (and --corpus's recorded ones)\n"
           "  coverage FILE   print the coverage events\n"
           "  --corpus EVENTS recorded events: their shapes are checked too\n"
           "\n"
           "Exit status: 0 success, 1 bad content or an engine error (one\n"
           "line on stderr), 2 usage. docs/engine.md describes the rules.\n",
           usage_text);
    return 0;
}

static void warn_unsafe(void)
{
    if (rg_engine_unsafe())
        fprintf(stderr,
                "rollgate-engine: warning: built with "
                "ROLLGATE_ENGINE_UNSAFE, the field-count check is off\n");
}

/* Builds the supply set: the sample sensor, plus the shapes in the file
 * at corpus (may be NULL), which is left open in *recorded, rewound. */
static int load_supply(rg_supply *sup, const char *corpus, FILE **recorded,
                       rg_err *err)
{
    int rc = rg_supply_observe_sensor(sup, err);
    if (rc != 0 || !corpus)
        return rc;
    *recorded = fopen(corpus, "rb");
    if (!*recorded)
        return rg_err_set(err, RG_EIO, "cannot open '%s'", corpus);
    rc = rg_supply_observe_file(sup, *recorded, err);
    rewind(*recorded);
    return rc;
}

int main(int argc, char **argv)
{
    int rc = 0, status = 1;
    rg_channel *ch = NULL;
    rg_supply sup;
    rg_corpus cov = {0};
    rg_interp_stats st = {0};
    FILE *recorded = NULL;
    rg_err err;
    rg_err_clear(&err);
    rg_supply_init(&sup);
    if (argc == 2)
        return help_or_version(argv[1]);
    if (argc < 3)
        return usage();
    const char *cmd = argv[1], *file = argv[2], *corpus = NULL;
    bool takes_corpus =
        strcmp(cmd, "selftest") == 0 || strcmp(cmd, "coverage") == 0;
    if (argc == 5 && takes_corpus && strcmp(argv[3], "--corpus") == 0)
        corpus = argv[4];
    else if (argc != 3)
        return usage();
    if (strcmp(cmd, "check") != 0 && strcmp(cmd, "run") != 0 && !takes_corpus)
        return usage();

    if ((rc = rg_engine_load(file, &ch, &err)) != 0)
        goto cleanup;
    if (strcmp(cmd, "check") == 0) {
        printf("%s: ok: %zu templates, %zu instances\n", file, ch->ntemplates,
               ch->ninstances);
    } else if (strcmp(cmd, "run") == 0) {
        warn_unsafe();
        rc = rg_interp_run(ch, stdin, stdout, &st, &err);
    } else if ((rc = load_supply(&sup, corpus, &recorded, &err)) != 0) {
        goto cleanup;
    } else if (strcmp(cmd, "coverage") == 0) {
        if ((rc = rg_corpus_build(ch, &sup, &cov, &err)) == 0)
            rg_corpus_write(&cov, stdout);
    } else {
        warn_unsafe();
        rc = rg_selftest_run(ch, &sup, recorded, &st, &err);
        if (rc == 0)
            printf("%s: selftest ok: %zu events, %zu matches, %zu of unknown "
                   "type\n",
                   file, st.events, st.matches, st.unknown);
    }
    if (rc == 0)
        status = 0;
cleanup:
    fflush(stdout);
    if (rc != 0)
        fprintf(stderr, "rollgate-engine: %s: %s\n", file, err.msg);
    if (recorded)
        fclose(recorded);
    rg_corpus_release(&cov);
    rg_supply_release(&sup);
    rg_channel_free(ch);
    return status;
}
