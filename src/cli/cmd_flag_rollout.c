/* cmd_flag_rollout.c - `rollgate flag rollout start|status|explain|pause|
 * resume|abort NAME`: guarded flag rollouts (/v1/flags/{name}/rollout;
 * docs/flags.md), shown as rollouts are. */
#include "cli/client.h"
#include "cli/cmd.h"
#include "cli/fmt.h"
#include "cli/view.h"
#include "cli/watch.h"

#include <stdio.h>
#include <string.h>

static int print_rollout(rg_cli *cli, const json_t *r)
{
    if (cli->json)
        return rg__cli_print_json(cli, r);
    const json_t *c = json_object_get(r, "counts");
    const json_t *ev = json_object_get(r, "evaluation");
    rg_cli_table t;
    rg_cli_table_init_kv(&t);
    rg_cli_table_kv(&t, "flag rollout", "%lld",
                    (long long)rg_cli_jint(r, "id"));
    rg_cli_table_kv(&t, "flag", "%s in %s", rg_cli_jstr(r, "name", "-"),
                    rg_cli_jstr(r, "environment", "-"));
    rg_cli_table_kv(&t, "state", "%s, wave %lld", rg_cli_jstr(r, "state", "-"),
                    (long long)rg_cli_jint(r, "wave"));
    rg_cli_table_kv(&t, "share", "%lld%% (from %lld%%; on halt: %s)",
                    (long long)rg_cli_jint(r, "share_percent"),
                    (long long)rg_cli_jint(r, "from_percent"),
                    rg_cli_jstr(r, "on_halt", "-"));
    rg_cli_table_kv(&t, "plan", "%s",
                    rg_cli_jstr(json_object_get(r, "plan"), "name", "-"));
    rg_cli_table_kv(&t, "counts",
                    "%lld exposed, %lld healthy, %lld failed, %lld silent of "
                    "%lld endpoints",
                    (long long)rg_cli_jint(c, "exposed"),
                    (long long)rg_cli_jint(c, "healthy"),
                    (long long)rg_cli_jint(c, "failed"),
                    (long long)rg_cli_jint(c, "silent"),
                    (long long)rg_cli_jint(c, "fleet"));
    if (ev)
        rg_cli_table_kv(&t, "gate", "%s: %s", rg_cli_jstr(ev, "verdict", "-"),
                        rg_cli_jstr(ev, "reason", ""));
    rg_cli_table_kv(&t, "started by", "%s: %s",
                    rg_cli_jstr(r, "created_by", "-"),
                    rg_cli_jstr(r, "reason", ""));
    return rg__cli_print_table(cli, &t);
}

static int rollout_explain(rg_cli *cli, const json_t *r)
{
    if (cli->json)
        return rg__cli_print_json(cli, r);
    int rc = 0;
    if (fprintf(cli->out, "flag rollout %lld of %s: %s, wave %lld, %lld%%\n",
                (long long)rg_cli_jint(r, "id"), rg_cli_jstr(r, "name", "-"),
                rg_cli_jstr(r, "state", "-"), (long long)rg_cli_jint(r, "wave"),
                (long long)rg_cli_jint(r, "share_percent")) < 0)
        return rg_err_set(&cli->err, RG_EIO, "cannot write the output");
    rc = rg__cli_explain_summary(cli, r, rg__cli_rollout_evidence(r));
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(r, "decisions"), i, d)
    {
        if (!rc)
            rc = rg__cli_explain_one(cli, d, "decision");
    }
    const json_t *last = json_object_get(r, "evaluation");
    if (!rc && json_is_object(last))
        rc = rg__cli_explain_one(cli, last, "latest evaluation");
    return rc;
}

