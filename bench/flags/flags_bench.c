/*
 * flags_bench.c - Rollgate's flag evaluator (src/flags) on a flag set and
 * (flag, context) cases written by bench/flags/gen.py: each context is
 * converted once, then isEnabled runs over every case for SECONDS of CPU
 * time (the process's, so a busy machine does not count against it).
 * Prints "c_ns_per_eval=N enabled=K".
 *
 *   flags_bench FEATURES_JSON CASES_JSON [SECONDS]
 */
#include "flags/ctxjson.h"
#include "flags/eval.h"
#include "flags/parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* CPU time of this process: the machine may be shared, and what is
 * compared is the work per evaluation, not how much CPU we were given. */
static double cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr,
                "usage: flags_bench FEATURES_JSON CASES_JSON [SECONDS]\n");
        return 2;
    }
    double seconds = argc > 3 ? strtod(argv[3], NULL) : 2;
    json_error_t jerr;
    json_t *doc = json_load_file(argv[1], 0, &jerr);
    json_t *input = json_load_file(argv[2], 0, &jerr);
    rg_flagset *fs = NULL;
    rg_err err = {0};
    if (!doc || !json_is_object(input) ||
        rg_flagset_parse(doc, RG_FLAGS_LENIENT, &fs, &err)) {
        fprintf(stderr, "flags_bench: cannot load: %s %s\n", jerr.text,
                err.msg);
        return 1;
    }
    const json_t *contexts = json_object_get(input, "contexts");
    const json_t *cases = json_object_get(input, "cases");
    size_t nctx = json_array_size(contexts), n = json_array_size(cases);
    rg_flag_ctx_json *ctx = calloc(nctx + 1, sizeof *ctx);
    const char **names = calloc(n + 1, sizeof *names);
    size_t *which = calloc(n + 1, sizeof *which);
    if (!ctx || !names || !which)
        return 1;
    for (size_t i = 0; i < nctx; i++)
        if (rg_flag_ctx_json_init(&ctx[i], json_array_get(contexts, i), 0,
                                  &err)) {
            fprintf(stderr, "flags_bench: context %zu: %s\n", i, err.msg);
            return 1;
        }
    /* Flag names are interned, as a program's literals would be: one copy
     * of each (the flag set document's), not one per case. */
    json_t *interned = json_object();
    size_t k;
    json_t *feature;
    json_array_foreach(json_object_get(doc, "features"), k, feature)
    {
        json_t *name = json_object_get(feature, "name");
        if (json_is_string(name))
            json_object_set(interned, json_string_value(name), name);
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *c = json_array_get(cases, i);
        const char *name = json_string_value(json_array_get(c, 0));
        const json_t *one = name ? json_object_get(interned, name) : NULL;
        names[i] = one ? json_string_value(one) : name;
        which[i] = (size_t)json_integer_value(json_array_get(c, 1));
        if (!names[i] || which[i] >= nctx) {
            fprintf(stderr, "flags_bench: bad case %zu\n", i);
            return 1;
        }
    }
    long long enabled = 0, evals = 0, rounds = 0;
    double start = cpu_ns(), end = start;
    while (end - start < seconds * 1e9) {
        for (size_t i = 0; i < n; i++)
            enabled += rg_flags_enabled(fs, names[i], &ctx[which[i]].ctx);
        evals += (long long)n;
        rounds++;
        end = cpu_ns();
    }
    printf("c_ns_per_eval=%.1f enabled=%lld\n", (end - start) / (double)evals,
           enabled / rounds);
    for (size_t i = 0; i < nctx; i++)
        rg_flag_ctx_json_release(&ctx[i]);
    free(ctx);
    free(names);
    free(which);
    rg_flagset_free(fs);
    json_decref(doc);
    json_decref(input);
    json_decref(interned);
    return 0;
}
