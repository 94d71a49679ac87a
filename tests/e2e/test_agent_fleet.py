"""rollgated + 20 rollgate-agent processes, each with its own state
directory and a supervised sample consumer (tests/e2e/consumer):

1. a release rolled out through every wave of a short custom plan ends
   with every endpoint healthy on it;
2. a release whose content makes the consumer fail at start: every
   exposed agent reverts after K starts (or, having crashed, on a halt),
   reports `reverted`, quarantines it, and its consumer runs the old
   content again;
3. the same with the server stopped during the crash loop: the agent
   recovers without network and the report arrives on reconnect;
4. a rollback: agents (stopped, then run for exactly one check-in with
   `rollgate-agent once`) return to the previous release in that check-in.
# ctest-labels: agent
"""
import hashlib
import json
import os
import signal
import subprocess

import rg
from rg import expect
from mitm import wait_for

N = 20
K = 3
INTERNAL = {"ag-00", "ag-01", "ag-02"}
CONSUMER = os.path.join(rg.SOURCE_DIR, "tests", "e2e", "consumer", "consumer.sh")
PLAN = {"name": "custom", "on_halt": "revert", "waves": [
    {"name": "ring", "internal": True, "share": 0, "min_endpoints": 1, "min_bake_s": 1, "window_s": 8},
    {"name": "ten", "share": 10, "min_endpoints": 1, "min_bake_s": 1, "window_s": 8},
    {"name": "half", "share": 50, "min_endpoints": 1, "min_bake_s": 1, "window_s": 8},
    {"name": "all", "share": 100, "min_endpoints": 1, "min_bake_s": 1, "window_s": 8}]}
HOLD = {"name": "hold", "on_halt": "revert", "waves": [
    {"name": "everyone", "share": 100, "min_endpoints": 1, "min_bake_s": 3600,
     "max_bake_s": 0}]}


class Agent:
    def __init__(self, srv, key, eid):
        self.id = eid
        self.dir = os.path.join(srv.tmp, eid)
        self.state = os.path.join(self.dir, "state")
        self.conf = os.path.join(self.dir, "agent.conf")
        os.makedirs(self.dir)
        tags = "internal" if eid in INTERNAL else ""
        with open(self.conf, "w") as f:
            f.write("server = %s\nenrollment_key = %s\nstate_dir = %s\n"
                    "endpoint_id = %s\nos = linux\nos_version = 6\narch = x86_64\n"
                    "tags = %s\ninterval = 0.5\nbackoff_max = 1\ntimeout = 5\n"
                    "max_starts = %d\nsettle = 2.5\ntrial_deadline = 120\n"
                    "insecure = true\n"  # unsigned releases (no root pinned)
                    "[channel detections]\n"
                    "consumer = exec %s \"$RG_CONTENT\" \"$RG_STATE_DIR/running\"\n"
                    "probe = cmp -s \"$RG_CONTENT\" \"$RG_STATE_DIR/running\"\n"
                    % (srv.url, key, self.state, eid, tags, K, CONSUMER))
        self.log = open(os.path.join(self.dir, "agent.log"), "ab")
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([rg.binary("rollgate-agent"), "--config", self.conf],
                                     stdout=self.log, stderr=self.log)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            rc = self.proc.wait(30)
            expect(rc == 0, "agent %s stops cleanly on SIGTERM" % self.id, rc)
        self.proc = None

    def cmd(self, *args):
        out = subprocess.run([rg.binary("rollgate-agent"), "--config", self.conf] + list(args),
                             capture_output=True, text=True, timeout=60)
        expect(out.returncode == 0, "rollgate-agent %s" % " ".join(args), out.stdout, out.stderr)
        return out.stdout

    def status(self):
        return json.loads(self.cmd("status", "--json"))

    def active(self):
        for c in self.status()["channels"]:
            if c["name"] == "detections" and c["active"]:
                return c["active"]["release"]
        return None

    def trial(self):
        for c in self.status()["channels"]:
            if c["name"] == "detections":
                return c["trial"]
        return None

    def trial_file(self):
        try:
            with open(os.path.join(self.state, "channels", "detections", "trial.json")) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    def running(self):
        try:
            with open(os.path.join(self.state, "running"), "rb") as f:
                return f.read()
        except OSError:
            return None


