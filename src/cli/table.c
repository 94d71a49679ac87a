/* table.c - see table.h. */
#include "table.h"

#include "common/err.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_BYTES (1u << 20)

void rg_cli_table_init(rg_cli_table *t, const char *const *headers)
{
    memset(t, 0, sizeof *t);
    while (t->n_cols < RG_CLI_TABLE_COLS && headers[t->n_cols]) {
        t->headers[t->n_cols] = headers[t->n_cols];
        t->n_cols++;
    }
}

void rg_cli_table_init_kv(rg_cli_table *t)
{
    memset(t, 0, sizeof *t);
    t->n_cols = 2;
}

void rg_cli_table_release(rg_cli_table *t)
{
    for (size_t i = 0; i < t->n_cells; i++)
        free(t->cells[i]);
    free(t->cells);
    t->cells = NULL;
    t->n_cells = 0;
    t->cap_cells = 0;
}

void rg_cli_table_align_right(rg_cli_table *t, size_t col)
{
    if (col < t->n_cols)
        t->right[col] = true;
}

void rg_cli_table_max_width(rg_cli_table *t, size_t col, size_t width)
{
    if (col < t->n_cols)
        t->max_width[col] = width < 2 ? 2 : width;
}

/* Copies text, turning control characters into spaces. */
static char *clean_copy(const char *text)
{
    size_t n = strlen(text);
    char *c = malloc(n + 1);
    if (!c)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)text[i];
        c[i] = (ch < 0x20 || ch == 0x7f) ? ' ' : (char)ch;
    }
    c[n] = '\0';
    return c;
}

void rg_cli_table_cell(rg_cli_table *t, const char *text)
{
    if (t->failed || t->n_cols == 0)
        return;
    if (t->n_cells == t->cap_cells) {
        size_t cap = t->cap_cells ? t->cap_cells * 2 : 64;
        char **cells = realloc(t->cells, cap * sizeof *cells);
        if (!cells) {
            t->failed = true;
            return;
        }
        t->cells = cells;
        t->cap_cells = cap;
    }
    char *c = clean_copy(text ? text : "-");
    if (!c) {
        t->failed = true;
        return;
    }
    t->cells[t->n_cells++] = c;
}

void rg_cli_table_cellf(rg_cli_table *t, const char *fmt, ...)
{
    rg_buf b;
    rg_buf_init(&b, LINE_MAX_BYTES);
    va_list ap;
    va_start(ap, fmt);
    int rc = rg_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (rc == 0)
        rg_cli_table_cell(t, b.data ? b.data : "");
    else
        t->failed = true;
    rg_buf_release(&b);
}

void rg_cli_table_kv(rg_cli_table *t, const char *key, const char *fmt, ...)
{
    rg_cli_table_cellf(t, "%s:", key);
    rg_buf b;
    rg_buf_init(&b, LINE_MAX_BYTES);
    va_list ap;
    va_start(ap, fmt);
    int rc = rg_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (rc == 0)
        rg_cli_table_cell(t, b.data ? b.data : "");
    else
        t->failed = true;
    rg_buf_release(&b);
}

size_t rg_cli_table_rows(const rg_cli_table *t)
{
    return t->n_cols ? (t->n_cells + t->n_cols - 1) / t->n_cols : 0;
}

/* Number of UTF-8 code points in s. */
static size_t width_of(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xc0) != 0x80)
            w++;
    return w;
}

/* Byte length of the first cps code points of s. */
static size_t prefix_bytes(const char *s, size_t cps)
{
    size_t i = 0;
    while (s[i] && cps > 0) {
        i++;
        while (((unsigned char)s[i] & 0xc0) == 0x80)
            i++;
        cps--;
    }
    return i;
}

/* The part of s that goes on one line of a column capped at max code
 * points (0: no cap): all of s when it fits, else the longest prefix that
 * fits and ends before a space (a word that alone does not fit is broken
 * at max). Returns its byte length; *w receives its width and *next where
 * the following line's part starts (the spaces at the break skipped). */
