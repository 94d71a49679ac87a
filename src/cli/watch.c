/* watch.c - `rollgate rollout status ID --watch` (watch.h). */
#include "cli/watch.h"

#include "cli/fmt.h"
#include "cli/view.h"
#include "common/buf.h"
#include "common/clock.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define BAR_WIDTH 20
#define VIEW_MAX (1u << 20) /* one screen or one change, bytes */

static bool ended(const char *state)
{
    return strcmp(state, "completed") == 0 || strcmp(state, "halted") == 0 ||
           strcmp(state, "rolled_back") == 0 || strcmp(state, "aborted") == 0;
}

/* "[#####---------------]" for done of total (total 0: empty). */
static void bar(rg_buf *b, int64_t done, int64_t total)
{
    int fill = total > 0 ? (int)(done * BAR_WIDTH / total) : 0;
    fill = fill < 0 ? 0 : fill > BAR_WIDTH ? BAR_WIDTH : fill;
    rg_buf_printf(b, "[%.*s%.*s]", fill, "####################",
                  BAR_WIDTH - fill, "--------------------");
}

/* The decision in plain words: what the rollout does now and why. */
static void decision_words(rg_buf *b, const json_t *r)
{
    const char *state = rg_cli_jstr(r, "state", "-");
    const json_t *ds = json_object_get(r, "decisions");
    const json_t *last = json_array_get(ds, json_array_size(ds) - 1);
    const json_t *ev = json_object_get(r, "evaluation");
    const char *why = rg_cli_jstr(last, "reason", "-");
    const char *who = rg_cli_jstr(last, "actor", "-");
    bool gate_now = strcmp(state, "running") == 0 && json_is_object(ev);
    if (gate_now) {
        why = rg_cli_jstr(ev, "reason", why);
        who = "health gate";
    }
    static const char *const words[][2] = {
        {"pending", "waiting to start"},
        {"running", "running"},
        {"paused", "paused by an operator"},
        {"held", "held by the gate (resume or promote to go on)"},
        {"halted", "HALTED by the gate"},
        {"completed", "completed"},
        {"rolled_back", "rolled back"},
        {"aborted", "aborted"}};
    const char *w = state;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strcmp(words[i][0], state) == 0)
            w = words[i][1];
    rg_buf_printf(b, "decision: %s: %s (%s)\n", w, why, who);
}

/* One line per wave: a progress bar (passed waves full, the current one
 * exposed of targeted, later ones empty) and its status. */
static void waves(rg_buf *b, const json_t *r)
{
    const json_t *c = json_object_get(r, "counts");
    size_t cur = (size_t)rg_cli_jint(r, "wave"), i;
    bool done = strcmp(rg_cli_jstr(r, "state", ""), "completed") == 0;
    json_t *w;
    json_array_foreach(json_object_get(json_object_get(r, "plan"), "waves"), i,
                       w)
    {
        char share[32];
        if (json_is_true(json_object_get(w, "internal")))
            snprintf(share, sizeof share, "internal");
        else
            snprintf(share, sizeof share, "%g%%", rg_cli_jnum(w, "share"));
        rg_buf_printf(b, "  %s %zu %-10s %8s ", i == cur && !done ? "->" : "  ",
                      i, rg_cli_jstr(w, "name", "-"), share);
        if (done || i < cur) {
            bar(b, 1, 1);
            rg_buf_adds(b, " passed\n");
        } else if (i == cur) {
            bar(b, rg_cli_jint(c, "exposed"), rg_cli_jint(c, "targeted"));
            rg_buf_printf(b,
                          " %lld targeted, %lld exposed (%lld healthy, %lld "
                          "silent, %lld failed, %lld pending, %lld "
                          "unjudged), %s\n",
                          (long long)rg_cli_jint(c, "targeted"),
                          (long long)rg_cli_jint(c, "exposed"),
                          (long long)rg_cli_jint(c, "healthy"),
                          (long long)rg_cli_jint(c, "silent"),
                          (long long)rg_cli_jint(c, "failed"),
                          (long long)rg_cli_jint(c, "pending"),
                          (long long)rg_cli_jint(c, "unjudged"),
                          rg_cli_jstr(r, "state", "-"));
        } else {
            bar(b, 0, 1);
            rg_buf_adds(b, "\n");
        }
    }
}

