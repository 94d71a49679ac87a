/* cohort.c - see cohort.h. */
#include "cohort.h"

#include "common/buf.h"
#include "common/murmur3.h"
#include "health/silence.h"

#include <stdlib.h>
#include <string.h>

#define HEARD_SELF (1u << 31) /* span.heard: the exposed endpoint */
_Static_assert(RG_TALLY_CONTROLS < 31, "span.heard: one bit per control");
_Static_assert(RG_ACT_STEPS <= 16, "span.lheard: one bit per learner step");

#define RADIX_BITS 16
#define RADIX (1u << RADIX_BITS)

/* An exposure whose judged span [from_ms, end_ms) is not resolved yet. */
typedef struct span {
    uint32_t ref, stratum;
    int64_t apply_ms, from_ms, end_ms, window_ms;
    uint8_t step;     /* the next learner step it counts at */
    uint16_t lheard;  /* bit j: heard in learner step j's span (learn) */
    bool provisional; /* its A was not final when taken in (silence.h) */
    bool soak;        /* its soak span (cohort.h), not its first */
    bool begun;       /* a soak span whose controls were fixed at its start */
    uint32_t picks[RG_TALLY_CONTROLS]; /* member refs */
    uint32_t elig;                     /* bit j: picks[j] counts */
    uint32_t heard; /* bit j: picks[j] had a contact in the span so far;
                       HEARD_SELF: the exposed endpoint did */
} span;

/* Per stratum. */
typedef struct stratum_acc {
    uint64_t cur_exposed;    /* exposures of the current wave taken in */
    uint64_t failed_cur;     /* their failure reports */
    uint64_t prior_trials;   /* exposures of earlier waves */
    uint64_t prior_failed;   /* their failure reports */
    uint64_t pending;        /* current-wave spans open at the last tick */
    rg_msprt_sets sets;      /* matched sets of every wave (tally.h) */
    rg_msprt_sets soak_sets; /* those of soak spans */
    size_t cell;             /* index of its last used cell + 1, 0: none */
} stratum_acc;

struct rg_cohort {
    uint32_t max_strata, n_strata;
    int64_t wave_begin_ms;
    span *q;
    size_t nq, capq;
    rg_tally_cell *cells;
    size_t ncells, capcells;
    stratum_acc *acc;     /* max_strata */
    rg_tally_stratum *ts; /* max_strata: rg_tally_entries' extras */
    rg_cohort_member *m;  /* the members, by (stratum, key) */
    size_t nm;
    size_t *start; /* max_strata + 1: stratum s is m[start[s]..) */
    size_t *count; /* RADIX: radix counts */
    uint64_t silent_total;
    int64_t last_apply_ms; /* newest exposure taken in */
    /* the activation allowance (health/silence.h) */
    rg_silence_params sp;
    int64_t declared_ms;
    rg_act_learner *act; /* max_strata */
    rg_act_learner act_all;
    int64_t soak_ms; /* the plan's soak: rg_cohort_soak */
};

uint64_t rg_cohort_key(const char *id)
{
    size_t n = strlen(id);
    return (uint64_t)rg_murmur3_32(id, n, 0x5eed) << 32 |
           rg_murmur3_32(id, n, 0xc0407);
}

rg_cohort *rg_cohort_new(uint32_t max_strata)
{
    rg_cohort *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->max_strata = max_strata == 0      ? 1
                    : max_strata > RADIX ? RADIX
                                         : max_strata;
    t->wave_begin_ms = INT64_MIN;
    t->last_apply_ms = INT64_MIN;
    rg_silence_params_default(&t->sp);
    t->declared_ms = RG_SILENCE_UNDECLARED;
    t->act = calloc(t->max_strata, sizeof *t->act);
    t->acc = calloc(t->max_strata, sizeof *t->acc);
    t->ts = calloc(t->max_strata, sizeof *t->ts);
    t->start = calloc(t->max_strata + 1, sizeof *t->start);
    t->count = calloc(RADIX, sizeof *t->count);
    if (!t->act || !t->acc || !t->ts || !t->start || !t->count) {
        rg_cohort_free(t);
        return NULL;
    }
    return t;
}

