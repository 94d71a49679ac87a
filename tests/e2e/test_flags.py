"""Feature flags against a real rollgated: bad flag definitions answer 400
naming the field and store nothing; every change is a new version audited
with its reason; disable is a kill switch the client endpoint serves at the
next poll; GET /api/client/features needs a client token of its
environment and answers 304 to a matching ETag; flags survive kill -9;
the CLI's flag commands; client tokens listed and revoked (audited; a
revoked one reads nothing, after kill -9 too); and the real Unleash Node SDK (unleash-client,
fetched by scripts/deps.sh flags) reading /api/client/features decides
every (flag, context) pair exactly as the C evaluator (POST
/v1/flags/{name}/eval) does.
# ctest-labels: flags
"""
import json
import os
import subprocess

import rg
from rg import expect

SRC = os.environ.get("RG_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
NPM_DIR = os.environ.get("RG_NPM_DIR") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
    "rollgate", "npm")


def strategy(name, params=None, constraints=None, variants=None):
    s = {"name": name, "parameters": params or {}, "constraints": constraints or []}
    if variants is not None:
        s["variants"] = variants
    return s


def c(ctx, op, values=None, value=None, **kw):
    d = {"contextName": ctx, "operator": op}
    if values is not None:
        d["values"] = values
    if value is not None:
        d["value"] = value
    d.update(kw)
    return d


def variant(name, weight, value, **kw):
    d = {"name": name, "weight": weight, "stickiness": "default",
         "payload": {"type": "string", "value": value}}
    d.update(kw)
    return d


FLAGS = [
    {"name": "rollout.30", "enabled": True, "strategies": [strategy(
        "flexibleRollout", {"rollout": "30", "stickiness": "default", "groupId": "rollout.30"},
        [c("os", "IN", ["linux", "windows"]), c("version", "SEMVER_GTE", value="1.2.0")])]},
    {"name": "variants.feature", "enabled": True, "strategies": [strategy("default")],
     "variants": [variant("red", 200, "r"), variant("green", 300, "g"),
                  variant("blue", 500, "b", overrides=[{"contextName": "userId", "values": ["u7"]}])]},
    {"name": "variants.strategy", "enabled": True, "strategies": [strategy(
        "flexibleRollout", {"rollout": "100", "stickiness": "default", "groupId": "grp"},
        variants=[variant("left", 1, "L"), variant("right", 3, "R")])]},
    {"name": "regex.email", "enabled": True, "strategies": [strategy(
        "default", constraints=[c("email", "REGEX", value="^[a-z0-9]+@example\\.(com|org)$",
                                  caseInsensitive=True)])]},
    {"name": "cidr.office", "enabled": True, "strategies": [strategy(
        "default", constraints=[c("remoteAddress", "IN_CIDR", ["10.0.0.0/8", "2001:db8::/32"])])]},
    {"name": "date.window", "enabled": True, "strategies": [strategy(
        "default", constraints=[c("currentTime", "DATE_AFTER", value="2024-01-01T00:00:00.000Z"),
                                c("currentTime", "DATE_BEFORE", value="2030-01-01T00:00:00.000Z")])]},
    {"name": "num.cores", "enabled": True, "strategies": [strategy(
        "default", constraints=[c("cores", "NUM_GT", value="8"),
                                c("email", "STR_ENDS_WITH", ["@example.org"], inverted=True)])]},
    {"name": "child", "enabled": True, "strategies": [strategy("default")],
     "dependencies": [{"feature": "rollout.30"}]},
    {"name": "child.of.off", "enabled": True, "strategies": [strategy("default")],
     "dependencies": [{"feature": "regex.email", "enabled": False}]},
    {"name": "userlist", "enabled": True, "strategies": [strategy("userWithId", {"userIds": "u1,u2, u3"})]},
    {"name": "gradual.user", "enabled": True, "strategies": [strategy(
        "gradualRolloutUserId", {"percentage": "40", "groupId": "g"})]},
    {"name": "switched.off", "enabled": False, "strategies": [strategy("default")]},
    {"name": "sticky.tenant", "enabled": True, "strategies": [strategy(
        "flexibleRollout", {"rollout": "50", "stickiness": "tenant", "groupId": "t"})]},
]


