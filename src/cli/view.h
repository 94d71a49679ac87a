/*
 * view.h - reading the server's JSON for human output.
 *
 * Tolerant getters: a missing field or one of an unexpected type gives
 * NULL / 0 / "-" instead of an error, so a server that adds or omits a
 * field never breaks a table (--json shows the exact answer). Strings
 * returned are borrowed from the json_t. Pure.
 */
#ifndef RG_CLI_VIEW_H
#define RG_CLI_VIEW_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* o[key] when it is a string, else dflt. o may be NULL. */
const char *rg_cli_jstr(const json_t *o, const char *key, const char *dflt);

/* o[key] as an integer (reals truncated), else 0. o may be NULL. */
int64_t rg_cli_jint(const json_t *o, const char *key);

/* o[key] as a number (integer or real), else 0. o may be NULL. */
double rg_cli_jnum(const json_t *o, const char *key);

/* Any value as display text into out: strings as they are, numbers,
 * true/false, "-" for NULL or null, compact JSON for arrays and objects
 * (truncated to n). */
void rg_cli_jtext(const json_t *v, char *out, size_t n);

/* The elements of o[key] when it is an array, joined with sep (strings as
 * they are, others as rg_cli_jtext) into out; "" when absent. */
void rg_cli_jjoin(const json_t *o, const char *key, const char *sep, char *out,
                  size_t n);

#endif
