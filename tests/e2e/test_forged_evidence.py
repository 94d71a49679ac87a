"""Only evidence the server can vouch for counts (issue 10; issue 11 items 2
and 8), through the real HTTP API of a real rollgated.

Three rollouts (one per channel) whose first wave is the internal ring (two
internal endpoints that check in and stay quiet). Twenty endpoints outside
that wave forge reports about the releases they were never offered:
- `applying`: acknowledged, refused as not_offered, not counted, and the
  release is still not offered to them afterwards;
- `failed` from 8 of them: the rollout does not halt and counts no failure;
- `applying` + `healthy` from all 20: the wave does not move and nothing
  counts as exposed or healthy.
They cannot download the artifacts either, not even by claiming them in
`installed`; the internal endpoints can. A pending event for a release the
server does not know is acknowledged and dropped (not a 404 that the agent
would resend forever), and counted in /metrics. Offers survive kill -9:
after a restart an internal endpoint's report about what it was offered
before the kill is accepted and counted, and it still downloads.
# ctest-labels: canary security
"""
import time

import rg
from rg import expect

PLAN = {"name": "ring-first", "on_halt": "revert", "waves": [
    {"name": "ring", "internal": True, "share": 0, "min_endpoints": 2,
     "min_bake_s": 1, "window_s": 2},
    {"name": "ten", "share": 10, "min_endpoints": 1, "min_bake_s": 1, "window_s": 2},
    {"name": "all", "share": 100, "min_endpoints": 1, "min_bake_s": 1, "window_s": 2}]}
CHANNELS = ("apply", "fail", "heal")
OUTSIDERS = 20


class Agent:
    def __init__(self, srv, eid, token):
        self.id, self.token, self.seq = eid, token, 0
        self.srv = srv
        self.conn = srv.client(token=token)

    def reconnect(self):
        self.conn = self.srv.client(token=self.token)

    def checkin(self, events=(), installed=None):
        st, b = self.conn.request("POST", "/v1/agent/checkin", {
            "endpoint_id": self.id, "installed": installed or {}, "events": list(events)})
        expect(st == 200, "check-in " + self.id, st, b)
        expect(b["acks"] == [e["id"] for e in events], "every event acknowledged", b, events)
        return b

    def event(self, typ, channel, release):
        self.seq += 1
        return {"id": "%s-%d" % (self.id, self.seq), "type": typ, "channel": channel,
                "release": release, "at_ms": 1}

    def download(self, sha):
        st, _ = self.conn.request("GET", "/v1/agent/artifacts/" + sha)
        return st


def metric(srv, name):
    st, m = srv.request("GET", "/metrics", token="")
    expect(st == 200, "metrics", st)
    text = m.decode() if isinstance(m, bytes) else str(m)
    for line in text.splitlines():
        if line.startswith(name + " "):
            return int(float(line.split()[1]))
    raise rg.Failure("metric %s missing" % name)


def wait_ticks(srv, n):
    """Polls until the orchestrator made n more passes (bounded)."""
    start = metric(srv, "rollgate_orchestrator_ticks_total")
    deadline = time.monotonic() + 60
    while metric(srv, "rollgate_orchestrator_ticks_total") < start + n:
        expect(time.monotonic() < deadline, "orchestrator ticks")
        time.sleep(0.05)


def rollout(srv, rid):
    st, ro = srv.request("GET", "/v1/rollouts/%d" % rid)
    expect(st == 200, "rollout get", st, ro)
    return ro


def refused(b, code):
    return [r["id"] for r in b.get("refused", []) if r["code"] == code]


def setup(srv):
    rels = {}
    for i, ch in enumerate(CHANNELS):
        st, _ = srv.request("POST", "/v1/channels", {"name": ch})
        expect(st == 201, "channel", st)
        st, art = srv.upload(("content of %s" % ch).encode())
        expect(st == 201, "upload", st, art)
        st, rel = srv.request("POST", "/v1/releases", {
            "channel": ch, "version": 1, "artifact": art["sha256"], "notes": "n",
            "urgency": "standard"})
        expect(st == 201, "release", st, rel)
        st, ro = srv.request("POST", "/v1/rollouts", {"release": rel["id"], "plan": PLAN})
        expect(st == 201, "rollout", st, ro)
        rels[ch] = (rel["id"], rel["sha256"], ro["id"])
    st, key = srv.request("POST", "/v1/enrollment-keys", {})
    expect(st == 201, "key", st, key)
    agents = {}
    for i in range(2 + OUTSIDERS):
        eid = "in-%d" % i if i < 2 else "out-%02d" % i
        attrs = {"os": "linux", "os_version": "6", "arch": "x86_64",
                 "tags": ["internal"] if i < 2 else []}
        st, b = srv.request("POST", "/v1/agent/enroll", {
            "enrollment_key": key["key"], "endpoint_id": eid, "attributes": attrs}, token="")
        expect(st == 200, "enroll", st, b)
        agents[eid] = Agent(srv, eid, b["token"])
    return rels, agents