def contexts():
    out = []
    for i in range(60):
        props = {"os": ["linux", "windows", "macos"][i % 3],
                 "version": ["1.1.9", "1.2.0", "2.0.0-rc.1", "v1.3.0"][i % 4],
                 "email": ["a%d@example.com" % i, "B%d@Example.ORG" % i, "x@other.net"][i % 3],
                 "cores": str(i % 16)}
        if i % 5:
            props["tenant"] = "tenant-%d" % (i % 7)
        out.append({"userId": "u%d" % i, "sessionId": "s%d" % i,
                    "remoteAddress": ["10.1.2.%d" % i, "192.168.0.%d" % i, "2001:db8::%x" % i][i % 3],
                    "currentTime": ["2026-06-01T00:00:00.000Z", "2031-01-01T00:00:00.000Z"][i % 2],
                    "properties": props})
    return out


def check_error(st, body, status, field):
    expect(st == status and isinstance(body, dict) and "error" in body,
           "status %d with the error shape" % status, st, body)
    expect(body["error"]["field"] == field, "error field " + field, body)


def create(srv, feature, env=None, reason="test"):
    body = {"feature": feature, "reason": reason}
    if env:
        body["environment"] = env
    return srv.request("POST", "/v1/flags", body)


def bad_input(srv):
    bad = [
        ({"name": "b1", "enabled": True, "strategies": [strategy(
            "default", constraints=[c("x", "LIKE", ["a"])])]},
         "feature.strategies[0].constraints[0].operator"),
        ({"name": "b2", "enabled": True, "strategies": [strategy(
            "default", constraints=[c("x", "REGEX", value="^(?=a)b")])]},
         "feature.strategies[0].constraints[0].value"),
        ({"name": "b3", "enabled": True, "strategies": [strategy(
            "flexibleRollout", {"rollout": "many"})]}, "feature.strategies[0].parameters"),
        ({"name": "b4", "enabled": "yes", "strategies": []}, "feature.enabled"),
        ({"name": "b5", "enabled": True, "strategies": [],
          "dependencies": [{"feature": "nowhere"}]}, "feature.dependencies"),
    ]
    for feature, field in bad:
        st, b = create(srv, feature)
        check_error(st, b, 400, field)
    st, b = srv.request("POST", "/v1/flags", raw="{not json")
    expect(st == 400, "malformed JSON is 400", st, b)
    st, b = srv.request("POST", "/v1/flags", {"feature": {"name": "b6", "enabled": True,
                                                         "strategies": []}})
    check_error(st, b, 400, "reason")
    # a dependency cycle, closed by an update
    for f in ({"name": "cy.a", "enabled": True, "strategies": []},
              {"name": "cy.b", "enabled": True, "strategies": [],
               "dependencies": [{"feature": "cy.a"}]}):
        st, b = create(srv, f, env="cycles")
        expect(st == 201, "create " + f["name"], st, b)
    st, b = srv.request("PUT", "/v1/flags/cy.a", {
        "environment": "cycles", "reason": "close the loop",
        "feature": {"name": "cy.a", "enabled": True, "strategies": [],
                    "dependencies": [{"feature": "cy.b"}]}})
    check_error(st, b, 400, "feature.dependencies")
    expect("cycle" in b["error"]["message"], "the cycle is named", b)
    st, b = srv.request("GET", "/v1/flags?environment=cycles")
    expect([f["version"] for f in b["flags"]] == [1, 1], "a refused change stores nothing", b)
    st, b = srv.request("GET", "/v1/flags")
    expect(st == 200 and b["flags"] == [], "refused creations store nothing", st, b)


