/* cmd_endpoint.c - `rollgate endpoints`, `rollgate endpoint show ID`
 * (GET /v1/endpoints[/{id}]) and `rollgate endpoint reset-identity ID`
 * (POST /v1/endpoints/{id}/reset-identity). */
#include "cli/cmd.h"
#include "cli/fmt.h"
#include "cli/view.h"

#include <string.h>

/* "detections v7 (r3), flags v2 (r9)" from an endpoint's installed map. */
static void installed_text(const json_t *ep, char *out, size_t n)
{
    size_t used = 0;
    const char *channel;
    json_t *v;
    out[0] = '\0';
    json_object_foreach(json_object_get(ep, "installed"), channel, v)
    {
        int w = snprintf(out + used, n - used, "%s%s v%lld (r%lld)",
                         used ? ", " : "", channel,
                         (long long)rg_cli_jint(v, "version"),
                         (long long)rg_cli_jint(v, "release"));
        if (w < 0 || (size_t)w >= n - used)
            break;
        used += (size_t)w;
    }
}

static int endpoints(rg_cli *cli, const rg_cli_args *a)
{
    int64_t limit = 0;
    bool has_limit;
    const char *after = rg_cli_args_get(a, "after");
    json_t *res = NULL;
    rg_buf path;
    rg_buf_init(&path, 4096);
    int rc = rg__cli_opt_int(cli, a, "limit", 1, 1000, &limit, &has_limit);
    if (rc)
        goto cleanup;
    char num[32];
    snprintf(num, sizeof num, "%lld", (long long)limit);
    rc = rg_buf_adds(&path, "/v1/endpoints");
    if (!rc && has_limit)
        rc = rg_cli_query_add(&path, "limit", num);
    if (!rc && after)
        rc = rg_cli_query_add(&path, "after", after);
    if (rc) {
        rc = rg__cli_usage(cli, "--after is too long");
        goto cleanup;
    }
    rc = rg__cli_call(cli, "GET", path.data, NULL, &res);
    if (rc)
        goto cleanup;
    if (cli->json) {
        rc = rg__cli_print_json(cli, res);
        goto cleanup;
    }
    static const char *const headers[] = {"ID",        "STRATUM",   "TAGS",
                                          "LAST SEEN", "INSTALLED", NULL};
    rg_cli_table t;
    rg_cli_table_init(&t, headers);
    rg_cli_table_max_width(&t, 2, 30);
    rg_cli_table_max_width(&t, 4, 60);
    const json_t *list = json_object_get(res, "endpoints");
    size_t i;
    json_t *ep;
    json_array_foreach(list, i, ep)
    {
        char seen[RG_CLI_FMT_MAX], tags[256], inst[512];
        rg_cli_fmt_ago(seen, sizeof seen, cli->now_ms,
                       rg_cli_jint(ep, "last_seen_ms"));
        rg_cli_jjoin(json_object_get(ep, "attributes"), "tags", ",", tags,
                     sizeof tags);
        installed_text(ep, inst, sizeof inst);
        rg_cli_table_cell(&t, rg_cli_jstr(ep, "id", "-"));
        rg_cli_table_cell(&t, rg_cli_jstr(ep, "stratum", "-"));
        rg_cli_table_cell(&t, tags);
        rg_cli_table_cell(&t, seen);
        rg_cli_table_cell(&t, inst);
    }
    rc = rg__cli_print_table(cli, &t);
    if (rc)
        goto cleanup;
    const char *next = rg_cli_jstr(res, "next_after", NULL);
    if (fprintf(cli->out, "%zu of %lld endpoints%s%s%s\n",
                json_array_size(list), (long long)rg_cli_jint(res, "total"),
                next ? "; more with --after '" : "", next ? next : "",
                next ? "'" : "") < 0)
        rc = rg_err_set(&cli->err, RG_EIO, "cannot write the output");
cleanup:
    rg_buf_release(&path);
    json_decref(res);
    return rc;
}

