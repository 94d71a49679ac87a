/* cmd_version.c - `rollgate version`: this CLI's version and the server's
 * (GET /healthz, no token needed). */
#include "cli/cmd.h"
#include "cli/view.h"

static int version(rg_cli *cli, const rg_cli_args *a)
{
    json_t *health = NULL, *both = NULL;
    int rc = rg__cli_call(cli, "GET", "/healthz", NULL, &health);
    if (rc)
        goto cleanup;
    if (cli->json) {
        both = json_pack("{s:s, s:O}", "client", RG_VERSION, "server", health);
        rc = both ? rg__cli_print_json(cli, both)
                  : rg_err_set(&cli->err, RG_ENOMEM, "out of memory");
        goto cleanup;
    }
    rg_cli_table t;
    rg_cli_table_init_kv(&t);
    rg_cli_table_kv(&t, "rollgate", "%s", RG_VERSION);
    rg_cli_table_kv(&t, "rollgated", "%s at %s (%s)",
                    rg_cli_jstr(health, "version", "-"), cli->http.url,
                    rg_cli_jstr(health, "status", "-"));
    rc = rg__cli_print_table(cli, &t);
cleanup:
    json_decref(health);
    json_decref(both);
    return rc;
}

const rg_cli_command rg__cli_cmds_version[] = {
    {"version", NULL, "",
     "print this CLI's version and the server's (--version: the CLI's only)",
     "", NULL, 0, 0, false, version},
    {0},
};
