/* storeurl.c - see storeurl.h. */
#include "storeurl.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Marks the schema name in a PostgreSQL store URL. */
#define SCHEMA_OPT "options=-csearch_path%3D"

bool rg_test_pg(void)
{
    const char *base = getenv("RG_TEST_PG");
    return base && *base;
}

/* Runs sql on the server at url; fails the test on error. */
static void pg_exec(const char *url, const char *sql)
{
    PGconn *pg = PQconnectdb(url);
    if (PQstatus(pg) != CONNECTION_OK)
        fail_msg("postgres '%s': %s", url, PQerrorMessage(pg));
    PGresult *res = PQexec(pg, sql);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        fail_msg("postgres: %s: %s", sql, PQresultErrorMessage(res));
    PQclear(res);
    PQfinish(pg);
}

void rg_test_store_url(const char *dir, const char *name, char *url, size_t cap)
{
    static int made;
    char sql[128];
    if (!rg_test_pg()) {
        snprintf(url, cap, "%s/%s.db", dir, name);
        return;
    }
    const char *base = getenv("RG_TEST_PG");
    char schema[64];
    snprintf(schema, sizeof schema, "t_%s_%ld_%d", name, (long)getpid(),
             ++made);
    snprintf(sql, sizeof sql, "CREATE SCHEMA %s", schema);
    pg_exec(base, sql);
    int n = snprintf(url, cap, "%s%c%s%s", base, strchr(base, '?') ? '&' : '?',
                     SCHEMA_OPT, schema);
    assert_true(n > 0 && (size_t)n < cap);
}

void rg_test_store_drop(const char *url)
{
    const char *opt = strstr(url, SCHEMA_OPT);
    char sql[128], p[600];
    if (opt) {
        snprintf(sql, sizeof sql, "DROP SCHEMA %s CASCADE",
                 opt + strlen(SCHEMA_OPT));
        pg_exec(getenv("RG_TEST_PG"), sql);
        return;
    }
    const char *suffix[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", url, suffix[i]);
        unlink(p);
    }
}

void rg_test_raw_sql(const char *url, const char *sql)
{
    if (strstr(url, SCHEMA_OPT)) {
        pg_exec(url, sql);
        return;
    }
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(url, &db), SQLITE_OK);
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        fail_msg("sqlite: %s: %s", sql, sqlite3_errmsg(db));
    sqlite3_close(db);
}

int rg_test_schema_get(const char *url)
{
    int v = -1;
    if (strstr(url, SCHEMA_OPT)) {
        PGconn *pg = PQconnectdb(url);
        PGresult *res = PQexec(pg, "SELECT version FROM rollgate_schema");
        if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
            v = (int)strtol(PQgetvalue(res, 0, 0), NULL, 10);
        PQclear(res);
        PQfinish(pg);
        return v;
    }
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(url, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL),
        SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

void rg_test_schema_set(const char *url, int version)
{
    char sql[80];
    if (strstr(url, SCHEMA_OPT))
        snprintf(sql, sizeof sql, "UPDATE rollgate_schema SET version = %d",
                 version);
    else
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d", version);
    rg_test_raw_sql(url, sql);
}
