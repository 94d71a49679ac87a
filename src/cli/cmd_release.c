/* cmd_release.c - `rollgate release create|list|show`: /v1/releases. */
#include "cli/cmd.h"
#include "cli/fmt.h"
#include "cli/view.h"

#define MAX_VERSION (1LL << 53)

/* Prints one release as a key/value block. */
static int print_release(rg_cli *cli, const json_t *r)
{
    if (cli->json)
        return rg__cli_print_json(cli, r);
    char when[2 * RG_CLI_FMT_MAX], size[RG_CLI_FMT_MAX];
    rg__cli_when(cli, rg_cli_jint(r, "created_ms"), when, sizeof when);
    rg_cli_fmt_size(size, sizeof size, (uint64_t)rg_cli_jint(r, "size"));
    rg_cli_table t;
    rg_cli_table_init_kv(&t);
    rg_cli_table_kv(&t, "release", "%lld", (long long)rg_cli_jint(r, "id"));
    rg_cli_table_kv(&t, "channel", "%s", rg_cli_jstr(r, "channel", "-"));
    rg_cli_table_kv(&t, "version", "%lld",
                    (long long)rg_cli_jint(r, "version"));
    rg_cli_table_kv(&t, "urgency", "%s", rg_cli_jstr(r, "urgency", "-"));
    rg_cli_table_kv(&t, "sha256", "%s", rg_cli_jstr(r, "sha256", "-"));
    rg_cli_table_kv(&t, "size", "%s", size);
    rg_cli_table_kv(&t, "created", "%s by %s", when,
                    rg_cli_jstr(r, "created_by", "-"));
    rg_cli_table_kv(&t, "notes", "%s", rg_cli_jstr(r, "notes", ""));
    return rg__cli_print_table(cli, &t);
}

static int release_create(rg_cli *cli, const rg_cli_args *a)
{
    const char *channel, *notes;
    const char *file = rg_cli_args_get(a, "file");
    const char *digest = rg_cli_args_get(a, "artifact");
    const char *urgency = rg_cli_args_get(a, "urgency");
    int64_t version = 0;
    json_t *art = NULL, *body = NULL, *rel = NULL;
    int rc;
    if ((rc = rg__cli_need(cli, a, "channel", &channel)) ||
        (rc = rg__cli_opt_int(cli, a, "version", 1, MAX_VERSION, &version,
                              NULL)) ||
        (rc = rg__cli_need(cli, a, "notes", &notes)))
        return rc;
    if (!file == !digest)
        return rg__cli_usage(
            cli, "give exactly one of --file F or --artifact SHA256");
    if (file) {
        rc = rg__cli_upload_file(cli, file, &art);
        if (rc)
            goto cleanup;
        digest = rg_cli_jstr(art, "sha256", "");
    }
    body = json_pack("{s:s, s:I, s:s, s:s, s:s}", "channel", channel, "version",
                     (json_int_t)version, "artifact", digest, "notes", notes,
                     "urgency", urgency ? urgency : "standard");
    if (!body) {
        rc = rg_err_set(&cli->err, RG_ENOMEM, "out of memory");
        goto cleanup;
    }
    rc = rg__cli_call(cli, "POST", "/v1/releases", body, &rel);
    if (!rc)
        rc = print_release(cli, rel);
cleanup:
    json_decref(art);
    json_decref(body);
    json_decref(rel);
    return rc;
}

static int release_list(rg_cli *cli, const rg_cli_args *a)
{
    json_t *res = NULL;
    rg_buf path;
    rg_buf_init(&path, 4096);
    const char *channel = rg_cli_args_get(a, "channel");
    int rc = rg_buf_adds(&path, "/v1/releases");
    if (!rc && channel)
        rc = rg_cli_query_add(&path, "channel", channel);
    if (rc) {
        rc = rg__cli_usage(cli, "--channel is too long");
        goto cleanup;
    }
    rc = rg__cli_call(cli, "GET", path.data, NULL, &res);
    if (rc)
        goto cleanup;
    if (cli->json) {
        rc = rg__cli_print_json(cli, res);
        goto cleanup;
    }
    static const char *const headers[] = {
        "ID",     "CHANNEL", "VERSION", "URGENCY", "SIZE",
        "SHA256", "CREATED", "BY",      "NOTES",   NULL};
    rg_cli_table t;
    rg_cli_table_init(&t, headers);
    rg_cli_table_align_right(&t, 0);
    rg_cli_table_align_right(&t, 2);
    rg_cli_table_align_right(&t, 4);
    rg_cli_table_max_width(&t, 5, 13);
    rg_cli_table_max_width(&t, 8, 50);
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(res, "releases"), i, r)
    {
        char ago[RG_CLI_FMT_MAX], size[RG_CLI_FMT_MAX];
        rg_cli_fmt_ago(ago, sizeof ago, cli->now_ms,
                       rg_cli_jint(r, "created_ms"));
        rg_cli_fmt_size(size, sizeof size, (uint64_t)rg_cli_jint(r, "size"));
        rg_cli_table_cellf(&t, "%lld", (long long)rg_cli_jint(r, "id"));
        rg_cli_table_cell(&t, rg_cli_jstr(r, "channel", "-"));
        rg_cli_table_cellf(&t, "%lld", (long long)rg_cli_jint(r, "version"));
        rg_cli_table_cell(&t, rg_cli_jstr(r, "urgency", "-"));
        rg_cli_table_cell(&t, size);
        rg_cli_table_cell(&t, rg_cli_jstr(r, "sha256", "-"));
        rg_cli_table_cell(&t, ago);
        rg_cli_table_cell(&t, rg_cli_jstr(r, "created_by", "-"));
        rg_cli_table_cell(&t, rg_cli_jstr(r, "notes", ""));
    }
    rc = rg__cli_print_table(cli, &t);
cleanup:
    rg_buf_release(&path);
    json_decref(res);
    return rc;
}

static int release_show(rg_cli *cli, const rg_cli_args *a)
{
    int64_t id;
    json_t *rel = NULL;
    int rc = rg__cli_id(cli, "release", a->pos[0], &id);
    if (!rc)
        rc = rg__cli_callf(cli, "GET", NULL, &rel, "/v1/releases/%lld",
                           (long long)id);
    if (!rc)
        rc = print_release(cli, rel);
    json_decref(rel);
    return rc;
}

static const char *const create_opts[] = {
    "channel:", "file:", "artifact:", "version:", "notes:", "urgency:", NULL};
static const char *const list_opts[] = {"channel:", NULL};

const rg_cli_command rg__cli_cmds_release[] = {
    {"release", "create",
     "--channel X --file F --version N --notes \"why\" [--urgency U]",
     "upload F and create release N on channel X",
     "  --channel X        the channel\n"
     "  --file F           content to upload (or --artifact SHA256 of an "
     "upload)\n"
     "  --version N        above every version on the channel (1..2^53)\n"
     "  --notes \"why\"      what changes and why (required)\n"
     "  --urgency U        standard (default) or emergency\n",
     create_opts, 0, 0, true, release_create},
    {"release", "list", "[--channel X]", "list releases, newest first",
     "  --channel X        only this channel's releases\n", list_opts, 0, 0,
     true, release_list},
    {"release", "show", "ID", "show one release with its notes", "", NULL, 1, 1,
     true, release_show},
    {0},
};
