/* Unit tests for src/agent/apply.c (offline: the content is already
 * staged): no switch before `applying` is acknowledged, trial then probe
 * verdict, quarantined digests refused (until the server lifts them),
 * validate hook veto, the move back to the previous release, and the daemon's
 * jitter and backoff; with a pinned root: refusals before anything is exposed
 * (one `failed` event per release and reason, rejected.json), signed releases
 * applied, the move back (signed, to the version recorded in the slot, under a
 * trial) as the one exception to anti-rollback, no server lift of a quarantine.
 * ctest-labels: agent security */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agent/apply.h"
#include "agent/daemon.h"
#include "agent/quarantine.h"
#include "agent/trial.h"
#include "agent/trust.h"
#include "common/crypto.h"
#include "trust/canon.h"
#include "trust/relmeta.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct fixture {
    char root[64];
    rg_agent_config conf;
    rg_slots slots;
    rg_outbox outbox;
    rg_apply_env env;
} fixture;

static int setup(void **state)
{
    rg_crypto_init();
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->root, sizeof f->root, "/tmp/rg-apply-XXXXXX");
    if (!mkdtemp(f->root))
        return -1;
    char text[512];
    snprintf(text, sizeof text,
             "server = http://127.0.0.1:1\nstate_dir = %s\ntimeout = 5\n"
             "[channel detections]\nprobe = grep -q good \"$RG_CONTENT\"\n"
             "validate = ! grep -q invalid \"$RG_CONTENT\"\n",
             f->root);
    assert_int_equal(rg_agent_config_parse(text, &f->conf, NULL), 0);
    assert_int_equal(rg_slots_open(&f->slots, f->root, "detections", NULL), 0);
    assert_int_equal(rg_outbox_open(&f->outbox, f->root, NULL), 0);
    f->env = (rg_apply_env){&f->conf, &f->outbox, NULL, NULL, 1000, NULL};
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->root);
    int rc = system(cmd);
    rg_agent_config_release(&f->conf);
    free(f);
    return rc == 0 ? 0 : -1;
}

/* Stages text as release into the inactive slot (as a download would). */
static rg_desired stage(fixture *f, const char *text, int64_t release)
{
    rg_desired d;
    char p[RG_PATH_MAX];
    memset(&d, 0, sizeof d);
    d.want.release = release;
    d.want.version = release;
    d.want.size = (int64_t)strlen(text);
    rg_sha256_hex(text, strlen(text), d.want.sha256);
    snprintf(p, sizeof p, "%s/dl", f->root);
    FILE *fp = fopen(p, "w");
    fputs(text, fp);
    fclose(fp);
    rg_slot_id ina = rg_slots_other(rg_slots_active(&f->slots));
    assert_int_equal(rg_slots_install(&f->slots, ina, p, &d.want, NULL), 0);
    return d;
}

static void ack_all(fixture *f)
{
    json_t *arr = rg_outbox_pending(&f->outbox, 256, NULL), *e;
    size_t i;
    json_array_foreach(arr, i, e) assert_int_equal(
        rg_outbox_ack(&f->outbox, json_string_value(json_object_get(e, "id")),
                      NULL),
        0);
    json_decref(arr);
}

static const char *last_type(fixture *f)
{
    static char type[32];
    json_t *arr = rg_outbox_pending(&f->outbox, 256, NULL);
    json_t *last = json_array_get(arr, json_array_size(arr) - 1);
    snprintf(type, sizeof type, "%s",
             last ? json_string_value(json_object_get(last, "type")) : "");
    json_decref(arr);
    return type;
}

/* Applies d all the way (acknowledging `applying`) and judges the trial. */
static void apply_confirmed(fixture *f, const rg_desired *d)
{
    rg_apply_result r;
    bool ended = false;
    assert_int_equal(rg_apply_step(&f->env, &f->slots, d, &r, NULL), 0);
    assert_int_equal(r, RG_APPLY_WAITING);
    ack_all(f);
    assert_int_equal(rg_apply_step(&f->env, &f->slots, d, &r, NULL), 0);
    assert_int_equal(r, RG_APPLY_SWITCHED);
    assert_int_equal(rg_apply_trial_tick(&f->env, &f->slots, -1, &ended, NULL),
                     0);
    assert_true(ended);
    assert_string_equal(last_type(f), "healthy");
    ack_all(f);
}

