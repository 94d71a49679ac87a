/* api_fleet.c - GET /v1/fleet: the fleet's size, its online share and its
 * endpoints by stratum and by installed release, for the dashboard's
 * overview (docs/dashboard.md).
 *
 * The answer is one pass over the fleet table, kept and served again for
 * RG_FLEET_SUMMARY_MS (kept.h): however many pages are open, the fleet is
 * scanned at most once per period (the orchestrator's tick scans it every
 * second for the gate). An endpoint is online when it checked in within the
 * last two check-in intervals (--interval). */
#include "api.h"

#include "common/buf.h"
#include "common/json.h"
#include "server/fleet.h"
#include "server/kept.h"

#include <stdlib.h>
#include <string.h>

#define RG_FLEET_SUMMARY_MS 5000
#define SUMMARY_RELEASES 1024 /* distinct installed releases counted */

typedef struct tally {
    int64_t online_after; /* last check-in after this: online */
    uint64_t endpoints, online;
    uint64_t *st_n, *st_online; /* per stratum index */
    uint32_t n_strata;
    uint32_t rel[SUMMARY_RELEASES]; /* release ids, 0: free */
    uint64_t rel_n[SUMMARY_RELEASES];
} tally;

static void count_release(tally *t, uint32_t id)
{
    uint32_t h = (id * 2654435761u) % SUMMARY_RELEASES;
    for (uint32_t i = 0; i < SUMMARY_RELEASES; i++) {
        uint32_t k = (h + i) % SUMMARY_RELEASES;
        if (t->rel[k] == 0)
            t->rel[k] = id;
        if (t->rel[k] == id) {
            t->rel_n[k]++;
            return;
        }
    }
}

static int count_one(void *ctx, const rg_fleet_view *v)
{
    tally *t = ctx;
    bool online = v->last_seen_ms > t->online_after;
    t->endpoints++;
    t->online += online;
    if (v->stratum < t->n_strata) {
        t->st_n[v->stratum]++;
        t->st_online[v->stratum] += online;
    }
    for (size_t i = 0; i < RG_FLEET_CHANNELS; i++)
        if (v->installed[i])
            count_release(t, v->installed[i]);
    return 0;
}

/* The strata of t with endpoints, as [{"name","endpoints","online"}]. */
static json_t *strata_json(rg_server *srv, const tally *t)
{
    json_t *a = json_array();
    char name[128];
    for (uint32_t s = 0; a && s < t->n_strata; s++) {
        if (!t->st_n[s])
            continue;
        rg_fleet_stratum_name(srv->fleet, s, name, sizeof name);
        json_array_append_new(a,
                              json_pack("{s:s,s:I,s:I}", "name", name,
                                        "endpoints", (json_int_t)t->st_n[s],
                                        "online", (json_int_t)t->st_online[s]));
    }
    return a;
}

/* The installed releases of t, as [{"channel","version","release",
 * "endpoints"}] (a release the store no longer knows is left out). */
static json_t *versions_json(rg_server *srv, const tally *t)
{
    json_t *a = json_array();
    for (size_t k = 0; a && k < SUMMARY_RELEASES; k++) {
        rg_release_rec rel;
        rg_err err;
        if (!t->rel[k] ||
            rg_store_release_get(srv->store, t->rel[k], &rel, &err) != 0)
            continue;
        json_array_append_new(
            a, json_pack("{s:s,s:I,s:I,s:I}", "channel", rel.channel, "version",
                         (json_int_t)rel.version, "release", (json_int_t)rel.id,
                         "endpoints", (json_int_t)t->rel_n[k]));
    }
    return a;
}

/* Scans the fleet into a new summary object (NULL when out of memory). */
static json_t *summary_build(rg_server *srv, int64_t now)
{
    int64_t window_s = 2 * (int64_t)srv->cfg.checkin_interval_s;
    tally *t = calloc(1, sizeof *t);
    json_t *out = NULL;
    if (!t)
        return NULL;
    t->n_strata = rg_fleet_strata(srv->fleet);
    t->online_after = now - window_s * 1000;
    t->st_n = calloc(t->n_strata + 1, sizeof *t->st_n);
    t->st_online = calloc(t->n_strata + 1, sizeof *t->st_online);
    if (t->st_n && t->st_online) {
        rg_fleet_scan(srv->fleet, count_one, t);
        out = json_pack("{s:I,s:I,s:I,s:I,s:o,s:o}", "at_ms", (json_int_t)now,
                        "endpoints", (json_int_t)t->endpoints, "online",
                        (json_int_t)t->online, "online_window_s",
                        (json_int_t)window_s, "strata", strata_json(srv, t),
                        "versions", versions_json(srv, t));
    }
    free(t->st_n);
    free(t->st_online);
    free(t);
    return out;
}

/* Builds the summary's text (rg_kept_build). */
static int summary_text(rg_server *srv, void *ctx, char **text)
{
    (void)ctx;
    json_t *v = summary_build(srv, rg_clock_now(srv->clock));
    *text = v ? rg_json_dump(v) : NULL;
    json_decref(v);
    return *text ? 0 : RG_ENOMEM;
}

void rg_api_fleet_summary(rg_server *srv, rg_req *req, rg_resp *resp)
{
    rg_buf b;
    rg_buf_init(&b, 16 * RG_HTTP_JSON_MAX);
    if (rg_kept_answer(srv, "fleet", RG_FLEET_SUMMARY_MS, summary_text, NULL,
                       &b) != 0) {
        rg_buf_release(&b);
        rg_resp_errorf(resp, RG_ENOMEM, NULL, "out of memory");
        return;
    }
    rg_resp_json_buf(resp, 200, &b);
}
