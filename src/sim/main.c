/* main.c - rollgate-sim: `rollgate-sim run SCENARIO.json [--policy NAME]
 * [--seed N] [--json] [--quiet] [--trace]`. Runs one rollout of the scenario in
 * model mode (sim.h) and prints the result: a table, or with --json one
 * JSON object on the last line. Progress lines go to stderr unless
 * --quiet; --trace adds the gate's reason once a simulated minute. Exit 0 on
 * success, 1 on a bad scenario or a failed run, 2 on bad usage. */
#include "common/err.h"
#include "common/json.h"
#include "sim/policy.h"
#include "sim/scenario.h"
#include "sim/sim.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(FILE *f)
{
    fprintf(f, "usage: rollgate-sim run SCENARIO.json [--policy "
               "rollgate|threshold|fixed-bake] [--seed N] [--json] "
               "[--quiet] [--trace]\n");
    return f == stdout ? 0 : 2;
}

int main(int argc, char **argv)
{
    rg_sim_options o = {.policy = RG_SIM_ROLLGATE, .progress = true};
    const char *path = NULL;
    bool as_json = false;
    rg_scenario sc;
    rg_sim_result r;
    rg_err err;
    rg_err_clear(&err);
    memset(&r, 0, sizeof r);
    if (argc >= 2 &&
        (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
        return usage(stdout);
    if (argc < 3 || strcmp(argv[1], "run") != 0)
        return usage(stderr);
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--policy") == 0 && i + 1 < argc) {
            o.policy = rg_sim_policy_parse(argv[++i]);
            if (o.policy < 0) {
                fprintf(stderr, "rollgate-sim: unknown policy '%s'\n", argv[i]);
                return 2;
            }
        } else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
            char *end = NULL;
            errno = 0;
            unsigned long long v = strtoull(argv[++i], &end, 10);
            if (errno || !end || *end || argv[i][0] == '-' || !argv[i][0]) {
                fprintf(stderr, "rollgate-sim: bad seed '%s'\n", argv[i]);
                return 2;
            }
            o.seed = v;
            o.seed_set = true;
        } else if (strcmp(argv[i], "--json") == 0) {
            as_json = true;
        } else if (strcmp(argv[i], "--trace") == 0) {
            o.trace = true;
        } else if (strcmp(argv[i], "--quiet") == 0) {
            o.progress = false;
        } else if (argv[i][0] != '-' && !path) {
            path = argv[i];
        } else {
            fprintf(stderr, "rollgate-sim: unexpected argument '%s'\n",
                    argv[i]);
            return usage(stderr);
        }
    }
    if (!path)
        return usage(stderr);
    if (rg_scenario_load(path, &sc, &err) != 0 ||
        rg_sim_run(&sc, &o, &r, &err) != 0) {
        fprintf(stderr, "rollgate-sim: %s\n", err.msg);
        return 1;
    }
    int rc = 0;
    if (as_json) {
        json_t *v = rg_sim_result_to_json(&r);
        char *text = v ? rg_json_dump(v) : NULL;
        if (text)
            printf("%s\n", text);
        else
            rc = 1;
        free(text);
        json_decref(v);
    } else {
        rg_sim_result_print(stdout, &r);
    }
    rg_sim_result_release(&r);
    return rc;
}
