/* cmd_flag.c - `rollgate flag create|update|enable|disable|list|show|eval|
 * token`: feature flags (/v1/flags, /v1/client-tokens; docs/flags.md). */
#include "cli/client.h"
#include "cli/cmd.h"
#include "cli/fmt.h"
#include "cli/view.h"

#include <stdio.h>
#include <string.h>

/* cmd.h */
int rg__cli_flag_path(rg_cli *cli, rg_buf *b, const char *name,
                      const char *suffix, bool query, const rg_cli_args *a)
{
    const char *env = query ? rg_cli_args_get(a, "env") : NULL;
    rg_buf_init(b, 4096);
    int rc = rg_buf_adds(b, "/v1/flags");
    if (!rc && name && !(rc = rg_buf_adds(b, "/")))
        rc = rg_cli_url_escape(b, name);
    if (!rc && suffix)
        rc = rg_buf_adds(b, suffix);
    if (!rc && env && !(rc = rg_buf_adds(b, "?environment=")))
        rc = rg_cli_url_escape(b, env);
    return rc ? rg__cli_usage(cli, "flag name is too long") : 0;
}

static int print_flag(rg_cli *cli, const json_t *f)
{
    if (cli->json)
        return rg__cli_print_json(cli, f);
    const json_t *strategies =
        json_object_get(json_object_get(f, "feature"), "strategies");
    rg_cli_table t;
    rg_cli_table_init_kv(&t);
    rg_cli_table_kv(&t, "flag", "%s", rg_cli_jstr(f, "name", "-"));
    rg_cli_table_kv(&t, "environment", "%s",
                    rg_cli_jstr(f, "environment", "-"));
    rg_cli_table_kv(&t, "version", "%lld",
                    (long long)rg_cli_jint(f, "version"));
    rg_cli_table_kv(&t, "enabled", "%s",
                    json_is_true(json_object_get(f, "enabled")) ? "yes" : "no");
    rg_cli_table_kv(&t, "strategies", "%zu", json_array_size(strategies));
    rg__cli_flag_versions(cli, &t, f, "enabled", "on", "off");
    return rg__cli_print_table(cli, &t);
}

void rg__cli_flag_versions(rg_cli *cli, rg_cli_table *t, const json_t *v,
                           const char *key, const char *yes, const char *no)
{
    char created[2 * RG_CLI_FMT_MAX];
    rg__cli_when(cli, rg_cli_jint(v, "created_ms"), created, sizeof created);
    rg_cli_table_kv(t, "changed", "%s by %s", created,
                    rg_cli_jstr(v, "created_by", "-"));
    rg_cli_table_kv(t, "reason", "%s", rg_cli_jstr(v, "reason", "-"));
    size_t i;
    json_t *h;
    json_array_foreach(json_object_get(v, "history"), i, h)
    {
        char row[32];
        snprintf(row, sizeof row, "version %lld",
                 (long long)rg_cli_jint(h, "version"));
        rg_cli_table_kv(t, row, "%s by %s: %s",
                        json_is_true(json_object_get(h, key)) ? yes : no,
                        rg_cli_jstr(h, "created_by", "-"),
                        rg_cli_jstr(h, "reason", ""));
    }
}

/* The feature: --file FILE, or a flexibleRollout of --rollout P (default
 * 100) percent sticky on the userId. */
static int feature_from(rg_cli *cli, const rg_cli_args *a, const char *name,
                        json_t **out)
{
    const char *file = rg_cli_args_get(a, "file");
    int64_t rollout = 100;
    bool given = false;
    int rc = rg__cli_opt_int(cli, a, "rollout", 0, 100, &rollout, &given);
    if (rc)
        return rc;
    if (file && given)
        return rg__cli_usage(cli, "give either --file or --rollout");
    if (file)
        return rg__cli_read_json_file(cli, file, out);
    char pct[8];
    snprintf(pct, sizeof pct, "%lld", (long long)rollout);
    *out = json_pack("{s:s,s:b,s:[{s:s,s:{s:s,s:s,s:s}}]}", "name", name,
                     "enabled", !rg_cli_args_has(a, "disabled"), "strategies",
                     "name", "flexibleRollout", "parameters", "rollout", pct,
                     "stickiness", "default", "groupId", name);
    return *out ? 0 : rg_err_set(&cli->err, RG_ENOMEM, "out of memory");
}

