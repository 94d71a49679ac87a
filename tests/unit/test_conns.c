/* Unit tests for the request deadlines of the HTTP adapter's connections
 * (src/server/conns.c), on socket pairs: a cut connection's peer reads end
 * of file. The oldest waiting connection is evicted past the cap; a
 * connection waiting past its header deadline is cut; a body is cut when
 * it falls behind the minimum rate but not while it keeps it; a request
 * being answered is never cut. Deadlines are awaited by polling the peer
 * with a generous bound, never by sleeping.
 * ctest-labels: security */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "server/conns.h"

#include <poll.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct pair {
    int fd[2]; /* [0] the server's side, tracked; [1] the peer */
    rg_conn *c;
} pair;

static void pair_open(rg_conns *cs, pair *p)
{
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, p->fd), 0);
    p->c = rg_conns_add(cs, p->fd[0]);
    assert_non_null(p->c);
}

static void pair_close(rg_conns *cs, pair *p)
{
    rg_conns_remove(cs, p->c);
    close(p->fd[0]);
    close(p->fd[1]);
}

/* Whether the peer reads end of file within wait_ms. */
static bool peer_cut(const pair *p, int wait_ms)
{
    struct pollfd pf = {.fd = p->fd[1], .events = POLLIN};
    char b;
    return poll(&pf, 1, wait_ms) == 1 && read(p->fd[1], &b, 1) == 0;
}

static rg_conns *conns_new(int64_t header_ms, uint64_t rate, size_t cap)
{
    rg_conns_opts o = {
        .header_ms = header_ms, .min_rate = rate, .waiting_cap = cap};
    rg_conns *cs = NULL;
    assert_int_equal(rg_conns_new(&o, &cs, NULL), 0);
    return cs;
}

static void oldest_waiting_evicted(void **state)
{
    (void)state;
    rg_conns *cs = conns_new(3600 * 1000, 1, 2);
    pair p[4];
    for (int i = 0; i < 3; i++)
        pair_open(cs, &p[i]);
    assert_true(peer_cut(&p[0], 0)); /* cut before add returned */
    assert_false(peer_cut(&p[1], 0));
    assert_false(peer_cut(&p[2], 0));
    /* A connection with a request in progress takes no waiting place. */
    rg_conns_headers_in(cs, p[1].c);
    pair_open(cs, &p[3]);
    assert_false(peer_cut(&p[2], 0));
    rg_conns_stats st;
    rg_conns_stats_get(cs, &st);
    assert_int_equal(st.cut_evicted, 1);
    assert_int_equal(st.cut_late, 0);
    for (int i = 0; i < 4; i++)
        pair_close(cs, &p[i]);
    rg_conns_free(cs);
}

static void header_deadline(void **state)
{
    (void)state;
    rg_conns *cs = conns_new(1000, 1, 100);
    pair idle, answering;
    pair_open(cs, &answering);
    rg_conns_headers_in(cs, answering.c);
    rg_conns_answering(cs, answering.c);
    pair_open(cs, &idle);
    assert_true(peer_cut(&idle, 30000));
    assert_false(peer_cut(&answering, 0));
    rg_conns_stats st;
    rg_conns_stats_get(cs, &st);
    assert_int_equal(st.cut_late, 1);
    pair_close(cs, &idle);
    pair_close(cs, &answering);
    rg_conns_free(cs);
}

static void body_rate(void **state)
{
    (void)state;
    rg_conns *cs = conns_new(1000, 1000, 100);
    pair slow, fast;
    pair_open(cs, &fast);
    pair_open(cs, &slow);
    rg_conns_headers_in(cs, fast.c);
    rg_conns_headers_in(cs, slow.c);
    rg_conns_body(fast.c, 1000ull * 3600 * 1000); /* an hour's worth */
    rg_conns_body(slow.c, 0);
    assert_true(peer_cut(&slow, 30000));
    assert_false(peer_cut(&fast, 0));
    /* Cut is final: a later phase change does not bring it back. */
    rg_conns_waiting(cs, slow.c);
    rg_conns_stats st;
    rg_conns_stats_get(cs, &st);
    assert_int_equal(st.cut_late, 1);
    pair_close(cs, &slow);
    pair_close(cs, &fast);
    rg_conns_free(cs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(oldest_waiting_evicted),
        cmocka_unit_test(header_deadline),
        cmocka_unit_test(body_rate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
