"""The dashboard's server side against a real rollgated (docs/dashboard.md):
its files at / and /ui/NAME with the security headers (a CSP without
inline script or style and no framing, nosniff), an ETag answered 304,
404 for names outside the directory; --web-dir; GET /v1/whoami tells the
token's role; GET /v1/fleet counts endpoints by stratum and installed
release; the push stream GET /v1/stream sends hello, then every decision
(a rollout created, an operator action), resumes after Last-Event-ID,
says reset for an id it cannot resume, needs a token, and is capped per
token and per address (429, the caps' flags); GET /v1/rollouts/{id}?measure=0
answers the gate's counts without measuring.
# ctest-labels: web
"""
import http.client
import json
import os
import socket
import time

import rg
from mitm import cli, signed_release
from rg import expect


def get_raw(srv, path, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    conn.request("GET", path, headers=headers or {})
    r = conn.getresponse()
    body = r.read()
    conn.close()
    return r, body


def files(srv):
    r, body = get_raw(srv, "/")
    expect(r.status == 200 and b'type="module" src="/ui/app.js"' in body, "index.html at /",
           r.status, body[:200])
    expect(r.getheader("Content-Type") == "text/html; charset=utf-8", "html type",
           r.getheader("Content-Type"))
    csp = r.getheader("Content-Security-Policy") or ""
    for part in ("default-src 'self'", "script-src 'self'", "style-src 'self'",
                 "frame-ancestors 'none'"):
        expect(part in csp, "CSP has " + part, csp)
    expect("unsafe-inline" not in csp and "unsafe-eval" not in csp, "no inline allowed", csp)
    expect(r.getheader("X-Content-Type-Options") == "nosniff", "nosniff")
    expect(r.getheader("Cache-Control") == "no-cache", "revalidated caching",
           r.getheader("Cache-Control"))
    expect(b"<script>" not in body and b"style=" not in body, "no inline script or style")
    r, body = get_raw(srv, "/ui/app.js")
    etag = r.getheader("ETag")
    expect(r.status == 200 and r.getheader("Content-Type").startswith("text/javascript")
           and etag, "app.js", r.status, r.getheaders())
    r, body = get_raw(srv, "/ui/app.js", {"If-None-Match": etag})
    expect(r.status == 304 and body == b"", "304 to a matching ETag", r.status)
    expect(r.getheader("Content-Security-Policy"), "304 keeps the headers")
    r, _ = get_raw(srv, "/ui/style.css")
    expect(r.status == 200 and r.getheader("Content-Type").startswith("text/css"), "css")
    for bad in ("/ui/..%2F..%2Fetc%2Fpasswd", "/ui/.hidden", "/ui/nope.js", "/ui/a%00b"):
        r, body = get_raw(srv, bad)
        expect(r.status == 404 and b'"not_found"' in body, "404 for " + bad, r.status, body)
    r, body = get_raw(srv, "/ui/")
    expect(r.status == 404, "no listing", r.status)


def whoami(srv):
    st, b = srv.request("GET", "/v1/whoami")
    expect(st == 200 and b["role"] == "admin" and b["name"] == "admin", "whoami", st, b)
    viewer = srv.make_token("viewer", "watcher")
    st, b = srv.request("GET", "/v1/whoami", token=viewer)
    expect(st == 200 and b["role"] == "viewer" and b["name"] == "watcher", "viewer", st, b)
    st, b = srv.request("GET", "/v1/whoami", token="f" * 64)
    expect(st == 401, "a wrong token is refused", st, b)
    return viewer


def fleet(srv):
    st, key = srv.request("POST", "/v1/enrollment-keys", {})
    expect(st == 201, "key", st, key)
    tokens = {}
    for i, (os_, ver) in enumerate([("linux", "6")] * 3 + [("windows", "10")] * 2):
        eid = "h-%d" % i
        st, b = srv.request("POST", "/v1/agent/enroll", {
            "enrollment_key": key["key"], "endpoint_id": eid,
            "attributes": {"os": os_, "os_version": ver, "arch": "x86_64"}}, token="")
        expect(st == 200, "enroll", st, b)
        tokens[eid] = b["token"]
    for eid in ("h-0", "h-3"):  # two check in: online
        c = srv.client(token=tokens[eid])
        st, b = c.request("POST", "/v1/agent/checkin", {"endpoint_id": eid, "installed": {},
                                                         "events": []})
        expect(st == 200, "check-in", st, b)
    deadline = time.monotonic() + 30  # the summary is kept a few seconds
    while True:
        st, f = srv.request("GET", "/v1/fleet")
        expect(st == 200, "fleet", st, f)
        if f["online"] == 2 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    expect(f["endpoints"] == 5 and f["online"] == 2, "fleet counts", f)
    strata = {s["name"]: (s["endpoints"], s["online"]) for s in f["strata"]}
    expect(strata == {"linux-6-x86_64": (3, 1), "windows-10-x86_64": (2, 1)}, "by stratum", f)
    return tokens


class Stream:
    """GET /v1/stream read event by event."""

    def __init__(self, srv, token, last_id=None):
        self.conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=20)
        h = {"Authorization": "Bearer " + token}
        if last_id:
            h["Last-Event-ID"] = last_id
        self.conn.request("GET", "/v1/stream", headers=h)
        self.r = self.conn.getresponse()
        self.status = self.r.status

    def event(self):
        ev = {}
        while True:
            line = self.r.readline().decode()
            expect(line != "", "the stream stays open", ev)
            line = line.rstrip("\n")
            if line == "":
                if "event" in ev:
                    return ev
                continue
            if line.startswith(":"):
                continue
            k, _, v = line.partition(": ")
            ev[k] = v

    def close(self):
        self.conn.close()


