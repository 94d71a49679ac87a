/*
 * spec_runner.c - runs the Unleash client specification against Rollgate's
 * flag evaluator: every file listed in DIR/index.json, every isEnabled
 * ("tests") and getVariant ("variantTests") assertion. Prints one line per
 * failing case, then "N passed, N failed". Exits 0 only when every case
 * passed, 1 otherwise, 2 when the specification cannot be read.
 *
 *   spec_runner DIR    (DIR: .../@unleash/client-specification/specifications)
 */
#include "flags/ctxjson.h"
#include "flags/delta.h"
#include "flags/eval.h"
#include "flags/parse.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

typedef struct tally {
    int passed, failed;
} tally;

static uint32_t xorshift(void *arg)
{
    uint32_t *s = arg;
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* The flag set of a file's "state": a client-features document, or delta
 * events applied to an empty one. */
static rg_flagset *load_state(const json_t *state, rg_err *err)
{
    rg_flagset *fs = NULL;
    const json_t *events = json_object_get(state, "events");
    if (!events) {
        rg_flagset_parse(state, RG_FLAGS_LENIENT, &fs, err);
        return fs;
    }
    json_t *doc =
        json_pack("{s:i,s:[],s:[]}", "version", 1, "features", "segments");
    if (doc && rg_flags_delta_apply(doc, events, err) == 0)
        rg_flagset_parse(doc, RG_FLAGS_LENIENT, &fs, err);
    json_decref(doc);
    return fs;
}

static bool same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Compares a getVariant result with the expected JSON object. */
static bool variant_matches(const rg_flag_result *r, const json_t *want)
{
    const json_t *payload = json_object_get(want, "payload");
    const json_t *fe = json_object_get(want, "feature_enabled");
    return same(r->name, json_string_value(json_object_get(want, "name"))) &&
           r->enabled == json_is_true(json_object_get(want, "enabled")) &&
           (!fe || r->feature_enabled == json_is_true(fe)) &&
           same(r->payload_type,
                json_string_value(json_object_get(payload, "type"))) &&
           same(r->payload_value,
                json_string_value(json_object_get(payload, "value")));
}

static void run_case(const char *file, const rg_flagset *fs, const json_t *t,
                     bool variant, tally *n)
{
    const char *toggle = json_string_value(json_object_get(t, "toggleName"));
    const char *desc = json_string_value(json_object_get(t, "description"));
    const json_t *want = json_object_get(t, "expectedResult");
    rg_flag_ctx_json c;
    rg_err err = {0};
    uint32_t seed = 0x9e3779b9u;
    bool ok =
        toggle && rg_flag_ctx_json_init(&c, json_object_get(t, "context"),
                                        (double)time(NULL) * 1000.0, &err) == 0;
    char got[160] = "bad test case";
    if (ok) {
        c.ctx.random = xorshift;
        c.ctx.random_arg = &seed;
        if (variant) {
            rg_flag_result r;
            rg_flags_variant(fs, toggle, &c.ctx, &r);
            ok = variant_matches(&r, want);
            snprintf(got, sizeof got,
                     "{name %s, enabled %d, feature_enabled %d}", r.name,
                     r.enabled, r.feature_enabled);
        } else {
            bool on = rg_flags_enabled(fs, toggle, &c.ctx);
            ok = on == json_is_true(want);
            snprintf(got, sizeof got, "%s", on ? "true" : "false");
        }
        rg_flag_ctx_json_release(&c);
    }
    if (ok) {
        n->passed++;
        return;
    }
    n->failed++;
    char *w = json_dumps(want, JSON_COMPACT | JSON_ENCODE_ANY);
    printf("FAIL %s: %s(%s) %s: got %s, want %s\n", file,
           variant ? "getVariant" : "isEnabled", toggle ? toggle : "?",
           desc ? desc : "", got, w ? w : "?");
    free(w);
}

static int run_file(const char *dir, const char *file, tally *n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    json_error_t jerr;
    json_t *spec = json_load_file(path, 0, &jerr);
    if (!spec) {
        fprintf(stderr, "spec_runner: %s: %s\n", path, jerr.text);
        return -1;
    }
    rg_err err = {0};
    rg_flagset *fs = load_state(json_object_get(spec, "state"), &err);
    const char *lists[] = {"tests", "variantTests"};
    for (int k = 0; k < 2; k++) {
        size_t i;
        json_t *t;
        json_array_foreach(json_object_get(spec, lists[k]), i, t)
        {
            if (fs) {
                run_case(file, fs, t, k == 1, n);
                continue;
            }
            n->failed++;
            printf("FAIL %s: state not loaded: %s\n", file, err.msg);
        }
    }
    rg_flagset_free(fs);
    json_decref(spec);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: spec_runner SPECIFICATIONS_DIR\n");
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/index.json", argv[1]);
    json_error_t jerr;
    json_t *index = json_load_file(path, 0, &jerr);
    if (!json_is_array(index)) {
        fprintf(stderr,
                "spec_runner: cannot read the Unleash client specification "
                "at %s (%s); scripts/deps.sh flags fetches it from npm\n",
                path, jerr.text);
        return 2;
    }
    tally n = {0, 0};
    size_t i;
    json_t *f;
    int rc = 0;
    json_array_foreach(index, i, f)
    {
        if (!json_is_string(f) || run_file(argv[1], json_string_value(f), &n))
            rc = 2;
    }
    json_decref(index);
    printf("%d passed, %d failed\n", n.passed, n.failed);
    return rc ? rc : n.failed ? 1 : 0;
}
