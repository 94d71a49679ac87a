/* cmd_audit.c - `rollgate audit`: GET /v1/audit, who did what, when, why. */
#include "cli/cmd.h"
#include "cli/fmt.h"
#include "cli/view.h"

/* Adds --name (a time) to path as the query key. */
static int add_time(rg_cli *cli, const rg_cli_args *a, const char *name,
                    const char *key, rg_buf *path)
{
    const char *v = rg_cli_args_get(a, name);
    if (!v)
        return 0;
    int64_t ms;
    rg_err perr;
    if (rg_cli_parse_time(v, cli->now_ms, &ms, &perr))
        return rg__cli_usage(cli, "--%s: %s", name, perr.msg);
    char num[32];
    snprintf(num, sizeof num, "%lld", (long long)ms);
    if (rg_cli_query_add(path, key, num))
        return rg__cli_usage(cli, "query is too long");
    return 0;
}

static int add_text(rg_cli *cli, const rg_cli_args *a, const char *name,
                    rg_buf *path)
{
    const char *v = rg_cli_args_get(a, name);
    if (v && rg_cli_query_add(path, name, v))
        return rg__cli_usage(cli, "--%s is too long", name);
    return 0;
}

static int audit(rg_cli *cli, const rg_cli_args *a)
{
    json_t *res = NULL;
    rg_buf path;
    rg_buf_init(&path, 8192);
    int rc = 0;
    if (rg_buf_adds(&path, "/v1/audit"))
        rc = rg_err_set(&cli->err, RG_ENOMEM, "out of memory");
    if (!rc)
        rc = add_text(cli, a, "actor", &path);
    if (!rc)
        rc = add_text(cli, a, "target", &path);
    if (!rc)
        rc = add_text(cli, a, "action", &path);
    if (!rc)
        rc = add_time(cli, a, "since", "since_ms", &path);
    if (!rc)
        rc = add_time(cli, a, "until", "until_ms", &path);
    int64_t limit = 1000; /* the newest 1000 unless told */
    if (!rc && rg_cli_args_has(a, "limit"))
        rc = rg__cli_opt_int(cli, a, "limit", 1, 1000000, &limit, NULL);
    if (!rc)
        rc = rg__cli_list(cli, path.data, "audit", limit, &res);
    if (rc)
        goto cleanup;
    if (cli->json) {
        rc = rg__cli_print_json(cli, res);
        goto cleanup;
    }
    static const char *const headers[] = {
        "AT", "ACTOR", "ROLE", "ACTION", "TARGET", "SOURCE", "REASON", NULL};
    rg_cli_table t;
    rg_cli_table_init(&t, headers);
    rg_cli_table_max_width(&t, 4, 32);
    rg_cli_table_max_width(&t, 6, RG_CLI_REASON_WIDTH);
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(res, "audit"), i, e)
    {
        char at[RG_CLI_FMT_MAX];
        rg_cli_fmt_iso(at, sizeof at, rg_cli_jint(e, "at_ms"));
        rg_cli_table_cell(&t, at);
        rg_cli_table_cell(&t, rg_cli_jstr(e, "actor", "-"));
        rg_cli_table_cell(&t, rg_cli_jstr(e, "role", "-"));
        rg_cli_table_cell(&t, rg_cli_jstr(e, "action", "-"));
        rg_cli_table_cell(&t, rg_cli_jstr(e, "target", "-"));
        rg_cli_table_cell(&t, rg_cli_jstr(e, "source", "-"));
        rg_cli_table_cell(&t, rg_cli_jstr(e, "reason", ""));
    }
    rc = rg__cli_print_table(cli, &t);
cleanup:
    rg_buf_release(&path);
    json_decref(res);
    return rc;
}

static const char *const audit_opts[] = {
    "actor:", "target:", "action:", "since:", "until:", "limit:", NULL};

const rg_cli_command rg__cli_cmds_audit[] = {
    {"audit", NULL,
     "[--actor A] [--target T] [--action X] [--since TIME] [--until TIME]"
     " [--limit N]",
     "who did what, when and why (newest first)",
     "  --actor A          only calls by token name A\n"
     "  --target T         only this target, e.g. rollout:1 or release:3\n"
     "  --action X         only this action, e.g. auth.failed or "
     "token.revoke\n"
     "  --since TIME       from TIME: ISO 8601 (2026-11-26T03:40:00Z),\n"
     "                     epoch ms, or an age like 1h\n"
     "  --until TIME       up to TIME (same forms)\n"
     "  --limit N          at most N rows (default 1000), fetched page by\n"
     "                     page\n",
     audit_opts, 0, 0, true, audit},
    {0},
};
