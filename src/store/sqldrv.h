/*
 * sqldrv.h - an SQL engine as the shared store code drives it (internal
 * to src/store).
 *
 * sqlstore.c holds every operation of backend.h once: its SQL, its
 * transactions, its checks and ordering rules, its error messages. What
 * differs between SQLite and PostgreSQL is below it, in a driver: how to
 * connect, migrate and keep the schema version, how to run one statement
 * with rg__val parameters and step its rows, how to begin a write
 * transaction, and how the engine reports changed rows and generated ids.
 * A driver is one .c file exporting one `const struct rg__sqldrv`
 * (sqlite.c, pg.c).
 *
 * Statements are written once, in SQLite's dialect with `?` or `?N`
 * parameters; a driver whose engine speaks otherwise rewrites the text it
 * is given (pg.c: `$N` parameters and a short table of idioms).
 *
 * A connection serves one statement at a time: sqlstore.c runs a query,
 * steps it to its end or calls done, and only then runs the next one.
 * Calls on one connection are serialised by sqlstore.c (one mutex per
 * store), never concurrent.
 */
#ifndef RG_STORE_SQLDRV_H
#define RG_STORE_SQLDRV_H

#include "store/rows.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The schema version every driver's migrations reach: migration N of one
 * engine makes the same tables, columns and rules as migration N of the
 * other (sqlite.c and pg.c check their lists' lengths against it). */
#define RG__SCHEMA_VERSION 20

struct rg__sqldrv {
    const char *name; /* "sqlite", "postgres" */

    /* The migrations: migrations[N - 1] is the NULL-terminated list of
     * statements of migration N, N in 1 .. RG__SCHEMA_VERSION. */
    const char *const *const *migrations;

    /* Connects to target (the store URL without "sqlite:"; a whole
     * postgres:// URL), creating the database when the engine does that.
     * *conn receives the connection, freed by disconnect. Errors quote
     * target (without a password): RG_EIO, RG_EAUTH for refused
     * credentials, RG_EUNAVAIL for an engine that does not answer. */
    int (*connect)(const char *target, void **conn, rg_err *err);
    void (*disconnect)(void *conn);
    /* What messages call the connection: the target, password hidden. */
    const char *(*where)(void *conn);
    /* Runs statement sql, without parameters (a migration's). */
    int (*exec)(void *conn, const char *sql, rg_err *err);
    /* The schema version the database records (0: none yet), and
     * recording one; inside the caller's write transaction. */
    int (*version_get)(void *conn, int *version, rg_err *err);
    int (*version_set)(void *conn, int version, rg_err *err);

    /* Starts statement sql (parameters v[0 .. n), text borrowed until
     * done) and leaves its first result ready for step. A failed start
     * is returned and needs no done. */
    int (*query)(void *conn, const char *sql, const rg__val *v, size_t n,
                 rg_err *err);
    /* The next row of the running statement: 1 with its columns in row,
     * read as row map m says (rg__col_is_text: text, else an integer;
     * text borrowed until the next step or done, NULL for SQL NULL), 0
     * when there are no more rows (the statement then counts as done),
     * or an error. m NULL: the statement returns no rows (one is an
     * error). RG_EIO when the row's column count is not m->n. Unique and
     * primary key violations are RG_ECONFLICT, foreign key violations
     * RG_ENOTFOUND, a lost engine RG_EUNAVAIL, others RG_EIO; the message
     * starts with what. */
    int (*step)(void *conn, const rg__rowmap *m, rg__val *row, const char *what,
                rg_err *err);
    /* Ends the running statement early (or again: harmless). */
    void (*done)(void *conn);
    /* Rows the last finished INSERT, UPDATE or DELETE changed. */
    int64_t (*changes)(void *conn);
    /* The id the last INSERT generated on this connection. */
    int (*last_id)(void *conn, int64_t *id, rg_err *err);

    /* Transactions: begin a write transaction that excludes every other
     * writer of the same database until it ends (SQLite: BEGIN IMMEDIATE;
     * PostgreSQL: a transaction-scoped advisory lock), commit, roll back;
     * in_txn tells whether one is open (a failed commit may leave it). */
    int (*begin)(void *conn, rg_err *err);
    int (*commit)(void *conn, rg_err *err);
    void (*rollback)(void *conn);
    bool (*in_txn)(void *conn);

    /* Optional (NULL: not needed). notify: announces kind to the other
     * nodes when the open transaction commits (session.h). seen_batch:
     * the heartbeat flush's rows b[0 .. n) (last_seen_ms, installed_json,
     * flush_seq = seq) in one statement, in the caller's transaction. */
    int (*notify)(void *conn, const char *kind, rg_err *err);
    int (*seen_batch)(void *conn, const rg_endpoint_seen *b, size_t n,
                      int64_t seq, rg_err *err);
};

extern const struct rg__sqldrv rg__sqlite_drv; /* sqlite.c */
extern const struct rg__sqldrv rg__pg_drv;     /* pg.c */

#endif