static void no_switch_before_the_ack(void **state)
{
    fixture *f = *state;
    rg_apply_result r;
    rg_desired d = stage(f, "good v1", 1);
    for (int i = 0; i < 3; i++) { /* the server stays silent */
        assert_int_equal(rg_apply_step(&f->env, &f->slots, &d, &r, NULL), 0);
        assert_int_equal(r, RG_APPLY_WAITING);
        assert_int_equal(rg_slots_active(&f->slots), 0);
        assert_int_equal(rg_outbox_count(&f->outbox), 1); /* queued once */
        assert_string_equal(last_type(f), "applying");
    }
    ack_all(f);
    assert_int_equal(rg_apply_step(&f->env, &f->slots, &d, &r, NULL), 0);
    assert_int_equal(r, RG_APPLY_SWITCHED);
    assert_int_not_equal(rg_slots_active(&f->slots), 0);
    rg_trial_env te = {f->root, &f->slots, &f->outbox, 3, NULL};
    rg_trial t;
    assert_int_equal(rg_trial_load(&te, &t, NULL), 0);
    assert_int_equal(t.rel.release, 1);
    /* Up to date: nothing more happens. */
    assert_int_equal(rg_apply_step(&f->env, &f->slots, &d, &r, NULL), 0);
    assert_int_equal(r, RG_APPLY_IDLE);
}

static void failing_probe_reverts_and_quarantines(void **state)
{
    fixture *f = *state;
    rg_apply_result r;
    bool ended = false;
    rg_desired d1 = stage(f, "good v1", 1);
    apply_confirmed(f, &d1);
    rg_desired d2 = stage(f, "bad v2", 2);
    assert_int_equal(rg_apply_step(&f->env, &f->slots, &d2, &r, NULL), 0);
    ack_all(f);
    assert_int_equal(rg_apply_step(&f->env, &f->slots, &d2, &r, NULL), 0);
    assert_int_equal(r, RG_APPLY_SWITCHED);
    /* A supervised consumer not yet settled: no verdict. */
    assert_int_equal(rg_apply_trial_tick(&f->env, &f->slots, 0, &ended, NULL),
                     0);
    assert_false(ended);
    assert_int_equal(rg_apply_trial_tick(&f->env, &f->slots, -1, &ended, NULL),
                     0);
    assert_true(ended);
    assert_string_equal(last_type(f), "reverted");
    assert_true(rg_quarantine_has(f->root, d2.want.sha256));
    rg_artifact_want m;
    assert_int_equal(
        rg_slots_verify(&f->slots, rg_slots_active(&f->slots), &m, NULL), 0);
    assert_int_equal(m.release, 1);
    /* Never applied again. */
    assert_int_equal(rg_apply_step(&f->env, &f->slots, &d2, &r, NULL), 0);
    assert_int_equal(r, RG_APPLY_REFUSED);
}

/* A quarantined digest is refused until the server's entry says its
 * quarantine was lifted; then it leaves quarantine and applies normally. */
static void server_lifts_quarantine(void **state)
{
    fixture *f = *state;
    rg_apply_result r;
    rg_desired d = stage(f, "good v1", 1);
    assert_int_equal(rg_quarantine_add(f->root, d.want.sha256, "detections", 1,
                                       1, "probe failed", 500, NULL),
                     0);
    assert_int_equal(rg_apply_step(&f->env, &f->slots, &d, &r, NULL), 0);
    assert_int_equal(r, RG_APPLY_REFUSED);
    assert_int_equal(rg_slots_active(&f->slots), 0);
    assert_true(rg_quarantine_has(f->root, d.want.sha256));

    /* The flag as a check-in answer carries it. */
    json_t *v =
        json_pack("{s:I,s:I,s:I,s:s,s:b}", "release", (json_int_t)1, "version",
                  (json_int_t)1, "size", (json_int_t)d.want.size, "sha256",
                  d.want.sha256, "lift_quarantine", 1);
    rg_desired lifted;
    assert_int_equal(rg_desired_parse(v, &lifted, NULL), 0);
    assert_true(lifted.lift_quarantine);
    assert_int_equal(
        json_object_set_new(v, "lift_quarantine", json_string("yes")), 0);
    assert_int_equal(rg_desired_parse(v, &d, NULL), RG_EINVAL);
    json_decref(v);

    apply_confirmed(f, &lifted);
    assert_false(rg_quarantine_has(f->root, lifted.want.sha256));
    assert_int_not_equal(rg_slots_active(&f->slots), 0);

    /* Later it fails again and the endpoint is back on another release:
     * the same lift in every later answer is not honoured a second time
     * (no crash loop at the check-in interval). */
    rg_desired d2 = stage(f, "good v2", 2);
    apply_confirmed(f, &d2);
    assert_int_equal(rg_quarantine_add(f->root, lifted.want.sha256,
                                       "detections", 1, 1, "failed again", 900,
                                       NULL),
                     0);
    assert_int_equal(rg_apply_step(&f->env, &f->slots, &lifted, &r, NULL), 0);
    assert_int_equal(r, RG_APPLY_REFUSED);
    assert_true(rg_quarantine_has(f->root, lifted.want.sha256));
}

