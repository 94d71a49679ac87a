"""Happy paths of every admin route of docs/api.md against a real rollgated:
channels, artifacts, releases, rollouts and their actions, tokens,
enrollment keys, endpoints, audit; keep-alive; artifact download with Range
by an enrolled agent; state surviving a clean restart.
# ctest-labels: foundation
"""
import hashlib
import os
import time

import rg
from rg import expect


def preflight_passed(srv, release):
    """Waits (bounded) until release's preflight is no longer pending and
    checks it passed."""
    deadline = time.monotonic() + 120
    while True:
        st, body = srv.request("GET", "/v1/releases/%d" % release["id"])
        expect(st == 200, "get release", st, body)
        if body["preflight"]["status"] != "pending":
            break
        expect(time.monotonic() < deadline, "preflight pending", body)
        time.sleep(0.05)
    expect(body["preflight"]["status"] == "passed", "preflight passed", body)


def check_error_shape(body, code):
    expect(isinstance(body, dict) and set(body) == {"error"}, "error shape", body)
    e = body["error"]
    expect(set(e) == {"code", "message", "field"}, "error fields", e)
    expect(e["code"] == code, "error code %s" % code, e)


def keep_alive(srv):
    c = srv.client()
    st, _ = c.request("GET", "/healthz")
    expect(st == 200, "healthz", st)
    sock = c.conn.sock
    expect(sock is not None, "connection open after the first answer")
    expect((c.last.getheader("Connection") or "").lower() != "close",
           "first answer keeps the connection", c.last.getheaders())
    st, _ = c.request("GET", "/v1/channels")
    expect(st == 200, "channels", st)
    expect(c.conn.sock is sock, "second request reused the same connection")
    expect((c.last.getheader("Connection") or "").lower() != "close",
           "second answer keeps the connection", c.last.getheaders())
    # An error answer keeps it too.
    st, body = c.request("GET", "/v1/releases/999999")
    expect(st == 404, "unknown release", st, body)
    expect(c.conn.sock is sock, "connection kept after a 404")
    c.close()


