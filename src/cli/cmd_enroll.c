/* cmd_enroll.c - `rollgate enroll-key create`: POST /v1/enrollment-keys,
 * keys that let agents enroll. */
#include "cli/cmd.h"
#include "cli/fmt.h"
#include "cli/view.h"

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
    rc = rg__cli_print_table(cli, &t);
cleanup:
    json_decref(body);
    json_decref(res);
    return rc;
}

static const char *const create_opts[] = {"uses:", "expires-in:", NULL};

const rg_cli_command rg__cli_cmds_enroll[] = {
    {"enroll-key", "create", "[--uses N] [--expires-in 1h]",
     "create a key that lets agents enroll",
     "  --uses N           how many enrollments it allows\n"
     "  --expires-in D     lifetime: 15m, 1h, 7d...\n",
     create_opts, 0, 0, true, enroll_key_create},
    {0},
};
