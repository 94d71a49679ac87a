/*
 * fuzz_server_request.c - rollgated's JSON request parsing (src/server):
 * the agent enroll and check-in bodies and the admin create bodies
 * (channels with their preflight object, a channel's preflight, releases,
 * rollouts with plans, tokens, enrollment keys).
 *
 * The input's first byte picks the route, the rest is the request body.
 * The admin handlers and enroll run whole, through a fake rg_req/rg_resp,
 * against a real server state built once: an in-memory store holding a
 * channel "det" and an artifact (sha256 of "x"), an empty fleet and the
 * desired-state cache. No worker threads run, so a release created on a
 * channel with a preflight just stays pending. The check-in handler
 * authenticates before it reads the body (and a fake request has no
 * headers), so its parser rg__agent_checkin_parse is called directly
 * after the same allow-list check.
 *
 * Invariants: every answer has a status in 200..599 and a JSON object
 * body; an error answer is the documented error shape; a parsed check-in
 * respects its caps.
 */
#include "fuzz.h"

#include "common/crypto.h"
#include "common/json.h"
#include "server/agent_api.h"
#include "server/api.h"
#include "server/desired.h"
#include "server/fleet.h"
#include "server/server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static rg_server srv;
static char dir[] = "/tmp/rg-fuzz-server-XXXXXX";

static void remove_dir(void)
{
    rmdir(dir);
}

static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "server request invariant broken: %s: %s\n", what,
            detail ? detail : "");
    abort();
}

static void setup(void)
{
    rg_err err;
    rg_channel_rec c;
    char sha[RG_HASH_HEX];
    if (!mkdtemp(dir) || rg_crypto_init() != 0)
        fail("setup", "temp dir or libsodium");
    atexit(remove_dir);
    rg_server_config_defaults(&srv.cfg);
    snprintf(srv.cfg.data_dir, sizeof srv.cfg.data_dir, "%s", dir);
    srv.clock = rg_clock_system();
    memset(&c, 0, sizeof c);
    snprintf(c.name, sizeof c.name, "det");
    rg_sha256_hex("x", 1, sha);
    if (rg_store_open(":memory:", &srv.store, &err) != 0 ||
        rg_store_channel_create(srv.store, &c, NULL, &err) != 0 ||
        rg_store_artifact_put(srv.store, sha, 1, 1, NULL, &err) != 0 ||
        rg_fleet_open(&srv, &srv.fleet, &err) != 0 ||
        rg_desired_open(&srv, &srv.desired, &err) != 0)
        fail("setup", err.msg);
}

/* Checks resp and frees its body. */
static void check_resp(rg_resp *resp)
{
    if (resp->status < 200 || resp->status > 599)
        fail("status", NULL);
    json_error_t jerr;
    json_t *v = json_loadb(resp->body ? resp->body : "", resp->len, 0, &jerr);
    if (!v || !json_is_object(v))
        fail("body is not a JSON object", resp->body);
    if (resp->status >= 400) {
        json_t *e = json_object_get(v, "error");
        if (json_object_size(v) != 1 || !json_is_object(e) ||
            !json_is_string(json_object_get(e, "code")) ||
            !json_is_string(json_object_get(e, "message")) ||
            !json_is_string(json_object_get(e, "field")))
            fail("error shape", resp->body);
    }
    json_decref(v);
    free(resp->body);
}

/* The check-in body: the handler's allow list, then its parser. */
static void checkin(const char *body, size_t len)
{
    static const char *const allowed[] = {"endpoint_id", "installed", "events",
                                          NULL};
    rg_err err;
    rg__checkin_req *in = malloc(sizeof *in);
    json_t *o = rg_json_parse_object(body, len, &err);
    if (in && o && rg_json_only(o, allowed, &err) == 0 &&
        rg__agent_checkin_parse(o, 1, in, &err) == 0) {
        if (!in->id || in->n_inst > RG_FLEET_CHANNELS ||
            in->n_ev > RG_AGENT_EVENTS_MAX || (in->n_ev && !in->evs))
            fail("check-in caps", body);
        for (size_t i = 0; i < in->n_ev; i++)
            if (in->types[i] < 0 || in->types[i] > 4 ||
                in->evs[i].release_id < 1 || !in->evs[i].event_id[0])
                fail("check-in event", body);
        free(in->evs);
    }
    json_decref(o);
    free(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const rg_handler handlers[] = {
        rg_api_agent_enroll,      rg_api_channel_create,
        rg_api_channel_preflight, rg_api_release_create,
        rg_api_rollout_create,    rg_api_token_create,
        rg_api_enroll_key_create,
    };
    static bool ready;
    if (!ready) {
        setup();
        ready = true;
    }
    if (size < 1)
        return 0;
    size_t route = data[0] % (sizeof handlers / sizeof *handlers + 1);
    char *body = malloc(size); /* the rest, NUL-terminated */
    if (!body)
        return 0;
    memcpy(body, data + 1, size - 1);
    body[size - 1] = '\0';
    if (route == sizeof handlers / sizeof *handlers) {
        checkin(body, size - 1);
    } else {
        rg_req req;
        rg_resp resp;
        memset(&req, 0, sizeof req);
        memset(&resp, 0, sizeof resp);
        resp.fd = -1;
        req.method = "POST";
        req.path = "/fuzz";
        req.client = "127.0.0.1";
        req.body.data = body;
        req.body.len = size - 1;
        req.params[0] = "det";
        req.n_params = 1;
        handlers[route](&srv, &req, &resp);
        check_resp(&resp);
    }
    free(body);
    return 0;
}
