/* cluster.c - see cluster.h. */
#include "server/cluster.h"

#include "common/clock.h"
#include "common/log.h"
#include "common/stopper.h"
#include "server/cluster_tail.h"
#include "server/desired.h"
#include "server/fleet.h"
#include "server/preflight_worker.h"
#include "store/session.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct rg_cluster {
    rg_server *srv;
    rg_store_session *session;
    char node[128];
    _Atomic bool leader, connected;
    pthread_mutex_t mu; /* guards leader_node, pos */
    char leader_node[128];
    rg__tail_pos pos;
    pthread_mutex_t tail_mu; /* one tail at a time; guards tail_ms */
    int64_t tail_ms;         /* monotonic start of the last tail */
    _Atomic uint64_t reloads, announcements, elections, tail_errors;
    int64_t reload_ms, who_ms; /* monotonic: last reload, last who-leads */
    bool failing;              /* the last poll or tail failed (logged) */
    rg_stopper stop;
    pthread_t th;
};

bool rg_cluster_leads(const rg_server *srv)
{
    return !srv->cluster || atomic_load(&srv->cluster->leader);
}

int rg_cluster_catch_up(rg_server *srv, bool force, rg_err *err)
{
    rg_cluster *c = srv->cluster;
    if (!c)
        return 0;
    pthread_mutex_lock(&c->tail_mu);
    int64_t now = rg_monotonic_ms();
    if (!force && now - c->tail_ms < RG_CLUSTER_CATCH_UP_MS) {
        pthread_mutex_unlock(&c->tail_mu); /* read a moment ago */
        return 0;
    }
    c->tail_ms = now;
    pthread_mutex_lock(&c->mu);
    rg__tail_pos pos = c->pos;
    pthread_mutex_unlock(&c->mu);
    int rc = rg__cluster_tail(srv, &pos, err);
    pthread_mutex_lock(&c->mu);
    c->pos = pos;
    pthread_mutex_unlock(&c->mu);
    pthread_mutex_unlock(&c->tail_mu);
    return rc;
}

/* A follower takes the leader's stored strata verdicts of every rollout
 * (the leader has them in memory already). */
static int refresh_strata(rg_server *srv, rg_err *err)
{
    rg_rollout_rec *ro = NULL;
    size_t n = 0;
    int rc = rg_desired_rollouts(srv->desired, &ro, &n, err);
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = rg_strata_refresh(rg_desired_strata(srv->desired), srv->store,
                               srv->fleet, &ro[i], err);
    free(ro);
    return rc;
}

/* Reloads what the announcements kinds (RG_ANNOUNCE_*; all after a lost
 * session or a quiet period) say changed. */
static int reload(rg_cluster *c, unsigned kinds, rg_err *err)
{
    rg_server *srv = c->srv;
    bool leader = atomic_load(&c->leader);
    int rc = 0;
    if (kinds & (RG_ANNOUNCE_STATE | RG_ANNOUNCE_DECISION))
        rc = rg_server_state_changed(srv, err);
    if (rc == 0 && !leader &&
        (kinds & (RG_ANNOUNCE_STATE | RG_ANNOUNCE_DECISION)))
        rc = refresh_strata(srv, err);
    if (rc == 0 && leader && (kinds & RG_ANNOUNCE_RELEASE))
        rc = rg_preflight_worker_rescan(srv, err);
    atomic_fetch_add(&c->reloads, 1);
    return rc;
}

/* Notes a change of leadership. */
static void lead(rg_cluster *c, bool now)
{
    if (atomic_exchange(&c->leader, now) == now)
        return;
    atomic_fetch_add(&c->elections, now);
    rg_info("cluster: node %s %s", c->node,
            now ? "leads: orchestrator, preflight, webhooks and retention "
                  "run here"
                : "leads no more: it follows");
    rg_err err;
    rg_err_clear(&err);
    if (now && rg_preflight_worker_rescan(c->srv, &err) != 0)
        rg_warn("cluster: preflights pending: %s", err.msg);
}

/* Logs a failure once, until a round succeeds again. */
static void note(rg_cluster *c, int rc, const rg_err *err)
{
    if (rc != 0 && !c->failing)
        rg_warn("cluster: %s", err->msg);
    else if (rc == 0 && c->failing)
        rg_info("cluster: store reachable again");
    c->failing = rc != 0;
}

/* Who leads, as the database says (at most once a second). */
static void ask_leader(rg_cluster *c, int64_t now)
{
    char who[128];
    rg_err err;
    if (now - c->who_ms < 1000)
        return;
    c->who_ms = now;
    rg_err_clear(&err);
    if (rg_store_session_leader(c->session, who, sizeof who, &err) != 0)
        who[0] = '\0';
    pthread_mutex_lock(&c->mu);
    memcpy(c->leader_node, who, sizeof who);
    pthread_mutex_unlock(&c->mu);
}

