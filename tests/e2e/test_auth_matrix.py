"""Route x credential x expected status: every admin route of docs/api.md
against no token, a malformed one, a wrong (unknown) one, a revoked one, a
non-bearer scheme, and viewer, operator and admin tokens. Insufficient or
bad credentials must answer 401/403 with the error shape and change
nothing; sufficient ones must get past authentication (the route's own
answer: 200/201, or a 4xx that is not 401/403 where the request is
deliberately a no-op, e.g. an unknown id).
# ctest-labels: foundation
"""
import hashlib
import itertools

import rg
from rg import expect

ROLES = ["viewer", "operator", "admin"]
RANK = {"none": 0, "viewer": 1, "operator": 2, "admin": 3}
BAD = ["none", "malformed", "wrong", "revoked", "basic"]

counter = itertools.count(1)


def build_routes(fix):
    """(name, method, path, body-maker, raw-maker, min role, ok statuses)."""
    n = lambda: next(counter)  # noqa: E731 - unique names and versions
    return [
        ("healthz", "GET", "/healthz", None, None, "none", {200}),
        ("metrics", "GET", "/metrics", None, None, "none", {200}),
        ("artifact put", "PUT", "/v1/artifacts", None,
         lambda: b"matrix artifact", "operator", {200, 201}),
        ("channel create", "POST", "/v1/channels",
         lambda: {"name": "m%d" % n()}, None, "operator", {201}),
        ("channel list", "GET", "/v1/channels", None, None, "viewer", {200}),
        ("release create", "POST", "/v1/releases",
         lambda: {"channel": "matrix", "version": n(), "artifact": fix["sha"],
                  "notes": "n", "urgency": "standard"}, None, "operator", {201}),
        ("release list", "GET", "/v1/releases", None, None, "viewer", {200}),
        ("release get", "GET", "/v1/releases/%d" % fix["release"], None, None,
         "viewer", {200}),
        ("rollout create (no-op: bad plan)", "POST", "/v1/rollouts",
         lambda: {"release": fix["release"], "plan": "nonesuch"}, None,
         "operator", {400}),
        ("rollout list", "GET", "/v1/rollouts", None, None, "viewer", {200}),
        ("rollout get", "GET", "/v1/rollouts/%d" % fix["rollout"], None, None,
         "viewer", {200}),
        ("rollout pause (unknown id)", "POST", "/v1/rollouts/999999/pause",
         lambda: {"reason": "r"}, None, "operator", {404}),
        ("rollout resume (unknown id)", "POST", "/v1/rollouts/999999/resume",
         lambda: {"reason": "r"}, None, "operator", {404}),
        ("rollout abort (unknown id)", "POST", "/v1/rollouts/999999/abort",
         lambda: {"reason": "r"}, None, "operator", {404}),
        ("rollout rollback (unknown id)", "POST", "/v1/rollouts/999999/rollback",
         lambda: {"reason": "r"}, None, "operator", {404}),
        ("endpoint list", "GET", "/v1/endpoints", None, None, "viewer", {200}),
        ("endpoint get (unknown id)", "GET", "/v1/endpoints/nohost", None, None,
         "viewer", {404}),
        ("audit", "GET", "/v1/audit", None, None, "viewer", {200}),
        ("token create", "POST", "/v1/tokens",
         lambda: {"role": "viewer", "name": "m%d" % n()}, None, "admin", {201}),
        ("token list", "GET", "/v1/tokens", None, None, "admin", {200}),
        ("token revoke (unknown id)", "DELETE", "/v1/tokens/999999", None, None,
         "admin", {404}),
        ("enrollment key", "POST", "/v1/enrollment-keys", lambda: {}, None,
         "operator", {201}),
    ]


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
    if kind in BAD:
        return {401}
    return ok if RANK[kind] >= RANK[min_role] else {403}


def audit_count(srv):
    st, body = srv.request("GET", "/v1/audit?limit=1000")
    expect(st == 200, "audit list", st, body)
    return len([a for a in body["audit"] if a["action"] != "auth.failed"])


def main():
    with rg.Server(args=["--tick-ms", "100000", "--auth-fail-burst", "0"]) as srv:
        srv.start()
        tokens = {r: srv.make_token(r, "matrix-" + r) for r in ROLES}
        tokens["revoked"] = srv.make_token("admin", "matrix-revoked")
        st, body = srv.request("GET", "/v1/tokens")
        rid = [t["id"] for t in body["tokens"] if t["name"] == "matrix-revoked"][0]
        st, body = srv.request("DELETE", "/v1/tokens/%d" % rid)
        expect(st == 200, "revoke", st, body)

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
        fix = {"sha": art["sha256"], "release": rel["id"], "rollout": ro["id"]}

        cells = 0
        failures = []
        client = srv.client(token="")
        for (name, method, path, body_fn, raw_fn, min_role, ok) in build_routes(fix):
            for kind in BAD + ROLES:
                want = expected(kind, min_role, ok)
                before = audit_count(srv)
                hdrs = auth_header(kind, tokens)
                raw = raw_fn() if raw_fn else None
                body = body_fn() if body_fn else None
                st, resp = client.request(method, path, body=body, raw=raw,
                                          token="", headers=hdrs)
                cells += 1
                if st not in want:
                    failures.append("%s %s as %s: %d, want %s: %r"
                                    % (method, path, kind, st, sorted(want), resp))
                    continue
                if st in (401, 403):
                    code = "unauthorized" if st == 401 else "forbidden"
                    if not (isinstance(resp, dict) and resp.get("error", {}).get("code") == code):
                        failures.append("%s %s as %s: error shape %r" % (method, path, kind, resp))
                    if audit_count(srv) != before:
                        failures.append("%s %s as %s: refused call wrote audit rows"
                                        % (method, path, kind))
        client.close()
        expect(not failures, "%d of %d cells wrong:\n  " % (len(failures), cells)
               + "\n  ".join(failures))
        expect(cells >= 22 * 8, "matrix size", cells)
        # Refused writes stored nothing: only the allowed ones made channels.
        st, body = srv.request("GET", "/v1/channels")
        made = [c for c in body["channels"] if c["name"].startswith("m") and
                c["name"][1:].isdigit()]
        expect(len(made) == 2, "channels created only by operator and admin", made)
        srv.stop()


rg.run(main)
