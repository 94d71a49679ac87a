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

/* Filters passed through to GET /v1/endpoints (the server checks them). */
static const char *const filters[] = {"rollout", "state", "stratum",
                                      "version", "tag",   "after"};

/* The list's path: /v1/endpoints with the options as query arguments
 * (rollout, when not NULL, in place of --rollout). */
static int list_path(rg_cli *cli, const rg_cli_args *a, const char *rollout,
                     rg_buf *path)
{
    int64_t limit = 0;
    bool has_limit;
    int rc = rg__cli_opt_int(cli, a, "limit", 1, 1000, &limit, &has_limit);
    if (rc)
        return rc;
    char num[32];
    snprintf(num, sizeof num, "%lld", (long long)limit);
    rc = rg_buf_adds(path, "/v1/endpoints");
    if (!rc && has_limit)
        rc = rg_cli_query_add(path, "limit", num);
    if (!rc && rollout)
        rc = rg_cli_query_add(path, "rollout", rollout);
    for (size_t i = 0; !rc && i < sizeof filters / sizeof *filters; i++) {
        const char *v = rg_cli_args_get(a, filters[i]);
        if (v)
            rc = rg_cli_query_add(path, filters[i], v);
    }
    return rc ? rg__cli_usage(cli, "an option is too long") : 0;
}

/* One row of the list (with the rollout's STATE column when with_state). */
static void list_row(rg_cli *cli, rg_cli_table *t, const json_t *ep,
                     bool with_state)
{
    char seen[RG_CLI_FMT_MAX], applying[RG_CLI_FMT_MAX], tags[256], inst[512];
    const json_t *ro = json_object_get(ep, "rollout");
    rg_cli_fmt_ago(seen, sizeof seen, cli->now_ms,
                   rg_cli_jint(ep, "last_seen_ms"));
    rg_cli_fmt_ago(applying, sizeof applying, cli->now_ms,
                   rg_cli_jint(ro, "applying_ms"));
    rg_cli_jjoin(json_object_get(ep, "attributes"), "tags", ",", tags,
                 sizeof tags);
    installed_text(ep, inst, sizeof inst);
    rg_cli_table_cell(t, rg_cli_jstr(ep, "id", "-"));
    rg_cli_table_cell(t, rg_cli_jstr(ep, "stratum", "-"));
    if (with_state) {
        rg_cli_table_cell(t, rg_cli_jstr(ro, "state", "-"));
        rg_cli_table_cell(t, applying);
    }
    rg_cli_table_cell(t, tags);
    rg_cli_table_cell(t, seen);
    rg_cli_table_cell(t, inst);
}

/* Lists the fleet, filtered by the options (rollout: the rollout whose
 * endpoints are listed, or NULL). */
static int list(rg_cli *cli, const rg_cli_args *a, const char *rollout)
{
    json_t *res = NULL;
    rg_buf path;
    rg_buf_init(&path, 4096);
    bool with_state = rollout || rg_cli_args_get(a, "rollout");
    int rc = list_path(cli, a, rollout, &path);
    if (!rc)
        rc = rg__cli_call(cli, "GET", path.data, NULL, &res);
    if (rc)
        goto cleanup;
    if (cli->json) {
        rc = rg__cli_print_json(cli, res);
        goto cleanup;
    }
    static const char *const plain[] = {"ID",        "STRATUM",   "TAGS",
                                        "LAST SEEN", "INSTALLED", NULL};
    static const char *const stated[] = {"ID",        "STRATUM", "STATE",
                                         "APPLYING",  "TAGS",    "LAST SEEN",
                                         "INSTALLED", NULL};
    rg_cli_table t;
    rg_cli_table_init(&t, with_state ? stated : plain);
    rg_cli_table_max_width(&t, with_state ? 4 : 2, 30);
    rg_cli_table_max_width(&t, with_state ? 6 : 4, 60);
    const json_t *items = json_object_get(res, "endpoints");
    size_t i;
    json_t *ep;
    json_array_foreach(items, i, ep) list_row(cli, &t, ep, with_state);
    rc = rg__cli_print_table(cli, &t);
    if (rc)
        goto cleanup;
    const char *next = rg_cli_jstr(res, "next_after", NULL);
    if (fprintf(cli->out, "%zu of %lld endpoints%s%s%s\n",
                json_array_size(items), (long long)rg_cli_jint(res, "total"),
                next ? "; more with --after '" : "", next ? next : "",
                next ? "'" : "") < 0)
        rc = rg_err_set(&cli->err, RG_EIO, "cannot write the output");
cleanup:
    rg_buf_release(&path);
    json_decref(res);
    return rc;
}

static int endpoints(rg_cli *cli, const rg_cli_args *a)
{
    return list(cli, a, NULL);
}

