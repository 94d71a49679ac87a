/*
 * config.h - where the rollgate CLI finds its server URL and token.
 *
 * Each of url, token and ca_file comes from the first source that has it:
 *   1. the --server / --token / --ca-file options,
 *   2. the environment: ROLLGATE_URL / ROLLGATE_TOKEN / ROLLGATE_CA_FILE,
 *   3. a config file: --config FILE, else $ROLLGATE_CONFIG, else
 *      $HOME/.config/rollgate/config, with lines
 *          # a comment
 *          server = http://127.0.0.1:7400   (old spelling: url =)
 *          token = 3f2a...
 *          ca_file = /etc/rollgate/ca.pem
 *      (blank lines and '#' comments allowed, values may be "quoted").
 * and the URL defaults to RG_CLI_DEFAULT_URL. A file named by --config or
 * ROLLGATE_CONFIG must exist; the default one may be absent. The file is
 * read only when a value is still missing after 1 and 2 (ca_file counts
 * as missing only for an https:// URL). ca_file is the
 * PEM file of the CA(s) an https:// server's certificate is verified
 * against (docs/tls.md); without one the system's trust store is used.
 * Verification is never turned off.
 */
#ifndef RG_CLI_CONFIG_H
#define RG_CLI_CONFIG_H

#include "common/err.h"

#include <stddef.h>

#define RG_CLI_DEFAULT_URL "http://127.0.0.1:7400"
#define RG_CLI_URL_MAX 1024
#define RG_CLI_TOKEN_MAX 256
#define RG_CLI_PATH_MAX 1024

/* The sources, as strings that may each be NULL (not given). */
typedef struct rg_cli_config_in {
    const char *flag_url, *flag_token, *flag_config, *flag_ca;
    const char *env_url, *env_token, *env_config, *env_ca;
    const char *home; /* $HOME, for the default file */
} rg_cli_config_in;

typedef struct rg_cli_config {
    char url[RG_CLI_URL_MAX];      /* without trailing '/' */
    char token[RG_CLI_TOKEN_MAX];  /* "" when no source had one */
    char ca_file[RG_CLI_PATH_MAX]; /* "" when no source had one */
    const char *url_from; /* "--server", "ROLLGATE_URL", "config", "default" */
    const char *token_from; /* "--token", "ROLLGATE_TOKEN", "config", "" */
} rg_cli_config;

/* Resolves url and token from in. Empty strings count as not given.
 * Returns 0, or RG_EINVAL for a missing explicit file, a malformed line
 * (message with path and line number), an unknown key, a URL that is not
 * http:// or https://, or a value too long; RG_EIO when the file cannot be
 * read. */
int rg_cli_config_resolve(const rg_cli_config_in *in, rg_cli_config *out,
                          rg_err *err);

/* Parses config file text (len bytes) named path (for messages) and sets
 * out->url / token / ca_file from it; values absent from the text leave
 * those fields untouched (the *_from fields are not set). Same errors as
 * rg_cli_config_resolve. */
int rg_cli_config_parse(const char *text, size_t len, const char *path,
                        rg_cli_config *out, rg_err *err);

#endif