static void validate_hook_vetoes(void **state)
{
    fixture *f = *state;
    rg_apply_result r;
    rg_desired d = stage(f, "good but invalid", 1);
    assert_int_equal(rg_apply_step(&f->env, &f->slots, &d, &r, NULL), 0);
    assert_int_equal(r, RG_APPLY_REFUSED);
    assert_string_equal(last_type(f), "failed");
    assert_int_equal(rg_slots_active(&f->slots), 0);
    assert_true(rg_quarantine_has(f->root, d.want.sha256));
}

static void moving_back_switches_at_once(void **state)
{
    fixture *f = *state;
    rg_apply_result r;
    rg_desired d1 = stage(f, "good v1", 1);
    apply_confirmed(f, &d1);
    rg_desired d2 = stage(f, "good v2", 2);
    apply_confirmed(f, &d2);
    /* An offer of v1 claiming another version than its slot's is no move
     * back (the version of the slot decides, never the offer's). */
    rg_desired forged = d1;
    forged.want.version = 0;
    assert_int_equal(rg_apply_step(&f->env, &f->slots, &forged, &r, NULL), 0);
    assert_int_equal(r, RG_APPLY_REFUSED);
    rg_artifact_want m;
    assert_int_equal(
        rg_slots_verify(&f->slots, rg_slots_active(&f->slots), &m, NULL), 0);
    assert_int_equal(m.release, 2);
    ack_all(f);
    /* The rollout of v2 is rolled back: desired is v1 again. It is
     * switched to at once, without `applying`, under a trial. */
    assert_int_equal(rg_apply_step(&f->env, &f->slots, &d1, &r, NULL), 0);
    assert_int_equal(r, RG_APPLY_ROLLED_BACK);
    assert_int_equal(
        rg_slots_verify(&f->slots, rg_slots_active(&f->slots), &m, NULL), 0);
    assert_int_equal(m.release, 1);
    assert_int_equal(rg_outbox_count(&f->outbox), 0);
    bool ended = false;
    assert_int_equal(rg_apply_trial_tick(&f->env, &f->slots, -1, &ended, NULL),
                     0);
    assert_true(ended);
    assert_string_equal(last_type(f), "healthy");
    ack_all(f);
    /* During a trial without crashes: left without a verdict. */
    rg_desired d3 = stage(f, "good v3", 3);
    assert_int_equal(rg_apply_step(&f->env, &f->slots, &d3, &r, NULL), 0);
    ack_all(f);
    assert_int_equal(rg_apply_step(&f->env, &f->slots, &d3, &r, NULL), 0);
    assert_int_equal(r, RG_APPLY_SWITCHED);
    assert_int_equal(rg_apply_step(&f->env, &f->slots, &d1, &r, NULL), 0);
    assert_int_equal(r, RG_APPLY_ROLLED_BACK);
    assert_int_equal(
        rg_slots_verify(&f->slots, rg_slots_active(&f->slots), &m, NULL), 0);
    assert_int_equal(m.release, 1);
    assert_false(rg_quarantine_has(f->root, d3.want.sha256));
}

