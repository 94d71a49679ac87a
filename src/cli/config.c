/* config.c - see config.h. */
#include "config.h"

#include "common/buf.h"
#include "common/file.h"
#include "common/kv.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define CONFIG_MAX_BYTES (64 * 1024)

static bool given(const char *s)
{
    return s && *s;
}

static int set_value(char *dst, size_t n, const char *src, size_t len,
                     const char *what, rg_err *err)
{
    if (len >= n)
        return rg_err_field(err, RG_EINVAL, what, "%s is longer than %zu bytes",
                            what, n - 1);
    memcpy(dst, src, len);
    dst[len] = '\0';
    return 0;
}

/* rg_kv_fn: ctx is the rg_cli_config being filled. */
static int on_line(void *ctx, const rg_kv_line *l, rg_err *err)
{
    rg_cli_config *out = ctx;
    const char *v = l->value;
    size_t vlen = strlen(v);
    if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
        v++;
        vlen -= 2;
    }
    char *dst = NULL;
    size_t dst_n = 0;
    if (l->section) {
        return rg_err_set(err, RG_EINVAL, "%s: no sections in this file",
                          l->where);
    } else if (strcmp(l->key, "server") == 0 || strcmp(l->key, "url") == 0) {
        dst = out->url;
        dst_n = sizeof out->url;
    } else if (strcmp(l->key, "token") == 0) {
        dst = out->token;
        dst_n = sizeof out->token;
    } else if (strcmp(l->key, "ca_file") == 0) {
        dst = out->ca_file;
        dst_n = sizeof out->ca_file;
    } else {
        return rg_err_set(err, RG_EINVAL,
                          "%s: unknown key '%s' (known: server, token, "
                          "ca_file)",
                          l->where, l->key);
    }
    if (vlen >= dst_n)
        return rg_err_set(err, RG_EINVAL, "%s: '%s' is over %zu bytes",
                          l->where, l->key, dst_n - 1);
    memcpy(dst, v, vlen);
    dst[vlen] = '\0';
    return 0;
}

int rg_cli_config_parse(const char *text, size_t len, const char *path,
                        rg_cli_config *out, rg_err *err)
{
    return rg_kv_parse(text, len, path, on_line, out, err);
}

/* Reads path into b. Returns 0, 1 when it does not exist, or an error. */
static int read_file(const char *path, rg_buf *b, rg_err *err)
{
    rg_err why;
    int rc = rg_file_read(path, b, &why);
    if (rc == RG_ENOTFOUND)
        return 1;
    if (rc == RG_EIO)
        return rg_err_set(err, RG_EIO, "cannot read config %s", why.msg);
    if (rc < 0)
        return rg_err_set(err, RG_EINVAL, "config '%s' is over %d bytes", path,
                          CONFIG_MAX_BYTES);
    return 0;
}

static int check_url(const char *url, rg_err *err)
{
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
        return rg_err_field(
            err, RG_EINVAL, "server",
            "server URL '%s' must start with http:// or https://", url);
    return 0;
}

int rg_cli_config_resolve(const rg_cli_config_in *in, rg_cli_config *out,
                          rg_err *err)
{
    rg_buf text;
    rg_buf_init(&text, CONFIG_MAX_BYTES);
    char path[1024] = "";
    int rc = 0;
    memset(out, 0, sizeof *out);
    out->token_from = "";
    if (given(in->flag_url)) {
        rc = set_value(out->url, sizeof out->url, in->flag_url,
                       strlen(in->flag_url), "server", err);
        out->url_from = "--server";
    } else if (given(in->env_url)) {
        rc = set_value(out->url, sizeof out->url, in->env_url,
                       strlen(in->env_url), "ROLLGATE_URL", err);
        out->url_from = "ROLLGATE_URL";
    }
    if (rc)
        goto cleanup;
    if (given(in->flag_token)) {
        rc = set_value(out->token, sizeof out->token, in->flag_token,
                       strlen(in->flag_token), "token", err);
        out->token_from = "--token";
    } else if (given(in->env_token)) {
        rc = set_value(out->token, sizeof out->token, in->env_token,
                       strlen(in->env_token), "ROLLGATE_TOKEN", err);
        out->token_from = "ROLLGATE_TOKEN";
    }
    if (rc)
        goto cleanup;
    if (given(in->flag_ca))
        rc = set_value(out->ca_file, sizeof out->ca_file, in->flag_ca,
                       strlen(in->flag_ca), "ca-file", err);
    else if (given(in->env_ca))
        rc = set_value(out->ca_file, sizeof out->ca_file, in->env_ca,
                       strlen(in->env_ca), "ROLLGATE_CA_FILE", err);
    if (rc)
        goto cleanup;

    /* A CA file matters only for https: a command whose other values are
     * all given does not read the file for it otherwise. */
    bool need_ca = !out->ca_file[0] &&
                   (!out->url_from || strncmp(out->url, "https://", 8) == 0);
    if (!out->url_from || !out->token[0] || need_ca) {
        bool explicit = true;
        if (given(in->flag_config))
            snprintf(path, sizeof path, "%s", in->flag_config);
        else if (given(in->env_config))
            snprintf(path, sizeof path, "%s", in->env_config);
        else if (given(in->home)) {
            snprintf(path, sizeof path, "%s/.config/rollgate/config", in->home);
            explicit = false;
        }
        if (path[0]) {
            rc = read_file(path, &text, err);
            if (rc == 1) {
                rc = explicit
                         ? rg_err_field(err, RG_EINVAL, "config",
                                        "config file '%s' does not exist", path)
                         : 0;
            } else if (rc == 0) {
                rg_cli_config file;
                memset(&file, 0, sizeof file);
                rc = rg_cli_config_parse(text.data ? text.data : "", text.len,
                                         path, &file, err);
                if (!rc && !out->url_from && file.url[0]) {
                    memcpy(out->url, file.url, sizeof file.url);
                    out->url_from = "config";
                }
                if (!rc && !out->token[0] && file.token[0]) {
                    memcpy(out->token, file.token, sizeof file.token);
                    out->token_from = "config";
                }
                if (!rc && !out->ca_file[0] && file.ca_file[0])
                    memcpy(out->ca_file, file.ca_file, sizeof file.ca_file);
            }
            if (rc)
                goto cleanup;
        }
    }
    if (!out->url_from) {
        snprintf(out->url, sizeof out->url, "%s", RG_CLI_DEFAULT_URL);
        out->url_from = "default";
    }
    size_t n = strlen(out->url);
    while (n > 0 && out->url[n - 1] == '/')
        out->url[--n] = '\0';
    rc = check_url(out->url, err);
cleanup:
    rg_buf_release(&text);
    return rc;
}