static int rollout_endpoints(rg_cli *cli, const rg_cli_args *a)
{
    int64_t id;
    int rc = rg__cli_id(cli, "rollout", a->pos[0], &id);
    return rc ? rc : list(cli, a, a->pos[0]);
}

/* "detections: release 3 (version 7)" rows of key for each item of a. */
static void release_rows(rg_cli_table *t, const char *key, const json_t *a)
{
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
    {
        rg_cli_table_kv(t, key, "%s: release %lld (version %lld)",
                        rg_cli_jstr(v, "channel", "-"),
                        (long long)rg_cli_jint(v, "release"),
                        (long long)rg_cli_jint(v, "version"));
    }
}

/* The key/value block of one endpoint. */
static void show_block(rg_cli *cli, rg_cli_table *t, const json_t *ep)
{
    const json_t *attrs = json_object_get(ep, "attributes");
    char enrolled[2 * RG_CLI_FMT_MAX], seen[2 * RG_CLI_FMT_MAX], tags[512],
        envs[600];
    rg__cli_when(cli, rg_cli_jint(ep, "enrolled_ms"), enrolled,
                 sizeof enrolled);
    rg__cli_when(cli, rg_cli_jint(ep, "last_seen_ms"), seen, sizeof seen);
    rg_cli_jjoin(attrs, "tags", ", ", tags, sizeof tags);
    rg_cli_jjoin(attrs, "flag_environments", ", ", envs, sizeof envs);
    rg_cli_table_init_kv(t);
    rg_cli_table_kv(t, "endpoint", "%s", rg_cli_jstr(ep, "id", "-"));
    rg_cli_table_kv(t, "stratum", "%s", rg_cli_jstr(ep, "stratum", "-"));
    rg_cli_table_kv(t, "os", "%s %s (%s)", rg_cli_jstr(attrs, "os", "-"),
                    rg_cli_jstr(attrs, "os_version", "-"),
                    rg_cli_jstr(attrs, "arch", "-"));
    rg_cli_table_kv(t, "tags", "%s", tags[0] ? tags : "-");
    rg_cli_table_kv(t, "flag environments", "%s", envs[0] ? envs : "default");
    rg_cli_table_kv(t, "enrolled", "%s", enrolled);
    rg_cli_table_kv(t, "last seen", "%s", seen);
    const char *channel;
    json_t *v;
    json_object_foreach(json_object_get(ep, "installed"), channel, v)
    {
        rg_cli_table_kv(t, "installed", "%s: release %lld (version %lld)",
                        channel, (long long)rg_cli_jint(v, "release"),
                        (long long)rg_cli_jint(v, "version"));
    }
    release_rows(t, "pending", json_object_get(ep, "pending"));
    release_rows(t, "quarantined", json_object_get(ep, "quarantined"));
    size_t i;
    json_array_foreach(json_object_get(ep, "rollouts"), i, v)
    {
        char at[RG_CLI_FMT_MAX];
        rg_cli_fmt_ago(at, sizeof at, cli->now_ms,
                       rg_cli_jint(v, "applying_ms"));
        rg_cli_table_kv(t, "in rollout",
                        "%s: release %lld (version %lld): %s, applying %s",
                        rg_cli_jstr(v, "channel", "-"),
                        (long long)rg_cli_jint(v, "release"),
                        (long long)rg_cli_jint(v, "version"),
                        rg_cli_jstr(v, "state", "-"), at);
    }
}

/* The event history, newest first. */
static int show_events(rg_cli *cli, const json_t *events)
{
    static const char *const headers[] = {"RECEIVED", "TYPE",   "CHANNEL",
                                          "RELEASE",  "DETAIL", NULL};
    if (fprintf(cli->out, "\nevents, newest first:\n") < 0)
        return rg_err_set(&cli->err, RG_EIO, "cannot write the output");
    rg_cli_table t;
    rg_cli_table_init(&t, headers);
    size_t i;
    json_t *e;
    json_array_foreach(events, i, e)
    {
        char at[RG_CLI_FMT_MAX];
        rg_cli_fmt_ago(at, sizeof at, cli->now_ms,
                       rg_cli_jint(e, "received_ms"));
        rg_cli_table_cell(&t, at);
        rg_cli_table_cell(&t, rg_cli_jstr(e, "type", "-"));
        rg_cli_table_cell(&t, rg_cli_jstr(e, "channel", "-"));
        rg_cli_table_cellf(&t, "%lld (v%lld)",
                           (long long)rg_cli_jint(e, "release"),
                           (long long)rg_cli_jint(e, "version"));
        const char *d = rg_cli_jstr(e, "detail", "");
        rg_cli_table_cell(&t, d[0] ? d : "-");
    }
    return rg__cli_print_table(cli, &t);
}

