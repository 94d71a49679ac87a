/* client.c - see client.h. */
#include "client.h"

#include "common/buf.h"
#include "common/httpc.h"
#include "common/json.h"
#include "common/log.h"
#include "failpoint.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int rg_client_init(rg_client *c, const char *base, int64_t timeout_ms,
                   int64_t max_artifact, rg_err *err)
{
    memset(c, 0, sizeof *c);
    if (snprintf(c->base, sizeof c->base, "%s", base) >= (int)sizeof c->base)
        return rg_err_set(err, RG_EINVAL, "server url too long");
    c->timeout_ms = timeout_ms;
    c->max_artifact = max_artifact;
    c->min_rate = 1;
    c->curl = curl_easy_init();
    if (!c->curl)
        return rg_err_set(err, RG_EINTERNAL, "curl_easy_init failed");
    return 0;
}

int rg_client_set_ca(rg_client *c, const char *path, rg_err *err)
{
    if (snprintf(c->ca_file, sizeof c->ca_file, "%s", path) >=
        (int)sizeof c->ca_file) {
        c->ca_file[0] = '\0';
        return rg_err_set(err, RG_EINVAL, "ca_file '%.64s...' too long", path);
    }
    return 0;
}

void rg_client_release(rg_client *c)
{
    if (c->curl)
        curl_easy_cleanup(c->curl);
    c->curl = NULL;
}

static int status_code(long status)
{
    switch (status) {
    case 400:
        return RG_EINVAL;
    case 401:
        return RG_EAUTH;
    case 403:
        return RG_EFORBIDDEN;
    case 404:
        return RG_ENOTFOUND;
    case 409:
        return RG_ECONFLICT;
    case 413:
        return RG_ETOOBIG;
    case 416:
        return RG_ERANGE;
    case 429:
        return RG_ERATELIMIT;
    default:
        return status >= 500 ? RG_EUNAVAIL : RG_EINVAL;
    }
}

/* Fills err from an error answer {"error": {"message": ...}}. */
static int http_error(long status, const rg_buf *body, const char *path,
                      rg_err *err)
{
    const char *msg = "";
    json_t *v = body->data ? json_loadb(body->data, body->len, 0, NULL) : NULL;
    json_t *e = v ? json_object_get(v, "error") : NULL;
    if (e && json_is_string(json_object_get(e, "message")))
        msg = json_string_value(json_object_get(e, "message"));
    rg_err_set(err, status_code(status), "%s: http %ld: %s", path, status, msg);
    json_decref(v);
    return status_code(status);
}

/* The settings of c's requests (a token only when auth). */
static rg_httpc_req request(const rg_client *c, const char *url, bool auth)
{
    return (rg_httpc_req){.url = url,
                          .token = auth ? c->token : NULL,
                          .ca_file = c->ca_file,
                          .timeout_ms = (long)c->timeout_ms,
                          .connect_timeout_ms = (long)c->timeout_ms,
                          .progress = c->progress,
                          .progress_ud = c->progress_ud};
}

/* GET (body NULL) or POST path; parses the JSON object answer into *out.
 * See rg_client_post for the returns. */
static int call(rg_client *c, const char *path, const json_t *body, bool auth,
                json_t **out, rg_err *err)
{
    char url[2048];
    char *text = NULL;
    int rc = 0;
    rg_httpc_res res;
    rg_buf resp;
    rg_buf_init(&resp, RG_CLIENT_MAX_JSON);
    *out = NULL;
    snprintf(url, sizeof url, "%s%s", c->base, path);
    rg_httpc_req req = request(c, url, auth);
    if (body && !(req.body = text = rg_json_dump(body))) {
        rc = rg_err_set(err, RG_ENOMEM, "%s: out of memory", path);
        goto cleanup;
    }
    if (body)
        req.content_type = "application/json";
    curl_easy_reset(c->curl);
    rc = rg_httpc_perform(c->curl, &req, &resp, &res);
    if (rc != 0) {
        rg_err_set(err, rc, "%s: %s", path,
                   rc == RG_ENOMEM ? "out of memory"
                                   : curl_easy_strerror(res.cc));
        goto cleanup;
    }
    if (res.status < 200 || res.status > 299) {
        rc = http_error(res.status, &resp, path, err);
        goto cleanup;
    }
    *out = rg_json_parse_object(resp.data ? resp.data : "", resp.len, err);
    if (!*out)
        rc = RG_EUNAVAIL; /* a garbled answer is treated as no answer */
cleanup:
    free(text);
    rg_buf_release(&resp);
    return rc;
}

