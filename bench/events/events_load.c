/* events_load.c - bench/events' load: the fleet of a real rollout, over
 * HTTP/1.1 keep-alive connections to 127.0.0.1 (see README.md).
 *
 * Each endpoint behaves as an agent with a short check-in interval: it
 * checks in without events (at most once per --poll-ms while it has not
 * been offered the release); once an answer offers release R of channel
 * "bench" it checks in again at once with an `applying R` event, then with
 * a `healthy R` event, then it is done. Every event check-in's time from
 * the first byte sent to the whole answer read is its acknowledgement
 * latency: a 200 answer means its event is durable. Any other answer
 * stops the run (exit 1). Stops by itself when every endpoint is done or
 * after --max-s. Then, as the reference, one pass of event-free check-ins
 * over the whole fleet on the same connections.
 *
 * usage: events_load PORT ENDPOINTS_FILE RELEASE CONNECTIONS POLL_MS MAX_S
 *        SERVER_PID
 * Prints "key value" lines (see run.sh), the server's CPU time per phase
 * among them (read from /proc/SERVER_PID/stat).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { EP_POLL, EP_APPLYING, EP_HEALTHY, EP_DONE, EP_REF };

typedef struct endpoint {
    char id[32];
    char token[80];
    int state;
    int64_t not_before_us; /* EP_POLL: next check-in no sooner */
} endpoint;

#define BUF 65536

typedef struct conn {
    int fd;
    endpoint *ep; /* in flight, or NULL */
    int kind;     /* the state it was sent in */
    int64_t sent_us;
    char out[2048];
    size_t out_len, out_off;
    char in[BUF];
    size_t in_len;
} conn;

typedef struct lat {
    uint32_t *us;
    size_t n, cap;
} lat;

/* A FIFO of endpoint indexes. */
typedef struct ring {
    size_t *at, head, len;
} ring;

static endpoint *eps;
static size_t n_eps;
static int port, ep_fd;
static uint64_t reconnects;
static long release;
static int64_t poll_us;
/* Endpoints with an event to send, and those waiting to poll again (in
 * the order of their not_before_us: each waits the same poll_us). */
static ring ready, polls;

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void push(ring *r, size_t i)
{
    r->at[(r->head + r->len++) % n_eps] = i;
}

static size_t pop(ring *r)
{
    size_t i = r->at[r->head];
    r->head = (r->head + 1) % n_eps;
    r->len--;
    return i;
}

/* Queues endpoint i for what it does next. */
static void requeue(size_t i)
{
    push(eps[i].state == EP_POLL ? &polls : &ready, i);
}

static void lat_add(lat *l, int64_t us)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 1024;
        l->us = realloc(l->us, l->cap * sizeof *l->us);
        if (!l->us)
            exit(2);
    }
    l->us[l->n++] = (uint32_t)us;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* The q-th quantile of l, in ms. */
static double quantile_ms(lat *l, double q)
{
    if (!l->n)
        return 0;
    qsort(l->us, l->n, sizeof *l->us, cmp_u32);
    size_t k = (size_t)(q * (double)(l->n - 1) + 0.5);
    return l->us[k] / 1000.0;
}

/* Formats c's request for endpoint e in state kind. */
static void format_request(conn *c, const endpoint *e, int kind)
{
    char body[512], ev[256] = "", inst[64] = "{}";
    const char *type = kind == EP_APPLYING  ? "applying"
                       : kind == EP_HEALTHY ? "healthy"
                                            : NULL;
    if (type)
        snprintf(ev, sizeof ev,
                 "{\"id\":\"%s-%s\",\"type\":\"%s\",\"channel\":\"bench\","
                 "\"release\":%ld}",
                 e->id, type, type, release);
    if (kind == EP_REF)
        snprintf(inst, sizeof inst, "{\"bench\":{\"release\":%ld}}", release);
    int bn = snprintf(body, sizeof body,
                      "{\"endpoint_id\":\"%s\",\"installed\":%s,"
                      "\"events\":[%s]}",
                      e->id, inst, ev);
    c->out_len = (size_t)snprintf(
        c->out, sizeof c->out,
        "POST /v1/agent/checkin HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
        "Content-Length: %d\r\n\r\n%s",
        e->token, bn, body);
    c->out_off = 0;
}

/* Whether answer body offers the bench release. */
static int offered(const char *body)
{
    char want[48];
    const char *d = strstr(body, "\"desired\":{\"bench\":{");
    snprintf(want, sizeof want, "\"release\":%ld,", release);
    return d && strncmp(d + 20, want, strlen(want)) == 0;
}