void rg_cohort_free(rg_cohort *t)
{
    if (!t)
        return;
    free(t->q);
    free(t->cells);
    free(t->acc);
    free(t->ts);
    free(t->start);
    free(t->count);
    free(t->act);
    free(t);
}

void rg_cohort_activation(rg_cohort *t, const rg_silence_params *p,
                          int64_t declared_ms)
{
    t->sp = *p;
    t->declared_ms = declared_ms < 0 ? RG_SILENCE_UNDECLARED : declared_ms;
}

int64_t rg_cohort_allowance_ms(const rg_cohort *t, uint32_t stratum,
                               bool *final)
{
    const rg_act_learner *l = stratum < t->max_strata ? &t->act[stratum] : NULL;
    if (final)
        *final = rg_silence_allowance_final(t->declared_ms, l, &t->act_all);
    return rg_silence_allowance_ms(&t->sp, t->declared_ms, l, &t->act_all);
}

void rg_cohort_wave(rg_cohort *t, int64_t begin_ms)
{
    for (uint32_t s = 0; s < t->max_strata; s++) {
        stratum_acc *a = &t->acc[s];
        a->prior_trials += a->cur_exposed;
        a->prior_failed += a->failed_cur;
        a->cur_exposed = a->failed_cur = a->pending = 0;
        a->cell = 0;
    }
    t->ncells = 0;
    t->wave_begin_ms = begin_ms;
    for (size_t i = 0; i < t->nq; i++) /* exposed as the wave began */
        if (!t->q[i].soak && t->q[i].apply_ms >= begin_ms) {
            t->acc[t->q[i].stratum].prior_trials--;
            t->acc[t->q[i].stratum].cur_exposed++;
        }
}

/* One stable counting pass of m[0..n) into out by digit(m). */
static void radix_pass(rg_cohort *t, const rg_cohort_member *m,
                       rg_cohort_member *out, size_t n, int shift,
                       bool by_stratum)
{
    size_t *c = t->count, sum = 0;
    memset(c, 0, RADIX * sizeof *c);
#define DIGIT(x)                                                               \
    ((by_stratum ? (x).stratum : (uint32_t)((x).key >> shift)) & (RADIX - 1))
    for (size_t i = 0; i < n; i++)
        c[DIGIT(m[i])]++;
    for (size_t d = 0; d < RADIX; d++) {
        size_t k = c[d];
        c[d] = sum;
        sum += k;
    }
    for (size_t i = 0; i < n; i++)
        out[c[DIGIT(m[i])]++] = m[i];
#undef DIGIT
}

void rg_cohort_members(rg_cohort *t, rg_cohort_member *m, size_t n,
                       uint32_t n_strata)
{
    t->m = m;
    t->nm = n;
    t->n_strata = n_strata < t->max_strata ? n_strata : t->max_strata;
    memset(t->start, 0, (t->max_strata + 1) * sizeof *t->start);
    if (n == 0)
        return; /* nothing to sort (memcpy takes no NULL, even for 0 B) */
    rg_cohort_member *tmp = malloc(n * sizeof *tmp);
    if (!tmp) {
        t->nm = 0; /* no members: no control windows until the next call */
        return;
    }
    /* by key (4 digits), then stably by stratum: 5 passes, ending in m */
    radix_pass(t, m, tmp, n, 0, false);
    radix_pass(t, tmp, m, n, 16, false);
    radix_pass(t, m, tmp, n, 32, false);
    radix_pass(t, tmp, m, n, 48, false);
    memcpy(tmp, m, n * sizeof *m);
    radix_pass(t, tmp, m, n, 0, true);
    free(tmp);
    for (size_t i = 0; i < n; i++)
        if (m[i].stratum < t->max_strata)
            t->start[m[i].stratum + 1]++;
    for (uint32_t s = 0; s < t->max_strata; s++)
        t->start[s + 1] += t->start[s];
}

/* Whether one of e's eligible picks before j is endpoint ref. */
static bool picked(const span *e, uint32_t j, uint32_t ref)
{
    for (uint32_t i = 0; i < j; i++)
        if ((e->elig & (1u << i)) && e->picks[i] == ref)
            return true;
    return false;
}

/* Draws the controls of e (key: its endpoint's) as of now, heard from
 * within the freshness of interval_ms before e's apply; an endpoint
 * drawn twice counts once (the silence test needs independent controls,
 * msprt.h). */
