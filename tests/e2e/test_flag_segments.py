"""Flag segments against a real rollgated: created, updated, listed, shown
and deleted through the admin API and the CLI, every change a new version
audited with its reason; a bad segment answers 400 naming the field and
stores nothing; a strategy naming an unknown segment is refused; a segment
that a flag names cannot be deleted (409 naming the flags); a segment
change moves the client-features ETag; segments survive kill -9; and the
real Unleash Node SDK (unleash-client) reading /api/client/features
decides flags with segments exactly as the C evaluator does.
# ctest-labels: flags
"""
import json
import os
import subprocess

import rg
from rg import expect
from test_flags import SRC, c, check_error, contexts, create, node_agrees, strategy


def seg_create(srv, name, constraints, env=None, reason="test"):
    body = {"segment": {"name": name, "constraints": constraints}, "reason": reason}
    if env:
        body["environment"] = env
    return srv.request("POST", "/v1/segments", body)


def bad_input(srv):
    st, b = seg_create(srv, "bad.op", [c("os", "LIKE", ["a"])])
    check_error(st, b, 400, "segment.constraints[0].operator")
    st, b = seg_create(srv, "bad.num", [c("cores", "NUM_GT", value="ten")])
    check_error(st, b, 400, "segment.constraints[0].value")
    st, b = seg_create(srv, "Bad Name", [])
    check_error(st, b, 400, "segment.name")
    st, b = srv.request("POST", "/v1/segments", {"segment": {"name": "x", "constraints": []}})
    check_error(st, b, 400, "reason")
    st, b = srv.request("POST", "/v1/segments", {"segment": {"name": "x"}, "reason": "r"})
    check_error(st, b, 400, "segment.constraints")
    st, b = srv.request("POST", "/v1/segments", {"segment": {"name": "x", "id": 7,
                                                              "constraints": []}, "reason": "r"})
    expect(st == 400, "the id is the server's", st, b)
    st, b = create(srv, {"name": "needs.seg", "enabled": True,
                         "strategies": [dict(strategy("default"), segments=[4242])]})
    check_error(st, b, 400, "feature.strategies[0].segments")
    st, b = srv.request("GET", "/v1/segments")
    expect(st == 200 and b["segments"] == [], "refused segments store nothing", st, b)


def lifecycle(srv, ct):
    """Versions, audit, 409 while in use, ETag moves, delete and revive."""
    st, b = seg_create(srv, "linux", [c("os", "IN", ["linux"])], reason="linux hosts")
    expect(st == 201 and b["version"] == 1 and b["id"] >= 1, "created", st, b)
    sid = b["id"]
    st, b = seg_create(srv, "linux", [])
    check_error(st, b, 409, "name")
    st, b = create(srv, {"name": "on.linux", "enabled": True,
                         "strategies": [dict(strategy("default"), segments=[sid])]})
    expect(st == 201, "a flag naming the segment", st, b)
    hdr = {"Authorization": ct}
    st, feats = srv.request("GET", "/api/client/features", token="", headers=hdr)
    etag = srv._client.last.getheader("ETag")
    expect(st == 200 and feats["segments"] == [
        {"id": sid, "name": "linux", "constraints": [c("os", "IN", ["linux"])]}],
        "the document carries the segment", feats)
    st, b = srv.request("PUT", "/v1/segments/linux", {
        "segment": {"constraints": [c("os", "IN", ["linux", "freebsd"])]},
        "reason": "bsd too", "version": 1})
    expect(st == 200 and b["version"] == 2 and b["id"] == sid, "update keeps the id", st, b)
    st, b = srv.request("PUT", "/v1/segments/linux", {
        "segment": {"constraints": []}, "reason": "stale", "version": 1})
    check_error(st, b, 409, "version")
    st, feats = srv.request("GET", "/api/client/features", token="",
                            headers=dict(hdr, **{"If-None-Match": etag}))
    expect(st == 200 and feats["segments"][0]["constraints"][0]["values"] ==
           ["linux", "freebsd"], "a segment change moves the ETag", st, feats)
    st, b = srv.request("DELETE", "/v1/segments/linux", {"reason": "cleanup"})
    check_error(st, b, 409, "name")
    expect("'on.linux'" in b["error"]["message"], "the 409 names the flag", b)
    st, b = srv.request("GET", "/v1/segments/linux")
    expect(st == 200 and b["version"] == 2, "a refused delete stores nothing", st, b)
    st, b = srv.request("PUT", "/v1/flags/on.linux", {
        "feature": {"name": "on.linux", "enabled": True, "strategies": [strategy("default")]},
        "reason": "no segment"})
    expect(st == 200, "the flag lets go of it", st, b)
    st, b = srv.request("DELETE", "/v1/segments/linux", {"reason": "cleanup"})
    expect(st == 200 and b["deleted"] and b["version"] == 3, "deleted as version 3", st, b)
    st, b = srv.request("DELETE", "/v1/segments/linux", {"reason": "again"})
    check_error(st, b, 404, "name")
    st, b = srv.request("GET", "/v1/segments")
    expect(st == 200 and b["segments"] == [], "a deleted segment is not listed", st, b)
    st, b = srv.request("GET", "/v1/segments/linux")
    expect([(h["version"], h["deleted"], h["reason"]) for h in b["history"]] ==
           [(3, True, "cleanup"), (2, False, "bsd too"), (1, False, "linux hosts")],
           "history, newest first, with reasons", b)
    st, b = srv.request("GET", "/v1/audit?target=segment:default/linux")
    expect(st == 200 and sorted(e["action"] for e in b["audit"]) ==
           ["segment.create", "segment.delete", "segment.update"], "audited", st, b)
    st, b = seg_create(srv, "linux", [c("os", "IN", ["linux"])], reason="back")
    expect(st == 201 and b["version"] == 4 and b["id"] == sid, "revived with its id", st, b)
    viewer = srv.make_token("viewer")
    st, b = srv.request("DELETE", "/v1/segments/linux", {"reason": "x"}, token=viewer)
    expect(st == 403, "a viewer cannot delete", st, b)


