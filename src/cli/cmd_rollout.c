/* cmd_rollout.c - `rollgate rollout start|status|list|pause|resume|promote|
 * abort|rollback|explain`: /v1/rollouts, its operator actions and the health
 * gate's decisions with their evidence. */
#include "cli/cmd.h"
#include "cli/fmt.h"
#include "cli/view.h"
#include "cli/watch.h"
#include "common/file.h"
#include "common/json.h"

#include <errno.h>
#include <string.h>

#define PLAN_FILE_MAX (1024 * 1024) /* the server's JSON body cap */
#define WATCH_INTERVAL_S 2          /* status --watch: default poll period */

static bool state_is(const json_t *r, const char *state)
{
    return strcmp(rg_cli_jstr(r, "state", ""), state) == 0;
}

/* The SHARE cell: "internal" for a ring wave, else the percentage. */
static void wave_share(const json_t *w, char *out, size_t n)
{
    if (json_is_true(json_object_get(w, "internal")))
        snprintf(out, n, "internal");
    else
        snprintf(out, n, "%g%%", rg_cli_jnum(w, "share"));
}

static void seconds_text(const json_t *w, const char *key, char *out, size_t n)
{
    int64_t s = rg_cli_jint(w, key);
    if (s <= 0 && strcmp(key, "max_bake_s") == 0)
        snprintf(out, n, "-");
    else
        rg_cli_fmt_duration(out, n, s);
}

/* Status of wave i given the rollout's state and current wave. */
static const char *wave_status(const json_t *r, size_t i)
{
    size_t cur = (size_t)rg_cli_jint(r, "wave");
    if (state_is(r, "completed") || i < cur)
        return "passed";
    if (i > cur)
        return "";
    return rg_cli_jstr(r, "state", "-");
}

static int print_waves(rg_cli *cli, const json_t *r)
{
    static const char *const headers[] = {
        "",         "#",        "WAVE",   "SHARE",  "MIN EP",
        "MIN BAKE", "MAX BAKE", "WINDOW", "STATUS", NULL};
    rg_cli_table t;
    rg_cli_table_init(&t, headers);
    rg_cli_table_align_right(&t, 1);
    rg_cli_table_align_right(&t, 3);
    rg_cli_table_align_right(&t, 4);
    bool finished = state_is(r, "completed") || state_is(r, "aborted") ||
                    state_is(r, "rolled_back");
    size_t cur = (size_t)rg_cli_jint(r, "wave");
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(json_object_get(r, "plan"), "waves"), i,
                       w)
    {
        char share[RG_CLI_FMT_MAX], minb[RG_CLI_FMT_MAX], maxb[RG_CLI_FMT_MAX],
            win[RG_CLI_FMT_MAX];
        wave_share(w, share, sizeof share);
        seconds_text(w, "min_bake_s", minb, sizeof minb);
        seconds_text(w, "max_bake_s", maxb, sizeof maxb);
        seconds_text(w, "window_s", win, sizeof win);
        rg_cli_table_cell(&t, i == cur && !finished ? "->" : "");
        rg_cli_table_cellf(&t, "%zu", i);
        rg_cli_table_cell(&t, rg_cli_jstr(w, "name", "-"));
        rg_cli_table_cell(&t, share);
        rg_cli_table_cellf(&t, "%lld",
                           (long long)rg_cli_jint(w, "min_endpoints"));
        rg_cli_table_cell(&t, minb);
        rg_cli_table_cell(&t, maxb);
        rg_cli_table_cell(&t, win);
        rg_cli_table_cell(&t, wave_status(r, i));
    }
    return rg__cli_print_table(cli, &t);
}

/* The summary: the endpoints by the state the gate judged them in (the
 * sum of the strata below), then the raw reports. */
static int print_counts(rg_cli *cli, const json_t *r)
{
    static const char *const keys[] = {"fleet",   "targeted", "exposed",
                                       "pending", "healthy",  "silent",
                                       "failed",  "unjudged", NULL};
    static const char *const headers[] = {"FLEET",   "TARGETED", "EXPOSED",
                                          "PENDING", "HEALTHY",  "SILENT",
                                          "FAILED",  "UNJUDGED", NULL};
    const json_t *c = json_object_get(r, "counts");
    const json_t *rep = json_object_get(r, "reports");
    rg_cli_table t;
    rg_cli_table_init(&t, headers);
    for (size_t i = 0; keys[i]; i++) {
        rg_cli_table_align_right(&t, i);
        rg_cli_table_cellf(&t, "%lld", (long long)rg_cli_jint(c, keys[i]));
    }
    int rc = rg__cli_print_table(cli, &t);
    if (!rc && rep &&
        fprintf(cli->out,
                "reports: %lld applying, %lld healthy, %lld failed "
                "(endpoints that sent each; the gate judges them)\n",
                (long long)rg_cli_jint(rep, "applying"),
                (long long)rg_cli_jint(rep, "healthy"),
                (long long)rg_cli_jint(rep, "failed")) < 0)
        rc = rg_err_set(&cli->err, RG_EIO, "cannot write the output");
    return rc;
}