static void offline_download_waits(void **state)
{
    fixture *f = *state;
    rg_apply_result r;
    rg_desired d;
    memset(&d, 0, sizeof d);
    d.want.release = 9;
    d.want.size = 3;
    rg_sha256_hex("abc", 3, d.want.sha256);
    rg_err err;
    assert_int_equal(rg_apply_step(&f->env, &f->slots, &d, &r, &err),
                     RG_EUNAVAIL);
    assert_int_equal(rg_slots_active(&f->slots), 0);
    assert_int_equal(rg_outbox_count(&f->outbox), 0);
}

static void jitter_and_backoff(void **state)
{
    (void)state;
    rg_crypto_init();
    int64_t lo = INT64_MAX, hi = 0;
    for (int i = 0; i < 2000; i++) {
        int64_t j = rg_jitter(10000);
        assert_true(j >= 8000 && j <= 12000);
        lo = j < lo ? j : lo;
        hi = j > hi ? j : hi;
    }
    assert_true(lo < 8400 && hi > 11600); /* spread over the whole range */
    assert_int_equal(rg_backoff(1, 300000), 1000);
    assert_int_equal(rg_backoff(2, 300000), 2000);
    assert_int_equal(rg_backoff(5, 300000), 16000);
    assert_int_equal(rg_backoff(30, 300000), 300000);
    assert_int_equal(rg_backoff(1000, 5000), 5000);
}

/* Puts d's metadata, signed by k and expiring at expires_ms, into d. */
static void sign_desired(rg_desired *d, const rg_key *k, int64_t expires_ms)
{
    rg_relmeta m;
    rg_buf b;
    memset(&m, 0, sizeof m);
    snprintf(m.channel, sizeof m.channel, "detections");
    m.version = d->want.version;
    snprintf(m.sha256, sizeof m.sha256, "%s", d->want.sha256);
    m.size = d->want.size;
    m.expires_ms = expires_ms;
    rg_sha256_hex("", 0, m.notes_sha256);
    json_t *doc = rg_relmeta_build(&m, NULL);
    assert_non_null(doc);
    assert_int_equal(rg_signed_add(doc, k, NULL), 0);
    rg_buf_init(&b, RG_DESIRED_METADATA_MAX);
    assert_int_equal(rg_canon_json(doc, &b, NULL), 0);
    snprintf(d->metadata, sizeof d->metadata, "%s", b.data);
    rg_buf_release(&b);
    json_decref(doc);
}

static const char *rejected_reason(fixture *f)
{
    static char reason[64];
    char p[RG_PATH_MAX];
    snprintf(p, sizeof p, "%s/rejected.json", f->slots.dir);
    json_t *v = json_load_file(p, 0, NULL);
    snprintf(reason, sizeof reason, "%s",
             v ? json_string_value(json_object_get(v, "reason")) : "");
    json_decref(v);
    return reason;
}