static void draw(rg_cohort *t, const rg_cohort_src *src, span *e, uint64_t key,
                 int64_t interval_ms)
{
    size_t lo = t->start[e->stratum], size = t->start[e->stratum + 1] - lo;
    for (uint32_t j = 0; j < RG_TALLY_CONTROLS && size; j++) {
        uint32_t h = rg_murmur3_32(&key, sizeof key, j + 1);
        uint32_t ref = t->m[lo + h % size].ref;
        rg_cohort_seen c;
        if (ref == e->ref || picked(e, j, ref) ||
            src->seen(src->ctx, ref, &c) != 0 || c.in_rollout ||
            !rg_tally_control_fresh(c.last_ms, e->apply_ms, interval_ms))
            continue;
        e->picks[j] = ref;
        e->elig |= 1u << j;
    }
}

int rg_cohort_expose(rg_cohort *t, const rg_cohort_src *src, uint32_t ref,
                     uint64_t key, uint32_t stratum, int64_t apply_ms,
                     int64_t window_ms, int64_t interval_ms, int64_t now_ms)
{
    if (stratum >= t->max_strata)
        return 0;
    if (rg_array_reserve((void **)&t->q, &t->capq, t->nq + 1, sizeof *t->q) < 0)
        return -1;
    span *e = &t->q[t->nq++];
    memset(e, 0, sizeof *e);
    e->ref = ref;
    e->stratum = stratum;
    e->apply_ms = apply_ms;
    bool final;
    e->from_ms = apply_ms + rg_cohort_allowance_ms(t, stratum, &final);
    e->provisional = !final;
    e->window_ms = window_ms;
    e->end_ms = e->from_ms + window_ms;
    if (stratum < t->n_strata && e->end_ms > now_ms)
        draw(t, src, e, key, interval_ms);
    if (apply_ms > t->last_apply_ms)
        t->last_apply_ms = apply_ms;
    if (apply_ms >= t->wave_begin_ms)
        t->acc[stratum].cur_exposed++;
    else
        t->acc[stratum].prior_trials++;
    return 0;
}

void rg_cohort_failed(rg_cohort *t, uint32_t stratum, int64_t apply_ms)
{
    if (stratum >= t->max_strata)
        return;
    if (apply_ms >= t->wave_begin_ms)
        t->acc[stratum].failed_cur++;
    else
        t->acc[stratum].prior_failed++;
}

bool rg_cohort_heard(int64_t last_ms, int64_t prev_ms, int64_t from_ms,
                     int64_t end_ms)
{
    return rg_silence_heard(last_ms, from_ms, end_ms) ||
           rg_silence_heard(prev_ms, from_ms, end_ms);
}

static bool contact_in(const rg_cohort_seen *c, int64_t from, int64_t end)
{
    return rg_cohort_heard(c->last_ms, c->prev_ms, from, end);
}

/* Whether endpoint ref had a contact in [from, end) by its last two. */
static bool heard_in(const rg_cohort_src *src, uint32_t ref, int64_t from,
                     int64_t end)
{
    rg_cohort_seen c = {0};
    return src->contacts(src->ctx, ref, &c.last_ms, &c.prev_ms) == 0 &&
           contact_in(&c, from, end);
}

/* The cell of stratum s and period p (added when missing), or NULL. */
static rg_tally_cell *cell_at(rg_cohort *t, uint32_t s, uint32_t p)
{
    stratum_acc *a = &t->acc[s];
    if (a->cell && t->cells[a->cell - 1].period == p)
        return &t->cells[a->cell - 1];
    for (size_t i = 0; i < t->ncells; i++)
        if (t->cells[i].stratum == s && t->cells[i].period == p) {
            a->cell = i + 1;
            return &t->cells[i];
        }
    if (rg_array_reserve((void **)&t->cells, &t->capcells, t->ncells + 1,
                         sizeof *t->cells) < 0)
        return NULL;
    t->cells[t->ncells] = (rg_tally_cell){.stratum = s, .period = p};
    a->cell = ++t->ncells;
    return &t->cells[t->ncells - 1];
}

