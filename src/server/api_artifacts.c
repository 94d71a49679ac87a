/* api_artifacts.c - PUT /v1/artifacts: raw bytes in, content-addressed
 * file and store record out. */
#include "api.h"

#include "server/artifacts.h"
#include "server/auth.h"

#include <stdio.h>

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