static void pinned_root_judges_before_exposing(void **state)
{
    fixture *f = *state;
    rg_apply_result r;
    rg_key k;
    rg_root root;
    f->env.now_ms = 1767225600000LL; /* 2026-01-01: expiry times are dates */
    assert_int_equal(rg_key_generate(&k, NULL), 0);
    json_t *doc = rg_root_build(&k, 1, 1, 1, f->env.now_ms + 86400000, NULL);
    assert_int_equal(rg_signed_add(doc, &k, NULL), 0);
    assert_int_equal(rg_root_verify_self(doc, &root, NULL, NULL), 0);
    json_decref(doc);
    f->env.root = &root;

    /* Unsigned, although staged: refused, reported once, nothing exposed. */
    rg_desired d1 = stage(f, "good v1", 1);
    assert_int_equal(rg_apply_step(&f->env, &f->slots, &d1, &r, NULL), 0);
    assert_int_equal(r, RG_APPLY_REFUSED);
    assert_string_equal(rejected_reason(f), "unsigned");
    assert_string_equal(last_type(f), "failed");
    assert_int_equal(rg_outbox_count(&f->outbox), 1);
    assert_int_equal(rg_apply_step(&f->env, &f->slots, &d1, &r, NULL), 0);
    assert_int_equal(r, RG_APPLY_REFUSED);
    assert_int_equal(rg_outbox_count(&f->outbox), 1); /* not reported again */
    assert_false(rg_quarantine_has(f->root, d1.want.sha256));
    assert_int_equal(rg_slots_active(&f->slots), 0);
    ack_all(f);

    /* Signed: applied; the refusal is cleared, version 1 is the highest. */
    sign_desired(&d1, &k, f->env.now_ms + 60000);
    apply_confirmed(f, &d1);
    assert_string_equal(rejected_reason(f), "");
    assert_int_equal(rg_agent_trust_highest(f->root, "detections"), 1);

    /* Expired metadata (beyond the clock-skew allowance) is refused. */
    rg_desired d2 = stage(f, "good v2", 2);
    sign_desired(&d2, &k, f->env.now_ms - f->conf.clock_skew_ms - 1000);
    assert_int_equal(rg_apply_step(&f->env, &f->slots, &d2, &r, NULL), 0);
    assert_int_equal(r, RG_APPLY_REFUSED);
    assert_string_equal(rejected_reason(f), "expired");
    ack_all(f);
    sign_desired(&d2, &k, f->env.now_ms + 60000);
    apply_confirmed(f, &d2);
    assert_int_equal(rg_agent_trust_highest(f->root, "detections"), 2);

    /* The move back to the release in the other slot needs its signed
     * metadata too (exempt from anti-rollback for that version alone):
     * without it the server cannot flip the slots. */
    rg_desired unsigned_back = d1;
    unsigned_back.metadata[0] = '\0';
    assert_int_equal(
        rg_apply_step(&f->env, &f->slots, &unsigned_back, &r, NULL), 0);
    assert_int_equal(r, RG_APPLY_REFUSED);
    assert_string_equal(rejected_reason(f), "unsigned");
    rg_artifact_want m;
    assert_int_equal(
        rg_slots_meta(&f->slots, rg_slots_active(&f->slots), &m, NULL), 0);
    assert_int_equal(m.release, 2);
    ack_all(f);
    assert_int_equal(rg_apply_step(&f->env, &f->slots, &d1, &r, NULL), 0);
    assert_int_equal(r, RG_APPLY_ROLLED_BACK);
    assert_int_equal(rg_agent_trust_highest(f->root, "detections"), 2);
    bool ended = false;
    assert_int_equal(rg_apply_trial_tick(&f->env, &f->slots, -1, &ended, NULL),
                     0);
    assert_true(ended);
    assert_string_equal(last_type(f), "healthy");
    ack_all(f);
    /* v2 fails later and is quarantined: the server cannot lift that
     * under a root, even offering it as an older version. */
    assert_int_equal(rg_quarantine_add(f->root, d2.want.sha256, "detections", 2,
                                       2, "3 failed starts", f->env.now_ms,
                                       NULL),
                     0);
    rg_desired lift = d2;
    lift.want.version = 0;
    lift.lift_quarantine = true;
    assert_int_equal(rg_apply_step(&f->env, &f->slots, &lift, &r, NULL), 0);
    assert_int_equal(r, RG_APPLY_REFUSED);
    assert_string_equal(rejected_reason(f), "quarantined");
    assert_true(rg_quarantine_has(f->root, d2.want.sha256));
    assert_int_equal(
        rg_slots_meta(&f->slots, rg_slots_active(&f->slots), &m, NULL), 0);
    assert_int_equal(m.release, 1);
    ack_all(f);
    /* Any other older version is a rollback, however well signed. */
    rg_desired d0 = stage(f, "older", 1);
    d0.want.release = 3;
    sign_desired(&d0, &k, f->env.now_ms + 60000);
    assert_int_equal(rg_apply_step(&f->env, &f->slots, &d0, &r, NULL), 0);
    assert_int_equal(r, RG_APPLY_REFUSED);
    assert_string_equal(rejected_reason(f), "rollback");
    f->env.root = NULL;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(no_switch_before_the_ack, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(failing_probe_reverts_and_quarantines,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(server_lifts_quarantine, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(validate_hook_vetoes, setup, teardown),
        cmocka_unit_test_setup_teardown(moving_back_switches_at_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(offline_download_waits, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(pinned_root_judges_before_exposing,
                                        setup, teardown),
        cmocka_unit_test(jitter_and_backoff),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
