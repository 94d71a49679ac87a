/* kept.c - answers kept by a key for a period (kept.h). */
#include "server/kept.h"

#include "common/err.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct kept {
    const void *owner; /* the fleet the answer was built from */
    char key[RG_KEPT_KEY_MAX];
    int64_t at_ms;
    char *text; /* NULL: a free slot */
} kept;

static pthread_mutex_t kept_mu = PTHREAD_MUTEX_INITIALIZER;
static kept slots[RG_KEPT_KEYS];

/* The slot kept for (owner, key), else a free one, else the oldest. */
static kept *slot_for(const void *owner, const char *key)
{
    kept *pick = &slots[0];
    for (size_t i = 0; i < RG_KEPT_KEYS; i++) {
        kept *k = &slots[i];
        if (k->text && k->owner == owner && strcmp(k->key, key) == 0)
            return k;
        if (pick->text && (!k->text || k->at_ms < pick->at_ms))
            pick = k;
    }
    return pick;
}

int rg_kept_answer(rg_server *srv, const char *key, int64_t max_age_ms,
                   rg_kept_build build, void *ctx, rg_buf *out)
{
    char *text = NULL;
    int rc;
    if (strlen(key) >= RG_KEPT_KEY_MAX) {
        if ((rc = build(srv, ctx, &text)) == 0)
            rc = rg_buf_adds(out, text);
        free(text);
        return rc;
    }
    int64_t now = rg_clock_now(srv->clock);
    pthread_mutex_lock(&kept_mu);
    kept *k = slot_for(srv->fleet, key);
    bool fresh = k->text && k->owner == srv->fleet &&
                 strcmp(k->key, key) == 0 && now >= k->at_ms &&
                 now - k->at_ms <= max_age_ms && max_age_ms > 0;
    if (fresh || (rc = build(srv, ctx, &text)) == 0) {
        if (!fresh) {
            free(k->text);
            k->text = text;
            k->owner = srv->fleet;
            k->at_ms = now;
            snprintf(k->key, sizeof k->key, "%s", key);
        }
        rc = rg_buf_adds(out, k->text);
    }
    pthread_mutex_unlock(&kept_mu);
    return rc;
}