static int endpoint_show(rg_cli *cli, const rg_cli_args *a)
{
    json_t *ep = NULL;
    rg_buf path;
    rg_buf_init(&path, 4096);
    int rc = rg_buf_adds(&path, "/v1/endpoints/");
    if (!rc)
        rc = rg_cli_url_escape(&path, a->pos[0]);
    if (rc) {
        rc = rg__cli_usage(cli, "endpoint id is too long");
        goto cleanup;
    }
    rc = rg__cli_call(cli, "GET", path.data, NULL, &ep);
    if (rc)
        goto cleanup;
    if (cli->json) {
        rc = rg__cli_print_json(cli, ep);
        goto cleanup;
    }
    const json_t *attrs = json_object_get(ep, "attributes");
    char enrolled[2 * RG_CLI_FMT_MAX], seen[2 * RG_CLI_FMT_MAX], tags[512];
    rg__cli_when(cli, rg_cli_jint(ep, "enrolled_ms"), enrolled,
                 sizeof enrolled);
    rg__cli_when(cli, rg_cli_jint(ep, "last_seen_ms"), seen, sizeof seen);
    rg_cli_jjoin(attrs, "tags", ", ", tags, sizeof tags);
    rg_cli_table t;
    rg_cli_table_init_kv(&t);
    rg_cli_table_kv(&t, "endpoint", "%s", rg_cli_jstr(ep, "id", "-"));
    rg_cli_table_kv(&t, "stratum", "%s", rg_cli_jstr(ep, "stratum", "-"));
    rg_cli_table_kv(&t, "os", "%s %s (%s)", rg_cli_jstr(attrs, "os", "-"),
                    rg_cli_jstr(attrs, "os_version", "-"),
                    rg_cli_jstr(attrs, "arch", "-"));
    rg_cli_table_kv(&t, "tags", "%s", tags[0] ? tags : "-");
    rg_cli_table_kv(&t, "enrolled", "%s", enrolled);
    rg_cli_table_kv(&t, "last seen", "%s", seen);
    const char *channel;
    json_t *v;
    json_object_foreach(json_object_get(ep, "installed"), channel, v)
    {
        rg_cli_table_kv(&t, "installed", "%s: release %lld (version %lld)",
                        channel, (long long)rg_cli_jint(v, "release"),
                        (long long)rg_cli_jint(v, "version"));
    }
    rc = rg__cli_print_table(cli, &t);
cleanup:
    rg_buf_release(&path);
    json_decref(ep);
    return rc;
}

/* Lets an enrolled endpoint id be enrolled afresh once without its
 * current token (a reinstalled machine). */
static int endpoint_reset_identity(rg_cli *cli, const rg_cli_args *a)
{
    const char *reason;
    json_t *body = NULL, *res = NULL;
    rg_buf path;
    rg_buf_init(&path, 4096);
    int rc = rg__cli_need(cli, a, "reason", &reason);
    if (rc)
        goto cleanup;
    rc = rg_buf_adds(&path, "/v1/endpoints/");
    if (!rc)
        rc = rg_cli_url_escape(&path, a->pos[0]);
    if (!rc)
        rc = rg_buf_adds(&path, "/reset-identity");
    if (rc) {
        rc = rg__cli_usage(cli, "endpoint id is too long");
        goto cleanup;
    }
    if (!(body = json_pack("{s:s}", "reason", reason))) {
        rc = rg_err_set(&cli->err, RG_ENOMEM, "out of memory");
        goto cleanup;
    }
    rc = rg__cli_call(cli, "POST", path.data, body, &res);
    if (rc)
        goto cleanup;
    if (cli->json)
        rc = rg__cli_print_json(cli, res);
    else if (fprintf(cli->out,
                     "endpoint %s may now enroll afresh once, with any valid "
                     "enrollment key\n",
                     rg_cli_jstr(res, "id", "-")) < 0)
        rc = rg_err_set(&cli->err, RG_EIO, "cannot write the output");
cleanup:
    rg_buf_release(&path);
    json_decref(body);
    json_decref(res);
    return rc;
}

static const char *const list_opts[] = {"limit:", "after:", NULL};
static const char *const reset_opts[] = {"reason:", NULL};

const rg_cli_command rg__cli_cmds_endpoint[] = {
    {"endpoints", NULL, "[--limit N] [--after ID]",
     "list the fleet, sorted by id",
     "  --limit N          at most N endpoints (1..1000, server default 100)\n"
     "  --after ID         the page after endpoint ID\n",
     list_opts, 0, 0, true, endpoints},
    {"endpoint", "show", "ID",
     "show one endpoint: attributes, installed releases", "", NULL, 1, 1, true,
     endpoint_show},
    {"endpoint", "reset-identity", "ID --reason \"...\"",
     "let endpoint ID enroll afresh once without its current token",
     "  --reason \"...\"     why (required; kept in the audit log)\n"
     "  Re-enrolling an enrolled id otherwise needs its current token.\n",
     reset_opts, 1, 1, true, endpoint_reset_identity},
    {0},
};
