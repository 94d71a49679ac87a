#!/usr/bin/env python3
"""Enrolls N endpoints against a running rollgated and writes
"endpoint_id token" lines for checkin.lua. Uses several keep-alive
connections in parallel and prints progress on stderr.

usage: enroll.py URL ADMIN_TOKEN N OUT_FILE
"""
import http.client
import json
import sys
import threading
import time
import urllib.parse


def conn_for(url):
    u = urllib.parse.urlparse(url)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=60)


def call(conn, method, path, body, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    conn.request(method, path, json.dumps(body), headers)
    r = conn.getresponse()
    data = r.read()
    if r.status >= 300:
        raise RuntimeError(f"{method} {path}: {r.status} {data[:200]!r}")
    return json.loads(data)


def main():
    url, admin, n, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    key = call(conn_for(url), "POST", "/v1/enrollment-keys", {}, admin)["key"]
    oses = [("windows", "10", "x86_64"), ("windows", "11", "x86_64"),
            ("ubuntu", "22.04", "x86_64"), ("macos", "14", "arm64")]
    results = [None] * n
    done = [0]
    lock = threading.Lock()

    failures = []

    def worker(start, step):
        try:
            enroll_range(start, step)
        except Exception as e:  # reported by main: a thread's own would be lost
            failures.append(e)

    def enroll_range(start, step):
        c = conn_for(url)
        for k in range(start, n, step):
            os_, ver, arch = oses[k % len(oses)]
            eid = f"bench-{k:07d}"
            r = call(c, "POST", "/v1/agent/enroll",
                     {"enrollment_key": key, "endpoint_id": eid,
                      "attributes": {"os": os_, "os_version": ver, "arch": arch}})
            results[k] = f"{eid} {r['token']}"
            with lock:
                done[0] += 1

    threads = [threading.Thread(target=worker, args=(s, 8)) for s in range(8)]
    t0 = time.time()
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        next(t for t in threads if t.is_alive()).join(1.0)
        rate = done[0] / max(time.time() - t0, 1e-9)
        print(f"\renrolled {done[0]}/{n} ({rate:.0f}/s)", end="", file=sys.stderr)
    print(file=sys.stderr)
    if failures or done[0] != n:
        raise SystemExit(f"enroll.py: {n - done[0]} enrollments failed: "
                         f"{failures[0] if failures else 'unknown'}")
    with open(out, "w") as f:
        f.write("\n".join(results) + "\n")


if __name__ == "__main__":
    main()