/* Per stratum, the same states as the summary (whose rows sum to it). */
static int print_strata(rg_cli *cli, const json_t *r)
{
    static const char *const keys[] = {"assigned", "exposed", "pending",
                                       "healthy",  "silent",  "failed",
                                       "unjudged"};
    static const char *const headers[] = {"STRATUM", "ASSIGNED", "EXPOSED",
                                          "PENDING", "HEALTHY",  "SILENT",
                                          "FAILED",  "UNJUDGED", NULL};
    const json_t *list = json_object_get(r, "strata");
    if (json_array_size(list) == 0)
        return fputs("no endpoint in the rollout yet\n", cli->out) == EOF
                   ? rg_err_set(&cli->err, RG_EIO, "cannot write the output")
                   : 0;
    rg_cli_table t;
    rg_cli_table_init(&t, headers);
    size_t i;
    json_t *s;
    json_array_foreach(list, i, s)
    {
        rg_cli_table_cell(&t, rg_cli_jstr(s, "stratum", "-"));
        for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
            rg_cli_table_align_right(&t, k + 1);
            rg_cli_table_cellf(&t, "%lld", (long long)rg_cli_jint(s, keys[k]));
        }
    }
    return rg__cli_print_table(cli, &t);
}

static int print_decisions(rg_cli *cli, const json_t *r)
{
    static const char *const headers[] = {"AT",    "STATE",  "WAVE",
                                          "ACTOR", "REASON", NULL};
    const json_t *list = json_object_get(r, "decisions");
    if (json_array_size(list) == 0)
        return fputs("no decisions yet\n", cli->out) == EOF
                   ? rg_err_set(&cli->err, RG_EIO, "cannot write the output")
                   : 0;
    rg_cli_table t;
    rg_cli_table_init(&t, headers);
    rg_cli_table_max_width(&t, 4, RG_CLI_REASON_WIDTH);
    size_t i;
    json_t *d;
    json_array_foreach(list, i, d)
    {
        char at[RG_CLI_FMT_MAX];
        rg_cli_fmt_iso(at, sizeof at, rg_cli_jint(d, "at_ms"));
        rg_cli_table_cell(&t, at);
        rg_cli_table_cellf(&t, "%s -> %s", rg_cli_jstr(d, "from", "-"),
                           rg_cli_jstr(d, "to", "-"));
        rg_cli_table_cellf(&t, "%lld -> %lld",
                           (long long)rg_cli_jint(d, "from_wave"),
                           (long long)rg_cli_jint(d, "to_wave"));
        rg_cli_table_cell(&t, rg_cli_jstr(d, "actor", "-"));
        rg_cli_table_cell(&t, rg_cli_jstr(d, "reason", ""));
    }
    return rg__cli_print_table(cli, &t);
}

static int section(rg_cli *cli, const char *title)
{
    if (fprintf(cli->out, "\n%s\n", title) < 0)
        return rg_err_set(&cli->err, RG_EIO, "cannot write the output");
    return 0;
}

/* What the endpoints of a rolled back rollout r do: return to the
 * previous release, or, when the release was the channel's first, keep it
 * (there is nothing to return to: the server offers nothing on the
 * channel and agents keep what they have, docs/rollout.md). */
static void rollback_words(rg_cli_table *t, const json_t *r)
{
    long long rel = (long long)rg_cli_jint(r, "release");
    if (json_integer_value(json_object_get(r, "previous_release")))
        rg_cli_table_kv(t, "endpoints", "return to release %lld",
                        (long long)rg_cli_jint(r, "previous_release"));
    else
        rg_cli_table_kv(t, "endpoints",
                        "keep release %lld: it was channel %s's first, there "
                        "is no earlier release to return to; the server offers "
                        "nothing on the channel until a newer release is "
                        "rolled out (rollgate release revert)",
                        rel, rg_cli_jstr(r, "channel", "-"));
}

/* The effect size the gate holds a release to, in words: min_effect
 * (absent in older records: 0.01), tolerated_excess and the rollout's
 * false-halt bound alpha. */
