/* agent_flags.c - the "flags" of a check-in (docs/api.md): the agent names
 * the environment it is configured for and the stamps of the newest set it
 * has, of the one in force and of its last known good one (which guarded
 * flag rollouts count, flag_rollout.h); the answer carries that environment's
 * set only when its stamp changed (a few bytes otherwise), and stores the
 * agent's reports of sets it fell back from (last known good), which `rollgate
 * endpoint show` lists. */
#include "agent_api.h"

#include "common/json.h"
#include "common/jsonw.h"
#include "common/name.h"
#include "server/flag_rollout.h"
#include "server/flagdoc.h"
#include "server/fleet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STAMP_LEN (RG_FLAG_STAMP_MAX - 1)
#define DETAIL_LEN (sizeof(((rg_flag_revert_rec *)0)->detail) - 1)

static int parse_revert(const json_t *r, size_t i, rg__flags_req *out,
                        rg_err *err)
{
    static const char *const allowed[] = {"stamp", "at_ms", "detail", NULL};
    const char *stamp = NULL, *detail = NULL;
    int64_t at = 0;
    if (!json_is_object(r))
        return rg_err_field(err, RG_EINVAL, "flags.reverted",
                            "flags.reverted[%zu] must be an object", i);
    if (rg_json_only(r, allowed, err) < 0 ||
        rg_json_string(r, "stamp", true, STAMP_LEN, &stamp, err) < 0 ||
        rg_json_int(r, "at_ms", false, 0, INT64_C(1) << 53, &at, err) < 0 ||
        rg_json_string(r, "detail", false, DETAIL_LEN, &detail, err) < 0) {
        char prefix[48];
        snprintf(prefix, sizeof prefix, "flags.reverted[%zu].", i);
        return rg__agent_requalify(err, prefix);
    }
    out->reverts[i].stamp = stamp;
    out->reverts[i].detail = detail ? detail : "";
    out->reverts[i].at_ms = at;
    return 0;
}

int rg__agent_flags_parse(const json_t *flags, rg__flags_req *out, rg_err *err)
{
    static const char *const allowed[] = {"environment", "stamp",    "active",
                                          "good",        "reverted", NULL};
    json_t *rev = NULL, *r;
    size_t i;
    memset(out, 0, sizeof *out);
    if (!flags)
        return 0;
    if (!json_is_object(flags))
        return rg_err_field(err, RG_EINVAL, "flags", "flags must be an object");
    if (rg_json_only(flags, allowed, err) < 0 ||
        rg_json_string(flags, "environment", true, RG_NAME_MAX, &out->env,
                       err) < 0 ||
        rg_json_string(flags, "stamp", false, STAMP_LEN, &out->stamp, err) <
            0 ||
        rg_json_string(flags, "active", false, STAMP_LEN, &out->active, err) <
            0 ||
        rg_json_string(flags, "good", false, STAMP_LEN, &out->good, err) < 0 ||
        rg_json_array(flags, "reverted", false, RG_AGENT_FLAG_REVERTS_MAX, &rev,
                      err) < 0)
        return rg__agent_requalify(err, "flags.");
    if (!rg_channel_name_valid(out->env))
        return rg_err_field(err, RG_EINVAL, "flags.environment",
                            "flags.environment '%.64s': must be %s", out->env,
                            RG_CHANNEL_NAME_RULE);
    json_array_foreach(rev, i, r)
    {
        if (parse_revert(r, i, out, err) < 0)
            return err->code;
    }
    out->nreverts = json_array_size(rev);
    out->present = true;
    return 0;
}

/* Stores the reports of in (idempotent) and writes their stamps as
 * "stored":[...]. */
