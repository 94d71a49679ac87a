/* api.c - see api.h: shared request helpers and GET /healthz. */
#include "api.h"

#include "common/json.h"
#include "common/log.h"
#include "server/cluster.h"

#include <errno.h>
#include <stdlib.h>

void rg_api_healthz(rg_server *srv, rg_req *req, rg_resp *resp)
{
    rg_resp_json(resp, 200,
                 json_pack("{s:s,s:s,s:s,s:b}", "status", "ok", "version",
                           RG_VERSION, "node", srv->node_id, "leader",
                           rg_cluster_leads(srv)));
}

void rg_api_cluster(rg_server *srv, rg_req *req, rg_resp *resp)
{
    rg_resp_json(resp, 200, rg_cluster_json(srv));
}

json_t *rg__api_body(rg_req *req, rg_resp *resp, const char *const *allowed)
{
    rg_err err;
    rg_err_clear(&err);
    json_t *body = rg_json_parse_object(req->body.data ? req->body.data : "",
                                        req->body.len, &err);
    if (body && rg_json_only(body, allowed, &err) != 0) {
        json_decref(body);
        body = NULL;
    }
    if (!body)
        rg_resp_error(resp, &err);
    return body;
}

/* Parses s as a decimal int64 in [min, max]. Returns 0 or -1. */
static int parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
    char *end = NULL;
    if (!s || !*s || (*s != '-' && (*s < '0' || *s > '9')))
        return -1;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int rg__api_param_id(const rg_req *req, size_t i, const char *field,
                     int64_t *out, rg_resp *resp)
{
    const char *s = i < req->n_params ? req->params[i] : NULL;
    if (parse_i64(s, 1, INT64_MAX, out) != 0) {
        rg_resp_errorf(resp, RG_EINVAL, field, "%s '%.64s' is not a valid id",
                       field, s ? s : "");
        return RG_EINVAL;
    }
    return 0;
}

int rg__api_query_int(const rg_req *req, const char *name, int64_t min,
                      int64_t max, int64_t *out, bool *present, rg_resp *resp)
{
    const char *s = rg_req_query(req, name);
    *present = s != NULL;
    if (!s)
        return 0;
    if (parse_i64(s, min, max, out) != 0) {
        rg_resp_errorf(resp, RG_EINVAL, name,
                       "query argument '%s' must be an integer between %lld "
                       "and %lld",
                       name, (long long)min, (long long)max);
        return RG_EINVAL;
    }
    return 0;
}

json_t *rg__json_id_or_null(int64_t v)
{
    return v ? json_integer(v) : json_null();
}

void rg__api_state_changed(rg_server *srv)
{
    rg_err err;
    rg_err_clear(&err);
    if (rg_server_state_changed(srv, &err) != 0)
        rg_warn("state change not propagated: %s", err.msg);
}