def release(srv, version, content):
    st, art = srv.upload(content)
    expect(st in (200, 201), "upload", st, art)
    st, rel = srv.request("POST", "/v1/releases", {
        "channel": "detections", "version": version, "artifact": art["sha256"],
        "notes": "v%d: e2e release" % version, "urgency": "standard"})
    expect(st == 201, "release", st, rel)
    return rel


def rollout(srv, rel, plan):
    st, ro = srv.request("POST", "/v1/rollouts", {"release": rel["id"], "plan": plan})
    expect(st == 201, "rollout", st, ro)
    return ro["id"]


def get_rollout(srv, rid):
    st, ro = srv.request("GET", "/v1/rollouts/%d" % rid)
    expect(st == 200, "get rollout", st, ro)
    return ro


def finish(srv, rid):
    """Aborts rollout rid unless it already ended (a held wave stays active)."""
    if get_rollout(srv, rid)["state"] in ("pending", "running", "paused", "held"):
        st, ro = srv.request("POST", "/v1/rollouts/%d/abort" % rid, {"reason": "e2e: next step"})
        expect(st == 200, "abort", st, ro)


def main():
    # releases declare no activation time: learn it up to 1 s
    with rg.Server(args=["--tick-ms", "50", "--flush-ms", "200",
                         "--activation-cap", "1"]) as srv:
        srv.start()
        st, _ = srv.request("POST", "/v1/channels", {"name": "detections"})
        expect(st == 201, "channel", st)
        st, key = srv.request("POST", "/v1/enrollment-keys", {})
        expect(st == 201, "enrollment key", st, key)
        agents = [Agent(srv, key["key"], "ag-%02d" % i) for i in range(N)]
        try:
            run(srv, agents)
        except rg.Failure:
            for a in agents[:2] + agents[10:11]:
                with open(os.path.join(a.dir, "agent.log"), "rb") as f:
                    print("--- %s log:\n%s" % (a.id, f.read()[-3000:].decode(errors="replace")))
            print("--- rollgated log:\n" + srv.log_text()[-3000:])
            if srv.proc:
                st, ros = srv.request("GET", "/v1/rollouts")
                for r in ros.get("rollouts", [])[:1]:
                    st, full = srv.request("GET", "/v1/rollouts/%d" % r["id"])
                    full.pop("plan", None)
                    print("--- latest rollout:", json.dumps(full)[-4000:])
            raise
        finally:
            for a in agents:
                if a.proc and a.proc.poll() is None:
                    a.proc.kill()
                    a.proc.wait()


