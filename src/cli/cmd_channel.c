/* cmd_channel.c - `rollgate channel create|list|preflight`:
 * POST/GET /v1/channels, PUT /v1/channels/{name}/preflight. */
#include "cli/cmd.h"
#include "cli/fmt.h"
#include "cli/view.h"

#include "common/buf.h"

#define MEMORY_MAX_MB (64 * 1024)

/* Builds the preflight object from options named PREFIX-engine,
 * PREFIX-corpus (a file, uploaded here), PREFIX-timeout (a duration) and
 * PREFIX-memory (MiB); prefix "" names --engine, --corpus... *out is a new
 * object, or NULL when no engine option was given (then the other options
 * are a usage error). */
static int preflight_opts(rg_cli *cli, const rg_cli_args *a, const char *prefix,
                          json_t **out)
{
    char n_engine[32], n_corpus[32], n_timeout[32], n_memory[32];
    snprintf(n_engine, sizeof n_engine, "%sengine", prefix);
    snprintf(n_corpus, sizeof n_corpus, "%scorpus", prefix);
    snprintf(n_timeout, sizeof n_timeout, "%stimeout", prefix);
    snprintf(n_memory, sizeof n_memory, "%smemory", prefix);
    const char *engine = rg_cli_args_get(a, n_engine);
    const char *corpus = rg_cli_args_get(a, n_corpus);
    int64_t timeout_s = 0, memory_mb = 0;
    bool has_timeout = false, has_memory = false;
    json_t *art = NULL, *p = NULL;
    int rc;
    *out = NULL;
    if ((rc = rg__cli_opt_duration(cli, a, n_timeout, &timeout_s,
                                   &has_timeout)) ||
        (rc = rg__cli_opt_int(cli, a, n_memory, 0, MEMORY_MAX_MB, &memory_mb,
                              &has_memory)))
        return rc;
    if (!engine) {
        if (corpus || has_timeout || has_memory)
            return rg__cli_usage(cli, "--%s, --%s and --%s need --%s", n_corpus,
                                 n_timeout, n_memory, n_engine);
        return 0;
    }
    if (!engine[0])
        return rg__cli_usage(cli, "--%s: empty", n_engine);
    p = json_pack("{s:s}", "engine", engine);
    if (!p ||
        (has_timeout &&
         json_object_set_new(p, "timeout_s", json_integer(timeout_s))) ||
        (has_memory &&
         json_object_set_new(p, "memory_mb", json_integer(memory_mb)))) {
        rc = rg_err_set(&cli->err, RG_ENOMEM, "out of memory");
        goto cleanup;
    }
    if (corpus) {
        if ((rc = rg__cli_upload_file(cli, corpus, &art)))
            goto cleanup;
        if (json_object_set_new(p, "corpus",
                                json_string(rg_cli_jstr(art, "sha256", "")))) {
            rc = rg_err_set(&cli->err, RG_ENOMEM, "out of memory");
            goto cleanup;
        }
    }
    *out = p;
    p = NULL;
cleanup:
    json_decref(art);
    json_decref(p);
    return rc;
}

/* The preflight of a channel object in one line: "ENGINE (corpus ABCD…,
 * 30s, 1024 MiB)" or "none". */
static void preflight_line(const json_t *ch, char *out, size_t n)
{
    const json_t *p = json_object_get(ch, "preflight");
    if (!json_is_object(p)) {
        snprintf(out, n, "none");
        return;
    }
    char dur[RG_CLI_FMT_MAX], corpus[32] = "no corpus";
    rg_cli_fmt_duration(dur, sizeof dur, rg_cli_jint(p, "timeout_s"));
    const char *c = rg_cli_jstr(p, "corpus", NULL);
    if (c)
        snprintf(corpus, sizeof corpus, "corpus %.12s", c);
    int64_t mb = rg_cli_jint(p, "memory_mb");
    char mem[32];
    if (mb)
        snprintf(mem, sizeof mem, "%lld MiB", (long long)mb);
    else
        snprintf(mem, sizeof mem, "no memory limit");
    snprintf(out, n, "%s (%s, timeout %s, %s)", rg_cli_jstr(p, "engine", "-"),
             corpus, dur, mem);
}

/* Prints one channel as a key/value block. */
static int print_channel(rg_cli *cli, const json_t *ch)
{
    if (cli->json)
        return rg__cli_print_json(cli, ch);
    char when[2 * RG_CLI_FMT_MAX], pf[RG_CLI_FMT_MAX + 1200];
    rg_cli_table t;
    rg__cli_when(cli, rg_cli_jint(ch, "created_ms"), when, sizeof when);
    preflight_line(ch, pf, sizeof pf);
    rg_cli_table_init_kv(&t);
    rg_cli_table_kv(&t, "channel", "%lld", (long long)rg_cli_jint(ch, "id"));
    rg_cli_table_kv(&t, "name", "%s", rg_cli_jstr(ch, "name", "-"));
    rg_cli_table_kv(&t, "description", "%s",
                    rg_cli_jstr(ch, "description", ""));
    rg_cli_table_kv(&t, "preflight", "%s", pf);
    rg_cli_table_kv(&t, "public", "%s",
                    json_is_true(json_object_get(ch, "public")) ? "yes" : "no");
    rg_cli_table_kv(&t, "created", "%s", when);
    return rg__cli_print_table(cli, &t);
}

