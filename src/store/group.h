/*
 * group.h - group commit (internal to src/store): the queue and the
 * committer thread behind rg_store_write_submit (store.h).
 *
 * Writes submitted from any thread join one queue; one committer thread
 * takes everything queued (at most RG_STORE_GROUP_MAX writes) and hands it
 * to the commit function, which writes the lot in one transaction, then
 * completes each write (its done callback). There is no timer: while one
 * transaction commits, the next one's writes gather, so the batch grows
 * with the load and a lone write waits for nothing but its own commit.
 * Backend-neutral: the commit function is the backend's write_group (or a
 * test's).
 */
#ifndef RG_STORE_GROUP_H
#define RG_STORE_GROUP_H

#include "store/store.h"

#include <stddef.h>

typedef struct rg__group rg__group;

/* Writes w[0 .. n) in one transaction. Sets each w[i]->rc, ->err and
 * ->n_new for what happened to that write alone (a write refused by
 * itself, e.g. an unknown endpoint, wrote nothing). Returns 0 when the
 * transaction committed, else an error (err filled): then none of the
 * writes was kept, and every one of them fails with that error. */
typedef int (*rg__group_commit_fn)(void *ctx, rg_store_write *const *w,
                                   size_t n, rg_err *err);

/* Starts a committer thread calling commit(ctx, ...), at most max writes
 * per call (1..RG_STORE_GROUP_MAX). *out is freed by rg__group_stop.
 * Returns 0, RG_EINVAL for a bad max, or RG_ENOMEM / RG_EIO. */
int rg__group_start(rg__group_commit_fn commit, void *ctx, size_t max,
                    rg__group **out, rg_err *err);

/* Queues w (the caller's until its done callback runs). Returns 0 (done
 * will be called exactly once, from the committer thread), or RG_EUNAVAIL
 * once rg__group_stop has begun (nothing queued; done is not called). */
int rg__group_submit(rg__group *g, rg_store_write *w);

/* Commits what is queued, refuses further writes, joins the thread and
 * frees g. NULL is fine. */
void rg__group_stop(rg__group *g);

/* Counters since start (thread-safe). */
void rg__group_stats(rg__group *g, rg_store_group_stats *out);

#endif
