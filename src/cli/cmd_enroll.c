/* cmd_enroll.c - `rollgate enroll-key create|list|revoke`:
 * /v1/enrollment-keys, keys that let agents enroll (operator). */
#include "cli/cmd.h"
#include "cli/fmt.h"
#include "cli/view.h"

#define FLAG_ENVS_MAX 8 /* --flag-env given at most (the server's limit) */

/* Sets body's "flag_environments" from every --flag-env (none: absent). */
static int flag_envs(rg_cli *cli, const rg_cli_args *a, json_t *body)
{
    const char *envs[FLAG_ENVS_MAX + 1];
    size_t n = rg_cli_args_all(a, "flag-env", envs, FLAG_ENVS_MAX + 1);
    if (n > FLAG_ENVS_MAX)
        return rg__cli_usage(cli, "--flag-env: at most %d", FLAG_ENVS_MAX);
    json_t *list = n ? json_array() : NULL;
    for (size_t i = 0; list && i < n; i++)
        json_array_append_new(list, json_string(envs[i]));
    if (n && (!list || json_object_set_new(body, "flag_environments", list)))
        return rg_err_set(&cli->err, RG_ENOMEM, "out of memory");
    return 0;
}

static int enroll_key_create(rg_cli *cli, const rg_cli_args *a)
{
    int64_t uses = 0, expires_in = 0;
    bool has_uses, has_expiry;
    json_t *body = NULL, *res = NULL;
    int rc;
    if ((rc =
             rg__cli_opt_int(cli, a, "uses", 1, INT32_MAX, &uses, &has_uses)) ||
        (rc = rg__cli_opt_duration(cli, a, "expires-in", &expires_in,
                                   &has_expiry)))
        return rc;
    body = json_object();
    if (!body ||
        (has_uses && json_object_set_new(body, "uses", json_integer(uses))) ||
        (has_expiry &&
         json_object_set_new(body, "expires_in_s", json_integer(expires_in)))) {
        rc = rg_err_set(&cli->err, RG_ENOMEM, "out of memory");
        goto cleanup;
    }
    if ((rc = flag_envs(cli, a, body)) == 0)
        rc = rg__cli_call(cli, "POST", "/v1/enrollment-keys", body, &res);
    if (rc)
        goto cleanup;
    if (cli->json) {
        rc = rg__cli_print_json(cli, res);
        goto cleanup;
    }
    char expires[2 * RG_CLI_FMT_MAX], uses_text[32];
    rg__cli_when(cli, rg_cli_jint(res, "expires_ms"), expires, sizeof expires);
    rg_cli_jtext(json_object_get(res, "uses"), uses_text, sizeof uses_text);
    rg_cli_table t;
    rg_cli_table_init_kv(&t);
    rg_cli_table_kv(&t, "enrollment key", "%lld",
                    (long long)rg_cli_jint(res, "id"));
    rg_cli_table_kv(&t, "key", "%s", rg_cli_jstr(res, "key", "-"));
    rg_cli_table_kv(&t, "uses", "%s", uses_text);
    rg_cli_table_kv(&t, "expires", "%s",
                    rg_cli_jint(res, "expires_ms") > 0 ? expires : "never");
    char envs[256];
    rg_cli_jjoin(res, "flag_environments", ", ", envs, sizeof envs);
    rg_cli_table_kv(&t, "flag environments", "%s", envs);
    rc = rg__cli_print_table(cli, &t);
cleanup:
    json_decref(body);
    json_decref(res);
    return rc;
}

/* One key's state in words: "revoked", "expired", "used up" or "active". */
static const char *key_state(const rg_cli *cli, const json_t *k)
{
    if (rg_cli_jint(k, "revoked_ms") > 0)
        return "revoked";
    int64_t exp = rg_cli_jint(k, "expires_ms");
    if (exp > 0 && exp <= cli->now_ms)
        return "expired";
    const json_t *uses = json_object_get(k, "uses");
    if (json_is_integer(uses) && json_integer_value(uses) == 0)
        return "used up";
    return "active";
}