def run(srv, agents):
    # --- 1. a good release through every wave ---------------------------
    v1_body = b"detections v1 ok\n" + bytes(range(256)) * 64
    v1 = release(srv, 1, v1_body)
    for a in agents:
        a.start()
    wait_for(lambda: srv.request("GET", "/v1/endpoints")[1].get("total") == N, 60,
             "every agent enrolled")
    token_mode = os.stat(os.path.join(agents[0].state, "token")).st_mode & 0o777
    expect(token_mode == 0o600, "token file mode 0600", oct(token_mode))
    r1 = rollout(srv, v1, PLAN)
    wait_for(lambda: get_rollout(srv, r1)["state"] == "completed", 300, "rollout of v1 completes")
    ro = get_rollout(srv, r1)
    waves = {d["to_wave"] for d in ro["decisions"]} | {d["from_wave"] for d in ro["decisions"]}
    expect(waves >= {0, 1, 2, 3}, "went through every wave", ro["decisions"])
    wait_for(lambda: get_rollout(srv, r1)["reports"]["healthy"] == N, 120,
             "every endpoint reports healthy on v1")
    for a in agents:
        wait_for(lambda: a.active() == v1["id"] and a.trial() is None, 60, a.id + " on v1")
        expect(a.running() == v1_body, "consumer of %s runs v1" % a.id)
        st, e = srv.request("GET", "/v1/endpoints/" + a.id)
        expect(e["installed"]["detections"]["release"] == v1["id"], "server sees v1", e)
    print("1. v1 through every wave: %d/%d reported healthy"
          % (get_rollout(srv, r1)["reports"]["healthy"], N))

    # --- 2. a release that crashes the consumer at start ------------------
    v2 = release(srv, 2, b"detections v2 crash\n")
    r2 = rollout(srv, v2, PLAN)
    # Every exposed endpoint reports a failure; the server then halts or
    # holds the wave (its gate decides). If it halts before an agent used
    # up its K starts, that agent reverts on the halt (it already crashed):
    # either way it quarantines v2 and reports `reverted`.
    wait_for(lambda: get_rollout(srv, r2)["state"] == "halted"
             or (get_rollout(srv, r2)["counts"]["exposed"] > 0 and
                 get_rollout(srv, r2)["counts"]["failed"] == get_rollout(srv, r2)["counts"]["exposed"]),
             120, "every exposed endpoint of v2 failed, or the rollout halted")
    for a in agents:
        wait_for(lambda: a.active() == v1["id"] and a.trial() is None
                 and a.running() == v1_body, 60, a.id + " runs v1 after the halt")
    ro = get_rollout(srv, r2)
    reverted, by_k = [], 0
    for a in agents:
        q = [x for x in a.status()["quarantined"] if x["sha256"] == v2["sha256"]]
        if q:
            reverted.append(a)
            by_k += "%d failed starts" % K in q[0]["reason"]
    expect(reverted, "some exposed agents reverted", ro["counts"])
    expect(len(reverted) <= ro["counts"]["exposed"], "only exposed agents revert",
           len(reverted), ro["counts"])
    for a in reverted:
        wait_for(lambda: a.status()["outbox"]["pending"] == 0, 60, a.id + " outbox drained")
    ro = get_rollout(srv, r2)
    expect(ro["counts"]["failed"] >= len(reverted), "server counted the reverts", ro["counts"])
    print("2. crashing v2: %d exposed, %d reverted (%d after %d starts, the rest on a "
          "halt); every consumer runs v1 again; rollout %s" % (
              ro["counts"]["exposed"], len(reverted), by_k, K, ro["state"]))
    finish(srv, r2)

    # --- 3. same, with the server stopped during the crash loop -----------
    v3 = release(srv, 3, b"detections v3 slowcrash\n")
    r3 = rollout(srv, v3, PLAN)
    # trial.json read directly (fast): the server must stop before the
    # first crash (2 s after the consumer starts) is reported. `settle`
    # (2.5 s) is longer, so the verdict comes from counting starts.
    on_trial = wait_for(lambda: [a for a in agents if a.trial_file().get("release") == v3["id"]
                                 and a.trial_file().get("crashes") == 0],
                        120, "an agent starts the trial of v3")
    srv.stop()
    a = on_trial[0]
    wait_for(lambda: a.active() == v1["id"] and a.trial() is None
             and any(x["sha256"] == v3["sha256"] for x in a.status()["quarantined"]),
             120, a.id + " reverts v3 with the server down")
    wait_for(lambda: a.running() == v1_body, 60, a.id + " runs v1 again (offline)")
    q = [x for x in a.status()["quarantined"] if x["sha256"] == v3["sha256"]]
    expect("%d failed starts" % K in q[0]["reason"], "offline revert after K starts", q)
    pending = a.status()["outbox"]["pending"]
    expect(pending >= 1, "the revert waits in the outbox while offline", pending)
    srv.start()
    wait_for(lambda: a.status()["outbox"]["pending"] == 0, 120, "report delivered on reconnect")
    wait_for(lambda: get_rollout(srv, r3)["reports"]["failed"] >= 1, 120,
             "the server counts the offline revert")
    finish(srv, r3)
    print("3. crashing v3 with the server down: %s reverted offline, reported on reconnect"
          % a.id)

    # --- 4. rollback: back to the previous release in one check-in --------
    v4_body = b"detections v4 ok\n"
    v4 = release(srv, 4, v4_body)
    r4 = rollout(srv, v4, HOLD)
    for a in agents:
        wait_for(lambda: a.active() == v4["id"] and a.trial() is None, 120, a.id + " on v4")
    wait_for(lambda: get_rollout(srv, r4)["reports"]["healthy"] == N, 120,
             "all reported healthy on v4")
    for a in agents:
        a.stop()
    st, ro = srv.request("POST", "/v1/rollouts/%d/rollback" % r4, {"reason": "e2e rollback"})
    expect(st == 200, "rollback", st, ro)
    for a in agents:
        a.cmd("once")
        expect(a.active() == v1["id"], "%s back on v1 after one check-in" % a.id, a.status())
    print("4. rollback: %d/%d agents back on v1 after one check-in each" % (N, N))


if __name__ == "__main__":
    rg.run(main)
