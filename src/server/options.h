/*
 * options.h - rollgated's settings, one table for every source: the
 * defaults, a configuration file (--config FILE, lines `name = value` in
 * the format of common/kv.h, each name a long option's without "--" and
 * with '_' for '-') and the command line (--name value). Flags win over
 * the file, the file over the defaults. Each option is either live (a
 * SIGHUP applies a new value, reload.h) or takes a restart.
 * docs/operations.md, "Configuration file", lists them.
 */
#ifndef RG_OPTIONS_H
#define RG_OPTIONS_H

#include "server/server.h"

#include <stdbool.h>
#include <stdio.h>

#define RG_OPTIONS_MAX 40             /* options in the table, at most */
#define RG_OPTIONS_FILE_MAX (1 << 20) /* bytes of a config file */
#define RG_OPTIONS_FROM_MAX 1100      /* "FILE:LINE" */

/* The settings and where each came from. argv is borrowed (it must
 * outlive the options: a reload reads the same flags again). */
typedef struct rg_server_options {
    rg_server_config cfg;
    char config[PATH_MAX]; /* --config FILE, "" for none */
    bool print;            /* --print-config was given */
    char from[RG_OPTIONS_MAX][RG_OPTIONS_FROM_MAX]; /* "default", "--NAME",
                                                       "FILE:LINE" */
    int argc;
    char **argv;
} rg_server_options;

/* Fills o from the defaults, then the file named by --config in
 * argv[0..argc), then the other flags there. Returns 0, or RG_EINVAL /
 * RG_EIO with a one-line message naming the flag, or the file, line and
 * key: an unknown flag or key, a key set twice in the file, a bad value,
 * a file that cannot be read, --tls-cert without --tls-key. Does not
 * require --data (the caller does). */
int rg_options_load(rg_server_options *o, int argc, char **argv, rg_err *err);

/* Loads next from cur's file and flags again (for a reload); next is
 * then what rollgated would start with now. Same errors. */
int rg_options_reload(const rg_server_options *cur, rg_server_options *next,
                      rg_err *err);

/* How many options the table has; option i's name (long option without
 * "--"), and whether a reload applies it. */
size_t rg_options_count(void);
const char *rg_options_name(size_t i);
bool rg_options_live(size_t i);

/* Option i's value in cfg as it would be written in a file, into out
 * ("" for an unset path). */
void rg_options_format(const rg_server_config *cfg, size_t i, char *out,
                       size_t cap);

/* Copies option i's value from src into dst. */
void rg_options_copy(rg_server_config *dst, const rg_server_config *src,
                     size_t i);

/* Writes o as a config file: each option's `name = value` line (a
 * comment for an unset path) after a comment saying where the value
 * came from and whether it is live. */
void rg_options_print(const rg_server_options *o, FILE *f);

#endif