int rg__cli_flag_change_body(rg_cli *cli, const rg_cli_args *a, json_t **out)
{
    const char *reason, *env = rg_cli_args_get(a, "env");
    int rc = rg__cli_need(cli, a, "reason", &reason);
    if (rc)
        return rc;
    *out = json_pack("{s:s}", "reason", reason);
    if (*out && env &&
        json_object_set_new(*out, "environment", json_string(env))) {
        json_decref(*out);
        *out = NULL;
    }
    return *out ? 0 : rg_err_set(&cli->err, RG_ENOMEM, "out of memory");
}

/* create (POST /v1/flags) and update (PUT /v1/flags/{name}). */
static int send_feature(rg_cli *cli, const rg_cli_args *a, bool create)
{
    json_t *feature = NULL, *body = NULL, *res = NULL;
    rg_buf path;
    int rc = rg__cli_flag_path(cli, &path, create ? NULL : a->pos[0], NULL,
                               false, a);
    if (rc || (rc = rg__cli_flag_change_body(cli, a, &body)) ||
        (rc = feature_from(cli, a, a->pos[0], &feature)))
        goto cleanup;
    if (!json_object_get(feature, "name"))
        json_object_set_new(feature, "name", json_string(a->pos[0]));
    if (json_object_set(body, "feature", feature)) {
        rc = rg_err_set(&cli->err, RG_ENOMEM, "out of memory");
        goto cleanup;
    }
    rc = rg__cli_call(cli, create ? "POST" : "PUT", path.data, body, &res);
    if (!rc)
        rc = print_flag(cli, res);
cleanup:
    rg_buf_release(&path);
    json_decref(feature);
    json_decref(body);
    json_decref(res);
    return rc;
}

static int flag_create(rg_cli *cli, const rg_cli_args *a)
{
    return send_feature(cli, a, true);
}

static int flag_update(rg_cli *cli, const rg_cli_args *a)
{
    return send_feature(cli, a, false);
}

static int switch_flag(rg_cli *cli, const rg_cli_args *a, const char *verb)
{
    json_t *body = NULL, *res = NULL;
    rg_buf path;
    int rc = rg__cli_flag_path(cli, &path, a->pos[0], verb, false, a);
    if (!rc && !(rc = rg__cli_flag_change_body(cli, a, &body)))
        rc = rg__cli_call(cli, "POST", path.data, body, &res);
    if (!rc)
        rc = print_flag(cli, res);
    rg_buf_release(&path);
    json_decref(body);
    json_decref(res);
    return rc;
}

static int flag_enable(rg_cli *cli, const rg_cli_args *a)
{
    return switch_flag(cli, a, "/enable");
}

static int flag_disable(rg_cli *cli, const rg_cli_args *a)
{
    return switch_flag(cli, a, "/disable");
}

static int flag_show(rg_cli *cli, const rg_cli_args *a)
{
    json_t *res = NULL;
    rg_buf path;
    int rc = rg__cli_flag_path(cli, &path, a->pos[0], NULL, true, a);
    if (!rc)
        rc = rg__cli_call(cli, "GET", path.data, NULL, &res);
    if (!rc)
        rc = print_flag(cli, res);
    rg_buf_release(&path);
    json_decref(res);
    return rc;
}

static int flag_list(rg_cli *cli, const rg_cli_args *a)
{
    json_t *res = NULL;
    rg_buf path;
    int rc = rg__cli_flag_path(cli, &path, NULL, NULL, true, a);
    if (!rc)
        rc = rg__cli_call(cli, "GET", path.data, NULL, &res);
    if (rc || cli->json) {
        rc = rc ? rc : rg__cli_print_json(cli, res);
        goto cleanup;
    }
    static const char *const headers[] = {"FLAG", "ENV",     "VERSION",
                                          "ON",   "CHANGED", NULL};
    rg_cli_table t;
    rg_cli_table_init(&t, headers);
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(res, "flags"), i, f)
    {
        char changed[RG_CLI_FMT_MAX];
        rg_cli_fmt_ago(changed, sizeof changed, cli->now_ms,
                       rg_cli_jint(f, "created_ms"));
        rg_cli_table_cell(&t, rg_cli_jstr(f, "name", "-"));
        rg_cli_table_cell(&t, rg_cli_jstr(f, "environment", "-"));
        rg_cli_table_cellf(&t, "%lld", (long long)rg_cli_jint(f, "version"));
        rg_cli_table_cell(
            &t, json_is_true(json_object_get(f, "enabled")) ? "yes" : "no");
        rg_cli_table_cell(&t, changed);
    }
    rc = rg__cli_print_table(cli, &t);
