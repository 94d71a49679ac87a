/* Unit tests for src/model/rollout.c: state names, the bake gate, every
 * valid and invalid transition, a full run through the standard plan on a
 * manual clock, and a property test over random commands and ticks.
 * ctest-labels: foundation */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/clock.h"
#include "common/err.h"
#include "model/bucket.h"
#include "model/plan.h"
#include "model/rollout.h"

#include <stdio.h>
#include <string.h>

#define MIN_MS (60 * 1000)
#define N_STATES 8

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rng_below(uint64_t *s, uint64_t n)
{
    return rng_next(s) % n;
}

static rg_plan standard(void)
{
    rg_plan p;
    assert_int_equal(rg_plan_builtin("standard", &p, NULL), 0);
    return p;
}

static rg_rollout_status status(int state, int wave, uint32_t share)
{
    rg_rollout_status s;
    memset(&s, 0, sizeof s);
    s.state = state;
    s.wave = wave;
    s.share_ppm = share;
    s.wave_started_ms = 1000;
    s.updated_ms = 1000;
    return s;
}

static void state_names(void **state)
{
    (void)state;
    const char *names[N_STATES] = {"pending",     "running", "paused",
                                   "completed",   "halted",  "aborted",
                                   "rolled_back", "held"};
    for (int i = 0; i < N_STATES; i++) {
        assert_string_equal(rg_rollout_state_name(i), names[i]);
        assert_int_equal(rg_rollout_state_parse(names[i]), i);
    }
    assert_int_equal(rg_rollout_state_parse("Running"), -1);
    assert_int_equal(rg_rollout_state_parse(""), -1);
    assert_int_equal(rg_rollout_state_parse(NULL), -1);
    assert_string_equal(rg_rollout_state_name(N_STATES), "unknown");
    assert_string_equal(rg_rollout_state_name(-1), "unknown");
    assert_false(rg_rollout_state_final(RG_RO_PENDING));
    assert_false(rg_rollout_state_final(RG_RO_RUNNING));
    assert_false(rg_rollout_state_final(RG_RO_PAUSED));
    assert_false(rg_rollout_state_final(RG_RO_HELD));
    assert_true(rg_rollout_state_final(RG_RO_COMPLETED));
    assert_true(rg_rollout_state_final(RG_RO_HALTED));
    assert_true(rg_rollout_state_final(RG_RO_ABORTED));
    assert_true(rg_rollout_state_final(RG_RO_ROLLED_BACK));
    assert_string_equal(rg_verdict_name(RG_VERDICT_CONTINUE), "continue");
    assert_string_equal(rg_verdict_name(RG_VERDICT_PASS), "pass");
    assert_string_equal(rg_verdict_name(RG_VERDICT_HOLD), "hold");
    assert_string_equal(rg_verdict_name(RG_VERDICT_HALT), "halt");
    assert_string_equal(rg_verdict_name(9), "unknown");
}

static int bake(const rg_wave *w, rg_wave_counts c, int64_t elapsed,
                rg_gate_result *out)
{
    rg_err e;
    assert_int_equal(rg_gate_bake(w, &c, elapsed, NULL, out, &e), 0);
    assert_non_null(out->evidence); /* the gate always says what it saw */
    int v = out->verdict;
    return v;
}

