/* main.c - rollgate-sim: `rollgate-sim run SCENARIO.json [--policy NAME]
 * [--seed N] [--json] [--quiet] [--trace]`. Runs one rollout of the scenario in
 * model mode (sim.h) and prints the result: a table, or with --json one
 * JSON object on the last line. Progress lines go to stderr unless
 * --quiet; --trace adds the gate's reason once a simulated minute. Exit 0 on
 * success, 1 on a bad scenario or a failed run, 2 on bad usage.
 *
 * `rollgate-sim live --server URL --endpoints N --enrollment-key K
 * [--duration S] [--interval S] [--internal N] [--fault crash|fail|none]
 * [--strata os:ver:arch,...] [--prefix P] [--threads T] [--crash-checkins
 * K] [--quiet]`: simulated agents over real HTTP (live.h; --enroll-key is
 * the old spelling of --enrollment-key, kept for one release); exit 0 when
 * every agent enrolled, 1 otherwise, 2 on bad usage. */
#include "common/err.h"
#include "common/json.h"
#include "sim/live.h"
#include "sim/policy.h"
#include "sim/scenario.h"
#include "sim/sim.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(FILE *f)
{
    fprintf(f,
            "usage: rollgate-sim run SCENARIO.json [--policy "
            "rollgate|threshold|fixed-bake] [--seed N] [--json] "
            "[--quiet] [--trace]\n"
            "       rollgate-sim live --server URL --endpoints N "
            "--enrollment-key K [--duration S] [--interval S] [--internal N] "
            "[--fault crash|fail|none] [--strata os:ver:arch,...] "
            "[--prefix P] [--threads T] [--crash-checkins K] [--quiet]\n");
    return f == stdout ? 0 : 2;
}

/* Reads an integer option value in [lo, hi]; -1 when it is not one. */
static long long int_arg(const char *s, long long lo, long long hi)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || !end || *end || !s[0] || v < lo || v > hi)
        return -1;
    return v;
}

static int live_main(int argc, char **argv)
{
    static char strata_buf[1024];
    rg_live_options o = {.prefix = "sim",
                         .duration_s = 60,
                         .threads = 4,
                         .crash_checkins = 3,
                         .progress = true};
    const char *strata =
        "windows:10:x86_64,windows:11:x86_64,linux:22.04:x86_64";
    rg_err err;
    rg_err_clear(&err);
    for (int i = 2; i < argc; i++) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        long long n = 0;
        if (strcmp(k, "--quiet") == 0) {
            o.progress = false;
            continue;
        }
        if (!v)
            return usage(stderr);
        i++;
        if (strcmp(k, "--server") == 0)
            o.server = v;
        else if (strcmp(k, "--enrollment-key") == 0 ||
                 strcmp(k, "--enroll-key") == 0) /* its old spelling */
            o.enroll_key = v;
        else if (strcmp(k, "--prefix") == 0)
            o.prefix = v;
        else if (strcmp(k, "--strata") == 0)
            strata = v;
        else if (strcmp(k, "--fault") == 0) {
            if (strcmp(v, "crash") == 0)
                o.fault = RG_LIVE_FAULT_CRASH;
            else if (strcmp(v, "fail") == 0)
                o.fault = RG_LIVE_FAULT_FAIL;
            else if (strcmp(v, "none") == 0)
                o.fault = RG_LIVE_FAULT_NONE;
            else
                return usage(stderr);
        } else if ((n = int_arg(v, 0, 1000000)) < 0) {
            fprintf(stderr, "rollgate-sim: bad value '%s' for %s\n", v, k);
            return 2;
        } else if (strcmp(k, "--endpoints") == 0)
            o.endpoints = (uint32_t)n;
        else if (strcmp(k, "--internal") == 0)
            o.internal = (uint32_t)n;
        else if (strcmp(k, "--duration") == 0)
            o.duration_s = (int)n;
        else if (strcmp(k, "--interval") == 0)
            o.interval_s = (int)n;
        else if (strcmp(k, "--threads") == 0)
            o.threads = (int)n;
        else if (strcmp(k, "--crash-checkins") == 0)
            o.crash_checkins = (int)n;
        else
            return usage(stderr);
    }
    snprintf(strata_buf, sizeof strata_buf, "%s", strata);
    for (char *save = NULL, *t = strtok_r(strata_buf, ",", &save);
         t && o.n_strata < RG_LIVE_MAX_STRATA; t = strtok_r(NULL, ",", &save))
        o.strata[o.n_strata++] = t;
    if (rg_live_run(&o, &err) != 0) {
        fprintf(stderr, "rollgate-sim: %s\n", err.msg);
        return err.code == RG_EINVAL ? 2 : 1;
    }
    return 0;
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
    if (argc >= 2 && strcmp(argv[1], "live") == 0)
        return live_main(argc, argv);
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
