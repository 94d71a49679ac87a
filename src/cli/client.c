/* client.c - see client.h. */
#include "client.h"

#include "common/httpc.h"
#include "common/json.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define CONNECT_TIMEOUT_MS 5000L
#define TIMEOUT_MS 60000L
#define UPLOAD_LOW_SPEED_S 60L /* uploads abort after this long under 1 B/s */

int rg_cli_http_init(rg_cli_http *h, const char *url, const char *token,
                     rg_err *err)
{
    memset(h, 0, sizeof *h);
    h->connect_timeout_ms = CONNECT_TIMEOUT_MS;
    h->timeout_ms = TIMEOUT_MS;
    h->max_response = RG_CLI_RESPONSE_MAX;
    int n = snprintf(h->url, sizeof h->url, "%s", url);
    if (n < 0 || (size_t)n >= sizeof h->url)
        return rg_err_field(err, RG_EINVAL, "server", "server URL is too long");
    if (token && *token) {
        n = snprintf(h->token, sizeof h->token, "%s", token);
        if (n < 0 || (size_t)n >= sizeof h->token)
            return rg_err_field(err, RG_EINVAL, "token", "token is too long");
    }
    h->curl = curl_easy_init();
    if (!h->curl)
        return rg_err_set(err, RG_ENOMEM, "cannot create an HTTP handle");
    return 0;
}

int rg_cli_http_set_ca(rg_cli_http *h, const char *path, rg_err *err)
{
    int n = snprintf(h->ca_file, sizeof h->ca_file, "%s", path);
    if (n < 0 || (size_t)n >= sizeof h->ca_file) {
        h->ca_file[0] = '\0';
        return rg_err_field(err, RG_EINVAL, "ca-file",
                            "CA file name is too long");
    }
    return 0;
}

void rg_cli_http_release(rg_cli_http *h)
{
    if (h->curl)
        curl_easy_cleanup(h->curl);
    h->curl = NULL;
}

static const struct {
    long status;
    int code;
} status_codes[] = {
    {400, RG_EINVAL},    {401, RG_EAUTH},  {403, RG_EFORBIDDEN},
    {404, RG_ENOTFOUND}, {405, RG_EINVAL}, {409, RG_ECONFLICT},
    {413, RG_ETOOBIG},   {416, RG_ERANGE}, {429, RG_ERATELIMIT},
    {503, RG_EUNAVAIL},
};

/* The rg_code whose rg_code_name is name, or 0 when none is. */
static int code_from_name(const char *name)
{
    for (int c = RG_EINVAL; c >= RG_ERATELIMIT; c--)
        if (strcmp(rg_code_name(c), name) == 0)
            return c;
    return 0;
}

static int code_from_status(long status)
{
    for (size_t i = 0; i < sizeof status_codes / sizeof status_codes[0]; i++)
        if (status_codes[i].status == status)
            return status_codes[i].code;
    return status >= 500 ? RG_EINTERNAL : RG_EINVAL;
}

int rg_cli_http_error(long status, const char *body, size_t len, rg_err *err)
{
    json_t *doc = len ? json_loadb(body, len, 0, NULL) : NULL;
    json_t *e = json_is_object(doc) ? json_object_get(doc, "error") : NULL;
    const char *name = json_string_value(json_object_get(e, "code"));
    const char *msg = json_string_value(json_object_get(e, "message"));
    const char *field = json_string_value(json_object_get(e, "field"));
    int code = name ? code_from_name(name) : 0;
    if (!code)
        code = code_from_status(status);
    if (msg && *msg)
        rg_err_field(err, code, field, "%s", msg);
    else
        rg_err_field(err, code, field, "HTTP %ld from server", status);
    json_decref(doc);
    return code;
}

/* Interprets an answer of status with body resp: the parsed object of a
 * 2xx answer into *out, else the error. */