static void gate_words(double min_effect, double tolerated, double alpha,
                       char *buf, size_t n)
{
    snprintf(buf, n,
             "halts when exposed endpoints go silent more often than "
             "comparable ones by more than %g %% (min_effect), or fail "
             "above the harmless share; passes a wave only within %g %% "
             "(tolerated_excess); a harmless release is halted with "
             "chance at most %g over the whole rollout",
             100.0 * min_effect, 100.0 * tolerated, alpha);
}

/* min_effect of a wave or of an analysis' params (default when absent). */
static double min_effect_of(const json_t *o)
{
    const json_t *v = json_object_get(o, "min_effect");
    return json_is_number(v) ? json_number_value(v) : 0.01;
}

/* Prints a rollout: summary, counts, the plan's waves with a marker on the
 * current one, and the decisions. */
static int print_rollout(rg_cli *cli, const json_t *r)
{
    if (cli->json)
        return rg__cli_print_json(cli, r);
    const json_t *plan = json_object_get(r, "plan");
    size_t n_waves = json_array_size(json_object_get(plan, "waves"));
    char created[2 * RG_CLI_FMT_MAX], started[2 * RG_CLI_FMT_MAX],
        updated[2 * RG_CLI_FMT_MAX], prev[32];
    rg__cli_when(cli, rg_cli_jint(r, "created_ms"), created, sizeof created);
    rg__cli_when(cli, rg_cli_jint(r, "wave_started_ms"), started,
                 sizeof started);
    rg__cli_when(cli, rg_cli_jint(r, "updated_ms"), updated, sizeof updated);
    rg_cli_jtext(json_object_get(r, "previous_release"), prev, sizeof prev);
    rg_cli_table t;
    rg_cli_table_init_kv(&t);
    rg_cli_table_kv(&t, "rollout", "%lld", (long long)rg_cli_jint(r, "id"));
    rg_cli_table_kv(&t, "release", "%lld (%s v%lld), previous %s",
                    (long long)rg_cli_jint(r, "release"),
                    rg_cli_jstr(r, "channel", "-"),
                    (long long)rg_cli_jint(r, "version"), prev);
    rg_cli_table_kv(&t, "state", "%s", rg_cli_jstr(r, "state", "-"));
    rg_cli_table_kv(&t, "wave", "%lld %s (of %zu waves), share %.4g%%",
                    (long long)rg_cli_jint(r, "wave"),
                    rg_cli_jstr(r, "wave_name", "-"), n_waves,
                    (double)rg_cli_jint(r, "share_ppm") / 10000.0);
    rg_cli_table_kv(&t, "wave started", "%s", started);
    rg_cli_table_kv(&t, "plan", "%s (on halt: %s)",
                    rg_cli_jstr(plan, "name", "-"),
                    rg_cli_jstr(plan, "on_halt", "revert_stratum"));
    const json_t *wave = json_array_get(json_object_get(plan, "waves"),
                                        (size_t)rg_cli_jint(r, "wave"));
    if (wave) {
        char words[400];
        gate_words(min_effect_of(wave),
                   json_number_value(json_object_get(wave, "tolerated_excess")),
                   json_number_value(json_object_get(wave, "alpha")), words,
                   sizeof words);
        rg_cli_table_kv(&t, "gate", "%s", words);
    }
    rg_cli_table_kv(&t, "created", "%s by %s", created,
                    rg_cli_jstr(r, "created_by", "-"));
    rg_cli_table_kv(&t, "updated", "%s", updated);
    if (strcmp(rg_cli_jstr(r, "state", ""), "rolled_back") == 0)
        rollback_words(&t, r);
    int rc = rg__cli_print_table(cli, &t);
    if (!rc)
        rc = section(cli, "counts");
    if (!rc)
        rc = print_counts(cli, r);
    if (!rc && json_object_get(r, "strata"))
        rc = section(cli, "strata");
    if (!rc && json_object_get(r, "strata"))
        rc = print_strata(cli, r);
    if (!rc)
        rc = section(cli, "waves");
    if (!rc)
        rc = print_waves(cli, r);
    if (!rc)
        rc = section(cli, "decisions");
    if (!rc)
        rc = print_decisions(cli, r);
    return rc;
}