/* The soak span of exposure e, resolved healthy with its controls
 * heard_ctl heard in its span, into *out: [from, from + W) with from the
 * later of e's end and a + soak - W, judged against those controls.
 * Returns false when the soak ends by e's end (no soak span). */
static bool soak_span(const rg_cohort *t, const span *e, uint32_t heard_ctl,
                      span *out)
{
    int64_t w = e->end_ms - e->from_ms, last = e->apply_ms + t->soak_ms - w;
    if (t->soak_ms <= 0 || e->apply_ms + t->soak_ms <= e->end_ms)
        return false;
    *out = *e;
    out->soak = true;
    out->provisional = false;
    out->step = RG_ACT_STEPS;
    out->from_ms = last > e->end_ms ? last : e->end_ms;
    out->end_ms = out->from_ms + w;
    out->elig = heard_ctl;
    out->heard = 0;
    return true;
}

/* The bits of e's controls that count now: its eligible ones the caller
 * still knows, for a first span only those the rollout has not assigned
 * since (cohort.h: an assigned control's `applying` and `healthy` reports
 * are contacts its own rollout caused; a soak span's were fixed when it
 * began, begin_soak); *heard: those of them that had a contact in its
 * span. */
static uint32_t controls(const rg_cohort_src *src, const span *e,
                         uint32_t *heard)
{
    uint32_t counted = 0;
    *heard = 0;
    for (uint32_t j = 0; j < RG_TALLY_CONTROLS; j++) {
        rg_cohort_seen cv;
        if (!(e->elig & (1u << j)) ||
            src->seen(src->ctx, e->picks[j], &cv) != 0 ||
            (!e->soak && cv.in_rollout))
            continue;
        counted |= 1u << j;
        if ((e->heard & (1u << j)) || contact_in(&cv, e->from_ms, e->end_ms))
            *heard |= 1u << j;
    }
    return counted;
}

/* The number of bits set in x. */
static uint32_t bits(uint32_t x)
{
    uint32_t n = 0;
    for (; x; x &= x - 1)
        n++;
    return n;
}

/* Resolves span e (ended) into the cell of its stratum and period; when
 * it is a first span resolved healthy and the soak goes on past it, its
 * soak span goes to *next (and *has_next is set). */
static int resolve(rg_cohort *t, const rg_cohort_src *src, const span *e,
                   span *next, bool *has_next)
{
    rg_cohort_seen v;
    if (src->seen(src->ctx, e->ref, &v) != 0 || (e->soak && v.failed))
        return 0; /* a failure counts once, as reported (cohort.h) */
    bool heard = (e->heard & HEARD_SELF) ||
                 contact_in(&v, e->from_ms, e->end_ms) ||
                 rg_silence_heard(v.healthy_ms, e->from_ms, e->end_ms);
    int out = e->soak ? (heard ? RG_TALLY_HEALTHY : RG_TALLY_SILENT)
                      : rg_silence_outcome(v.failed, v.healthy_ms > 0,
                                           v.healthy_ms, heard, e->end_ms);
    t->silent_total += out == RG_TALLY_SILENT;
    if (src->judged)
        src->judged(src->ctx, e->ref, out == RG_TALLY_SILENT);
    uint32_t ctl_heard, counted = controls(src, e, &ctl_heard);
    uint32_t k = bits(counted), sil = bits(counted & ~ctl_heard);
    stratum_acc *a = &t->acc[e->stratum];
    rg_msprt_sets_count(e->soak ? &a->soak_sets : &a->sets,
                        out == RG_TALLY_SILENT, k, sil, 1);
    if (!e->soak && out == RG_TALLY_HEALTHY)
        *has_next = soak_span(t, e, ctl_heard, next);
    if (!e->soak && e->apply_ms < t->wave_begin_ms)
        return 0; /* an earlier wave's: its failure is counted as reported */
    uint32_t p =
        rg_tally_period(e->end_ms, t->wave_begin_ms, e->end_ms - e->from_ms,
                        rg_tally_max_periods(t->n_strata));
    rg_tally_cell *c = cell_at(t, e->stratum, p);
    if (!c)
        return -1;
    c->healthy += out == RG_TALLY_HEALTHY;
    c->failed += out == RG_TALLY_FAILED;
    c->silent += out == RG_TALLY_SILENT;
    c->control_windows += k;
    c->control_silent += sil;
    return 0;
}

