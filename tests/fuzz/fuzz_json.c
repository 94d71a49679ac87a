/*
 * fuzz_json.c - the common JSON extraction helpers (src/common/json.c).
 *
 * Parses the input as a request body; when it is an object, reads every
 * key with every typed getter (required and optional, tight and loose
 * bounds), checks it against an allow list, and serialises it. Invariant:
 * what rg_json_dump writes parses again as an object.
 */
#include "fuzz.h"

#include "common/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const allowed[] = {"name", "version", "channel", "plan",
                                      NULL};

static void read_all(const json_t *o, const char *key)
{
    rg_err err;
    const char *s = NULL;
    int64_t i = 0;
    double d = 0;
    bool b = false;
    json_t *sub = NULL;
    for (int req = 0; req < 2; req++) {
        rg_json_string(o, key, req, 64, &s, &err);
        rg_json_string(o, key, req, 1, &s, &err);
        rg_json_int(o, key, req, INT64_MIN, INT64_MAX, &i, &err);
        rg_json_int(o, key, req, -1, 1, &i, &err);
        rg_json_number(o, key, req, -1e300, 1e300, &d, &err);
        rg_json_number(o, key, req, 0, 1, &d, &err);
        rg_json_bool(o, key, req, &b, &err);
        rg_json_object(o, key, req, &sub, &err);
        rg_json_array(o, key, req, 4, &sub, &err);
    }
    if (rg_json_object(o, key, true, &sub, &err) == 0) {
        const char *k;
        json_t *v;
        json_object_foreach(sub, k, v) read_all(sub, k);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rg_err err;
    json_t *o = rg_json_parse_object((const char *)data, size, &err);
    if (!o)
        return 0;
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) read_all(o, k);
    read_all(o, "missing");
    rg_json_only(o, allowed, &err);
    char *dump = rg_json_dump(o);
    if (dump) {
        json_t *again = rg_json_parse_object(dump, strlen(dump), &err);
        if (!again) {
            fprintf(stderr, "dump does not parse again: %s: %s\n", dump,
                    err.msg);
            abort();
        }
        json_decref(again);
        free(dump);
    }
    json_decref(o);
    return 0;
}
