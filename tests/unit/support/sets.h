/*
 * sets.h - for gate tests that give window counts only: the matched sets
 * of the silence halt test (health/msprt.h) those counts stand for.
 */
#ifndef RG_TEST_SETS_H
#define RG_TEST_SETS_H

#include "health/analyzer.h"

#include <stddef.h>

/* Sets each entry's `sets` from its resolved windows (healthy + failed +
 * silent): one set per window with RG_TALLY_CONTROLS controls, the entry's
 * control silence share of them silent, spread evenly over the windows
 * (independently of which exposed windows were silent); failed windows
 * count as heard. Overwrites what `sets` held. */
void rg_test_fill_sets(rg_stratum_counts *c, size_t n);

#endif