static int store_reverts(rg_server *srv, const char *id,
                         const rg__flags_req *in, int64_t now, rg_buf *out,
                         rg_err *err)
{
    if (!in->nreverts)
        return 0;
    rg_flag_revert_rec *recs = calloc(in->nreverts, sizeof *recs);
    if (!recs)
        return rg_err_set(err, RG_ENOMEM, "out of memory");
    for (size_t i = 0; i < in->nreverts; i++) {
        rg_flag_revert_rec *r = &recs[i];
        snprintf(r->endpoint_id, sizeof r->endpoint_id, "%s", id);
        snprintf(r->environment, sizeof r->environment, "%s", in->env);
        snprintf(r->stamp, sizeof r->stamp, "%s", in->reverts[i].stamp);
        snprintf(r->detail, sizeof r->detail, "%s", in->reverts[i].detail);
        r->reported_ms = in->reverts[i].at_ms;
        r->received_ms = now;
    }
    int rc = rg_store_flag_reverts_record(srv->store, recs, in->nreverts, err);
    if (rc == 0)
        rc = rg_buf_adds(out, ",\"stored\":[");
    for (size_t i = 0; i < in->nreverts && rc == 0; i++) {
        if (i)
            rc = rg_buf_adds(out, ",");
        if (rc == 0)
            rc = rg_jsonw_str(out, recs[i].stamp);
    }
    free(recs);
    return rc == 0 ? rg_buf_adds(out, "]") : rc;
}

/* Writes ,"set":{...}: the environment's client-features document at
 * stamp (flagdoc.h, from the server's cache). */
static int write_set(rg_server *srv, const char *env, const char *stamp,
                     rg_buf *out, rg_err *err)
{
    size_t len;
    char *text =
        rg_flagdoc_text(srv->flagdocs, srv->store, env, stamp, &len, err);
    if (!text)
        return err->code;
    int rc = rg_buf_adds(out, ",\"set\":");
    if (rc == 0)
        rc = rg_buf_add(out, text, len);
    free(text);
    return rc;
}

/* Writes ,"flags":{"environment","error"} for an environment endpoint id
 * may not read. */
static int write_forbidden(rg_server *srv, const char *id, const char *env,
                           rg_buf *out)
{
    char msg[RG_EPID_MAX + 2 * RG_NAME_MAX + 160];
    snprintf(msg, sizeof msg,
             "endpoint '%s' may not read the flags of environment '%s': "
             "its enrollment key does not allow it (docs/flags.md)",
             id, env);
    int rc = rg_buf_adds(out, ",\"flags\":{\"environment\":");
    if (rc == 0)
        rc = rg_jsonw_str(out, env);
    if (rc == 0)
        rc = rg_buf_adds(out, ",\"error\":{\"code\":\"forbidden\","
                              "\"message\":");
    if (rc == 0)
        rc = rg_jsonw_str(out, msg);
    return rc == 0 ? rg_buf_adds(out, "}}") : rc;
}

int rg__agent_flags_answer(rg_server *srv, const char *id, uint32_t profile,
                           const rg__flags_req *in, int64_t now, rg_buf *out,
                           rg_err *err)
{
    char stamp[RG_FLAG_STAMP_MAX];
    if (!in->present)
        return 0;
    if (!rg_fleet_profile_reads(srv->fleet, profile, in->env)) {
        int rc = write_forbidden(srv, id, in->env, out);
        if (rc < 0)
            rg_err_set(err, rc, "check-in answer: %s", rg_code_name(rc));
        return rc;
    }
    int rc =
        rg_flagdoc_stamp(srv->flagdocs, srv->store, in->env, now, stamp, err);
    if (rc == 0)
        rc = rg_buf_adds(out, ",\"flags\":{\"environment\":");
    if (rc == 0)
        rc = rg_jsonw_str(out, in->env);
    if (rc == 0)
        rc = rg_buf_adds(out, ",\"stamp\":");
    if (rc == 0)
        rc = rg_jsonw_str(out, stamp);
    if (rc == 0)
        rc = store_reverts(srv, id, in, now, out, err);
    if (rc == 0) /* guarded flag rollouts count it (flag_rollout.h) */
        rg_flag_rollouts_checkin(srv, id, in->env, in->stamp, in->active,
                                 in->good, now);
    if (rc == 0 && (!in->stamp || strcmp(in->stamp, stamp) != 0))
        rc = write_set(srv, in->env, stamp, out, err);
    if (rc == 0)
        rc = rg_buf_adds(out, "}");
    if (rc < 0 && !err->code)
        rg_err_set(err, rc, "check-in answer: %s", rg_code_name(rc));
    return rc;
}