/* Fixes the controls of soak span e at its first tick: those the rollout
 * has assigned by then leave it (cohort.h). One assigned since the span
 * began was heard in it (assignment needs a check-in), so leaving it out
 * too only lowers the evidence against the release. */
static void begin_soak(const rg_cohort_src *src, span *e)
{
    for (uint32_t j = 0; j < RG_TALLY_CONTROLS; j++) {
        rg_cohort_seen cv;
        if ((e->elig & (1u << j)) &&
            (src->seen(src->ctx, e->picks[j], &cv) != 0 || cv.in_rollout))
            e->elig &= ~(1u << j);
    }
    e->begun = true;
}

/* Marks in e->heard who had a contact in e's span so far (now_ms inside
 * it): the caller keeps only the last two, so a tick inside the span
 * records them before they are overwritten. */
static void note_heard(const rg_cohort_src *src, span *e, int64_t now_ms)
{
    if (now_ms < e->from_ms)
        return;
    if (e->soak && !e->begun)
        begin_soak(src, e);
    if (!(e->heard & HEARD_SELF) &&
        heard_in(src, e->ref, e->from_ms, e->end_ms))
        e->heard |= HEARD_SELF;
    for (uint32_t j = 0; j < RG_TALLY_CONTROLS; j++)
        if ((e->elig & ~e->heard & (1u << j)) &&
            heard_in(src, e->picks[j], e->from_ms, e->end_ms))
            e->heard |= 1u << j;
}

/* Whether step j still matters to e's stratum's or the fleet's learner. */
static bool wanted(const rg_cohort *t, const span *e, int j)
{
    return rg_act_learner_wants(&t->act[e->stratum], j) ||
           rg_act_learner_wants(&t->act_all, j);
}

/* Counts e's exposure at every learner step j that a learner still wants
 * once it is t_j + W old (t_j: the step's allowance, W: e's window): late
 * when it failed, or was heard from in [a + t_j, a + t_j + W) and had not
 * reported healthy by its end (docs/health.md: only such an exposure can
 * be silent where its controls are heard). Each tick before, e->lheard
 * notes the steps whose span it was heard in (the caller keeps only the
 * last two contacts). Steps count at a fixed age, by the exact healthy
 * time, so neither which exposures count nor a count depends on when the
 * tick comes. */
static void learn(rg_cohort *t, const rg_cohort_src *src, span *e,
                  int64_t now_ms)
{
    while (e->step < RG_ACT_STEPS && !wanted(t, e, e->step))
        e->step++;
    rg_cohort_seen v;
    if (e->step >= RG_ACT_STEPS ||
        e->apply_ms + rg_act_step_ms(&t->sp, e->step) > now_ms)
        return;
    if (src->seen(src->ctx, e->ref, &v) != 0) {
        e->step = RG_ACT_STEPS; /* gone: it says nothing more */
        return;
    }
    for (int j = e->step; j < RG_ACT_STEPS; j++) {
        int64_t from = e->apply_ms + rg_act_step_ms(&t->sp, j);
        if (from > now_ms)
            break;
        if (contact_in(&v, from, from + e->window_ms))
            e->lheard |= (uint16_t)(1u << j);
    }
    for (; e->step < RG_ACT_STEPS; e->step++) {
        int j = e->step;
        int64_t end = e->apply_ms + rg_act_step_ms(&t->sp, j) + e->window_ms;
        if (!wanted(t, e, j))
            continue;
        if (end > now_ms)
            return;
        bool late = v.failed || ((e->lheard >> j & 1u) &&
                                 !(v.healthy_ms > 0 && v.healthy_ms < end));
        rg_act_learner_count(&t->act[e->stratum], &t->sp, j, late);
        rg_act_learner_count(&t->act_all, &t->sp, j, late);
    }
}

/* A span taken in before its A was final starts at max(a + A, now_ms)
 * once it is (silence.h), never in the past; one already started stays. */
static void firm_up(const rg_cohort *t, span *e, int64_t now_ms)
{
    bool final;
    if (!e->provisional || e->from_ms <= now_ms)
        return;
    int64_t a = rg_cohort_allowance_ms(t, e->stratum, &final);
    if (!final)
        return;
    e->from_ms = e->apply_ms + a > now_ms ? e->apply_ms + a : now_ms;
    e->end_ms = e->from_ms + e->window_ms;
    e->provisional = false;
}

