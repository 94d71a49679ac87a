/*
 * args.h - command-line option parsing for the rollgate CLI.
 *
 * A command declares its options as a NULL-ended list of names; a name
 * ending in ':' takes a value ("channel:"), any other is a flag ("json").
 * "OLD=NEW:" declares --OLD an alias of --NEW (an old spelling kept for a
 * release, docs/signing.md): its values are found under NEW.
 * Options are long only: `--name value`, `--name=value`; `--` ends the
 * options; everything else is a positional argument, kept in order. The
 * last of a repeated option wins (rg_cli_args_all gives every one). Parsing
 * never copies: values and positionals point into argv, which must outlive the
 * rg_cli_args.
 */
#ifndef RG_CLI_ARGS_H
#define RG_CLI_ARGS_H

#include "common/err.h"

#include <stdbool.h>
#include <stddef.h>

#define RG_CLI_ARGS_MAX 32 /* options or positionals per command line */

typedef struct rg_cli_args {
    bool as_typed; /* set before parsing: aliases keep the name typed (for
                      a parse against several commands' options) */
    size_t n_opts;
    const char *opt_name[RG_CLI_ARGS_MAX]; /* spec name without ':' suffix */
    size_t opt_name_len[RG_CLI_ARGS_MAX];
    const char *opt_value[RG_CLI_ARGS_MAX]; /* "" for a flag */
    size_t n_pos;
    const char *pos[RG_CLI_ARGS_MAX];
} rg_cli_args;

/* Empties a. */
void rg_cli_args_init(rg_cli_args *a);

/* Parses argv[0..argc) against the option lists specs[0..n_specs) (each
 * NULL-ended; a command passes its own list and the global one) and
 * appends to a (so two calls accumulate). Returns 0, or RG_EINVAL with
 * err naming the unknown option, a missing value, a value given to a flag,
 * or too many arguments (err->field is the option name without dashes). */
int rg_cli_args_parse(rg_cli_args *a, const char *const *const *specs,
                      size_t n_specs, int argc, char **argv, rg_err *err);

/* The value of option name (without dashes or ':'), or NULL when it was
 * not given; "" for a flag that was given. Borrowed from argv. */
const char *rg_cli_args_get(const rg_cli_args *a, const char *name);

/* Every value of option name, in command-line order: copies up to max
 * of them into out and returns how many were given. Borrowed from argv. */
size_t rg_cli_args_all(const rg_cli_args *a, const char *name, const char **out,
                       size_t max);

/* True when flag (or option) name was given. */
bool rg_cli_args_has(const rg_cli_args *a, const char *name);

#endif
