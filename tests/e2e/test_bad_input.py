"""Data-driven bad requests: every tests/data/http/*.json file is one case
(method, path, credential, body or raw bytes or a transport trick, expected
status, error code and optionally field). Each must answer with that status
and the error shape {"error": {"code", "message", "field"}}, and must leave
the stored state exactly as it was (channels, releases, rollouts, tokens,
audit rows, endpoints, artifact files). A refused authentication is
audited (action auth.failed): those rows are the one change allowed.

Case fields: name, method, path, token (none | malformed | wrong | revoked |
basic | viewer | operator | admin | agent | agent2), body (JSON) | raw
(text) | raw_b64, headers, transport ("headers-only": declare `size` bytes
and send none; "chunked": stream `size` bytes chunked; "head-lines": send
the header lines `head_lines` verbatim, repeated names included, then
`raw`), status, code, field or field_prefix. Strings "$name" in path or body are fixture values.
# ctest-labels: foundation
"""
import base64
import glob
import hashlib
import json
import os
import socket

import rg
from rg import expect

ARTIFACT_MAX = 65536


def substitute(v, fix):
    if isinstance(v, str) and v.startswith("$") and v[1:] in fix:
        return fix[v[1:]]
    if isinstance(v, dict):
        return {k: substitute(x, fix) for k, x in v.items()}
    if isinstance(v, list):
        return [substitute(x, fix) for x in v]
    return v


def subst_path(path, fix):
    for k in sorted(fix, key=len, reverse=True):
        path = path.replace("$" + k, str(fix[k]))
    return path


def auth_headers(kind, creds):
    if kind == "none":
        return {}
    if kind == "malformed":
        return {"Authorization": "Bearer 1234"}
    if kind == "wrong":
        return {"Authorization": "Bearer " + hashlib.sha256(b"wrong").hexdigest()}
    if kind == "basic":
        return {"Authorization": "Basic YWRtaW46YWRtaW4="}
    return {"Authorization": "Bearer " + creds[kind]}


