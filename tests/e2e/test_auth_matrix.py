"""Route x credential x expected status: every route of the router
(src/server/router.c: the test fails when a route is missing here) against
no token, a malformed one, a wrong (unknown) one, an expired one, a revoked
one, a non-bearer scheme, viewer, operator and admin tokens, and an
endpoint token. Insufficient or bad credentials must answer 401/403 with
the error shape and change nothing but the audit of the failure: a 401 adds
exactly one `auth.failed` row (its reason named, the secret never stored),
a 403 for a too-small role adds nothing. Sufficient ones must get past
authentication (the route's own answer: 200/201, or a 4xx that is not
401/403 where the request is deliberately a no-op, e.g. an unknown id).
Agent routes take only their own credentials: checking in as another
endpoint is 403, downloading what was never offered is 403.
# ctest-labels: foundation security
"""
import hashlib
import itertools
import json
import os
import re
import time

import rg
from rg import expect

ROLES = ["viewer", "operator", "admin"]
RANK = {"none": 0, "viewer": 1, "operator": 2, "admin": 3}
BAD = ["none", "malformed", "wrong", "expired", "revoked", "basic"]
KINDS = BAD + ROLES + ["endpoint"]
ADMIN_REASON = {"none": "missing token", "malformed": "malformed token",
                "wrong": "unknown token", "expired": "expired token",
                "revoked": "revoked token", "basic": "not a bearer token",
                "endpoint": "unknown token"}

counter = itertools.count(1)


