/* Unit tests for src/store/rows.c: the row maps that every backend uses to
 * read records from rows and bind them as parameters, and the SQLite
 * backend's refusal of stored text that does not fit its field.
 * ctest-labels: foundation */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "store/rows.h"
#include "store/store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_token_row_reads_every_field(void **state)
{
    (void)state;
    rg_token_rec t;
    rg_err err;
    memset(&t, 0x5a, sizeof t);
    const rg__val row[] = {
        RG__INT(7),    RG__TEXT("ci"), RG__TEXT("viewer"), RG__TEXT("ab12"),
        RG__INT(1000), RG__INT(2000),  RG__INT(0),         RG__TEXT("root"),
    };
    assert_int_equal(rg__token_row.n, sizeof row / sizeof row[0]);
    rg__val v[RG__ROW_COLS_MAX];
    memcpy(v, row, sizeof row);
    for (size_t i = 0; i < rg__token_row.n; i++)
        if (v[i].type == RG__V_TEXT)
            v[i].len = strlen(v[i].s);
    assert_int_equal(rg__row_read(&rg__token_row, v, &t, &err), 0);
    assert_int_equal(t.id, 7);
    assert_string_equal(t.name, "ci");
    assert_string_equal(t.role, "viewer");
    assert_string_equal(t.hash, "ab12");
    assert_int_equal(t.created_ms, 1000);
    assert_int_equal(t.expires_ms, 2000);
    assert_int_equal(t.revoked_ms, 0);
    assert_string_equal(t.created_by, "root");
}

/* SQL NULL reads as 0 and "" (a channel's current release, none). */
static void test_null_reads_as_zero_and_empty(void **state)
{
    (void)state;
    rg__val v[RG__ROW_COLS_MAX];
    rg_channel_rec c;
    rg_err err;
    memset(&c, 0x5a, sizeof c);
    for (size_t i = 0; i < rg__channel_row.n; i++)
        v[i] = (rg__val){RG__V_NULL, 0, NULL, 0};
    assert_int_equal(rg__row_read(&rg__channel_row, v, &c, &err), 0);
    assert_int_equal(c.id, 0);
    assert_int_equal(c.current_release_id, 0);
    assert_string_equal(c.name, "");
    assert_string_equal(c.preflight.engine, "");
    assert_int_equal(c.preflight.timeout_s, 0);
}

/* Text exactly one byte too long for its field is refused, not cut. */
static void test_text_that_does_not_fit_is_refused(void **state)
{
    (void)state;
    char name[RG_NAME_MAX + 2];
    rg__val v[RG__ROW_COLS_MAX];
    rg_token_rec t;
    rg_err err;
    rg_err_clear(&err);
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    for (size_t i = 0; i < rg__token_row.n; i++)
        v[i] =
            rg__col_is_text(&rg__token_row.cols[i]) ? RG__TEXT("") : RG__INT(0);
    v[1] = RG__TEXT(name);
    v[1].len = strlen(name);
    assert_int_equal(rg__row_read(&rg__token_row, v, &t, &err), RG_EIO);
    assert_non_null(strstr(err.msg, "token name"));
    /* One byte shorter fits. */
    name[RG_NAME_MAX] = '\0';
    v[1] = RG__TEXT(name);
    v[1].len = strlen(name);
    assert_int_equal(rg__row_read(&rg__token_row, v, &t, &err), 0);
    assert_int_equal(strlen(t.name), RG_NAME_MAX);
}

/* What rg__row_vals binds is what rg__row_read reads back. */
static void test_event_round_trip(void **state)
{
    (void)state;
    rg_event_rec in, out;
    rg__val v[RG__ROW_COLS_MAX];
    rg_err err;
    memset(&in, 0, sizeof in);
    snprintf(in.endpoint_id, sizeof in.endpoint_id, "host-1");
    snprintf(in.event_id, sizeof in.event_id, "e1");
    snprintf(in.type, sizeof in.type, "healthy");
    in.release_id = 42;
    snprintf(in.channel, sizeof in.channel, "detections");
    in.reported_ms = -5;
    in.received_ms = INT64_MAX;
    snprintf(in.detail, sizeof in.detail, "probe ok");
    rg__row_vals(&rg__event_row, &in, v);
    for (size_t i = 0; i < rg__event_row.n; i++)
        if (v[i].type == RG__V_TEXT)
            v[i].len = strlen(v[i].s);
    memset(&out, 0, sizeof out);
    assert_int_equal(rg__row_read(&rg__event_row, v, &out, &err), 0);
    assert_memory_equal(&in, &out, sizeof in);
}

/* An INSERT binds only what the record supplies: not the id the database
 * assigns, columns joined from other tables or set by later updates; a
 * reference of 0 binds NULL. */