static void gate_bake_verdicts(void **state)
{
    (void)state;
    rg_plan p = standard();
    rg_wave w = p.waves[2]; /* 1%: 50 endpoints, 10 min */
    rg_gate_result r;
    const int64_t bake_ms = 10 * MIN_MS;

    /* Before min bake: continue, however healthy. */
    assert_int_equal(
        bake(&w, (rg_wave_counts){1000, 60, 60, 60, 0, 0}, bake_ms - 1, &r),
        RG_VERDICT_CONTINUE);
    assert_non_null(strstr(r.reason, "9m59.999s"));
    rg_gate_result_release(&r);
    assert_null(r.evidence);
    /* Baked and enough healthy: pass, with a readable reason. */
    assert_int_equal(
        bake(&w, (rg_wave_counts){1000, 57, 57, 57, 0, 0}, bake_ms, &r),
        RG_VERDICT_PASS);
    assert_string_equal(r.reason, "57 healthy of 57 targeted after 10m0s bake");
    assert_int_equal(
        json_integer_value(json_object_get(r.evidence, "healthy_needed")), 50);
    rg_gate_result_release(&r);
    /* Fewer targeted than min_endpoints: all of them must be healthy. */
    assert_int_equal(
        bake(&w, (rg_wave_counts){30, 30, 30, 29, 0, 1}, bake_ms, &r),
        RG_VERDICT_CONTINUE);
    rg_gate_result_release(&r);
    assert_int_equal(
        bake(&w, (rg_wave_counts){30, 30, 30, 30, 0, 0}, bake_ms, &r),
        RG_VERDICT_PASS);
    rg_gate_result_release(&r);
    /* 49 of 60 healthy: continue. */
    assert_int_equal(
        bake(&w, (rg_wave_counts){1000, 60, 60, 49, 0, 0}, 3 * bake_ms, &r),
        RG_VERDICT_CONTINUE);
    rg_gate_result_release(&r);
    /* Any failure halts, even before min bake. */
    assert_int_equal(
        bake(&w, (rg_wave_counts){1000, 60, 60, 50, 3, 0}, 1000, &r),
        RG_VERDICT_HALT);
    assert_string_equal(r.reason, "3 failed of 60 exposed after 1s");
    rg_gate_result_release(&r);
    /* Non-internal wave with nobody targeted: continue. */
    assert_int_equal(
        bake(&w, (rg_wave_counts){0, 0, 0, 0, 0, 0}, 5 * bake_ms, &r),
        RG_VERDICT_CONTINUE);
    rg_gate_result_release(&r);
    /* Internal wave with nobody targeted: passes after min bake. */
    rg_wave in = p.waves[0];
    assert_int_equal(
        bake(&in, (rg_wave_counts){1000, 0, 0, 0, 0, 0}, bake_ms - 1, &r),
        RG_VERDICT_CONTINUE);
    rg_gate_result_release(&r);
    assert_int_equal(
        bake(&in, (rg_wave_counts){1000, 0, 0, 0, 0, 0}, bake_ms, &r),
        RG_VERDICT_PASS);
    assert_non_null(strstr(r.reason, "no internal endpoints"));
    rg_gate_result_release(&r);
    /* Internal wave with endpoints needs its healthy report. */
    assert_int_equal(
        bake(&in, (rg_wave_counts){1000, 3, 3, 0, 0, 0}, bake_ms, &r),
        RG_VERDICT_CONTINUE);
    rg_gate_result_release(&r);
    /* Max bake without a pass: hold; with a pass due: pass wins. */
    w.max_bake_ms = 60 * MIN_MS;
    assert_int_equal(
        bake(&w, (rg_wave_counts){1000, 60, 60, 10, 0, 0}, 60 * MIN_MS - 1, &r),
        RG_VERDICT_CONTINUE);
    rg_gate_result_release(&r);
    assert_int_equal(
        bake(&w, (rg_wave_counts){1000, 60, 60, 10, 0, 0}, 60 * MIN_MS, &r),
        RG_VERDICT_HOLD);
    assert_non_null(strstr(r.reason, "max bake of 1h0m0s"));
    rg_gate_result_release(&r);
    assert_int_equal(
        bake(&w, (rg_wave_counts){1000, 60, 60, 60, 0, 0}, 90 * MIN_MS, &r),
        RG_VERDICT_PASS);
    rg_gate_result_release(&r);
    assert_int_equal(
        bake(&w, (rg_wave_counts){0, 0, 0, 0, 0, 0}, 90 * MIN_MS, &r),
        RG_VERDICT_HOLD);
    rg_gate_result_release(&r);
    /* min_endpoints 0 and zero bake: passes at once once someone is targeted.
     */
    w.min_endpoints = 0;
    w.min_bake_ms = 0;
    assert_int_equal(bake(&w, (rg_wave_counts){10, 1, 0, 0, 0, 0}, 0, &r),
                     RG_VERDICT_PASS);
    rg_gate_result_release(&r);
    rg_gate_result_release(NULL);
}

/* The diagram of rollout.h as a table: result state, or -1 for invalid. */
static int expected_after(int st, rg_rollout_cmd cmd)
{
    switch (cmd) {
    case RG_CMD_START:
        return st == RG_RO_PENDING ? RG_RO_RUNNING : -1;
    case RG_CMD_PAUSE:
        return st == RG_RO_RUNNING ? RG_RO_PAUSED : -1;
    case RG_CMD_RESUME:
        return st == RG_RO_PAUSED || st == RG_RO_HELD ? RG_RO_RUNNING : -1;
    case RG_CMD_PROMOTE: /* RG_RO_COMPLETED from the last wave */
        return st == RG_RO_PAUSED || st == RG_RO_HELD ? RG_RO_RUNNING : -1;
    case RG_CMD_ABORT:
        return st == RG_RO_PENDING || st == RG_RO_RUNNING ||
                       st == RG_RO_PAUSED || st == RG_RO_HELD
                   ? RG_RO_ABORTED
                   : -1;
    case RG_CMD_ROLLBACK:
        return st == RG_RO_RUNNING || st == RG_RO_PAUSED ||
                       st == RG_RO_HALTED || st == RG_RO_COMPLETED ||
                       st == RG_RO_HELD
                   ? RG_RO_ROLLED_BACK
                   : -1;
    }
    return -1;
}

static const char *const cmd_names[] = {"start", "pause",    "resume",
                                        "abort", "rollback", "promote"};

