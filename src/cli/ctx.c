/* ctx.c - see ctx.h. */
#include "ctx.h"

#include "cli/fmt.h"
#include "common/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#define PATH_MAX_BYTES 8192

int rg__cli_usage(rg_cli *cli, const char *fmt, ...)
{
    /* Formatted aside first: callers may pass cli->err.msg itself. */
    char msg[sizeof cli->err.msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    rg_err_set(&cli->err, RG_EINVAL, "%s", msg);
    cli->usage = true;
    return RG_EINVAL;
}

int rg__cli_call(rg_cli *cli, const char *method, const char *path,
                 const json_t *body, json_t **out)
{
    return rg_cli_http_json(&cli->http, method, path, body, out, &cli->err);
}

int rg__cli_callf(rg_cli *cli, const char *method, const json_t *body,
                  json_t **out, const char *fmt, ...)
{
    rg_buf path;
    rg_buf_init(&path, PATH_MAX_BYTES);
    va_list ap;
    va_start(ap, fmt);
    int rc = rg_buf_vprintf(&path, fmt, ap);
    va_end(ap);
    if (rc)
        rc = rg_err_set(&cli->err, RG_EINVAL, "request path is too long");
    else
        rc = rg__cli_call(cli, method, path.data, body, out);
    rg_buf_release(&path);
    return rc;
}

#define LIST_PAGE 1000 /* the server's largest page */

/* Appends the page of path after cursor after ("" first) with at most
 * want items to all; copies its next_after into after ("" on the last
 * page) and *next (new reference). Returns 0 or negative with cli->err
 * filled. */
static int list_page(rg_cli *cli, const char *path, const char *key,
                     int64_t want, char *after, size_t n, json_t *all,
                     json_t **next)
{
    json_t *page = NULL;
    char num[24];
    rg_buf p;
    rg_buf_init(&p, PATH_MAX_BYTES);
    snprintf(num, sizeof num, "%lld", (long long)want);
    int rc = rg_buf_adds(&p, path) || rg_cli_query_add(&p, "limit", num) ||
                     (after[0] && rg_cli_query_add(&p, "after", after))
                 ? rg_err_set(&cli->err, RG_EINVAL, "request path is too long")
                 : rg__cli_call(cli, "GET", p.data, NULL, &page);
    rg_buf_release(&p);
    if (rc)
        return rc;
    json_t *items = json_object_get(page, key);
    json_decref(*next);
    *next = json_incref(json_object_get(page, "next_after"));
    if (!json_is_array(items) || json_array_extend(all, items) != 0)
        rc = rg_err_set(&cli->err, RG_EIO, "answer without a '%s' list", key);
    else if (json_is_integer(*next) && json_array_size(items))
        snprintf(after, n, "%lld", (long long)json_integer_value(*next));
    else if (json_is_string(*next) && json_array_size(items))
        snprintf(after, n, "%s", json_string_value(*next));
    else
        after[0] = '\0';
    json_decref(page);
    return rc;
}

int rg__cli_list(rg_cli *cli, const char *path, const char *key, int64_t max,
                 json_t **out)
{
    char after[256] = "";
    json_t *all = json_array(), *next = NULL;
    if (!all)
        return rg_err_set(&cli->err, RG_ENOMEM, "out of memory");
    int rc = 0;
    do {
        int64_t want = LIST_PAGE, have = (int64_t)json_array_size(all);
        if (max > 0 && max - have < want)
            want = max - have;
        if (want <= 0)
            break;
        rc = list_page(cli, path, key, want, after, sizeof after, all, &next);
    } while (!rc && after[0]);
    if (rc) {
        json_decref(all);
        json_decref(next);
        return rc;
    }
    /* the server's answer for the whole list: next_after null, unless
     * max stopped it early */
    *out = json_pack("{s:o, s:o}", key, all, "next_after",
                     after[0] && next ? next : json_null());
    if (!after[0] || !next)
        json_decref(next);
    return *out ? 0 : rg_err_set(&cli->err, RG_ENOMEM, "out of memory");
}

int rg__cli_print_json(rg_cli *cli, const json_t *v)
{
    if (json_dumpf(v, cli->out, JSON_INDENT(2)) != 0 ||
        fputc('\n', cli->out) == EOF)
        return rg_err_set(&cli->err, RG_EIO, "cannot write the output");
    return 0;
}

int rg__cli_print_table(rg_cli *cli, rg_cli_table *t)
{
    int rc = rg_cli_table_print(t, cli->out);
    rg_cli_table_release(t);
    if (rc)
        return rg_err_set(&cli->err, rc, "cannot write the output");
    return 0;
}

int rg__cli_list_show(rg_cli *cli, const char *path, const rg__cli_listing *l)
{
    json_t *res = NULL;
    int rc = rg__cli_list(cli, path, l->key, 0, &res);
    if (rc)
        goto cleanup;
    if (cli->json) {
        rc = rg__cli_print_json(cli, res);
        goto cleanup;
    }
    rg_cli_table t;
    rg_cli_table_init(&t, l->headers);
    if (l->layout)
        l->layout(&t);
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(res, l->key), i, item)
        l->row(cli, &t, item);
    rc = rg__cli_print_table(cli, &t);
cleanup:
    json_decref(res);
    return rc;
}