def build_routes(fix):
    """(name, method, path, pattern, body-maker, raw-maker, min role, ok)."""
    n = lambda: next(counter)  # noqa: E731 - unique names and versions
    return [
        ("healthz", "GET", "/healthz", None, None, "none", {200}),
        ("metrics", "GET", "/metrics", None, None, "none", {200}),
        ("cluster", "GET", "/v1/cluster", None, None, "viewer", {200}),
        ("artifact put", "PUT", "/v1/artifacts", None,
         lambda: b"matrix artifact", "operator", {200, 201}),
        ("channel create", "POST", "/v1/channels",
         lambda: {"name": "m%d" % n()}, None, "operator", {201}),
        ("channel list", "GET", "/v1/channels", None, None, "viewer", {200}),
        ("channel preflight (unknown channel)", "PUT",
         "/v1/channels/nochannel/preflight", lambda: None, None, "operator",
         {404}),
        ("release create", "POST", "/v1/releases",
         lambda: {"channel": "matrix", "version": n(), "artifact": fix["sha"],
                  "notes": "n", "urgency": "standard"}, None, "operator", {201}),
        ("release list", "GET", "/v1/releases", None, None, "viewer", {200}),
        ("release get", "GET", "/v1/releases/%d" % fix["release"], None, None,
         "viewer", {200}),
        ("release lift-quarantine (unknown id)", "POST",
         "/v1/releases/999999/lift-quarantine", lambda: {"reason": "r"}, None,
         "operator", {404}),
        ("rollout create (no-op: bad plan)", "POST", "/v1/rollouts",
         lambda: {"release": fix["release"], "plan": "nonesuch"}, None,
         "operator", {400}),
        ("rollout list", "GET", "/v1/rollouts", None, None, "viewer", {200}),
        ("rollout get", "GET", "/v1/rollouts/%d" % fix["rollout"], None, None,
         "viewer", {200}),
        ("rollout band", "GET", "/v1/rollouts/%d/band" % fix["rollout"], None, None,
         "viewer", {200}),
        ("rollout pause (unknown id)", "POST", "/v1/rollouts/999999/pause",
         lambda: {"reason": "r"}, None, "operator", {404}),
        ("rollout resume (unknown id)", "POST", "/v1/rollouts/999999/resume",
         lambda: {"reason": "r"}, None, "operator", {404}),
        ("rollout abort (unknown id)", "POST", "/v1/rollouts/999999/abort",
         lambda: {"reason": "r"}, None, "operator", {404}),
        ("rollout rollback (unknown id)", "POST", "/v1/rollouts/999999/rollback",
         lambda: {"reason": "r"}, None, "operator", {404}),
        ("rollout promote (unknown id)", "POST", "/v1/rollouts/999999/promote",
         lambda: {"reason": "r"}, None, "operator", {404}),
        ("audit", "GET", "/v1/audit", None, None, "viewer", {200}),
        ("token create", "POST", "/v1/tokens",
         lambda: {"role": "viewer", "name": "m%d" % n()}, None, "admin", {201}),
        ("token list", "GET", "/v1/tokens", None, None, "admin", {200}),
        ("token revoke (unknown id)", "DELETE", "/v1/tokens/999999", None, None,
         "admin", {404}),
        ("webhook create (no-op: empty body)", "POST", "/v1/webhooks",
         lambda: {}, None, "admin", {400}),
        ("webhook list", "GET", "/v1/webhooks", None, None, "admin", {200}),
        ("webhook get (unknown id)", "GET", "/v1/webhooks/999999", None, None,
         "admin", {404}),
        ("webhook delete (unknown id)", "DELETE", "/v1/webhooks/999999",
         lambda: {"reason": "r"}, None, "admin", {404}),
        ("webhook deliveries (unknown id)", "GET",
         "/v1/webhooks/999999/deliveries", None, None, "admin", {404}),
        ("webhook test (unknown id)", "POST", "/v1/webhooks/999999/test",
         lambda: {}, None, "admin", {404}),
        ("policy create (no-op: empty body)", "POST", "/v1/policies",
         lambda: {}, None, "operator", {400}),
        ("policy list", "GET", "/v1/policies", None, None, "viewer", {200}),
        ("policy delete (unknown id)", "DELETE", "/v1/policies/999999", None,
         None, "operator", {404}),
        ("flag create (no-op: empty body)", "POST", "/v1/flags", lambda: {},
         None, "operator", {400}),
        ("flag list", "GET", "/v1/flags", None, None, "viewer", {200}),
        ("flag get (unknown flag)", "GET", "/v1/flags/noflag", None, None,
         "viewer", {404}),
        ("flag update (unknown flag)", "PUT", "/v1/flags/noflag",
         lambda: {"reason": "r", "feature": {"name": "noflag", "enabled": True,
                                             "strategies": []}},
         None, "operator", {404}),
        ("flag enable (unknown flag)", "POST", "/v1/flags/noflag/enable",
         lambda: {"reason": "r"}, None, "operator", {404}),
        ("flag disable (unknown flag)", "POST", "/v1/flags/noflag/disable",
         lambda: {"reason": "r"}, None, "operator", {404}),
        ("flag eval (unknown flag)", "POST", "/v1/flags/noflag/eval",
         lambda: {}, None, "viewer", {404}),
        ("segment create (no-op: empty body)", "POST", "/v1/segments",
         lambda: {}, None, "operator", {400}),
        ("segment list", "GET", "/v1/segments", None, None, "viewer", {200}),
        ("segment get (unknown segment)", "GET", "/v1/segments/noseg", None,
         None, "viewer", {404}),
        ("segment update (unknown segment)", "PUT", "/v1/segments/noseg",
         lambda: {"reason": "r", "segment": {"constraints": []}}, None,
         "operator", {404}),
        ("segment delete (unknown segment)", "DELETE", "/v1/segments/noseg",
         lambda: {"reason": "r"}, None, "operator", {404}),
        ("flag rollout start (unknown flag)", "POST",
         "/v1/flags/noflag/rollout", lambda: {"reason": "r"}, None,
         "operator", {404}),
        ("flag rollout get (unknown flag)", "GET", "/v1/flags/noflag/rollout",
         None, None, "viewer", {404}),
        ("flag rollout pause (unknown flag)", "POST",
         "/v1/flags/noflag/rollout/pause", lambda: {"reason": "r"}, None,
         "operator", {404}),
        ("flag rollout resume (unknown flag)", "POST",
         "/v1/flags/noflag/rollout/resume", lambda: {"reason": "r"}, None,
         "operator", {404}),
        ("flag rollout abort (unknown flag)", "POST",
         "/v1/flags/noflag/rollout/abort", lambda: {"reason": "r"}, None,
         "operator", {404}),
        ("client token create", "POST", "/v1/client-tokens",
         lambda: {"name": "m%d" % n()}, None, "admin", {201}),
        ("client token list", "GET", "/v1/client-tokens", None, None,
         "admin", {200}),
        ("client token revoke (unknown id)", "DELETE",
         "/v1/client-tokens/999999", None, None, "admin", {404}),
        # The Unleash client API takes client tokens only: every
        # credential here is refused (test_flags.py uses a client token).
        ("unleash features", "GET", "/api/client/features", None, None,
         "client", {200}),
        ("unleash register", "POST", "/api/client/register", lambda: {},
         None, "client", {202}),
        ("unleash metrics", "POST", "/api/client/metrics", lambda: {}, None,
         "client", {202}),
        ("endpoint list", "GET", "/v1/endpoints", None, None, "viewer", {200}),
        ("fleet summary", "GET", "/v1/fleet", None, None, "viewer", {200}),
        ("whoami", "GET", "/v1/whoami", None, None, "viewer", {200}),
        # The push stream: its status only (its body never ends).
        ("push stream", "GET", "/v1/stream", None, None, "viewer", {200}),
        # The dashboard's files are public: the data needs a token.
        ("dashboard page", "GET", "/", None, None, "none", {200}),
        ("dashboard file", "GET", "/ui/app.js", None, None, "none", {200}),
        ("endpoint get (unknown id)", "GET", "/v1/endpoints/nohost", None, None,
         "viewer", {404}),
        ("endpoint reset-identity (unknown id)", "POST",
         "/v1/endpoints/nohost/reset-identity", lambda: {"reason": "r"}, None,
         "operator", {404}),
        ("enrollment key create", "POST", "/v1/enrollment-keys", lambda: {},
         None, "operator", {201}),
        ("enrollment key list", "GET", "/v1/enrollment-keys", None, None,
         "operator", {200}),
        ("enrollment key revoke (unknown id)", "DELETE",
         "/v1/enrollment-keys/999999", None, None, "operator", {404}),
        ("root put (no-op: not a root)", "PUT", "/v1/root", lambda: {},
         None, "admin", {400}),
        ("root list", "GET", "/v1/root", None, None, "viewer", {200}),
        # Root metadata is public (public keys only): agents may fetch it
        # before they enroll.
        ("agent root", "GET", "/v1/agent/root", None, None, "none", {200}),
        # Agent routes: bearer tokens play no part in enrollment (the key in
        # the body does); check-in and download take the endpoint's token.
        ("agent enroll", "POST", "/v1/agent/enroll",
         lambda: {"enrollment_key": fix["key"], "endpoint_id": "mx-%d" % n(),
                  "attributes": {"os": "linux", "os_version": "6",
                                 "arch": "x86_64"}}, None, "none", {200}),
        ("agent checkin", "POST", "/v1/agent/checkin",
         lambda: {"endpoint_id": "mx-ep",
                  "installed": {"matrix-ro": {"release": fix["release"]}}},
         None, "endpoint", {200}),
        ("agent artifact", "GET", "/v1/agent/artifacts/" + fix["sha"], None,
         None, "endpoint", {200}),
        # Signed artifact URLs take no credential (docs/caching.md); this
        # server signs none, so every caller gets 404 (test_cache.py tests
        # the signatures).
        ("signed artifact (signing off)", "GET",
         "/v1/artifacts/%s?exp=1&sig=00" % fix["sha"], None, None, "none",
         {404}),
        # Public artifact URLs take no credential either; the matrix's
        # channel is private, so its artifact is not there (test_public.py).
        ("public artifact (private channel)", "GET",
         "/v1/public/artifacts/" + fix["sha"], None, None, "none", {404}),
    ]


