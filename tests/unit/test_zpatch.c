/* Unit tests for binary deltas (zpatch.h): a delta rebuilds the target
 * from its base exactly and is much smaller than the target for a small
 * change; a wrong base, a corrupt, truncated or trailing-data delta is
 * refused; a delta that decompresses beyond the expected size is cut off
 * there (a 32 MiB expansion written no further than the cap).
 * ctest-labels: foundation security */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/buf.h"
#include "common/zpatch.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct fx {
    char dir[64];
    char base[96], target[96], delta[96], out[96], other[96];
} fx;

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* n pseudo-random bytes from seed (xorshift). */
static unsigned char *noise(size_t n, uint32_t seed)
{
    unsigned char *p = malloc(n);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++) {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        p[i] = (unsigned char)seed;
    }
    return p;
}

static int buf_sink(void *ctx, const void *p, size_t n, rg_err *err)
{
    (void)err;
    return rg_buf_add(ctx, p, n);
}

#define SIZE (3u << 20)

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/rg-zpatch-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->base, sizeof f->base, "%s/base", f->dir);
    snprintf(f->target, sizeof f->target, "%s/target", f->dir);
    snprintf(f->delta, sizeof f->delta, "%s/delta", f->dir);
    snprintf(f->out, sizeof f->out, "%s/out", f->dir);
    snprintf(f->other, sizeof f->other, "%s/other", f->dir);
    /* target: the base with 1% of its bytes changed in 30 places and
     * 4 KiB inserted in the middle. */
    unsigned char *b = noise(SIZE, 7), *t = malloc(SIZE + 4096);
    unsigned char *ins = noise(4096, 9);
    memcpy(t, b, SIZE / 2);
    memcpy(t + SIZE / 2, ins, 4096);
    memcpy(t + SIZE / 2 + 4096, b + SIZE / 2, SIZE / 2);
    for (size_t i = 0; i < 30; i++)
        memset(t + i * (SIZE / 30), 0x5a, SIZE / 3000);
    write_file(f->base, b, SIZE);
    write_file(f->target, t, SIZE + 4096);
    unsigned char *o = noise(SIZE, 11);
    write_file(f->other, o, SIZE);
    free(b);
    free(t);
    free(ins);
    free(o);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* Makes the delta of target over base into f->delta; returns its size. */
static size_t make(const fx *f, const char *base, const char *target)
{
    rg_buf b;
    rg_err err;
    rg_buf_init(&b, 64u << 20);
    assert_int_equal(rg_zpatch_make(base, target, 3, buf_sink, &b, &err), 0);
    write_file(f->delta, b.data, b.len);
    size_t n = b.len;
    rg_buf_release(&b);
    return n;
}

/* Applies f->delta to base into f->out with max; returns the rc. */
static int apply(const fx *f, const char *base, uint64_t max, uint64_t *n,
                 rg_err *err)
{
    int in = open(f->delta, O_RDONLY),
        out = open(f->out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(in >= 0 && out >= 0);
    int rc = rg_zpatch_apply(base, in, out, max, n, err);
    close(in);
    close(out);
    return rc;
}

static void same_files(const char *a, const char *b)
{
    rg_buf x, y;
    rg_buf_init(&x, 64u << 20);
    rg_buf_init(&y, 64u << 20);
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    char chunk[16384];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, fa)) > 0)
        assert_int_equal(rg_buf_add(&x, chunk, n), 0);
    while ((n = fread(chunk, 1, sizeof chunk, fb)) > 0)
        assert_int_equal(rg_buf_add(&y, chunk, n), 0);
    fclose(fa);
    fclose(fb);
    assert_int_equal(x.len, y.len);
    assert_memory_equal(x.data, y.data, x.len);
    rg_buf_release(&x);
    rg_buf_release(&y);
}

static void delta_rebuilds_target_and_is_small(void **state)
{
    fx *f = *state;
    rg_err err;
    uint64_t n = 0;
    size_t dsize = make(f, f->base, f->target);
    assert_true(dsize < (SIZE + 4096) / 10); /* random bytes: no compression
                                                without the base */
    assert_int_equal(apply(f, f->base, SIZE + 4096, &n, &err), 0);
    assert_int_equal(n, SIZE + 4096);
    same_files(f->out, f->target);
}

static void wrong_base_is_refused(void **state)
{
    fx *f = *state;
    rg_err err;
    uint64_t n = 0;
    make(f, f->base, f->target);
    assert_int_equal(apply(f, f->other, SIZE + 4096, &n, &err), RG_EINVAL);
}

static void truncate_to(const char *path, off_t len)
{
    assert_int_equal(truncate(path, len), 0);
}

static void truncated_delta_is_refused(void **state)
{
    fx *f = *state;
    rg_err err;
    uint64_t n = 0;
    size_t dsize = make(f, f->base, f->target);
    truncate_to(f->delta, (off_t)dsize - 5);
    assert_int_equal(apply(f, f->base, SIZE + 4096, &n, &err), RG_EINVAL);
    assert_non_null(strstr(err.msg, "truncated"));
}

static void corrupt_delta_is_refused(void **state)
{
    fx *f = *state;
    rg_err err;
    uint64_t n = 0;
    size_t dsize = make(f, f->base, f->target);
    int fd = open(f->delta, O_RDWR);
    unsigned char c;
    assert_int_equal(pread(fd, &c, 1, (off_t)dsize / 2), 1);
    c ^= 0xff;
    assert_int_equal(pwrite(fd, &c, 1, (off_t)dsize / 2), 1);
    close(fd);
    assert_int_equal(apply(f, f->base, SIZE + 4096, &n, &err), RG_EINVAL);
}

static void trailing_data_is_refused(void **state)
{
    fx *f = *state;
    rg_err err;
    uint64_t n = 0;
    make(f, f->base, f->target);
    FILE *d = fopen(f->delta, "ab");
    fputs("more", d);
    fclose(d);
    assert_int_equal(apply(f, f->base, SIZE + 4096, &n, &err), RG_EINVAL);
}

/* A hostile delta: 32 MiB of zeros compress to a few KiB; applied with
 * the signed size 1 MiB it stops there. */
static void expansion_is_cut_at_the_cap(void **state)
{
    fx *f = *state;
    rg_err err;
    struct stat st;
    uint64_t n = 0;
    char zeros[96];
    snprintf(zeros, sizeof zeros, "%s/zeros", f->dir);
    unsigned char *z = calloc(1, 32u << 20);
    write_file(zeros, z, 32u << 20);
    free(z);
    assert_true(make(f, f->base, zeros) < 64 * 1024);
    assert_int_equal(apply(f, f->base, 1u << 20, &n, &err), RG_ETOOBIG);
    assert_true(n <= 1u << 20);
    assert_int_equal(stat(f->out, &st), 0);
    assert_true(st.st_size <= 1 << 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(delta_rebuilds_target_and_is_small,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(wrong_base_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(truncated_delta_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(corrupt_delta_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(trailing_data_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(expansion_is_cut_at_the_cap, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