static const char *const key_headers[] = {
    "ID", "STATE", "USES LEFT", "CREATED", "EXPIRES", "REVOKED", "BY", NULL};

static void key_layout(rg_cli_table *t)
{
    rg_cli_table_align_right(t, 0);
}

static void key_row(rg_cli *cli, rg_cli_table *t, const json_t *k)
{
    char created[RG_CLI_FMT_MAX], expires[RG_CLI_FMT_MAX],
        revoked[RG_CLI_FMT_MAX], uses[32];
    rg_cli_fmt_ago(created, sizeof created, cli->now_ms,
                   rg_cli_jint(k, "created_ms"));
    rg_cli_fmt_ago(expires, sizeof expires, cli->now_ms,
                   rg_cli_jint(k, "expires_ms"));
    rg_cli_fmt_ago(revoked, sizeof revoked, cli->now_ms,
                   rg_cli_jint(k, "revoked_ms"));
    const json_t *u = json_object_get(k, "uses");
    if (json_is_integer(u))
        rg_cli_jtext(u, uses, sizeof uses);
    else
        snprintf(uses, sizeof uses, "unlimited");
    rg_cli_table_cellf(t, "%lld", (long long)rg_cli_jint(k, "id"));
    rg_cli_table_cell(t, key_state(cli, k));
    rg_cli_table_cell(t, uses);
    rg_cli_table_cell(t, created);
    rg_cli_table_cell(t, rg_cli_jint(k, "expires_ms") > 0 ? expires : "never");
    rg_cli_table_cell(t, revoked);
    rg_cli_table_cell(t, rg_cli_jstr(k, "created_by", "-"));
}

static const rg__cli_listing key_listing = {"enrollment_keys", key_headers,
                                            key_layout, key_row};

static int enroll_key_list(rg_cli *cli, const rg_cli_args *a)
{
    (void)a;
    return rg__cli_list_show(cli, "/v1/enrollment-keys", &key_listing);
}

static int enroll_key_revoke(rg_cli *cli, const rg_cli_args *a)
{
    int64_t id;
    json_t *res = NULL;
    int rc = rg__cli_id(cli, "enrollment key", a->pos[0], &id);
    if (!rc)
        rc = rg__cli_callf(cli, "DELETE", NULL, &res,
                           "/v1/enrollment-keys/%lld", (long long)id);
    if (rc)
        goto cleanup;
    if (cli->json) {
        rc = rg__cli_print_json(cli, res);
        goto cleanup;
    }
    char revoked[2 * RG_CLI_FMT_MAX];
    rg__cli_when(cli, rg_cli_jint(res, "revoked_ms"), revoked, sizeof revoked);
    rg_cli_table t;
    rg_cli_table_init_kv(&t);
    rg_cli_table_kv(&t, "enrollment key", "%lld",
                    (long long)rg_cli_jint(res, "id"));
    rg_cli_table_kv(&t, "revoked", "%s", revoked);
    rc = rg__cli_print_table(cli, &t);
cleanup:
    json_decref(res);
    return rc;
}

static const char *const create_opts[] = {
    "uses:", "expires-in:", "flag-env:", NULL};

const rg_cli_command rg__cli_cmds_enroll[] = {
    {"enroll-key", "create", "[--uses N] [--expires-in 1h] [--flag-env E]...",
     "create a key that lets agents enroll",
     "  --uses N           how many enrollments it allows\n"
     "  --expires-in D     lifetime: 15m, 1h, 7d...\n"
     "  --flag-env E       a flag environment its endpoints may read "
     "(repeat;\n"
     "                     default: default only)\n",
     create_opts, 0, 0, true, enroll_key_create},
    {"enroll-key", "list", "",
     "list enrollment keys (state, uses left, expiry; never the keys)", "",
     NULL, 0, 0, true, enroll_key_list},
    {"enroll-key", "revoke", "ID",
     "revoke an enrollment key at once (enrolled agents keep their tokens)", "",
     NULL, 1, 1, true, enroll_key_revoke},
    {0},
};
