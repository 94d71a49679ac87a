"""Finding the failing hosts (issue 13), through a real rollgated, the
rollgate CLI and a scripted fleet over the agent API:

1. Silence: rollout A on channel `detections` to linux endpoints, most
   healthy, some going dark right after `applying` (dark ones are tagged
   `lab`). `rollgate rollout endpoints A --state silent` lists only dark
   endpoints, `--state healthy` only healthy ones, as soon as the gate has
   judged them; the states partition the rollout's endpoints.
2. Failures: rollout B on channel `config` to windows endpoints that
   report `reverted` (the agent quarantines what it reverts) and linux
   ones. `--state failed` is exactly the windows endpoints given the
   release; `endpoints --stratum`, `--tag`, `--version` filter the fleet;
   `endpoint show` gives a failed endpoint's event history, its state in
   the rollout and the quarantined release, and a dark endpoint's pending
   release; the history (stored) survives kill -9.
3. Bad input: unknown rollout or endpoint -> 404 naming it; bad filter
   values -> 400 naming the field; nothing changes.
# ctest-labels: ops
"""
import json
import time

import rg
from rg import expect
from test_stratum_halt import Agent, release

LINUX, DARK, WINDOWS = 14, 4, 5
W10 = "windows-10-x86_64"
DEADLINE_S = 90  # bound on every wait (never an assertion)


class DarkAgent(Agent):
    """Reports `applying` for the first release it is given, then never
    checks in again (a host that died on the release)."""

    def follow(self, channel):
        if self.ever:
            return None
        rel = self.desired(channel)
        if rel is not None:
            self.ever.add(rel)
            self.seq += 1
            self.desired(channel, [{"id": "%s-%d" % (self.id, self.seq),
                                    "type": "applying", "channel": channel,
                                    "release": rel, "at_ms": 1}])
        return rel


class RevertingAgent(Agent):
    """Reports `applying` then `reverted` (the agent's trial failed)."""

    failure, detail = "reverted", "3 failed starts, back to the last good"


def enroll(srv):
    st, key = srv.request("POST", "/v1/enrollment-keys", {})
    expect(st == 201, "enrollment key", st, key)
    fleet = []
    kinds = ([("lx-%02d", Agent, "linux", [])] * LINUX +
             [("dk-%02d", DarkAgent, "linux", ["lab"])] * DARK +
             [("w10-%02d", RevertingAgent, "windows", [])] * WINDOWS)
    for i, (fmt, cls, os_name, tags) in enumerate(kinds):
        attrs = {"os": os_name, "os_version": "10" if os_name == "windows"
                 else "6", "arch": "x86_64", "tags": tags}
        st, b = srv.request("POST", "/v1/agent/enroll", {
            "enrollment_key": key["key"], "endpoint_id": fmt % i,
            "attributes": attrs}, token="")
        expect(st == 200, "enroll", st, b)
        fleet.append(cls(srv, fmt % i, b["token"], cls is RevertingAgent))
    return fleet


def start(srv, rel, window_s):
    """A rollout of rel that cannot pass its one wave during the test; a
    longer window makes a healthy endpoint's judged span outlast a
    stalled check-in round on a loaded machine."""
    plan = {"name": "one", "waves": [{"name": "all", "share": 100,
                                      "min_endpoints": 1, "window_s": window_s,
                                      "min_bake_s": 600}]}
    st, ro = srv.request("POST", "/v1/rollouts", {"release": rel, "plan": plan})
    expect(st == 201, "rollout", st, ro)
    return ro["id"]


def cli_json(srv, *args):
    p = rg.cli(srv, "--json", *args)
    expect(p.returncode == 0, "rollgate %s" % " ".join(args), p.returncode,
           p.stderr)
    return json.loads(p.stdout)


def ids(srv, *args):
    return {e["id"] for e in cli_json(srv, *args)["endpoints"]}


def members(srv, rid, state=None):
    extra = ("--state", state) if state else ()
    return ids(srv, "rollout", "endpoints", str(rid), "--limit", "1000", *extra)


def drive_until(agents, channel, done):
    deadline = time.monotonic() + DEADLINE_S
    while not done():
        expect(time.monotonic() < deadline, "still waiting on %s" % channel)
        for a in agents:
            a.follow(channel)
        time.sleep(0.2)


def silence(srv, fleet):
    linux = [a for a in fleet if not a.crashes]
    dark = {a.id for a in linux if isinstance(a, DarkAgent)}
    rid = start(srv, release(srv, "detections", 1), 5)
    drive_until(linux, "detections", lambda: members(srv, rid, "silent") and
                members(srv, rid, "healthy"))
    every = members(srv, rid)
    by_state = {s: members(srv, rid, s) for s in
                ("assigned", "pending", "healthy", "silent", "failed")}
    expect(by_state["silent"] <= dark, "only dark endpoints are silent",
           by_state)
    expect(not by_state["healthy"] & dark, "no dark endpoint is healthy",
           by_state)
    expect(not by_state["failed"], "nobody failed", by_state)
    union = set().union(*by_state.values())
    expect(union == every and sum(map(len, by_state.values())) == len(every),
           "the states partition the rollout's endpoints", by_state, every)
    p = rg.cli(srv, "rollout", "endpoints", str(rid), "--state", "silent")
    expect(p.returncode == 0 and "STATE" in p.stdout and " silent " in p.stdout,
           "the table shows the state", p.stdout, p.stderr)
    expect(ids(srv, "endpoints", "--tag", "lab") == dark, "--tag lab",
           ids(srv, "endpoints", "--tag", "lab"))
    return rid, dark


