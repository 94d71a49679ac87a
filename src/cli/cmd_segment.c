/* cmd_segment.c - `rollgate flag segment create|update|list|show|delete`:
 * flag segments, named constraint lists that strategies name by id
 * (/v1/segments; docs/flags.md). */
#include "cli/client.h"
#include "cli/cmd.h"
#include "cli/fmt.h"
#include "cli/view.h"

#include <stdio.h>
#include <string.h>

const char *const rg__cli_segment_opts[] = {"env:", "file:", "reason:", NULL};

/* "/v1/segments[/<escaped name>][?environment=<env>]" into b (the query
 * only with query true; bodies name the environment instead). */
static int segment_path(rg_cli *cli, rg_buf *b, const char *name, bool query,
                        const rg_cli_args *a)
{
    const char *env = query ? rg_cli_args_get(a, "env") : NULL;
    rg_buf_init(b, 4096);
    int rc = rg_buf_adds(b, "/v1/segments");
    if (!rc && name && !(rc = rg_buf_adds(b, "/")))
        rc = rg_cli_url_escape(b, name);
    if (!rc && env && !(rc = rg_buf_adds(b, "?environment=")))
        rc = rg_cli_url_escape(b, env);
    return rc ? rg__cli_usage(cli, "segment name is too long") : 0;
}

static int print_segment(rg_cli *cli, const json_t *g)
{
    if (cli->json)
        return rg__cli_print_json(cli, g);
    const json_t *seg = json_object_get(g, "segment");
    rg_cli_table t;
    rg_cli_table_init_kv(&t);
    rg_cli_table_kv(&t, "segment", "%s", rg_cli_jstr(g, "name", "-"));
    rg_cli_table_kv(&t, "id", "%lld", (long long)rg_cli_jint(g, "id"));
    rg_cli_table_kv(&t, "environment", "%s",
                    rg_cli_jstr(g, "environment", "-"));
    rg_cli_table_kv(
        &t, "version", "%lld%s", (long long)rg_cli_jint(g, "version"),
        json_is_true(json_object_get(g, "deleted")) ? " (deleted)" : "");
    rg_cli_table_kv(&t, "constraints", "%zu",
                    json_array_size(json_object_get(seg, "constraints")));
    rg__cli_flag_versions(cli, &t, g, "deleted", "deleted", "set");
    return rg__cli_print_table(cli, &t);
}

/* create (POST /v1/segments) and update (PUT /v1/segments/{name}) from
 * --file, which holds {"constraints": [...], "description"?}. */
static int send_segment(rg_cli *cli, const rg_cli_args *a, const char *name,
                        bool create)
{
    json_t *seg = NULL, *body = NULL, *res = NULL;
    const char *file;
    rg_buf path;
    int rc = segment_path(cli, &path, create ? NULL : name, false, a);
    if (rc || (rc = rg__cli_need(cli, a, "file", &file)) ||
        (rc = rg__cli_flag_change_body(cli, a, &body)) ||
        (rc = rg__cli_read_json_file(cli, file, &seg)))
        goto cleanup;
    if (json_object_set_new(seg, "name", json_string(name)) ||
        json_object_set(body, "segment", seg)) {
        rc = rg_err_set(&cli->err, RG_ENOMEM, "out of memory");
        goto cleanup;
    }
    rc = rg__cli_call(cli, create ? "POST" : "PUT", path.data, body, &res);
    if (!rc)
        rc = print_segment(cli, res);
cleanup:
    rg_buf_release(&path);
    json_decref(seg);
    json_decref(body);
    json_decref(res);
    return rc;
}

static int delete_segment(rg_cli *cli, const rg_cli_args *a, const char *name)
{
    json_t *body = NULL, *res = NULL;
    rg_buf path;
    int rc = segment_path(cli, &path, name, false, a);
    if (!rc && !(rc = rg__cli_flag_change_body(cli, a, &body)))
        rc = rg__cli_call(cli, "DELETE", path.data, body, &res);
    if (!rc && cli->json)
        rc = rg__cli_print_json(cli, res);
    else if (!rc)
        fprintf(cli->out, "segment '%s' deleted (version %lld)\n", name,
                (long long)rg_cli_jint(res, "version"));
    rg_buf_release(&path);
    json_decref(body);
    json_decref(res);
    return rc;
}

static int show_segment(rg_cli *cli, const rg_cli_args *a, const char *name)
{
    json_t *res = NULL;
    rg_buf path;
    int rc = segment_path(cli, &path, name, true, a);
    if (!rc)
        rc = rg__cli_call(cli, "GET", path.data, NULL, &res);
    if (!rc)
        rc = print_segment(cli, res);
    rg_buf_release(&path);
    json_decref(res);
    return rc;
}

static int list_segments(rg_cli *cli, const rg_cli_args *a)
{
    json_t *res = NULL;
    rg_buf path;
    int rc = segment_path(cli, &path, NULL, true, a);
    if (!rc)
        rc = rg__cli_call(cli, "GET", path.data, NULL, &res);
    if (rc || cli->json) {
        rc = rc ? rc : rg__cli_print_json(cli, res);
        goto cleanup;
    }
    static const char *const headers[] = {
        "SEGMENT", "ID", "ENV", "VERSION", "CONSTRAINTS", "CHANGED", NULL};
    rg_cli_table t;
    rg_cli_table_init(&t, headers);
    size_t i;
    json_t *g;
    json_array_foreach(json_object_get(res, "segments"), i, g)
    {
        char changed[RG_CLI_FMT_MAX];
        rg_cli_fmt_ago(changed, sizeof changed, cli->now_ms,
                       rg_cli_jint(g, "created_ms"));
        const json_t *seg = json_object_get(g, "segment");
        rg_cli_table_cell(&t, rg_cli_jstr(g, "name", "-"));
        rg_cli_table_cellf(&t, "%lld", (long long)rg_cli_jint(g, "id"));
        rg_cli_table_cell(&t, rg_cli_jstr(g, "environment", "-"));
        rg_cli_table_cellf(&t, "%lld", (long long)rg_cli_jint(g, "version"));
        rg_cli_table_cellf(
            &t, "%zu", json_array_size(json_object_get(seg, "constraints")));
        rg_cli_table_cell(&t, changed);
    }
    rc = rg__cli_print_table(cli, &t);
cleanup:
    rg_buf_release(&path);
    json_decref(res);
    return rc;
}

int rg__cli_flag_segment(rg_cli *cli, const rg_cli_args *a)
{
    const char *verb = a->pos[0], *name = a->n_pos > 1 ? a->pos[1] : NULL;
    if (strcmp(verb, "list") == 0)
        return name ? rg__cli_usage(cli, "flag segment list takes no name")
                    : list_segments(cli, a);
    if (!name && (strcmp(verb, "create") == 0 || strcmp(verb, "update") == 0 ||
                  strcmp(verb, "show") == 0 || strcmp(verb, "delete") == 0))
        return rg__cli_usage(cli, "flag segment %s: missing NAME", verb);
    if (strcmp(verb, "create") == 0 || strcmp(verb, "update") == 0)
        return send_segment(cli, a, name, verb[0] == 'c');
    if (strcmp(verb, "show") == 0)
        return show_segment(cli, a, name);
    if (strcmp(verb, "delete") == 0)
        return delete_segment(cli, a, name);
    return rg__cli_usage(cli,
                         "unknown segment subcommand '%s' (one of "
                         "create|update|list|show|delete)",
                         verb);
}
