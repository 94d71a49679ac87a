/* store_bench: what each store call costs on one backend (bench/store).
 *
 * usage: store_bench URL [N]
 * Opens the store at URL (an SQLite path or a postgres:// URL of an empty
 * database), makes a channel, an artifact and N endpoints, then times the
 * calls the server makes most: each row is one call kind, its count and
 * its mean wall time in microseconds. The last line is
 * `KEY=us ...` for every row, for run.sh to put side by side. */
#include "common/crypto.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ROWS_MAX 16

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static struct row {
    const char *key, *what;
    long calls;
    double us;
} rows[ROWS_MAX];
static size_t n_rows;

static void record(const char *key, const char *what, long calls, double t0)
{
    rows[n_rows++] = (struct row){key, what, calls, (now_us() - t0) / calls};
}

static void check(int rc, const rg_err *err, const char *what)
{
    if (rc == 0)
        return;
    fprintf(stderr, "store_bench: %s: %s\n", what, err->msg);
    exit(1);
}

static int count_ep(void *ctx, const rg_endpoint_rec *e)
{
    (void)e;
    (*(long *)ctx)++;
    return 0;
}

static rg_audit_rec audit(const char *action)
{
    rg_audit_rec a = {.at_ms = 1};
    snprintf(a.actor, sizeof a.actor, "bench");
    snprintf(a.role, sizeof a.role, "admin");
    snprintf(a.action, sizeof a.action, "%s", action);
    return a;
}

/* Channel "det", releases 1 .. n of one artifact; *first gets the id of
 * release 1. Times release creation. */
static void releases(rg_store *s, long n, int64_t *first, rg_err *err)
{
    char sha[RG_HASH_HEX];
    rg_channel_rec c = {.created_ms = 1};
    snprintf(c.name, sizeof c.name, "det");
    check(rg_store_channel_create(s, &c, NULL, err), err, "channel");
    rg_sha256_hex("bench", 5, sha);
    check(rg_store_artifact_put(s, sha, 5, 1, NULL, err), err, "artifact");
    rg_audit_rec a = audit("release.create");
    double t0 = now_us();
    for (long v = 1; v <= n; v++) {
        rg_release_rec r = {.version = v, .created_ms = v};
        snprintf(r.channel, sizeof r.channel, "det");
        snprintf(r.sha256, sizeof r.sha256, "%s", sha);
        snprintf(r.notes, sizeof r.notes, "v%ld", v);
        snprintf(r.urgency, sizeof r.urgency, "standard");
        check(rg_store_release_create(s, &r, &a, err), err, "release");
        if (v == 1)
            *first = r.id;
    }
    record("release_create", "release create (audited)", n, t0);
}

static void endpoints(rg_store *s, long n, int64_t rel, rg_err *err)
{
    rg_audit_rec a = audit("endpoint.enroll");
    double t0 = now_us();
    for (long i = 0; i < n; i++) {
        rg_endpoint_rec e = {.enrolled_ms = 1};
        snprintf(e.id, sizeof e.id, "ep-%06ld", i);
        rg_sha256_hex(e.id, strlen(e.id), e.token_hash);
        snprintf(e.attrs_json, sizeof e.attrs_json, "{\"os\":\"linux\"}");
        check(rg_store_endpoint_enroll(s, &e, &a, err), err, "enroll");
    }
    record("endpoint_enroll", "endpoint enroll (audited)", n, t0);

    t0 = now_us();
    for (long i = 0; i < n; i++) {
        char id[RG_EPID_MAX + 1];
        snprintf(id, sizeof id, "ep-%06ld", i);
        check(rg_store_offers_record(s, id, &rel, 1, 2, err), err, "offers");
    }
    record("offers_record", "offers record (one release)", n, t0);

    size_t count = (size_t)n % 1000000; /* n is 1..999999 (main) */
    rg_endpoint_seen *seen = calloc(count, sizeof *seen);
    char(*ids)[32] = calloc(count, sizeof *ids);
    if (!seen || !ids)
        exit(1);
    for (long i = 0; i < n; i++) {
        snprintf(ids[i], sizeof ids[i], "ep-%06ld", i % 1000000);
        seen[i] = (rg_endpoint_seen){ids[i], 3, "{}"};
    }
    t0 = now_us();
    check(rg_store_endpoint_flush(s, seen, (size_t)n, err), err, "flush");
    record("flush_per_row", "endpoint flush, per row of one batch", n, t0);
    long loaded = 0;
    t0 = now_us();
    check(rg_store_endpoint_load(s, count_ep, &loaded, err), err, "load");
    record("load_per_row", "endpoint load, per row", n, t0);
    free(seen);
    free(ids);
}

static void events(rg_store *s, long n, int64_t rel, rg_err *err)
{
    double t0 = now_us();
    for (long i = 0; i < n; i++) {
        rg_event_rec e = {
            .release_id = rel, .reported_ms = 4, .received_ms = 4};
        snprintf(e.endpoint_id, sizeof e.endpoint_id, "ep-%06ld", i);
        snprintf(e.event_id, sizeof e.event_id, "a-%ld", i);
        snprintf(e.type, sizeof e.type, "applying");
        snprintf(e.channel, sizeof e.channel, "det");
        check(rg_store_events_record(s, &e, 1, NULL, err), err, "events");
    }
    record("events_record", "events record (one event a call)", n, t0);
    rg_event_counts c;
    long reads = n < 200 ? n : 200;
    t0 = now_us();
    for (long i = 0; i < reads; i++)
        check(rg_store_event_counts(s, rel, &c, err), err, "counts");
    record("event_counts", "event counts of a release", reads, t0);
    rg_release_rec r;
    t0 = now_us();
    for (long i = 0; i < n; i++)
        check(rg_store_release_get(s, rel, &r, err), err, "release get");
    record("release_get", "release get (by id)", n, t0);
}

int main(int argc, char **argv)
{
    rg_store *s = NULL;
    rg_err err;
    int64_t rel = 0;
    long n = argc > 2 ? strtol(argv[2], NULL, 10) : 1000;
    if (argc < 2 || n < 1 || n > 999999) {
        fprintf(stderr, "usage: store_bench URL [N: 1..999999]\n");
        return 2;
    }
    rg_err_clear(&err);
    check(rg_crypto_init(), &err, "libsodium");
    check(rg_store_open(argv[1], &s, &err), &err, "open");
    releases(s, n < 200 ? n : 200, &rel, &err);
    endpoints(s, n, rel, &err);
    events(s, n, rel, &err);
    rg_store_close(s);

    printf("%-40s %8s %10s\n", "call", "calls", "us/call");
    for (size_t i = 0; i < n_rows; i++)
        printf("%-40s %8ld %10.1f\n", rows[i].what, rows[i].calls, rows[i].us);
    for (size_t i = 0; i < n_rows; i++)
        printf("%s%s=%.1f", i ? " " : "", rows[i].key, rows[i].us);
    printf("\n");
    return 0;
}
