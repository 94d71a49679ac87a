/* silence.c - see silence.h. */
#include "silence.h"

#include "tally.h"

#include <math.h>

void rg_silence_params_default(rg_silence_params *p)
{
    p->checkins = 3;
    p->floor_ms = 30 * 1000;
    p->cap_ms = 600 * 1000;
    p->late = 0.05;
    p->miss = 0.05;
}

/* The bin of a gap (> 0): gap in [256 * 2^(b/4), 256 * 2^((b+1)/4)) ms.
 * The lower edges of bins 1..63, as the smallest whole millisecond at or
 * above 256 * 1.189207115002721^b computed by repeated multiplication in
 * doubles (the definition: gaps are whole milliseconds, so comparing with
 * these is comparing with the double edges, to the bit). */
static int interval_bin(int64_t gap_ms)
{
    static const int64_t edge[RG_IVL_BINS - 1] = {
        305,     363,     431,     512,     609,     725,      862,     1024,
        1218,    1449,    1723,    2048,    2436,    2897,     3445,    4096,
        4871,    5793,    6889,    8192,    9742,    11586,    13778,   16384,
        19484,   23171,   27555,   32768,   38968,   46341,    55109,   65536,
        77936,   92682,   110218,  131072,  155872,  185364,   220436,  262144,
        311744,  370728,  440872,  524288,  623488,  741456,   881744,  1048576,
        1246975, 1482911, 1763488, 2097152, 2493949, 2965821,  3526976, 4194304,
        4987897, 5931642, 7053951, 8388608, 9975793, 11863284, 14107901};
    int lo = 0, hi = RG_IVL_BINS - 1; /* the number of edges <= gap */
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (gap_ms >= edge[mid])
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void rg_interval_add(rg_interval_hist *h, int64_t gap_ms)
{
    if (gap_ms <= 0)
        return;
    int b = interval_bin(gap_ms);
    h->n[b]++;
    h->sum[b] += (double)gap_ms;
}

void rg_interval_remove(rg_interval_hist *h, int64_t gap_ms)
{
    if (gap_ms <= 0)
        return;
    int b = interval_bin(gap_ms);
    if (h->n[b] == 0)
        return;
    h->n[b]--;
    h->sum[b] -= (double)gap_ms;
}

int64_t rg_interval_typical(const rg_interval_hist *h, int64_t fallback_ms)
{
    uint64_t total = 0, cum = 0;
    for (int b = 0; b < RG_IVL_BINS; b++)
        total += h->n[b];
    if (total == 0)
        return fallback_ms;
    for (int b = 0; b < RG_IVL_BINS; b++) {
        cum += h->n[b];
        if (2 * cum >= total)
            return (int64_t)(h->sum[b] / h->n[b] + 0.5);
    }
    return fallback_ms;
}

int64_t rg_silence_window_ms(const rg_silence_params *p, int64_t window_ms,
                             int64_t interval_ms)
{
    if (interval_ms <= 0)
        return window_ms;
    int64_t k = (window_ms + interval_ms - 1) / interval_ms;
    if (k < p->checkins)
        k = p->checkins;
    return k * interval_ms;
}

int64_t rg_act_step_ms(const rg_silence_params *p, int j)
{
    if (p->cap_ms <= p->floor_ms || j >= RG_ACT_STEPS - 1)
        return p->cap_ms;
    double r = (double)j / (RG_ACT_STEPS - 1);
    return (int64_t)ceil((double)p->floor_ms *
                         pow((double)p->cap_ms / (double)p->floor_ms, r));
}

bool rg_act_learner_wants(const rg_act_learner *l, int j)
{
    return j >= 0 && j < (l->covered ? l->covered - 1 : RG_ACT_STEPS);
}

uint32_t rg_act_learner_sample(const rg_silence_params *p)
{
    if (p->late <= 0 || p->late >= 1 || p->miss <= 0)
        return UINT32_MAX;
    double n = log(p->miss / RG_ACT_STEPS) / log1p(-p->late);
    return n < 1 ? 1 : (uint32_t)ceil(n);
}

/* Whether n exposures of which `late` were late prove the step: all on
 * time, and enough of them (rg_act_learner_sample). */
static bool proves(const rg_silence_params *p, uint32_t n, uint32_t late)
{
    return late == 0 && n >= rg_act_learner_sample(p);
}

static void test_step(rg_act_learner *l, const rg_silence_params *p, int j)
{
    if (rg_act_learner_wants(l, j) && proves(p, l->aged[j], l->late[j]))
        l->covered = (uint8_t)(j + 1);
}

void rg_act_learner_count(rg_act_learner *l, const rg_silence_params *p, int j,
                          bool late)
{
    if (!rg_act_learner_wants(l, j))
        return;
    l->aged[j]++;
    l->late[j] += late;
    test_step(l, p, j);
}

static const rg_act_learner *proved(const rg_act_learner *stratum,
                                    const rg_act_learner *fleet)
{
    if (stratum && stratum->covered)
        return stratum;
    return fleet && fleet->covered ? fleet : NULL;
}

int64_t rg_silence_allowance_ms(const rg_silence_params *p, int64_t declared_ms,
                                const rg_act_learner *stratum,
                                const rg_act_learner *fleet)
{
    if (declared_ms >= 0)
        return declared_ms;
    const rg_act_learner *l = proved(stratum, fleet);
    return l ? rg_act_step_ms(p, l->covered - 1) : p->cap_ms;
}

bool rg_silence_allowance_final(int64_t declared_ms,
                                const rg_act_learner *stratum,
                                const rg_act_learner *fleet)
{
    return declared_ms >= 0 || proved(stratum, fleet) != NULL;
}

bool rg_silence_heard(int64_t contact_ms, int64_t start_ms, int64_t end_ms)
{
    return contact_ms > 0 && contact_ms >= start_ms && contact_ms < end_ms;
}

int rg_silence_outcome(bool failed, bool healthy, int64_t healthy_ms,
                       bool heard, int64_t end_ms)
{
    if (failed)
        return RG_TALLY_FAILED;
    if (healthy && healthy_ms < end_ms && heard)
        return RG_TALLY_HEALTHY;
    return RG_TALLY_SILENT;
}
