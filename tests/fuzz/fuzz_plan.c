/*
 * fuzz_plan.c - rollout plans from JSON (rg_plan_from_json, src/model).
 *
 * Parses the input as any JSON value and reads it as a plan. When it is
 * a plan, checks the invariants plan.h promises: the JSON form
 * round-trips exactly, every wave's share is in 0..100%, and the exposure
 * budget never shrinks from one wave to the next, for a range of fleet
 * sizes. A broken invariant aborts.
 */
#include "fuzz.h"

#include "model/plan.h"

#include <stdio.h>
#include <stdlib.h>

static void fail(const char *what)
{
    fprintf(stderr, "plan invariant broken: %s\n", what);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    rg_err err;
    rg_plan p, q;
    json_t *v = json_loadb((const char *)data, size, JSON_DECODE_ANY, &jerr);
    if (!v)
        return 0;
    if (rg_plan_from_json(v, &p, &err) != 0) {
        json_decref(v);
        return 0;
    }
    json_t *a = rg_plan_to_json(&p);
    if (!a)
        abort();
    if (rg_plan_from_json(a, &q, &err) != 0)
        fail(err.msg);
    json_t *b = rg_plan_to_json(&q);
    if (!b || !json_equal(a, b))
        fail("to_json(from_json(to_json(p))) != to_json(p)");
    static const uint64_t fleets[] = {0, 1, 7, 1000, 1000000, 4000000000u};
    for (size_t f = 0; f < sizeof fleets / sizeof fleets[0]; f++) {
        uint32_t prev = 0;
        for (size_t w = 0; w < p.n_waves; w++) {
            uint32_t s = rg_plan_wave_share(&p, w, fleets[f]);
            if (s > 1000000u || s < prev)
                fail("wave share out of range or shrinking");
            prev = s;
        }
    }
    json_decref(b);
    json_decref(a);
    json_decref(v);
    return 0;
}