/* start: POST with {"environment"?, "plan", "on_halt"?, "reason"}. */
static int rollout_start(rg_cli *cli, const rg_cli_args *a, json_t **res)
{
    const char *reason, *env = rg_cli_args_get(a, "env");
    const char *spec = rg_cli_args_get(a, "plan");
    const char *on_halt = rg_cli_args_get(a, "on-halt");
    json_t *plan = NULL, *body = NULL;
    rg_buf path;
    int rc = rg__cli_need(cli, a, "reason", &reason);
    if (!rc && !(rc = rg__cli_flag_path(cli, &path, a->pos[1], "/rollout",
                                        false, a))) {
        if (!(rc = rg__cli_read_plan(cli, spec ? spec : "standard", &plan))) {
            body = json_pack("{s:O,s:s,s:s,s:s}", "plan", plan, "reason",
                             reason, "environment", env ? env : "default",
                             "on_halt", on_halt ? on_halt : "previous");
            rc = body ? rg__cli_call(cli, "POST", path.data, body, res)
                      : rg_err_set(&cli->err, RG_ENOMEM, "out of memory");
        }
        rg_buf_release(&path);
    }
    json_decref(plan);
    json_decref(body);
    return rc;
}

/* pause, resume, abort: POST {"environment"?, "reason"}. */
static int rollout_command(rg_cli *cli, const rg_cli_args *a, const char *verb,
                           json_t **res)
{
    const char *reason, *env = rg_cli_args_get(a, "env");
    char suffix[32];
    rg_buf path;
    snprintf(suffix, sizeof suffix, "/rollout/%s", verb);
    int rc = rg__cli_need(cli, a, "reason", &reason);
    if (!rc &&
        !(rc = rg__cli_flag_path(cli, &path, a->pos[1], suffix, false, a))) {
        json_t *body = json_pack("{s:s,s:s}", "reason", reason, "environment",
                                 env ? env : "default");
        rc = body ? rg__cli_call(cli, "POST", path.data, body, res)
                  : rg_err_set(&cli->err, RG_ENOMEM, "out of memory");
        json_decref(body);
        rg_buf_release(&path);
    }
    return rc;
}

static int flag_rollout(rg_cli *cli, const rg_cli_args *a)
{
    const char *verb = a->pos[0];
    json_t *res = NULL;
    rg_buf path;
    int rc;
    bool explain = strcmp(verb, "explain") == 0;
    if (strcmp(verb, "start") == 0)
        rc = rollout_start(cli, a, &res);
    else if (strcmp(verb, "pause") == 0 || strcmp(verb, "resume") == 0 ||
             strcmp(verb, "abort") == 0)
        rc = rollout_command(cli, a, verb, &res);
    else if (strcmp(verb, "status") == 0 || explain) {
        if (!(rc = rg__cli_flag_path(cli, &path, a->pos[1], "/rollout", true,
                                     a))) {
            rc = rg__cli_call(cli, "GET", path.data, NULL, &res);
            rg_buf_release(&path);
        }
    } else
        rc = rg__cli_usage(cli,
                           "flag rollout: unknown action '%s' (start, status, "
                           "explain, pause, resume, abort)",
                           verb);
    if (!rc)
        rc = explain ? rollout_explain(cli, res) : print_rollout(cli, res);
    json_decref(res);
    return rc;
}

static const char *const opts[] = {
    "env:", "plan:", "on-halt:", "reason:", NULL};

const rg_cli_command rg__cli_cmds_flag_rollout[] = {
    {"flag", "rollout",
     "start|status|explain|pause|resume|abort NAME [--env E] [--plan P] "
     "[--on-halt previous|disable] [--reason R]",
     "raise a flag's share through a plan's waves, judged by the health gate",
     "  start NAME         start a guarded rollout of the flag's "
     "flexibleRollout\n"
     "  status NAME        where it stands; explain NAME: the gate's "
     "evidence\n"
     "  pause|resume|abort NAME   the operator's commands (--reason "
     "required)\n"
     "  --env E            the environment (default: default)\n"
     "  --plan P           standard (default), emergency, or @FILE (a JSON "
     "plan)\n"
     "  --on-halt H        previous (default: the share before the rollout) "
     "or\n"
     "                     disable (the kill switch)\n"
     "  --reason R         why (required for start and the commands; "
     "audited)\n",
     opts, 2, 2, true, flag_rollout},
    {0},
};
