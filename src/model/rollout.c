/* rollout.c - see rollout.h. */
#include "rollout.h"

#include "bucket.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char *const state_names[] = {
    "pending", "running", "paused",      "completed",
    "halted",  "aborted", "rolled_back", "held",
};
#define N_STATES ((int)(sizeof state_names / sizeof state_names[0]))
_Static_assert(N_STATES == RG_RO_N_STATES, "a name for every state");

const char *rg_rollout_state_name(int state)
{
    if (state < 0 || state >= N_STATES)
        return "unknown";
    return state_names[state];
}

int rg_rollout_state_parse(const char *name)
{
    for (int i = 0; name && i < N_STATES; i++)
        if (strcmp(state_names[i], name) == 0)
            return i;
    return -1;
}

bool rg_rollout_state_final(int state)
{
    return state == RG_RO_COMPLETED || state == RG_RO_HALTED ||
           state == RG_RO_ABORTED || state == RG_RO_ROLLED_BACK;
}

const char *rg_verdict_name(int verdict)
{
    switch (verdict) {
    case RG_VERDICT_CONTINUE:
        return "continue";
    case RG_VERDICT_PASS:
        return "pass";
    case RG_VERDICT_HOLD:
        return "hold";
    case RG_VERDICT_HALT:
        return "halt";
    default:
        return "unknown";
    }
}

void rg_gate_result_release(rg_gate_result *r)
{
    if (!r)
        return;
    json_decref(r->evidence);
    r->evidence = NULL;
}

/* Formats ms like "1h2m3s", "10m0s", "1.5s" into out (n bytes). */
static void duration_format(int64_t ms, char *out, size_t n)
{
    const char *sign = "";
    if (ms < 0) {
        sign = "-";
        ms = -ms;
    }
    int64_t h = ms / 3600000, m = ms / 60000 % 60, s = ms / 1000 % 60;
    int64_t frac = ms % 1000;
    char sec[32];
    if (frac == 0) {
        snprintf(sec, sizeof sec, "%" PRId64 "s", s);
    } else {
        /* Milliseconds as a decimal fraction without trailing zeros. */
        int digits = 3;
        while (frac % 10 == 0) {
            frac /= 10;
            digits--;
        }
        snprintf(sec, sizeof sec, "%" PRId64 ".%0*" PRId64 "s", s, digits,
                 frac);
    }
    if (h > 0)
        snprintf(out, n, "%s%" PRId64 "h%" PRId64 "m%s", sign, h, m, sec);
    else if (m > 0)
        snprintf(out, n, "%s%" PRId64 "m%s", sign, m, sec);
    else
        snprintf(out, n, "%s%s", sign, sec);
}

/* Evidence of the bake gate: what it looked at. NULL on allocation
 * failure (evidence is optional). */
static json_t *bake_evidence(const rg_wave *wave, const rg_wave_counts *c,
                             int64_t elapsed_ms, uint64_t need)
{
    return json_pack(
        "{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
        "s:I, s:I}",
        "gate", "bake", "fleet", (json_int_t)c->fleet, "targeted",
        (json_int_t)c->targeted, "exposed", (json_int_t)c->exposed, "healthy",
        (json_int_t)c->healthy, "failed", (json_int_t)c->failed, "silent",
        (json_int_t)c->silent, "healthy_needed", (json_int_t)need, "elapsed_ms",
        (json_int_t)elapsed_ms, "min_bake_ms", (json_int_t)wave->min_bake_ms,
        "max_bake_ms", (json_int_t)wave->max_bake_ms, "min_endpoints",
        (json_int_t)wave->min_endpoints);
}