def read_response(sock):
    """Reads one HTTP/1.1 response with Content-Length from sock."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise rg.Failure("connection closed before a response: %r" % buf[:200])
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("iso-8859-1").split("\r\n")
    status = int(lines[0].split()[1])
    hdrs = {l.split(":", 1)[0].strip().lower(): l.split(":", 1)[1].strip()
            for l in lines[1:] if ":" in l}
    n = int(hdrs.get("content-length", "0"))
    while len(rest) < n:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return status, json.loads(rest[:n].decode("utf-8"))


def raw_transport(srv, case, hdrs):
    """Sends a request over a bare socket: only headers declaring size
    bytes, or a chunked body of size bytes. Returns (status, body)."""
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
    try:
        lines = ["%s %s HTTP/1.1" % (case["method"], case["path"]), "Host: 127.0.0.1"]
        lines += ["%s: %s" % kv for kv in hdrs.items()]
        size = case.get("size", 0)
        if case["transport"] == "head-lines":
            lines += case["head_lines"]
            s.sendall(("\r\n".join(lines) + "\r\n\r\n" + case["raw"]).encode())
        elif case["transport"] == "headers-only":
            lines.append("Content-Length: %d" % size)
            s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        else:
            lines.append("Transfer-Encoding: chunked")
            s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
            block = b"x" * 16384
            left = size
            while left > 0:
                n = min(left, len(block))
                s.sendall(b"%x\r\n" % n + block[:n] + b"\r\n")
                left -= n
            s.sendall(b"0\r\n\r\n")
        return read_response(s)
    finally:
        s.close()


def snapshot(srv):
    """Everything a bad request must not change."""
    snap = {}
    for key, path in (("channels", "/v1/channels"), ("releases", "/v1/releases"),
                      ("rollouts", "/v1/rollouts"), ("tokens", "/v1/tokens"),
                      ("audit", "/v1/audit?limit=1000"),
                      ("endpoints", "/v1/endpoints")):
        st, body = srv.request("GET", path)
        expect(st == 200, "snapshot " + path, st, body)
        snap[key] = body
    snap["audit"]["audit"] = [a for a in snap["audit"]["audit"]
                              if a["action"] != "auth.failed"]
    for r in snap["rollouts"]["rollouts"]:
        r.pop("counts", None)
    for e in snap["endpoints"]["endpoints"]:
        e.pop("last_seen_ms", None)
    files = []
    for root, _, names in os.walk(os.path.join(srv.data, "artifacts")):
        files += [os.path.join(root, n) for n in names]
    snap["artifact_files"] = sorted(files)
    return snap


def fixtures(srv):
    creds = {r: srv.make_token(r, "bad-" + r) for r in ("viewer", "operator", "admin")}
    creds["revoked"] = srv.make_token("operator", "bad-revoked")
    st, body = srv.request("GET", "/v1/tokens")
    revoked_id = [t["id"] for t in body["tokens"] if t["name"] == "bad-revoked"][0]
    st, body = srv.request("DELETE", "/v1/tokens/%d" % revoked_id)
    expect(st == 200, "revoke fixture token", st, body)
    payload = os.urandom(1000)
    st, art = srv.upload(payload)
    expect(st == 201, "fixture artifact", st, art)
    sha = art["sha256"]
    fix = {"sha": sha, "revoked_id": revoked_id}
    for ch in ("det", "other"):
        st, body = srv.request("POST", "/v1/channels", {"name": ch})
        expect(st == 201, "fixture channel", st, body)
    mk = lambda ch, v: srv.request("POST", "/v1/releases", {  # noqa: E731
        "channel": ch, "version": v, "artifact": sha, "notes": "n", "urgency": "standard"})
    st, r5 = mk("det", 5)
    st, r6 = mk("det", 6)
    st, o1 = mk("other", 1)
    expect(st == 201, "fixture releases", st, o1)
    fix.update(release5=r5["id"], release6=r6["id"], release6s=str(r6["id"]))
    st, ro = srv.request("POST", "/v1/rollouts", {"release": r5["id"]})
    expect(st == 201, "fixture rollout", st, ro)
    st, ab = srv.request("POST", "/v1/rollouts", {"release": o1["id"]})
    st, body = srv.request("POST", "/v1/rollouts/%d/abort" % ab["id"], {"reason": "fixture"})
    expect(st == 200, "fixture abort", st, body)
    fix.update(rollout=ro["id"], aborted=ab["id"])
    st, key = srv.request("POST", "/v1/enrollment-keys", {})
    for name, host in (("agent", "host-1"), ("agent2", "host-2")):
        st, body = srv.request("POST", "/v1/agent/enroll", {
            "enrollment_key": key["key"], "endpoint_id": host,
            "attributes": {"os": "linux", "os_version": "6", "arch": "x86_64",
                           "tags": ["pinned"] if host == "host-1" else []}}, token="")
        expect(st == 200, "enroll " + host, st, body)
        creds[name] = body["token"]
    # host-1 is offered release 5 (pinned to it): it may download its
    # artifact (an installed claim alone would grant nothing).
    st, body = srv.request("POST", "/v1/policies", {
        "name": "pin-host-1", "channel": "det", "mode": "pin", "release": r5["id"],
        "selector": {"tag": "pinned"}})
    expect(st == 201, "fixture policy", st, body)
    st, body = srv.request("POST", "/v1/agent/checkin", {
        "endpoint_id": "host-1", "installed": {"det": {"release": r5["id"]}}},
        token=creds["agent"])
    expect(st == 200 and body["desired"]["det"]["release"] == r5["id"], "fixture check-in",
           st, body)
    creds["admin"] = srv.token
    return fix, creds


def run_case(srv, path, fix, creds):
    with open(path) as f:
        case = json.load(f)
    case["path"] = subst_path(case["path"], fix)
    hdrs = auth_headers(case["token"], creds)
    hdrs.update(case.get("headers", {}))
    if "transport" in case:
        st, body = raw_transport(srv, case, hdrs)
    else:
        raw = None
        if "raw" in case:
            raw = case["raw"].encode("utf-8")
        elif "raw_b64" in case:
            raw = base64.b64decode(case["raw_b64"])
        elif "body" in case:
            raw = json.dumps(substitute(case["body"], fix)).encode("utf-8")
        c = srv.client(token="")
        try:
            st, body = c.request(case["method"], case["path"], raw=raw, token="",
                                 headers=hdrs)
        finally:
            c.close()
    problems = []
    if st != case["status"]:
        problems.append("status %d, want %d" % (st, case["status"]))
    ok_shape = (isinstance(body, dict) and set(body) == {"error"} and
                isinstance(body["error"], dict) and
                set(body["error"]) == {"code", "message", "field"} and
                body["error"]["message"])
    if not ok_shape:
        problems.append("not the error shape")
    else:
        e = body["error"]
        if e["code"] != case["code"]:
            problems.append("code %r, want %r" % (e["code"], case["code"]))
        if "field" in case and e["field"] != case["field"]:
            problems.append("field %r, want %r" % (e["field"], case["field"]))
        if "field_prefix" in case and not e["field"].startswith(case["field_prefix"]):
            problems.append("field %r, want prefix %r" % (e["field"], case["field_prefix"]))
    return case, problems, body


def main():
    files = sorted(glob.glob(os.path.join(rg.DATA_DIR, "http", "*.json")))
    expect(len(files) >= 40, "at least 40 cases", len(files))
    with rg.Server(args=["--artifact-max", str(ARTIFACT_MAX), "--tick-ms", "100000"]) as srv:
        srv.start()
        fix, creds = fixtures(srv)
        before = snapshot(srv)
        failures = []
        for path in files:
            case, problems, body = run_case(srv, path, fix, creds)
            after = snapshot(srv)
            if after != before:
                changed = [k for k in before if before[k] != after[k]]
                problems.append("stored state changed: %s" % changed)
                before = after
            if problems:
                failures.append("%s: %s (%s %s -> %r)" % (
                    os.path.basename(path), "; ".join(problems), case["method"],
                    case["path"], body))
        expect(not failures, "%d of %d cases failed:\n  " % (len(failures), len(files))
               + "\n  ".join(failures))
        rc = srv.stop()
        expect(rc == 0, "clean stop", rc, srv.log_text())


rg.run(main)
