"""Feature flags reach the agent: rollgated + 3 rollgate-agent processes
(flags_environment = default), each supervising a consumer that embeds
librollgate-agent's flag SDK (tests/e2e/consumer/flags_consumer.c: it
exits 3 at start when flag "crash-me" is on for its endpoint).

1. the check-in carries the environment's flag set; every agent stores it
   in STATE/flags/active.json (read here as a program in another language
   would) and its consumer runs on it; an unchanged set is answered by its
   stamp alone (a few bytes);
2. the kill switch: `rollgate flag disable` reaches every agent within one
   check-in (the first check-in that starts after the change);
3. last known good: enabling "crash-me" makes every consumer crash-loop;
   each agent falls back to the previous set by itself, reports it (the
   server stores it; `rollgate endpoint show` lists it), and never takes
   that set again; one agent is killed -9 in the middle of it and still
   ends on the good set; the server is killed -9 and still lists the
   reports; a newer set (crash-me disabled) is taken.
# ctest-labels: flags agent
"""
import json
import os
import signal
import subprocess
import time

import rg
from rg import expect
from mitm import wait_for

N = 3
K = 3
CONSUMER = os.path.join(os.environ.get("RG_BUILD_DIR", "build"), "tests", "e2e",
                        "flags_consumer")
PLAN = {"name": "all", "on_halt": "revert", "waves": [
    {"name": "all", "share": 100, "min_endpoints": 1, "min_bake_s": 1, "window_s": 8}]}


class Agent:
    def __init__(self, srv, key, eid):
        self.id = eid
        self.dir = os.path.join(srv.tmp, eid)
        self.state = os.path.join(self.dir, "state")
        self.conf = os.path.join(self.dir, "agent.conf")
        os.makedirs(self.dir)
        with open(self.conf, "w") as f:
            f.write("server = %s\nenrollment_key = %s\nstate_dir = %s\n"
                    "endpoint_id = %s\nos = linux\nos_version = 6\narch = x86_64\n"
                    "interval = 0.5\nbackoff_max = 1\ntimeout = 5\n"
                    "max_starts = %d\nsettle = 1\ntrial_deadline = 120\n"
                    "insecure = true\nflags_environment = default\n"
                    "[channel detections]\n"
                    "consumer = exec %s %s \"$RG_STATE_DIR/flags-running\"\n"
                    % (srv.url, key, self.state, eid, K, CONSUMER, eid))
        self.log = open(os.path.join(self.dir, "agent.log"), "ab")
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([rg.binary("rollgate-agent"), "--config", self.conf],
                                     stdout=self.log, stderr=self.log)

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.proc = None

    def read(self, *path):
        try:
            with open(os.path.join(self.state, *path)) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def active(self):
        """The documented file: the set in force."""
        return self.read("flags", "active.json") or {}

    def running(self):
        """The stamp the consumer (through the SDK) runs on."""
        try:
            with open(os.path.join(self.state, "flags-running")) as f:
                return f.read().strip()
        except OSError:
            return None

    def last_ok(self):
        c = self.read("contact.json") or {}
        return c.get("last_ok_ms", 0)


def cli(srv, *args):
    out = rg.cli(srv, *args)
    expect(out.returncode == 0, "rollgate " + " ".join(args), out.stdout, out.stderr)
    return out.stdout


def flag(srv, *args):
    return cli(srv, "flag", *args)


def feature(doc, name):
    for f in doc.get("features", []):
        if f["name"] == name:
            return f
    return None


def two_checkins(agents):
    """Waits until each agent completed two check-ins from now: the second
    one started after this call."""
    base = {a.id: a.last_ok() for a in agents}
    seen = {a.id: set() for a in agents}

    def done():
        for a in agents:
            v = a.last_ok()
            if v != base[a.id]:
                seen[a.id].add(v)
        return all(len(s) >= 2 for s in seen.values())
    wait_for(done, 60, "two check-ins of every agent")


def main():
    with_agents(run, N, "fa")


def with_agents(run, n, prefix):
    """Runs run(srv, agents) with a rollgated, channel "detections" and n
    agents (not started) named prefix-0..; on a failure prints their logs."""
    with rg.Server(args=["--tick-ms", "50", "--flush-ms", "200",
                         "--activation-cap", "1"]) as srv:
        srv.start()
        st, _ = srv.request("POST", "/v1/channels", {"name": "detections"})
        expect(st == 201, "channel", st)
        st, key = srv.request("POST", "/v1/enrollment-keys", {})
        expect(st == 201, "enrollment key", st, key)
        agents = [Agent(srv, key["key"], "%s-%d" % (prefix, i)) for i in range(n)]
        try:
            run(srv, agents)
        except rg.Failure:
            for a in agents:
                with open(os.path.join(a.dir, "agent.log"), "rb") as f:
                    print("--- %s log:\n%s" % (a.id, f.read()[-3000:].decode(errors="replace")))
            print("--- rollgated log:\n" + srv.log_text()[-3000:])
            raise
        finally:
            for a in agents:
                if a.proc and a.proc.poll() is None:
                    a.proc.kill()
                    a.proc.wait()


def checkin(srv, agents, eid, stamp_sent):
    """One raw check-in of endpoint eid (its own token) asking for flags."""
    with open(os.path.join(agents[0].dir, "..", eid, "state", "token")) as f:
        token = f.read().strip()
    flags = {"environment": "default"}
    if stamp_sent:
        flags["stamp"] = stamp_sent
    st, body = srv.request("POST", "/v1/agent/checkin", {"endpoint_id": eid, "flags": flags},
                           token=token)
    expect(st == 200, "raw check-in", st, body)
    return body