int rg_gate_bake(const rg_wave *wave, const rg_wave_counts *counts,
                 int64_t elapsed_ms, void *ctx, rg_gate_result *out,
                 rg_err *err)
{
    (void)ctx;
    (void)err;
    const rg_wave_counts *c = counts;
    uint64_t need =
        wave->min_endpoints < c->targeted ? wave->min_endpoints : c->targeted;
    bool baked = elapsed_ms >= wave->min_bake_ms;
    char el[80], lim[80];
    duration_format(elapsed_ms, el, sizeof el);

    memset(out, 0, sizeof *out);
    out->evidence = bake_evidence(wave, c, elapsed_ms, need);
    if (c->failed > 0) {
        out->verdict = RG_VERDICT_HALT;
        snprintf(out->reason, sizeof out->reason,
                 "%" PRIu64 " failed of %" PRIu64 " exposed after %.24s",
                 c->failed, c->exposed, el);
    } else if (baked && c->targeted == 0 && wave->internal) {
        out->verdict = RG_VERDICT_PASS;
        snprintf(out->reason, sizeof out->reason,
                 "no internal endpoints to test; passed after %.24s bake", el);
    } else if (baked && c->targeted > 0 && c->healthy >= need) {
        out->verdict = RG_VERDICT_PASS;
        snprintf(out->reason, sizeof out->reason,
                 "%" PRIu64 " healthy of %" PRIu64 " targeted after %.24s bake",
                 c->healthy, c->targeted, el);
    } else if (wave->max_bake_ms > 0 && elapsed_ms >= wave->max_bake_ms) {
        out->verdict = RG_VERDICT_HOLD;
        duration_format(wave->max_bake_ms, lim, sizeof lim);
        snprintf(out->reason, sizeof out->reason,
                 "no pass within the max bake of %.24s: %" PRIu64
                 " healthy of %" PRIu64 " targeted, %" PRIu64 " needed",
                 lim, c->healthy, c->targeted, need);
    } else {
        out->verdict = RG_VERDICT_CONTINUE;
        duration_format(wave->min_bake_ms, lim, sizeof lim);
        snprintf(out->reason, sizeof out->reason,
                 "baking %.24s of at least %.24s: %" PRIu64
                 " healthy of %" PRIu64 " targeted, %" PRIu64 " needed",
                 el, lim, c->healthy, c->targeted, need);
    }
    return 0;
}

static const char *cmd_name(rg_rollout_cmd cmd)
{
    switch (cmd) {
    case RG_CMD_START:
        return "start";
    case RG_CMD_PAUSE:
        return "pause";
    case RG_CMD_RESUME:
        return "resume";
    case RG_CMD_ABORT:
        return "abort";
    case RG_CMD_ROLLBACK:
        return "rollback";
    case RG_CMD_PROMOTE:
        return "promote";
    }
    return "unknown";
}

/* Whether cmd may be applied in state (the diagram in rollout.h). */
static bool cmd_allowed(rg_rollout_cmd cmd, int state)
{
    switch (cmd) {
    case RG_CMD_START:
        return state == RG_RO_PENDING;
    case RG_CMD_PAUSE:
        return state == RG_RO_RUNNING;
    case RG_CMD_RESUME:
    case RG_CMD_PROMOTE:
        return state == RG_RO_PAUSED || state == RG_RO_HELD;
    case RG_CMD_ABORT:
        return state == RG_RO_PENDING || state == RG_RO_RUNNING ||
               state == RG_RO_PAUSED || state == RG_RO_HELD;
    case RG_CMD_ROLLBACK:
        return state == RG_RO_RUNNING || state == RG_RO_PAUSED ||
               state == RG_RO_HELD || state == RG_RO_HALTED ||
               state == RG_RO_COMPLETED;
    }
    return false;
}

static int check_status(const rg_plan *plan, const rg_rollout_status *cur,
                        rg_err *err)
{
    if (plan->n_waves < 1 || plan->n_waves > RG_MAX_WAVES)
        return rg_err_set(err, RG_EINVAL, "plan '%s' has %zu waves", plan->name,
                          plan->n_waves);
    if (cur->state < 0 || cur->state >= N_STATES)
        return rg_err_set(err, RG_EINVAL, "unknown rollout state %d",
                          cur->state);
    if (cur->wave < 0 || (size_t)cur->wave >= plan->n_waves)
        return rg_err_set(err, RG_EINVAL,
                          "rollout wave %d is outside plan '%s' (%zu waves)",
                          cur->wave, plan->name, plan->n_waves);
    return 0;
}

/* The design's invariants of every transition cur -> next: exposure never
 * shrinks (the share only grows), a wave never goes back, and a halted or
 * finished rollout offers nothing new (its share and wave stay). */
static void assert_invariants(const rg_rollout_status *cur,
                              const rg_rollout_status *next)
{
    assert(next->share_ppm >= cur->share_ppm);
    assert(next->wave >= cur->wave);
    assert(!rg_rollout_state_final(cur->state) ||
           (next->share_ppm == cur->share_ppm && next->wave == cur->wave));
    (void)cur, (void)next; /* NDEBUG builds */
}

/* Fills tr for cur -> next, whose invariants it asserts. */
static void fill_transition(rg_transition *tr, const rg_rollout_status *cur,
                            const rg_rollout_status *next)
{
    assert_invariants(cur, next);
    memset(tr, 0, sizeof *tr);
    tr->from_state = cur->state;
    tr->to_state = next->state;
    tr->from_wave = cur->wave;
    tr->to_wave = next->wave;
}

