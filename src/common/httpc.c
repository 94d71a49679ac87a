/* httpc.c - see httpc.h. */
#include "httpc.h"

#include "common/err.h"

#include <stdio.h>
#include <string.h>

#define AUTH_MAX 1024 /* bytes of an Authorization header */

typedef struct sink {
    rg_buf *buf;
    bool too_big;
} sink;

static size_t on_write(char *p, size_t size, size_t n, void *ud)
{
    sink *s = ud;
    if (rg_buf_add(s->buf, p, size * n) != 0) {
        s->too_big = true;
        return 0; /* makes curl stop with CURLE_WRITE_ERROR */
    }
    return size * n;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow)
{
    const rg_httpc_req *req = ud;
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    return req->progress(req->progress_ud);
}

void rg_httpc_setup(CURL *h, const rg_httpc_req *req)
{
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    if (req->progress) {
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, req);
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    }
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (req->ca_file && req->ca_file[0])
        curl_easy_setopt(h, CURLOPT_CAINFO, req->ca_file);
}

/* The request's header lines, or NULL with *ok false when out of memory
 * or a value is too long. */
static struct curl_slist *headers(const rg_httpc_req *req, bool *ok)
{
    const char *const fmt[] = {"Accept: %s", "Content-Type: %s",
                               "Authorization: Bearer %s"};
    const char *const val[] = {
        req->accept, req->body ? req->content_type : NULL, req->token};
    char line[AUTH_MAX];
    struct curl_slist *l = NULL, *n;
    *ok = true;
    for (size_t i = 0; i < sizeof fmt / sizeof fmt[0]; i++) {
        if (!val[i] || !val[i][0])
            continue;
        if (snprintf(line, sizeof line, fmt[i], val[i]) >= (int)sizeof line ||
            !(n = curl_slist_append(l, line))) {
            curl_slist_free_all(l);
            *ok = false;
            return NULL;
        }
        l = n;
    }
    for (const char *const *h = req->headers; h && *h; h++) {
        if (!(n = curl_slist_append(l, *h))) {
            curl_slist_free_all(l);
            *ok = false;
            return NULL;
        }
        l = n;
    }
    return l;
}

/* A failed TLS handshake in words first, then TLS library's text (which
 * alone reads "SSL routines::wrong version number" when an https URL
 * names a server that speaks plain HTTP). */
static void tls_words(rg_httpc_res *res)
{
    char lib[CURL_ERROR_SIZE];
    snprintf(lib, sizeof lib, "%s", res->error);
    snprintf(res->error, sizeof res->error, "TLS handshake failed: %s%.160s",
             strstr(lib, "wrong version number")
                 ? "the server does not speak TLS (an http:// server needs "
                   "an http:// URL); "
                 : "",
             lib);
}

int rg_httpc_perform(CURL *h, const rg_httpc_req *req, rg_buf *resp,
                     rg_httpc_res *res)
{
    bool ok;
    sink s = {resp, false};
    memset(res, 0, sizeof *res);
    struct curl_slist *hdrs = headers(req, &ok);
    if (!ok) {
        snprintf(res->error, sizeof res->error, "out of memory");
        return RG_ENOMEM;
    }
    curl_easy_setopt(h, CURLOPT_URL, req->url);
    if (req->method)
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
    if (req->body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)strlen(req->body));
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, res->error);
    if (req->user_agent)
        curl_easy_setopt(h, CURLOPT_USERAGENT, req->user_agent);
    if (req->timeout_ms > 0)
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, req->timeout_ms);
    if (req->connect_timeout_ms > 0)
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, req->connect_timeout_ms);
    rg_httpc_setup(h, req);
    res->cc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &res->status);
    /* What points into this frame goes before it does. */
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, NULL);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(hdrs);
    res->too_big = s.too_big;
    if (res->cc != CURLE_OK && !res->error[0])
        snprintf(res->error, sizeof res->error, "%s",
                 curl_easy_strerror(res->cc));
    if (res->cc == CURLE_SSL_CONNECT_ERROR)
        tls_words(res);
    if (s.too_big)
        return RG_ETOOBIG;
    return res->cc == CURLE_OK ? 0 : RG_EUNAVAIL;
}
