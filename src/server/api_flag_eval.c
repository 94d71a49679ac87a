/* api_flag_eval.c - POST /v1/flags/{name}/eval: how flag {name} of an
 * environment decides for a context ({"environment", "context"}), by the
 * same evaluator (src/flags) and document (flagdoc.h) an Unleash SDK
 * reading GET /api/client/features uses; the time is the server's. */
#include "api.h"

#include "common/json.h"
#include "flags/ctxjson.h"
#include "flags/eval.h"
#include "flags/parse.h"
#include "server/flagdoc.h"

static json_t *result_json(const char *env, const char *name, bool on,
                           const rg_flag_result *r)
{
    json_t *variant =
        json_pack("{s:s,s:b,s:b}", "name", r->name, "enabled", r->enabled,
                  "feature_enabled", r->feature_enabled);
    if (variant && r->payload_type && r->payload_value)
        json_object_set_new(variant, "payload",
                            json_pack("{s:s,s:s}", "type", r->payload_type,
                                      "value", r->payload_value));
    return json_pack("{s:s,s:s,s:b,s:o}", "environment", env, "name", name,
                     "enabled", on, "variant", variant);
}

void rg_api_flag_eval(rg_server *srv, rg_req *req, rg_resp *resp)
{
    static const char *const allowed[] = {"environment", "context", NULL};
    const char *env, *name = req->params[0];
    json_t *ctxj = NULL, *doc = NULL;
    rg_flagset *fs = NULL;
    rg_flag_ctx_json c;
    rg_err err;
    rg_err_clear(&err);
    json_t *body = rg__api_body(req, resp, allowed);
    if (!body)
        return;
    if (rg__api_flag_env(req, body, &env, &err) ||
        rg_json_object(body, "context", false, &ctxj, &err))
        goto fail;
    if (!(doc = rg_flagdoc_build(srv->store, env, NULL, &err)) ||
        rg_flagset_parse(doc, RG_FLAGS_LENIENT, &fs, &err))
        goto fail;
    if (!rg_flagset_feature(fs, name)) {
        rg_err_field(&err, RG_ENOTFOUND, "name",
                     "flag '%.64s' not found in environment '%s'", name, env);
        goto fail;
    }
    if (rg_flag_ctx_json_init(&c, ctxj, (double)rg_clock_now(srv->clock),
                              &err)) {
        snprintf(err.field, sizeof err.field, "context");
        goto fail;
    }
    rg_flag_result r;
    bool on = rg_flags_enabled(fs, name, &c.ctx);
    rg_flags_variant(fs, name, &c.ctx, &r);
    rg_resp_json(resp, 200, result_json(env, name, on, &r));
    rg_flag_ctx_json_release(&c);
    goto cleanup;
fail:
    rg_resp_error(resp, &err);
cleanup:
    rg_flagset_free(fs);
    json_decref(doc);
    json_decref(body);
}