def router_routes():
    """(method, pattern) of every route in the router's table."""
    with open(os.path.join(rg.SOURCE_DIR, "src", "server", "router.c")) as f:
        text = f.read()
    return set(re.findall(r'\{"(GET|POST|PUT|DELETE)", "(/[^"]*)"', text))


def covers(pattern, path):
    return re.fullmatch(pattern.replace("{}", "[^/]+"), path) is not None


def auth_header(kind, tokens):
    if kind == "none":
        return {}
    if kind == "malformed":
        return {"Authorization": "Bearer not-a-token"}
    if kind == "wrong":
        return {"Authorization": "Bearer " + hashlib.sha256(b"nobody").hexdigest()}
    if kind == "basic":
        return {"Authorization": "Basic YWRtaW46YWRtaW4="}
    return {"Authorization": "Bearer " + tokens[kind]}


def expected(kind, min_role, ok):
    if min_role == "none":
        return ok
    if min_role == "endpoint":
        return ok if kind == "endpoint" else {401}
    if min_role == "client":
        return {401}
    if kind in BAD or kind == "endpoint":
        return {401}
    return ok if RANK[kind] >= RANK[min_role] else {403}


def audit_rows(srv):
    st, body = srv.request("GET", "/v1/audit?limit=1000")
    expect(st == 200, "audit list", st, body)
    return body["audit"]