/* cmd.h */
int rg__cli_read_plan(rg_cli *cli, const char *spec, json_t **out)
{
    if (spec[0] != '@') {
        *out = json_string(spec);
        return *out ? 0 : rg_err_set(&cli->err, RG_ENOMEM, "out of memory");
    }
    const char *path = spec + 1;
    rg_buf text;
    rg_err why;
    rg_buf_init(&text, PLAN_FILE_MAX);
    int rc = rg_file_read(path, &text, &why);
    if (rc == RG_ENOTFOUND)
        rc = rg__cli_usage(cli, "--plan: cannot open '%s': %s", path,
                           strerror(ENOENT));
    else if (rc == RG_EIO)
        rc = rg__cli_usage(cli, "--plan: cannot open %s", why.msg);
    else if (rc < 0)
        rc = rg__cli_usage(cli, "--plan: '%s' is over %d bytes", path,
                           PLAN_FILE_MAX);
    if (rc == 0) {
        rg_err perr;
        *out =
            rg_json_parse_object(text.data ? text.data : "", text.len, &perr);
        if (!*out)
            rc = rg__cli_usage(cli, "--plan: '%s': %s", path, perr.msg);
    }
    rg_buf_release(&text);
    return rc;
}

static int rollout_start(rg_cli *cli, const rg_cli_args *a)
{
    int64_t release;
    json_t *plan = NULL, *body = NULL, *res = NULL;
    const char *plan_spec = rg_cli_args_get(a, "plan");
    int rc = rg__cli_opt_int(cli, a, "release", 1, INT64_MAX, &release, NULL);
    if (rc)
        return rc;
    rc = rg__cli_read_plan(cli, plan_spec ? plan_spec : "standard", &plan);
    if (rc)
        goto cleanup;
    body =
        json_pack("{s:I, s:O}", "release", (json_int_t)release, "plan", plan);
    if (!body) {
        rc = rg_err_set(&cli->err, RG_ENOMEM, "out of memory");
        goto cleanup;
    }
    rc = rg__cli_call(cli, "POST", "/v1/rollouts", body, &res);
    if (!rc)
        rc = print_rollout(cli, res);
cleanup:
    json_decref(plan);
    json_decref(body);
    json_decref(res);
    return rc;
}

static const char *const rollout_headers[] = {
    "ID",      "CHANNEL", "VERSION", "RELEASE", "STATE",   "WAVE", "SHARE",
    "EXPOSED", "HEALTHY", "FAILED",  "SILENT",  "UPDATED", NULL};

static void rollout_layout(rg_cli_table *t)
{
    for (size_t c = 0; c < 11; c++)
        if (c != 1 && c != 4 && c != 5)
            rg_cli_table_align_right(t, c);
}

static void rollout_row(rg_cli *cli, rg_cli_table *t, const json_t *r)
{
    const json_t *c = json_object_get(r, "counts");
    char ago[RG_CLI_FMT_MAX];
    rg_cli_fmt_ago(ago, sizeof ago, cli->now_ms, rg_cli_jint(r, "updated_ms"));
    rg_cli_table_cellf(t, "%lld", (long long)rg_cli_jint(r, "id"));
    rg_cli_table_cell(t, rg_cli_jstr(r, "channel", "-"));
    rg_cli_table_cellf(t, "%lld", (long long)rg_cli_jint(r, "version"));
    rg_cli_table_cellf(t, "%lld", (long long)rg_cli_jint(r, "release"));
    rg_cli_table_cell(t, rg_cli_jstr(r, "state", "-"));
    rg_cli_table_cellf(t, "%lld %s", (long long)rg_cli_jint(r, "wave"),
                       rg_cli_jstr(r, "wave_name", ""));
    rg_cli_table_cellf(t, "%.4g%%",
                       (double)rg_cli_jint(r, "share_ppm") / 10000.0);
    /* counts of the gate's latest evaluation; null: not evaluated */
    static const char *const shown[] = {"exposed", "healthy", "failed",
                                        "silent"};
    for (size_t k = 0; k < 4; k++)
        if (json_is_object(c))
            rg_cli_table_cellf(t, "%lld", (long long)rg_cli_jint(c, shown[k]));
        else
            rg_cli_table_cell(t, "-");
    rg_cli_table_cell(t, ago);
}

static const rg__cli_listing rollout_listing = {"rollouts", rollout_headers,
                                                rollout_layout, rollout_row};

/* Lists the rollouts the options of a select (none: every one); the
 * server filters (GET /v1/rollouts?active=&channel=&state=). */
static int rollout_list(rg_cli *cli, const rg_cli_args *a)
{
    static const char *const filters[] = {"active", "channel", "state", NULL};
    return rg__cli_list_filtered(cli, a, "/v1/rollouts", filters,
                                 &rollout_listing);
}

