/*
 * table.h - aligned text tables and key/value blocks for human output.
 *
 *   ID  NAME        CREATED
 *    1  detections  5m ago
 *
 * Cells are added left to right, row after row; the table copies them,
 * replacing control characters (newlines, tabs) with spaces so one record
 * never breaks a line by itself. Widths count UTF-8 code points. A column
 * may be right-aligned and may have a maximum width: a longer cell is
 * wrapped onto the row's following lines (at a space when a word fits,
 * else mid-word), never cut, so a reason is always shown whole. Columns
 * are separated by two spaces; lines carry no trailing blanks.
 *
 * Allocation failures are sticky: adding cells never fails visibly, and
 * rendering then returns RG_ENOMEM. The table owns its memory: release it
 * with rg_cli_table_release. Not thread-safe.
 */
#ifndef RG_CLI_TABLE_H
#define RG_CLI_TABLE_H

#include "common/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define RG_CLI_TABLE_COLS 16
#define RG_CLI_REASON_WIDTH 72 /* reason columns wrap at this width */

typedef struct rg_cli_table {
    size_t n_cols;
    const char *headers[RG_CLI_TABLE_COLS]; /* borrowed; NULL: no header line */
    bool right[RG_CLI_TABLE_COLS];
    size_t max_width[RG_CLI_TABLE_COLS]; /* 0: unlimited */
    char **cells;                        /* n_cells strings, row-major, owned */
    size_t n_cells;
    size_t cap_cells;
    bool failed; /* an allocation failed */
} rg_cli_table;

/* Starts a table whose columns are named by the NULL-ended headers
 * (at most RG_CLI_TABLE_COLS; extra ones are ignored). The strings are
 * borrowed and must outlive the table. */
void rg_cli_table_init(rg_cli_table *t, const char *const *headers);

/* Starts a key/value block: two columns, no header line; fill it with
 * rg_cli_table_kv. */
void rg_cli_table_init_kv(rg_cli_table *t);

/* Frees every cell; t may then be initialised again. */
void rg_cli_table_release(rg_cli_table *t);

/* Right-aligns column col (numbers). */
void rg_cli_table_align_right(rg_cli_table *t, size_t col);

/* Caps column col at width code points (width >= 2): longer cells wrap. */
void rg_cli_table_max_width(rg_cli_table *t, size_t col, size_t width);

/* Adds the next cell (copied); NULL is shown as "-". */
void rg_cli_table_cell(rg_cli_table *t, const char *text);

/* Adds the next cell from a printf format. */
void rg_cli_table_cellf(rg_cli_table *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Adds a key/value row: "key:" and the formatted value. */
void rg_cli_table_kv(rg_cli_table *t, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Number of complete or partial rows added so far. */
size_t rg_cli_table_rows(const rg_cli_table *t);

/* Appends the rendered table to out. Returns 0, RG_ENOMEM when a cell
 * could not be stored, or rg_buf's error when out is full. */
int rg_cli_table_render(const rg_cli_table *t, rg_buf *out);

/* Renders to f. Returns 0, RG_ENOMEM, or RG_EIO when writing fails. */
int rg_cli_table_print(const rg_cli_table *t, FILE *f);

#endif