static void every_command_in_every_state(void **state)
{
    (void)state;
    rg_plan p = standard();
    int valid = 0, invalid = 0;
    for (int st = 0; st < N_STATES; st++) {
        for (int c = RG_CMD_START; c <= RG_CMD_PROMOTE; c++) {
            rg_rollout_status cur = status(st, st == RG_RO_PENDING ? 0 : 2,
                                           st == RG_RO_PENDING ? 0 : 50000);
            rg_rollout_status next, sentinel;
            memset(&next, 0x77, sizeof next);
            sentinel = next;
            rg_transition tr;
            rg_err e;
            rg_err_clear(&e);
            int rc = rg_rollout_command(&p, &cur, (rg_rollout_cmd)c, "because",
                                        5000, 1000, &next, &tr, &e);
            int want = expected_after(st, (rg_rollout_cmd)c);
            if (want < 0) {
                invalid++;
                assert_int_equal(rc, RG_ECONFLICT);
                char msg[128];
                snprintf(msg, sizeof msg, "rollout is %s; cannot %s",
                         rg_rollout_state_name(st), cmd_names[c]);
                assert_string_equal(e.msg, msg);
                assert_memory_equal(&next, &sentinel, sizeof next);
                continue;
            }
            valid++;
            assert_int_equal(rc, 0);
            assert_int_equal(next.state, want);
            assert_int_equal(tr.from_state, st);
            assert_int_equal(tr.to_state, want);
            assert_int_equal(tr.from_wave, cur.wave);
            assert_int_equal(tr.to_wave, next.wave);
            assert_string_equal(tr.reason, "because");
            assert_int_equal(next.updated_ms, 5000);
            if (c == RG_CMD_START) {
                assert_int_equal(next.wave, 0);
                assert_int_equal(next.share_ppm, 0); /* internal ring first */
                assert_int_equal(next.wave_started_ms, 5000);
            } else if (c == RG_CMD_PROMOTE) {
                /* Wave 2 (1%) -> wave 3 (10%) as a pass would. */
                assert_int_equal(next.wave, cur.wave + 1);
                assert_int_equal(next.share_ppm,
                                 rg_plan_wave_share(&p, 3, 1000));
                assert_int_equal(next.wave_started_ms, 5000);
            } else {
                assert_int_equal(next.wave, cur.wave);
                assert_int_equal(next.share_ppm, cur.share_ppm);
            }
            if (c == RG_CMD_RESUME)
                assert_int_equal(next.wave_started_ms,
                                 5000); /* bake restarts */
            if (c == RG_CMD_PAUSE || c == RG_CMD_ROLLBACK ||
                (c == RG_CMD_ABORT && st != RG_RO_PENDING))
                assert_int_equal(next.wave_started_ms, cur.wave_started_ms);
            if (c == RG_CMD_ABORT && st == RG_RO_PENDING)
                assert_int_equal(next.wave_started_ms, RG_RO_NEVER_STARTED);
        }
    }
    assert_int_equal(valid, 15);
    assert_int_equal(invalid, N_STATES * 6 - 15);
}

static void command_details(void **state)
{
    (void)state;
    rg_plan p = standard();
    rg_rollout_status cur = status(RG_RO_RUNNING, 1, 1000), next;
    rg_transition tr;
    rg_err e;
    /* Promoting a held last wave completes the rollout. */
    rg_rollout_status held = status(RG_RO_HELD, 5, 500000);
    assert_int_equal(rg_rollout_command(&p, &held, RG_CMD_PROMOTE, "ok", 9, 10,
                                        &next, &tr, &e),
                     0);
    assert_int_equal(next.state, RG_RO_COMPLETED);
    assert_int_equal(next.share_ppm, RG_PPM);
    assert_int_equal(next.wave, 5);
    /* Without a reason the transition still says what happened. */
    assert_int_equal(
        rg_rollout_command(&p, &cur, RG_CMD_PAUSE, NULL, 7, 10, &next, &tr, &e),
        0);
    assert_string_equal(tr.reason, "operator: pause");
    assert_int_equal(
        rg_rollout_command(&p, &cur, RG_CMD_ABORT, "", 7, 10, &next, &tr, &e),
        0);
    assert_string_equal(tr.reason, "operator: abort");
    /* A plan whose first wave is not internal starts at its budget. */
    rg_plan q = p;
    memmove(&q.waves[0], &q.waves[1], sizeof q.waves[0] * (q.n_waves - 1));
    q.n_waves--;
    cur = status(RG_RO_PENDING, 0, 0);
    assert_int_equal(rg_rollout_command(&q, &cur, RG_CMD_START, "go", 7, 1000,
                                        &next, &tr, &e),
                     0);
    assert_int_equal(next.share_ppm, 50000); /* 50 of 1000 endpoints */
    assert_int_equal(rg_rollout_command(&q, &cur, RG_CMD_START, "go", 7,
                                        1000000, &next, &tr, &e),
                     0);
    assert_int_equal(next.share_ppm, 1000);
    /* Bad input is refused as such, not as a conflict. */
    cur = status(RG_RO_RUNNING, 6, 0);
    assert_int_equal(
        rg_rollout_command(&p, &cur, RG_CMD_PAUSE, "x", 7, 10, &next, &tr, &e),
        RG_EINVAL);
    cur = status(42, 0, 0);
    assert_int_equal(
        rg_rollout_command(&p, &cur, RG_CMD_PAUSE, "x", 7, 10, &next, &tr, &e),
        RG_EINVAL);
    cur = status(RG_RO_RUNNING, 0, 0);
    assert_int_equal(rg_rollout_command(&p, &cur, (rg_rollout_cmd)17, "x", 7,
                                        10, &next, &tr, &e),
                     RG_EINVAL);
}

/* A gate that answers a fixed verdict and counts its calls. */
struct fixed_gate {
    int verdict;
    int calls;
    int rc;
};

static int fixed(const rg_wave *w, const rg_wave_counts *c, int64_t elapsed,
                 void *ctx, rg_gate_result *out, rg_err *err)
{
    (void)w;
    (void)c;
    struct fixed_gate *g = ctx;
    g->calls++;
    if (g->rc < 0)
        return rg_err_set(err, g->rc, "gate broke");
    out->verdict = g->verdict;
    snprintf(out->reason, sizeof out->reason, "fixed after %lld ms",
             (long long)elapsed);
    out->evidence = json_pack("{s:i}", "calls", g->calls);
    return 0;
}