int rg_cohort_tick(rg_cohort *t, const rg_cohort_src *src, int64_t now_ms)
{
    size_t keep = 0;
    for (uint32_t s = 0; s < t->max_strata; s++)
        t->acc[s].pending = 0;
    for (size_t i = 0; i < t->nq && t->declared_ms < 0; i++)
        learn(t, src, &t->q[i], now_ms);
    for (size_t i = 0; i < t->nq; i++) {
        span *e = &t->q[i];
        firm_up(t, e, now_ms);
        if (e->end_ms <= now_ms) {
            if (e->soak && !e->begun) /* no tick inside it */
                begin_soak(src, e);
            span next;
            bool has_next = false;
            if (resolve(t, src, e, &next, &has_next) != 0) {
                memmove(&t->q[keep], e, (t->nq - i) * sizeof *e);
                t->nq = keep + t->nq - i;
                return -1;
            }
            if (has_next) /* in the slot of the span it follows */
                t->q[keep++] = next;
            continue;
        }
        note_heard(src, e, now_ms);
        if (!e->soak && e->apply_ms >= t->wave_begin_ms)
            t->acc[e->stratum].pending++;
        t->q[keep++] = *e;
    }
    t->nq = keep;
    return 0;
}

void rg_cohort_restarted(rg_cohort *t, int64_t now_ms)
{
    for (size_t i = 0; i < t->ncells; i++)
        t->cells[i].control_windows = t->cells[i].control_silent = 0;
    for (size_t i = 0; i < t->nq; i++)
        if (t->q[i].end_ms <= now_ms)
            t->q[i].elig = 0;
}

size_t rg_cohort_entries(rg_cohort *t, const char *const *names,
                         uint32_t n_strata, rg_stratum_counts *out, size_t max)
{
    if (n_strata > t->max_strata)
        n_strata = t->max_strata;
    for (uint32_t s = 0; s < n_strata; s++) {
        const stratum_acc *a = &t->acc[s];
        t->ts[s] = (rg_tally_stratum){.name = names[s],
                                      .pending = a->pending,
                                      .early_failed = a->failed_cur,
                                      .prior_trials = a->prior_trials,
                                      .prior_failed = a->prior_failed,
                                      .sets = a->sets,
                                      .soak_sets = a->soak_sets};
    }
    /* early_failed: the failures no failed window shows, at most the
     * exposures not counted failed (a failure reported between its
     * window's end and the tick that resolved it is shown already) */
    uint64_t *room = calloc(n_strata + 1, sizeof *room);
    if (!room)
        return 0;
    for (uint32_t s = 0; s < n_strata; s++)
        room[s] = t->ts[s].pending;
    for (size_t i = 0; i < t->ncells; i++) {
        const rg_tally_cell *c = &t->cells[i];
        if (c->stratum >= n_strata)
            continue;
        uint64_t *e = &t->ts[c->stratum].early_failed;
        *e -= *e < c->failed ? *e : c->failed;
        room[c->stratum] += c->healthy + c->silent;
    }
    for (uint32_t s = 0; s < n_strata; s++)
        if (t->ts[s].early_failed > room[s])
            t->ts[s].early_failed = room[s];
    free(room);
    for (uint32_t s = 0; s < t->max_strata; s++)
        t->acc[s].cell = 0; /* rg_tally_entries sorts the cells */
    return rg_tally_entries(t->cells, t->ncells, t->ts, n_strata, out, max);
}

void rg_cohort_soak(rg_cohort *t, int64_t soak_ms)
{
    t->soak_ms = soak_ms;
}

bool rg_cohort_soaking(const rg_cohort *t, int64_t now_ms)
{
    if (t->last_apply_ms != INT64_MIN && now_ms - t->last_apply_ms < t->soak_ms)
        return true;
    for (size_t i = 0; i < t->nq; i++)
        if (t->q[i].soak)
            return true;
    return false;
}

uint64_t rg_cohort_silent_total(const rg_cohort *t)
{
    return t->silent_total;
}
