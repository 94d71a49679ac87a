/* silence.c - see silence.h. */
#include "silence.h"

#include "tally.h"

void rg_silence_params_default(rg_silence_params *p)
{
    p->checkins = 3;
    p->floor_ms = 30 * 1000;
    p->cap_ms = 600 * 1000;
    p->quantile = 0.99;
    p->margin = 2.0;
    p->min_samples = 20;
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

void rg_act_learner_add(rg_act_learner *l, const rg_silence_params *p,
                        int64_t latency_ms)
{
    if (latency_ms < 0 || latency_ms > p->cap_ms || p->cap_ms <= 0)
        return;
    int64_t b = latency_ms * RG_ACT_BINS / p->cap_ms;
    l->bins[b >= RG_ACT_BINS ? RG_ACT_BINS - 1 : b]++;
    l->n++;
}

/* The upper edge of the bin holding l's p->quantile (l->n > 0). */
static int64_t learned_quantile(const rg_act_learner *l,
                                const rg_silence_params *p)
{
    /* the smallest bin whose cumulative count reaches q * n */
    double need = p->quantile * (double)l->n;
    uint64_t cum = 0;
    int b = 0;
    for (; b < RG_ACT_BINS - 1; b++) {
        cum += l->bins[b];
        if ((double)cum >= need)
            break;
    }
    return (int64_t)(b + 1) * p->cap_ms / RG_ACT_BINS;
}

int64_t rg_silence_allowance_ms(const rg_silence_params *p, int64_t declared_ms,
                                const rg_act_learner *stratum,
                                const rg_act_learner *fleet)
{
    if (declared_ms >= 0)
        return declared_ms;
    const rg_act_learner *l = stratum;
    if (!l || l->n < p->min_samples)
        l = fleet;
    if (!l || l->n < p->min_samples || l->n == 0)
        return p->cap_ms;
    double a = p->margin * (double)learned_quantile(l, p);
    if (a < (double)p->floor_ms)
        a = (double)p->floor_ms;
    return a > (double)p->cap_ms ? p->cap_ms : (int64_t)a;
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