static int tick_fixed(const rg_plan *p, const rg_rollout_status *cur,
                      struct fixed_gate *g, int64_t now, uint64_t fleet,
                      rg_rollout_status *next, rg_transition *tr, rg_err *e)
{
    rg_wave_counts c = {fleet, 0, 0, 0, 0, 0};
    rg_gate_result r;
    int rc = rg_rollout_tick(p, cur, &c, fixed, g, now, next, tr, &r, e);
    rg_gate_result_release(&r);
    return rc;
}

static void tick_verdicts(void **state)
{
    (void)state;
    rg_plan p = standard();
    rg_rollout_status cur = status(RG_RO_RUNNING, 1, 1000), next;
    rg_transition tr;
    rg_err e;
    struct fixed_gate g = {RG_VERDICT_CONTINUE, 0, 0};

    assert_int_equal(tick_fixed(&p, &cur, &g, 9000, 1000000, &next, &tr, &e),
                     0);
    assert_memory_equal(&next, &cur, sizeof cur);
    assert_int_equal(g.calls, 1);

    g.verdict = RG_VERDICT_PASS;
    assert_int_equal(tick_fixed(&p, &cur, &g, 9000, 1000000, &next, &tr, &e),
                     1);
    assert_int_equal(next.state, RG_RO_RUNNING);
    assert_int_equal(next.wave, 2);
    assert_int_equal(next.share_ppm, 10000);
    assert_int_equal(next.wave_started_ms, 9000);
    assert_int_equal(next.updated_ms, 9000);
    assert_string_equal(tr.reason, "wave 1 (0.1%) passed: fixed after 8000 ms");
    assert_int_equal(tr.from_wave, 1);
    assert_int_equal(tr.to_wave, 2);

    /* The share of a new wave never shrinks below what was reached. */
    cur.share_ppm = 70000;
    assert_int_equal(tick_fixed(&p, &cur, &g, 9000, 1000000, &next, &tr, &e),
                     1);
    assert_int_equal(next.share_ppm, 70000);
    /* Small fleet: the new wave is raised to hold its 50 endpoints. */
    cur.share_ppm = 1000;
    assert_int_equal(tick_fixed(&p, &cur, &g, 9000, 500, &next, &tr, &e), 1);
    assert_int_equal(next.share_ppm, 100000);

    /* Passing the last wave completes the rollout. */
    cur = status(RG_RO_RUNNING, 5, RG_PPM);
    assert_int_equal(tick_fixed(&p, &cur, &g, 9000, 10, &next, &tr, &e), 1);
    assert_int_equal(next.state, RG_RO_COMPLETED);
    assert_int_equal(next.wave, 5);
    assert_int_equal(next.share_ppm, RG_PPM);
    assert_string_equal(
        tr.reason,
        "wave 5 (100%) passed; rollout completed: fixed after 8000 ms");

    cur = status(RG_RO_RUNNING, 3, 100000);
    g.verdict = RG_VERDICT_HALT;
    assert_int_equal(tick_fixed(&p, &cur, &g, 9000, 10, &next, &tr, &e), 1);
    assert_int_equal(next.state, RG_RO_HALTED);
    assert_int_equal(next.wave, 3);
    assert_int_equal(next.share_ppm, 100000);
    assert_string_equal(tr.reason, "wave 3 (10%) halted (reverting the failing "
                                   "strata): fixed after 8000 ms");

    g.verdict = RG_VERDICT_HOLD;
    assert_int_equal(tick_fixed(&p, &cur, &g, 9000, 10, &next, &tr, &e), 1);
    assert_int_equal(next.state, RG_RO_HELD); /* its own state, not a pause */
    assert_int_equal(next.share_ppm, 100000);
    assert_string_equal(tr.reason,
                        "wave 3 (10%) held by the gate: fixed after 8000 ms");

    g.verdict = 99;
    assert_int_equal(tick_fixed(&p, &cur, &g, 9000, 10, &next, &tr, &e),
                     RG_EINTERNAL);

    g.verdict = RG_VERDICT_PASS;
    g.rc = RG_EIO;
    assert_int_equal(tick_fixed(&p, &cur, &g, 9000, 10, &next, &tr, &e),
                     RG_EIO);
    assert_string_equal(e.msg, "gate broke");
    g.rc = 0;

    /* Not running: the gate is not asked and nothing changes. */
    for (int st = 0; st < N_STATES; st++) {
        if (st == RG_RO_RUNNING)
            continue;
        cur = status(st, 2, 10000);
        g.calls = 0;
        rg_gate_result r;
        rg_wave_counts c = {10, 0, 0, 0, 0, 0};
        assert_int_equal(
            rg_rollout_tick(&p, &cur, &c, fixed, &g, 9000, &next, &tr, &r, &e),
            0);
        assert_int_equal(g.calls, 0);
        assert_null(r.evidence);
        assert_memory_equal(&next, &cur, sizeof cur);
    }
}