def versions_audit_killswitch(srv, ct):
    st, b = create(srv, {"name": "ks", "enabled": True, "strategies": [strategy("default")]},
                   reason="launch")
    expect(st == 201 and b["version"] == 1, "created at version 1", st, b)
    st, b = create(srv, {"name": "ks", "enabled": True, "strategies": []})
    check_error(st, b, 409, "name")
    hdr = {"Authorization": ct}
    st, feats = srv.request("GET", "/api/client/features", token="", headers=hdr)
    etag = srv._client.last.getheader("ETag")
    expect(st == 200 and etag, "features with an ETag", st, feats)
    st, _ = srv.request("GET", "/api/client/features", token="",
                        headers=dict(hdr, **{"If-None-Match": etag}))
    expect(st == 304, "unchanged flags answer 304", st)
    st, b = srv.request("POST", "/v1/flags/ks/disable", {"reason": "crashes on arm64"})
    expect(st == 200 and b["version"] == 2 and not b["enabled"], "disable is version 2", st, b)
    st, feats = srv.request("GET", "/api/client/features", token="",
                            headers=dict(hdr, **{"If-None-Match": etag}))
    ks = [f for f in feats["features"] if f["name"] == "ks"]
    expect(st == 200 and ks and ks[0]["enabled"] is False,
           "the next poll after disable serves it off", st, feats)
    st, b = srv.request("GET", "/v1/flags/ks")
    expect([(h["version"], h["reason"]) for h in b["history"]] ==
           [(2, "crashes on arm64"), (1, "launch")], "history, newest first", b)
    st, b = srv.request("GET", "/v1/audit?action=flag.disable")
    rows = b.get("entries") or b.get("audit") or b.get("items") or []
    expect(st == 200 and any(r.get("reason") == "crashes on arm64" for r in rows),
           "the disable is audited with its reason", st, b)
    st, b = srv.request("GET", "/api/client/features", token="")
    expect(st == 401, "no client token: 401", st, b)
    st, b = srv.request("GET", "/api/client/features", token="", headers={"Authorization": "nope"})
    expect(st == 401, "unknown client token: 401", st, b)
    for path in ("/api/client/register", "/api/client/metrics"):
        st, b = srv.request("POST", path, {"appName": "x"}, token="", headers=hdr)
        expect(st == 202, path + " accepted", st, b)


def cli_commands(srv, tmp):
    def run(*args):
        p = rg.cli(srv, *args)
        expect(p.returncode == 0, "rollgate " + " ".join(args), p.stdout, p.stderr)
        return p.stdout
    out = run("flag", "create", "cli.flag", "--rollout", "25", "--reason", "try it", "--env", "staging")
    expect("version:" in out and "1" in out, "create prints the flag", out)
    out = run("flag", "list", "--env", "staging")
    expect("cli.flag" in out, "list shows it", out)
    out = run("flag", "eval", "cli.flag", "--env", "staging", "--user-id", "u1", "--json")
    expect("enabled" in json.loads(out), "eval answers", out)
    run("flag", "disable", "cli.flag", "--reason", "stop", "--env", "staging")
    out = run("flag", "show", "cli.flag", "--env", "staging")
    expect("version 2" in out and "stop" in out, "show lists versions and reasons", out)
    bad = os.path.join(tmp, "bad.json")
    with open(bad, "w") as f:
        json.dump({"name": "cli.bad", "enabled": True, "strategies": [
            {"name": "default", "constraints": [c("x", "NUM_GT", value="ten")]}]}, f)
    p = rg.cli(srv, "flag", "create", "cli.bad", "--file", bad, "--reason", "x")
    expect(p.returncode == 1 and "feature.strategies[0].constraints[0].value" in p.stderr,
           "a bad definition is refused naming the field", p.stdout, p.stderr)


def client_token_revoke(srv):
    """Client tokens are listed (no secret) and revoked at once, audited;
    a revoked token reads nothing; the revocation survives kill -9."""
    st, b = srv.request("POST", "/v1/client-tokens", {"name": "leaked"})
    expect(st == 201 and "token" in b and b["revoked_ms"] == 0, "token to revoke", st, b)
    tid, secret = b["id"], b["token"]
    hdr = {"Authorization": secret}
    st, _ = srv.request("GET", "/api/client/features", token="", headers=hdr)
    expect(st == 200, "the token reads before its revocation", st)
    st, b = srv.request("GET", "/v1/client-tokens")
    names = {t["name"]: t for t in b.get("client_tokens", [])}
    expect(st == 200 and "leaked" in names and "token" not in names["leaked"],
           "listed without the secret", st, b)
    viewer = srv.make_token("viewer")
    st, b = srv.request("GET", "/v1/client-tokens", token=viewer)
    expect(st == 403, "listing needs admin", st, b)
    p = rg.cli(srv, "flag", "token-revoke", str(tid))
    expect(p.returncode == 0 and "revoked" in p.stdout, "rollgate flag token-revoke",
           p.stdout, p.stderr)
    st, b = srv.request("GET", "/api/client/features", token="", headers=hdr)
    expect(st == 401, "a revoked token reads nothing", st, b)
    st, b = srv.request("DELETE", "/v1/client-tokens/%d" % tid)
    check_error(st, b, 409, "")
    st, b = srv.request("DELETE", "/v1/client-tokens/999999")
    expect(st == 404, "unknown client token", st, b)
    st, b = srv.request("GET", "/v1/audit?action=client_token.revoke")
    expect(st == 200 and [e["target"] for e in b["audit"]] == ["client_token:%d" % tid],
           "the revocation is audited", st, b)
    p = rg.cli(srv, "flag", "tokens")
    expect(p.returncode == 0 and "leaked" in p.stdout and "sdk" in p.stdout,
           "rollgate flag tokens lists them", p.stdout, p.stderr)
    return hdr