int rg__cli_list_filtered(rg_cli *cli, const rg_cli_args *a, const char *base,
                          const char *const *names, const rg__cli_listing *l)
{
    rg_buf path;
    rg_buf_init(&path, 4096);
    int rc = rg_buf_adds(&path, base);
    for (size_t i = 0; !rc && names[i]; i++) {
        const char *v = rg_cli_args_get(a, names[i]);
        if (v)
            rc = rg_cli_query_add(&path, names[i], *v ? v : "1");
    }
    if (rc)
        rc = rg__cli_usage(cli, "the options are too long for a URL");
    else
        rc = rg__cli_list_show(cli, path.data, l);
    rg_buf_release(&path);
    return rc;
}

int rg__cli_need(rg_cli *cli, const rg_cli_args *a, const char *name,
                 const char **out)
{
    const char *v = rg_cli_args_get(a, name);
    if (!v || !*v)
        return rg__cli_usage(cli, "--%s is required", name);
    *out = v;
    return 0;
}

int rg__cli_opt_int(rg_cli *cli, const rg_cli_args *a, const char *name,
                    int64_t min, int64_t max, int64_t *out, bool *given)
{
    const char *v = rg_cli_args_get(a, name);
    if (given)
        *given = v != NULL;
    if (!v)
        return given ? 0 : rg__cli_usage(cli, "--%s is required", name);
    rg_err perr;
    if (rg_cli_parse_int(v, min, max, out, &perr))
        return rg__cli_usage(cli, "--%s: %s", name, perr.msg);
    return 0;
}

int rg__cli_opt_duration(rg_cli *cli, const rg_cli_args *a, const char *name,
                         int64_t *seconds, bool *given)
{
    const char *v = rg_cli_args_get(a, name);
    *given = v != NULL;
    if (!v)
        return 0;
    rg_err perr;
    if (rg_cli_parse_duration(v, seconds, &perr))
        return rg__cli_usage(cli, "--%s: %s", name, perr.msg);
    return 0;
}

int rg__cli_id(rg_cli *cli, const char *what, const char *s, int64_t *id)
{
    rg_err perr;
    if (rg_cli_parse_int(s, 1, INT64_MAX, id, &perr))
        return rg__cli_usage(cli, "'%s' is not a %s id (a positive integer)", s,
                             what);
    return 0;
}

void rg__cli_when(const rg_cli *cli, int64_t ms, char *out, size_t n)
{
    char iso[RG_CLI_FMT_MAX], ago[RG_CLI_FMT_MAX];
    if (ms <= 0) {
        snprintf(out, n, "-");
        return;
    }
    rg_cli_fmt_iso(iso, sizeof iso, ms);
    rg_cli_fmt_ago(ago, sizeof ago, cli->now_ms, ms);
    snprintf(out, n, "%s (%s)", iso, ago);
}

void rg__cli_sleep_ms(int64_t ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}
