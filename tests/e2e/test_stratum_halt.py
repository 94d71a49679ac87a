"""Strata are gated one by one, through a real rollgated (issue 10):
40 linux endpoints and a small windows-10 stratum of 10 whose endpoints
crash on the release, driven over the agent API.

1. During a wave: the gate halts the rollout on the windows-10 evidence;
   with the default on_halt (revert_stratum) only windows-10 is reverted,
   the linux endpoints that reported healthy keep the release, nobody new
   is given it, the rollout never completes, and all of that survives
   kill -9. `rollgate rollout explain` says it in plain words first.
2. After completion: a rollout that completed on linux evidence alone
   gives the windows-10 stratum (no healthy evidence) at most its
   exposure budget, not the whole stratum; the gate keeps watching, halts
   the completed rollout when those crash, and reverts windows-10 alone.
# ctest-labels: canary
"""
import os
import subprocess
import time

import rg
from rg import expect

CLI = os.path.join(rg.BUILD_DIR, "src", "cli", "rollgate")
LINUX, WINDOWS = 40, 10
BUDGET = 6  # model/exposure.h: initial_budget
W10 = "windows-10-x86_64"


class Agent:
    """A minimal endpoint: follows one channel; a crashing one reports
    `failure` (`crashed` unless a subclass says otherwise) right after
    `applying`."""

    failure, detail = "crashed", None

    def __init__(self, srv, eid, token, crashes):
        self.id, self.token, self.crashes = eid, token, crashes
        self.conn = srv.client(token=token)
        self.seq = 0
        self.installed = {}
        self.ever = set()  # releases it was ever given

    def reconnect(self, srv):
        self.conn = srv.client(token=self.token)

    def desired(self, channel, events=()):
        st, b = self.conn.request("POST", "/v1/agent/checkin", {
            "endpoint_id": self.id, "installed": self.installed,
            "events": list(events)})
        expect(st == 200, "check-in", self.id, st, b)
        d = b["desired"].get(channel)
        return d["release"] if d else None

    def follow(self, channel):
        rel = self.desired(channel)
        if rel is None or rel in self.ever:
            return rel
        self.ever.add(rel)
        evs = []
        for typ in ("applying", self.failure if self.crashes else "healthy"):
            self.seq += 1
            ev = {"id": "%s-%d" % (self.id, self.seq), "type": typ,
                  "channel": channel, "release": rel, "at_ms": 1}
            if self.detail:
                ev["detail"] = self.detail
            evs.append(ev)
        self.desired(channel, evs)
        self.installed[channel] = {"release": rel}
        return rel


def setup(srv):
    st, key = srv.request("POST", "/v1/enrollment-keys", {})
    expect(st == 201, "enrollment key", st, key)
    agents = []
    for i in range(LINUX + WINDOWS):
        win = i >= LINUX
        eid = ("w10-%02d" if win else "lx-%02d") % i
        attrs = ({"os": "windows", "os_version": "10", "arch": "x86_64"} if win
                 else {"os": "linux", "os_version": "6", "arch": "x86_64"})
        st, b = srv.request("POST", "/v1/agent/enroll", {
            "enrollment_key": key["key"], "endpoint_id": eid,
            "attributes": attrs}, token="")
        expect(st == 200, "enroll", eid, st, b)
        agents.append(Agent(srv, eid, b["token"], win))
    return agents


def release(srv, channel, version):
    """channel's standard release of version (rg.Server.release); the
    tests that reuse this fleet import it."""
    return srv.release(channel, version)


def rollout(srv, rel, min_bake_s, window_s=2):
    plan = {"name": "one", "waves": [{"name": "all", "share": 100,
                                      "min_endpoints": 1, "window_s": window_s,
                                      "min_bake_s": min_bake_s}]}
    st, ro = srv.request("POST", "/v1/rollouts", {"release": rel, "plan": plan})
    expect(st == 201 and ro["plan"]["on_halt"] == "revert_stratum",
           "rollout with the default on_halt", st, ro)
    return ro["id"]


def get(srv, rid):
    st, ro = srv.request("GET", "/v1/rollouts/%d" % rid)
    expect(st == 200, "rollout", st, ro)
    return ro


