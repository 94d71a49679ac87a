/* tally.c - see tally.h. */
#include "tally.h"

#include <stdlib.h>

bool rg_tally_control_fresh(int64_t last_seen_ms, int64_t apply_ms,
                            int64_t interval_ms)
{
    int64_t recent = interval_ms * RG_TALLY_FRESH_NUM / RG_TALLY_FRESH_DEN;
    return last_seen_ms > 0 && last_seen_ms >= apply_ms - recent;
}

uint32_t rg_tally_max_periods(uint32_t n_strata)
{
    uint32_t fit = RG_ANALYZER_MAX_STRATA / (n_strata ? n_strata : 1);
    return fit > 1 ? fit - 1 : 1;
}

uint32_t rg_tally_period(int64_t end_ms, int64_t begin_ms, int64_t window_ms,
                         uint32_t max_periods)
{
    if (end_ms <= begin_ms || window_ms <= 0 || max_periods == 0)
        return 0;
    int64_t p = (end_ms - begin_ms) / window_ms;
    return p >= (int64_t)max_periods ? max_periods - 1 : (uint32_t)p;
}

static int cmp_cell(const void *a, const void *b)
{
    const rg_tally_cell *x = a, *y = b;
    if (x->stratum != y->stratum)
        return x->stratum < y->stratum ? -1 : 1;
    if (x->period != y->period)
        return x->period < y->period ? -1 : 1;
    return 0;
}

size_t rg_tally_entries(rg_tally_cell *cells, size_t n,
                        const rg_tally_stratum *strata, uint32_t n_strata,
                        rg_stratum_counts *out, size_t max)
{
    size_t m = 0, c = 0;
    if (n > 1)
        qsort(cells, n, sizeof *cells, cmp_cell);
    for (uint32_t s = 0; s < n_strata; s++) {
        const rg_tally_stratum *st = &strata[s];
        size_t first = m;
        while (c < n && cells[c].stratum < s)
            c++;
        for (; c < n && cells[c].stratum == s; c++) {
            const rg_tally_cell *x = &cells[c];
            uint64_t resolved = x->healthy + x->failed + x->silent;
            if ((!resolved && !x->control_windows) || m == max)
                continue;
            out[m++] =
                (rg_stratum_counts){.stratum = st->name,
                                    .exposed = resolved,
                                    .exposed_healthy = x->healthy,
                                    .exposed_failed = x->failed,
                                    .exposed_silent = x->silent,
                                    .control_windows = x->control_windows,
                                    .control_silent = x->control_silent};
        }
        if ((st->pending || st->early_failed || st->prior_trials ||
             !rg_msprt_sets_empty(&st->sets) ||
             !rg_msprt_sets_empty(&st->soak_sets)) &&
            m == first && m < max)
            out[m++] = (rg_stratum_counts){.stratum = st->name};
        if (m > first) {
            out[m - 1].exposed += st->pending;
            out[first].early_failed = st->early_failed;
            out[first].prior_trials = st->prior_trials;
            out[first].prior_failed = st->prior_failed;
            out[first].sets = st->sets;
            out[first].soak_sets = st->soak_sets;
        }
    }
    return m;
}