int rg_client_get(rg_client *c, const char *path, json_t **out, rg_err *err)
{
    return call(c, path, NULL, false, out, err);
}

int rg_client_post(rg_client *c, const char *path, const json_t *body, int auth,
                   json_t **out, rg_err *err)
{
    return call(c, path, body, auth != 0, out, err);
}

/* One part of u as a new string (curl_free), or NULL. */
static char *url_part(CURLU *u, CURLUPart what, unsigned flags)
{
    char *s = NULL;
    return curl_url_get(u, what, &s, flags) == CURLUE_OK ? s : NULL;
}

/* True when a and b are the same string (both NULL counts). */
static bool same_part(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Scheme, host and port of u and base (default ports filled in): equal? */
static bool same_origin(CURLU *u, CURLU *base)
{
    static const CURLUPart parts[] = {CURLUPART_SCHEME, CURLUPART_HOST,
                                      CURLUPART_PORT};
    bool same = true;
    for (size_t i = 0; same && i < sizeof parts / sizeof parts[0]; i++) {
        char *a = url_part(u, parts[i], CURLU_DEFAULT_PORT);
        char *b = url_part(base, parts[i], CURLU_DEFAULT_PORT);
        same = a && same_part(a, b);
        curl_free(a);
        curl_free(b);
    }
    return same;
}

/* Sets u to the base URL with a path ending in '/' (a directory that
 * relative references resolve under, as the server's paths extend it). */
static bool set_base_dir(CURLU *u, const char *base)
{
    char dir[1100];
    if (curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK)
        return false;
    char *path = url_part(u, CURLUPART_PATH, 0);
    bool ok =
        path && snprintf(dir, sizeof dir, "%s%s", path,
                         path[0] && path[strlen(path) - 1] == '/' ? "" : "/") <
                    (int)sizeof dir;
    curl_free(path);
    return ok && curl_url_set(u, CURLUPART_PATH, dir, 0) == CURLUE_OK;
}

int rg_client_resolve(const rg_client *c, const char *ref, char *out,
                      size_t cap, bool *origin, rg_err *err)
{
    CURLU *base = curl_url(), *u = curl_url();
    char *s = NULL, *user = NULL, *scheme = NULL;
    int rc = 0;
    *origin = false;
    if (!base || !u) {
        rc = rg_err_set(err, RG_ENOMEM, "out of memory");
        goto cleanup;
    }
    /* "/v1/..." is a path under the server's base URL (which may have a
     * path of its own); anything else resolves as RFC 3986 says. */
    const char *rel = ref[0] == '/' && ref[1] != '/' ? ref + 1 : ref;
    if (curl_url_set(base, CURLUPART_URL, c->base, 0) != CURLUE_OK ||
        !set_base_dir(u, c->base) ||
        curl_url_set(u, CURLUPART_URL, rel, 0) != CURLUE_OK ||
        !(s = url_part(u, CURLUPART_URL, 0))) {
        rc = rg_err_field(err, RG_EINVAL, "url", "url '%.200s' is not a url",
                          ref);
        goto cleanup;
    }
    user = url_part(u, CURLUPART_USER, 0);
    scheme = url_part(u, CURLUPART_SCHEME, 0);
    if (user || !scheme ||
        (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
        rc = rg_err_field(err, RG_EINVAL, "url",
                          "url '%.200s': only http(s) "
                          "without user information",
                          ref);
        goto cleanup;
    }
    if (snprintf(out, cap, "%s", s) >= (int)cap) {
        rc = rg_err_field(err, RG_EINVAL, "url", "url '%.200s' too long", ref);
        goto cleanup;
    }
    *origin = same_origin(u, base);
cleanup:
    curl_free(s);
    curl_free(user);
    curl_free(scheme);
    curl_url_cleanup(u);
    curl_url_cleanup(base);
    return rc;
}

typedef struct download {
    int fd;
    int64_t have;  /* bytes in the part file */
    int64_t limit; /* refuse beyond this */
    long status;   /* filled by the header callback */
    int error;     /* errno of a failed write, or -1 for over the limit */
    CURL *h;
    rg_buf errbody; /* body of an error answer */
} download;

static size_t to_file(char *p, size_t size, size_t n, void *ud)
{
    download *d = ud;
    size_t len = size * n;
    if (d->status == 0)
        curl_easy_getinfo(d->h, CURLINFO_RESPONSE_CODE, &d->status);
    if (d->status != 200 && d->status != 206)
        return rg_buf_add(&d->errbody, p, len) == 0 ? len : 0;
    if (d->status == 200 && d->have > 0) { /* server ignored Range */
        if (ftruncate(d->fd, 0) != 0 || lseek(d->fd, 0, SEEK_SET) != 0) {
            d->error = errno;
            return 0;
        }
        d->have = 0;
    }
    if (d->have + (int64_t)len > d->limit) {
        d->error = -1;
        return 0;
    }
    for (size_t off = 0; off < len;) {
        ssize_t w = write(d->fd, p + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            d->error = errno;
            return 0;
        }
        off += (size_t)w;
    }
    d->have += (int64_t)len;
    d->status = 206; /* the file now holds this answer's bytes */
    rg_failpoint("apply.during_download");
    return len;
}

/* Opens part_path for d, positioned after the bytes already there (none
 * when they are more than want->size). Returns 0 or RG_EIO. */
static int open_part(download *d, const char *part_path,
                     const rg_artifact_want *want, rg_err *err)
{
    struct stat st;
    d->fd = open(part_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (d->fd < 0 || fstat(d->fd, &st) != 0)
        return rg_err_set(err, RG_EIO, "'%s': %s", part_path, strerror(errno));
    d->have = st.st_size;
    if (d->have > want->size && ftruncate(d->fd, 0) == 0)
        d->have = 0;
    if (lseek(d->fd, d->have, SEEK_SET) < 0)
        return rg_err_set(err, RG_EIO, "'%s': %s", part_path, strerror(errno));
    return 0;
}

/* Sets up c's handle to fetch url into d from d->have on (the token in
 * hdrs only for the server's own origin), at least c->min_rate. */
static void fetch_setup(rg_client *c, const char *url, download *d,
                        struct curl_slist *hdrs, const rg_httpc_req *setup)
{
    char range[64];
    CURL *h = c->curl;
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    if (d->have > 0) {
        snprintf(range, sizeof range, "%lld-", (long long)d->have);
        curl_easy_setopt(h, CURLOPT_RANGE, range); /* curl copies it */
    }
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, to_file);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, d);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)c->timeout_ms);
    /* Under min_rate for the timeout: cut, resumed at the next try. */
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, (long)c->min_rate);
    curl_easy_setopt(
        h, CURLOPT_LOW_SPEED_TIME,
        (long)(c->timeout_ms / 1000 > 0 ? c->timeout_ms / 1000 : 1));
    rg_httpc_setup(h, setup);
}