/* The flag sets the endpoint fell back from (last known good). */
static int show_flag_reverts(rg_cli *cli, const json_t *reverts)
{
    static const char *const headers[] = {"RECEIVED", "ENVIRONMENT", "SET",
                                          "DETAIL", NULL};
    if (fprintf(cli->out, "\nflag sets reverted to the last known good, "
                          "newest first:\n") < 0)
        return rg_err_set(&cli->err, RG_EIO, "cannot write the output");
    rg_cli_table t;
    rg_cli_table_init(&t, headers);
    size_t i;
    json_t *r;
    json_array_foreach(reverts, i, r)
    {
        char at[RG_CLI_FMT_MAX];
        rg_cli_fmt_ago(at, sizeof at, cli->now_ms,
                       rg_cli_jint(r, "received_ms"));
        rg_cli_table_cell(&t, at);
        rg_cli_table_cell(&t, rg_cli_jstr(r, "environment", "-"));
        rg_cli_table_cell(&t, rg_cli_jstr(r, "stamp", "-"));
        rg_cli_table_cell(&t, rg_cli_jstr(r, "detail", "-"));
    }
    return rg__cli_print_table(cli, &t);
}

static int endpoint_show(rg_cli *cli, const rg_cli_args *a)
{
    json_t *ep = NULL;
    int64_t n = 0;
    bool has_n;
    rg_buf path;
    rg_buf_init(&path, 4096);
    int rc = rg__cli_opt_int(cli, a, "events", 0, 1000, &n, &has_n);
    if (rc)
        goto cleanup;
    char num[32];
    snprintf(num, sizeof num, "%lld", (long long)n);
    rc = rg_buf_adds(&path, "/v1/endpoints/");
    if (!rc)
        rc = rg_cli_url_escape(&path, a->pos[0]);
    if (!rc && has_n)
        rc = rg_cli_query_add(&path, "events", num);
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
    rg_cli_table t;
    show_block(cli, &t, ep);
    rc = rg__cli_print_table(cli, &t);
    if (!rc && json_array_size(json_object_get(ep, "events")))
        rc = show_events(cli, json_object_get(ep, "events"));
    if (!rc && json_array_size(json_object_get(ep, "flag_reverts")))
        rc = show_flag_reverts(cli, json_object_get(ep, "flag_reverts"));
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

static const char *const list_opts[] = {
    "limit:",   "after:",   "rollout:", "state:",
    "stratum:", "version:", "tag:",     NULL};
static const char *const rollout_opts[] = {
    "limit:", "after:", "state:", "stratum:", "version:", "tag:", NULL};
static const char *const show_opts[] = {"events:", NULL};
static const char *const reset_opts[] = {"reason:", NULL};

#define FILTER_HELP                                                            \
    "  --state S          assigned, pending, healthy, silent, failed or\n"     \
    "                     unjudged: the endpoint's state in the rollout, as\n" \
    "                     the health gate counts it (docs/health.md)\n"        \
    "  --stratum S        only stratum S (os-os_version-arch)\n"               \
    "  --version V        only endpoints with version V installed\n"           \
    "  --tag T            only endpoints tagged T\n"                           \
    "  --limit N          at most N endpoints (1..1000, server default 100)\n" \
    "  --after ID         the page after endpoint ID\n"

const rg_cli_command rg__cli_cmds_endpoint[] = {
    {"endpoints", NULL,
     "[--rollout ID [--state S]] [--stratum S] [--version V] [--tag T] "
     "[--limit N] [--after ID]",
     "list the fleet, sorted by id, filtered",
     "  --rollout ID       only endpoints in rollout ID, with their state\n"
     "                     in it; --version then means the rollout's "
     "channel\n" FILTER_HELP,
     list_opts, 0, 0, true, endpoints},
    {"rollout", "endpoints",
     "ID [--state S] [--stratum S] [--version V] [--tag T] [--limit N] "
     "[--after ID]",
     "the endpoints in rollout ID with their state in it (which failed, "
     "which went silent)",
     FILTER_HELP, rollout_opts, 1, 1, true, rollout_endpoints},
    {"endpoint", "show", "ID [--events N]",
     "show one endpoint: attributes, last contact, installed, pending and "
     "quarantined releases, its state in rollouts, its event history",
     "  --events N         the N newest events (0..1000, default 50)\n",
     show_opts, 1, 1, true, endpoint_show},
    {"endpoint", "reset-identity", "ID --reason \"...\"",
     "let endpoint ID enroll afresh once without its current token",
     "  --reason \"...\"     why (required; kept in the audit log)\n"
     "  Re-enrolling an enrolled id otherwise needs its current token.\n",
     reset_opts, 1, 1, true, endpoint_reset_identity},
    {0},
};
