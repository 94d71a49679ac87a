/*
 * artifacts.h - content-addressed artifact files under DATA/artifacts.
 *
 * An artifact lives at DATA/artifacts/<first two hex>/<sha256>. Uploads
 * stream into a temporary file (DATA/artifacts/.upload-XXXXXX, same file
 * system) while being hashed; commit fsyncs it, renames it into place and
 * fsyncs the directories, so a file under its digest is always complete.
 * The store records the artifact's metadata (rg_store_artifact_put).
 *
 * Thread-safe: uploads are independent; identical concurrent uploads
 * converge on the same file.
 */
#ifndef RG_ARTIFACTS_H
#define RG_ARTIFACTS_H

#include "server/server.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rg_artifact_upload rg_artifact_upload;

/* Creates DATA/artifacts if needed and removes the temporary files of
 * uploads that a crash left unfinished (call it only while holding the
 * data directory's lock: datadir.h). Returns 0 or RG_EIO. */
int rg_artifacts_init(const rg_server *srv, rg_err *err);

/* Starts an upload of at most max bytes. *out is owned by the caller and
 * freed with rg_artifact_upload_free. Returns 0, RG_EIO or RG_ENOMEM. */
int rg_artifact_upload_begin(const rg_server *srv, uint64_t max,
                             rg_artifact_upload **out, rg_err *err);

/* Appends n bytes (hashing them). Returns 0, RG_ETOOBIG past max, RG_EIO. */
int rg_artifact_upload_write(rg_artifact_upload *u, const void *p, size_t n,
                             rg_err *err);

/* Finishes the upload: fsync, rename to its digest's path, fsync the
 * directories. sha256 receives the hex digest, *size the byte count,
 * *existed whether the file was already there (the temp is then dropped).
 * Returns 0 or RG_EIO. Call at most once. */
int rg_artifact_upload_commit(rg_artifact_upload *u, char sha256[65],
                              uint64_t *size, bool *existed, rg_err *err);

/* Removes the temporary file if not committed and frees u. NULL is ok. */
void rg_artifact_upload_free(rg_artifact_upload *u);

/* The file name of the artifact with this digest
 * (DATA/artifacts/<aa>/<sha256>) into out (cap bytes), whether or not it
 * exists. Returns 0; RG_EINVAL for a malformed digest; RG_EIO when the
 * path does not fit. */
int rg_artifact_path(const rg_server *srv, const char *sha256, char *out,
                     size_t cap, rg_err *err);

/* Opens the artifact with this digest for reading. *fd belongs to the
 * caller (close it or hand it to rg_resp_file), *size is its length.
 * Returns 0; RG_EINVAL for a malformed digest; RG_ENOTFOUND when there is
 * no such file; RG_EIO otherwise. */
int rg_artifact_open(rg_server *srv, const char *sha256, int *fd,
                     uint64_t *size, rg_err *err);

#endif
