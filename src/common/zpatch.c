/* zpatch.c - see zpatch.h. */
#include "zpatch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#define CHUNK (256 * 1024)

/* A file mapped read-only (an empty file maps to p NULL, n 0). */
typedef struct mapped {
    void *p;
    size_t n;
} mapped;

/* Maps path whole. Returns 0, RG_ETOOBIG past RG_ZPATCH_INPUT_MAX, or
 * RG_EIO. */
static int map_file(const char *path, mapped *m, rg_err *err)
{
    struct stat st;
    m->p = NULL;
    m->n = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return rg_err_set(err, RG_EIO, "open '%s': %s", path, strerror(errno));
    int rc = 0;
    if (fstat(fd, &st) != 0)
        rc = rg_err_set(err, RG_EIO, "stat '%s': %s", path, strerror(errno));
    else if ((uint64_t)st.st_size > RG_ZPATCH_INPUT_MAX)
        rc = rg_err_set(err, RG_ETOOBIG,
                        "'%s' is larger than %llu bytes, the delta limit", path,
                        (unsigned long long)RG_ZPATCH_INPUT_MAX);
    else if (st.st_size > 0) {
        m->p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m->p == MAP_FAILED) {
            m->p = NULL;
            rc = rg_err_set(err, RG_EIO, "map '%s': %s", path, strerror(errno));
        } else {
            m->n = (size_t)st.st_size;
        }
    }
    close(fd);
    return rc;
}

static void unmap(mapped *m)
{
    if (m->p)
        munmap(m->p, m->n);
}

/* The window log covering n bytes as --patch-from picks it: one above
 * the highest bit, at least zstd's minimum. */
static int window_log(size_t n)
{
    int log = 10; /* ZSTD_WINDOWLOG_MIN */
    while (log < RG_ZPATCH_WINDOW_LOG_MAX && ((size_t)1 << log) <= n)
        log++;
    return log;
}

static int zerr(rg_err *err, int code, const char *what, size_t z)
{
    return rg_err_set(err, code, "%s: %s", what, ZSTD_getErrorName(z));
}

/* Runs the compression of t (prefix already referenced) to the end. */
static int compress_all(ZSTD_CCtx *cc, const mapped *t, rg_zpatch_sink sink,
                        void *ctx, rg_err *err)
{
    char *buf = malloc(CHUNK);
    if (!buf)
        return rg_err_set(err, RG_ENOMEM, "out of memory");
    ZSTD_inBuffer in = {t->p, t->n, 0};
    size_t left;
    int rc = 0;
    do {
        ZSTD_outBuffer out = {buf, CHUNK, 0};
        left = ZSTD_compressStream2(cc, &out, &in, ZSTD_e_end);
        if (ZSTD_isError(left))
            rc = zerr(err, RG_EINTERNAL, "delta compression", left);
        else if (out.pos)
            rc = sink(ctx, buf, out.pos, err);
    } while (rc == 0 && left != 0);
    free(buf);
    return rc;
}

int rg_zpatch_make(const char *base_path, const char *target_path, int level,
                   rg_zpatch_sink sink, void *ctx, rg_err *err)
{
    mapped b = {0}, t = {0};
    ZSTD_CCtx *cc = NULL;
    int rc = map_file(base_path, &b, err);
    if (rc == 0)
        rc = map_file(target_path, &t, err);
    if (rc != 0)
        goto cleanup;
    cc = ZSTD_createCCtx();
    if (!cc) {
        rc = rg_err_set(err, RG_ENOMEM, "out of memory");
        goto cleanup;
    }
    size_t z = ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, level);
    if (!ZSTD_isError(z))
        z = ZSTD_CCtx_setParameter(cc, ZSTD_c_windowLog,
                                   window_log(b.n > t.n ? b.n : t.n));
    if (!ZSTD_isError(z))
        z = ZSTD_CCtx_setParameter(cc, ZSTD_c_enableLongDistanceMatching, 1);
    if (!ZSTD_isError(z))
        z = ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
    if (!ZSTD_isError(z))
        z = ZSTD_CCtx_setPledgedSrcSize(cc, t.n);
    if (!ZSTD_isError(z))
        z = ZSTD_CCtx_refPrefix(cc, b.p, b.n);
    if (ZSTD_isError(z)) {
        rc = zerr(err, RG_EINTERNAL, "delta parameters", z);
        goto cleanup;
    }
    rc = compress_all(cc, &t, sink, ctx, err);