/* Moves *n (a copy of *cur) past cur's wave as a pass does: into the next
 * wave, running, at a share that never shrinks; from the last wave to
 * completed at RG_PPM. */
static void advance(const rg_plan *plan, const rg_rollout_status *cur,
                    uint64_t fleet, int64_t now_ms, rg_rollout_status *n)
{
    if ((size_t)cur->wave + 1 == plan->n_waves) {
        n->state = RG_RO_COMPLETED;
        n->share_ppm = RG_PPM;
        return;
    }
    uint32_t s = rg_plan_wave_share(plan, (size_t)cur->wave + 1, fleet);
    n->state = RG_RO_RUNNING;
    n->wave = cur->wave + 1;
    n->share_ppm = s > cur->share_ppm ? s : cur->share_ppm;
    n->wave_started_ms = now_ms;
}

int rg_rollout_command(const rg_plan *plan, const rg_rollout_status *cur,
                       rg_rollout_cmd cmd, const char *reason, int64_t now_ms,
                       uint64_t fleet, rg_rollout_status *next,
                       rg_transition *tr, rg_err *err)
{
    int rc = check_status(plan, cur, err);
    if (rc < 0)
        return rc;
    if (cmd < RG_CMD_START || cmd > RG_CMD_PROMOTE)
        return rg_err_set(err, RG_EINVAL, "unknown rollout command %d",
                          (int)cmd);
    if (!cmd_allowed(cmd, cur->state))
        return rg_err_set(err, RG_ECONFLICT, "rollout is %s; cannot %s",
                          rg_rollout_state_name(cur->state), cmd_name(cmd));

    rg_rollout_status n = *cur;
    n.updated_ms = now_ms;
    switch (cmd) {
    case RG_CMD_START:
        n.state = RG_RO_RUNNING;
        n.wave = 0;
        n.share_ppm = rg_plan_wave_share(plan, 0, fleet);
        n.wave_started_ms = now_ms;
        break;
    case RG_CMD_PAUSE:
        n.state = RG_RO_PAUSED;
        break;
    case RG_CMD_RESUME:
        n.state = RG_RO_RUNNING;
        n.wave_started_ms = now_ms; /* the bake clock restarts */
        break;
    case RG_CMD_ABORT:
        if (cur->state == RG_RO_PENDING)
            n.wave_started_ms = RG_RO_NEVER_STARTED;
        n.state = RG_RO_ABORTED;
        break;
    case RG_CMD_ROLLBACK:
        n.state = RG_RO_ROLLED_BACK;
        break;
    case RG_CMD_PROMOTE:
        advance(plan, cur, fleet, now_ms, &n);
        break;
    }
    fill_transition(tr, cur, &n);
    if (reason && reason[0])
        snprintf(tr->reason, sizeof tr->reason, "%s", reason);
    else
        snprintf(tr->reason, sizeof tr->reason, "operator: %s", cmd_name(cmd));
    *next = n;
    return 0;
}

/* "wave 2 (1%)" for reasons. */
static void wave_label(const rg_plan *plan, int wave, char *out, size_t n)
{
    snprintf(out, n, "wave %d (%s)", wave, plan->waves[wave].name);
}

/* What a halt does under plan's on_halt, for reasons. */
static const char *halt_words(const rg_plan *plan)
{
    switch (plan->on_halt) {
    case RG_ON_HALT_PAUSE:
        return "halted (exposure frozen)";
    case RG_ON_HALT_REVERT_ALL:
        return "halted (reverting all)";
    default:
        return "halted (reverting the failing strata)";
    }
}

/* What tick and watch share: resets *gate_out and *next, checks cur and,
 * when cur->state is one of states[0..n), asks gate about the current
 * wave (elapsed since its start, never negative). Returns 1 when the gate
 * was asked, 0 when cur is in another state, or a negative rg_code. */
static int ask_gate(const rg_plan *plan, const rg_rollout_status *cur,
                    const int *states, size_t n, const rg_wave_counts *counts,
                    rg_gate_fn gate, void *gate_ctx, int64_t now_ms,
                    rg_rollout_status *next, rg_gate_result *gate_out,
                    rg_err *err)
{
    memset(gate_out, 0, sizeof *gate_out);
    gate_out->verdict = RG_VERDICT_CONTINUE;
    *next = *cur;
    int rc = check_status(plan, cur, err);
    bool wanted = false;
    for (size_t i = 0; i < n; i++)
        wanted |= cur->state == states[i];
    if (rc < 0 || !wanted)
        return rc;
    int64_t elapsed = now_ms - cur->wave_started_ms;
    rc = gate(&plan->waves[cur->wave], counts, elapsed < 0 ? 0 : elapsed,
              gate_ctx, gate_out, err);
    return rc < 0 ? rc : 1;
}