/* Fetches the rest of the artifact at url_path into d's part file.
 * Returns 0 or an rg_code (see rg_client_download). */
/* Empties the part file so the next try starts from byte 0; a failure is
 * logged (the next try then resumes from a wrong prefix, which the digest
 * check refuses, and this runs again). */
static void restart_part(int fd)
{
    if (ftruncate(fd, 0) != 0)
        rg_warn("download: cannot empty the partial file: %s", strerror(errno));
}

static int fetch(rg_client *c, const char *url_path, download *d,
                 const rg_artifact_want *want, rg_err *err)
{
    char url[2048], bearer[160];
    struct curl_slist *hdrs = NULL;
    bool origin = false;
    int rc = rg_client_resolve(c, url_path, url, sizeof url, &origin, err);
    if (rc != 0)
        return rc;
    if (origin) { /* the endpoint's token goes to its server only */
        snprintf(bearer, sizeof bearer, "Authorization: Bearer %s", c->token);
        hdrs = curl_slist_append(hdrs, bearer);
    }
    rg_httpc_req setup = request(c, url, false);
    fetch_setup(c, url, d, hdrs, &setup);
    CURLcode cc = curl_easy_perform(c->curl);
    long status = 0;
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdrs);
    if (d->error == -1) {
        restart_part(d->fd);
        return rg_err_set(err, RG_ETOOBIG,
                          "release %lld: artifact larger than %lld bytes",
                          (long long)want->release, (long long)want->size);
    }
    if (status == 416) { /* our part file is not a prefix: start over */
        restart_part(d->fd);
        return rg_err_set(err, RG_EUNAVAIL, "%s: range refused, restarting",
                          url_path);
    }
    if (cc == CURLE_OK && status != 200 && status != 206)
        return http_error(status, &d->errbody, url_path, err);
    if (cc != CURLE_OK)
        return rg_err_set(
            err, d->error > 0 ? RG_EIO : RG_EUNAVAIL, "%s: %s", url_path,
            d->error > 0 ? strerror(d->error) : curl_easy_strerror(cc));
    return 0;
}