cleanup:
    ZSTD_freeCCtx(cc);
    unmap(&t);
    unmap(&b);
    return rc;
}

static int write_all(int fd, const char *p, size_t n, rg_err *err)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return rg_err_set(err, RG_EIO, "write delta output: %s",
                              strerror(errno));
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Decompresses the input chunk in into out_fd (hint: zstd's last
 * answer, 0 once the frame ended and was flushed; nothing may follow). */
static int apply_chunk(ZSTD_DCtx *dc, ZSTD_inBuffer *in, char *buf, int out_fd,
                       uint64_t max_out, uint64_t *total, size_t *hint,
                       rg_err *err)
{
    for (;;) {
        if (*hint == 0 && in->pos < in->size)
            return rg_err_set(err, RG_EINVAL,
                              "delta: data after the end of its frame");
        if (*hint == 0)
            return 0;
        ZSTD_outBuffer out = {buf, CHUNK, 0};
        *hint = ZSTD_decompressStream(dc, &out, in);
        if (ZSTD_isError(*hint))
            return zerr(err, RG_EINVAL, "delta", *hint);
        if (out.pos > max_out - *total)
            return rg_err_set(err, RG_ETOOBIG,
                              "delta: output beyond the expected %llu bytes",
                              (unsigned long long)max_out);
        int rc = write_all(out_fd, buf, out.pos, err);
        if (rc != 0)
            return rc;
        *total += out.pos;
        if (in->pos == in->size && out.pos < CHUNK)
            return 0; /* all input taken, all output flushed */
    }
}

/* Feeds delta_fd through dc into out_fd. */
static int apply_stream(ZSTD_DCtx *dc, int delta_fd, int out_fd,
                        uint64_t max_out, uint64_t *total, rg_err *err)
{
    char *inbuf = malloc(CHUNK), *outbuf = malloc(CHUNK);
    size_t hint = 1;
    int rc = 0;
    if (!inbuf || !outbuf)
        rc = rg_err_set(err, RG_ENOMEM, "out of memory");
    while (rc == 0) {
        ssize_t r = read(delta_fd, inbuf, CHUNK);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            rc = rg_err_set(err, RG_EIO, "read delta: %s", strerror(errno));
        if (r <= 0)
            break;
        ZSTD_inBuffer in = {inbuf, (size_t)r, 0};
        rc = apply_chunk(dc, &in, outbuf, out_fd, max_out, total, &hint, err);
    }
    /* A frame that ended flushed everything: hint 0. */
    if (rc == 0 && hint != 0)
        rc = rg_err_set(err, RG_EINVAL, "delta: truncated (frame not ended)");
    free(inbuf);
    free(outbuf);
    return rc;
}

int rg_zpatch_apply(const char *base_path, int delta_fd, int out_fd,
                    uint64_t max_out, uint64_t *out_size, rg_err *err)
{
    mapped b = {0};
    ZSTD_DCtx *dc = NULL;
    *out_size = 0;
    int rc = map_file(base_path, &b, err);
    if (rc == RG_ETOOBIG)
        rc = rg_err_set(err, RG_EINVAL, "delta base '%s' is beyond the limit",
                        base_path);
    if (rc != 0)
        return rc;
    dc = ZSTD_createDCtx();
    if (!dc) {
        rc = rg_err_set(err, RG_ENOMEM, "out of memory");
        goto cleanup;
    }
    size_t z = ZSTD_DCtx_setParameter(dc, ZSTD_d_windowLogMax,
                                      RG_ZPATCH_WINDOW_LOG_MAX);
    if (!ZSTD_isError(z))
        z = ZSTD_DCtx_refPrefix(dc, b.p, b.n);
    if (ZSTD_isError(z)) {
        rc = zerr(err, RG_EINTERNAL, "delta parameters", z);
        goto cleanup;
    }
    rc = apply_stream(dc, delta_fd, out_fd, max_out, out_size, err);
cleanup:
    ZSTD_freeDCtx(dc);
    unmap(&b);
    return rc;
}