/* One round: announcements and leadership, reloads, tails. */
static void round_once(rg_cluster *c)
{
    rg_session_state st;
    rg_err err;
    rg_err_clear(&err);
    int rc = rg_store_session_poll(c->session, RG_CLUSTER_POLL_MS, &st, &err);
    atomic_store(&c->connected, st.connected);
    lead(c, st.leader);
    int64_t now = rg_monotonic_ms();
    unsigned kinds = st.kinds;
    atomic_fetch_add(&c->announcements, kinds != 0);
    if (st.lost || now - c->reload_ms >= RG_CLUSTER_RELOAD_MS)
        kinds = ~0u;
    if (rc == 0 && kinds) {
        if (kinds == ~0u)
            c->reload_ms = now;
        rc = reload(c, kinds, &err);
    }
    if (rc == 0 && (rc = rg_cluster_catch_up(c->srv, true, &err)) != 0)
        atomic_fetch_add(&c->tail_errors, 1);
    if (st.connected)
        ask_leader(c, now);
    note(c, rc, &err);
}

static void *cluster_main(void *arg)
{
    rg_cluster *c = arg;
    while (!rg_stopper_stopped(&c->stop))
        round_once(c);
    return NULL;
}

static void cluster_free(rg_cluster *c)
{
    rg_store_session_close(c->session);
    pthread_mutex_destroy(&c->mu);
    pthread_mutex_destroy(&c->tail_mu);
    rg_stopper_release(&c->stop);
    free(c);
}

int rg_cluster_start(rg_server *srv, const char *node_id, rg_err *err)
{
    char url[sizeof srv->cfg.store + PATH_MAX];
    rg_store_session *session = NULL;
    int rc = rg_server_store_url(&srv->cfg, url, sizeof url, err);
    if (rc == 0)
        rc = rg_store_session_open(url, node_id, &session, err);
    if (rc != 0 || !session)
        return rc;
    rg_cluster *c = calloc(1, sizeof *c);
    if (!c) {
        rg_store_session_close(session);
        return rg_err_set(err, RG_ENOMEM, "cluster: out of memory");
    }
    c->srv = srv;
    c->session = session;
    snprintf(c->node, sizeof c->node, "%s", node_id);
    pthread_mutex_init(&c->mu, NULL);
    pthread_mutex_init(&c->tail_mu, NULL);
    rg_stopper_init(&c->stop);
    c->reload_ms = rg_monotonic_ms();
    c->pos.at = srv->tail_from;
    rg_fleet_seen_period(srv->fleet, 1);
    srv->cluster = c;
    if (pthread_create(&c->th, NULL, cluster_main, c) != 0) {
        srv->cluster = NULL;
        cluster_free(c);
        return rg_err_set(err, RG_EINTERNAL, "cluster: cannot start thread");
    }
    rg_info("cluster: node %s on a shared store: leading when it holds the "
            "lock",
            node_id);
    return 0;
}

void rg_cluster_stop(rg_server *srv)
{
    rg_cluster *c = srv->cluster;
    if (!c)
        return;
    rg_stopper_stop(&c->stop);
    pthread_join(c->th, NULL);
    atomic_store(&c->leader, false);
    srv->cluster = NULL;
    cluster_free(c);
}

json_t *rg_cluster_json(rg_server *srv)
{
    rg_cluster *c = srv->cluster;
    if (!c)
        return json_pack("{s:s,s:b,s:s,s:s,s:b}", "node", srv->node_id,
                         "leader", true, "leader_node", srv->node_id, "store",
                         "sqlite", "session", true);
    pthread_mutex_lock(&c->mu);
    json_t *j = json_pack(
        "{s:s,s:b,s:s,s:s,s:b,s:{s:I,s:I,s:I},s:I,s:I}", "node", c->node,
        "leader", atomic_load(&c->leader), "leader_node", c->leader_node,
        "store", "postgres", "session", atomic_load(&c->connected), "tailed",
        "endpoints", (json_int_t)c->pos.endpoints, "events",
        (json_int_t)c->pos.events, "offers", (json_int_t)c->pos.offers,
        "reloads", (json_int_t)atomic_load(&c->reloads), "announcements",
        (json_int_t)atomic_load(&c->announcements));
    pthread_mutex_unlock(&c->mu);
    return j;
}

int rg_cluster_metrics(rg_server *srv, rg_buf *out)
{
    rg_cluster *c = srv->cluster;
    rg__tail_pos pos = {0};
    if (c) {
        pthread_mutex_lock(&c->mu);
        pos = c->pos;
        pthread_mutex_unlock(&c->mu);
    }
    int rc = rg_buf_printf(
        out,
        "# HELP rollgate_cluster_leader 1 when this node leads (runs the "
        "orchestrator)\n# TYPE rollgate_cluster_leader gauge\n"
        "rollgate_cluster_leader{node=\"%s\"} %d\n"
        "# HELP rollgate_cluster_elections_total times this node became "
        "leader\n# TYPE rollgate_cluster_elections_total counter\n"
        "rollgate_cluster_elections_total %llu\n"
        "# HELP rollgate_cluster_tailed_total rows read from other nodes\n"
        "# TYPE rollgate_cluster_tailed_total counter\n"
        "rollgate_cluster_tailed_total{kind=\"endpoints\"} %llu\n"
        "rollgate_cluster_tailed_total{kind=\"events\"} %llu\n"
        "rollgate_cluster_tailed_total{kind=\"offers\"} %llu\n",
        c ? c->node : srv->node_id, rg_cluster_leads(srv) ? 1 : 0,
        c ? (unsigned long long)atomic_load(&c->elections) : 1ull,
        (unsigned long long)pos.endpoints, (unsigned long long)pos.events,
        (unsigned long long)pos.offers);
    return rc;
}
