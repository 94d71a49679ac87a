/*
 * buf.h - a growable byte buffer with a hard cap (after curl's dynbuf).
 *
 * Every buffer fed from the network has a cap; appending past it fails
 * with RG_ETOOBIG and leaves the buffer as it was. The data is always
 * NUL-terminated (the NUL is not counted in len). The buffer owns its
 * memory: release it with rg_buf_release.
 */
#ifndef RG_BUF_H
#define RG_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct rg_buf {
    char *data; /* NULL until the first append; NUL-terminated after */
    size_t len; /* bytes used, excluding the terminating NUL */
    size_t cap; /* bytes allocated */
    size_t max; /* hard cap on len */
} rg_buf;

/* Initialises an empty buffer that will refuse to grow past max bytes. */
void rg_buf_init(rg_buf *b, size_t max);

/* Frees the memory; the buffer is empty and may be reused. */
void rg_buf_release(rg_buf *b);

/* Empties the buffer, keeping its memory. */
void rg_buf_reset(rg_buf *b);

/* Makes room for n more bytes (and the NUL) without appending, so that a
 * writer of known size allocates once. Returns 0, RG_ETOOBIG past the cap
 * or RG_ENOMEM. */
int rg_buf_reserve(rg_buf *b, size_t n);

/* Appends n bytes. Returns 0, RG_ETOOBIG past the cap or RG_ENOMEM. */
int rg_buf_add(rg_buf *b, const void *p, size_t n);

/* Appends a NUL-terminated string. Same returns as rg_buf_add. */
int rg_buf_adds(rg_buf *b, const char *s);

/* Appends printf-formatted text. Same returns as rg_buf_add. */
int rg_buf_printf(rg_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int rg_buf_vprintf(rg_buf *b, const char *fmt, va_list ap);

/* Makes room for need elements of elem bytes in the array *p of *cap
 * elements (realloc, capacity doubling from 256; *p and *cap updated).
 * Returns 0, or -1 when out of memory (the array unchanged). */
int rg_array_reserve(void **p, size_t *cap, size_t need, size_t elem);

/* Hands the data to the caller (who frees it with free()) and leaves the
 * buffer empty. Returns an empty string, not NULL, for an empty buffer;
 * NULL only when allocation fails. */
char *rg_buf_detach(rg_buf *b);

#endif
