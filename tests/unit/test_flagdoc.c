/* test_flagdoc.c - server/flagdoc.h: an environment's document and its
 * change stamp, and the cache that serves both to check-ins and SDK polls.
 * ctest-labels: flags
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "server/flagdoc.h"
#include "support/fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct fx {
    char dir[64], path[96];
    rg_store *s, *other; /* other: a second node on the same database */
    rg_flagdoc_cache *c;
    rg_err err;
} fx;

static int fx_setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/rg-flagdoc-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/rollgate.db", f->dir);
    rg_test_ok(rg_store_open(f->path, &f->s, &f->err), &f->err);
    rg_test_ok(rg_store_open(f->path, &f->other, &f->err), &f->err);
    rg_test_ok(rg_flagdoc_cache_new(&f->c, &f->err), &f->err);
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    fx *f = *state;
    char p[160];
    rg_flagdoc_cache_free(f->c);
    rg_store_close(f->other);
    rg_store_close(f->s);
    const char *suffix[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", f->path, suffix[i]);
        unlink(p);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

static void put_flag(fx *f, rg_store *s, const char *name, int64_t expect,
                     int64_t at_ms)
{
    rg_flag_rec fl = {.environment = "prod", .created_ms = at_ms};
    snprintf(fl.name, sizeof fl.name, "%s", name);
    fl.definition = "{\"enabled\":true,\"strategies\":[]}";
    rg_test_ok(rg_store_flag_put(s, &fl, expect, NULL, &f->err), &f->err);
}

static void stamp_is(fx *f, int64_t now_ms, const char *want)
{
    char stamp[RG_FLAG_STAMP_MAX];
    rg_test_ok(rg_flagdoc_stamp(f->c, f->s, "prod", now_ms, stamp, &f->err),
               &f->err);
    assert_string_equal(stamp, want);
}

/* A stamp is served from the cache until a write through this server
 * (seen at once) or the TTL (a write by another node); the document
 * follows the stamp. */
static void stamp_cache(void **state)
{
    fx *f = *state;
    int64_t t = 1000000;
    stamp_is(f, t, "0-0");
    put_flag(f, f->s, "a", 0, 5);
    stamp_is(f, t, "1-5"); /* this server's write: no waiting */
    put_flag(f, f->other, "b", 0, 7);
    stamp_is(f, t + 1, "1-5"); /* another node's: cached ... */
    stamp_is(f, t + RG_FLAGDOC_STAMP_TTL_MS - 1, "1-5");
    stamp_is(f, t + RG_FLAGDOC_STAMP_TTL_MS, "2-7"); /* ... for the TTL */
    size_t len;
    char *text = rg_flagdoc_text(f->c, f->s, "prod", "2-7", &len, &f->err);
    assert_non_null(text);
    json_t *doc = json_loads(text, 0, NULL);
    assert_int_equal(json_array_size(json_object_get(doc, "features")), 2);
    json_decref(doc);
    free(text);
    char stamp[RG_FLAG_STAMP_MAX];
    rg_test_ok(rg_flagdoc_stamp(NULL, f->s, "prod", t, stamp, &f->err),
               &f->err);
    assert_string_equal(stamp, "2-7"); /* no cache: the store */
}

/* A segment write moves the stamp as a flag write does, and the document
 * carries the environment's segments by id. */
static void segments_in_document(void **state)
{
    fx *f = *state;
    stamp_is(f, 1, "0-0");
    rg_segment_rec g = {.environment = "prod",
                        .name = "linux",
                        .definition = "{\"constraints\":[]}",
                        .created_ms = 9};
    rg_test_ok(rg_store_segment_put(f->s, &g, 0, NULL, &f->err), &f->err);
    stamp_is(f, 1, "1-9");
    json_t *doc = rg_flagdoc_build(f->s, "prod", NULL, &f->err);
    assert_non_null(doc);
    json_t *seg = json_array_get(json_object_get(doc, "segments"), 0);
    assert_int_equal(json_integer_value(json_object_get(seg, "id")), g.id);
    assert_string_equal(json_string_value(json_object_get(seg, "name")),
                        "linux");
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(stamp_cache, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(segments_in_document, fx_setup,
                                        fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
