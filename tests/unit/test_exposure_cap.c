/* Property tests of the exposure cap, on the server's real controller
 * (desired.c's check-in answers with canary.c's admission, the
 * orchestrator's tick and the health gate) over an in-memory store and a
 * manual clock: random fleets (strata of random sizes, an internal ring,
 * endpoints that are good, crash, fail or stay offline, an n-1 group and a
 * pinned group, overlapping), random plans (internal ring or not, shares,
 * minimum endpoints, bakes, W, on_halt) and random sequences of
 * check-ins, reports, clock steps, ticks and operator pauses, resumes,
 * promotions and rollbacks. After every check-in answer:
 *  - while the rollout runs, an endpoint is given the release only inside
 *    the current share (or the internal ring, or the stratified floor of
 *    the first waves), and no stratum ever has more endpoints given it
 *    than its budget (initial + growth x its healthy reports so far);
 *  - after completion, an endpoint is newly given the release only when
 *    its stratum is cleared (strata.h: healthy evidence) or within that
 *    budget: completion never exposes a stratum without healthy evidence;
 *  - exposure never shrinks except by a revert: an endpoint once given
 *    the release keeps it until a rollback or a halt that reverts it
 *    (on_halt revert_all, or revert_stratum with its stratum halted);
 *  - paused, held, halted and aborted rollouts offer nothing new;
 *  - (after every tick and command) a wave never goes back and the share
 *    never shrinks;
 *  - held endpoints get exactly what their policy says (pin: the pinned
 *    release; n-1: the channel's current release), never the release
 *    under rollout before that rollout completed; they never count as
 *    assigned.
 * Each trial is deterministic per seed; a failure names seed and step.
 * ctest-labels: canary */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/clock.h"
#include "common/crypto.h"
#include "common/err.h"
#include "model/bucket.h"
#include "model/exposure.h"
#include "model/plan.h"
#include "model/rollout.h"
#include "server/canary.h"
#include "server/desired.h"
#include "server/fleet.h"
#include "server/orchestrator.h"
#include "server/server.h"
#include "store/store.h"
#include "support/fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Enough trials that one completes with a stratum not cleared yet (the
 * after-completion budget is exercised): the gate holds a small stratum
 * whose exposed endpoints are all silent and lean towards excess, which
 * in these worlds of rare check-ins happens often; seed 50 is the first. */
#define TRIALS 64
#define STEPS 1500
#define MAX_EPS 400
#define MAX_STRATA 4
#define T0 INT64_C(1700000000000)

enum { GOOD, CRASH, FAIL, OFFLINE };

typedef struct ep {
    char id[48];
    uint8_t tok[RG_FLEET_TOKEN_BYTES];
    int stratum; /* index into the trial's strata */
    bool internal, n1, pinned;
    int behavior;
    bool gone;        /* crashed: silent from now on */
    bool ever_given;  /* given the rolled-out release while running */
    bool has_new;     /* installed the rolled-out release */
    bool owes_report; /* reports healthy/failed at its next check-in */
    bool healthy;     /* reported healthy for it */
    uint32_t bucket;
    int64_t installed; /* release id it has, 0: none */
} ep;

typedef struct trial {
    uint64_t rng;
    int64_t now;
    rg_clock clock;
    rg_server srv;
    int64_t rel[4]; /* versions 1 (pinned), 2 (current), 3 (rolled out) */
    int64_t rollout;
    char salt[33];
    size_t n;
    ep eps[MAX_EPS];
    int n_strata;
    bool big[MAX_STRATA];           /* >= min_stratum_size target endpoints */
    uint32_t floor_max[MAX_STRATA]; /* the k-th lowest target bucket */
    uint64_t ev_seq;
    rg_exposure_params xp;
    unsigned seed;
    int step;
    bool was_completed; /* a check-in saw the rollout completed */
    int last_wave;      /* the rollout's wave and share when last seen */
    uint32_t last_share;
} trial;

