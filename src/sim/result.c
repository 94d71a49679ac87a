/* result.c - rollgate-sim's result as JSON and as a table (sim.h). */
#include "sim.h"

#include "sim/policy.h"

#include <inttypes.h>

/* A time, or JSON null when it did not happen. */
static json_t *time_or_null(int64_t t)
{
    return t == RG_SIM_NONE ? json_null() : json_integer((json_int_t)t);
}

json_t *rg_sim_result_to_json(const rg_sim_result *r)
{
    return json_pack(
        "{s:s, s:s, s:I, s:I, s:b, s:b, s:o, s:I, s:I, s:I, s:b, s:o, s:o, "
        "s:o, s:f, s:b, s:s, s:i, s:I, s:O}",
        "scenario", r->scenario, "policy", rg_sim_policy_name(r->policy),
        "seed", (json_int_t)r->seed, "endpoints", (json_int_t)r->endpoints,
        "faulty", r->faulty, "halted", r->halted, "halt_time_s",
        time_or_null(r->halt_time_s), "exposed", (json_int_t)r->exposed,
        "failed_or_crashed", (json_int_t)r->failed_or_crashed, "reverted",
        (json_int_t)r->reverted, "completed", r->completed,
        "time_to_complete_s", time_or_null(r->time_to_complete_s),
        "time_to_99pct_s", time_or_null(r->time_to_99pct_s),
        "first_crash_exposure_s", time_or_null(r->first_crash_exposure_s),
        "final_coverage", r->final_coverage, "false_halt", r->false_halt,
        "final_state", r->final_state, "final_wave", r->final_wave, "end_s",
        (json_int_t)r->end_s, "decisions",
        r->decisions ? r->decisions : json_null());
}

/* Prints "name  value" with a time or "-". */
static void row_time(FILE *f, const char *name, int64_t t)
{
    if (t == RG_SIM_NONE)
        fprintf(f, "%-24s -\n", name);
    else
        fprintf(f, "%-24s %" PRId64 "\n", name, t);
}

void rg_sim_result_print(FILE *f, const rg_sim_result *r)
{
    fprintf(f, "%-24s %s\n", "scenario", r->scenario);
    fprintf(f, "%-24s %s\n", "policy", rg_sim_policy_name(r->policy));
    fprintf(f, "%-24s %" PRIu64 "\n", "seed", r->seed);
    fprintf(f, "%-24s %u\n", "endpoints", r->endpoints);
    fprintf(f, "%-24s %s\n", "halted", r->halted ? "yes" : "no");
    row_time(f, "halt_time_s", r->halt_time_s);
    fprintf(f, "%-24s %" PRIu64 "\n", "exposed", r->exposed);
    fprintf(f, "%-24s %" PRIu64 "\n", "failed_or_crashed",
            r->failed_or_crashed);
    fprintf(f, "%-24s %" PRIu64 "\n", "reverted", r->reverted);
    fprintf(f, "%-24s %s\n", "completed", r->completed ? "yes" : "no");
    row_time(f, "time_to_complete_s", r->time_to_complete_s);
    row_time(f, "time_to_99pct_s", r->time_to_99pct_s);
    row_time(f, "first_crash_exposure_s", r->first_crash_exposure_s);
    fprintf(f, "%-24s %.4f\n", "final_coverage", r->final_coverage);
    fprintf(f, "%-24s %s\n", "false_halt", r->false_halt ? "yes" : "no");
    fprintf(f, "%-24s %s (wave %d) at %" PRId64 " s\n", "final_state",
            r->final_state, r->final_wave, r->end_s);
    fprintf(f, "decisions:\n");
    for (size_t i = 0; r->decisions && i < json_array_size(r->decisions); i++) {
        const json_t *d = json_array_get(r->decisions, i);
        fprintf(f, "  %6" JSON_INTEGER_FORMAT " s  %-8s %s\n",
                json_integer_value(json_object_get(d, "time_s")),
                json_string_value(json_object_get(d, "verdict")),
                json_string_value(json_object_get(d, "reason")));
    }
}
