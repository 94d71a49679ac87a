"""Exposures a stopped rollout never judged (issue 13), through a real
rollgated, the rollgate CLI and a scripted fleet over the agent API:

1. While the rollout runs, endpoints that reported `applying` and whose
   window has not closed are `pending` (the window is 600 s: it cannot
   close during the test).
2. Once the rollout stops (aborted here; halted and rolled back alike),
   the gate will never judge them: `rollgate rollout endpoints ID --state
   unjudged` lists exactly them, none is pending any more, the status
   counts them as `unjudged` (still exposed), `endpoint show` says so, and
   a filter on a bad state names the new word in its error.
3. Still so after kill -9 and a restart (the judgement that was never
   made cannot be lost).
# ctest-labels: ops
"""
import json
import time

import rg
from rg import expect
from test_find_hosts import DarkAgent, cli_json, members
from test_stratum_halt import Agent, release

N_DARK, N_OK = 4, 6
DEADLINE_S = 90  # bound on every wait (never an assertion)


def enroll(srv):
    """N_OK endpoints that report healthy, N_DARK that go dark after
    `applying`."""
    st, key = srv.request("POST", "/v1/enrollment-keys", {})
    expect(st == 201, "enrollment key", st, key)
    fleet = []
    for i in range(N_OK + N_DARK):
        cls, eid = (Agent, "ok-%02d" % i) if i < N_OK else (DarkAgent, "dk-%02d" % i)
        st, b = srv.request("POST", "/v1/agent/enroll", {
            "enrollment_key": key["key"], "endpoint_id": eid, "attributes": {
                "os": "linux", "os_version": "6", "arch": "x86_64"}}, token="")
        expect(st == 200, "enroll", st, b)
        fleet.append(cls(srv, eid, b["token"], False))
    return fleet


def start(srv, rel):
    plan = {"name": "one", "waves": [{"name": "all", "share": 100,
                                      "min_endpoints": 1, "window_s": 600,
                                      "min_bake_s": 3600}]}
    st, ro = srv.request("POST", "/v1/rollouts", {"release": rel, "plan": plan})
    expect(st == 201, "rollout", st, ro)
    return ro["id"]


def counts(srv, rid):
    return cli_json(srv, "rollout", "status", str(rid))["counts"]


def main():
    with rg.Server(args=["--activation-cap", "1"]) as srv:
        srv.start()
        fleet = enroll(srv)
        dark = {a.id for a in fleet if isinstance(a, DarkAgent)}
        rel = release(srv, "detections", 1)
        rid = start(srv, rel)
        deadline = time.monotonic() + DEADLINE_S
        while not dark <= members(srv, rid, "pending"):
            expect(time.monotonic() < deadline, "dark endpoints pending",
                   members(srv, rid, "pending"))
            for a in fleet:
                a.follow("detections")
            time.sleep(0.2)
        expect(not members(srv, rid, "unjudged"), "nothing unjudged while running")
        print("1. running: %d pending" % len(members(srv, rid, "pending")))

        st, b = srv.request("POST", "/v1/rollouts/%d/abort" % rid, {"reason": "stop"})
        expect(st == 200 and b["state"] == "aborted", "abort", st, b)
        for when in ("after abort", "after kill -9"):
            kept = {a.id: a.desired("detections") for a in fleet}
            expect(set(kept.values()) == {rel}, when + ": every endpoint keeps "
                   "the aborted rollout's release", kept)
            unjudged = members(srv, rid, "unjudged")
            expect(dark <= unjudged and not members(srv, rid, "pending"),
                   when + ": the pending exposures are unjudged", unjudged)
            c = counts(srv, rid)
            expect(c["pending"] == 0 and c["unjudged"] == len(unjudged)
                   and c["exposed"] >= c["unjudged"], when + ": counts", c)
            ep = cli_json(srv, "endpoint", "show", sorted(dark)[0])
            expect([r["state"] for r in ep["rollouts"]] == ["unjudged"],
                   when + ": endpoint show", ep["rollouts"])
            p = rg.cli(srv, "rollout", "status", str(rid))
            expect(p.returncode == 0 and "UNJUDGED" in p.stdout,
                   when + ": the status table", p.stdout, p.stderr)
            print("2. %s: %d unjudged, counts %s" % (when, len(unjudged), json.dumps(c)))
            srv.kill()
            srv.start()
            for a in fleet:
                a.reconnect(srv)
        st, e = srv.request("GET", "/v1/endpoints?rollout=%d&state=judged" % rid)
        expect(st == 400 and e["error"]["field"] == "state"
               and "unjudged" in e["error"]["message"], "a bad state", st, e)


if __name__ == "__main__":
    rg.run(main)
