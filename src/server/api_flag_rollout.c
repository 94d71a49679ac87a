/* api_flag_rollout.c - guarded flag rollouts' admin API (docs/flags.md):
 * POST /v1/flags/{name}/rollout starts one, GET shows the newest with its
 * decisions and evidence, POST .../rollout/pause|resume|abort are the
 * operator's commands. The work is flag_rollout.c's. */
#include "api.h"

#include "common/json.h"
#include "server/auth.h"
#include "server/flag_rollout.h"

#include <string.h>

/* Answers out with status when rc is 0, else err; frees body. */
static void answer(rg_resp *resp, json_t *body, int rc, int status, json_t *out,
                   const rg_err *err)
{
    json_decref(body);
    if (rc == 0)
        rg_resp_json(resp, status, out);
    else
        rg_resp_error(resp, err);
}

void rg_api_flag_rollout_start(rg_server *srv, rg_req *req, rg_resp *resp)
{
    static const char *const allowed[] = {"environment", "plan", "on_halt",
                                          "reason", NULL};
    const char *env, *reason, *on_halt = NULL;
    json_t *out = NULL;
    rg_audit_rec audit;
    rg_err err;
    rg_err_clear(&err);
    json_t *body = rg__api_body(req, resp, allowed);
    if (!body)
        return;
    const json_t *plan = json_object_get(body, "plan");
    int rc = rg__api_flag_env(req, body, &env, &err);
    if (!rc)
        rc = rg_json_string(body, "reason", true, RG_REASON_MAX, &reason, &err);
    if (!rc)
        rc = rg_json_string(body, "on_halt", false, 16, &on_halt, &err);
    if (!rc) {
        rg_audit_init(&audit, srv, req, "flag.rollout.start", "", reason);
        snprintf(audit.target, sizeof audit.target, "flag:%.64s/%.88s", env,
                 req->params[0]);
        rc = rg_flag_rollout_start(srv, env, req->params[0],
                                   json_is_null(plan) ? NULL : plan, on_halt,
                                   &audit, &out, &err);
    }
    answer(resp, body, rc, 201, out, &err);
}

void rg_api_flag_rollout_get(rg_server *srv, rg_req *req, rg_resp *resp)
{
    const char *env;
    json_t *out = NULL;
    rg_err err;
    rg_err_clear(&err);
    int rc = rg__api_flag_env(req, NULL, &env, &err);
    if (!rc)
        rc = rg_flag_rollout_get(srv, env, req->params[0], &out, &err);
    answer(resp, NULL, rc, 200, out, &err);
}

/* pause, resume, abort: {"environment"?, "reason"}. */
static void command(rg_server *srv, rg_req *req, rg_resp *resp,
                    rg_rollout_cmd cmd)
{
    static const char *const allowed[] = {"environment", "reason", NULL};
    const char *env, *reason;
    json_t *out = NULL;
    rg_audit_rec audit;
    rg_err err;
    rg_err_clear(&err);
    json_t *body = rg__api_body(req, resp, allowed);
    if (!body)
        return;
    int rc = rg__api_flag_env(req, body, &env, &err);
    if (!rc)
        rc = rg_json_string(body, "reason", true, RG_REASON_MAX, &reason, &err);
    if (!rc) {
        rg_audit_init(&audit, srv, req, "", "", reason);
        rc = rg_flag_rollout_command(srv, env, req->params[0], cmd, &audit,
                                     &out, &err);
    }
    answer(resp, body, rc, 200, out, &err);
}

void rg_api_flag_rollout_pause(rg_server *srv, rg_req *req, rg_resp *resp)
{
    command(srv, req, resp, RG_CMD_PAUSE);
}

void rg_api_flag_rollout_resume(rg_server *srv, rg_req *req, rg_resp *resp)
{
    command(srv, req, resp, RG_CMD_RESUME);
}

void rg_api_flag_rollout_abort(rg_server *srv, rg_req *req, rg_resp *resp)
{
    command(srv, req, resp, RG_CMD_ABORT);
}