static int answer(rg_cli_http *h, long status, const rg_buf *resp, json_t **out,
                  rg_err *err)
{
    h->status = status;
    if (status >= 400)
        return rg_cli_http_error(status, resp->data, resp->len, err);
    if (status < 200 || status >= 300)
        return rg_err_set(err, RG_EINTERNAL,
                          "unexpected HTTP status %ld from %s", status, h->url);
    rg_err perr;
    *out = rg_json_parse_object(resp->data ? resp->data : "", resp->len, &perr);
    if (!*out)
        return rg_err_set(err, RG_EINTERNAL, "bad answer from %s: %s", h->url,
                          perr.msg);
    return 0;
}

/* Performs method path with body (NULL: none) of content_type on h's
 * handle (set up by the caller since its reset) and interprets the
 * answer. */
static int perform(rg_cli_http *h, const char *method, const char *path,
                   const char *body, const char *content_type, json_t **out,
                   rg_err *err)
{
    rg_buf url, resp;
    rg_httpc_res res;
    rg_buf_init(&url, RG_CLI_URL_MAX + 8192);
    rg_buf_init(&resp, h->max_response);
    int rc = 0;
    *out = NULL;
    h->status = 0;

    if (rg_buf_adds(&url, h->url) || rg_buf_adds(&url, path)) {
        rc = rg_err_set(err, RG_EINVAL, "request URL is too long");
        goto cleanup;
    }
    rg_httpc_req req = {.url = url.data,
                        .method = method,
                        .token = h->token,
                        .body = body,
                        .content_type = content_type,
                        .accept = "application/json",
                        .user_agent = "rollgate/" RG_VERSION,
                        .ca_file = h->ca_file,
                        .connect_timeout_ms = h->connect_timeout_ms};
    rc = rg_httpc_perform(h->curl, &req, &resp, &res);
    if (res.too_big) {
        rc = rg_err_set(err, RG_ETOOBIG, "answer from %s is over %zu bytes",
                        h->url, h->max_response);
        goto cleanup;
    }
    if (rc == RG_ENOMEM) {
        rc = rg_err_set(err, RG_ENOMEM, "out of memory");
        goto cleanup;
    }
    /* A server may answer (413) and close before reading an upload:
     * report its answer rather than the broken pipe. */
    if (res.cc != CURLE_OK && !(res.status >= 400 && resp.len > 0)) {
        rc = rg_err_set(err, RG_EUNAVAIL, "cannot reach %s: %s", h->url,
                        res.error);
        goto cleanup;
    }
    rc = answer(h, res.status, &resp, out, err);
cleanup:
    rg_buf_release(&url);
    rg_buf_release(&resp);
    return rc;
}

int rg_cli_http_json(rg_cli_http *h, const char *method, const char *path,
                     const json_t *body, json_t **out, rg_err *err)
{
    char *text = NULL;
    *out = NULL;
    if (body && !(text = rg_json_dump(body)))
        return rg_err_set(err, RG_ENOMEM, "out of memory");
    curl_easy_reset(h->curl);
    curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, h->timeout_ms);
    int rc = perform(h, method, path, text, text ? "application/json" : NULL,
                     out, err);
    free(text);
    return rc;
}

int rg_cli_http_upload(rg_cli_http *h, const char *path, FILE *f, uint64_t size,
                       json_t **out, rg_err *err)
{
    curl_easy_reset(h->curl);
    curl_easy_setopt(h->curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h->curl, CURLOPT_READDATA, f);
    curl_easy_setopt(h->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)size);
    curl_easy_setopt(h->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h->curl, CURLOPT_LOW_SPEED_TIME, UPLOAD_LOW_SPEED_S);
    return perform(h, "PUT", path, NULL, "application/octet-stream", out, err);
}

int rg_cli_url_escape(rg_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        int rc;
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
            (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' ||
            *p == '~') {
            rc = rg_buf_add(b, p, 1);
        } else {
            char enc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            rc = rg_buf_add(b, enc, 3);
        }
        if (rc)
            return rc;
    }
    return 0;
}

int rg_cli_query_add(rg_buf *b, const char *key, const char *value)
{
    bool has_query = b->data && strchr(b->data, '?');
    int rc = rg_buf_adds(b, has_query ? "&" : "?");
    if (!rc)
        rc = rg_cli_url_escape(b, key);
    if (!rc)
        rc = rg_buf_adds(b, "=");
    if (!rc)
        rc = rg_cli_url_escape(b, value);
    return rc;
}