static void assigns_by_state(void **state)
{
    (void)state;
    rg_plan p = standard();
    const uint32_t share = 10000, inside = 9999, outside = 10000;
    struct {
        int state;
        bool in, out, internal;
    } rows[] = {
        {RG_RO_PENDING, false, false, false},
        {RG_RO_RUNNING, true, false, true},
        {RG_RO_PAUSED, true, false, true},
        {RG_RO_HELD, true, false, true},
        {RG_RO_COMPLETED, true, true, true},
        {RG_RO_HALTED, false, false, false}, /* on_halt revert */
        {RG_RO_ABORTED, true, false, true},
        {RG_RO_ROLLED_BACK, false, false, false},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        rg_rollout_status st = status(rows[i].state, 2, share);
        assert_int_equal(rg_rollout_assigns(&p, &st, inside, false),
                         rows[i].in);
        assert_int_equal(rg_rollout_assigns(&p, &st, outside, false),
                         rows[i].out);
        assert_int_equal(rg_rollout_assigns(&p, &st, outside, true),
                         rows[i].internal);
    }
    /* Halted with on_halt pause: frozen at the share reached. */
    p.on_halt = RG_ON_HALT_PAUSE;
    rg_rollout_status st = status(RG_RO_HALTED, 2, share);
    assert_true(rg_rollout_assigns(&p, &st, inside, false));
    assert_false(rg_rollout_assigns(&p, &st, outside, false));
    assert_true(rg_rollout_assigns(&p, &st, outside, true));
    /* Aborted before it started: nobody, not even the internal ring. */
    rg_rollout_status pend = status(RG_RO_PENDING, 0, 0), ab;
    rg_transition tr;
    assert_int_equal(rg_rollout_command(&p, &pend, RG_CMD_ABORT, "no", 5, 10,
                                        &ab, &tr, NULL),
                     0);
    assert_false(rg_rollout_assigns(&p, &ab, 0, true));
    assert_false(rg_rollout_assigns(&p, &ab, 0, false));
    /* Running wave 0 (internal ring): only internal endpoints. */
    st = status(RG_RO_RUNNING, 0, 0);
    assert_true(rg_rollout_assigns(&p, &st, 0, true));
    assert_false(rg_rollout_assigns(&p, &st, 0, false));
}

/* A fleet for the end-to-end runs: ids, buckets, an internal ring. */
#define FLEET 20000
#define INTERNAL 40
static uint32_t fleet_bucket[FLEET];

static void make_fleet(const char *salt)
{
    char id[32];
    for (int i = 0; i < FLEET; i++) {
        snprintf(id, sizeof id, "host-%d", i);
        fleet_bucket[i] = rg_bucket(salt, id);
    }
}

/* Counts as an orchestrator would see them when every assigned endpoint
 * applied the release and reported healthy, except `failing` of them. */
static rg_wave_counts measure(const rg_plan *p, const rg_rollout_status *st,
                              uint64_t failing)
{
    rg_wave_counts c = {FLEET, 0, 0, 0, 0, 0};
    for (int i = 0; i < FLEET; i++)
        if (rg_rollout_assigns(p, st, fleet_bucket[i], i < INTERNAL))
            c.targeted++;
    c.exposed = c.targeted;
    c.failed = failing < c.targeted ? failing : c.targeted;
    c.healthy = c.targeted - c.failed;
    return c;
}

static void full_run_standard_plan(void **state)
{
    (void)state;
    rg_plan p = standard();
    make_fleet("release-7");
    int64_t now_ms = 1700000000000;
    rg_clock clock = rg_clock_manual(&now_ms);
    rg_rollout_status st = status(RG_RO_PENDING, 0, 0), next;
    rg_transition tr;
    rg_err e;
    assert_int_equal(rg_rollout_command(&p, &st, RG_CMD_START, "ship it",
                                        rg_clock_now(&clock), FLEET, &next, &tr,
                                        &e),
                     0);
    st = next;
    const int64_t t0 = now_ms;

    /* Each wave passes when its min bake is over (all healthy). Expected
     * pass times in minutes after start: 10, 20, 30, 50, 80, 90. */
    const int pass_min[] = {10, 20, 30, 50, 80, 90};
    uint64_t prev_targeted = 0;
    int passes = 0;
    char want[256];
    while (st.state == RG_RO_RUNNING) {
        now_ms += MIN_MS;
        rg_wave_counts c = measure(&p, &st, 0);
        assert_true(c.targeted >= prev_targeted);
        prev_targeted = c.targeted;
        if (st.wave == 0)
            assert_int_equal(c.targeted, INTERNAL);
        rg_gate_result r;
        int rc = rg_rollout_tick(&p, &st, &c, rg_gate_bake, NULL,
                                 rg_clock_now(&clock), &next, &tr, &r, &e);
        assert_true(rc >= 0);
        rg_gate_result_release(&r);
        if (rc == 0)
            continue;
        assert_true(passes < 6);
        assert_int_equal((now_ms - t0) / MIN_MS, pass_min[passes]);
        if (passes < 5)
            snprintf(want, sizeof want,
                     "wave %d (%s) passed: %llu healthy of %llu targeted after "
                     "%dm0s bake",
                     st.wave, p.waves[st.wave].name,
                     (unsigned long long)c.healthy,
                     (unsigned long long)c.targeted,
                     (int)(p.waves[st.wave].min_bake_ms / MIN_MS));
        else
            snprintf(
                want, sizeof want,
                "wave 5 (100%%) passed; rollout completed: %d healthy of %d "
                "targeted after 10m0s bake",
                FLEET, FLEET);
        assert_string_equal(tr.reason, want);
        assert_true(next.share_ppm >= st.share_ppm);
        st = next;
        passes++;
    }
    assert_int_equal(passes, 6);
    assert_int_equal(st.state, RG_RO_COMPLETED);
    assert_int_equal(measure(&p, &st, 0).targeted, FLEET);
}