def failures(srv, fleet, dark):
    rel = release(srv, "config", 1)
    rid = start(srv, rel, 2)
    live = [a for a in fleet if not isinstance(a, DarkAgent)]
    drive_until(live, "config",
                lambda: srv.request("GET", "/v1/rollouts/%d" % rid)[1]["state"]
                in ("halted", "completed"))
    given = {a.id for a in fleet if a.crashes and rel in a.ever}
    expect(given, "some windows endpoints were given the release")
    expect(members(srv, rid, "failed") == given,
           "--state failed: exactly the windows endpoints given it",
           members(srv, rid, "failed"), given)
    w10 = ids(srv, "endpoints", "--stratum", W10)
    expect(w10 == {a.id for a in fleet if a.crashes}, "--stratum", w10)
    expect(ids(srv, "endpoints", "--rollout", str(rid), "--stratum",
               "linux-6-x86_64", "--state", "failed") == set(),
           "filters combine")
    # the server knows an endpoint's installed version from its last
    # check-in: the agents check in until it has heard the last change
    drive_until(live, "config", lambda: ids(
        srv, "endpoints", "--version", "1") == {a.id for a in live
                                                 if a.installed})
    v1 = ids(srv, "endpoints", "--version", "1")
    expect(v1 == {a.id for a in live if a.installed}, "--version 1", v1)
    expect(ids(srv, "endpoints", "--version", "2") == set(), "--version 2")
    page = cli_json(srv, "endpoints", "--stratum", W10, "--limit", "2")
    rest = cli_json(srv, "endpoints", "--stratum", W10, "--after",
                    page["next_after"])
    expect(len(page["endpoints"]) == 2 and
           {e["id"] for e in page["endpoints"] + rest["endpoints"]} == w10,
           "filtered pages", page, rest)

    d = cli_json(srv, "endpoint", "show", sorted(dark)[0])
    expect([p["channel"] for p in d["pending"]] == ["detections"],
           "a dark endpoint's pending release", d)
    bad = sorted(given)[0]
    for check in ("before", "after kill -9"):
        show = cli_json(srv, "endpoint", "show", bad)
        types = [e["type"] for e in show["events"] if e["release"] == rel]
        expect(types == ["reverted", "applying"], "history, newest first",
               check, show["events"])
        expect([q["release"] for q in show["quarantined"]] == [rel],
               "quarantined", check, show)
        if check == "before":
            expect((rel, "failed") in
                   [(r["release"], r["state"]) for r in show["rollouts"]],
                   "its state in the rollout", show["rollouts"])
            p = rg.cli(srv, "endpoint", "show", bad)
            expect("quarantined:" in p.stdout and "reverted" in p.stdout and
                   "3 failed starts, back to the last good" in p.stdout,
                   "the table", p.stdout)
            srv.kill()
            srv.start()
    return rid


def bad_input(srv, rid):
    before = srv.request("GET", "/v1/endpoints?limit=1000")[1]
    cases = [
        ("/v1/endpoints?rollout=999", 404, "rollout", "999"),
        ("/v1/endpoints?rollout=abc", 400, "rollout", None),
        ("/v1/endpoints?rollout=%d&state=broken" % rid, 400, "state", "broken"),
        ("/v1/endpoints?state=failed", 400, "state", "rollout"),
        ("/v1/endpoints?version=0", 400, "version", None),
        ("/v1/endpoints?tag=", 400, "tag", None),
        ("/v1/endpoints?stratum=" + "x" * 80, 400, "stratum", None),
        ("/v1/endpoints/nobody-here", 404, None, "nobody-here"),
        ("/v1/endpoints/lx-00?events=5000", 400, "events", None),
    ]
    for path, status, field, word in cases:
        st, b = srv.request("GET", path)
        err = b.get("error", {}) if isinstance(b, dict) else {}
        expect(st == status and (field is None or err.get("field") == field)
               and (word is None or word in err.get("message", "")),
               "bad input", path, st, b)
    p = rg.cli(srv, "rollout", "endpoints", str(rid), "--state", "gone")
    expect(p.returncode != 0 and "state" in p.stderr, "CLI: bad --state",
           p.returncode, p.stderr)
    p = rg.cli(srv, "endpoint", "show", "nobody-here")
    expect(p.returncode != 0 and "nobody-here" in p.stderr, "CLI: unknown id",
           p.stderr)
    expect(srv.request("GET", "/v1/endpoints?limit=1000")[1]["endpoints"] ==
           before["endpoints"], "nothing changed")


def main():
    with rg.Server(args=["--activation-cap", "1"]) as srv:
        srv.start()
        fleet = enroll(srv)
        _, dark = silence(srv, fleet)
        for a in fleet:
            a.reconnect(srv)
        rid = failures(srv, fleet, dark)
        bad_input(srv, rid)


if __name__ == "__main__":
    rg.run(main)
