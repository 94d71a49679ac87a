/* sets.c - see sets.h. */
#include "sets.h"

#include "health/tally.h"

#include <math.h>
#include <string.h>

/* floor(i * total / n) without overflow for the counts tests use. */
static uint64_t spread(uint64_t i, uint64_t total, uint64_t n)
{
    return (uint64_t)((double)i * (double)total / (double)n);
}

void rg_test_fill_sets(rg_stratum_counts *c, size_t n)
{
    const uint64_t k = RG_TALLY_CONTROLS;
    for (size_t e = 0; e < n; e++) {
        rg_stratum_counts *x = &c[e];
        uint64_t w = x->exposed_healthy + x->exposed_failed + x->exposed_silent;
        uint64_t sil = 0;
        memset(&x->sets, 0, sizeof x->sets);
        if (w && x->control_windows)
            sil =
                (uint64_t)llround((double)(k * w) * (double)x->control_silent /
                                  (double)x->control_windows);
        for (uint64_t i = 0; i < w; i++) {
            uint64_t s = spread(i + 1, sil, w) - spread(i, sil, w);
            bool silent = spread(i + 1, x->exposed_silent, w) >
                          spread(i, x->exposed_silent, w);
            rg_msprt_sets_count(&x->sets, silent, (uint32_t)k,
                                (uint32_t)(s > k ? k : s), 1);
        }
    }
}
