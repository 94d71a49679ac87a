/* Unit tests for group policies: selectors (src/server/policy.c: parsing
 * with field-named errors, canonical form, matching, precedence), what a
 * held endpoint is given (rg_desired_pick_held), the store calls
 * (rg_store_policy_create/list/delete: unknown channel or release,
 * release of another channel, duplicate name, the cap, audit rows,
 * nothing stored on failure) and the desired-state cache applying them at
 * check-in (rg_desired_held, rg_desired_for_checkin).
 * ctest-labels: canary */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/clock.h"
#include "common/crypto.h"
#include "common/err.h"
#include "server/desired.h"
#include "server/fleet.h"
#include "server/policy.h"
#include "server/server.h"
#include "store/store.h"
#include "support/fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 INT64_C(1700000000000)

static int parse(const char *text, rg_policy_selector *s, rg_err *err)
{
    json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
    assert_non_null(v);
    rg_err_clear(err);
    int rc = rg_policy_selector_parse(v, s, err);
    json_decref(v);
    return rc;
}

static void selectors_parse_with_named_fields(void **state)
{
    (void)state;
    rg_policy_selector s;
    rg_err err;
    static const struct {
        const char *text, *field;
    } bad[] = {
        {"\"pos\"", "selector"},
        {"{}", "selector"},
        {"{\"tag\":\"a\",\"attribute\":{\"os\":\"x\"}}", "selector"},
        {"{\"tags\":\"a\"}", "selector"},
        {"{\"tag\":\"\"}", "selector.tag"},
        {"{\"tag\":7}", "selector.tag"},
        {"{\"tag\":\"a\\nb\"}", "selector.tag"},
        {"{\"attribute\":{}}", "selector.attribute"},
        {"{\"attribute\":[]}", "selector.attribute"},
        {"{\"attribute\":{\"colour\":\"red\"}}", "selector.attribute"},
        {"{\"attribute\":{\"os\":\"\"}}", "selector.attribute.os"},
        {"{\"attribute\":{\"os\":\"w\",\"region\":null}}",
         "selector.attribute.region"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(parse(bad[i].text, &s, &err), RG_EINVAL);
        assert_string_equal(err.field, bad[i].field);
    }
    char long_tag[100];
    snprintf(long_tag, sizeof long_tag, "{\"tag\":\"%065d\"}", 0);
    assert_int_equal(parse(long_tag, &s, &err), RG_EINVAL);

    assert_int_equal(parse("{\"tag\":\"pos-terminals\"}", &s, &err), 0);
    assert_string_equal(s.tag, "pos-terminals");
    json_t *j = rg_policy_selector_json(&s);
    char *text = json_dumps(j, JSON_COMPACT);
    assert_string_equal(text, "{\"tag\":\"pos-terminals\"}");
    free(text);
    json_decref(j);

    /* The canonical form lists keys in a fixed order. */
    assert_int_equal(
        parse("{\"attribute\":{\"region\":\"eu\",\"os_version\":\"10\","
              "\"os\":\"windows\"}}",
              &s, &err),
        0);
    j = rg_policy_selector_json(&s);
    text = json_dumps(j, JSON_COMPACT);
    assert_string_equal(text, "{\"attribute\":{\"os\":\"windows\","
                              "\"os_version\":\"10\",\"region\":\"eu\"}}");
    free(text);
    json_decref(j);
}

static void selectors_match_attributes_and_tags(void **state)
{
    (void)state;
    rg_policy_selector s;
    rg_err err;
    rg_fleet_attrs a;
    memset(&a, 0, sizeof a);
    snprintf(a.os, sizeof a.os, "windows");
    snprintf(a.os_version, sizeof a.os_version, "10");
    snprintf(a.arch, sizeof a.arch, "x86_64");
    snprintf(a.tags[a.n_tags++], sizeof a.tags[0], "store-7");
    snprintf(a.tags[a.n_tags++], sizeof a.tags[0], "pos-terminals");

    assert_int_equal(parse("{\"tag\":\"pos-terminals\"}", &s, &err), 0);
    assert_true(rg_policy_matches(&s, &a));
    assert_int_equal(parse("{\"tag\":\"pos\"}", &s, &err), 0);
    assert_false(rg_policy_matches(&s, &a));
    assert_int_equal(
        parse("{\"attribute\":{\"os\":\"windows\",\"os_version\":\"10\"}}", &s,
              &err),
        0);
    assert_true(rg_policy_matches(&s, &a));
    snprintf(a.os_version, sizeof a.os_version, "11");
    assert_false(rg_policy_matches(&s, &a));
    /* An attribute the endpoint does not have never matches. */
    assert_int_equal(parse("{\"attribute\":{\"region\":\"eu\"}}", &s, &err), 0);
    assert_false(rg_policy_matches(&s, &a));
    snprintf(a.region, sizeof a.region, "eu");
    assert_true(rg_policy_matches(&s, &a));
    /* An empty selector (not one parse gives) matches nothing. */
    memset(&s, 0, sizeof s);
    assert_false(rg_policy_matches(&s, &a));

    assert_int_equal(rg_policy_mode_parse("n-1"), RG_POLICY_N1);
    assert_int_equal(rg_policy_mode_parse("pin"), RG_POLICY_PIN);
    assert_int_equal(rg_policy_mode_parse("N-1"), -1);
    assert_int_equal(rg_policy_mode_parse(NULL), -1);
    assert_string_equal(rg_policy_mode_name(RG_POLICY_PIN), "pin");
    /* A pin wins over n-1, then the oldest. */
    assert_true(rg_policy_precedes(RG_POLICY_PIN, 9, RG_POLICY_N1, 1));
    assert_false(rg_policy_precedes(RG_POLICY_N1, 1, RG_POLICY_PIN, 9));
    assert_true(rg_policy_precedes(RG_POLICY_N1, 1, RG_POLICY_N1, 2));
    assert_false(rg_policy_precedes(RG_POLICY_N1, 2, RG_POLICY_N1, 2));
}

static void release_of(rg_release_rec *r, int64_t id, int64_t version)
{
    memset(r, 0, sizeof *r);
    r->id = id;
    r->version = version;
    snprintf(r->sha256, sizeof r->sha256, "%064lld", (long long)id);
}

static void held_endpoints_get_their_policy(void **state)
{
    (void)state;
    rg_desired_channel *c = calloc(1, sizeof *c);
    rg_desired_policy *pol = calloc(1, sizeof *pol);
    assert_non_null(c);
    assert_non_null(pol);
    release_of(&c->current, 2, 20);
    release_of(&c->prev, 2, 20);
    release_of(&c->release, 3, 30);
    c->has_rollout = true;
    c->rollout.id = 9;
    c->rollout.release_id = 3;
    assert_int_equal(rg_plan_builtin("standard", &c->rollout.plan, NULL), 0);
    c->rollout.status.state = RG_RO_RUNNING;
    c->rollout.status.wave = 1;
    c->rollout.status.wave_started_ms = T0;
    rg_desired_pick p;

    /* n-1 while the rollout runs: the current release, a notice of the
     * new one at its estimated completion (no rollout id). */
    pol->mode = RG_POLICY_N1;
    rg_desired_pick_held(c, pol, T0 + 1000, 1000000, &p);
    assert_ptr_equal(p.release, &c->current);
    assert_int_equal(p.rollout_id, 0);
    assert_ptr_equal(p.notice, &c->release);
    int64_t bakes = 0;
    for (size_t w = 1; w < c->rollout.plan.n_waves; w++)
        bakes += c->rollout.plan.waves[w].min_bake_ms;
    assert_int_equal(p.earliest_ms, T0 + bakes);

    /* Completed: the channel's current release is the new one. */
    c->rollout.status.state = RG_RO_COMPLETED;
    release_of(&c->current, 3, 30);
    rg_desired_pick_held(c, pol, T0, 1000000, &p);
    assert_ptr_equal(p.release, &c->current);
    assert_int_equal(p.release->id, 3);
    assert_null(p.notice);

    /* Halted: still the previous current one, nothing announced. */
    c->rollout.status.state = RG_RO_HALTED;
    release_of(&c->current, 2, 20);
    rg_desired_pick_held(c, pol, T0, 1000000, &p);
    assert_int_equal(p.release->id, 2);
    assert_null(p.notice);

    /* No current release: nothing. */
    memset(&c->current, 0, sizeof c->current);
    rg_desired_pick_held(c, pol, T0, 1000000, &p);
    assert_null(p.release);

    /* pin: the pinned release whatever the rollout does. */
    pol->mode = RG_POLICY_PIN;
    release_of(&pol->pinned, 1, 10);
    for (int st = RG_RO_PENDING; st <= RG_RO_ROLLED_BACK; st++) {
        c->rollout.status.state = st;
        rg_desired_pick_held(c, pol, T0, 1000000, &p);
        assert_ptr_equal(p.release, &pol->pinned);
        assert_int_equal(p.rollout_id, 0);
        assert_null(p.notice);
    }
    free(c);
    free(pol);
}

/* ------------------------------------------------------------------ */
/* with a store                                                       */

typedef struct fixture {
    int64_t now;
    rg_clock clock;
    rg_server srv;
    int64_t rel[3]; /* detections v1, v2 */
    int64_t other;  /* a release of channel "flags" */
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    assert_int_equal(rg_crypto_init(), 0);
    fx->now = T0;
    fx->clock = rg_clock_manual(&fx->now);
    fx->srv.clock = &fx->clock;
    fx->srv.cfg.checkin_interval_s = 60;
    rg_err err;
    rg_err_clear(&err);
    assert_int_equal(rg_store_open(":memory:", &fx->srv.store, &err), 0);
    const char *channels[] = {"detections", "flags"};
    for (int i = 0; i < 2; i++) {
        rg_channel_rec ch;
        memset(&ch, 0, sizeof ch);
        snprintf(ch.name, sizeof ch.name, "%s", channels[i]);
        assert_int_equal(
            rg_store_channel_create(fx->srv.store, &ch, NULL, &err), 0);
    }
    fx->rel[1] = rg_test_add_release(fx->srv.store, "detections", 1, fx->now);
    fx->rel[2] = rg_test_add_release(fx->srv.store, "detections", 2, fx->now);
    fx->other = rg_test_add_release(fx->srv.store, "flags", 1, fx->now);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    rg_desired_close(fx->srv.desired);
    rg_fleet_close(fx->srv.fleet);
    rg_store_close(fx->srv.store);
    free(fx);
    return 0;
}

static rg_policy_rec *policy(const char *name, const char *channel,
                             const char *selector, const char *mode,
                             int64_t release)
{
    rg_policy_rec *p = calloc(1, sizeof *p);
    assert_non_null(p);
    snprintf(p->name, sizeof p->name, "%s", name);
    snprintf(p->channel, sizeof p->channel, "%s", channel);
    snprintf(p->selector_json, sizeof p->selector_json, "%s", selector);
    snprintf(p->mode, sizeof p->mode, "%s", mode);
    p->release_id = release;
    p->created_ms = T0;
    snprintf(p->created_by, sizeof p->created_by, "ci");
    return p;
}

static int count_one(void *ctx, const rg_policy_rec *p)
{
    (void)p;
    (*(int *)ctx)++;
    return 0;
}

static int count_policies(fixture *fx)
{
    int n = 0;
    rg_err err;
    assert_int_equal(rg_store_policy_list(fx->srv.store, count_one, &n, &err),
                     0);
    return n;
}

static int count_audit(void *ctx, const rg_audit_rec *a)
{
    if (strncmp(a->action, "policy.", 7) == 0)
        (*(int *)ctx)++;
    return 0;
}

static void audit_of(rg_audit_rec *a, const char *action)
{
    memset(a, 0, sizeof *a);
    a->at_ms = T0;
    snprintf(a->actor, sizeof a->actor, "ci");
    snprintf(a->role, sizeof a->role, "operator");
    snprintf(a->action, sizeof a->action, "%s", action);
}

static void store_checks_and_audits(void **state)
{
    fixture *fx = *state;
    rg_err err;
    rg_audit_rec audit;
    audit_of(&audit, "policy.create");
    static const struct {
        const char *channel, *selector, *mode;
        int release; /* 0 none, 1 v1, 2 another channel's, 3 unknown */
        int code;
        const char *field;
    } bad[] = {
        {"nonesuch", "{\"tag\":\"a\"}", "n-1", 0, RG_ENOTFOUND, "channel"},
        {"detections", "{\"tag\":\"a\"}", "pin", 2, RG_ENOTFOUND, "release"},
        {"detections", "{\"tag\":\"a\"}", "pin", 3, RG_ENOTFOUND, "release"},
        {"detections", "{\"tag\":\"a\"}", "pin", 0, RG_EINVAL, "release"},
        {"detections", "{\"tag\":\"a\"}", "n-1", 1, RG_EINVAL, "release"},
        {"detections", "{\"tag\":\"a\"}", "n-2", 0, RG_EINVAL, "mode"},
        {"detections", "[1]", "n-1", 0, RG_EINVAL, "selector"},
        {"detections", "", "n-1", 0, RG_EINVAL, "selector"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int64_t rel = bad[i].release == 1   ? fx->rel[1]
                      : bad[i].release == 2 ? fx->other
                      : bad[i].release == 3 ? 999
                                            : 0;
        rg_policy_rec *p =
            policy("p", bad[i].channel, bad[i].selector, bad[i].mode, rel);
        rg_err_clear(&err);
        assert_int_equal(rg_store_policy_create(fx->srv.store, p, &audit, &err),
                         bad[i].code);
        assert_string_equal(err.field, bad[i].field);
        free(p);
    }
    assert_int_equal(count_policies(fx), 0);

    rg_policy_rec *p =
        policy("pinned", "detections", "{\"attribute\":{\"os\":\"w\"}}", "pin",
               fx->rel[1]);
    assert_int_equal(rg_store_policy_create(fx->srv.store, p, &audit, &err), 0);
    assert_true(p->id > 0);
    int64_t first = p->id;
    rg_channel_rec ch;
    assert_int_equal(
        rg_store_channel_get(fx->srv.store, "detections", &ch, &err), 0);
    assert_int_equal(p->channel_id, ch.id);
    /* Same name again: a conflict on name, nothing added. */
    assert_int_equal(rg_store_policy_create(fx->srv.store, p, &audit, &err),
                     RG_ECONFLICT);
    assert_string_equal(err.field, "name");
    free(p);
    /* The cap. */
    for (int i = 1; i < RG_POLICIES_MAX; i++) {
        char name[16];
        snprintf(name, sizeof name, "n%d", i);
        p = policy(name, "flags", "{\"tag\":\"x\"}", "n-1", 0);
        assert_int_equal(rg_store_policy_create(fx->srv.store, p, NULL, &err),
                         0);
        free(p);
    }
    p = policy("one-too-many", "flags", "{\"tag\":\"x\"}", "n-1", 0);
    assert_int_equal(rg_store_policy_create(fx->srv.store, p, NULL, &err),
                     RG_ECONFLICT);
    free(p);
    assert_int_equal(count_policies(fx), RG_POLICIES_MAX);

    /* Delete: the deleted policy comes back, then it is unknown. */
    rg_policy_rec out;
    audit_of(&audit, "policy.delete");
    assert_int_equal(
        rg_store_policy_delete(fx->srv.store, first, &out, &audit, &err), 0);
    assert_string_equal(out.name, "pinned");
    assert_string_equal(out.mode, "pin");
    assert_int_equal(out.release_id, fx->rel[1]);
    assert_string_equal(out.channel, "detections");
    assert_int_equal(
        rg_store_policy_delete(fx->srv.store, first, &out, &audit, &err),
        RG_ENOTFOUND);
    assert_int_equal(count_policies(fx), RG_POLICIES_MAX - 1);
    int audited = 0;
    assert_int_equal(
        rg_store_audit_list(fx->srv.store, NULL, count_audit, &audited, &err),
        0);
    assert_int_equal(audited, 2); /* one create, one delete */
}

static void enroll(fixture *fx, const char *id, const char *attrs)
{
    rg_err err;
    rg_err_clear(&err);
    rg_endpoint_rec *e = calloc(1, sizeof *e);
    assert_non_null(e);
    snprintf(e->id, sizeof e->id, "%s", id);
    rg_sha256_hex(id, strlen(id), e->token_hash);
    snprintf(e->attrs_json, sizeof e->attrs_json, "%s", attrs);
    snprintf(e->installed_json, sizeof e->installed_json, "{}");
    assert_int_equal(rg_store_endpoint_enroll(fx->srv.store, e, NULL, &err), 0);
    assert_int_equal(rg_fleet_put(fx->srv.fleet, e, &err), 0);
    free(e);
}

/* The desired release of endpoint id on channel (0: none). */
static int64_t desired_of(fixture *fx, const char *id, const char *channel)
{
    rg_err err;
    rg_err_clear(&err);
    rg_fleet_checkin_out who = {0};
    json_t *d = json_object(), *n = json_array();
    assert_int_equal(rg_desired_for_checkin(fx->srv.desired, fx->srv.fleet, id,
                                            &who, fx->now, d, n, &err),
                     0);
    json_t *e = json_object_get(d, channel);
    int64_t rel = e ? json_integer_value(json_object_get(e, "release")) : 0;
    json_decref(d);
    json_decref(n);
    return rel;
}

static void checkin_applies_policies(void **state)
{
    fixture *fx = *state;
    rg_err err;
    rg_err_clear(&err);
    /* v2 is current on detections (a completed rollout). */
    rg_rollout_rec *r = calloc(1, sizeof *r);
    assert_non_null(r);
    r->release_id = fx->rel[2];
    assert_int_equal(rg_plan_builtin("emergency", &r->plan, &err), 0);
    snprintf(r->salt, sizeof r->salt, "s");
    r->status = (rg_rollout_status){.state = RG_RO_RUNNING};
    assert_int_equal(rg_store_rollout_create(fx->srv.store, r, NULL, &err), 0);
    rg_rollout_status done = {.state = RG_RO_COMPLETED, .share_ppm = 1000000};
    rg_transition tr = {.from_state = RG_RO_RUNNING,
                        .to_state = RG_RO_COMPLETED};
    assert_int_equal(rg_store_rollout_transition(fx->srv.store, r->id,
                                                 &r->status, &done, &tr, "ci",
                                                 NULL, NULL, &err),
                     0);
    free(r);
    assert_int_equal(rg_fleet_open(&fx->srv, &fx->srv.fleet, &err), 0);
    assert_int_equal(rg_desired_open(&fx->srv, &fx->srv.desired, &err), 0);
    const char *win = "{\"os\":\"windows\",\"os_version\":\"10\","
                      "\"arch\":\"x86_64\",\"tags\":[\"pos\"]}";
    const char *lin = "{\"os\":\"linux\",\"os_version\":\"6\","
                      "\"arch\":\"x86_64\",\"tags\":[\"pos\"]}";
    enroll(fx, "win-1", win);
    enroll(fx, "lin-1", lin);
    assert_int_equal(desired_of(fx, "win-1", "detections"), fx->rel[2]);
    uint8_t *held = NULL;
    uint32_t n = 0;
    assert_int_equal(
        rg_desired_held(fx->srv.desired, fx->srv.fleet, 1, &held, &n, &err), 0);
    assert_null(held);
    assert_int_equal(n, 0);

    /* An n-1 policy on the tag and a pin on windows: the pin wins for
     * win-1 although it is newer; lin-1 is n-1 (the current release). The
     * other channel is not affected. */
    rg_policy_rec *p =
        policy("behind", "detections", "{\"tag\":\"pos\"}", "n-1", 0);
    assert_int_equal(rg_store_policy_create(fx->srv.store, p, NULL, &err), 0);
    free(p);
    p = policy("win", "detections", "{\"attribute\":{\"os\":\"windows\"}}",
               "pin", fx->rel[1]);
    assert_int_equal(rg_store_policy_create(fx->srv.store, p, NULL, &err), 0);
    int64_t pin_id = p->id;
    free(p);
    assert_int_equal(desired_of(fx, "win-1", "detections"), fx->rel[2]);
    assert_int_equal(rg_server_state_changed(&fx->srv, &err), 0);
    assert_int_equal(desired_of(fx, "win-1", "detections"), fx->rel[1]);
    assert_int_equal(desired_of(fx, "lin-1", "detections"), fx->rel[2]);
    assert_int_equal(desired_of(fx, "win-1", "flags"), 0);
    assert_int_equal(
        rg_desired_held(fx->srv.desired, fx->srv.fleet, 1, &held, &n, &err), 0);
    assert_int_equal(n, 2); /* both profiles are held on detections */
    assert_true(held[0] && held[1]);
    free(held);
    assert_int_equal(
        rg_desired_held(fx->srv.desired, fx->srv.fleet, 2, &held, &n, &err), 0);
    assert_null(held); /* nothing on flags */

    /* A new endpoint with a new attribute set is matched on first sight. */
    enroll(fx, "win-2",
           "{\"os\":\"windows\",\"os_version\":\"11\","
           "\"arch\":\"arm64\"}");
    assert_int_equal(desired_of(fx, "win-2", "detections"), fx->rel[1]);

    /* Deleting the pin: windows endpoints follow the channel again. */
    assert_int_equal(
        rg_store_policy_delete(fx->srv.store, pin_id, NULL, NULL, &err), 0);
    assert_int_equal(rg_server_state_changed(&fx->srv, &err), 0);
    assert_int_equal(desired_of(fx, "win-2", "detections"), fx->rel[2]);
    assert_int_equal(desired_of(fx, "win-1", "detections"), fx->rel[2]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(selectors_parse_with_named_fields),
        cmocka_unit_test(selectors_match_attributes_and_tags),
        cmocka_unit_test(held_endpoints_get_their_policy),
        cmocka_unit_test_setup_teardown(store_checks_and_audits, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(checkin_applies_policies, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
