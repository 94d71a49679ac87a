/*
 * file.h - whole files: the one reader of configuration, PEM, plan,
 * scenario, engine and state files into a capped buffer, and the one
 * durable writer.
 */
#ifndef RG_FILE_H
#define RG_FILE_H

#include "common/buf.h"
#include "common/err.h"

#include <stddef.h>
#include <sys/types.h>

/* Appends the whole file path to out (initialised by the caller, whose cap
 * applies; on error out may hold part of the file). Reads through EINTR.
 * Returns 0, RG_ENOTFOUND when it does not exist, RG_ETOOBIG past out's
 * cap (RG_ENOMEM when memory runs out) or RG_EIO, with err filled
 * ("'<path>' does not exist", "'<path>' is too large", ...). */
int rg_file_read(const char *path, rg_buf *out, rg_err *err);

/* fsyncs the directory dir. Returns 0 or RG_EIO. */
int rg_file_fsync_dir(const char *dir, rg_err *err);

/* Writes n bytes as dir/name durably: to "NAME.tmp" (mode), fsynced,
 * renamed over NAME, then dir fsynced, so after a crash NAME holds either
 * the old or the new bytes, never a mix. Returns 0, RG_ETOOBIG (path too
 * long) or RG_EIO. */
int rg_file_write_durable(const char *dir, const char *name, const void *p,
                          size_t n, mode_t mode, rg_err *err);

#endif