int rg_rollout_tick(const rg_plan *plan, const rg_rollout_status *cur,
                    const rg_wave_counts *counts, rg_gate_fn gate,
                    void *gate_ctx, int64_t now_ms, rg_rollout_status *next,
                    rg_transition *tr, rg_gate_result *gate_out, rg_err *err)
{
    static const int running[] = {RG_RO_RUNNING};
    int rc = ask_gate(plan, cur, running, 1, counts, gate, gate_ctx, now_ms,
                      next, gate_out, err);
    if (rc <= 0)
        return rc;

    char label[64];
    wave_label(plan, cur->wave, label, sizeof label);
    rg_rollout_status n = *cur;
    const char *what;
    switch (gate_out->verdict) {
    case RG_VERDICT_CONTINUE:
        return 0;
    case RG_VERDICT_PASS:
        advance(plan, cur, counts->fleet, now_ms, &n);
        what =
            n.state == RG_RO_COMPLETED ? "passed; rollout completed" : "passed";
        break;
    case RG_VERDICT_HOLD:
        n.state = RG_RO_HELD;
        what = "held by the gate";
        break;
    case RG_VERDICT_HALT:
        n.state = RG_RO_HALTED;
        what = halt_words(plan);
        break;
    default:
        return rg_err_set(err, RG_EINTERNAL, "gate returned unknown verdict %d",
                          gate_out->verdict);
    }
    n.updated_ms = now_ms;
    fill_transition(tr, cur, &n);
    snprintf(tr->reason, sizeof tr->reason, "%s %s: %s", label, what,
             gate_out->reason);
    *next = n;
    return 1;
}

int rg_rollout_watch(const rg_plan *plan, const rg_rollout_status *cur,
                     const rg_wave_counts *counts, rg_gate_fn gate,
                     void *gate_ctx, int64_t now_ms, rg_rollout_status *next,
                     rg_transition *tr, rg_gate_result *gate_out, rg_err *err)
{
    static const int watched[] = {RG_RO_HELD, RG_RO_COMPLETED};
    int rc = ask_gate(plan, cur, watched, 2, counts, gate, gate_ctx, now_ms,
                      next, gate_out, err);
    if (rc <= 0 || gate_out->verdict != RG_VERDICT_HALT)
        return rc < 0 ? rc : 0;
    char label[64];
    wave_label(plan, cur->wave, label, sizeof label);
    rg_rollout_status n = *cur;
    n.state = RG_RO_HALTED;
    n.updated_ms = now_ms;
    fill_transition(tr, cur, &n);
    snprintf(
        tr->reason, sizeof tr->reason, "%s %s%s: %s", label, halt_words(plan),
        cur->state == RG_RO_COMPLETED ? " after completion" : " while held",
        gate_out->reason);
    *next = n;
    return 1;
}

bool rg_rollout_assigns(const rg_plan *plan, const rg_rollout_status *st,
                        uint32_t bucket, bool internal)
{
    switch (st->state) {
    case RG_RO_COMPLETED:
        return true;
    case RG_RO_PENDING:
    case RG_RO_ROLLED_BACK:
        return false;
    case RG_RO_HALTED:
        if (plan->on_halt != RG_ON_HALT_PAUSE)
            return false;
        break;
    case RG_RO_ABORTED:
        if (st->wave_started_ms == RG_RO_NEVER_STARTED)
            return false;
        break;
    case RG_RO_RUNNING:
    case RG_RO_PAUSED:
    case RG_RO_HELD:
        break;
    default:
        return false;
    }
    return internal || rg_bucket_in(bucket, st->share_ppm);
}

bool rg_rollout_keeps(const rg_plan *plan, const rg_rollout_status *st,
                      bool stratum_halted)
{
    switch (st->state) {
    case RG_RO_PENDING:
    case RG_RO_ROLLED_BACK:
        return false;
    case RG_RO_ABORTED:
        return st->wave_started_ms != RG_RO_NEVER_STARTED;
    case RG_RO_HALTED:
        if (plan->on_halt == RG_ON_HALT_REVERT_ALL)
            return false;
        return plan->on_halt == RG_ON_HALT_PAUSE || !stratum_halted;
    default:
        return true;
    }
}