def main():
    with rg.Server(args=["--tick-ms", "100000"]) as srv:
        srv.start()
        st, body = srv.request("GET", "/healthz", token="")
        expect(st == 200 and body["status"] == "ok" and body["version"], "healthz", st, body)
        keep_alive(srv)

        # --- channels ---------------------------------------------------
        st, ch = srv.request("POST", "/v1/channels",
                             {"name": "detections", "description": "rule files"})
        expect(st == 201, "create channel", st, ch)
        expect(ch["name"] == "detections" and ch["description"] == "rule files"
               and ch["current_release"] is None and ch["id"] >= 1
               and ch["created_ms"] > 0, "channel object", ch)
        # '.' and '..' are no channel an agent could keep (issue 11.16)
        for bad in (".", "..", "a/b", "Det"):
            st, b = srv.request("POST", "/v1/channels", {"name": bad})
            expect(st == 400 and b["error"]["field"] == "name", "channel name " + bad, st, b)
        st, ch2 = srv.request("POST", "/v1/channels", {"name": "flags"})
        expect(st == 201 and ch2["description"] == "", "second channel", st, ch2)
        st, body = srv.request("GET", "/v1/channels")
        expect(st == 200 and [c["name"] for c in body["channels"]] == ["detections", "flags"]
               or sorted(c["name"] for c in body["channels"]) == ["detections", "flags"],
               "channel list", body)

        # The emergency lane (urgency or plan) needs a passing preflight:
        # /bin/true passes any content.
        for name in ("detections", "flags"):
            st, body = srv.request("PUT", "/v1/channels/%s/preflight" % name,
                                   {"engine": "/bin/true", "timeout_s": 10})
            expect(st == 200 and body["preflight"]["engine"] == "/bin/true",
                   "register a preflight", st, body)

        # --- artifacts --------------------------------------------------
        data = os.urandom(200000)
        sha = hashlib.sha256(data).hexdigest()
        st, art = srv.upload(data)
        expect(st == 201 and art == {"sha256": sha, "size": len(data)}, "upload", st, art)
        path = os.path.join(srv.data, "artifacts", sha[:2], sha)
        with open(path, "rb") as f:
            expect(f.read() == data, "artifact stored content-addressed at " + path)
        leftovers = [n for n in os.listdir(os.path.join(srv.data, "artifacts"))
                     if n.startswith(".upload")]
        expect(not leftovers, "no temporary upload files left", leftovers)
        st, art2 = srv.upload(data)
        expect(st == 200 and art2 == art, "re-upload of the same bytes is 200", st, art2)
        data2 = b"second release payload\n"
        sha2 = hashlib.sha256(data2).hexdigest()
        st, _ = srv.upload(data2)
        expect(st == 201, "second artifact", st)
        st, empty = srv.upload(b"")
        expect(st == 201 and empty["size"] == 0 and
               empty["sha256"] == hashlib.sha256(b"").hexdigest(), "empty artifact", st, empty)

        # --- releases ---------------------------------------------------
        st, r1 = srv.request("POST", "/v1/releases", {
            "channel": "detections", "version": 7, "artifact": sha,
            "notes": "first rules", "urgency": "standard"})
        expect(st == 201, "create release", st, r1)
        expect(r1["channel"] == "detections" and r1["version"] == 7 and r1["sha256"] == sha
               and r1["size"] == len(data) and r1["notes"] == "first rules"
               and r1["urgency"] == "standard" and r1["created_by"] == "admin",
               "release object", r1)
        st, r2 = srv.request("POST", "/v1/releases", {
            "channel": "detections", "version": 8, "artifact": sha2,
            "notes": "fix", "urgency": "emergency"})
        expect(st == 201 and r2["urgency"] == "emergency", "second release", st, r2)
        st, r3 = srv.request("POST", "/v1/releases", {
            "channel": "flags", "version": 1, "artifact": sha2,
            "notes": "flags", "urgency": "standard"})
        expect(st == 201, "release on flags", st, r3)
        st, body = srv.request("GET", "/v1/releases")
        expect(st == 200 and [r["id"] for r in body["releases"]] == [r3["id"], r2["id"], r1["id"]],
               "release list newest first", body)
        st, body = srv.request("GET", "/v1/releases?channel=detections")
        expect(st == 200 and [r["id"] for r in body["releases"]] == [r2["id"], r1["id"]],
               "release list by channel", body)
        for r in (r1, r2, r3):
            expect(r["preflight"] == {"status": "pending"}, "pending", r)
            preflight_passed(srv, r)
        st, body = srv.request("GET", "/v1/releases/%d" % r1["id"])
        expect(st == 200 and body["preflight"]["status"] == "passed"
               and {k: v for k, v in body.items() if k != "preflight"}
               == {k: v for k, v in r1.items() if k != "preflight"},
               "get release", st, body)

        # --- rollouts ---------------------------------------------------
        st, ro = srv.request("POST", "/v1/rollouts", {"release": r1["id"]})
        expect(st == 201, "create rollout", st, ro)
        expect(ro["state"] == "running" and ro["wave"] == 0 and ro["release"] == r1["id"]
               and ro["channel"] == "detections" and ro["version"] == 7
               and ro["previous_release"] is None and ro["plan"]["name"] == "standard"
               and ro["wave_name"] == ro["plan"]["waves"][0]["name"]
               and isinstance(ro["counts"], dict) and "fleet" in ro["counts"]
               and isinstance(ro["decisions"], list), "rollout object", ro)
        rid = ro["id"]
        for act, state in (("pause", "paused"), ("resume", "running"), ("pause", "paused")):
            st, body = srv.request("POST", "/v1/rollouts/%d/%s" % (rid, act),
                                   {"reason": "operator says " + act})
            expect(st == 200 and body["state"] == state, act, st, body)
        reasons = [d["reason"] for d in body["decisions"]]
        expect("operator says resume" in reasons and
               all(d["actor"] == "admin" for d in body["decisions"] if d["reason"].startswith("operator")),
               "decisions carry reasons and actor", body["decisions"])
        st, body = srv.request("POST", "/v1/rollouts/%d/abort" % rid, {"reason": "stop it"})
        expect(st == 200 and body["state"] == "aborted", "abort", st, body)
        st, body = srv.request("GET", "/v1/rollouts?active=1")
        expect(st == 200 and body["rollouts"] == [], "no active rollouts", body)

        custom = {"name": "custom", "on_halt": "pause",
                  "waves": [{"name": "canary", "share": 1, "min_endpoints": 1,
                             "min_bake_s": 1}, {"name": "all", "share": 100}]}
        st, ro2 = srv.request("POST", "/v1/rollouts", {"release": r2["id"], "plan": custom})
        expect(st == 201 and ro2["plan"]["on_halt"] == "pause"
               and [w["name"] for w in ro2["plan"]["waves"]] == ["canary", "all"]
               and ro2["wave_name"] == "canary", "custom plan rollout", st, ro2)
        st, ro3 = srv.request("POST", "/v1/rollouts", {"release": r3["id"], "plan": "emergency"})
        expect(st == 201 and ro3["plan"]["name"] == "emergency", "emergency rollout", st, ro3)
        st, body = srv.request("GET", "/v1/rollouts")
        expect(st == 200 and [r["id"] for r in body["rollouts"]] == [ro3["id"], ro2["id"], rid]
               and all("decisions" not in r for r in body["rollouts"]),
               "rollout list newest first, without decisions", body)
        st, body = srv.request("GET", "/v1/rollouts?active=1")
        expect(st == 200 and sorted(r["id"] for r in body["rollouts"]) == sorted([ro2["id"], ro3["id"]]),
               "active rollouts", body)
        st, body = srv.request("POST", "/v1/rollouts/%d/rollback" % ro3["id"], {"reason": "bad flags"})
        expect(st == 200 and body["state"] == "rolled_back", "rollback", st, body)
        st, body = srv.request("GET", "/v1/rollouts/%d" % ro2["id"])
        expect(st == 200 and body["id"] == ro2["id"] and "decisions" in body, "get rollout", st, body)

        # --- tokens -----------------------------------------------------
        st, tok = srv.request("POST", "/v1/tokens",
                              {"role": "viewer", "name": "ci", "expires_in_s": 3600})
        expect(st == 201 and len(tok["token"]) == 64 and tok["role"] == "viewer"
               and tok["name"] == "ci" and tok["expires_ms"] > tok["created_ms"], "create token", st, tok)
        st, body = srv.request("GET", "/v1/channels", token=tok["token"])
        expect(st == 200, "viewer token works", st, body)
        st, body = srv.request("GET", "/v1/tokens")
        names = [t["name"] for t in body["tokens"]]
        expect(st == 200 and "admin" in names and "ci" in names
               and all("token" not in t and "hash" not in t for t in body["tokens"]),
               "token list without secrets", body)
        st, body = srv.request("DELETE", "/v1/tokens/%d" % tok["id"])
        expect(st == 200 and body["id"] == tok["id"] and body["revoked_ms"] > 0
               and "token" not in body, "revoke token", st, body)
        st, body = srv.request("GET", "/v1/channels", token=tok["token"])
        expect(st == 401, "revoked token refused", st, body)
        check_error_shape(body, "unauthorized")

        # --- enrollment keys, agents, endpoints, download with Range ------
        st, key = srv.request("POST", "/v1/enrollment-keys", {"uses": 5, "expires_in_s": 600})
        expect(st == 201 and len(key["key"]) == 64 and key["uses"] == 5, "enrollment key", st, key)
        st, key2 = srv.request("POST", "/v1/enrollment-keys", {})
        expect(st == 201 and len(key2["key"]) == 64, "unlimited enrollment key", st, key2)
        st, enr = srv.request("POST", "/v1/agent/enroll", {
            "enrollment_key": key["key"], "endpoint_id": "host-1",
            "attributes": {"os": "linux", "os_version": "6", "arch": "x86_64"}}, token="")
        expect(st == 200 and len(enr["token"]) == 64, "agent enroll", st, enr)
        st, body = srv.request("GET", "/v1/endpoints")
        expect(st == 200 and [e["id"] for e in body["endpoints"]] == ["host-1"]
               and body["total"] == 1, "endpoint list", st, body)
        st, body = srv.request("GET", "/v1/endpoints/host-1")
        expect(st == 200 and body["id"] == "host-1", "endpoint get", st, body)
        agent = srv.client(token=enr["token"])
        # An endpoint downloads only what it was offered: claiming a
        # release installed grants nothing (issue 11.2).
        st, got = agent.request("GET", "/v1/agent/artifacts/" + sha)
        expect(st == 403, "download of an artifact never offered", st, got)
        st, body = agent.request("POST", "/v1/agent/checkin", {
            "endpoint_id": "host-1", "installed": {"detections": {"release": r1["id"]}}})
        expect(st == 200, "check-in reporting the release installed", st, body)
        st, got = agent.request("GET", "/v1/agent/artifacts/" + sha)
        expect(st == 403, "an installed claim grants no download", st, got)
        st, pol = srv.request("POST", "/v1/policies", {
            "name": "pin-host-1", "channel": "detections", "mode": "pin",
            "release": r1["id"], "selector": {"attribute": {"os": "linux"}}})
        expect(st == 201, "pin policy", st, pol)
        st, body = agent.request("POST", "/v1/agent/checkin", {"endpoint_id": "host-1"})
        expect(st == 200 and body["desired"]["detections"]["release"] == r1["id"],
               "the pinned release is offered", st, body)
        st, got = agent.request("GET", "/v1/agent/artifacts/" + sha)
        expect(st == 200 and got == data, "agent download", st, len(got))
        st, _ = srv.request("DELETE", "/v1/policies/%d" % pol["id"])
        expect(st == 200, "policy deleted", st)
        st, got = agent.request("GET", "/v1/agent/artifacts/" + sha,
                                headers={"Range": "bytes=100-199"})
        expect(st == 206 and got == data[100:200] and
               agent.last.getheader("Content-Range") == "bytes 100-199/%d" % len(data),
               "ranged download", st, agent.last.getheaders())
        st, got = agent.request("GET", "/v1/agent/artifacts/" + sha,
                                headers={"Range": "bytes=-10"})
        expect(st == 206 and got == data[-10:], "suffix range", st)
        st, got = agent.request("GET", "/v1/agent/artifacts/" + sha,
                                headers={"Range": "bytes=%d-" % (len(data) - 5)})
        expect(st == 206 and got == data[-5:], "open range", st)
        st, body = agent.request("GET", "/v1/agent/artifacts/" + sha,
                                 headers={"Range": "bytes=%d-" % len(data)})
        expect(st == 416 and agent.last.getheader("Content-Range") == "bytes */%d" % len(data),
               "unsatisfiable range", st, body)
        check_error_shape(body, "range_not_satisfiable")
        agent.close()

        # --- audit ------------------------------------------------------
        st, body = srv.request("GET", "/v1/audit")
        expect(st == 200, "audit", st, body)
        rows = body["audit"]
        ids = [a["id"] for a in rows]
        expect(ids == sorted(ids, reverse=True), "audit newest first", ids)
        actions = [a["action"] for a in rows]
        for want in ("channel.create", "artifact.put", "release.create", "rollout.create",
                     "rollout.pause", "rollout.resume", "rollout.abort", "rollout.rollback",
                     "token.create", "token.revoke", "enrollment_key.create"):
            expect(want in actions, "audit has " + want, actions)
        pause = [a for a in rows if a["action"] == "rollout.pause"][0]
        expect(pause["actor"] == "admin" and pause["role"] == "admin"
               and pause["target"] == "rollout:%d" % rid
               and pause["reason"].startswith("operator says")
               and pause["source"] == "127.0.0.1" and pause["at_ms"] > 0, "audit row", pause)
        st, body = srv.request("GET", "/v1/audit?target=rollout:%d&limit=2" % rid)
        expect(st == 200 and len(body["audit"]) == 2 and
               all(a["target"] == "rollout:%d" % rid for a in body["audit"]), "audit filters", body)
        st, body = srv.request("GET", "/v1/audit?actor=nobody")
        expect(st == 200 and body["audit"] == [], "audit actor filter", body)
        audit_count = len(rows)

        # --- a clean restart keeps everything -----------------------------
        rc = srv.stop()
        expect(rc == 0, "SIGTERM exits 0", rc, srv.log_text())
        srv.start()
        st, body = srv.request("GET", "/v1/releases")
        expect(st == 200 and len(body["releases"]) == 3, "releases after restart", body)
        st, body = srv.request("GET", "/v1/rollouts/%d" % ro2["id"])
        expect(st == 200 and body["state"] == "running", "rollout after restart", body)
        st, body = srv.request("GET", "/v1/audit")
        expect(st == 200 and len(body["audit"]) >= audit_count, "audit after restart", body)
        st, body = srv.request("GET", "/v1/endpoints/host-1")
        expect(st == 200, "endpoint after restart", st, body)
        srv.stop()


rg.run(main)
