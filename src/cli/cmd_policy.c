/* cmd_policy.c - `rollgate policy create|list|delete`: /v1/policies, group
 * policies holding a selected group one release behind (n-1) or on a
 * pinned version of a channel. */
#include "cli/cmd.h"
#include "cli/fmt.h"
#include "cli/view.h"

#include <stdio.h>
#include <string.h>

/* The selector as "tag=T" or "k=v,k=v" into out. */
static void selector_text(const json_t *sel, char *out, size_t n)
{
    const char *tag = rg_cli_jstr(sel, "tag", NULL);
    out[0] = '\0';
    if (tag) {
        snprintf(out, n, "tag=%s", tag);
        return;
    }
    size_t used = 0;
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(sel, "attribute"), k, v)
    {
        int w = snprintf(out + used, n - used, "%s%s=%s", used ? "," : "", k,
                         json_string_value(v) ? json_string_value(v) : "");
        if (w < 0 || (size_t)w >= n - used)
            break;
        used += (size_t)w;
    }
}

/* What the policy holds its group on: "n-1" or "pin v7 (release 12)". */
static void hold_text(const json_t *p, char *out, size_t n)
{
    if (strcmp(rg_cli_jstr(p, "mode", ""), "pin") == 0)
        snprintf(out, n, "pin v%lld (release %lld)",
                 (long long)rg_cli_jint(p, "version"),
                 (long long)rg_cli_jint(p, "release"));
    else
        snprintf(out, n, "%s", rg_cli_jstr(p, "mode", "-"));
}

static int print_policy(rg_cli *cli, const json_t *p)
{
    if (cli->json)
        return rg__cli_print_json(cli, p);
    char sel[256], hold[96], created[2 * RG_CLI_FMT_MAX];
    selector_text(json_object_get(p, "selector"), sel, sizeof sel);
    hold_text(p, hold, sizeof hold);
    rg__cli_when(cli, rg_cli_jint(p, "created_ms"), created, sizeof created);
    rg_cli_table t;
    rg_cli_table_init_kv(&t);
    rg_cli_table_kv(&t, "policy id", "%lld", (long long)rg_cli_jint(p, "id"));
    rg_cli_table_kv(&t, "name", "%s", rg_cli_jstr(p, "name", "-"));
    rg_cli_table_kv(&t, "channel", "%s", rg_cli_jstr(p, "channel", "-"));
    rg_cli_table_kv(&t, "selector", "%s", sel);
    rg_cli_table_kv(&t, "holds", "%s", hold);
    rg_cli_table_kv(&t, "created", "%s by %s", created,
                    rg_cli_jstr(p, "created_by", "-"));
    return rg__cli_print_table(cli, &t);
}

/* Builds the selector from --tag or the --attr k=v options. */
static int build_selector(rg_cli *cli, const rg_cli_args *a, json_t **out)
{
    const char *tag = rg_cli_args_get(a, "tag");
    json_t *attrs = json_object();
    *out = NULL;
    if (!attrs)
        return rg_err_set(&cli->err, RG_ENOMEM, "out of memory");
    const char *kvs[RG_CLI_ARGS_MAX];
    size_t n = rg_cli_args_all(a, "attr", kvs, RG_CLI_ARGS_MAX);
    for (size_t i = 0; i < n; i++) {
        const char *kv = kvs[i], *eq = strchr(kv, '=');
        if (!eq || eq == kv || !eq[1]) {
            json_decref(attrs);
            return rg__cli_usage(cli, "--attr '%s': expected KEY=VALUE", kv);
        }
        char key[64];
        snprintf(key, sizeof key, "%.*s", (int)(eq - kv), kv);
        if (json_object_get(attrs, key)) {
            json_decref(attrs);
            return rg__cli_usage(cli, "--attr %s: given twice", key);
        }
        if (json_object_set_new(attrs, key, json_string(eq + 1)) < 0) {
            json_decref(attrs);
            return rg_err_set(&cli->err, RG_ENOMEM, "out of memory");
        }
    }
    if ((tag != NULL) == (json_object_size(attrs) > 0)) {
        json_decref(attrs);
        return rg__cli_usage(cli, "give either --tag T or --attr KEY=VALUE");
    }
    if (tag) {
        json_decref(attrs);
        *out = json_pack("{s:s}", "tag", tag);
    } else {
        *out = json_pack("{s:o}", "attribute", attrs);
    }
    return *out ? 0 : rg_err_set(&cli->err, RG_ENOMEM, "out of memory");
}

