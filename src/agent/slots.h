/*
 * slots.h - a channel's two slots in the agent's state directory.
 *
 *   STATE/channels/NAME/slot-a/{content,meta.json}
 *   STATE/channels/NAME/slot-b/{content,meta.json}
 *   STATE/channels/NAME/active -> slot-a        (symlink)
 *
 * Consumers read STATE/channels/NAME/active/content. Only the inactive
 * slot is ever written: its meta is removed first, the content is moved in
 * (already fsynced) and the meta written durably last, so a slot is
 * complete exactly when meta.json exists and the content matches it. The
 * active link is switched by renaming a new symlink over it, then the
 * directory is fsynced. Every mutation happens under the channel lock
 * (flock on STATE/channels/NAME/lock), shared by every agent process.
 */
#ifndef RG_AGENT_SLOTS_H
#define RG_AGENT_SLOTS_H

#include "common/err.h"
#include "verify.h"

#include <stdbool.h>

#define RG_PATH_MAX 4096

typedef struct rg_slots {
    char name[65];               /* channel name */
    char dir[RG_PATH_MAX - 512]; /* STATE/channels/NAME */
    int lock_fd;                 /* -1 unless locked */
} rg_slots;

/* A slot's letter: 'a', 'b', or 0 for none. */
typedef char rg_slot_id;

/* Sets up s for channel name under state_dir, creating the directories.
 * Returns 0, RG_EINVAL for a bad channel name, or RG_EIO. */
int rg_slots_open(rg_slots *s, const char *state_dir, const char *name,
                  rg_err *err);

/* Takes the channel lock (blocking). Returns 0 or RG_EIO. */
int rg_slots_lock(rg_slots *s, rg_err *err);

/* Releases the channel lock (no-op when not held). */
void rg_slots_unlock(rg_slots *s);

/* The active slot's id, or 0 when nothing is installed. */
rg_slot_id rg_slots_active(const rg_slots *s);

/* The other slot: 'b' for 'a', 'a' for 'b' and for 0. */
rg_slot_id rg_slots_other(rg_slot_id id);

/* Path of slot id's content file into out. */
void rg_slots_content_path(const rg_slots *s, rg_slot_id id,
                           char out[RG_PATH_MAX]);

/* Reads slot id's meta. Returns 0, RG_ENOTFOUND (slot incomplete) or
 * RG_EIO. Does not hash the content. */
int rg_slots_meta(const rg_slots *s, rg_slot_id id, rg_artifact_want *out,
                  rg_err *err);

/* Reads the meta and verifies the content against it (size + sha256).
 * Returns 0 when slot id holds one complete verified version, else an
 * rg_code (RG_ENOTFOUND when empty or half-written). */
int rg_slots_verify(const rg_slots *s, rg_slot_id id, rg_artifact_want *out,
                    rg_err *err);

/* Installs the file at src (complete, fsynced, verified against m) as
 * slot id: meta removed, src renamed to content, meta written, fsyncs.
 * Refuses the active slot (RG_ECONFLICT). Returns 0 or an rg_code. */
int rg_slots_install(rg_slots *s, rg_slot_id id, const char *src,
                     const rg_artifact_want *m, rg_err *err);

/* Points the active link at slot id (atomic rename, dir fsynced); id 0
 * removes the link (nothing installed). Returns 0 or RG_EIO. */
int rg_slots_switch(rg_slots *s, rg_slot_id id, rg_err *err);

/* Startup repair: drops leftover temp files and discards a half-written
 * or corrupt inactive slot. An active slot that does not verify (outside
 * interference) is logged and replaced by the other slot when that one
 * verifies, else the link is removed. Returns 0 or an rg_code. */
int rg_slots_reconcile(rg_slots *s, rg_err *err);

#endif
