/*
 * delta_bench - one update measured: the delta the server would make
 * from OLD to NEW (common/zpatch.h, the server's level), its size against
 * NEW's, the wall time to make it and to apply it (best of RUNS), and a
 * check that applying it rebuilds NEW byte for byte.
 *
 * usage: delta_bench NAME OLD NEW [RUNS]
 * prints: NAME full_bytes delta_bytes ratio make_ms apply_ms
 */
#include "common/buf.h"
#include "common/crypto.h"
#include "common/file.h"
#include "common/zpatch.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int to_fd(void *ctx, const void *p, size_t n, rg_err *err)
{
    int fd = *(int *)ctx;
    if (write(fd, p, n) != (ssize_t)n)
        return rg_err_set(err, RG_EIO, "write delta");
    return 0;
}

static void die(const char *what, const rg_err *err)
{
    fprintf(stderr, "delta_bench: %s: %s\n", what, err ? err->msg : "");
    exit(1);
}

/* The sha256 of a whole file (hex) and its size. */
static uint64_t digest(const char *path, char hex[65])
{
    rg_buf b;
    rg_err err;
    rg_buf_init(&b, (size_t)RG_ZPATCH_INPUT_MAX);
    if (rg_file_read(path, &b, &err) != 0)
        die(path, &err);
    rg_sha256_hex(b.data, b.len, hex);
    uint64_t n = b.len;
    rg_buf_release(&b);
    return n;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: delta_bench NAME OLD NEW [RUNS]\n");
        return 2;
    }
    long runs = argc > 4 ? strtol(argv[4], NULL, 10) : 3;
    if (runs < 1)
        runs = 1;
    char dpath[] = "/tmp/rg-delta-bench-XXXXXX",
         opath[] = "/tmp/rg-delta-out-XXXXXX";
    int dfd = mkstemp(dpath), ofd = mkstemp(opath);
    double make_best = 1e18, apply_best = 1e18;
    uint64_t out = 0;
    rg_err err;
    char want[65], got[65];
    if (dfd < 0 || ofd < 0 || rg_crypto_init() != 0)
        die("set-up", NULL);
    uint64_t full = digest(argv[3], want);
    for (long i = 0; i < runs; i++) {
        if (ftruncate(dfd, 0) != 0 || lseek(dfd, 0, SEEK_SET) != 0)
            die("truncate", NULL);
        double t0 = now_ms();
        if (rg_zpatch_make(argv[2], argv[3], RG_ZPATCH_LEVEL, to_fd, &dfd,
                           &err) != 0)
            die("make", &err);
        double t1 = now_ms();
        if (ftruncate(ofd, 0) != 0 || lseek(ofd, 0, SEEK_SET) != 0 ||
            lseek(dfd, 0, SEEK_SET) != 0)
            die("rewind", NULL);
        if (rg_zpatch_apply(argv[2], dfd, ofd, full, &out, &err) != 0)
            die("apply", &err);
        double t2 = now_ms();
        make_best = t1 - t0 < make_best ? t1 - t0 : make_best;
        apply_best = t2 - t1 < apply_best ? t2 - t1 : apply_best;
    }
    digest(opath, got);
    if (strcmp(want, got) != 0)
        die("the delta does not rebuild NEW", NULL);
    off_t dsize = lseek(dfd, 0, SEEK_END);
    printf("%s %llu %lld %.4f %.0f %.0f\n", argv[1], (unsigned long long)full,
           (long long)dsize, (double)dsize / (double)full, make_best,
           apply_best);
    unlink(dpath);
    unlink(opath);
    return 0;
}