/* The control cohort's silent windows of stratum name in the newest gate
 * evidence's analysis (list), "-" when it has none. */
static void control_silent(char *out, size_t n, const json_t *list,
                           const char *name)
{
    size_t i;
    json_t *s;
    snprintf(out, n, "-");
    json_array_foreach(list, i,
                       s) if (strcmp(rg_cli_jstr(s, "stratum", ""), name) == 0)
    {
        snprintf(out, n, "%lld of %lld",
                 (long long)rg_cli_jint(s, "control_silent"),
                 (long long)rg_cli_jint(s, "control_windows"));
        return;
    }
}

/* Per stratum, the endpoints by the state the gate judged them in (the
 * rows sum to the summary), and the control cohort's silent windows of
 * the newest gate evidence (the current wave's). */
static void strata(rg_buf *b, const json_t *r)
{
    const json_t *ev = rg__cli_rollout_evidence(r);
    const json_t *control = json_object_get(
        json_object_get(
            json_object_get(json_object_get(ev, "gate"), "evidence"),
            "analysis"),
        "strata");
    const json_t *list = json_object_get(r, "strata");
    if (!json_array_size(list)) {
        rg_buf_adds(b, "  no endpoint in the rollout yet\n");
        return;
    }
    rg_buf_printf(b, "  %-24s %8s %8s %8s %8s %8s %8s  %s\n", "STRATUM",
                  "EXPOSED", "HEALTHY", "SILENT", "FAILED", "PENDING",
                  "UNJUDGED", "CONTROL SILENT");
    size_t i;
    json_t *s;
    json_array_foreach(list, i, s)
    {
        const char *name = rg_cli_jstr(s, "stratum", "-");
        char ctl[64];
        control_silent(ctl, sizeof ctl, control, name);
        rg_buf_printf(b, "  %-24s %8lld %8lld %8lld %8lld %8lld %8lld  %s\n",
                      name, (long long)rg_cli_jint(s, "exposed"),
                      (long long)rg_cli_jint(s, "healthy"),
                      (long long)rg_cli_jint(s, "silent"),
                      (long long)rg_cli_jint(s, "failed"),
                      (long long)rg_cli_jint(s, "pending"),
                      (long long)rg_cli_jint(s, "unjudged"), ctl);
    }
}

/* While running: when the current wave can pass at the earliest and
 * why (the gate judges nothing before the longer of the wave's min bake
 * and its window, docs/health.md), and when its max bake ends the wait.
 * Times, not durations: the line changes only when the wave does. */
static void timing(rg_buf *b, const json_t *r)
{
    if (strcmp(rg_cli_jstr(r, "state", ""), "running") != 0)
        return;
    const json_t *w =
        json_array_get(json_object_get(json_object_get(r, "plan"), "waves"),
                       (size_t)rg_cli_jint(r, "wave"));
    int64_t start = rg_cli_jint(r, "wave_started_ms");
    int64_t min_bake = (int64_t)rg_cli_jnum(w, "min_bake_s");
    int64_t window = (int64_t)rg_cli_jnum(w, "window_s");
    int64_t max_bake = (int64_t)rg_cli_jnum(w, "max_bake_s");
    int64_t need = min_bake > window ? min_bake : window;
    char from[RG_CLI_FMT_MAX], until[RG_CLI_FMT_MAX], mb[RG_CLI_FMT_MAX],
        win[RG_CLI_FMT_MAX], mx[RG_CLI_FMT_MAX];
    rg_cli_fmt_iso(from, sizeof from, start + need * 1000);
    rg_cli_fmt_duration(mb, sizeof mb, min_bake);
    rg_cli_fmt_duration(win, sizeof win, window);
    rg_buf_printf(b,
                  "time: the wave can pass from %s on (the longer of its "
                  "min bake %s and its window %s, over which each canary is "
                  "judged), once every exposed stratum shows canaries "
                  "judged healthy",
                  from, mb, win);
    if (max_bake > 0) {
        rg_cli_fmt_iso(until, sizeof until, start + max_bake * 1000);
        rg_cli_fmt_duration(mx, sizeof mx, max_bake);
        rg_buf_printf(b, "; at %s (max bake %s) the gate passes or holds it",
                      until, mx);
    }
    rg_buf_adds(b, "\n");
}

