#!/usr/bin/env python3
"""bench/flags/poll.py BUILD_DIR FEATURES_JSON POLLS: what serving a flag
set costs rollgated per Unleash SDK poll. Creates every feature of
FEATURES_JSON in a fresh rollgated (through POST /v1/flags, as a user
would), then makes POLLS requests to GET /api/client/features with a
client token, first without and then with the ETag of the answer
(If-None-Match: 304); then POLLS agent check-ins (POST /v1/agent/checkin
of one enrolled endpoint asking for the environment's flags), first with
no stamp (the whole set in the answer) and then with the current one (the
stamp alone); prints bytes per answer and the server's CPU time per poll
or check-in (its threads' time on CPU, /proc/PID/task/*/schedstat)."""
import json
import os
import sys
import time

build, features_path, polls = sys.argv[1], sys.argv[2], int(sys.argv[3])
os.environ["RG_BUILD_DIR"] = build
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "e2e"))
import rg  # noqa: E402

def cpu_s(pid):
    """CPU seconds of every thread of pid, to the nanosecond (schedstat)."""
    total = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[0])
        except OSError:
            pass  # a thread that just ended
    return total / 1e9


def polls_cost(srv, token, headers):
    c = srv.client(token="")
    hdrs = dict(headers, Authorization=token)
    before, size, start = cpu_s(srv.proc.pid), 0, time.monotonic()
    for _ in range(polls):
        st, body = c.request("GET", "/api/client/features", token="", headers=hdrs)
        size = int(c.last.getheader("Content-Length") or 0)
    wall = time.monotonic() - start
    cpu = cpu_s(srv.proc.pid) - before
    c.close()
    return st, size, cpu / polls * 1e6, wall / polls * 1e6


def checkins_cost(srv, eid, token, flags):
    """POLLS check-ins of eid asking for flags: status, answer bytes, server
    CPU us and wall us per check-in."""
    c = srv.client(token=token)
    body = {"endpoint_id": eid}
    if flags:
        body["flags"] = flags
    before, size, start = cpu_s(srv.proc.pid), 0, time.monotonic()
    for _ in range(polls):
        st, ans = c.request("POST", "/v1/agent/checkin", body, token=token)
        size = int(c.last.getheader("Content-Length") or 0)
    wall = time.monotonic() - start
    cpu = cpu_s(srv.proc.pid) - before
    c.close()
    rg.expect(st == 200 and ("flags" in ans) == bool(flags), "check-in", st)
    return (st, size, cpu / polls * 1e6, wall / polls * 1e6,
            ans.get("flags", {}).get("stamp"))


with rg.Server() as srv:
    srv.start()
    doc = json.load(open(features_path))
    t0 = time.monotonic()
    for f in doc["features"]:
        st, b = srv.request("POST", "/v1/flags", {"feature": f, "reason": "bench"})
        rg.expect(st == 201, "create " + f["name"], st, b)
    create_ms = (time.monotonic() - t0) * 1000 / len(doc["features"])
    st, b = srv.request("POST", "/v1/client-tokens", {"name": "bench"})
    token = b["token"]
    c = srv.client(token="")
    c.request("GET", "/api/client/features", token="", headers={"Authorization": token})
    etag = c.last.getheader("ETag")
    c.close()
    full = polls_cost(srv, token, {})
    same = polls_cost(srv, token, {"If-None-Match": etag})
    n = len(doc["features"])
    st, key = srv.request("POST", "/v1/enrollment-keys", {})
    st, en = srv.request("POST", "/v1/agent/enroll", {
        "enrollment_key": key["key"], "endpoint_id": "bench-1",
        "attributes": {"os": "linux", "os_version": "6", "arch": "x86_64"}})
    rg.expect(st in (200, 201), "enroll", st, en)
    ci_full = checkins_cost(srv, "bench-1", en["token"], {"environment": "default"})
    ci_same = checkins_cost(srv, "bench-1", en["token"],
                            {"environment": "default", "stamp": ci_full[4]})
    none = checkins_cost(srv, "bench-1", en["token"], None)
    print("flag create (validated against the environment), %d flags: %.1f ms each" % (n, create_ms))
    print("poll, %d flags, changed:   status %d, %d bytes, %.0f us server CPU, %.0f us wall"
          % ((n,) + full))
    print("poll, %d flags, unchanged: status %d, %d bytes, %.0f us server CPU, %.0f us wall"
          % ((n,) + same))
    print("check-in, %d flags, changed:   status %d, %d bytes, %.0f us server CPU, %.0f us wall"
          % ((n,) + ci_full[:4]))
    print("check-in, %d flags, unchanged: status %d, %d bytes, %.0f us server CPU, %.0f us wall"
          % ((n,) + ci_same[:4]))
    print("check-in, no flags asked:      status %d, %d bytes, %.0f us server CPU, %.0f us wall"
          % none[:4])