static int rollout_status(rg_cli *cli, const rg_cli_args *a)
{
    bool watch = rg_cli_args_has(a, "watch"), every_given = false;
    int64_t id, every = WATCH_INTERVAL_S;
    int rc = rg__cli_opt_duration(cli, a, "interval", &every, &every_given);
    if (!rc && (every_given || watch) && (a->n_pos == 0 || !watch || every < 1))
        rc = rg__cli_usage(cli, "--watch needs an ID; --interval goes with "
                                "--watch and is at least 1s");
    if (rc || a->n_pos == 0)
        return rc ? rc : rollout_list(cli, a);
    if (!(rc = rg__cli_id(cli, "rollout", a->pos[0], &id)) && watch)
        return rg__cli_rollout_watch(cli, id, every);
    json_t *res = NULL;
    if (!rc)
        rc = rg__cli_callf(cli, "GET", NULL, &res, "/v1/rollouts/%lld",
                           (long long)id);
    if (!rc)
        rc = print_rollout(cli, res);
    json_decref(res);
    return rc;
}

/* pause, resume, promote, abort, rollback: the verb is the action's path. */
static int rollout_action(rg_cli *cli, const rg_cli_args *a, const char *action)
{
    int64_t id;
    const char *reason;
    json_t *body = NULL, *res = NULL;
    int rc = rg__cli_id(cli, "rollout", a->pos[0], &id);
    if (!rc)
        rc = rg__cli_need(cli, a, "reason", &reason);
    if (rc)
        return rc;
    body = json_pack("{s:s}", "reason", reason);
    if (!body)
        return rg_err_set(&cli->err, RG_ENOMEM, "out of memory");
    rc = rg__cli_callf(cli, "POST", body, &res, "/v1/rollouts/%lld/%s",
                       (long long)id, action);
    if (!rc)
        rc = print_rollout(cli, res);
    json_decref(body);
    json_decref(res);
    return rc;
}

static int rollout_pause(rg_cli *cli, const rg_cli_args *a)
{
    return rollout_action(cli, a, "pause");
}

static int rollout_resume(rg_cli *cli, const rg_cli_args *a)
{
    return rollout_action(cli, a, "resume");
}

static int rollout_abort(rg_cli *cli, const rg_cli_args *a)
{
    return rollout_action(cli, a, "abort");
}

static int rollout_rollback(rg_cli *cli, const rg_cli_args *a)
{
    return rollout_action(cli, a, "rollback");
}

static int rollout_promote(rg_cli *cli, const rg_cli_args *a)
{
    return rollout_action(cli, a, "promote");
}

/* Prints one analysis of a gate's evidence (gate.h "analysis" or
 * "pooled"): its statistics against the thresholds and its strata. */
static int explain_analysis(rg_cli *cli, const char *title, const json_t *a)
{
    static const char *const headers[] = {
        "STRATUM",     "EXPOSED",        "HEALTHY",    "FAILED", "SILENT",
        "PENDING",     "CONTROL",        "CTL_SILENT", "RHO",    "SILENCE_LLR",
        "FAILURE_LLR", "EARLIER_FAILED", NULL};
    const json_t *th = json_object_get(a, "thresholds");
    const json_t *llr = json_object_get(a, "llr");
    double halt = json_real_value(json_object_get(th, "halt"));
    double pass = json_real_value(json_object_get(th, "pass"));
    if (fprintf(cli->out,
                "  %s: halt when silence %.2f or failures %.2f >= %.2f; pass "
                "when silence %.2f and failures %.2f >= %.2f\n",
                title, json_real_value(json_object_get(llr, "silence_halt")),
                json_real_value(json_object_get(llr, "failure_halt")), halt,
                json_real_value(json_object_get(llr, "silence_pass")),
                json_real_value(json_object_get(llr, "failure_pass")),
                pass) < 0)
        return rg_err_set(&cli->err, RG_EIO, "cannot write the output");
    rg_cli_table t;
    rg_cli_table_init(&t, headers);
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(a, "strata"), i, e)
    {
        rg_cli_table_cell(&t, rg_cli_jstr(e, "stratum", "-"));
        rg_cli_table_cellf(&t, "%lld", (long long)rg_cli_jint(e, "exposed"));
        rg_cli_table_cellf(&t, "%lld",
                           (long long)rg_cli_jint(e, "exposed_healthy"));
        /* Every failure reported, also those whose window is still open
         * (early_failed): the count the reasons speak of. */
        rg_cli_table_cellf(&t, "%lld",
                           (long long)(rg_cli_jint(e, "exposed_failed") +
                                       rg_cli_jint(e, "early_failed")));
        static const char *const keys[] = {"exposed_silent", "exposed_pending",
                                           "control_windows", "control_silent"};
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
            rg_cli_table_cellf(&t, "%lld", (long long)rg_cli_jint(e, keys[k]));
        rg_cli_table_cellf(&t, "%.3f",
                           json_real_value(json_object_get(e, "rho")));
        rg_cli_table_cellf(&t, "%.2f",
                           json_real_value(json_object_get(e, "silence_llr")));
        rg_cli_table_cellf(&t, "%.2f",
                           json_real_value(json_object_get(e, "failure_llr")));
        rg_cli_table_cellf(&t, "%lld of %lld",
                           (long long)rg_cli_jint(e, "prior_failed"),
                           (long long)rg_cli_jint(e, "prior_trials"));
    }
    return rg__cli_print_table(cli, &t);
}

