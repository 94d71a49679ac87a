/* cmd_token.c - `rollgate token create|list|revoke`: /v1/tokens (admin). */
#include "cli/cmd.h"
#include "cli/fmt.h"
#include "cli/view.h"

/* Prints a token object (the secret when the answer has one). */
static int print_token(rg_cli *cli, const json_t *tok)
{
    if (cli->json)
        return rg__cli_print_json(cli, tok);
    char created[2 * RG_CLI_FMT_MAX], expires[2 * RG_CLI_FMT_MAX],
        revoked[2 * RG_CLI_FMT_MAX];
    rg__cli_when(cli, rg_cli_jint(tok, "created_ms"), created, sizeof created);
    rg__cli_when(cli, rg_cli_jint(tok, "expires_ms"), expires, sizeof expires);
    rg__cli_when(cli, rg_cli_jint(tok, "revoked_ms"), revoked, sizeof revoked);
    rg_cli_table t;
    rg_cli_table_init_kv(&t);
    rg_cli_table_kv(&t, "token id", "%lld", (long long)rg_cli_jint(tok, "id"));
    rg_cli_table_kv(&t, "name", "%s", rg_cli_jstr(tok, "name", "-"));
    rg_cli_table_kv(&t, "role", "%s", rg_cli_jstr(tok, "role", "-"));
    rg_cli_table_kv(&t, "created", "%s", created);
    rg_cli_table_kv(&t, "expires", "%s",
                    rg_cli_jint(tok, "expires_ms") > 0 ? expires : "never");
    if (rg_cli_jint(tok, "revoked_ms") > 0)
        rg_cli_table_kv(&t, "revoked", "%s", revoked);
    const char *secret = rg_cli_jstr(tok, "token", NULL);
    if (secret)
        rg_cli_table_kv(&t, "token", "%s  (shown only now: store it)", secret);
    return rg__cli_print_table(cli, &t);
}

static int token_create(rg_cli *cli, const rg_cli_args *a)
{
    const char *role, *name;
    int64_t expires_in = 0;
    bool has_expiry;
    json_t *body = NULL, *res = NULL;
    int rc;
    if ((rc = rg__cli_need(cli, a, "role", &role)) ||
        (rc = rg__cli_need(cli, a, "name", &name)) ||
        (rc = rg__cli_opt_duration(cli, a, "expires-in", &expires_in,
                                   &has_expiry)))
        return rc;
    body = json_pack("{s:s, s:s}", "role", role, "name", name);
    if (!body ||
        (has_expiry &&
         json_object_set_new(body, "expires_in_s", json_integer(expires_in)))) {
        rc = rg_err_set(&cli->err, RG_ENOMEM, "out of memory");
        goto cleanup;
    }
    rc = rg__cli_call(cli, "POST", "/v1/tokens", body, &res);
    if (!rc)
        rc = print_token(cli, res);
cleanup:
    json_decref(body);
    json_decref(res);
    return rc;
}

static const char *const token_headers[] = {
    "ID", "NAME", "ROLE", "CREATED", "EXPIRES", "REVOKED", NULL};

static void token_layout(rg_cli_table *t)
{
    rg_cli_table_align_right(t, 0);
}

static void token_row(rg_cli *cli, rg_cli_table *t, const json_t *tok)
{
    char created[RG_CLI_FMT_MAX], expires[RG_CLI_FMT_MAX],
        revoked[RG_CLI_FMT_MAX];
    rg_cli_fmt_ago(created, sizeof created, cli->now_ms,
                   rg_cli_jint(tok, "created_ms"));
    rg_cli_fmt_ago(expires, sizeof expires, cli->now_ms,
                   rg_cli_jint(tok, "expires_ms"));
    rg_cli_fmt_ago(revoked, sizeof revoked, cli->now_ms,
                   rg_cli_jint(tok, "revoked_ms"));
    rg_cli_table_cellf(t, "%lld", (long long)rg_cli_jint(tok, "id"));
    rg_cli_table_cell(t, rg_cli_jstr(tok, "name", "-"));
    rg_cli_table_cell(t, rg_cli_jstr(tok, "role", "-"));
    rg_cli_table_cell(t, created);
    rg_cli_table_cell(t,
                      rg_cli_jint(tok, "expires_ms") > 0 ? expires : "never");
    rg_cli_table_cell(t, revoked);
}

static const rg__cli_listing token_listing = {"tokens", token_headers,
                                              token_layout, token_row};

static int token_list(rg_cli *cli, const rg_cli_args *a)
{
    (void)a;
    return rg__cli_list_show(cli, "/v1/tokens", &token_listing);
}

static int token_revoke(rg_cli *cli, const rg_cli_args *a)
{
    int64_t id;
    json_t *res = NULL;
    int rc = rg__cli_id(cli, "token", a->pos[0], &id);
    if (!rc)
        rc = rg__cli_callf(cli, "DELETE", NULL, &res, "/v1/tokens/%lld",
                           (long long)id);
    if (!rc)
        rc = print_token(cli, res);
    json_decref(res);
    return rc;
}

static const char *const create_opts[] = {
    "role:", "name:", "expires-in:", NULL};

const rg_cli_command rg__cli_cmds_token[] = {
    {"token", "create", "--role R --name N [--expires-in 24h]",
     "create an admin API token; its secret is shown once",
     "  --role R           viewer, operator or admin\n"
     "  --name N           who or what uses it (shown in the audit log)\n"
     "  --expires-in D     lifetime: 90m, 24h, 7d... (default: no expiry)\n",
     create_opts, 0, 0, true, token_create},
    {"token", "list", "", "list tokens (without secrets)", "", NULL, 0, 0, true,
     token_list},
    {"token", "revoke", "ID", "revoke a token at once", "", NULL, 1, 1, true,
     token_revoke},
    {0},
};
