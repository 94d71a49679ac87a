/* session.c - see session.h: the leader's lock and the announcements on a
 * PostgreSQL session of their own. */
#include "store/session.h"

#include "common/log.h"
#include "common/redact.h"

#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* How often a follower tries the lock, a leader checks its session, and a
 * lost session connects again. */
#define RETRY_MS 1000

#define KEY_TEXT "7162840672"
_Static_assert(RG_SESSION_LEADER_KEY == 7162840672LL, "KEY_TEXT");

static const char *const names[] = {"state", "decision", "endpoint", "flag",
                                    "release"};
#define N_NAMES (sizeof names / sizeof names[0])

struct rg_store_session {
    PGconn *pg; /* NULL: not connected */
    char url[1024];
    char where[256]; /* the URL without its password */
    char node[128];
    bool leader;
    int64_t next_ms; /* monotonic time of the next lock try or check */
};

const char *rg_store_announce_name(unsigned kind)
{
    for (size_t i = 0; i < N_NAMES; i++)
        if (kind == 1u << i)
            return names[i];
    return NULL;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int rg_store_session_open(const char *url, const char *node_id,
                          rg_store_session **out, rg_err *err)
{
    *out = NULL;
    if (strncmp(url, "postgres://", 11) != 0 &&
        strncmp(url, "postgresql://", 13) != 0)
        return 0;
    if (strlen(url) >= sizeof((rg_store_session *)0)->url ||
        strlen(node_id) >= sizeof((rg_store_session *)0)->node)
        return rg_err_set(err, RG_EINVAL, "session: URL or node id too long");
    rg_store_session *s = calloc(1, sizeof *s);
    if (!s)
        return rg_err_set(err, RG_ENOMEM, "session: out of memory");
    snprintf(s->url, sizeof s->url, "%s", url);
    snprintf(s->node, sizeof s->node, "%s", node_id);
    rg_url_redact(url, s->where, sizeof s->where);
    *out = s;
    return 0;
}

/* Drops the connection (and with it the lock). */
static void drop(rg_store_session *s)
{
    PQfinish(s->pg);
    s->pg = NULL;
    s->leader = false;
}

void rg_store_session_close(rg_store_session *s)
{
    if (!s)
        return;
    drop(s);
    free(s);
}

/* Runs sql; true when it returned tuples whose first value is "t" (or
 * succeeded, for a command). */
static bool ask(rg_store_session *s, const char *sql)
{
    PGresult *res = PQexec(s->pg, sql);
    ExecStatusType st = PQresultStatus(res);
    bool ok = st == PGRES_COMMAND_OK ||
              (st == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
               strcmp(PQgetvalue(res, 0, 0), "t") == 0);
    PQclear(res);
    return ok;
}

static void no_notices(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* Connects and listens. Returns 0 or RG_EUNAVAIL. */
static int connect_session(rg_store_session *s, rg_err *err)
{
    const char *const keys[] = {"dbname",
                                "application_name",
                                "connect_timeout",
                                "keepalives_idle",
                                "keepalives_interval",
                                "keepalives_count",
                                NULL};
    const char *const vals[] = {s->url, s->node, "5", "5", "2", "2", NULL};
    s->pg = PQconnectdbParams(keys, vals, 1);
    if (PQstatus(s->pg) != CONNECTION_OK || !ask(s, "LISTEN rollgate")) {
        const char *msg = s->pg ? PQerrorMessage(s->pg) : "out of memory";
        int rc = rg_err_set(err, RG_EUNAVAIL,
                            "session: store '%s' unreachable: %.*s", s->where,
                            (int)strcspn(msg, "\n"), msg);
        drop(s);
        return rc;
    }
    PQsetNoticeProcessor(s->pg, no_notices, NULL);
    return 0;
}

/* Waits up to wait_ms for the socket, reads what came and collects the
 * announcements into *kinds. Returns false when the connection is lost. */
static bool receive(rg_store_session *s, int wait_ms, unsigned *kinds)
{
    struct pollfd p = {.fd = PQsocket(s->pg), .events = POLLIN};
    if (p.fd < 0)
        return false;
    if (wait_ms > 0 && poll(&p, 1, wait_ms) < 0)
        return true; /* interrupted: nothing read */
    if (!PQconsumeInput(s->pg) || PQstatus(s->pg) != CONNECTION_OK)
        return false;
    PGnotify *n;
    while ((n = PQnotifies(s->pg))) {
        for (size_t i = 0; i < N_NAMES; i++)
            if (strcmp(n->extra, names[i]) == 0)
                *kinds |= 1u << i;
        PQfreemem(n);
    }
    return true;
}

int rg_store_session_poll(rg_store_session *s, int wait_ms,
                          rg_session_state *st, rg_err *err)
{
    memset(st, 0, sizeof *st);
    if (!s) {
        st->connected = st->leader = true;
        return 0;
    }
    int rc = 0;
    if (s->pg && !receive(s, wait_ms, &st->kinds)) {
        rg_warn("session: connection to '%s' lost%s", s->where,
                s->leader ? ": leading no more" : "");
        drop(s);
        st->lost = true;
    } else if (!s->pg) {
        struct timespec ts = {.tv_sec = wait_ms / 1000,
                              .tv_nsec = (wait_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    int64_t now = mono_ms();
    if (now >= s->next_ms) {
        s->next_ms = now + RETRY_MS;
        if (!s->pg && (rc = connect_session(s, err)) == 0)
            st->lost = true; /* announcements may have been missed */
        if (s->pg && !s->leader)
            s->leader = ask(s, "SELECT pg_try_advisory_lock(" KEY_TEXT ")");
        else if (s->pg && !ask(s, "SELECT true")) {
            rg_warn("session: connection to '%s' lost: leading no more",
                    s->where);
            drop(s);
            st->lost = true;
        }
    }
    if (s->pg && PQstatus(s->pg) != CONNECTION_OK)
        drop(s);
    st->connected = s->pg != NULL;
    st->leader = s->leader;
    if (rc == 0 && !s->pg)
        rc = rg_err_set(err, RG_EUNAVAIL, "session: store '%s' unreachable",
                        s->where);
    return rc;
}

int rg_store_session_leader(rg_store_session *s, char *out, size_t cap,
                            rg_err *err)
{
    if (cap)
        out[0] = '\0';
    if (!s)
        return 0;
    if (!s->pg)
        return rg_err_set(err, RG_EUNAVAIL, "session: store '%s' unreachable",
                          s->where);
    /* A bigint key is held as classid (high 32 bits), objid (low), objsubid
     * 1. */
    PGresult *res = PQexec(
        s->pg,
        "SELECT a.application_name FROM pg_locks l"
        " JOIN pg_stat_activity a ON a.pid = l.pid"
        " WHERE l.locktype = 'advisory' AND l.granted"
        " AND l.objsubid = 1"
        " AND ((l.classid::bigint << 32) | l.objid::bigint) = " KEY_TEXT);
    int rc = 0;
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        rc = rg_err_set(err, RG_EUNAVAIL, "session: who leads: %.*s",
                        (int)strcspn(PQerrorMessage(s->pg), "\n"),
                        PQerrorMessage(s->pg));
    else if (PQntuples(res) > 0 && cap)
        snprintf(out, cap, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return rc;
}