/* Prints one decision (or evaluation) with the health gate's evidence. */
int rg__cli_explain_one(rg_cli *cli, const json_t *d, const char *what)
{
    char at[RG_CLI_FMT_MAX];
    const json_t *ev = json_object_get(d, "evidence");
    const json_t *gate = json_object_get(ev, "gate");
    const json_t *ge = json_object_get(gate, "evidence");
    rg_cli_fmt_iso(at, sizeof at, rg_cli_jint(d, "at_ms"));
    int w = fprintf(cli->out, "\n%s %s: %s\n", what, at,
                    rg_cli_jstr(d, "reason", ""));
    if (w >= 0 && gate)
        w = fprintf(cli->out, "  verdict %s (rule %s)\n",
                    rg_cli_jstr(gate, "verdict", "-"),
                    rg_cli_jstr(ge, "rule", "-"));
    if (w < 0)
        return rg_err_set(&cli->err, RG_EIO, "cannot write the output");
    const json_t *an = json_object_get(ge, "analysis");
    if (!an)
        return 0;
    const json_t *p = json_object_get(an, "params");
    const json_t *c = json_object_get(ev, "counts");
    const json_t *bake = json_object_get(ge, "bake");
    char words[400];
    gate_words(min_effect_of(p),
               json_real_value(json_object_get(p, "tolerated_excess")),
               json_real_value(json_object_get(p, "alpha")) * 2.0, words,
               sizeof words);
    if (fprintf(cli->out, "  the gate %s\n", words) < 0)
        return rg_err_set(&cli->err, RG_EIO, "cannot write the output");
    if (fprintf(cli->out,
                "  W %llds, alpha %g, beta %g, tolerated excess %g, harmless "
                "failures %g; baked %llds of at least %llds\n"
                "  rollout then: %lld targeted, %lld exposed, %lld reported "
                "healthy, %lld failed, %lld silent of %lld endpoints\n",
                (long long)(rg_cli_jint(p, "window_ms") / 1000),
                json_real_value(json_object_get(p, "alpha")) * 2.0,
                json_real_value(json_object_get(p, "beta")),
                json_real_value(json_object_get(p, "tolerated_excess")),
                json_real_value(json_object_get(p, "baseline_failure")),
                (long long)(rg_cli_jint(bake, "elapsed_ms") / 1000),
                (long long)(rg_cli_jint(bake, "min_bake_ms") / 1000),
                (long long)rg_cli_jint(c, "targeted"),
                (long long)rg_cli_jint(c, "exposed"),
                (long long)rg_cli_jint(c, "healthy"),
                (long long)rg_cli_jint(c, "failed"),
                (long long)rg_cli_jint(c, "silent"),
                (long long)rg_cli_jint(c, "fleet")) < 0)
        return rg_err_set(&cli->err, RG_EIO, "cannot write the output");
    int rc = explain_analysis(cli, "per stratum (alpha/2)", an);
    if (!rc && json_object_get(ge, "pooled"))
        rc = explain_analysis(cli, "pooled (alpha/2)",
                              json_object_get(ge, "pooled"));
    return rc;
}

const json_t *rg__cli_rollout_evidence(const json_t *r)
{
    const json_t *best = NULL;
    int64_t at = -1;
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(r, "decisions"), i, d)
    {
        if (json_object_get(json_object_get(d, "evidence"), "gate") &&
            rg_cli_jint(d, "at_ms") >= at) {
            best = d;
            at = rg_cli_jint(d, "at_ms");
        }
    }
    const json_t *ev = json_object_get(r, "evaluation");
    if (json_is_object(ev) && rg_cli_jint(ev, "at_ms") >= at)
        best = ev;
    return best ? json_object_get(best, "evidence") : NULL;
}

/* "halted", "held", "passed", "pending" for a stratum's verdict. */
static const char *verdict_words(const char *v)
{
    if (strcmp(v, "halt") == 0)
        return "halted";
    if (strcmp(v, "hold") == 0)
        return "held";
    if (strcmp(v, "pass") == 0)
        return "passed";
    return v;
}

