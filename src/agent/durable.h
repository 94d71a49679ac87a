/*
 * durable.h - crash-safe file helpers for the agent's state directory.
 *
 * Durable writes are common/file.h's rg_file_write_durable. Internal to
 * the agent (rg__ names).
 */
#ifndef RG_AGENT_DURABLE_H
#define RG_AGENT_DURABLE_H

#include "common/buf.h"
#include "common/err.h"
#include "common/file.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Joins dir "/" name into out (size n). Returns 0 or RG_ETOOBIG. */
int rg__path(char *out, size_t n, const char *dir, const char *name);

/* Creates dir (and missing parents) with mode 0700. Returns 0 or RG_EIO. */
int rg__mkdirs(const char *dir, rg_err *err);

/* Serialises v and writes it durably as dir/name (mode 0600). */
int rg__write_json(const char *dir, const char *name, const json_t *v,
                   rg_err *err);

/* Reads dir/name as a JSON object (at most 1 MiB). Returns a new reference
 * (caller decrefs) or NULL with err filled (RG_ENOTFOUND when missing). */
json_t *rg__read_json(const char *dir, const char *name, rg_err *err);

/* rg__read_json with a cap of max bytes instead of 1 MiB. */
json_t *rg__read_json_max(const char *dir, const char *name, size_t max,
                          rg_err *err);

/* Unlinks dir/name (missing is fine) and fsyncs dir. Returns 0 or RG_EIO. */
int rg__remove_durable(const char *dir, const char *name, rg_err *err);

/* True when path exists. */
bool rg__exists(const char *path);

#endif
