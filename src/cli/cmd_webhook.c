/* cmd_webhook.c - `rollgate webhook create|list|show|deliveries|test|
 * delete`: /v1/webhooks (admin), docs/webhooks.md. */
#include "cli/cmd.h"
#include "cli/fmt.h"
#include "cli/view.h"

#include <stdlib.h>
#include <string.h>

/* Prints a subscription (its secret when the answer has one). */
static int print_webhook(rg_cli *cli, const json_t *w)
{
    if (cli->json)
        return rg__cli_print_json(cli, w);
    char created[2 * RG_CLI_FMT_MAX], events[256];
    rg__cli_when(cli, rg_cli_jint(w, "created_ms"), created, sizeof created);
    rg_cli_jjoin(w, "events", ",", events, sizeof events);
    rg_cli_table t;
    rg_cli_table_init_kv(&t);
    rg_cli_table_kv(&t, "webhook id", "%lld", (long long)rg_cli_jint(w, "id"));
    rg_cli_table_kv(&t, "url", "%s", rg_cli_jstr(w, "url", "-"));
    rg_cli_table_kv(&t, "events", "%s", events);
    rg_cli_table_kv(&t, "channel", "%s",
                    rg_cli_jstr(w, "channel", "(every channel)"));
    rg_cli_table_kv(&t, "created", "%s by %s", created,
                    rg_cli_jstr(w, "created_by", "-"));
    const char *secret = rg_cli_jstr(w, "secret", NULL);
    if (secret)
        rg_cli_table_kv(&t, "secret", "%s  (shown only now: store it)", secret);
    return rg__cli_print_table(cli, &t);
}

/* The comma-separated list s as a JSON array of its words. */
static json_t *words(const char *s)
{
    json_t *a = json_array();
    while (a && *s) {
        size_t n = strcspn(s, ",");
        if (n > 0 && json_array_append_new(a, json_stringn(s, n)) != 0) {
            json_decref(a);
            return NULL;
        }
        s += n + (s[n] == ',');
    }
    return a;
}

static int webhook_create(rg_cli *cli, const rg_cli_args *a)
{
    const char *events, *reason;
    const char *channel = rg_cli_args_get(a, "channel");
    const char *secret = rg_cli_args_get(a, "secret");
    json_t *body = NULL, *res = NULL;
    int rc;
    if ((rc = rg__cli_need(cli, a, "events", &events)) ||
        (rc = rg__cli_need(cli, a, "reason", &reason)))
        return rc;
    body = json_pack("{s:s, s:o, s:s}", "url", a->pos[0], "events",
                     words(events), "reason", reason);
    if (!body ||
        (channel &&
         json_object_set_new(body, "channel", json_string(channel))) ||
        (secret && json_object_set_new(body, "secret", json_string(secret)))) {
        rc = rg_err_set(&cli->err, RG_ENOMEM, "out of memory");
        goto cleanup;
    }
    rc = rg__cli_call(cli, "POST", "/v1/webhooks", body, &res);
    if (!rc)
        rc = print_webhook(cli, res);
cleanup:
    json_decref(body);
    json_decref(res);
    return rc;
}

static const char *const webhook_headers[] = {"ID",      "URL",     "EVENTS",
                                              "CHANNEL", "CREATED", NULL};

static void webhook_layout(rg_cli_table *t)
{
    rg_cli_table_align_right(t, 0);
}

static void webhook_row(rg_cli *cli, rg_cli_table *t, const json_t *w)
{
    char created[RG_CLI_FMT_MAX], events[256];
    rg_cli_fmt_ago(created, sizeof created, cli->now_ms,
                   rg_cli_jint(w, "created_ms"));
    rg_cli_jjoin(w, "events", ",", events, sizeof events);
    rg_cli_table_cellf(t, "%lld", (long long)rg_cli_jint(w, "id"));
    rg_cli_table_cell(t, rg_cli_jstr(w, "url", "-"));
    rg_cli_table_cell(t, events);
    rg_cli_table_cell(t, rg_cli_jstr(w, "channel", "*"));
    rg_cli_table_cell(t, created);
}

static const rg__cli_listing webhook_listing = {"webhooks", webhook_headers,
                                                webhook_layout, webhook_row};

static int webhook_list(rg_cli *cli, const rg_cli_args *a)
{
    (void)a;
    return rg__cli_list_show(cli, "/v1/webhooks", &webhook_listing);
}

/* Calls method on /v1/webhooks/ID<suffix> with body (may be NULL) and
 * prints the answer with print. */
static int webhook_call(rg_cli *cli, const rg_cli_args *a, const char *method,
                        const char *suffix, const json_t *body,
                        int (*print)(rg_cli *, const json_t *))
{
    int64_t id;
    json_t *res = NULL;
    int rc = rg__cli_id(cli, "webhook", a->pos[0], &id);
    if (!rc)
        rc = rg__cli_callf(cli, method, body, &res, "/v1/webhooks/%lld%s",
                           (long long)id, suffix);
    if (!rc)
        rc = print(cli, res);
    json_decref(res);
    return rc;
}

static int webhook_show(rg_cli *cli, const rg_cli_args *a)
{
    return webhook_call(cli, a, "GET", "", NULL, print_webhook);
}

