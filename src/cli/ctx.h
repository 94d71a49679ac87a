/*
 * ctx.h - what every rollgate subcommand works with: the command context
 * and the helpers the cmd_*.c files share (API calls, printing, usage
 * errors). Internal to src/cli.
 *
 * A command is `int run(rg_cli *cli, const rg_cli_args *a)`: positionals
 * after the command words are a->pos[0..n_pos). It returns 0, or a
 * negative rg_code with cli->err filled; rg__cli_usage marks the failure
 * as the user's (exit 2).
 */
#ifndef RG_CLI_CTX_H
#define RG_CLI_CTX_H

#include "cli/args.h"
#include "cli/client.h"
#include "cli/table.h"
#include "common/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct rg_cli {
    const char *command; /* "release create", names the command in errors */
    bool json;           /* --json: print the server's JSON */
    FILE *out;           /* where results go */
    int64_t now_ms;      /* "now" for relative times */
    rg_cli_http http;
    rg_err err;
    bool usage;   /* the failure is a usage error */
    bool refused; /* the failure is the server's verdict although its last
                     answer was a success (a failed preflight): exit 1 */
} rg_cli;

typedef struct rg_cli_command {
    const char *group;       /* "release" */
    const char *verb;        /* "create", or NULL for one-word commands */
    const char *synopsis;    /* arguments after the command words */
    const char *summary;     /* one line */
    const char *details;     /* option descriptions, lines of "  --x  ..." */
    const char *const *opts; /* NULL-ended option spec (see args.h) */
    size_t pos_min, pos_max;
    bool needs_token;
    int (*run)(rg_cli *cli, const rg_cli_args *a);
} rg_cli_command;

/* Fails with a usage error (exit 2): sets cli->err (RG_EINVAL) and
 * cli->usage. Returns RG_EINVAL. */
int rg__cli_usage(rg_cli *cli, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Calls the API (see rg_cli_http_json); *out is a new reference on
 * success. Returns 0 or negative with cli->err filled. */
int rg__cli_call(rg_cli *cli, const char *method, const char *path,
                 const json_t *body, json_t **out);

/* Like rg__cli_call with the path built from a printf format (numbers
 * only: string parts must be escaped with rg_cli_url_escape first). */
int rg__cli_callf(rg_cli *cli, const char *method, const json_t *body,
                  json_t **out, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* GETs list route path (which may carry a query already) page after page
 * (?limit=&after=, following "next_after", docs/api.md) and gives
 * {key: [every item]} in *out (new reference). max > 0: at most max
 * items. Returns 0 or negative with cli->err filled. */
int rg__cli_list(rg_cli *cli, const char *path, const char *key, int64_t max,
                 json_t **out);

/* Prints v as indented JSON and a newline. Returns 0 or RG_EIO. */
int rg__cli_print_json(rg_cli *cli, const json_t *v);

/* Prints t to cli->out and releases it. Returns 0 or negative with
 * cli->err filled. */
int rg__cli_print_table(rg_cli *cli, rg_cli_table *t);

/* A list command's table: key names the answer's array, headers the
 * columns (NULL-ended); layout (NULL: none) sets alignments and widths on
 * the initialised table; row adds one row's cells for item. */
typedef struct rg__cli_listing {
    const char *key;
    const char *const *headers;
    void (*layout)(rg_cli_table *t);
    void (*row)(rg_cli *cli, rg_cli_table *t, const json_t *item);
} rg__cli_listing;

/* Lists every item of path (rg__cli_list under l->key): with --json prints
 * the answer, else a table of one row per item. Returns 0 or negative with
 * cli->err filled. */
int rg__cli_list_show(rg_cli *cli, const char *path, const rg__cli_listing *l);

/* rg__cli_list_show of base with each option of names (NULL-terminated)
 * that a holds as a query argument of the same name ("1" for a flag): the
 * server filters. */
int rg__cli_list_filtered(rg_cli *cli, const rg_cli_args *a, const char *base,
                          const char *const *names, const rg__cli_listing *l);

/* The value of required option name, or a usage error. */
int rg__cli_need(rg_cli *cli, const rg_cli_args *a, const char *name,
                 const char **out);

/* Option name as an integer in [min, max]; *given says whether it was
 * there (may be NULL when the option is required). Usage error when it is
 * malformed, out of range, or required (given == NULL) and missing. */
int rg__cli_opt_int(rg_cli *cli, const rg_cli_args *a, const char *name,
                    int64_t min, int64_t max, int64_t *out, bool *given);

/* Option name as a duration in seconds (see rg_cli_parse_duration);
 * *given says whether it was there. */
int rg__cli_opt_duration(rg_cli *cli, const rg_cli_args *a, const char *name,
                         int64_t *seconds, bool *given);

/* Parses positional s as a positive numeric id of a `what` ("rollout"). */
int rg__cli_id(rg_cli *cli, const char *what, const char *s, int64_t *id);

/* Time ms as "2026-11-26T03:40:00Z (5m ago)" into out (RG_CLI_FMT_MAX*2
 * bytes are enough); "-" for ms <= 0. */
void rg__cli_when(const rg_cli *cli, int64_t ms, char *out, size_t n);

/* Sleeps ms milliseconds (resumed after signals), between polls. */
void rg__cli_sleep_ms(int64_t ms);

#endif