/* Length of the whole answer in c->in when it is complete, else 0. */
static size_t answer_len(conn *c)
{
    c->in[c->in_len] = '\0';
    char *end = strstr(c->in, "\r\n\r\n");
    if (!end)
        return 0;
    const char *cl = strcasestr(c->in, "Content-Length:");
    size_t hl = (size_t)(end + 4 - c->in);
    size_t bl = cl && cl < end ? strtoul(cl + 15, NULL, 10) : 0;
    return c->in_len >= hl + bl ? hl + bl : 0;
}

typedef struct run {
    lat events, polls, ref;
    uint64_t offers, done, events_acked;
    int64_t first_event_us, last_event_us;
} run;

/* An answer arrived on c: checks it, moves its endpoint on. */
static void on_answer(run *r, conn *c, int64_t t)
{
    endpoint *e = c->ep;
    long status = strtol(c->in + 9, NULL, 10);
    if (strncmp(c->in, "HTTP/1.1 ", 9) != 0 || status != 200) {
        fprintf(stderr, "events_load: %s answered %.200s\n", e->id, c->in);
        exit(1);
    }
    int64_t took = t - c->sent_us;
    if (c->kind == EP_POLL) {
        lat_add(&r->polls, took);
        if (offered(strstr(c->in, "\r\n\r\n"))) {
            e->state = EP_APPLYING;
            r->offers++;
        }
    } else if (c->kind == EP_REF) {
        lat_add(&r->ref, took);
        e->state = EP_DONE;
        r->done++;
        return;
    } else {
        lat_add(&r->events, took);
        r->events_acked++;
        r->last_event_us = t;
        e->state = c->kind == EP_APPLYING ? EP_HEALTHY : EP_DONE;
        if (e->state == EP_DONE) {
            r->done++;
            return;
        }
    }
    requeue((size_t)(e - eps));
}

/* Gives idle c the next endpoint with work due: one with an event to
 * send, else the longest waiting poll if it is due. Returns whether it
 * did. */
static int next_request(run *r, conn *c, int64_t t)
{
    size_t i;
    if (ready.len)
        i = pop(&ready);
    else if (polls.len && eps[polls.at[polls.head]].not_before_us <= t)
        i = pop(&polls);
    else
        return 0;
    endpoint *e = &eps[i];
    if (e->state == EP_POLL)
        e->not_before_us = t + poll_us;
    else if (e->state != EP_REF && !r->first_event_us)
        r->first_event_us = t;
    c->ep = e;
    c->kind = e->state;
    c->sent_us = t;
    format_request(c, e, e->state);
    return 1;
}

static int connect_one(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        perror("events_load: connect");
        exit(1);
    }
    return fd;
}

/* CPU seconds (user + system) process pid has used, or -1. */
static double cpu_s(long pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* after the command name */
    unsigned long ut = 0, st = 0;
    if (!p ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
               &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* Opens c's connection (again: rollgated closes a connection idle past
 * its timeout; the agent reconnects and sends its check-in again). */
static void reopen(conn *c)
{
    if (c->fd > 0) {
        close(c->fd);
        reconnects++;
    }
    c->fd = connect_one();
    c->in_len = 0;
    c->out_off = 0;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET,
                             .data.ptr = c};
    epoll_ctl(ep_fd, EPOLL_CTL_ADD, c->fd, &ev);
}

/* Sends what c has left to send; reads what came. Returns -1 on a closed
 * or broken connection. */
static int pump(conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
                         MSG_NOSIGNAL);
        if (n < 0)
            return errno == EAGAIN ? 0 : -1;
        c->out_off += (size_t)n;
    }
    for (;;) {
        ssize_t n =
            recv(c->fd, c->in + c->in_len, BUF - 1 - c->in_len, MSG_DONTWAIT);
        if (n == 0)
            return -1;
        if (n < 0)
            return errno == EAGAIN ? 0 : -1;
        c->in_len += (size_t)n;
    }
}

/* Sends c's request, on a new connection if its own was closed. */
static void send_or_reopen(conn *c)
{
    for (int tries = 0; pump(c) < 0; tries++) {
        if (tries == 3) {
            fprintf(stderr, "events_load: cannot reach the server\n");
            exit(1);
        }
        reopen(c);
    }
}

/* Drives the connections until every endpoint is done or max_s passed.
 * Returns the seconds it took. */