/* What the trials exercised (a test that checks nothing passes too). */
static struct {
    unsigned admitted, floor_admitted, held_answers, final_state[8];
    unsigned after_completion, kept_after_halt;
} seen;

static uint64_t next(trial *t)
{
    uint64_t z = (t->rng += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static uint64_t below(trial *t, uint64_t n)
{
    return n ? next(t) % n : 0;
}

#define CHECK(t, cond, ...)                                                    \
    do {                                                                       \
        if (!(cond)) {                                                         \
            print_error("seed %u step %d: ", (t)->seed, (t)->step);            \
            fail_msg(__VA_ARGS__);                                             \
        }                                                                      \
    } while (0)

/* A random plan: an optional internal ring, 1..3 shared waves, the last
 * at 100%. */
static void random_plan(trial *t, rg_plan *p)
{
    char text[2048];
    size_t used = 0;
    int waves = 2 + (int)below(t, 2);
    bool ring = below(t, 3) != 0;
    used += (size_t)snprintf(
        text + used, sizeof text - used, "{\"on_halt\":\"%s\",\"waves\":[",
        (const char *[]){"revert", "revert_stratum", "pause"}[below(t, 3)]);
    if (ring)
        used += (size_t)snprintf(
            text + used, sizeof text - used,
            "{\"internal\":true,\"share\":0,\"min_endpoints\":1,"
            "\"min_bake_s\":%d,\"window_s\":%d},",
            (int)below(t, 120), 60 + (int)below(t, 120));
    double share = 0;
    for (int w = 0; w < waves; w++) {
        share = w == waves - 1 ? 100
                : w == 0       ? 0.1 + (double)below(t, 10) / 10
                               : share + 1 + (double)below(t, 40);
        used += (size_t)snprintf(
            text + used, sizeof text - used,
            "%s{\"share\":%g,\"min_endpoints\":%d,\"min_bake_s\":%d,"
            "\"window_s\":%d}",
            w ? "," : "", share, (int)below(t, w ? 6 : 2), (int)below(t, 180),
            60 + (int)below(t, 120));
    }
    snprintf(text + used, sizeof text - used, "]}");
    json_t *v = json_loads(text, 0, NULL);
    assert_non_null(v);
    rg_err err;
    rg_err_clear(&err);
    rg_test_ok(rg_plan_from_json(v, p, &err), &err);
    json_decref(v);
}

static void add_policy(trial *t, const char *name, const char *selector,
                       const char *mode, int64_t release)
{
    rg_err err;
    rg_err_clear(&err);
    rg_policy_rec *p = calloc(1, sizeof *p);
    assert_non_null(p);
    snprintf(p->name, sizeof p->name, "%s", name);
    snprintf(p->channel, sizeof p->channel, "detections");
    snprintf(p->selector_json, sizeof p->selector_json, "%s", selector);
    snprintf(p->mode, sizeof p->mode, "%s", mode);
    p->release_id = release;
    p->created_ms = t->now;
    rg_test_ok(rg_store_policy_create(t->srv.store, p, NULL, &err), &err);
    free(p);
}

static void setup_trial(trial *t, unsigned seed)
{
    rg_err err;
    rg_err_clear(&err);
    memset(t, 0, sizeof *t);
    t->seed = seed;
    t->rng = seed * UINT64_C(7919) + 1;
    t->now = T0;
    rg_exposure_params_default(&t->xp);
    rg_test_server_store(&t->srv, &t->clock, &t->now);
    for (int v = 1; v <= 3; v++)
        t->rel[v] = rg_test_add_release(t->srv.store, "detections", v, t->now);

    /* v2 is the channel's current release: a completed rollout. */
    free(rg_test_add_rollout(t->srv.store, t->rel[2], RG_RO_COMPLETED, t->now,
                             NULL));

    /* Policies: an n-1 group by tag, a pinned group by attribute; an
     * endpoint in both is pinned (a pin wins). */
    add_policy(t, "behind", "{\"tag\":\"hold\"}", "n-1", 0);
    add_policy(t, "pinned", "{\"attribute\":{\"os_version\":\"pinned\"}}",
               "pin", t->rel[1]);

    rg_test_ok(rg_fleet_open(&t->srv, &t->srv.fleet, &err), &err);
    rg_test_ok(rg_desired_open(&t->srv, &t->srv.desired, &err), &err);

    t->n_strata = 1 + (int)below(t, MAX_STRATA);
    t->n = 40 + below(t, MAX_EPS - 40);
    int bad_stratum = below(t, 2) ? (int)below(t, (uint64_t)t->n_strata) : -1;
    int bad_kind = below(t, 2) ? CRASH : FAIL;
    rg_endpoint_rec *e = calloc(1, sizeof *e);
    assert_non_null(e);
    for (size_t i = 0; i < t->n; i++) {
        ep *x = &t->eps[i];
        snprintf(x->id, sizeof x->id, "s%u-ep-%zu", seed, i);
        x->stratum = (int)below(t, (uint64_t)t->n_strata);
        x->internal = below(t, 30) == 0;
        x->n1 = below(t, 12) == 0;
        x->pinned = below(t, 12) == 0;
        x->behavior = below(t, 10) == 0 ? OFFLINE : GOOD;
        if (x->behavior == GOOD && x->stratum == bad_stratum &&
            below(t, 4) != 0)
            x->behavior = bad_kind;
        else if (x->behavior == GOOD && below(t, 50) == 0)
            x->behavior = FAIL;
        x->installed = t->rel[2];
        char token[64], hex[RG_HASH_HEX];
        snprintf(token, sizeof token, "tok-%s", x->id);
        rg_sha256_hex(token, strlen(token), hex);
        rg_test_token_bin(hex, x->tok);
        snprintf(e->id, sizeof e->id, "%s", x->id);
        snprintf(e->token_hash, sizeof e->token_hash, "%s", hex);
        char tags[64] = "";
        snprintf(tags, sizeof tags, "%s%s%s", x->internal ? "\"internal\"" : "",
                 x->internal && x->n1 ? "," : "", x->n1 ? "\"hold\"" : "");
        snprintf(e->attrs_json, sizeof e->attrs_json,
                 "{\"os\":\"os%d\",\"os_version\":\"%s\",\"arch\":\"x86_64\","
                 "\"tags\":[%s]}",
                 x->stratum, x->pinned ? "pinned" : "1", tags);
        snprintf(e->installed_json, sizeof e->installed_json, "{}");
        e->enrolled_ms = t->now;
        rg_test_ok(rg_store_endpoint_enroll(t->srv.store, e, NULL, &err), &err);
        rg_test_ok(rg_fleet_put(t->srv.fleet, e, &err), &err);
    }
    free(e);
}

static void teardown_trial(trial *t)
{
    rg_desired_close(t->srv.desired);
    rg_fleet_close(t->srv.fleet);
    rg_store_close(t->srv.store);
}

static bool held(const ep *x)
{
    return x->n1 || x->pinned;
}

/* Starts the rollout of v3 with a random plan; works out the stratified
 * floor of each stratum (pinned endpoints are strata of their own). */
static void start_rollout(trial *t)
{
    rg_err err;
    rg_err_clear(&err);
    rg_rollout_rec *r = calloc(1, sizeof *r);
    assert_non_null(r);
    r->release_id = t->rel[3];
    random_plan(t, &r->plan);
    snprintf(r->salt, sizeof r->salt, "salt-%u", t->seed);
    snprintf(t->salt, sizeof t->salt, "%s", r->salt);
    rg_rollout_status pending = {0};
    rg_transition tr;
    uint64_t target = 0;
    for (size_t i = 0; i < t->n; i++)
        target += !held(&t->eps[i]);
    rg_test_ok(rg_rollout_command(&r->plan, &pending, RG_CMD_START, "go",
                                  t->now, target, &r->status, &tr, &err),
               &err);
    r->created_ms = t->now;
    rg_test_ok(rg_store_rollout_create(t->srv.store, r, NULL, &err), &err);
    rg_test_ok(rg_server_state_changed(&t->srv, &err), &err);
    t->rollout = r->id;
    free(r);
    for (int s = 0; s < t->n_strata; s++) {
        uint32_t lowest[RG_EXPOSURE_MAX_PER_STRATUM];
        size_t n_lowest = 0;
        uint64_t size = 0;
        for (size_t i = 0; i < t->n; i++) {
            ep *x = &t->eps[i];
            x->bucket = rg_bucket(t->salt, x->id);
            if (x->stratum != s || held(x))
                continue;
            size++;
            rg_exposure_track_lowest(lowest, &n_lowest, t->xp.min_per_stratum,
                                     x->bucket);
        }
        t->big[s] = size >= t->xp.min_stratum_size && n_lowest > 0;
        t->floor_max[s] = t->big[s] ? lowest[n_lowest - 1] : 0;
    }
}

static void rollout_get(trial *t, rg_rollout_rec *r)
{
    rg_err err;
    rg_err_clear(&err);
    rg_test_ok(rg_store_rollout_get(t->srv.store, t->rollout, r, &err), &err);
}

static int64_t current_release(trial *t)
{
    rg_err err;
    rg_err_clear(&err);
    rg_channel_rec ch;
    rg_test_ok(rg_store_channel_get(t->srv.store, "detections", &ch, &err),
               &err);
    return ch.current_release_id;
}

/* One check-in of endpoint x with events (types: rg_event_type
 * codes) for the rolled-out release; returns the desired release. */
static int64_t checkin(trial *t, ep *x, const int *types, size_t n)
{
    return rg_test_checkin(&t->srv, x->id, x->tok, t->now, t->rel[3], types, n,
                           &t->ev_seq, true);
}

/* x's stratum has no more endpoints given the release than its budget
 * (initial + growth x its healthy reports so far). */
static void check_budget(trial *t, const ep *x)
{
    uint64_t given = 0, healthy = 0;
    for (size_t i = 0; i < t->n; i++) {
        const ep *y = &t->eps[i];
        if (y->stratum != x->stratum || held(y))
            continue;
        given += y->ever_given;
        healthy += y->healthy;
    }
    CHECK(t, given <= rg_exposure_budget(&t->xp, healthy),
          "stratum %d: %llu endpoints given the release, budget %llu",
          x->stratum, (unsigned long long)given,
          (unsigned long long)rg_exposure_budget(&t->xp, healthy));
}

/* The server's state (strata.h) of x's stratum in the rollout. */
static int stratum_state(trial *t, const ep *x)
{
    rg_fleet_view v;
    rg_err err;
    rg_err_clear(&err);
    rg_test_ok(rg_fleet_view_id(t->srv.fleet, x->id, &v, &err), &err);
    return rg_strata_get(rg_desired_strata(t->srv.desired), t->rollout,
                         v.stratum);
}

/* The exposure cap while the rollout runs: x was just given v3. */
static void check_admission(trial *t, const ep *x, const rg_rollout_rec *ro)
{
    int first = rg_exposure_first_wave(&ro->plan);
    bool inside =
        rg_bucket_in(x->bucket, ro->status.share_ppm) || (x->internal) ||
        (t->big[x->stratum] && first >= 0 && ro->status.wave >= first &&
         x->bucket <= t->floor_max[x->stratum]);
    seen.admitted++;
    seen.floor_admitted +=
        !x->internal && !rg_bucket_in(x->bucket, ro->status.share_ppm);
    CHECK(t, inside,
          "%s (bucket %u, stratum %d) given the release outside wave %d's "
          "share %u",
          x->id, x->bucket, x->stratum, ro->status.wave, ro->status.share_ppm);
    check_budget(t, x);
}

/* One check-in of x and the properties of its answer. */
static void visit(trial *t, ep *x)
{
    if (x->behavior == OFFLINE || x->gone)
        return;
    int types[2];
    size_t n = 0;
    if (x->owes_report) {
        types[n++] = x->behavior == FAIL ? 2 : 1;
        x->owes_report = false;
        x->healthy = x->behavior == GOOD;
    }
    rg_rollout_rec *ro = malloc(sizeof *ro);
    assert_non_null(ro);
    rollout_get(t, ro);
    int64_t got = checkin(t, x, types, n);
    int state = ro->status.state;
    rg_rollout_rec *after = malloc(sizeof *after);
    assert_non_null(after);
    rollout_get(t, after);
    CHECK(t, after->status.state == state,
          "a check-in changed the rollout's state");
    int sst = stratum_state(t, x);
    bool reverting = state == RG_RO_ROLLED_BACK ||
                     (state == RG_RO_HALTED &&
                      (ro->plan.on_halt == RG_ON_HALT_REVERT_ALL ||
                       (ro->plan.on_halt == RG_ON_HALT_REVERT_STRATUM &&
                        sst == RG_STRATUM_HALTED)));
    seen.held_answers += held(x);
    t->was_completed |= state == RG_RO_COMPLETED;
    if (x->pinned) {
        CHECK(t, got == t->rel[1], "pinned %s given %lld", x->id,
              (long long)got);
    } else if (x->n1) {
        int64_t cur = current_release(t);
        CHECK(t, got == cur, "n-1 %s given %lld, current %lld", x->id,
              (long long)got, (long long)cur);
        CHECK(t, got != t->rel[3] || state == RG_RO_COMPLETED,
              "n-1 %s given the release before its rollout completed", x->id);
    } else if (reverting) {
        CHECK(t, got == t->rel[2], "%s not reverted after %s", x->id,
              rg_rollout_state_name(state));
    } else {
        CHECK(t, got == t->rel[3] || got == t->rel[2], "%s given %lld", x->id,
              (long long)got);
        CHECK(t, !x->ever_given || got == t->rel[3],
              "%s admitted, then taken back while %s", x->id,
              rg_rollout_state_name(state));
        seen.kept_after_halt += state == RG_RO_HALTED && x->ever_given;
        if (got == t->rel[3] && !x->ever_given) {
            CHECK(t, state == RG_RO_RUNNING || state == RG_RO_COMPLETED,
                  "admitted while %s", rg_rollout_state_name(state));
            x->ever_given = true;
            if (state == RG_RO_RUNNING) {
                check_admission(t, x, ro);
            } else if (sst != RG_STRATUM_CLEARED) {
                seen.after_completion++;
                check_budget(t, x);
            }
        }
    }
    if (got == t->rel[3] && !x->has_new) {
        x->has_new = true;
        int applying = 0;
        checkin(t, x, &applying, 1);
        if (x->behavior == CRASH)
            x->gone = true;
        else
            x->owes_report = true;
    } else if (got != t->rel[3]) {
        x->has_new = false;
        x->owes_report = false;
    }
    x->installed = got;
    if (held(x)) {
        rg_fleet_view v;
        rg_err err;
        rg_err_clear(&err);
        rg_test_ok(rg_fleet_view_id(t->srv.fleet, x->id, &v, &err), &err);
        const rg_fleet_canary *cn = rg_fleet_canary_of(&v, t->rel[3]);
        /* Once completed, held endpoints apply the channel's current
         * release like anyone (also if the watching gate halts later). */
        CHECK(t,
              state == RG_RO_COMPLETED || state == RG_RO_ROLLED_BACK ||
                  (state == RG_RO_HALTED && t->was_completed) || !cn,
              "held %s has a canary slot for the release while %s", x->id,
              rg_rollout_state_name(state));
    }
    free(ro);
    free(after);
}

/* An operator command on the rollout (ignored when it does not apply). */
static void operate(trial *t, rg_rollout_cmd cmd)
{
    rg_err err;
    rg_err_clear(&err);
    rg_rollout_rec *ro = malloc(sizeof *ro);
    assert_non_null(ro);
    rollout_get(t, ro);
    rg_rollout_status next;
    rg_transition tr;
    if (rg_rollout_command(&ro->plan, &ro->status, cmd, "test", t->now, t->n,
                           &next, &tr, &err) == 0) {
        rg_test_ok(rg_store_rollout_transition(t->srv.store, ro->id,
                                               &ro->status, &next, &tr, "test",
                                               NULL, NULL, &err),
                   &err);
        rg_test_ok(rg_server_state_changed(&t->srv, &err), &err);
    }
    free(ro);
}

/* A wave never goes back and the share never shrinks. */
static void check_progress(trial *t)
{
    rg_rollout_rec *ro = malloc(sizeof *ro);
    assert_non_null(ro);
    rollout_get(t, ro);
    CHECK(t, ro->status.wave >= t->last_wave, "wave %d after wave %d",
          ro->status.wave, t->last_wave);
    CHECK(t, ro->status.share_ppm >= t->last_share, "share %u after %u",
          ro->status.share_ppm, t->last_share);
    t->last_wave = ro->status.wave;
    t->last_share = ro->status.share_ppm;
    free(ro);
}

static void run_trial(unsigned seed)
{
    trial *t = calloc(1, sizeof *t);
    assert_non_null(t);
    setup_trial(t, seed);
    start_rollout(t);
    rg_err err;
    rg_err_clear(&err);
    for (t->step = 0; t->step < STEPS; t->step++) {
        uint64_t r = below(t, 1000);
        if (r < 700) {
            visit(t, &t->eps[below(t, t->n)]);
        } else if (r < 850) {
            t->now += 1000 + (int64_t)below(t, 15000);
        } else if (r < 990) {
            rg_test_ok(rg_orchestrator_tick(&t->srv, &err), &err);
        } else if (r < 992) {
            operate(t, RG_CMD_PAUSE);
        } else if (r < 998) {
            operate(t, RG_CMD_RESUME);
        } else if (r < 999) {
            operate(t, RG_CMD_PROMOTE);
        } else if (below(t, 10) == 0) {
            operate(t, RG_CMD_ROLLBACK);
        }
        if (r >= 850)
            check_progress(t);
    }
    /* A last look at everyone. */
    for (size_t i = 0; i < t->n; i++)
        visit(t, &t->eps[i]);
    rg_rollout_rec *ro = malloc(sizeof *ro);
    assert_non_null(ro);
    rollout_get(t, ro);
    seen.final_state[ro->status.state]++;
    free(ro);
    teardown_trial(t);
    free(t);
}

static void exposure_cap_holds_on_random_runs(void **state)
{
    (void)state;
    assert_int_equal(rg_crypto_init(), 0);
    for (unsigned seed = 1; seed <= TRIALS; seed++)
        run_trial(seed);
    print_message(
        "admitted %u (%u by the stratified floor), held answers "
        "%u; after completion %u outside a cleared stratum; kept "
        "after a halt %u; final states: completed %u, halted %u, "
        "rolled back %u, running %u, paused %u, held %u\n",
        seen.admitted, seen.floor_admitted, seen.held_answers,
        seen.after_completion, seen.kept_after_halt,
        seen.final_state[RG_RO_COMPLETED], seen.final_state[RG_RO_HALTED],
        seen.final_state[RG_RO_ROLLED_BACK], seen.final_state[RG_RO_RUNNING],
        seen.final_state[RG_RO_PAUSED], seen.final_state[RG_RO_HELD]);
    assert_true(seen.admitted > 100);
    assert_true(seen.floor_admitted > 0);
    assert_true(seen.held_answers > 100);
    assert_true(seen.final_state[RG_RO_COMPLETED] > 0);
    assert_true(seen.final_state[RG_RO_HALTED] > 0);
    assert_true(seen.after_completion > 0);
    assert_true(seen.kept_after_halt > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exposure_cap_holds_on_random_runs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
