#!/usr/bin/env python3
"""bench/flags/poll.py BUILD_DIR FEATURES_JSON POLLS: what serving a flag
set costs rollgated per Unleash SDK poll. Creates every feature of
FEATURES_JSON in a fresh rollgated (through POST /v1/flags, as a user
would), then makes POLLS requests to GET /api/client/features with a
client token, first without and then with the ETag of the answer
(If-None-Match: 304); prints bytes per answer and the server's CPU time
per poll (utime + stime of its process, /proc)."""
import json
import os
import sys
import time

build, features_path, polls = sys.argv[1], sys.argv[2], int(sys.argv[3])
os.environ["RG_BUILD_DIR"] = build
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "e2e"))
import rg  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


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
    print("flag create (validated against the environment), %d flags: %.1f ms each" % (n, create_ms))
    print("poll, %d flags, changed:   status %d, %d bytes, %.0f us server CPU, %.0f us wall"
          % ((n,) + full))
    print("poll, %d flags, unchanged: status %d, %d bytes, %.0f us server CPU, %.0f us wall"
          % ((n,) + same))
