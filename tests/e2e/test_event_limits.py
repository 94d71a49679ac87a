"""Event storage per endpoint is bounded (issue 11.4), against a real
rollgated: an endpoint token flooding check-ins with unique events for a
release it was offered gets 429 (code rate_limited, field events,
Retry-After) once its event budget (--event-burst, --events-per-min) is
spent, and nothing of a refused check-in is stored; a check-in without
events is never limited; without any rate limit (--event-burst 0) the
database still keeps at most 8 events per (endpoint, release, type), so
6.5 MB of events sent add no more than a few kilobytes; and events older
than --event-retention of a release with no active rollout are deleted.
# ctest-labels: foundation
"""
import os
import time

import rg
from rg import expect

TYPES = ("applying", "healthy", "failed", "reverted", "crashed")


def metric(srv, name):
    st, m = srv.request("GET", "/metrics", token="")
    text = m.decode() if isinstance(m, bytes) else str(m)
    for line in text.splitlines():
        if line.startswith(name + " "):
            return int(float(line.split()[1]))
    raise rg.Failure("metric %s missing" % name)


def db_bytes(srv):
    return sum(os.path.getsize(os.path.join(srv.data, f)) for f in os.listdir(srv.data)
               if f.startswith("rollgate.db"))


def offered_endpoint(srv):
    """An endpoint offered release 1 of channel det (pinned); returns its
    client and the release id."""
    st, _ = srv.request("POST", "/v1/channels", {"name": "det"})
    st, art = srv.upload(b"content")
    st, rel = srv.request("POST", "/v1/releases", {
        "channel": "det", "version": 1, "artifact": art["sha256"], "notes": "n",
        "urgency": "standard"})
    expect(st == 201, "release", st, rel)
    st, pol = srv.request("POST", "/v1/policies", {
        "name": "pin", "channel": "det", "mode": "pin", "release": rel["id"],
        "selector": {"attribute": {"os": "linux"}}})
    expect(st == 201, "pin", st, pol)
    st, key = srv.request("POST", "/v1/enrollment-keys", {})
    st, b = srv.request("POST", "/v1/agent/enroll", {
        "enrollment_key": key["key"], "endpoint_id": "flood",
        "attributes": {"os": "linux", "os_version": "6", "arch": "x86_64"}}, token="")
    expect(st == 200, "enroll", st, b)
    c = srv.client(token=b["token"])
    st, a = c.request("POST", "/v1/agent/checkin", {"endpoint_id": "flood"})
    expect(st == 200 and a["desired"]["det"]["release"] == rel["id"], "offered", st, a)
    return c, rel["id"]


def batch(seq, n, release):
    return [{"id": "e-%d-%d" % (seq, i), "type": TYPES[i % len(TYPES)], "channel": "det",
             "release": release, "detail": "x" * 511} for i in range(n)]


def main():
    with rg.Server(args=["--event-burst", "40", "--events-per-min", "60"]) as srv:
        srv.start()
        c, rel = offered_endpoint(srv)
        for seq in range(2):
            st, b = c.request("POST", "/v1/agent/checkin",
                              {"endpoint_id": "flood", "events": batch(seq, 20, rel)})
            expect(st == 200, "within the burst", seq, st, b)
        stored = metric(srv, "rollgate_events_stored_total")
        st, b = c.request("POST", "/v1/agent/checkin",
                          {"endpoint_id": "flood", "events": batch(9, 20, rel)})
        expect(st == 429 and b["error"]["code"] == "rate_limited"
               and b["error"]["field"] == "events"
               and int(c.last.getheader("Retry-After")) >= 1, "over the budget", st, b)
        expect(metric(srv, "rollgate_events_stored_total") == stored, "nothing stored")
        st, b = c.request("POST", "/v1/agent/checkin", {"endpoint_id": "flood"})
        expect(st == 200 and b["desired"]["det"]["release"] == rel, "plain check-in", st, b)
        srv.stop()

    with rg.Server(args=["--event-burst", "0"]) as srv:
        srv.start()
        c, rel = offered_endpoint(srv)
        before = db_bytes(srv)
        for seq in range(50):  # 50 x 256 events of 511-byte details: 6.5 MB
            st, b = c.request("POST", "/v1/agent/checkin",
                              {"endpoint_id": "flood", "events": batch(seq, 256, rel)})
            expect(st == 200 and len(b["acks"]) == 256, "acknowledged", st)
        stored = metric(srv, "rollgate_events_stored_total")
        expect(stored == 8 * len(TYPES), "8 stored per type", stored)
        srv.stop()
        grown = db_bytes(srv) - before
        expect(grown < 512 * 1024, "database growth bounded", grown)
        print("events sent: %d (%.1f MB), stored: %d, database grew %d bytes"
              % (50 * 256, 50 * 256 * 560 / 1e6, stored, grown))

    with rg.Server(args=["--event-retention", "1", "--flush-ms", "100"]) as srv:
        srv.start()
        c, rel = offered_endpoint(srv)  # offered by a pin: no rollout
        st, b = c.request("POST", "/v1/agent/checkin",
                          {"endpoint_id": "flood", "events": batch(0, 5, rel)})
        expect(st == 200 and metric(srv, "rollgate_events_stored_total") == 5, "stored", st, b)
        deadline = time.monotonic() + 60
        while metric(srv, "rollgate_events_pruned_total") < 5:
            expect(time.monotonic() < deadline, "old events pruned")
            time.sleep(0.1)
        srv.stop()


if __name__ == "__main__":
    rg.run(main)