static int policy_create(rg_cli *cli, const rg_cli_args *a)
{
    const char *channel;
    json_t *body = NULL, *sel = NULL, *res = NULL;
    int64_t version = 0;
    bool pin = false;
    bool n1 = rg_cli_args_has(a, "n-1");
    int rc;
    if ((rc = rg__cli_need(cli, a, "channel", &channel)) ||
        (rc = rg__cli_opt_int(cli, a, "pin", 1, INT64_MAX, &version, &pin)))
        return rc;
    if (n1 == pin)
        return rg__cli_usage(cli, "give either --n-1 or --pin VERSION");
    if ((rc = build_selector(cli, a, &sel)))
        return rc;
    body = json_pack("{s:s, s:s, s:O, s:s}", "name", a->pos[0], "channel",
                     channel, "selector", sel, "mode", pin ? "pin" : "n-1");
    if (!body ||
        (pin && json_object_set_new(body, "version", json_integer(version)))) {
        rc = rg_err_set(&cli->err, RG_ENOMEM, "out of memory");
        goto cleanup;
    }
    rc = rg__cli_call(cli, "POST", "/v1/policies", body, &res);
    if (!rc)
        rc = print_policy(cli, res);
cleanup:
    json_decref(sel);
    json_decref(body);
    json_decref(res);
    return rc;
}

static const char *const policy_headers[] = {
    "ID", "NAME", "CHANNEL", "SELECTOR", "HOLDS", "CREATED", NULL};

static void policy_layout(rg_cli_table *t)
{
    rg_cli_table_align_right(t, 0);
}

static void policy_row(rg_cli *cli, rg_cli_table *t, const json_t *p)
{
    char sel[256], hold[96], created[RG_CLI_FMT_MAX];
    selector_text(json_object_get(p, "selector"), sel, sizeof sel);
    hold_text(p, hold, sizeof hold);
    rg_cli_fmt_ago(created, sizeof created, cli->now_ms,
                   rg_cli_jint(p, "created_ms"));
    rg_cli_table_cellf(t, "%lld", (long long)rg_cli_jint(p, "id"));
    rg_cli_table_cell(t, rg_cli_jstr(p, "name", "-"));
    rg_cli_table_cell(t, rg_cli_jstr(p, "channel", "-"));
    rg_cli_table_cell(t, sel);
    rg_cli_table_cell(t, hold);
    rg_cli_table_cell(t, created);
}

static const rg__cli_listing policy_listing = {"policies", policy_headers,
                                               policy_layout, policy_row};

static int policy_list(rg_cli *cli, const rg_cli_args *a)
{
    (void)a;
    return rg__cli_list_show(cli, "/v1/policies", &policy_listing);
}

static int policy_delete(rg_cli *cli, const rg_cli_args *a)
{
    int64_t id;
    json_t *res = NULL;
    int rc = rg__cli_id(cli, "policy", a->pos[0], &id);
    if (!rc)
        rc = rg__cli_callf(cli, "DELETE", NULL, &res, "/v1/policies/%lld",
                           (long long)id);
    if (!rc)
        rc = print_policy(cli, res);
    json_decref(res);
    return rc;
}

static const char *const create_opts[] = {
    "channel:", "tag:", "attr:", "n-1", "pin:", NULL};

const rg_cli_command rg__cli_cmds_policy[] = {
    {"policy", "create",
     "NAME --channel C (--tag T | --attr KEY=VALUE ...) (--n-1 | --pin V)",
     "hold a group of endpoints one release behind, or on a version",
     "  --channel C        the channel the policy applies to\n"
     "  --tag T            the group: endpoints tagged T\n"
     "  --attr KEY=VALUE   the group: endpoints with these attributes (os,\n"
     "                     os_version, arch, hw, region); repeat for more\n"
     "  --n-1              members get a release only after its rollout\n"
     "                     completed on the general fleet\n"
     "  --pin V            members stay on version V of the channel\n",
     create_opts, 1, 1, true, policy_create},
    {"policy", "list", "", "list group policies", "", NULL, 0, 0, true,
     policy_list},
    {"policy", "delete", "ID",
     "delete a policy: its group rejoins the channel's rollouts", "", NULL, 1,
     1, true, policy_delete},
    {0},
};
