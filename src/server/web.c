/* web.c - see web.h. */
#include "web.h"

#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WEB_NAME_MAX 64

const char *const rg_web_headers[] = {
    "Content-Security-Policy",
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options",
    "nosniff",
    "X-Frame-Options",
    "DENY",
    "Referrer-Policy",
    "no-referrer",
    "Cache-Control",
    "no-cache",
    NULL,
};

/* Whether dir/index.html is a regular file. */
static bool has_index(const char *dir)
{
    char p[PATH_MAX];
    struct stat st;
    int n = snprintf(p, sizeof p, "%s/index.html", dir);
    return n > 0 && (size_t)n < sizeof p && stat(p, &st) == 0 &&
           S_ISREG(st.st_mode);
}

int rg_web_default_dir(char *out, size_t cap)
{
    static const char *const rel[] = {"web", "../share/rollgate/web"};
    char exe[PATH_MAX], cand[PATH_MAX];
    out[0] = '\0';
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return RG_ENOTFOUND;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return RG_ENOTFOUND;
    *slash = '\0';
    for (size_t i = 0; i < sizeof rel / sizeof *rel; i++) {
        int m = snprintf(cand, sizeof cand, "%s/%s", exe, rel[i]);
        if (m <= 0 || (size_t)m >= sizeof cand || !has_index(cand))
            continue;
        char *real = realpath(cand, NULL);
        bool fits = real && strlen(real) < cap;
        if (fits)
            snprintf(out, cap, "%s", real);
        free(real);
        if (fits)
            return 0;
    }
    return RG_ENOTFOUND;
}

/* The Content-Type of a dashboard file by its extension. */
static const char *content_type(const char *name)
{
    static const char *const types[][2] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".json", "application/json"},
    };
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof *types; i++)
        if (strcmp(dot, types[i][0]) == 0)
            return types[i][1];
    return "application/octet-stream";
}

/* Whether name is one safe path segment (web.h). */
static bool name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > WEB_NAME_MAX || name[0] == '.')
        return false;
    return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                        "0123456789._-") == n;
}

/* Opens dir/name as a regular file: the fd (st filled), or -1. */
static int open_file(const char *dir, const char *name, struct stat *st)
{
    char p[PATH_MAX];
    int n = snprintf(p, sizeof p, "%s/%s", dir, name);
    if (n <= 0 || (size_t)n >= sizeof p)
        return -1;
    int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
        close(fd);
        return -1;
    }
    return fd;
}

void rg_api_web_file(rg_server *srv, rg_req *req, rg_resp *resp)
{
    const char *name = req->n_params > 0 ? req->params[0] : "index.html";
    const char *dir = srv->cfg.web_dir;
    struct stat st;
    int fd = -1;
    if (!dir[0]) {
        rg_resp_errorf(resp, RG_ENOTFOUND, NULL,
                       "the dashboard is not installed here (rollgated "
                       "--web-dir DIR names its files)");
        return;
    }
    if (!name_ok(name) || (fd = open_file(dir, name, &st)) < 0) {
        rg_resp_errorf(resp, RG_ENOTFOUND, NULL, "no dashboard file '%.64s'",
                       name);
        return;
    }
    char etag[sizeof resp->etag];
    snprintf(etag, sizeof etag, "\"%llx-%llx\"", (unsigned long long)st.st_size,
             (unsigned long long)st.st_mtim.tv_sec * 1000000000ull +
                 (unsigned long long)st.st_mtim.tv_nsec);
    const char *inm = rg_req_header(req, "If-None-Match");
    if (inm && strcmp(inm, etag) == 0) {
        close(fd);
        resp->status = 304;
    } else if (rg_resp_file(resp, req, fd, (uint64_t)st.st_size) != 0) {
        return;
    }
    memcpy(resp->etag, etag, sizeof etag);
    resp->content_type = content_type(name);
    resp->headers = rg_web_headers;
}