def node_agrees(srv, env, token, flags):
    """Evaluates every (flag, context) pair with the real unleash-client
    reading env with token and with POST /v1/flags/{name}/eval, expects
    them equal; returns {flag: how many contexts it is on for}."""
    cases = [{"flag": f["name"], "context": ctx} for f in flags for ctx in contexts()]
    nodeenv = dict(os.environ, NODE_PATH=os.path.join(NPM_DIR, "node_modules"))
    p = subprocess.run(["node", os.path.join(SRC, "tests", "e2e", "flags_node.js")],
                       input=json.dumps({"url": srv.url, "token": token, "cases": cases}),
                       capture_output=True, text=True, timeout=120, env=nodeenv)
    expect(p.returncode == 0, "unleash-client ran", p.stdout, p.stderr)
    node = json.loads(p.stdout.strip().splitlines()[-1])
    expect(node["errors"] == [], "unleash-client saw no errors", node["errors"])
    mismatches, on = [], {f["name"]: 0 for f in flags}
    for case, n in zip(cases, node["results"]):
        st, b = srv.request("POST", "/v1/flags/%s/eval" % case["flag"],
                            {"environment": env, "context": case["context"]})
        expect(st == 200, "eval " + case["flag"], st, b)
        cv = b["variant"]
        mine = {"enabled": b["enabled"],
                "variant": {"name": cv["name"], "enabled": cv["enabled"],
                            "feature_enabled": cv["feature_enabled"],
                            "payload": cv.get("payload")}}
        on[case["flag"]] += b["enabled"]
        if mine != n:
            mismatches.append((case, mine, n))
    expect(not mismatches, "%d of %d cases differ from unleash-client" %
           (len(mismatches), len(cases)), mismatches[:3])
    return on


def node_matches_c(srv, ct):
    for f in FLAGS:
        st, b = create(srv, f, env="prod", reason="compare with node")
        expect(st == 201, "create " + f["name"], st, b)
    on = sum(node_agrees(srv, "prod", ct, FLAGS).values())
    n = len(FLAGS) * len(contexts())
    expect(0 < on < n, "the cases are neither all on nor all off", on)
    return n


def main():
    dep = subprocess.run([os.path.join(SRC, "scripts", "deps.sh"), "flags"],
                         capture_output=True, text=True)
    expect(dep.returncode == 0, "scripts/deps.sh flags fetched unleash-client (npm registry "
           "needed)", dep.stdout, dep.stderr)
    with rg.Server() as srv:
        srv.start()
        bad_input(srv)
        st, b = srv.request("POST", "/v1/client-tokens", {"name": "sdk", "environment": "default"})
        expect(st == 201 and b["token"].startswith("*:default."), "client token", st, b)
        versions_audit_killswitch(srv, b["token"])
        cli_commands(srv, srv.tmp)
        revoked = client_token_revoke(srv)
        st, b = srv.request("POST", "/v1/client-tokens", {"name": "sdk-prod", "environment": "prod"})
        expect(st == 201, "prod client token", st, b)
        prod = b["token"]
        n = node_matches_c(srv, prod)
        srv.kill()
        srv.start()
        st, b = srv.request("GET", "/v1/flags/ks")
        expect(st == 200 and b["version"] == 2 and not b["enabled"],
               "flags and versions survive kill -9", st, b)
        st, feats = srv.request("GET", "/api/client/features", token="",
                                headers={"Authorization": prod})
        expect(st == 200 and len(feats["features"]) == len(FLAGS),
               "the client token survives kill -9", st, feats)
        st, _ = srv.request("GET", "/api/client/features", token="", headers=revoked)
        expect(st == 401, "its revocation survives kill -9", st)
        print("node and C agree on %d cases" % n)


if __name__ == "__main__":
    rg.run(main)
