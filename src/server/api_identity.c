/* api_identity.c - POST /v1/endpoints/{id}/reset-identity: an operator
 * lets an enrolled endpoint id be enrolled afresh (a reinstalled machine
 * that lost its token). Without it, re-enrolling an id needs the
 * endpoint's current token (agent_api.c). */
#include "server/api.h"

#include "common/json.h"
#include "server/auth.h"
#include "store/store.h"

#include <jansson.h>
#include <string.h>

void rg_api_endpoint_reset_identity(rg_server *srv, rg_req *req, rg_resp *resp)
{
    static const char *const allowed[] = {"reason", NULL};
    const char *reason = NULL;
    char target[RG_EPID_MAX + 16];
    rg_audit_rec audit;
    rg_err err;
    rg_err_clear(&err);
    const char *id = req->n_params ? req->params[0] : "";
    json_t *body = rg__api_body(req, resp, allowed);
    if (!body)
        return;
    if (rg_json_string(body, "reason", true, RG_REASON_MAX, &reason, &err))
        goto fail;
    if (!*reason) {
        rg_err_field(&err, RG_EINVAL, "reason", "a reason is required");
        goto fail;
    }
    snprintf(target, sizeof target, "endpoint:%.128s", id);
    rg_audit_init(&audit, srv, req, "endpoint.reset_identity", target, reason);
    if (rg_store_endpoint_reset_identity(srv->store, id, audit.at_ms, &audit,
                                         &err) != 0)
        goto fail;
    json_decref(body);
    rg_resp_json(resp, 200,
                 json_pack("{s:s, s:I}", "id", id, "identity_reset_ms",
                           (json_int_t)audit.at_ms));
    return;
fail:
    json_decref(body);
    rg_resp_error(resp, &err);
}