static void halt_and_pause_resume_run(void **state)
{
    (void)state;
    rg_plan p = standard();
    make_fleet("release-8");
    int64_t now_ms = 0;
    rg_rollout_status st = status(RG_RO_PENDING, 0, 0), next;
    rg_transition tr;
    rg_err e;
    rg_gate_result r;
    assert_int_equal(rg_rollout_command(&p, &st, RG_CMD_START, "go", now_ms,
                                        FLEET, &next, &tr, &e),
                     0);
    st = next;
    /* Internal ring passes at 10 min. */
    now_ms = 10 * MIN_MS;
    rg_wave_counts c = measure(&p, &st, 0);
    assert_int_equal(rg_rollout_tick(&p, &st, &c, rg_gate_bake, NULL, now_ms,
                                     &next, &tr, &r, &e),
                     1);
    rg_gate_result_release(&r);
    st = next;
    assert_int_equal(st.wave, 1);
    /* Paused at 15 min, resumed at 40 min: the bake restarts at 40. */
    now_ms = 15 * MIN_MS;
    assert_int_equal(rg_rollout_command(&p, &st, RG_CMD_PAUSE, "look", now_ms,
                                        FLEET, &next, &tr, &e),
                     0);
    st = next;
    now_ms = 40 * MIN_MS;
    c = measure(&p, &st, 0);
    assert_int_equal(rg_rollout_tick(&p, &st, &c, rg_gate_bake, NULL, now_ms,
                                     &next, &tr, &r, &e),
                     0);
    rg_gate_result_release(&r);
    assert_int_equal(rg_rollout_command(&p, &st, RG_CMD_RESUME, "ok", now_ms,
                                        FLEET, &next, &tr, &e),
                     0);
    st = next;
    now_ms = 49 * MIN_MS;
    c = measure(&p, &st, 0);
    assert_int_equal(rg_rollout_tick(&p, &st, &c, rg_gate_bake, NULL, now_ms,
                                     &next, &tr, &r, &e),
                     0);
    rg_gate_result_release(&r);
    now_ms = 50 * MIN_MS;
    assert_int_equal(rg_rollout_tick(&p, &st, &c, rg_gate_bake, NULL, now_ms,
                                     &next, &tr, &r, &e),
                     1);
    rg_gate_result_release(&r);
    st = next;
    assert_int_equal(st.wave, 2);
    /* Two endpoints fail in wave 2: halt and revert. */
    now_ms += MIN_MS;
    c = measure(&p, &st, 2);
    assert_int_equal(rg_rollout_tick(&p, &st, &c, rg_gate_bake, NULL, now_ms,
                                     &next, &tr, &r, &e),
                     1);
    assert_int_equal(r.verdict, RG_VERDICT_HALT);
    assert_non_null(r.evidence);
    rg_gate_result_release(&r);
    char want[160];
    snprintf(want, sizeof want,
             "wave 2 (1%%) halted (reverting the failing strata): 2 failed of "
             "%llu exposed after 1m0s",
             (unsigned long long)c.exposed);
    assert_string_equal(tr.reason, want);
    st = next;
    assert_int_equal(st.state, RG_RO_HALTED);
    assert_int_equal(measure(&p, &st, 0).targeted, 0); /* everyone reverts */
    /* A halted rollout can only be rolled back. */
    assert_int_equal(rg_rollout_command(&p, &st, RG_CMD_RESUME, "again", now_ms,
                                        FLEET, &next, &tr, &e),
                     RG_ECONFLICT);
    assert_string_equal(e.msg, "rollout is halted; cannot resume");
    assert_int_equal(rg_rollout_command(&p, &st, RG_CMD_ROLLBACK, "undo",
                                        now_ms, FLEET, &next, &tr, &e),
                     0);
    assert_int_equal(next.state, RG_RO_ROLLED_BACK);
}

/* A random valid plan: optional internal ring, random cumulative shares
 * ending at 100%, random minimums and bakes. */
static rg_plan random_plan(uint64_t *rng)
{
    rg_plan p;
    memset(&p, 0, sizeof p);
    snprintf(p.name, sizeof p.name, "random");
    p.on_halt = rng_below(rng, 2) ? RG_ON_HALT_PAUSE : RG_ON_HALT_REVERT_ALL;
    p.n_waves = 1 + rng_below(rng, RG_MAX_WAVES);
    uint32_t share = 0;
    for (size_t i = 0; i < p.n_waves; i++) {
        rg_wave *w = &p.waves[i];
        w->internal = i == 0 && rng_below(rng, 2);
        if (!w->internal)
            share += (uint32_t)rng_below(rng, (RG_PPM - share) / 2 + 1);
        if (i + 1 == p.n_waves)
            share = RG_PPM;
        w->share_ppm = share;
        w->min_endpoints = (uint32_t)rng_below(rng, 200);
        w->min_bake_ms = (int64_t)rng_below(rng, 5) * MIN_MS;
        w->max_bake_ms = rng_below(rng, 3) ? 0 : w->min_bake_ms + 10 * MIN_MS;
        w->window_ms = 10 * MIN_MS;
        w->alpha = 1e-3;
        w->beta = 1e-2;
        snprintf(w->name, sizeof w->name, "w%zu", i);
    }
    return p;
}

/* A gate that answers random verdicts: mostly continue or pass; hold and
 * halt once in `rare` calls each. */
