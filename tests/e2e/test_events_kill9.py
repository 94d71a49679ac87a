"""Group commit under SIGKILL: many agents check in at once with events
(applying, then healthy, as the real agent does once offered a release),
so their events share group commits; rollgated is killed (-9) in the
middle of the burst, KILLS times. After every restart, every event whose
check-in was answered 200 (acknowledged, and not refused) is read back
from the store (GET /v1/endpoints/{id}?events=N): nothing acknowledged
is lost. Prints the kills and the counts.
# ctest-labels: foundation
"""
import http.client
import threading
import time

import rg
from rg import expect

KILLS = 3
AGENTS = 120
THREADS = 24
CHANNEL = "det"
PLAN = {"name": "burst", "waves": [
    {"name": "all", "share": 100, "min_endpoints": 1, "min_bake_s": 0}]}


class Agent:
    """An endpoint's agent: polls until offered, then applying, healthy."""

    def __init__(self, eid, token):
        self.id = eid
        self.token = token
        self.release = None   # offered release
        self.next = None      # the event it sends until acknowledged
        self.done = False

    def body(self):
        events = []
        if self.next:
            events = [{"id": "%s-%s" % (self.id, self.next), "type": self.next,
                       "channel": CHANNEL, "release": self.release}]
        installed = {CHANNEL: {"release": self.release}} if self.done else {}
        return {"endpoint_id": self.id, "installed": installed, "events": events}

    def answered(self, b, acked):
        """Takes a 200 answer; records the acknowledged event."""
        refused = {r["id"] for r in b.get("refused", [])}
        if self.next:
            eid = "%s-%s" % (self.id, self.next)
            expect(eid in b["acks"] and eid not in refused, "acked", self.id, b)
            acked.add(eid)
            self.next = "healthy" if self.next == "applying" else None
            self.done = self.next is None
            return
        d = b["desired"].get(CHANNEL)
        if d and not self.done:
            self.release = d["release"]
            self.next = "applying"


def worker(port, agents, acked, lock, stop):
    client = rg.Client(port)
    while not stop.is_set():
        busy = False
        for a in agents:
            if a.done:
                continue
            busy = True
            try:
                st, b = client.request("POST", "/v1/agent/checkin", a.body(),
                                       token=a.token)
            except (OSError, http.client.HTTPException):
                client.close()
                time.sleep(0.05)  # the server is down: the agent retries
                continue
            expect(st in (200, 503) or st >= 500, "check-in", a.id, st, b)
            if st == 200:
                with lock:
                    a.answered(b, acked)
        if not busy:
            return
    client.close()


def main():
    with rg.Server(args=["--enroll-burst", "0", "--max-per-address", "0"]) as srv:
        srv.start()
        rel = srv.release(CHANNEL, 1)
        st, ro = srv.request("POST", "/v1/rollouts", {"release": rel, "plan": PLAN})
        expect(st == 201, "rollout", st, ro)
        st, key = srv.request("POST", "/v1/enrollment-keys", {})
        expect(st == 201, "enrollment key", st, key)
        agents = []
        oses = [("windows", "10"), ("windows", "11"), ("ubuntu", "22.04")]
        for i in range(AGENTS):
            eid = "burst-%03d" % i
            os_, ver = oses[i % len(oses)]
            st, b = srv.request("POST", "/v1/agent/enroll", {
                "enrollment_key": key["key"], "endpoint_id": eid,
                "attributes": {"os": os_, "os_version": ver, "arch": "x86_64"}})
            expect(st == 200, "enroll", eid, st, b)
            agents.append(Agent(eid, b["token"]))

        acked, lock = set(), threading.Lock()
        for k in range(KILLS + 1):
            stop = threading.Event()
            threads = [threading.Thread(target=worker, args=(
                srv.port, agents[t::THREADS], acked, lock, stop))
                for t in range(THREADS)]
            for t in threads:
                t.start()
            # Kill once this round's burst is under way: some events
            # acknowledged since the restart, others in flight.
            before = len(acked)
            deadline = time.monotonic() + 60
            while k < KILLS and len(acked) < before + 20 and time.monotonic() < deadline:
                time.sleep(0.01)
            if k < KILLS:
                srv.kill()
                stop.set()
            for t in threads:
                t.join()
            with lock:
                n_acked = len(acked)
            print("round %d: %d events acknowledged in all%s" % (
                k, n_acked, ", then kill -9" if k < KILLS else ""))
            if k < KILLS:
                srv.start()
            verify(srv, agents, acked)
        expect(all(a.done for a in agents), "every agent reported healthy",
               [a.id for a in agents if not a.done])
        expect(len(acked) == 2 * AGENTS, "every event acknowledged", len(acked))


def verify(srv, agents, acked):
    """Every acknowledged event is in the store."""
    stored = set()
    for a in agents:
        st, b = srv.request("GET", "/v1/endpoints/%s?events=50" % a.id)
        expect(st == 200, "endpoint", a.id, st, b)
        stored |= {e["id"] for e in b.get("events", [])}
    lost = acked - stored
    expect(not lost, "acknowledged events lost by kill -9", sorted(lost)[:10])
    print("  verified: %d acknowledged events stored" % len(acked))


if __name__ == "__main__":
    rg.run(main)
