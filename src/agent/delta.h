/*
 * delta.h - staging a release from a delta (docs/caching.md, "Delta
 * updates").
 *
 * When the server offers a delta from the digest in the active slot, the
 * agent downloads the delta (mirrors first, like any artifact; checked
 * against the delta's digest), rebuilds the release with the active
 * slot's content as the base (common/zpatch.h), writing at most the
 * release's (signed) size, and verifies the result against the release's
 * signed size and sha256 exactly as a full download is verified. Any
 * failure (no delta offered, another base in the active slot, a delta not
 * smaller than the release, a delta that does not download, is corrupt,
 * truncated, expands beyond the size, or rebuilds other bytes) is logged
 * with its reason and the caller downloads the whole artifact instead.
 */
#ifndef RG_AGENT_DELTA_H
#define RG_AGENT_DELTA_H

#include "apply.h"
#include "client.h"
#include "slots.h"

/* Rebuilds d's release into the file part from d's delta and the active
 * slot of s. Returns 0 when part holds the verified release; 1 when no
 * delta applies (none offered, or the active slot is not its base);
 * otherwise the failure's rg_code, part removed. Either way the reason is
 * logged. Called without the channel lock (only the inactive slot is
 * ever written, by this same process). */
int rg_delta_stage(rg_client *c, const rg_slots *s, const rg_desired *d,
                   const char *part);

#endif