static int channel_create(rg_cli *cli, const rg_cli_args *a)
{
    json_t *body = json_pack("{s:s}", "name", a->pos[0]);
    json_t *ch = NULL, *pf = NULL;
    int rc;
    const char *desc = rg_cli_args_get(a, "description");
    if (!body ||
        (desc && json_object_set_new(body, "description", json_string(desc))) ||
        (rg_cli_args_has(a, "public") &&
         json_object_set_new(body, "public", json_true()))) {
        rc = rg_err_set(&cli->err, RG_ENOMEM, "out of memory");
        goto cleanup;
    }
    if ((rc = preflight_opts(cli, a, "preflight-", &pf)))
        goto cleanup;
    if (pf && json_object_set(body, "preflight", pf)) {
        rc = rg_err_set(&cli->err, RG_ENOMEM, "out of memory");
        goto cleanup;
    }
    rc = rg__cli_call(cli, "POST", "/v1/channels", body, &ch);
    if (!rc)
        rc = print_channel(cli, ch);
cleanup:
    json_decref(body);
    json_decref(pf);
    json_decref(ch);
    return rc;
}

static int channel_preflight(rg_cli *cli, const rg_cli_args *a)
{
    json_t *pf = NULL, *ch = NULL;
    rg_buf path;
    rg_buf_init(&path, 4096);
    bool none = rg_cli_args_has(a, "none");
    int rc = preflight_opts(cli, a, "", &pf);
    if (rc)
        goto cleanup;
    if (none == (pf != NULL)) {
        rc = rg__cli_usage(cli, "give exactly one of --engine CMD or --none");
        goto cleanup;
    }
    if (rg_buf_adds(&path, "/v1/channels/") ||
        rg_cli_url_escape(&path, a->pos[0]) ||
        rg_buf_adds(&path, "/preflight")) {
        rc = rg__cli_usage(cli, "channel name is too long");
        goto cleanup;
    }
    if (none && !(pf = json_null())) {
        rc = rg_err_set(&cli->err, RG_ENOMEM, "out of memory");
        goto cleanup;
    }
    rc = rg__cli_call(cli, "PUT", path.data, pf, &ch);
    if (!rc)
        rc = print_channel(cli, ch);
cleanup:
    rg_buf_release(&path);
    json_decref(pf);
    json_decref(ch);
    return rc;
}

static const char *const channel_headers[] = {
    "ID", "NAME", "RELEASE", "PREFLIGHT", "CREATED", "DESCRIPTION", NULL};

static void channel_layout(rg_cli_table *t)
{
    rg_cli_table_align_right(t, 0);
    rg_cli_table_align_right(t, 2);
    rg_cli_table_max_width(t, 3, 40);
    rg_cli_table_max_width(t, 5, 60);
}

static void channel_row(rg_cli *cli, rg_cli_table *t, const json_t *ch)
{
    char ago[RG_CLI_FMT_MAX], rel[32];
    rg_cli_fmt_ago(ago, sizeof ago, cli->now_ms, rg_cli_jint(ch, "created_ms"));
    rg_cli_jtext(json_object_get(ch, "current_release"), rel, sizeof rel);
    rg_cli_table_cellf(t, "%lld", (long long)rg_cli_jint(ch, "id"));
    rg_cli_table_cell(t, rg_cli_jstr(ch, "name", "-"));
    rg_cli_table_cell(t, rel);
    rg_cli_table_cell(
        t, rg_cli_jstr(json_object_get(ch, "preflight"), "engine", "-"));
    rg_cli_table_cell(t, ago);
    rg_cli_table_cell(t, rg_cli_jstr(ch, "description", ""));
}

static const rg__cli_listing channel_listing = {"channels", channel_headers,
                                                channel_layout, channel_row};

static int channel_list(rg_cli *cli, const rg_cli_args *a)
{
    (void)a;
    return rg__cli_list_show(cli, "/v1/channels", &channel_listing);
}

static const char *const create_opts[] = {"description:",
                                          "preflight-engine:",
                                          "preflight-corpus:",
                                          "preflight-timeout:",
                                          "preflight-memory:",
                                          "public",
                                          NULL};
static const char *const preflight_cmd_opts[] = {
    "engine:", "corpus:", "timeout:", "memory:", "none", NULL};

const rg_cli_command rg__cli_cmds_channel[] = {
    {"channel", "create",
     "NAME [--description D] [--public] [--preflight-engine CMD "
     "[--preflight-corpus F] [--preflight-timeout D] [--preflight-memory MB]]",
     "create a channel (a stream of one kind of content)",
     "  NAME                   1..64 of [a-z0-9._-]\n"
     "  --description D        what the channel carries\n"
     "  --public               serve its artifacts to anyone at URLs that\n"
     "                         never expire, for any HTTP cache (set at\n"
     "                         creation only; docs/caching.md)\n"
     "  --preflight-engine CMD run every new release through this engine on\n"
     "                         the server, sandboxed (an absolute path or a\n"
     "                         program name in rollgated's --engine-dir\n"
     "                         or else its PATH)\n"
     "  --preflight-corpus F   recorded events to run too (uploaded)\n"
     "  --preflight-timeout D  limit per engine command (default 30s)\n"
     "  --preflight-memory MB  address-space limit (default 1024; 0: none,\n"
     "                         for sanitizer builds of the engine)\n",
     create_opts, 1, 1, true, channel_create},
    {"channel", "list", "", "list channels and their current release", "", NULL,
     0, 0, true, channel_list},
    {"channel", "preflight",
     "NAME (--engine CMD [--corpus F] [--timeout D] [--memory MB] | --none)",
     "register, replace or remove a channel's preflight",
     "  --engine CMD       the engine (as --preflight-engine above)\n"
     "  --corpus F         recorded events to run too (uploaded)\n"
     "  --timeout D        limit per engine command (default 30s)\n"
     "  --memory MB        address-space limit (default 1024; 0: none)\n"
     "  --none             remove the preflight\n"
     "releases already created keep the preflight they were created with\n",
     preflight_cmd_opts, 1, 1, true, channel_preflight},
    {0},
};