/* The view of r: the same text on a terminal and in plain lines, so a
 * change is a change in either. */
static int render(rg_buf *b, const json_t *r)
{
    const json_t *plan_waves =
        json_object_get(json_object_get(r, "plan"), "waves");
    rg_buf_printf(
        b, "rollout %lld: %s v%lld, %s, wave %lld %s of %zu\n",
        (long long)rg_cli_jint(r, "id"), rg_cli_jstr(r, "channel", "-"),
        (long long)rg_cli_jint(r, "version"), rg_cli_jstr(r, "state", "-"),
        (long long)rg_cli_jint(r, "wave"), rg_cli_jstr(r, "wave_name", "-"),
        json_array_size(plan_waves));
    waves(b, r);
    strata(b, r);
    decision_words(b, r);
    timing(b, r);
    return b->len ? 0 : -1;
}

/* Shows view: on a terminal the whole screen again; else the view with
 * a timestamp, only when it differs from the last one shown. */
static int show(rg_cli *cli, bool tty, const rg_buf *view, rg_buf *last,
                int64_t interval_s)
{
    char at[64];
    rg_cli_fmt_iso(at, sizeof at, cli->now_ms);
    int w = 0;
    if (tty)
        w = fprintf(cli->out,
                    "\033[H\033[J%s  (%s; every %llds, Ctrl-C stops watching, "
                    "not the rollout)\n",
                    view->data, at, (long long)interval_s);
    else if (last->len != view->len ||
             memcmp(last->data, view->data, view->len))
        w = fprintf(cli->out, "--- %s\n%s", at, view->data);
    if (w < 0 || fflush(cli->out) != 0)
        return rg_err_set(&cli->err, RG_EIO, "cannot write the output");
    rg_buf_reset(last);
    return rg_buf_add(last, view->data, view->len) == 0
               ? 0
               : rg_err_set(&cli->err, RG_ENOMEM, "out of memory");
}

int rg__cli_rollout_watch(rg_cli *cli, int64_t id, int64_t interval_s)
{
    bool tty = isatty(fileno(cli->out));
    rg_buf view, last;
    rg_buf_init(&view, VIEW_MAX);
    rg_buf_init(&last, VIEW_MAX);
    json_t *r = NULL;
    int rc;
    for (;;) {
        json_decref(r);
        r = NULL;
        rg_buf_reset(&view);
        if ((rc = rg__cli_callf(cli, "GET", NULL, &r, "/v1/rollouts/%lld",
                                (long long)id)))
            break;
        cli->now_ms = rg_clock_now(rg_clock_system());
        if (render(&view, r) != 0) {
            rc = rg_err_set(&cli->err, RG_ENOMEM, "out of memory");
            break;
        }
        if ((rc = show(cli, tty, &view, &last, interval_s)))
            break;
        const char *state = rg_cli_jstr(r, "state", "-");
        if (ended(state)) {
            if (strcmp(state, "completed") != 0) {
                cli->refused = true;
                rc = rg_err_set(&cli->err, RG_ECONFLICT, "rollout %lld %s",
                                (long long)id, state);
            }
            break;
        }
        rg__cli_sleep_ms(interval_s * 1000);
    }
    json_decref(r);
    rg_buf_release(&view);
    rg_buf_release(&last);
    return rc;
}