def open_when_free(srv, token, last_id=None):
    """A stream of token, once the server has found out that its earlier
    ones closed (it looks every second)."""
    deadline = time.monotonic() + 30
    while True:
        s = Stream(srv, token, last_id)
        if s.status == 200 or time.monotonic() > deadline:
            return s
        s.r.read()
        s.close()
        time.sleep(0.5)


def expose_and_fail(srv, token, eid, release):
    """eid checks in until it is offered release, then reports applying
    and failed."""
    c = srv.client(token=token)
    deadline = time.monotonic() + 30
    while True:
        st, b = c.request("POST", "/v1/agent/checkin", {"endpoint_id": eid, "installed": {},
                                                         "events": []})
        expect(st == 200 and time.monotonic() < deadline, "offered the release", st, b)
        if b["desired"].get("web"):
            break
        time.sleep(0.3)
    evs = [{"id": eid + "-%d" % i, "type": t, "channel": "web", "release": release, "at_ms": 1}
           for i, t in enumerate(("applying", "failed"))]
    st, b = c.request("POST", "/v1/agent/checkin", {"endpoint_id": eid, "installed": {},
                                                     "events": evs})
    expect(st == 200 and len(b["acks"]) == 2, "events acknowledged", st, b)


def stream(srv, viewer, tokens):
    s = Stream(srv, viewer)
    expect(s.status == 200 and s.r.getheader("Content-Type") == "text/event-stream",
           "a viewer opens the stream", s.status)
    hello = s.event()
    expect(hello["event"] == "hello" and hello["id"], "hello first", hello)
    plan = {"name": "slow", "waves": [{"name": "all", "share": 100, "min_endpoints": 1,
                                       "min_bake_s": 3600}]}
    release = srv.release("web", 1)
    st, ro = srv.request("POST", "/v1/rollouts", {"release": release, "plan": plan})
    expect(st == 201, "rollout", st, ro)
    st, got = srv.request("GET", "/v1/rollouts/%d?measure=0" % ro["id"])
    expect(st == 200 and got["decisions"] and "evaluation" in got
           and (got["counts"] is None or "targeted" in got["counts"]),
           "measure=0: the gate's counts, with the decisions", st, got)
    st, got = srv.request("GET", "/v1/rollouts/%d?measure=2" % ro["id"])
    expect(st == 400 and got["error"]["field"] == "measure", "measure is 0 or 1", st, got)
    ev = s.event()
    expect(ev["event"] == "decision" and '"to":"running"' in ev["data"]
           and '"rollout":%d' % ro["id"] in ev["data"], "the creation is pushed", ev)
    created_id = ev["id"]
    # The gate's first tick of the rollout pushes its counts, the object
    # the rollout lists answer.
    while True:
        ev = s.event()
        if ev["event"] == "counts":
            break
    pushed = json.loads(ev["data"])
    expect(pushed["rollout"] == ro["id"] and pushed["at_ms"] > 0, "a tick's counts", ev)
    st, lst = srv.request("GET", "/v1/rollouts?active=1")
    listed = [r["counts"] for r in lst["rollouts"] if r["id"] == ro["id"]]
    expect(listed and listed[0]["fleet"] == pushed["counts"]["fleet"] == 5,
           "the same counts as the list", pushed, listed)
    counts_id = ev["id"]
    # A failure changes them: pushed at the next tick.
    expose_and_fail(srv, tokens["h-0"], "h-0", release)
    while True:
        ev = s.event()
        if ev["event"] == "counts" and json.loads(ev["data"])["counts"]["failed"] == 1:
            break
    band(srv, ro["id"])
    s.close()
    st, b = srv.request("POST", "/v1/rollouts/%d/pause" % ro["id"], {"reason": "look"})
    expect(st == 200, "pause", st, b)
    # Reconnecting after the creation: the pause (missed) comes first.
    s = open_when_free(srv, viewer, last_id=created_id)
    seen = []
    while True:
        ev = s.event()
        expect(ev["event"] in ("decision", "counts"), "missed events are replayed", ev)
        seen.append(ev["id"])
        if '"to":"paused"' in ev["data"]:
            break
    expect(counts_id in seen, "the missed counts are replayed too", counts_id, seen)
    expect('"actor":"admin"' in ev["data"] and '"reason":"look"' in ev["data"],
           "the action's actor and reason", ev)
    s.close()
    s = open_when_free(srv, viewer, last_id="1-999")
    ev = s.event()
    expect(ev["event"] == "reset", "an id of another process: reset", ev)
    s.close()
    s = Stream(srv, "0" * 64)
    expect(s.status == 401, "a wrong token is refused", s.status)
    s.close()