struct random_gate_ctx {
    uint64_t *rng;
    uint64_t rare;
};

static int random_gate(const rg_wave *w, const rg_wave_counts *c,
                       int64_t elapsed, void *ctx, rg_gate_result *out,
                       rg_err *err)
{
    (void)w;
    (void)c;
    (void)elapsed;
    (void)err;
    struct random_gate_ctx *g = ctx;
    uint64_t x = rng_below(g->rng, g->rare);
    if (x == 0)
        out->verdict = RG_VERDICT_HALT;
    else if (x == 1)
        out->verdict = RG_VERDICT_HOLD;
    else
        out->verdict =
            rng_below(g->rng, 2) ? RG_VERDICT_PASS : RG_VERDICT_CONTINUE;
    snprintf(out->reason, sizeof out->reason, "random");
    return 0;
}

/* Invariants between one status and the next, whatever happened. */
static void check_step(const rg_plan *p, uint64_t fleet,
                       const rg_rollout_status *cur,
                       const rg_rollout_status *next, bool changed,
                       uint64_t *rng)
{
    /* The share never shrinks and the wave never goes back. */
    assert_true(next->share_ppm >= cur->share_ppm);
    assert_true(next->wave >= cur->wave);
    assert_true(next->wave >= 0 && (size_t)next->wave < p->n_waves);
    /* Exposure cap: never beyond the current wave's budget before its
     * gate passed (completed covers everyone). */
    if (next->state != RG_RO_COMPLETED)
        assert_true(next->share_ppm <=
                    rg_plan_wave_share(p, (size_t)next->wave, fleet));
    else
        assert_int_equal(next->share_ppm, RG_PPM);
    /* A running rollout's share is exactly its wave's budget. */
    if (next->state == RG_RO_RUNNING)
        assert_int_equal(next->share_ppm,
                         rg_plan_wave_share(p, (size_t)next->wave, fleet));
    /* Final states: aborted and rolled_back never change; halted changes
     * only to rolled_back, completed to rolled_back or (the gate still
     * watching a stratum) halted. */
    if (changed && rg_rollout_state_final(cur->state)) {
        assert_true(cur->state == RG_RO_COMPLETED ||
                    cur->state == RG_RO_HALTED);
        assert_true(
            next->state == RG_RO_ROLLED_BACK ||
            (cur->state == RG_RO_COMPLETED && next->state == RG_RO_HALTED));
    }
    /* A halted rollout offers nothing new: what it assigns now it
     * assigned before the halt (on_halt pause), or nothing. */
    if (next->state == RG_RO_HALTED)
        for (int k = 0; k < 8; k++) {
            uint32_t b = (uint32_t)rng_below(rng, RG_PPM);
            bool internal = rng_below(rng, 4) == 0;
            if (rg_rollout_assigns(p, next, b, internal))
                assert_true(cur->state == RG_RO_HALTED ||
                            rg_rollout_assigns(p, cur, b, internal));
            assert_false(!rg_rollout_keeps(p, next, false) &&
                         rg_rollout_assigns(p, next, b, internal));
        }
    if (!changed)
        assert_memory_equal(cur, next, sizeof *cur);
    /* Assignment is monotone in the share, for every state. */
    for (int k = 0; k < 8; k++) {
        uint32_t b = (uint32_t)rng_below(rng, RG_PPM);
        bool internal = rng_below(rng, 4) == 0;
        rg_rollout_status wider = *next;
        wider.share_ppm +=
            (uint32_t)rng_below(rng, RG_PPM - next->share_ppm + 1);
        if (rg_rollout_assigns(p, next, b, internal))
            assert_true(rg_rollout_assigns(p, &wider, b, internal));
        if (!internal && rg_rollout_assigns(p, next, b, false) &&
            next->state != RG_RO_COMPLETED)
            assert_true(b < next->share_ppm); /* within the reached share */
    }
}

