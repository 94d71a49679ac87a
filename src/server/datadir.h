/*
 * datadir.h - rollgated's data directory as a whole: one process at a
 * time, and refusing to serve one whose database was lost.
 *
 *   DIR/lock        flock'ed exclusively by the process that serves or
 *                   initialises DIR, for its whole life; holds its pid
 *                   (only to name it in the message of whoever is refused)
 *   DIR/rollgate.db the database (server.h: rg_server_db_path)
 *   DIR/artifacts/  artifact files (artifacts.h); made by init, so its
 *                   presence says DIR was initialised
 *
 * The lock is released by the kernel when the process ends, however it
 * ends: a lock file left by a killed process never blocks the next one.
 */
#ifndef RG_DATADIR_H
#define RG_DATADIR_H

#include "common/err.h"

typedef struct rg_datadir_lock rg_datadir_lock;

/* Takes the exclusive lock on DIR/lock (created 0600 if needed) and writes
 * this process's pid into it. *out is owned by the caller and released
 * with rg_datadir_unlock. Returns 0; RG_ECONFLICT when another process
 * holds it (the message names its pid when the file has one);
 * RG_ENOTFOUND when DIR does not exist; RG_EIO; RG_ENOMEM. */
int rg_datadir_lock_take(const char *dir, rg_datadir_lock **out, rg_err *err);

/* Releases the lock and frees l. NULL is ok. */
void rg_datadir_unlock(rg_datadir_lock *l);

/* Whether DIR's database may be served: refuses a database of 0 bytes
 * (with no write-ahead log beside it), and a missing database in a
 * directory that was initialised (it has artifacts/), rather than let
 * SQLite create an empty one. Returns 0; RG_ENOTFOUND for a directory
 * never initialised (run init); RG_EIO with what happened and what to do. */
int rg_datadir_check(const char *dir, rg_err *err);

/* After a failure to open or write DIR's database: when the file system
 * holding DIR is full (less than 1 MiB or no inode free), rewrites err to
 * say so, keeping the original message at its end. */
void rg_datadir_explain(const char *dir, rg_err *err);

#endif