/* The name of stratum `name`'s state in ev's "strata_state" (strata.h on
 * the server): "cleared", "held", "halted", or "open". */
static const char *stratum_state(const json_t *ev, const char *name)
{
    static const char *const keys[] = {"cleared", "held", "halted"};
    const json_t *st = json_object_get(ev, "strata_state");
    for (size_t k = 0; k < 3; k++) {
        size_t i;
        json_t *n;
        json_array_foreach(
            json_object_get(st, keys[k]), i,
            n) if (strcmp(json_string_value(n) ? json_string_value(n) : "",
                          name) == 0) return keys[k];
    }
    return "open";
}

/* Plain words first: one line per stratum the gate holds or halts
 * ("windows-10: 3 of 3 ... did; halted"), or that every stratum is
 * clean, then the rollout's counts now (those of `rollout status`), then
 * one line per stratum with its verdict, its state and the reason, never
 * shortened. */
int rg__cli_explain_summary(rg_cli *cli, const json_t *r, const json_t *ev)
{
    const json_t *strata = json_object_get(
        json_object_get(json_object_get(ev, "gate"), "evidence"), "strata");
    int w = 0, flagged = 0;
    size_t i;
    json_t *s;
    json_array_foreach(strata, i, s)
    {
        const char *v = rg_cli_jstr(s, "verdict", "");
        if (w < 0 || (strcmp(v, "halt") != 0 && strcmp(v, "hold") != 0))
            continue;
        flagged++;
        w = fprintf(cli->out, "%s: %s; %s\n", rg_cli_jstr(s, "name", "-"),
                    rg_cli_jstr(s, "reason", ""), verdict_words(v));
    }
    if (w >= 0 && !flagged)
        w = fprintf(cli->out, "%s\n",
                    json_array_size(strata)
                        ? "no stratum is held or halted by the gate"
                        : "no per-stratum verdicts recorded yet");
    const json_t *c = json_object_get(r, "counts");
    if (w >= 0)
        w = fprintf(cli->out,
                    "now: %lld targeted, %lld exposed (%lld pending, %lld "
                    "healthy, %lld silent, %lld failed, %lld unjudged) of "
                    "%lld endpoints\n",
                    (long long)rg_cli_jint(c, "targeted"),
                    (long long)rg_cli_jint(c, "exposed"),
                    (long long)rg_cli_jint(c, "pending"),
                    (long long)rg_cli_jint(c, "healthy"),
                    (long long)rg_cli_jint(c, "silent"),
                    (long long)rg_cli_jint(c, "failed"),
                    (long long)rg_cli_jint(c, "unjudged"),
                    (long long)rg_cli_jint(c, "fleet"));
    if (w < 0)
        return rg_err_set(&cli->err, RG_EIO, "cannot write the output");
    if (!json_array_size(strata))
        return 0;
    static const char *const headers[] = {"STRATUM", "VERDICT", "STATE",
                                          "REASON", NULL};
    rg_cli_table t;
    rg_cli_table_init(&t, headers);
    rg_cli_table_max_width(&t, 3, RG_CLI_REASON_WIDTH);
    json_array_foreach(strata, i, s)
    {
        const char *name = rg_cli_jstr(s, "name", "-");
        rg_cli_table_cell(&t, name);
        rg_cli_table_cell(&t, rg_cli_jstr(s, "verdict", "-"));
        rg_cli_table_cell(&t, stratum_state(ev, name));
        rg_cli_table_cell(&t, rg_cli_jstr(s, "reason", ""));
    }
    int rc = section(cli, "strata (newest verdicts)");
    return rc ? rc : rg__cli_print_table(cli, &t);
}

/* `rollout explain ID [--all]`: plain words first (explain_summary), then
 * the gate's decisions with their evidence: every transition, the
 * evaluations too with --all, and the latest evaluation. */