static double drive(run *r, conn *cs, int n_conns, int max_s)
{
    int64_t start = now_us(), deadline = start + (int64_t)max_s * 1000000;
    struct epoll_event evs[256];
    while (r->done < n_eps && now_us() < deadline) {
        int64_t t = now_us();
        for (int k = 0; k < n_conns; k++) {
            conn *c = &cs[k];
            if (!c->ep && next_request(r, c, t))
                send_or_reopen(c);
        }
        int n = epoll_wait(ep_fd, evs, 256, 10);
        t = now_us();
        for (int k = 0; k < n; k++) {
            conn *c = evs[k].data.ptr;
            if (pump(c) < 0) {
                reopen(c);
                if (c->ep)
                    send_or_reopen(c);
                continue;
            }
            size_t len = c->ep ? answer_len(c) : 0;
            if (!len)
                continue;
            on_answer(r, c, t);
            memmove(c->in, c->in + len, c->in_len - len);
            c->in_len -= len;
            c->ep = NULL;
            if (next_request(r, c, t))
                send_or_reopen(c);
        }
    }
    return (double)(now_us() - start) / 1e6;
}

static void load_endpoints(const char *path)
{
    FILE *f = fopen(path, "r");
    size_t cap = 1024;
    eps = malloc(cap * sizeof *eps);
    if (!f || !eps)
        exit(2);
    endpoint e = {0};
    while (fscanf(f, "%31s %79s", e.id, e.token) == 2) {
        if (n_eps == cap && !(eps = realloc(eps, (cap *= 2) * sizeof *eps)))
            exit(2);
        eps[n_eps++] = e;
    }
    fclose(f);
    ready.at = malloc(n_eps * sizeof *ready.at);
    polls.at = malloc(n_eps * sizeof *polls.at);
    if (!ready.at || !polls.at || !n_eps)
        exit(2);
}

int main(int argc, char **argv)
{
    if (argc != 8) {
        fprintf(stderr, "usage: events_load PORT ENDPOINTS_FILE RELEASE "
                        "CONNECTIONS POLL_MS MAX_S SERVER_PID\n");
        return 2;
    }
    port = (int)strtol(argv[1], NULL, 10);
    int n_conns = (int)strtol(argv[4], NULL, 10);
    int max_s = (int)strtol(argv[6], NULL, 10);
    release = strtol(argv[3], NULL, 10);
    poll_us = strtol(argv[5], NULL, 10) * 1000;
    long server = strtol(argv[7], NULL, 10);
    load_endpoints(argv[2]);
    conn *cs = calloc((size_t)n_conns, sizeof *cs);
    ep_fd = epoll_create1(0);
    if (!cs || ep_fd < 0)
        return 2;
    for (int k = 0; k < n_conns; k++)
        reopen(&cs[k]);
    run r = {0};
    for (size_t i = 0; i < n_eps; i++)
        push(&polls, i);
    double cpu0 = cpu_s(server);
    double rollout_s = drive(&r, cs, n_conns, max_s);
    double cpu1 = cpu_s(server);
    uint64_t done = r.done;
    double ev_s = (double)(r.last_event_us - r.first_event_us) / 1e6;
    printf("endpoints %zu\nhealthy %llu\nrollout_s %.2f\n", n_eps,
           (unsigned long long)done, rollout_s);
    printf("event_checkins %llu\nevents_s %.2f\nevents_per_s %.0f\n",
           (unsigned long long)r.events_acked, ev_s,
           ev_s > 0 ? (double)r.events_acked / ev_s : 0);
    printf("event_p50_ms %.2f\nevent_p99_ms %.2f\n",
           quantile_ms(&r.events, 0.5), quantile_ms(&r.events, 0.99));
    printf("server_cpu_rollout_s %.2f\n", cpu1 - cpu0);
    printf("poll_checkins %zu\npoll_p50_ms %.2f\npoll_p99_ms %.2f\n", r.polls.n,
           quantile_ms(&r.polls, 0.5), quantile_ms(&r.polls, 0.99));
    if (done < n_eps)
        return 1; /* the rollout did not reach everyone in time */
    /* The reference: every endpoint once more, without events. */
    r.done = 0;
    ready.head = ready.len = 0;
    for (size_t i = 0; i < n_eps; i++) {
        eps[i].state = EP_REF;
        push(&ready, i);
    }
    double ref_s = drive(&r, cs, n_conns, max_s);
    printf("server_cpu_ref_s %.2f\n", cpu_s(server) - cpu1);
    printf("ref_checkins %zu\nref_s %.2f\nref_per_s %.0f\n", r.ref.n, ref_s,
           (double)r.ref.n / ref_s);
    printf("ref_p50_ms %.2f\nref_p99_ms %.2f\n", quantile_ms(&r.ref, 0.5),
           quantile_ms(&r.ref, 0.99));
    printf("reconnects %llu\n", (unsigned long long)reconnects);
    return 0;
}