def band(srv, rollout):
    """GET /v1/rollouts/{id}/band: per stratum, the gate's statistics with
    their bands, from what the gate evaluated (no fleet scan)."""
    deadline = time.monotonic() + 20
    while True:
        st, b = srv.request("GET", "/v1/rollouts/%d/band" % rollout)
        expect(st == 200 and b["rollout"] == rollout, "band", st, b)
        if b["points"] and b["points"][-1]["strata"] or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    p = b["points"][-1]
    expect(p["strata"] and p["threshold"] > 0 and 0 < p["alpha"] < 1, "a point", p)
    f = [x for x in p["strata"] if x["stratum"] == "linux-6-x86_64"][0]["failure"]
    expect(f["failed"] == 1 and f["trials"] == 1 and f["ratio"] == 1 / f["baseline"]
           and f["lo"] < 1 < f["hi"], "one failure of one: a wide band, no halt", f)
    for s in p["strata"]:
        v, f = s["silence"], s["failure"]
        expect(0 <= v["lo"] <= v["hi"] <= 1 and v["min_effect"] > 0, "an excess band per stratum", s)
        expect(v["lo"] <= v["min_effect"] or v["llr"] >= p["threshold"],
               "the silence band leaves the minimum effect only past the gate's threshold", s)
        expect(v["exposed_windows"] >= v["exposed_silent"] >= 0 and 0 <= v["control_share"] <= 1
               and (v["excess"] is None) == (v["exposed_windows"] == 0), "its sets", s)
        expect(0 < f["lo"] <= f["hi"], "a failure band per stratum", s)
        expect(f["trials"] >= f["failed"] >= 0, "its counts", s)
    st, b = srv.request("GET", "/v1/rollouts/999999/band")
    expect(st == 404, "an unknown rollout", st, b)


