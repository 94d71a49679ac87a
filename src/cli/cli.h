/*
 * cli.h - the rollgate command line: entry point, error line, exit status.
 *
 *   rollgate [--server URL] [--token T] [--config FILE] [--json] GROUP [VERB]
 * ...
 *
 * Exit status: 0 success; 1 the server refused (a 4xx answer); 2 usage
 * error (bad option, missing argument, unreadable local file); 3 the server
 * cannot be reached, timed out, failed (5xx) or answered nonsense. Every
 * failure writes exactly one line to stderr:
 *
 *   rollgate: release create: conflict: version 7 is not above 7 (field:
 * version)
 */
#ifndef RG_CLI_H
#define RG_CLI_H

#include "common/buf.h"

#include <stdbool.h>
#include <stdio.h>

enum {
    RG_CLI_EXIT_OK = 0,
    RG_CLI_EXIT_REFUSED = 1,
    RG_CLI_EXIT_USAGE = 2,
    RG_CLI_EXIT_UNAVAILABLE = 3,
};

/* Runs the command line argv[0..argc) (argv[0] is the program name),
 * reading ROLLGATE_URL, ROLLGATE_TOKEN, ROLLGATE_CONFIG and HOME from the
 * environment, printing results to out and the error line to errout.
 * curl_global_init must have been called. Returns the exit status. */
int rg_cli_run(int argc, char **argv, FILE *out, FILE *errout);

/* Appends the one-line error "rollgate: COMMAND: CODE: MESSAGE (field:
 * FIELD)\n" to out; COMMAND is left out when NULL or empty, the field
 * part when field is NULL or empty. Control characters in the parts
 * become spaces so the result is always one line. Returns rg_buf's
 * error. */
int rg_cli_error_line(rg_buf *out, const char *command, const char *code,
                      const char *msg, const char *field);

/* The exit status for a failure with rg_code code: usage errors 2, a 4xx
 * answer (http_status 400..499) 1, anything else 3. */
int rg_cli_exit_status(int code, long http_status, bool usage);

#endif
