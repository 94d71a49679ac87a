/*
 * storeurl.h - the database a store test opens, on either backend.
 *
 * Store tests run against SQLite, and against PostgreSQL when RG_TEST_PG
 * holds the libpq URL of a throwaway server (tests/with_postgres.sh
 * starts one; CTest label pg): each store a test asks for is then an
 * empty schema of its own there, found through the URL's search_path.
 * The raw SQL helpers are test fixtures only (the store is the only
 * production code with SQL); they fail the running cmocka test on error.
 */
#ifndef RG_TEST_STOREURL_H
#define RG_TEST_STOREURL_H

#include <stdbool.h>
#include <stddef.h>

/* Whether the tests run against PostgreSQL (RG_TEST_PG is set). */
bool rg_test_pg(void);

/* A fresh store named name into url (cap bytes): the path dir/name.db,
 * or a new empty PostgreSQL schema (dir unused). */
void rg_test_store_url(const char *dir, const char *name, char *url,
                       size_t cap);

/* Removes the store at url: its files, or its schema and all in it. */
void rg_test_store_drop(const char *url);

/* Runs sql (one or more statements) on the store at url. */
void rg_test_raw_sql(const char *url, const char *sql);

/* The schema version the store at url records (PRAGMA user_version, or
 * PostgreSQL's rollgate_schema), and setting it. */
int rg_test_schema_get(const char *url);
void rg_test_schema_set(const char *url, int version);

#endif