def cli_commands(srv, tmp):
    def run(*args, code=0):
        p = rg.cli(srv, *args)
        expect(p.returncode == code, "rollgate " + " ".join(args), p.stdout, p.stderr)
        return p
    path = os.path.join(tmp, "seg.json")
    with open(path, "w") as f:
        json.dump({"constraints": [c("region", "IN", ["eu"])], "description": "eu"}, f)
    out = run("flag", "segment", "create", "eu", "--file", path, "--reason", "eu only",
              "--env", "staging").stdout
    expect("constraints:" in out and "eu only" in out, "create prints the segment", out)
    sid = json.loads(run("flag", "segment", "show", "eu", "--env", "staging",
                         "--json").stdout)["id"]
    flag = os.path.join(tmp, "flag.json")
    with open(flag, "w") as f:
        json.dump({"name": "cli.seg", "enabled": True,
                   "strategies": [dict(strategy("default"), segments=[sid])]}, f)
    run("flag", "create", "cli.seg", "--file", flag, "--reason", "x", "--env", "staging")
    out = run("flag", "segment", "list", "--env", "staging").stdout
    expect("eu" in out and str(sid) in out, "list shows it", out)
    run("flag", "segment", "update", "eu", "--file", path, "--reason", "again",
        "--env", "staging")
    p = run("flag", "segment", "delete", "eu", "--reason", "x", "--env", "staging", code=1)
    expect("'cli.seg'" in p.stderr, "delete in use names the flag", p.stderr)
    out = run("flag", "segment", "show", "eu", "--env", "staging").stdout
    expect("version 2" in out and "again" in out, "show lists versions and reasons", out)
    p = run("flag", "segment", "frob", "eu", code=2)
    expect("create|update|list|show|delete" in p.stderr, "unknown verb is a usage error",
           p.stderr)


SEGMENTS = [("seg.linux", [c("os", "IN", ["linux", "windows"])]),
            ("seg.cores", [c("cores", "NUM_GTE", value="4"),
                           c("email", "STR_CONTAINS", ["example"], caseInsensitive=True)]),
            ("seg.late", [c("version", "SEMVER_GTE", value="1.2.0")])]


def seg_flags(ids):
    return [
        {"name": "seg.one", "enabled": True, "strategies": [
            dict(strategy("default"), segments=[ids["seg.linux"]])]},
        {"name": "seg.two", "enabled": True, "strategies": [dict(strategy(
            "flexibleRollout", {"rollout": "60", "stickiness": "default", "groupId": "s2"},
            [c("cores", "NUM_LT", value="14")]), segments=[ids["seg.cores"], ids["seg.late"]])]},
        {"name": "seg.either", "enabled": True, "strategies": [
            dict(strategy("default"), segments=[ids["seg.late"]]),
            dict(strategy("userWithId", {"userIds": "u1,u2,u3"}), segments=[ids["seg.linux"]])]},
        {"name": "seg.variants", "enabled": True, "strategies": [dict(strategy(
            "flexibleRollout", {"rollout": "100", "stickiness": "default", "groupId": "sv"},
            variants=[{"name": "a", "weight": 1, "stickiness": "default"},
                      {"name": "b", "weight": 1, "stickiness": "default"}]),
            segments=[ids["seg.cores"]])]},
    ]


def node_matches_c(srv):
    ids = {}
    for name, cons in SEGMENTS:
        st, b = seg_create(srv, name, cons, env="prod")
        expect(st == 201, "segment " + name, st, b)
        ids[name] = b["id"]
    flags = seg_flags(ids)
    for f in flags:
        st, b = create(srv, f, env="prod", reason="compare with node")
        expect(st == 201, "create " + f["name"], st, b)
    st, b = srv.request("POST", "/v1/client-tokens", {"name": "sdk-prod", "environment": "prod"})
    expect(st == 201, "prod client token", st, b)
    on = node_agrees(srv, "prod", b["token"], flags)
    expect(all(0 < k < len(contexts()) for k in on.values()),
           "every flag is on for some contexts and off for others", on)
    return len(flags) * len(contexts())


def main():
    dep = subprocess.run([os.path.join(SRC, "scripts", "deps.sh"), "flags"],
                         capture_output=True, text=True)
    expect(dep.returncode == 0, "scripts/deps.sh flags fetched unleash-client (npm registry "
           "needed)", dep.stdout, dep.stderr)
    with rg.Server() as srv:
        srv.start()
        bad_input(srv)
        st, b = srv.request("POST", "/v1/client-tokens", {"name": "sdk"})
        expect(st == 201, "client token", st, b)
        lifecycle(srv, b["token"])
        cli_commands(srv, srv.tmp)
        n = node_matches_c(srv)
        srv.kill()
        srv.start()
        st, b = srv.request("GET", "/v1/segments?environment=prod")
        expect(st == 200 and [g["name"] for g in b["segments"]] ==
               [name for name, _ in SEGMENTS], "segments survive kill -9", st, b)
        st, b = srv.request("GET", "/v1/segments/linux")
        expect(st == 200 and b["version"] == 4, "and their versions", st, b)
        print("node and C agree on %d cases with segments" % n)


if __name__ == "__main__":
    rg.run(main)