cleanup:
    rg_buf_release(&path);
    json_decref(res);
    return rc;
}

/* The context: --context JSON, and --user-id U on top of it. */
static int eval_context(rg_cli *cli, const rg_cli_args *a, json_t **out)
{
    const char *text = rg_cli_args_get(a, "context");
    const char *user = rg_cli_args_get(a, "user-id");
    *out = text ? json_loads(text, 0, NULL) : json_object();
    if (!json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        return rg__cli_usage(cli, "--context: expected a JSON object");
    }
    if (user)
        json_object_set_new(*out, "userId", json_string(user));
    return 0;
}

static int flag_eval(rg_cli *cli, const rg_cli_args *a)
{
    json_t *ctx = NULL, *body = NULL, *res = NULL;
    const char *env = rg_cli_args_get(a, "env");
    rg_buf path;
    int rc = rg__cli_flag_path(cli, &path, a->pos[0], "/eval", false, a);
    if (rc || (rc = eval_context(cli, a, &ctx)))
        goto cleanup;
    body = json_pack("{s:O,s:s}", "context", ctx, "environment",
                     env ? env : "default");
    rc = body ? rg__cli_call(cli, "POST", path.data, body, &res)
              : rg_err_set(&cli->err, RG_ENOMEM, "out of memory");
    if (rc || cli->json) {
        rc = rc ? rc : rg__cli_print_json(cli, res);
        goto cleanup;
    }
    const json_t *v = json_object_get(res, "variant");
    rg_cli_table t;
    rg_cli_table_init_kv(&t);
    rg_cli_table_kv(&t, "flag", "%s", rg_cli_jstr(res, "name", "-"));
    rg_cli_table_kv(&t, "enabled", "%s",
                    json_is_true(json_object_get(res, "enabled")) ? "yes"
                                                                  : "no");
    rg_cli_table_kv(&t, "variant", "%s", rg_cli_jstr(v, "name", "-"));
    rc = rg__cli_print_table(cli, &t);
cleanup:
    rg_buf_release(&path);
    json_decref(ctx);
    json_decref(body);
    json_decref(res);
    return rc;
}

static int flag_token(rg_cli *cli, const rg_cli_args *a)
{
    const char *env = rg_cli_args_get(a, "env");
    json_t *res = NULL;
    json_t *body = json_pack("{s:s,s:s}", "name", a->pos[0], "environment",
                             env ? env : "default");
    int rc = body ? rg__cli_call(cli, "POST", "/v1/client-tokens", body, &res)
                  : rg_err_set(&cli->err, RG_ENOMEM, "out of memory");
    if (!rc && cli->json)
        rc = rg__cli_print_json(cli, res);
    else if (!rc)
        fprintf(cli->out, "%s\n", rg_cli_jstr(res, "token", ""));
    json_decref(body);
    json_decref(res);
    return rc;
}

static const char *const client_token_headers[] = {
    "ID", "NAME", "ENVIRONMENT", "CREATED", "CREATED BY", "REVOKED", NULL};

static void client_token_layout(rg_cli_table *t)
{
    rg_cli_table_align_right(t, 0);
}

static void client_token_row(rg_cli *cli, rg_cli_table *t, const json_t *tok)
{
    char created[RG_CLI_FMT_MAX], revoked[RG_CLI_FMT_MAX];
    rg_cli_fmt_ago(created, sizeof created, cli->now_ms,
                   rg_cli_jint(tok, "created_ms"));
    rg_cli_fmt_ago(revoked, sizeof revoked, cli->now_ms,
                   rg_cli_jint(tok, "revoked_ms"));
    rg_cli_table_cellf(t, "%lld", (long long)rg_cli_jint(tok, "id"));
    rg_cli_table_cell(t, rg_cli_jstr(tok, "name", "-"));
    rg_cli_table_cell(t, rg_cli_jstr(tok, "environment", "-"));
    rg_cli_table_cell(t, created);
    rg_cli_table_cell(t, rg_cli_jstr(tok, "created_by", "-"));
    rg_cli_table_cell(t, revoked);
}