static void random_walks_keep_invariants(void **state)
{
    (void)state;
    uint64_t rng = 20240719;
    long steps = 0, transitions = 0;
    long seen[N_STATES][N_STATES];
    memset(seen, 0, sizeof seen);
    for (int run = 0; run < 400; run++) {
        rg_plan p;
        int kind = (int)rng_below(&rng, 4);
        if (kind == 0)
            p = standard();
        else if (kind == 1)
            assert_int_equal(rg_plan_builtin("emergency", &p, NULL), 0);
        else
            p = random_plan(&rng);
        uint64_t fleet = rng_below(&rng, 3) == 0 ? rng_below(&rng, 100)
                                                 : 1 + rng_below(&rng, 5000000);
        rg_rollout_status st = status(RG_RO_PENDING, 0, 0);
        int64_t now = (int64_t)rng_below(&rng, 1000000);
        st.wave_started_ms = st.updated_ms = now;
        bool eager = rng_below(&rng, 5) != 0; /* most runs start at once */
        /* Calm runs rarely halt, hold or end by command; wild ones often. */
        uint64_t rare = rng_below(&rng, 2) ? 400 : 12;
        struct random_gate_ctx gctx = {&rng, rare};
        for (int i = 0; i < 200; i++, steps++) {
            now += (int64_t)rng_below(&rng, 4 * MIN_MS);
            rg_rollout_status next;
            rg_transition tr;
            rg_err e;
            int rc;
            bool changed;
            if ((eager && i == 0) || rng_below(&rng, 8) == 0) {
                /* Commands that end a rollout come once in `rare`. */
                static const rg_rollout_cmd mild[] = {
                    RG_CMD_START, RG_CMD_PAUSE, RG_CMD_RESUME, RG_CMD_PROMOTE};
                rg_rollout_cmd cmd =
                    eager && i == 0 ? RG_CMD_START
                    : rng_below(&rng, rare) < 4
                        ? (rg_rollout_cmd)(RG_CMD_ABORT + rng_below(&rng, 2))
                        : mild[rng_below(&rng, 4)];
                rc = rg_rollout_command(&p, &st, cmd, "random", now, fleet,
                                        &next, &tr, &e);
                assert_true(rc == 0 || rc == RG_ECONFLICT);
                assert_int_equal(rc == 0, expected_after(st.state, cmd) >= 0);
                if (rc != 0)
                    next = st;
                changed = rc == 0;
            } else {
                rg_wave_counts c;
                c.fleet = fleet;
                c.targeted = rng_below(&rng, 300);
                c.exposed = rng_below(&rng, c.targeted + 1);
                c.healthy = rng_below(&rng, c.exposed + 1);
                c.failed =
                    rng_below(&rng, 2 * rare) == 0 ? 1 + rng_below(&rng, 3) : 0;
                c.silent = c.exposed - c.healthy;
                rg_gate_result r;
                bool bake_gate = rng_below(&rng, 2);
                /* The orchestrator ticks running rollouts and watches held
                 * and completed ones (rg_rollout_watch). */
                bool watch =
                    st.state == RG_RO_HELD || st.state == RG_RO_COMPLETED;
                rc = (watch ? rg_rollout_watch : rg_rollout_tick)(
                    &p, &st, &c, bake_gate ? rg_gate_bake : random_gate, &gctx,
                    now, &next, &tr, &r, &e);
                rg_gate_result_release(&r);
                assert_true(rc == 0 || rc == 1);
                if (rc == 0)
                    assert_memory_equal(&next, &st, sizeof st);
                else if (watch)
                    assert_int_equal(next.state, RG_RO_HALTED);
                else
                    assert_int_equal(st.state, RG_RO_RUNNING);
                changed = rc == 1;
            }
            if (changed) {
                transitions++;
                seen[st.state][next.state]++;
                assert_int_equal(tr.from_state, st.state);
                assert_int_equal(tr.to_state, next.state);
                assert_int_equal(tr.from_wave, st.wave);
                assert_int_equal(tr.to_wave, next.wave);
                assert_int_equal(next.updated_ms, now);
                assert_true(tr.reason[0] != '\0');
            }
            check_step(&p, fleet, &st, &next, changed, &rng);
            st = next;
        }
    }
    /* The walk went everywhere it should have: every edge of the
     * diagram was taken, running -> running being a wave advance. */
    static const int edges[][2] = {
        {RG_RO_PENDING, RG_RO_RUNNING},
        {RG_RO_RUNNING, RG_RO_RUNNING},
        {RG_RO_RUNNING, RG_RO_PAUSED},
        {RG_RO_PAUSED, RG_RO_RUNNING},
        {RG_RO_RUNNING, RG_RO_COMPLETED},
        {RG_RO_RUNNING, RG_RO_HALTED},
        {RG_RO_PENDING, RG_RO_ABORTED},
        {RG_RO_RUNNING, RG_RO_ABORTED},
        {RG_RO_PAUSED, RG_RO_ABORTED},
        {RG_RO_RUNNING, RG_RO_ROLLED_BACK},
        {RG_RO_PAUSED, RG_RO_ROLLED_BACK},
        {RG_RO_HALTED, RG_RO_ROLLED_BACK},
        {RG_RO_COMPLETED, RG_RO_ROLLED_BACK},
        {RG_RO_RUNNING, RG_RO_HELD},
        {RG_RO_HELD, RG_RO_RUNNING},
        {RG_RO_HELD, RG_RO_ABORTED},
        {RG_RO_HELD, RG_RO_ROLLED_BACK},
        {RG_RO_HELD, RG_RO_HALTED},
        {RG_RO_COMPLETED, RG_RO_HALTED},
        {RG_RO_PAUSED, RG_RO_COMPLETED},
        {RG_RO_HELD, RG_RO_COMPLETED},
    };
    long valid_edges = 0;
    for (size_t k = 0; k < sizeof edges / sizeof edges[0]; k++) {
        long n = seen[edges[k][0]][edges[k][1]];
        /* held -> completed (a promote of a held last wave) is too rare
         * for the walk: command_details takes it. */
        if (n == 0 &&
            !(edges[k][0] == RG_RO_HELD && edges[k][1] == RG_RO_COMPLETED))
            fail_msg("the walk never went %s -> %s",
                     rg_rollout_state_name(edges[k][0]),
                     rg_rollout_state_name(edges[k][1]));
        valid_edges += n;
    }
    assert_int_equal(valid_edges, transitions); /* and nowhere else */
    assert_true(steps >= 80000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(state_names),
        cmocka_unit_test(gate_bake_verdicts),
        cmocka_unit_test(every_command_in_every_state),
        cmocka_unit_test(command_details),
        cmocka_unit_test(tick_verdicts),
        cmocka_unit_test(assigns_by_state),
        cmocka_unit_test(full_run_standard_plan),
        cmocka_unit_test(halt_and_pause_resume_run),
        cmocka_unit_test(random_walks_keep_invariants),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