def signatures(srv):
    """GET /v1/releases/{id} counts a signed release's signatures against
    the newest stored root: null when unsigned, no count without a root,
    the threshold met or not (and why) once one is stored."""
    p = lambda name: os.path.join(srv.tmp, name)  # noqa: E731
    for k in ("a", "b"):
        cli(srv, "keygen", "--out", p(k))
    st, b = srv.request("POST", "/v1/channels", {"name": "signed"})
    expect(st == 201, "channel", st, b)

    def release(version, *keys):
        rid = signed_release(srv, "signed", version, keys)
        st, r = srv.request("GET", "/v1/releases/%d" % rid)
        expect(st == 200, "release", st, r)
        return r["signatures"]

    s = release(1, "a")
    expect(s["keyids"] and s["root_version"] is None and "met" not in s, "no root yet", s)
    cli(srv, "root", "create", "--threshold", "2", "--key", p("a.pub"), "--key", p("b.pub"),
        "--sign", p("a"), "--sign", p("b"), "--out", p("root.json"))
    cli(srv, "root", "push", p("root.json"))
    s = release(2, "a", "b")
    expect(s["root_version"] == 1 and s["threshold"] == 2 and s["valid"] == 2 and s["met"]
           and s["verdict"] == "ok" and len(s["keyids"]) == 2, "threshold met", s)
    s = release(3, "a")
    expect(s["valid"] == 1 and not s["met"] and s["verdict"] == "too_few_signatures",
           "one of two: not met", s)
    expect(release(4) is None, "an unsigned release: null")


def caps(srv, viewer):
    opened = [open_when_free(srv, viewer) for _ in range(2)]
    for s in opened:
        expect(s.status == 200 and s.event()["event"] == "hello", "under the cap", s.status)
    extra = Stream(srv, viewer)
    body = extra.r.read()
    expect(extra.status == 429 and b"this token already has 2 open streams" in body,
           "over the cap per token", extra.status, body)
    extra.close()
    other = srv.make_token("viewer")
    third = Stream(srv, other)
    expect(third.status == 200, "another token has its own cap", third.status)
    fourth = Stream(srv, srv.token)
    body = fourth.r.read()
    expect(fourth.status == 429 and b"this address already has 3" in body,
           "over the cap per address", fourth.status, body)
    for s in opened + [third, fourth]:
        s.close()
    s = open_when_free(srv, viewer)
    expect(s.status == 200, "closed streams free their places", s.status)
    s.close()


def web_dir_flag():
    with rg.Server(args=["--web-dir", os.path.join(rg.SOURCE_DIR, "tests", "data")]) as srv:
        srv.start()
        r, _ = get_raw(srv, "/")
        expect(r.status == 404, "a --web-dir without index.html: 404", r.status)
    p = rg.rollgated("--data", "/nonexistent-dir", "--web-dir", "/nonexistent/web")
    expect(p.returncode == 2 and "--web-dir: expected an existing directory, got '/nonexistent/web'" in p.stderr,
           "a bad --web-dir is refused", p.returncode, p.stderr)


def main():
    with rg.Server(args=["--stream-per-token", "2", "--stream-per-address", "3"]) as srv:
        srv.start()
        files(srv)
        viewer = whoami(srv)
        tokens = fleet(srv)
        stream(srv, viewer, tokens)
        signatures(srv)
        caps(srv, viewer)
    web_dir_flag()


if __name__ == "__main__":
    rg.run(main)
