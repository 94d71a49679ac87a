"""SIGKILL durability: rollgated is killed at random moments, at least 20
times, while agents check in (reporting events from a retrying outbox) and
an operator creates releases, with rollouts moving through their waves.
After every restart, everything acknowledged before the kill is checked:
each created release (id, version, digest), its audit row, each endpoint's
enrollment (its token still works) and audit row, each rollout decision
seen before (kept, in order), each acknowledged event (counted as exposed /
healthy for its release); and each rollout keeps going until it completes
(a new one starts on the next release then). Prints the kills and checks.
# ctest-labels: foundation
"""
import http.client
import random
import threading
import time

import rg
from rg import expect

KILLS = 22
AGENTS = 24
INTERNAL = 3
PLAN = {"name": "custom", "on_halt": "revert", "waves": [
    {"name": "ring", "internal": True, "share": 0, "min_endpoints": 1, "min_bake_s": 1, "window_s": 2},
    {"name": "quarter", "share": 25, "min_endpoints": 1, "min_bake_s": 1, "window_s": 2},
    {"name": "all", "share": 100, "min_endpoints": 1, "min_bake_s": 1, "window_s": 2}]}


class Shared:
    """What was acknowledged, recorded by the worker threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.releases = {}      # id -> (channel, version, sha256) acknowledged (201)
        self.acked = {}         # (endpoint, type, release) -> True
        self.stop = threading.Event()
        self.errors = []


def safe(client, method, path, body=None, token=None, headers=None, raw=None):
    """One request; None when the server is down or the connection broke
    (the request may or may not have happened: nothing is recorded)."""
    try:
        return client.request(method, path, body, token=token, headers=headers, raw=raw)
    except (OSError, http.client.HTTPException):
        client.close()
        return None


class Agent:
    def __init__(self, eid, token):
        self.id = eid
        self.token = token
        self.installed = {}
        self.outbox = []
        self.seq = 0

    def event(self, typ, release):
        self.seq += 1
        self.outbox.append({"id": "%s-%d" % (self.id, self.seq), "type": typ,
                            "channel": "main", "release": release})

    def step(self, client, shared):
        """One check-in: send the outbox, record acks, follow the desired
        release by queueing applying + healthy for it."""
        body = {"endpoint_id": self.id, "installed": self.installed, "events": self.outbox[:50]}
        r = safe(client, "POST", "/v1/agent/checkin", body, token=self.token)
        if r is None:
            return
        st, b = r
        if st != 200:
            with shared.lock:
                shared.errors.append(("checkin", self.id, st, b))
            return
        acked = set(b["acks"])
        with shared.lock:
            for e in self.outbox:
                if e["id"] in acked:
                    shared.acked[(self.id, e["type"], e["release"])] = True
        self.outbox = [e for e in self.outbox if e["id"] not in acked]
        d = b["desired"].get("main")
        if d and self.installed.get("main", {}).get("release") != d["release"]:
            self.event("applying", d["release"])
            self.event("healthy", d["release"])
            self.installed["main"] = {"release": d["release"], "version": d["version"]}


def agent_worker(port, agents, shared):
    client = rg.Client(port, timeout=5)
    while not shared.stop.is_set():
        for a in agents:
            a.step(client, shared)
        time.sleep(0.01)  # pacing of the load, not synchronisation
    client.close()


def admin_worker(port, token, shared):
    """Creates artifacts and releases on channel `aux`, recording each one
    acknowledged with 201."""
    client = rg.Client(port, token=token, timeout=5)
    version = 0
    while not shared.stop.is_set():
        time.sleep(0.01)  # pacing of the load, not synchronisation
        data = ("aux content %d %f" % (version, random.random())).encode()
        r = safe(client, "PUT", "/v1/artifacts", raw=data,
                 headers={"Content-Type": "application/octet-stream"})
        if r is None or r[0] not in (200, 201):
            time.sleep(0.02)
            continue
        sha = r[1]["sha256"]
        r = safe(client, "POST", "/v1/releases", {
            "channel": "aux", "version": version + 1, "artifact": sha,
            "notes": "aux %d" % (version + 1), "urgency": "standard"})
        if r is None:
            # Unknown outcome: the next version stays strictly above either way.
            version += 1
            continue
        st, b = r
        if st == 201:
            with shared.lock:
                shared.releases[b["id"]] = ("aux", b["version"], b["sha256"])
            version = b["version"]
        elif st == 409:
            version += 1  # the unacknowledged attempt did commit
        else:
            with shared.lock:
                shared.errors.append(("release", st, b))
            time.sleep(0.02)
    client.close()


def main():
    rnd = random.Random()
    checks = 0
    # releases declare no activation time: learn it up to 1 s
    with rg.Server(args=["--tick-ms", "50", "--flush-ms", "100",
                         "--activation-cap", "1"]) as srv:
        srv.start()
        for ch in ("main", "aux"):
            st, b = srv.request("POST", "/v1/channels", {"name": ch})
            expect(st == 201, "channel", ch, st, b)
        st, key = srv.request("POST", "/v1/enrollment-keys", {})
        expect(st == 201, "key", st, key)
        agents = []
        for i in range(AGENTS):
            eid = "k9-%02d" % i
            st, b = srv.request("POST", "/v1/agent/enroll", {
                "enrollment_key": key["key"], "endpoint_id": eid,
                "attributes": {"os": "linux", "os_version": "6", "arch": "arm64",
                               "tags": ["internal"] if i < INTERNAL else []}}, token="")
            expect(st == 200, "enroll", eid, st, b)
            agents.append(Agent(eid, b["token"]))

        main_version = [0]
        rollouts = []            # ids, in order
        decisions_seen = {}      # rollout id -> list of decision keys

        def start_next_rollout():
            main_version[0] += 1
            v = main_version[0]
            data = ("main content %d" % v).encode()
            st, art = srv.upload(data)
            expect(st in (200, 201), "upload main", st, art)
            st, rel = srv.request("POST", "/v1/releases", {
                "channel": "main", "version": v, "artifact": art["sha256"],
                "notes": "main %d" % v, "urgency": "standard"})
            expect(st == 201, "release main", st, rel)
            st, ro = srv.request("POST", "/v1/rollouts", {"release": rel["id"], "plan": PLAN})
            expect(st == 201 and ro["state"] == "running", "rollout", st, ro)
            rollouts.append(ro["id"])
            with shared.lock:
                shared.releases[rel["id"]] = ("main", v, art["sha256"])

        shared = Shared()
        start_next_rollout()
        threads = [threading.Thread(target=agent_worker,
                                    args=(srv.port, agents[k::3], shared)) for k in range(3)]
        threads.append(threading.Thread(target=admin_worker, args=(srv.port, srv.token, shared)))
        for t in threads:
            t.start()

        def verify():
            """Checks everything acknowledged so far; returns checks made."""
            n = 0
            with shared.lock:
                releases = dict(shared.releases)
                acked = dict(shared.acked)
                errors = list(shared.errors)
            expect(not errors, "worker errors", errors[:5])
            for rid, (channel, version, sha) in releases.items():
                st, b = srv.request("GET", "/v1/releases/%d" % rid)
                expect(st == 200 and b["version"] == version and b["sha256"] == sha,
                       "acknowledged release intact", rid, st, b)
                st, b = srv.request("GET", "/v1/audit?target=release:%d" % rid)
                expect(st == 200 and any(a["action"] == "release.create" for a in b["audit"]),
                       "release audit row", rid, b)
                n += 2
            for a in agents:
                st, b = srv.request("GET", "/v1/audit?target=endpoint:" + a.id)
                expect(st == 200 and any(r["action"] == "endpoint.enroll" for r in b["audit"]),
                       "enroll audit row", a.id, st, b)
                n += 1
            for rid in rollouts:
                st, ro = srv.request("GET", "/v1/rollouts/%d" % rid)
                expect(st == 200, "rollout", rid, st, ro)
                keys = [(d["at_ms"], d["from"], d["to"], d["from_wave"], d["to_wave"], d["reason"])
                        for d in ro["decisions"]]
                old = decisions_seen.get(rid, [])
                expect(keys[:len(old)] == old, "earlier decisions intact", rid, old, keys)
                decisions_seen[rid] = keys
                n += len(old) + 1
                expect(ro["state"] in ("running", "completed"), "rollout state", ro["state"], keys)
                rel = ro["release"]
                want_exposed = {e for (e, t, r) in acked if t == "applying" and r == rel}
                want_healthy = {e for (e, t, r) in acked if t == "healthy" and r == rel}
                expect(ro["reports"]["applying"] >= len(want_exposed)
                       and ro["reports"]["healthy"] >= len(want_healthy),
                       "acknowledged events counted", rid, ro["reports"],
                       len(want_exposed), len(want_healthy))
                n += len(want_exposed) + len(want_healthy)
            return n

        kills = 0
        try:
            while kills < KILLS:
                time.sleep(rnd.uniform(0.05, 0.8))  # the random moment of the kill
                rc = srv.kill()
                expect(rc == -9, "killed by SIGKILL", rc)
                kills += 1
                srv.start()
                checks += verify()
                # Every enrolled endpoint still authenticates.
                c = srv.client(token="")
                for a in agents:
                    st, b = c.request("POST", "/v1/agent/checkin", {"endpoint_id": a.id},
                                      token=a.token)
                    expect(st == 200, "token survives", a.id, st, b)
                    checks += 1
                c.close()
                st, ro = srv.request("GET", "/v1/rollouts/%d" % rollouts[-1])
                if ro["state"] == "completed":
                    start_next_rollout()
            # After the last kill: the running rollout goes on to completion.
            for _ in range(3000):
                st, ro = srv.request("GET", "/v1/rollouts/%d" % rollouts[-1])
                if ro["state"] != "running":
                    break
                time.sleep(0.05)  # polling the outcome; bounded by the loop
            expect(ro["state"] == "completed", "last rollout completes", ro["state"],
                   ro["decisions"])
            checks += verify()
        finally:
            shared.stop.set()
            for t in threads:
                t.join()
        checks += verify()
        completed = 0
        for rid in rollouts:
            st, ro = srv.request("GET", "/v1/rollouts/%d" % rid)
            expect(ro["state"] == "completed", "every rollout completed", rid, ro["state"])
            completed += 1
        srv.stop()
        print("kills=%d checks=%d rollouts_completed=%d releases_acknowledged=%d "
              "events_acknowledged=%d" % (kills, checks, completed, len(shared.releases),
                                          len(shared.acked)))


if __name__ == "__main__":
    rg.run(main)
