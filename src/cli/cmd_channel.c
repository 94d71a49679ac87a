/* cmd_channel.c - `rollgate channel create|list`: POST/GET /v1/channels. */
#include "cli/cmd.h"
#include "cli/fmt.h"
#include "cli/view.h"

static int channel_create(rg_cli *cli, const rg_cli_args *a)
{
    json_t *body = json_pack("{s:s}", "name", a->pos[0]);
    json_t *ch = NULL;
    rg_cli_table t;
    int rc;
    const char *desc = rg_cli_args_get(a, "description");
    if (!body ||
        (desc && json_object_set_new(body, "description", json_string(desc)))) {
        rc = rg_err_set(&cli->err, RG_ENOMEM, "out of memory");
        goto cleanup;
    }
    rc = rg__cli_call(cli, "POST", "/v1/channels", body, &ch);
    if (rc)
        goto cleanup;
    if (cli->json) {
        rc = rg__cli_print_json(cli, ch);
        goto cleanup;
    }
    char when[2 * RG_CLI_FMT_MAX];
    rg__cli_when(cli, rg_cli_jint(ch, "created_ms"), when, sizeof when);
    rg_cli_table_init_kv(&t);
    rg_cli_table_kv(&t, "channel", "%lld", (long long)rg_cli_jint(ch, "id"));
    rg_cli_table_kv(&t, "name", "%s", rg_cli_jstr(ch, "name", "-"));
    rg_cli_table_kv(&t, "description", "%s",
                    rg_cli_jstr(ch, "description", ""));
    rg_cli_table_kv(&t, "created", "%s", when);
    rc = rg__cli_print_table(cli, &t);
cleanup:
    json_decref(body);
    json_decref(ch);
    return rc;
}

static int channel_list(rg_cli *cli, const rg_cli_args *a)
{
    json_t *res = NULL;
    int rc = rg__cli_call(cli, "GET", "/v1/channels", NULL, &res);
    if (rc)
        goto cleanup;
    if (cli->json) {
        rc = rg__cli_print_json(cli, res);
        goto cleanup;
    }
    static const char *const headers[] = {"ID",      "NAME",        "RELEASE",
                                          "CREATED", "DESCRIPTION", NULL};
    rg_cli_table t;
    rg_cli_table_init(&t, headers);
    rg_cli_table_align_right(&t, 0);
    rg_cli_table_align_right(&t, 2);
    rg_cli_table_max_width(&t, 4, 60);
    size_t i;
    json_t *ch;
    json_array_foreach(json_object_get(res, "channels"), i, ch)
    {
        char ago[RG_CLI_FMT_MAX], rel[32];
        rg_cli_fmt_ago(ago, sizeof ago, cli->now_ms,
                       rg_cli_jint(ch, "created_ms"));
        rg_cli_jtext(json_object_get(ch, "current_release"), rel, sizeof rel);
        rg_cli_table_cellf(&t, "%lld", (long long)rg_cli_jint(ch, "id"));
        rg_cli_table_cell(&t, rg_cli_jstr(ch, "name", "-"));
        rg_cli_table_cell(&t, rel);
        rg_cli_table_cell(&t, ago);
        rg_cli_table_cell(&t, rg_cli_jstr(ch, "description", ""));
    }
    rc = rg__cli_print_table(cli, &t);
cleanup:
    json_decref(res);
    return rc;
}

static const char *const create_opts[] = {"description:", NULL};

const rg_cli_command rg__cli_cmds_channel[] = {
    {"channel", "create", "NAME [--description D]",
     "create a channel (a stream of one kind of content)",
     "  NAME               1..64 of [a-z0-9._-]\n"
     "  --description D    what the channel carries\n",
     create_opts, 1, 1, true, channel_create},
    {"channel", "list", "", "list channels and their current release", "", NULL,
     0, 0, true, channel_list},
    {0},
};