def stream_request(srv, hdrs):
    """GET /v1/stream: (status, the error body or None for an open
    stream, which is closed unread)."""
    c = srv.client(token="")
    c.conn.request("GET", "/v1/stream", headers=hdrs)
    r = c.conn.getresponse()
    body = None if r.status == 200 else json.loads(r.read())
    c.close()
    return r.status, body


def main():
    with rg.Server(args=["--tick-ms", "100000", "--auth-fail-burst", "0",
                         "--auth-audit-per-min", "100000"]) as srv:
        srv.start()
        tokens = {r: srv.make_token(r, "matrix-" + r) for r in ROLES}
        tokens["revoked"] = srv.make_token("admin", "matrix-revoked")
        st, body = srv.request("GET", "/v1/tokens")
        rid = [t["id"] for t in body["tokens"] if t["name"] == "matrix-revoked"][0]
        st, body = srv.request("DELETE", "/v1/tokens/%d" % rid)
        expect(st == 200, "revoke", st, body)
        st, body = srv.request("POST", "/v1/tokens", {"role": "admin",
                                                      "name": "matrix-expired",
                                                      "expires_in_s": 1})
        expect(st == 201, "expiring token", st, body)
        tokens["expired"] = body["token"]

        st, _ = srv.request("POST", "/v1/channels", {"name": "matrix"})
        expect(st == 201, "fixture channel", st)
        st, art = srv.upload(b"fixture")
        expect(st == 201, "fixture artifact", st, art)
        st, body = srv.request("POST", "/v1/channels", {"name": "matrix-ro"})
        expect(st == 201, "fixture channel 2", st, body)
        st, rel = srv.request("POST", "/v1/releases", {
            "channel": "matrix-ro", "version": 1, "artifact": art["sha256"],
            "notes": "fixture", "urgency": "standard"})
        expect(st == 201, "fixture release", st, rel)
        st, ro = srv.request("POST", "/v1/rollouts", {"release": rel["id"]})
        expect(st == 201, "fixture rollout", st, ro)
        st, key = srv.request("POST", "/v1/enrollment-keys", {})
        expect(st == 201, "fixture key", st, key)
        for host, name in (("mx-ep", "endpoint"), ("mx-other", "endpoint2")):
            st, body = srv.request("POST", "/v1/agent/enroll", {
                "enrollment_key": key["key"], "endpoint_id": host,
                "attributes": {"os": "linux", "os_version": "6", "arch": "x86_64",
                               "tags": ["pinned"] if host == "mx-ep" else []}},
                token="")
            expect(st == 200, "enroll " + host, st, body)
            tokens[name] = body["token"]
        # mx-ep is offered the fixture release (pinned to it): its artifact
        # is its own (an installed claim alone grants nothing).
        st, body = srv.request("POST", "/v1/policies", {
            "name": "pin-mx-ep", "channel": "matrix-ro", "mode": "pin",
            "release": rel["id"], "selector": {"tag": "pinned"}})
        expect(st == 201, "fixture policy", st, body)
        st, body = srv.request("POST", "/v1/agent/checkin", {
            "endpoint_id": "mx-ep", "installed": {"matrix-ro": {"release": rel["id"]}}},
            token=tokens["endpoint"])
        expect(st == 200 and body["desired"]["matrix-ro"]["release"] == rel["id"],
               "fixture check-in", st, body)
        fix = {"sha": art["sha256"], "release": rel["id"], "rollout": ro["id"],
               "key": key["key"]}

        # The expiring token is refused once its second has passed (polled:
        # nothing to synchronise with but the server's clock).
        deadline = time.monotonic() + 30
        while True:
            st, body = srv.request("GET", "/v1/channels", token=tokens["expired"])
            if st == 401:
                break
            expect(st == 200 and time.monotonic() < deadline,
                   "token expires", st, body)
            time.sleep(0.2)
        expect("expired" in body["error"]["message"], "expired message", body)

        routes = build_routes(fix)
        missing = [(m, p) for (m, p) in router_routes()
                   if not any(r[1] == m and covers(p, r[2]) for r in routes)]
        expect(not missing, "routes missing from the matrix", missing)

        cells = 0
        failures = []
        client = srv.client(token="")
        for (name, method, path, body_fn, raw_fn, min_role, ok) in routes:
            for kind in KINDS:
                want = expected(kind, min_role, ok)
                before = audit_rows(srv)
                hdrs = auth_header(kind, tokens)
                raw = raw_fn() if raw_fn else None
                body = body_fn() if body_fn else None
                if body_fn and body is None:
                    raw = "null"
                if path == "/v1/stream":
                    st, resp = stream_request(srv, hdrs)
                else:
                    st, resp = client.request(method, path, body=body, raw=raw,
                                              token="", headers=hdrs)
                cells += 1
                where = "%s %s as %s" % (method, path, kind)
                if st not in want:
                    failures.append("%s: %d, want %s: %r" % (where, st, sorted(want), resp))
                    continue
                if st not in (401, 403):
                    continue
                code = "unauthorized" if st == 401 else "forbidden"
                if not (isinstance(resp, dict) and resp.get("error", {}).get("code") == code):
                    failures.append("%s: error shape %r" % (where, resp))
                after = audit_rows(srv)
                new = after[:len(after) - len(before)]
                if st == 403:
                    if new:
                        failures.append("%s: refused call wrote audit rows %r" % (where, new))
                    continue
                if len(new) != 1 or new[0]["action"] != "auth.failed":
                    failures.append("%s: want one auth.failed row, got %r" % (where, new))
                    continue
                row = new[0]
                if min_role not in ("endpoint", "none", "client") and \
                        row["reason"] != ADMIN_REASON[kind]:
                    failures.append("%s: reason %r, want %r"
                                    % (where, row["reason"], ADMIN_REASON[kind]))
                if row["source"] != "127.0.0.1" or row["role"] != "none":
                    failures.append("%s: audit row %r" % (where, row))
                text = json.dumps(row)
                for secret in tokens.values():
                    if secret in text:
                        failures.append("%s: audit row holds a secret" % where)
        client.close()
        expect(not failures, "%d of %d cells wrong:\n  " % (len(failures), cells)
               + "\n  ".join(failures))
        expect(cells >= 31 * len(KINDS), "matrix size", cells)
        # Refused writes stored nothing: only the allowed ones made channels.
        st, body = srv.request("GET", "/v1/channels")
        made = [c for c in body["channels"] if c["name"].startswith("m") and
                c["name"][1:].isdigit()]
        expect(len(made) == 2, "channels created only by operator and admin", made)

        # One endpoint cannot act as another.
        agent2 = srv.client(token=tokens["endpoint2"])
        st, b = agent2.request("POST", "/v1/agent/checkin", {"endpoint_id": "mx-ep"})
        expect(st == 403 and b["error"]["code"] == "forbidden",
               "check in as another endpoint", st, b)
        st, b = agent2.request("GET", "/v1/agent/artifacts/" + fix["sha"])
        expect(st == 403 and b["error"]["code"] == "forbidden",
               "download another endpoint's artifact", st, b)
        st, b = agent2.request("GET", "/v1/endpoints/mx-ep")
        expect(st == 401, "read another endpoint's state", st, b)
        agent2.close()
        st, body = srv.request("GET", "/v1/audit?action=auth.failed&limit=3")
        reasons = [a["reason"] for a in body["audit"]]
        expect(reasons[:3] == ["unknown token", "artifact not offered",
                               "wrong endpoint"],
               "cross-endpoint attempts audited", body)
        expect(body["audit"][2]["target"] == "endpoint:mx-ep", "claimed target",
               body["audit"][2])
        srv.stop()


rg.run(main)