/* The body {"reason"} of a command with --reason (required or not). */
static int reason_body(rg_cli *cli, const rg_cli_args *a, bool required,
                       json_t **body)
{
    const char *reason = rg_cli_args_get(a, "reason");
    int rc = required ? rg__cli_need(cli, a, "reason", &reason) : 0;
    if (rc)
        return rc;
    *body = reason ? json_pack("{s:s}", "reason", reason) : json_object();
    return *body ? 0 : rg_err_set(&cli->err, RG_ENOMEM, "out of memory");
}

static int webhook_delete(rg_cli *cli, const rg_cli_args *a)
{
    json_t *body = NULL;
    int rc = reason_body(cli, a, true, &body);
    if (!rc)
        rc = webhook_call(cli, a, "DELETE", "", body, print_webhook);
    json_decref(body);
    return rc;
}

static int print_queued(rg_cli *cli, const json_t *d)
{
    if (cli->json)
        return rg__cli_print_json(cli, d);
    fprintf(cli->out,
            "queued test delivery %s (see `rollgate webhook "
            "deliveries`)\n",
            rg_cli_jstr(d, "delivery", "-"));
    return 0;
}

static int webhook_test(rg_cli *cli, const rg_cli_args *a)
{
    json_t *body = NULL;
    int rc = reason_body(cli, a, false, &body);
    if (!rc)
        rc = webhook_call(cli, a, "POST", "/test", body, print_queued);
    json_decref(body);
    return rc;
}

static const char *const delivery_headers[] = {
    "DELIVERY", "EVENT",   "ROLLOUT",    "STATE", "ATTEMPTS",
    "STATUS",   "CREATED", "LAST ERROR", NULL};

static void delivery_layout(rg_cli_table *t)
{
    rg_cli_table_align_right(t, 4);
    rg_cli_table_align_right(t, 5);
}

static void delivery_row(rg_cli *cli, rg_cli_table *t, const json_t *d)
{
    char created[RG_CLI_FMT_MAX];
    rg_cli_fmt_ago(created, sizeof created, cli->now_ms,
                   rg_cli_jint(d, "created_ms"));
    rg_cli_table_cell(t, rg_cli_jstr(d, "delivery", "-"));
    rg_cli_table_cell(t, rg_cli_jstr(d, "event", "-"));
    if (rg_cli_jint(d, "rollout") > 0)
        rg_cli_table_cellf(t, "%lld", (long long)rg_cli_jint(d, "rollout"));
    else
        rg_cli_table_cell(t, "-");
    rg_cli_table_cell(t, rg_cli_jstr(d, "state", "-"));
    rg_cli_table_cellf(t, "%lld", (long long)rg_cli_jint(d, "attempts"));
    if (rg_cli_jint(d, "last_status") > 0)
        rg_cli_table_cellf(t, "%lld", (long long)rg_cli_jint(d, "last_status"));
    else
        rg_cli_table_cell(t, "-");
    rg_cli_table_cell(t, created);
    rg_cli_table_cell(t, rg_cli_jstr(d, "last_error", ""));
}

static const rg__cli_listing delivery_listing = {"deliveries", delivery_headers,
                                                 delivery_layout, delivery_row};

static int webhook_deliveries(rg_cli *cli, const rg_cli_args *a)
{
    int64_t id;
    char path[64];
    int rc = rg__cli_id(cli, "webhook", a->pos[0], &id);
    if (rc)
        return rc;
    snprintf(path, sizeof path, "/v1/webhooks/%lld/deliveries", (long long)id);
    return rg__cli_list_show(cli, path, &delivery_listing);
}

static const char *const create_opts[] = {
    "events:", "reason:", "channel:", "secret:", NULL};
static const char *const reason_opts[] = {"reason:", NULL};

const rg_cli_command rg__cli_cmds_webhook[] = {
    {"webhook", "create",
     "URL --events E[,E...] --reason R [--channel C] [--secret S]",
     "subscribe URL to rollout events (signed JSON POSTs)",
     "  --events E,...     halt, hold, complete, rollback, pause, resume, or "
     "*\n"
     "  --reason R         why (recorded in the audit log)\n"
     "  --channel C        only rollouts of channel C (default: every one)\n"
     "  --secret S         the signing secret, 16 to 128 printable bytes\n"
     "                     (default: the server makes one, shown once)\n",
     create_opts, 1, 1, true, webhook_create},
    {"webhook", "list", "", "list webhook subscriptions (without secrets)", "",
     NULL, 0, 0, true, webhook_list},
    {"webhook", "show", "ID", "show a webhook subscription", "", NULL, 1, 1,
     true, webhook_show},
    {"webhook", "deliveries", "ID",
     "a subscription's deliveries, newest first: state, attempts, errors", "",
     NULL, 1, 1, true, webhook_deliveries},
    {"webhook", "test", "ID [--reason R]",
     "queue a test delivery (event \"test\") to a subscription",
     "  --reason R         why (recorded in the audit log)\n", reason_opts, 1,
     1, true, webhook_test},
    {"webhook", "delete", "ID --reason R",
     "delete a subscription and its pending deliveries",
     "  --reason R         why (recorded in the audit log)\n", reason_opts, 1,
     1, true, webhook_delete},
    {0},
};