static size_t line_part(const char *s, size_t max, size_t *w, const char **next)
{
    size_t bytes = strlen(s);
    if (!max || width_of(s) <= max) {
        *w = width_of(s);
        *next = s + bytes;
        return bytes;
    }
    bytes = prefix_bytes(s, max);
    size_t cut = bytes;
    while (cut > 0 && s[cut] != ' ')
        cut--;
    size_t end = cut;
    while (end > 0 && s[end - 1] == ' ')
        end--;
    if (end == 0) /* no space to break at */
        cut = end = bytes;
    *next = s + cut;
    while (**next == ' ')
        (*next)++;
    *w = 0;
    for (size_t i = 0; i < end; i++)
        *w += ((unsigned char)s[i] & 0xc0) != 0x80;
    return end;
}

/* The widest line s takes in column col (its longest wrapped part). */
static size_t shown_width(const rg_cli_table *t, size_t col, const char *s)
{
    size_t widest = 0, w;
    const char *next;
    do {
        line_part(s, t->max_width[col], &w, &next);
        widest = w > widest ? w : widest;
        s = next;
    } while (*s);
    return widest;
}

static int pad(rg_buf *line, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (rg_buf_add(line, " ", 1))
            return RG_ETOOBIG;
    return 0;
}

/* Appends the next line's part of column col's cell (*s, advanced past
 * it), padded to width, to line. */
static int put_cell(const rg_cli_table *t, size_t col, const char **s,
                    size_t width, rg_buf *line)
{
    size_t w;
    const char *next;
    size_t bytes = line_part(*s, t->max_width[col], &w, &next);
    int rc = 0;
    if (t->right[col])
        rc = pad(line, width - w);
    if (!rc)
        rc = rg_buf_add(line, *s, bytes);
    if (!rc && !t->right[col])
        rc = pad(line, width - w);
    *s = next;
    return rc;
}

/* Renders one row of cells (n of them, the rest empty), on as many lines
 * as its wrapped cells need, each trimmed. */
static int put_line(const rg_cli_table *t, const size_t *widths,
                    const char *const *cells, size_t n, rg_buf *out)
{
    const char *rest[RG_CLI_TABLE_COLS];
    for (size_t c = 0; c < t->n_cols; c++)
        rest[c] = c < n ? cells[c] : "";
    rg_buf line;
    rg_buf_init(&line, LINE_MAX_BYTES);
    int rc = 0;
    bool more = true;
    while (more && !rc) {
        more = false;
        line.len = 0;
        for (size_t c = 0; c < t->n_cols && !rc; c++) {
            if (c > 0)
                rc = rg_buf_adds(&line, "  ");
            if (!rc)
                rc = put_cell(t, c, &rest[c], widths[c], &line);
            more |= *rest[c] != '\0';
        }
        size_t len = line.len;
        while (len > 0 && line.data[len - 1] == ' ')
            len--;
        if (!rc && len)
            rc = rg_buf_add(out, line.data, len);
        if (!rc)
            rc = rg_buf_add(out, "\n", 1);
    }
    rg_buf_release(&line);
    return rc;
}

int rg_cli_table_render(const rg_cli_table *t, rg_buf *out)
{
    if (t->failed)
        return RG_ENOMEM;
    size_t widths[RG_CLI_TABLE_COLS] = {0};
    bool header = t->n_cols > 0 && t->headers[0] != NULL;
    for (size_t c = 0; c < t->n_cols; c++) {
        if (header)
            widths[c] = shown_width(t, c, t->headers[c]);
    }
    for (size_t i = 0; i < t->n_cells; i++) {
        size_t c = i % t->n_cols;
        size_t w = shown_width(t, c, t->cells[i]);
        if (w > widths[c])
            widths[c] = w;
    }
    int rc = 0;
    if (header)
        rc = put_line(t, widths, t->headers, t->n_cols, out);
    for (size_t i = 0; i < t->n_cells && !rc; i += t->n_cols) {
        size_t n = t->n_cells - i < t->n_cols ? t->n_cells - i : t->n_cols;
        rc = put_line(t, widths, (const char *const *)t->cells + i, n, out);
    }
    return rc;
}

int rg_cli_table_print(const rg_cli_table *t, FILE *f)
{
    rg_buf b;
    rg_buf_init(&b, SIZE_MAX);
    int rc = rg_cli_table_render(t, &b);
    if (!rc && b.len && fwrite(b.data, 1, b.len, f) != b.len)
        rc = RG_EIO;
    rg_buf_release(&b);
    return rc;
}