def ring_offered(srv, agents, rels):
    """The internal endpoints check in until every release is offered to
    them (the orchestrator admits the ring after measuring the rollout)."""
    deadline = time.monotonic() + 60
    for a in [agents["in-0"], agents["in-1"]]:
        while True:
            d = a.checkin()["desired"]
            if all(ch in d and d[ch]["release"] == rels[ch][0] for ch in CHANNELS):
                break
            expect(time.monotonic() < deadline, "ring offered every release", d)
            time.sleep(0.05)


def main():
    with rg.Server(args=["--tick-ms", "50"]) as srv:
        srv.start()
        rels, agents = setup(srv)
        ring_offered(srv, agents, rels)
        outsiders = [agents["out-%02d" % i] for i in range(2, 2 + OUTSIDERS)]
        ra, sha_a, ro_a = rels["apply"]

        # --- applying from an outsider: refused, not counted, not offered --
        o = outsiders[0]
        ev = o.event("applying", "apply", ra)
        b = o.checkin([ev])
        expect(refused(b, "not_offered") == [ev["id"]], "applying refused", b)
        expect("apply" not in b["desired"], "not offered in that answer", b)
        expect("apply" not in o.checkin()["desired"], "not offered later either")
        wait_ticks(srv, 5)
        ro = rollout(srv, ro_a)
        expect(ro["counts"]["exposed"] == 0 and ro["reports"]["applying"] == 0,
               "forged applying not counted", ro["counts"], ro["reports"])

        # --- downloads: not by claiming installed or sending applying -------
        inst = {"apply": {"release": ra, "version": 1, "sha256": sha_a}}
        o.checkin(installed=inst)
        expect(o.download(sha_a) == 403, "outsider download refused")
        expect(agents["in-0"].download(sha_a) == 200, "offered endpoint downloads")

        # --- 8 outsiders report failed: no halt, nothing counted ------------
        rf, _, ro_f = rels["fail"]
        for a in outsiders[:8]:
            evs = [a.event("applying", "fail", rf), a.event("failed", "fail", rf)]
            b = a.checkin(evs)
            expect(refused(b, "not_offered") == [e["id"] for e in evs], "failed refused", b)
        wait_ticks(srv, 10)
        ro = rollout(srv, ro_f)
        expect(ro["state"] != "halted", "forged failures halt nothing", ro["decisions"][-2:])
        expect(ro["counts"]["failed"] == 0 and ro["counts"]["exposed"] == 0
               and ro["reports"]["failed"] == 0,
               "forged failures not counted", ro["counts"], ro["reports"])

        # --- 20 outsiders report healthy: the wave does not move ------------
        rh, _, ro_h = rels["heal"]
        for a in outsiders:
            a.checkin([a.event("applying", "heal", rh), a.event("healthy", "heal", rh)])
        wait_ticks(srv, 100)  # >= 5 s: past the ring's bake and window
        ro = rollout(srv, ro_h)
        expect(ro["state"] == "running" and ro["wave"] == 0,
               "forged healthy reports move no wave", ro["state"], ro["wave"],
               ro["decisions"][-2:])
        expect(ro["counts"]["exposed"] == 0 and ro["counts"]["healthy"] == 0
               and ro["reports"]["healthy"] == 0,
               "forged healthy not counted", ro["counts"], ro["reports"])
        expect(metric(srv, 'rollgate_events_refused_total{reason="not_offered"}') == 1 + 16 + 40,
               "refusals counted")

        # --- an event for an unknown release: acknowledged and dropped ------
        a = agents["in-1"]
        ev = a.event("reverted", "apply", 999)
        b = a.checkin([ev])
        expect(refused(b, "unknown_release") == [ev["id"]], "unknown release dropped", b)
        expect(b["desired"]["apply"]["release"] == ra, "desired state still answered", b)
        expect(metric(srv, 'rollgate_events_refused_total{reason="unknown_release"}') == 1,
               "unknown-release drop counted")

        # --- offers survive kill -9 -----------------------------------------
        expect(srv.kill() is not None, "killed")
        srv.start()
        for x in agents.values():
            x.reconnect()
        a = agents["in-0"]
        expect(a.download(sha_a) == 200, "offered endpoint downloads after kill -9")
        expect(outsiders[0].download(sha_a) == 403, "outsider still refused after kill -9")
        evs = [a.event("applying", "heal", rh), a.event("healthy", "heal", rh)]
        b = a.checkin(evs)
        expect(not b.get("refused"), "honest reports accepted after kill -9", b)
        deadline = time.monotonic() + 60
        while rollout(srv, ro_h)["reports"]["healthy"] != 1:
            expect(time.monotonic() < deadline, "honest report counted after kill -9",
                   rollout(srv, ro_h)["reports"])
            time.sleep(0.05)
        srv.stop()


if __name__ == "__main__":
    rg.run(main)