static int rollout_explain(rg_cli *cli, const rg_cli_args *a)
{
    int64_t id;
    json_t *res = NULL;
    bool all = rg_cli_args_has(a, "all");
    int rc = rg__cli_id(cli, "rollout", a->pos[0], &id);
    if (!rc)
        rc = rg__cli_callf(cli, "GET", NULL, &res, "/v1/rollouts/%lld",
                           (long long)id);
    if (!rc && cli->json) {
        rc = rg__cli_print_json(cli, res);
        goto cleanup;
    }
    if (!rc && fprintf(cli->out, "rollout %lld: %s, wave %lld %s\n",
                       (long long)id, rg_cli_jstr(res, "state", "-"),
                       (long long)rg_cli_jint(res, "wave"),
                       rg_cli_jstr(res, "wave_name", "-")) < 0)
        rc = rg_err_set(&cli->err, RG_EIO, "cannot write the output");
    if (!rc)
        rc = rg__cli_explain_summary(cli, res, rg__cli_rollout_evidence(res));
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(res, "decisions"), i, d)
    {
        if (rc)
            break;
        bool moved =
            strcmp(rg_cli_jstr(d, "from", ""), rg_cli_jstr(d, "to", "")) != 0 ||
            rg_cli_jint(d, "from_wave") != rg_cli_jint(d, "to_wave");
        if (moved || all)
            rc = rg__cli_explain_one(cli, d, moved ? "decision" : "evaluation");
    }
    const json_t *last = json_object_get(res, "evaluation");
    if (!rc && json_is_object(last)) {
        json_t *d2 = json_pack("{s:O, s:O, s:O}", "at_ms",
                               json_object_get(last, "at_ms"), "reason",
                               json_object_get(last, "reason"), "evidence",
                               json_object_get(last, "evidence"));
        rc = d2 ? rg__cli_explain_one(cli, d2, "latest evaluation")
                : rg_err_set(&cli->err, RG_ENOMEM, "out of memory");
        json_decref(d2);
    }
cleanup:
    json_decref(res);
    return rc;
}

static const char *const start_opts[] = {"release:", "plan:", NULL};
static const char *const explain_opts[] = {"all", NULL};
static const char *const list_opts[] = {"active", "channel:", "state:", NULL};
static const char *const status_opts[] = {"watch", "interval:", NULL};
static const char *const action_opts[] = {"reason:", NULL};
#define REASON_HELP                                                            \
    "  --reason \"...\"     why (required; kept in the audit log)\n"

const rg_cli_command rg__cli_cmds_rollout[] = {
    {"rollout", "start", "--release ID [--plan standard|emergency|@plan.json]",
     "start moving a release through a plan's waves",
     "  --release ID       the release to roll out\n"
     "  --plan P           standard (default), emergency, or @FILE with a\n"
     "                     JSON plan {\"waves\": [{\"share\": 1, ...}, ...]}\n",
     start_opts, 0, 0, true, rollout_start},
    {"rollout", "status", "[ID [--watch [--interval D]]]",
     "without ID: list rollouts; with ID: waves, counts, state and decisions",
     "  --watch            follow the rollout until it ends: redrawn in place\n"
     "                     on a terminal, else a block of lines per change;\n"
     "                     exit status 0 completed, 1 halted, rolled back or\n"
     "                     aborted, 3 the server unreachable\n"
     "  --interval D       time between polls (default 2s, at least 1s)\n",
     status_opts, 0, 1, true, rollout_status},
    {"rollout", "list", "[--active] [--channel C] [--state S]",
     "list rollouts, newest first",
     "  --active           only pending, running, paused or held rollouts\n"
     "  --channel C        only rollouts on channel C\n"
     "  --state S          only rollouts in state S (pending, running, held,\n"
     "                     paused, completed, halted, aborted, rolled_back)\n",
     list_opts, 0, 0, true, rollout_list},
    {"rollout", "pause", "ID --reason \"...\"",
     "stop exposing new endpoints; exposed ones keep the release", REASON_HELP,
     action_opts, 1, 1, true, rollout_pause},
    {"rollout", "resume", "ID --reason \"...\"",
     "continue a paused or held rollout (the current wave bakes again)",
     REASON_HELP, action_opts, 1, 1, true, rollout_resume},
    {"rollout", "promote", "ID --reason \"...\"",
     "move a paused or held rollout to its next wave without the gate's "
     "pass (from the last wave: complete it)",
     REASON_HELP, action_opts, 1, 1, true, rollout_promote},
    {"rollout", "abort", "ID --reason \"...\"",
     "end the rollout where it is; nothing more is exposed", REASON_HELP,
     action_opts, 1, 1, true, rollout_abort},
    {"rollout", "rollback", "ID --reason \"...\"",
     "end the rollout and return exposed endpoints to the previous release",
     REASON_HELP, action_opts, 1, 1, true, rollout_rollback},
    {"rollout", "explain", "ID [--all]",
     "the health gate's decisions with their evidence: per stratum counts of "
     "both cohorts, rho, llrs against the thresholds, alpha, beta, W",
     "  --all              every stored evaluation, not only the transitions\n"
     "                     and the latest evaluation\n",
     explain_opts, 1, 1, true, rollout_explain},
    {0},
};
