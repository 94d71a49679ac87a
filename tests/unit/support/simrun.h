/*
 * simrun.h - helpers the rollgate-sim unit tests share: a scenario from
 * JSON text and one model-mode run, both failing the running cmocka test
 * with the error's message when they fail.
 */
#ifndef RG_TEST_SIMRUN_H
#define RG_TEST_SIMRUN_H

#include "sim/scenario.h"
#include "sim/sim.h"

#include <stdint.h>

/* The scenario of JSON text (which must be valid). */
rg_scenario rg_test_scenario(const char *text);

/* Runs s under policy; seed 0 keeps the scenario's seed. The caller
 * releases the result with rg_sim_result_release. */
rg_sim_result rg_test_sim_run(const rg_scenario *s, int policy, uint64_t seed);

/* Runs s under Rollgate with seed (0: the scenario's), calling
 * tick(ctx, t) at every gate evaluation (rg_sim_recorder; the fleet and
 * its events are not recorded). Released as rg_test_sim_run's. */
rg_sim_result
rg_test_sim_run_ticks(const rg_scenario *s, uint64_t seed,
                      void (*tick)(void *ctx, const rg_sim_tick *t), void *ctx);

/* Expects text to be refused with RG_EINVAL and err.field == field. */
void rg_test_scenario_refused(const char *text, const char *field);

#endif
