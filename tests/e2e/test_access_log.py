"""rollgated's access log (issue 13): one line per request with the
method, route, status, time and actor, through a real server:

1. By default on stderr: an admin call (actor = its token's name), an
   agent check-in (actor endpoint:ID), an unauthenticated call (actor -),
   an unknown path (route -); a path holding a newline and spaces stays on
   one line, %-escaped.
2. `--access-log FILE`: the lines go to the file (appended across
   restarts), none to stderr; `--access-log off`: none anywhere.
3. A file that cannot be opened: rollgated refuses to start, naming the
   flag.
# ctest-labels: ops
"""
import os
import re
import time

import rg
from rg import expect

DEADLINE_S = 30  # bound on waiting for a line (never an assertion)
LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (\S+) (\S+) (\d{3}) "
                  r"\d+\.\d{3}ms actor=(\S+) client=(\S+) path=(\S+)$")


def access_lines(text):
    return [LINE.match(l).groups() for l in text.splitlines() if LINE.match(l)]


def wait_lines(read, want):
    """Polls read() until every (method, route, status, actor, path) in
    want is among its access lines; returns them."""
    deadline = time.monotonic() + DEADLINE_S
    while True:
        got = [(m, r, int(s), a, p) for m, r, s, a, _, p in access_lines(read())]
        if all(w in got for w in want):
            return got
        expect(time.monotonic() < deadline, "access lines", want, got[-10:])
        time.sleep(0.1)


def traffic(srv):
    """Requests of each kind; returns the lines they must produce."""
    srv.make_token("viewer", "looker")
    st, _ = srv.request("GET", "/v1/rollouts/999")
    expect(st == 404, "unknown rollout", st)
    st, key = srv.request("POST", "/v1/enrollment-keys", {})
    st, b = srv.request("POST", "/v1/agent/enroll", {
        "enrollment_key": key["key"], "endpoint_id": "host-1",
        "attributes": {"os": "linux", "os_version": "6", "arch": "x86_64"}},
        token="")
    expect(st == 200, "enroll", st, b)
    st, _ = srv.client(token=b["token"]).request(
        "POST", "/v1/agent/checkin", {"endpoint_id": "host-1",
                                      "installed": {}, "events": []})
    expect(st == 200, "check-in", st)
    st, _ = srv.request("GET", "/nope%20x%0Aforged%20200", token="")
    expect(st == 404, "unknown path", st)
    return [("POST", "/v1/tokens", 201, "admin", "/v1/tokens"),
            ("GET", "/v1/rollouts/{}", 404, "admin", "/v1/rollouts/999"),
            ("POST", "/v1/agent/enroll", 200, "-", "/v1/agent/enroll"),
            ("POST", "/v1/agent/checkin", 200, "endpoint:host-1",
             "/v1/agent/checkin"),
            ("GET", "-", 404, "-", "/nope%20x%0Aforged%20200")]


def main():
    with rg.Server() as srv:
        srv.start()
        want = traffic(srv)
        wait_lines(srv.log_text, want)
        expect("forged 200" not in srv.log_text(), "one line per request",
               srv.log_text())

    with rg.Server() as srv:
        path = os.path.join(srv.tmp, "access.log")
        srv.args = ["--access-log", path]
        srv.start()
        want = traffic(srv)
        read = lambda: open(path).read()
        wait_lines(read, want)
        expect(not access_lines(srv.log_text()), "none on stderr",
               srv.log_text())
        srv.stop()
        before = len(access_lines(read()))
        srv.start()
        srv.request("GET", "/v1/channels")
        got = wait_lines(read, [("GET", "/v1/channels", 200, "admin",
                                 "/v1/channels")])
        expect(len(got) > before, "appended across restarts", before, got)

        srv.stop()
        srv.args = ["--access-log", "off"]
        srv.start()
        traffic_off = len(access_lines(read()))
        srv.request("GET", "/v1/channels")
        srv.stop()  # answered requests are logged before stop returns
        expect(len(access_lines(read())) == traffic_off and
               not access_lines(srv.log_text()), "off: no access lines",
               srv.log_text())

        p = rg.rollgated("--data", srv.data, "--listen",
                         "127.0.0.1:%d" % srv.port, "--access-log",
                         os.path.join(srv.tmp, "no", "such", "dir", "a.log"))
        expect(p.returncode != 0 and "--access-log" in p.stderr,
               "an unopenable file is refused, naming the flag", p.returncode,
               p.stderr)


if __name__ == "__main__":
    rg.run(main)