static void test_insert_values_are_the_record_columns(void **state)
{
    (void)state;
    rg__val v[RG__ROW_COLS_MAX];
    rg_policy_rec p;
    memset(&p, 0, sizeof p);
    p.id = 9;
    snprintf(p.name, sizeof p.name, "hold");
    p.channel_id = 3;
    snprintf(p.channel, sizeof p.channel, "detections");
    snprintf(p.mode, sizeof p.mode, "n-1");
    p.created_ms = 77;
    /* name, channel_id, selector_json, mode, release_id, created_* */
    assert_int_equal(rg__row_vals(&rg__policy_row, &p, v), 7);
    assert_string_equal(v[0].s, "hold");
    assert_int_equal(v[1].i, 3);
    assert_string_equal(v[3].s, "n-1");
    assert_int_equal(v[4].type, RG__V_NULL);
    assert_int_equal(v[5].i, 77);
    p.release_id = 12;
    rg__row_vals(&rg__policy_row, &p, v);
    assert_int_equal(v[4].type, RG__V_INT);
    assert_int_equal(v[4].i, 12);
    /* A release row inserts 16 of its 22 columns. */
    rg_release_rec *r = calloc(1, sizeof *r);
    assert_non_null(r);
    assert_int_equal(rg__row_vals(&rg__release_row, r, v), 16);
    free(r);
}

static void test_stored_plan_must_parse(void **state)
{
    (void)state;
    rg__val v[RG__ROW_COLS_MAX];
    rg_rollout_rec *r = calloc(1, sizeof *r);
    rg_err err;
    assert_non_null(r);
    for (size_t i = 0; i < rg__rollout_row.n; i++)
        v[i] = RG__INT(1);
    v[3] = RG__TEXT("detections");
    v[3].len = 10;
    v[5] = RG__TEXT("{not json");
    v[5].len = 9;
    v[6] = RG__TEXT("salt");
    v[6].len = 4;
    v[13] = RG__TEXT("op");
    v[13].len = 2;
    assert_int_equal(rg__row_read(&rg__rollout_row, v, r, &err), RG_EIO);
    assert_non_null(strstr(err.msg, "rollout plan"));
    free(r);
}

/* Through the SQLite backend: a row written behind the store's back with
 * a name longer than the record holds fails the read with RG_EIO. */
static void test_sqlite_refuses_oversized_stored_text(void **state)
{
    (void)state;
    char dir[] = "/tmp/rg-rows-XXXXXX", path[64], sql[256];
    rg_store *s = NULL;
    sqlite3 *db = NULL;
    rg_token_rec t;
    rg_err err;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/rollgate.db", dir);
    assert_int_equal(rg_store_open(path, &s, &err), 0);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    snprintf(sql, sizeof sql,
             "INSERT INTO tokens (name, role, hash, created_ms, expires_ms,"
             " revoked_ms, created_by) VALUES ('%0*d', 'viewer', '%064d',"
             " 1, 0, 0, 'x')",
             RG_NAME_MAX + 1, 0, 0);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    char hash[65];
    snprintf(hash, sizeof hash, "%064d", 0);
    assert_int_equal(rg_store_token_find(s, hash, &t, &err), RG_EIO);
    assert_non_null(strstr(err.msg, "exceeds"));
    rg_store_close(s);
    const char *suffix[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(sql, sizeof sql, "%s%s", path, suffix[i]);
        unlink(sql);
    }
    rmdir(dir);
}

static void test_every_map_fits_a_row(void **state)
{
    (void)state;
    const rg__rowmap *maps[] = {
        &rg__audit_row,
        &rg__channel_row,
        &rg__release_row,
        &rg__root_row,
        &rg__rollout_row,
        &rg__decision_row,
        &rg__token_row,
        &rg__enroll_key_row,
        &rg__endpoint_row,
        &rg__event_row,
        &rg__policy_row,
        &rg__int_row,
        &rg__int2_row,
        &rg__word_row,
        &rg__word_int_row,
        &rg__text_row,
        &rg__release_channel_row,
        &rg__rollout_base_row,
    };
    for (size_t i = 0; i < sizeof maps / sizeof maps[0]; i++) {
        assert_true(maps[i]->n >= 1);
        assert_true(maps[i]->n <= RG__ROW_COLS_MAX);
        for (size_t c = 0; c < maps[i]->n; c++)
            if (maps[i]->cols[c].type == RG__C_TEXT)
                assert_true(maps[i]->cols[c].cap > 1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_row_reads_every_field),
        cmocka_unit_test(test_null_reads_as_zero_and_empty),
        cmocka_unit_test(test_text_that_does_not_fit_is_refused),
        cmocka_unit_test(test_event_round_trip),
        cmocka_unit_test(test_insert_values_are_the_record_columns),
        cmocka_unit_test(test_stored_plan_must_parse),
        cmocka_unit_test(test_sqlite_refuses_oversized_stored_text),
        cmocka_unit_test(test_every_map_fits_a_row),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