/* rg_client_download from one source. */
static int download_from(rg_client *c, const char *url_path,
                         const char *part_path, const rg_artifact_want *want,
                         rg_err *err)
{
    int rc = 0;
    download d = {.fd = -1, .h = c->curl, .limit = want->size};
    rg_buf_init(&d.errbody, 64 * 1024);
    if (want->size > c->max_artifact) {
        rc = rg_err_set(err, RG_ETOOBIG,
                        "release %lld: %lld bytes, above the %lld cap",
                        (long long)want->release, (long long)want->size,
                        (long long)c->max_artifact);
        goto cleanup;
    }
    if ((rc = open_part(&d, part_path, want, err)) != 0 ||
        (d.have < want->size && (rc = fetch(c, url_path, &d, want, err)) != 0))
        goto cleanup;
    if (fsync(d.fd) != 0) {
        rc = rg_err_set(err, RG_EIO, "fsync '%s': %s", part_path,
                        strerror(errno));
        goto cleanup;
    }
    rc = rg_agent_verify_file(part_path, want, err);
    if (rc == RG_EINVAL) /* complete but wrong: never resume from it */
        unlink(part_path);
cleanup:
    if (d.fd >= 0)
        close(d.fd);
    rg_buf_release(&d.errbody);
    return rc;
}

int rg_client_download(rg_client *c, const char *url_path,
                       const char *part_path, const rg_artifact_want *want,
                       rg_err *err)
{
    bool own_path = url_path[0] == '/' && url_path[1] != '/';
    for (size_t i = 0; own_path && i < c->n_mirrors; i++) {
        char url[2048];
        if (snprintf(url, sizeof url, "%s%s", c->mirrors[i], url_path) >=
            (int)sizeof url)
            continue;
        int rc = download_from(c, url, part_path, want, err);
        if (rc == 0 || rc == RG_ETOOBIG)
            return rc;
        if (c->progress && c->progress(c->progress_ud))
            return rc; /* stopping: no other source now */
        rg_warn("download: mirror %s: %s; trying the next source",
                c->mirrors[i], err->msg);
        rg_err_clear(err);
    }
    return download_from(c, url_path, part_path, want, err);
}