def drive(srv, rid, agents, channel, until, deadline_s=60):
    """Check-in rounds of agents until the rollout's state is in until."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        for a in agents:
            a.follow(channel)
        ro = get(srv, rid)
        if ro["state"] in until:
            return ro
        time.sleep(0.1)
    raise rg.Failure("rollout %d still %s: %s" % (rid, ro["state"], ro["decisions"][-2:]))


def halt_decision(ro):
    halts = [d for d in ro["decisions"] if d["to"] == "halted"]
    expect(len(halts) == 1, "one halt", ro["decisions"])
    return halts[0]


def check_reverted_alone(srv, rid, rel, agents, channel):
    """windows-10 is reverted, linux endpoints given rel keep it, nobody
    else is given it; the API's targeted count agrees."""
    keep = 0
    for a in agents:
        got = a.desired(channel)
        if a.crashes:
            expect(got is None, "windows-10 reverted", a.id, got)
        elif rel in a.ever:
            expect(got == rel, "healthy linux endpoint keeps the release", a.id, got)
            keep += 1
        else:
            expect(got is None, "nothing new after a halt", a.id, got)
    expect(keep > 0, "some linux endpoints hold the release", keep)
    ro = get(srv, rid)
    expect(ro["counts"]["targeted"] == keep, "targeted = those keeping it",
           ro["counts"], keep)
    return keep


def during_wave(srv, agents):
    rel = srv.release("detections", 1)
    rid = rollout(srv, rel, 600)  # the wave cannot pass during the test
    # Linux endpoints are given the release before any windows-10 endpoint
    # checks in: otherwise the crashes can halt the rollout before the first
    # linux endpoint is admitted, and there is nothing to keep.
    linux = [a for a in agents if not a.crashes]
    deadline = time.monotonic() + 60
    while not any(rel in a.ever for a in linux):
        expect(time.monotonic() < deadline, "a linux endpoint is given the release")
        for a in linux:
            a.follow("detections")
        time.sleep(0.1)
    ro = drive(srv, rid, agents, "detections", ("halted", "completed", "held"))
    expect(ro["state"] == "halted", "halted, never completed", ro["state"])
    ev = halt_decision(ro)["evidence"]
    verdicts = {s["name"]: s["verdict"] for s in ev["gate"]["evidence"]["strata"]}
    expect(verdicts.get(W10) == "halt", "windows-10's verdict is halt", verdicts)
    expect(verdicts.get("linux-6-x86_64") != "halt", "linux is not halted", verdicts)
    expect(ev["strata_state"]["halted"] == [W10], "only windows-10 halted", ev["strata_state"])
    w10 = sum(1 for a in agents if a.crashes and rel in a.ever)
    expect(0 < w10 <= BUDGET, "windows-10 exposure within its budget", w10)
    keep = check_reverted_alone(srv, rid, rel, agents, "detections")

    # Plain words first, then one line per stratum, counts as in status.
    env = dict(os.environ, ROLLGATE_URL=srv.url, ROLLGATE_TOKEN=srv.token,
               **srv.cli_env())
    p = subprocess.run([CLI, "rollout", "explain", str(rid)], env=env,
                       capture_output=True, text=True, timeout=30)
    expect(p.returncode == 0, "explain exit 0", p.returncode, p.stderr)
    lines = p.stdout.splitlines()
    expect(lines[1].startswith(W10 + ": ") and lines[1].endswith("; halted"),
           "explain's summary names the stratum and the verdict", p.stdout)
    expect("now: %d targeted" % keep in p.stdout, "explain's counts", p.stdout)
    expect("\u2026" not in p.stdout, "reasons are never cut", p.stdout)

    # kill -9: the per-stratum revert and what the others keep survive.
    srv.kill()
    srv.start()
    for a in agents:
        a.reconnect(srv)
    check_reverted_alone(srv, rid, rel, agents, "detections")
    st, b = srv.request("POST", "/v1/rollouts/%d/promote" % rid, {"reason": "no"})
    expect(st == 409, "a halted rollout cannot be promoted", st, b)


def after_completion(srv, agents):
    rel = srv.release("configs", 1)
    rid = rollout(srv, rel, 1)
    linux = [a for a in agents if not a.crashes]
    ro = drive(srv, rid, linux, "configs", ("completed", "halted", "held"))
    expect(ro["state"] == "completed", "completed on linux evidence", ro["state"])
    windows = [a for a in agents if a.crashes]
    given = [a for a in windows if a.desired("configs") == rel]
    expect(0 < len(given) <= BUDGET < len(windows),
           "completion gives windows-10 its budget, not the whole stratum",
           len(given))
    ro = drive(srv, rid, windows, "configs", ("halted",))
    expect(halt_decision(ro)["from"] == "completed", "halted after completion",
           ro["decisions"][-1])
    check_reverted_alone(srv, rid, rel, agents, "configs")


def main():
    # releases declare no activation time: learn it up to 1 s
    with rg.Server(args=["--tick-ms", "50", "--flush-ms", "200",
                         "--activation-cap", "1"]) as srv:
        srv.start()
        agents = setup(srv)
        during_wave(srv, agents)
        after_completion(srv, agents)


if __name__ == "__main__":
    rg.run(main)