static const rg__cli_listing client_token_listing = {
    "client_tokens", client_token_headers, client_token_layout,
    client_token_row};

static int flag_tokens(rg_cli *cli, const rg_cli_args *a)
{
    (void)a;
    return rg__cli_list_show(cli, "/v1/client-tokens", &client_token_listing);
}

static int flag_token_revoke(rg_cli *cli, const rg_cli_args *a)
{
    int64_t id;
    json_t *res = NULL;
    int rc = rg__cli_id(cli, "client token", a->pos[0], &id);
    if (!rc)
        rc = rg__cli_callf(cli, "DELETE", NULL, &res, "/v1/client-tokens/%lld",
                           (long long)id);
    if (!rc && cli->json)
        rc = rg__cli_print_json(cli, res);
    else if (!rc)
        fprintf(cli->out, "client token %lld ('%s') revoked\n", (long long)id,
                rg_cli_jstr(res, "name", "-"));
    json_decref(res);
    return rc;
}

static const char *const write_opts[] = {
    "env:", "file:", "rollout:", "reason:", "disabled", NULL};
static const char *const switch_opts[] = {"env:", "reason:", NULL};
static const char *const env_opts[] = {"env:", NULL};
static const char *const eval_opts[] = {"env:", "context:", "user-id:", NULL};

#define ENV_HELP "  --env E            the environment (default: default)\n"
#define WRITE_HELP                                                             \
    ENV_HELP                                                                   \
    "  --file F           the Unleash feature definition (JSON)\n"             \
    "  --rollout P        else: a flexibleRollout of P percent (default "      \
    "100)\n"                                                                   \
    "  --disabled         with --rollout: created switched off\n"              \
    "  --reason R         why (required; audited)\n"

const rg_cli_command rg__cli_cmds_flag[] = {
    {"flag", "create", "NAME (--file F | --rollout P) --reason R [--env E]",
     "create a feature flag", WRITE_HELP, write_opts, 1, 1, true, flag_create},
    {"flag", "update", "NAME (--file F | --rollout P) --reason R [--env E]",
     "write a new version of a flag", WRITE_HELP, write_opts, 1, 1, true,
     flag_update},
    {"flag", "enable", "NAME --reason R [--env E]", "switch a flag on",
     ENV_HELP, switch_opts, 1, 1, true, flag_enable},
    {"flag", "disable", "NAME --reason R [--env E]",
     "kill switch: a flag off everywhere at the next poll", ENV_HELP,
     switch_opts, 1, 1, true, flag_disable},
    {"flag", "list", "[--env E]", "list flags", ENV_HELP, env_opts, 0, 0, true,
     flag_list},
    {"flag", "show", "NAME [--env E]", "a flag, its versions and reasons",
     ENV_HELP, env_opts, 1, 1, true, flag_show},
    {"flag", "eval", "NAME [--context JSON] [--user-id U] [--env E]",
     "how a flag decides for a context",
     ENV_HELP "  --context JSON     the Unleash context (userId, properties, "
              "...)\n"
              "  --user-id U        the context's userId\n",
     eval_opts, 1, 1, true, flag_eval},
    {"flag", "token", "NAME [--env E]",
     "a client token for Unleash SDKs (printed once)", ENV_HELP, env_opts, 1, 1,
     true, flag_token},
    {"flag", "segment", RG__CLI_SEGMENT_SYNOPSIS,
     "flag segments: shared constraints strategies name", RG__CLI_SEGMENT_HELP,
     rg__cli_segment_opts, 1, 2, true, rg__cli_flag_segment},
    {"flag", "tokens", "", "list client tokens (without secrets)", "", NULL, 0,
     0, true, flag_tokens},
    {"flag", "token-revoke", "ID",
     "revoke a client token at once (its SDKs get 401)", "", NULL, 1, 1, true,
     flag_token_revoke},
    {0},
};
