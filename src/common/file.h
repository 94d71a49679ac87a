/*
 * file.h - reading a whole file into a capped buffer: the one reader of
 * configuration, PEM, plan, scenario, engine and state files.
 */
#ifndef RG_FILE_H
#define RG_FILE_H

#include "common/buf.h"
#include "common/err.h"

/* Appends the whole file path to out (initialised by the caller, whose cap
 * applies; on error out may hold part of the file). Reads through EINTR.
 * Returns 0, RG_ENOTFOUND when it does not exist, RG_ETOOBIG past out's
 * cap (RG_ENOMEM when memory runs out) or RG_EIO, with err filled
 * ("'<path>' does not exist", "'<path>' is too large", ...). */
int rg_file_read(const char *path, rg_buf *out, rg_err *err);

#endif
