/* api_artifacts.c - PUT /v1/artifacts: raw bytes in, content-addressed
 * file and store record out; GET /v1/artifacts/SHA with a signed URL and
 * GET /v1/public/artifacts/SHA of a public channel: the bytes, cacheable
 * by any HTTP cache (docs/caching.md). */
#include "api.h"

#include "common/clock.h"
#include "common/crypto.h"
#include "server/artifacts.h"
#include "server/auth.h"
#include "server/deltas.h"
#include "server/guard.h"
#include "server/url_sign.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A year: what RFC 9111 caches take as "never expires". */
#define PUBLIC_MAX_AGE_S 31536000LL

static int sink_write(void *ctx, const void *p, size_t n, rg_err *err)
{
    return rg_artifact_upload_write(ctx, p, n, err);
}

static void sink_release(void *ctx)
{
    rg_artifact_upload_free(ctx);
}

int rg_api_artifact_sink(rg_server *srv, rg_req *req, rg_err *err)
{
    rg_artifact_upload *u = NULL;
    int rc = rg_artifact_upload_begin(srv, srv->cfg.artifact_max, &u, err);
    if (rc != 0)
        return rc;
    rg_body_sink sink = {sink_write, sink_release, u, srv->cfg.artifact_max};
    rg_req_set_sink(req, &sink);
    return 0;
}

void rg_api_artifact_put(rg_server *srv, rg_req *req, rg_resp *resp)
{
    rg_artifact_upload *u = rg_req_sink_ctx(req);
    char sha[65], target[80];
    uint64_t size = 0, known = 0;
    bool existed = false;
    rg_audit_rec audit;
    rg_err err;
    rg_err_clear(&err);
    if (!u) {
        rg_resp_errorf(resp, RG_EINTERNAL, NULL, "no upload for this request");
        return;
    }
    if (rg_artifact_upload_commit(u, sha, &size, &existed, &err) != 0) {
        rg_resp_error(resp, &err);
        return;
    }
    /* 200 only when both the file and its record were already there. */
    bool recorded = rg_store_artifact_get(srv->store, sha, &known, NULL) == 0;
    snprintf(target, sizeof target, "artifact:%s", sha);
    rg_audit_init(&audit, srv, req, "artifact.put", target, NULL);
    snprintf(audit.detail, sizeof audit.detail, "{\"size\":%llu}",
             (unsigned long long)size);
    if (rg_store_artifact_put(srv->store, sha, size, audit.at_ms, &audit,
                              &err) != 0) {
        rg_resp_error(resp, &err);
        return;
    }
    rg_resp_json(
        resp, existed && recorded ? 200 : 201,
        json_pack("{s:s,s:I}", "sha256", sha, "size", (json_int_t)size));
}

/* Serves artifact sha as bytes that never change at this URL: strong
 * ETag, 304 on If-None-Match, Range; a cache may keep them max_age s. */
static void serve_immutable(rg_server *srv, rg_req *req, rg_resp *resp,
                            const char *sha, long long max_age)
{
    uint64_t size = 0;
    int fd = -1;
    rg_err err;
    rg_err_clear(&err);
    if (rg_artifact_open(srv, sha, &fd, &size, &err) != 0) {
        rg_resp_error(resp, &err);
        return;
    }
    char etag[sizeof resp->etag];
    snprintf(etag, sizeof etag, "\"%.64s\"", sha);
    const char *inm = rg_req_header(req, "If-None-Match");
    if (inm && strcmp(inm, etag) == 0) {
        close(fd);
        resp->status = 304;
    } else if (rg_resp_file(resp, req, fd, size) != 0) {
        return;
    }
    memcpy(resp->etag, etag, sizeof etag);
    snprintf(resp->cache_control, sizeof resp->cache_control,
             "public, max-age=%lld, immutable", max_age);
}

void rg_api_artifact_get(rg_server *srv, rg_req *req, rg_resp *resp)
{
    const char *sha = req->n_params ? req->params[0] : "";
    const char *exp = rg_req_query(req, "exp");
    int64_t now_s = rg_clock_now(rg_clock_system()) / 1000;
    rg_err err;
    rg_err_clear(&err);
    if (!srv->cfg.signed_url_window_s) {
        rg_resp_errorf(resp, RG_ENOTFOUND, NULL,
                       "signed artifact URLs are off on this server "
                       "(--signed-url-window)");
        return;
    }
    if (!rg_sha256_hex_valid(sha) ||
        !rg_url_valid(srv->url_key, sha, exp, rg_req_query(req, "sig"),
                      now_s)) {
        rg_err_field(&err, RG_EFORBIDDEN, "sig",
                     "artifact URL for '%.64s': signature invalid or expired",
                     sha);
        rg_guard_auth_failed(srv, req, &err, "bad artifact URL", "", resp);
        return;
    }
    serve_immutable(srv, req, resp, sha, strtoll(exp, NULL, 10) - now_s);
}

void rg_api_artifact_public(rg_server *srv, rg_req *req, rg_resp *resp)
{
    const char *sha = req->n_params ? req->params[0] : "";
    rg_delta_rec delta;
    rg_err err;
    rg_err_clear(&err);
    int rc = RG_ENOTFOUND;
    /* A delta is public when the release it rebuilds is (deltas.h). */
    if (rg_sha256_hex_valid(sha))
        rc = rg_store_artifact_public(
            srv->store,
            rg_deltas_of_digest(srv, sha, &delta) ? delta.target : sha, &err);
    if (rc == RG_ENOTFOUND) /* unknown and private alike */
        rg_err_field(&err, RG_ENOTFOUND, "sha256", "no public artifact '%.64s'",
                     sha);
    if (rc != 0) {
        rg_resp_error(resp, &err);
        return;
    }
    serve_immutable(srv, req, resp, sha, PUBLIC_MAX_AGE_S);
}