def run(srv, agents):
    # --- 1. a set arrives with the check-in ------------------------------
    flag(srv, "create", "feature-a", "--rollout", "100", "--reason", "e2e: first flag")
    st, art = srv.upload(b"detections v1\n")
    expect(st in (200, 201), "upload", st, art)
    st, rel = srv.request("POST", "/v1/releases", {
        "channel": "detections", "version": 1, "artifact": art["sha256"],
        "notes": "v1", "urgency": "standard"})
    expect(st == 201, "release", st, rel)
    for a in agents:
        a.start()
    wait_for(lambda: srv.request("GET", "/v1/endpoints")[1].get("total") == N, 60,
             "every agent enrolled")
    st, ro = srv.request("POST", "/v1/rollouts", {"release": rel["id"], "plan": PLAN})
    expect(st == 201, "rollout", st, ro)
    for a in agents:
        wait_for(lambda: feature(a.active(), "feature-a") is not None, 60,
                 a.id + " has feature-a")
        s1 = a.active()["stamp"]
        wait_for(lambda: a.running() == s1, 60, a.id + "'s consumer runs on " + s1)
        wait_for(lambda: (a.read("flags", "good.json") or {}).get("stamp") == s1, 60,
                 a.id + " confirms " + s1)
    s1 = agents[0].active()["stamp"]
    expect(all(a.active()["stamp"] == s1 for a in agents), "one set everywhere")
    expect(agents[0].active()["environment"] == "default", "environment in the file")
    same = checkin(srv, agents, agents[0].id, s1)
    expect("set" not in same["flags"] and same["flags"]["stamp"] == s1,
           "an unchanged set is answered by its stamp", same)
    fresh = checkin(srv, agents, agents[0].id, None)
    expect(feature(fresh["flags"]["set"], "feature-a") is not None,
           "a stale stamp gets the set", fresh)
    print("1. set %s on every agent; unchanged answer: %d bytes of flags"
          % (s1, len(json.dumps(same["flags"]))))

    # --- 2. kill switch within one check-in -------------------------------
    flag(srv, "disable", "feature-a", "--reason", "e2e: kill switch")
    two_checkins(agents)
    for a in agents:
        f = feature(a.active(), "feature-a")
        expect(f is not None and f["enabled"] is False,
               a.id + ": the kill switch arrived within one check-in", a.active())
    s2 = agents[0].active()["stamp"]
    for a in agents:
        wait_for(lambda: a.running() == s2 and
                 (a.read("flags", "good.json") or {}).get("stamp") == s2, 60,
                 a.id + " runs and confirms " + s2)
    print("2. kill switch: set %s on every agent within one check-in" % s2)

    # --- 3. a set that crashes the consumer: last known good -------------
    flag(srv, "create", "crash-me", "--rollout", "100", "--reason", "e2e: bad flag")
    victim = agents[0]
    wait_for(lambda: (victim.read("flags", "state.json") or {}).get("trial") not in (None, "", s2),
             60, victim.id + " takes the bad set on trial")
    bad = victim.read("flags", "state.json")["trial"]
    victim.kill()  # kill -9 in the middle of the trial
    victim.start()
    for a in agents:
        wait_for(lambda: bad in [r["stamp"] for r in (a.read("flags", "state.json") or {})
                                 .get("refused", [])], 120, a.id + " refuses " + bad)
        wait_for(lambda: a.active().get("stamp") == s2 and a.running() == s2, 60,
                 a.id + " is back on the last known good set " + s2)
    for a in agents:
        wait_for(lambda: all(r["reported"] for r in a.read("flags", "state.json")["refused"]),
                 60, a.id + "'s report stored")
    st = subprocess.run([rg.binary("rollgate-agent"), "--config", agents[1].conf,
                         "status", "--json"], capture_output=True, text=True, timeout=60)
    fl = json.loads(st.stdout)["flags"] if st.returncode == 0 else {}
    expect(fl.get("active") == s2 and fl.get("good") == s2 and
           [r["stamp"] for r in fl.get("refused", [])] == [bad],
           "rollgate-agent status shows the flags", st.stdout, st.stderr)
    srv.kill()
    srv.start()
    for a in agents:
        st, e = srv.request("GET", "/v1/endpoints/" + a.id)
        expect(st == 200 and [r["stamp"] for r in e["flag_reverts"]] == [bad],
               a.id + ": the server lists the revert after kill -9", e)
        expect("crash-me is on" in e["flag_reverts"][0]["detail"] or
               "exited 3" in e["flag_reverts"][0]["detail"], "with its cause", e)
    out = cli(srv, "endpoint", "show", agents[1].id)
    expect("flag sets reverted" in out and bad in out, "endpoint show lists it", out)
    two_checkins(agents)
    for a in agents:
        expect(a.active().get("stamp") == s2, a.id + " does not take " + bad + " again")

    # --- 4. a newer set is taken -----------------------------------------
    flag(srv, "disable", "crash-me", "--reason", "e2e: fixed")
    for a in agents:
        wait_for(lambda: a.active().get("stamp") not in (s2, bad) and
                 feature(a.active(), "crash-me")["enabled"] is False, 60,
                 a.id + " takes the newer set")
        s3 = a.active()["stamp"]
        wait_for(lambda: a.running() == s3 and
                 (a.read("flags", "good.json") or {}).get("stamp") == s3, 60,
                 a.id + " runs and confirms " + s3)
    print("3. crash-me: every agent back on %s by itself, reported, not retaken; "
          "4. newer set %s taken" % (s2, agents[0].active()["stamp"]))


if __name__ == "__main__":
    rg.run(main)
