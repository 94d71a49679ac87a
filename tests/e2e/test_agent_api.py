"""The agent API against a real rollgated: enrollment (good, bad, used-up
key, bad input stores nothing), check-in (events acknowledged, retries
idempotent and not double counted, foreign/unknown/missing tokens), the
desired state following a rollout through the waves of a short custom plan
driven by a fast orchestrator tick until completion, a halt reverting
everyone, artifact download with Range, the endpoint views, /metrics, and
last-seen/installed surviving a restart.
# ctest-labels: foundation
"""
import time
import hashlib

import rg
from rg import expect

PLAN = {"name": "custom", "on_halt": "revert", "waves": [
    {"name": "ring", "internal": True, "share": 0, "min_endpoints": 1, "min_bake_s": 1, "window_s": 2},
    {"name": "ten", "share": 10, "min_endpoints": 1, "min_bake_s": 1, "window_s": 2},
    {"name": "half", "share": 50, "min_endpoints": 1, "min_bake_s": 1, "window_s": 2},
    {"name": "all", "share": 100, "min_endpoints": 1, "min_bake_s": 1, "window_s": 2}]}
N = 30
INTERNAL = {"ep-00", "ep-01", "ep-02"}


def check_error(body, code, field=None):
    expect(isinstance(body, dict) and "error" in body, "error shape", body)
    expect(body["error"]["code"] == code, "error code " + code, body)
    if field is not None:
        expect(body["error"]["field"] == field, "error field " + field, body)


class Agent:
    """A minimal agent: token, installed map, event outbox."""

    def __init__(self, srv, eid, token):
        self.id = eid
        self.token = token
        self.conn = srv.client(token=token)
        self.installed = {}
        self.seq = 0

    def checkin(self, events=(), token=None, eid=None):
        body = {"endpoint_id": eid or self.id, "installed": self.installed,
                "events": list(events)}
        return self.conn.request("POST", "/v1/agent/checkin", body, token=token)

    def event(self, typ, release):
        self.seq += 1
        return {"id": "%s-%d" % (self.id, self.seq), "type": typ,
                "channel": "detections", "release": release, "at_ms": 1}

    def follow(self, fail=False):
        """One check-in; if a new release is desired, reports applying and
        healthy (or failed) for it and installs it. Returns the desired
        release id or None."""
        st, b = self.checkin()
        expect(st == 200, "check-in", self.id, st, b)
        d = b["desired"].get("detections")
        if not d:
            return None
        have = self.installed.get("detections", {}).get("release")
        if d["release"] != have:
            evs = [self.event("applying", d["release"]),
                   self.event("failed" if fail else "healthy", d["release"])]
            st, b2 = self.checkin(evs)
            expect(st == 200 and b2["acks"] == [e["id"] for e in evs], "acks", st, b2)
            self.installed["detections"] = {"release": d["release"], "version": d["version"],
                                            "sha256": d["sha256"]}
        return d["release"]


def enrollment(srv):
    st, key = srv.request("POST", "/v1/enrollment-keys", {"uses": 1})
    expect(st == 201, "enrollment key", st, key)
    attrs = {"os": "linux", "os_version": "6", "arch": "x86_64"}
    # Bad input first: nothing is stored and the key is not used up.
    for body, field in [
            ({"enrollment_key": key["key"], "endpoint_id": "bad id", "attributes": attrs}, "endpoint_id"),
            ({"enrollment_key": key["key"], "endpoint_id": "x", "attributes": {"os": "linux"}},
             "attributes.os_version"),
            ({"enrollment_key": key["key"], "endpoint_id": "x"}, "attributes"),
            ({"enrollment_key": key["key"], "endpoint_id": "x", "attributes": attrs, "extra": 1}, "extra"),
            ({"enrollment_key": key["key"], "endpoint_id": "x",
              "attributes": dict(attrs, tags=["t"] * 17)}, "attributes.tags")]:
        st, b = srv.request("POST", "/v1/agent/enroll", body, token="")
        expect(st == 400, "bad enroll body", body, st, b)
        check_error(b, "invalid", field)
    st, b = srv.request("POST", "/v1/agent/enroll", {
        "enrollment_key": "0" * 64, "endpoint_id": "x", "attributes": attrs}, token="")
    expect(st == 401, "unknown enrollment key", st, b)
    check_error(b, "unauthorized")
    st, b = srv.request("POST", "/v1/agent/enroll", {
        "enrollment_key": key["key"], "endpoint_id": "solo", "attributes": attrs}, token="")
    expect(st == 200 and len(b["token"]) == 64 and b["interval_s"] == 60, "enroll", st, b)
    solo_token = b["token"]
    st, b = srv.request("POST", "/v1/agent/enroll", {
        "enrollment_key": key["key"], "endpoint_id": "solo2", "attributes": attrs}, token="")
    expect(st == 401, "used-up enrollment key", st, b)
    st, b2 = srv.request("GET", "/v1/endpoints")
    expect(st == 200 and [e["id"] for e in b2["endpoints"]] == ["solo"], "only solo stored", b2)
    return Agent(srv, "solo", solo_token)


def main():
    # releases declare no activation time: learn it up to 1 s
    with rg.Server(args=["--tick-ms", "50", "--flush-ms", "200",
                         "--activation-cap", "1"]) as srv:
        srv.start()
        solo = enrollment(srv)

        # --- a channel, two releases -----------------------------------
        st, _ = srv.request("POST", "/v1/channels", {"name": "detections"})
        expect(st == 201, "channel", st)
        blobs, rels = [], []
        for v in (1, 2):
            data = bytes((i * v) % 251 for i in range(5000 + v))
            st, art = srv.upload(data)
            expect(st == 201 and art["sha256"] == hashlib.sha256(data).hexdigest(), "upload", st, art)
            st, rel = srv.request("POST", "/v1/releases", {
                "channel": "detections", "version": v, "artifact": art["sha256"],
                "notes": "v%d: why" % v, "urgency": "standard"})
            expect(st == 201, "release", st, rel)
            blobs.append(data)
            rels.append(rel)

        # --- enroll the fleet ------------------------------------------
        st, key = srv.request("POST", "/v1/enrollment-keys", {})
        expect(st == 201, "unlimited key", st, key)
        agents = []
        for i in range(N):
            eid = "ep-%02d" % i
            attrs = {"os": "linux", "os_version": "6", "arch": "x86_64",
                     "tags": ["internal"] if eid in INTERNAL else []}
            st, b = srv.request("POST", "/v1/agent/enroll", {
                "enrollment_key": key["key"], "endpoint_id": eid, "attributes": attrs}, token="")
            expect(st == 200, "enroll " + eid, st, b)
            agents.append(Agent(srv, eid, b["token"]))
        a0, a1 = agents[0], agents[1]
        agents.append(solo)

        # --- tokens ----------------------------------------------------
        st, b = a0.checkin(token=a1.token)
        expect(st == 403, "foreign endpoint token", st, b)
        check_error(b, "forbidden")
        st, b = a0.checkin(token="f" * 64)
        expect(st == 401, "unknown endpoint token", st, b)
        check_error(b, "unauthorized")
        st, b = a0.checkin(token="")
        expect(st == 401, "missing token", st, b)
        st, b = a0.checkin(token=srv.token)
        expect(st == 401, "admin token is no endpoint token", st, b)
        st, b = a0.checkin(eid="no-such-host")
        expect(st == 403, "own token for another id", st, b)

        # --- bad check-ins ---------------------------------------------
        for events, field in [
                ([{"id": "x", "type": "exploded", "channel": "detections", "release": 1}], "events[0].type"),
                ([{"id": "x", "type": "healthy", "channel": "detections"}], "events[0].release"),
                ([{"type": "healthy", "channel": "detections", "release": 1}], "events[0].id"),
                ([{"id": "x" * 65, "type": "healthy", "channel": "detections", "release": 1}], "events[0].id"),
                ([{"id": "x", "type": "healthy", "channel": "detections", "release": 1}] * 257, "events")]:
            st, b = a0.checkin(events)
            expect(st == 400, "bad events", field, st, b)
            check_error(b, "invalid", field)

        # --- nothing desired yet ---------------------------------------
        st, b = a0.checkin()
        expect(st == 200 and b["desired"] == {} and b["notices"] == [] and b["acks"] == []
               and b["interval_s"] == 60, "empty desired state", st, b)

        # --- rollout 1 through its waves ---------------------------------
        st, ro = srv.request("POST", "/v1/rollouts", {"release": rels[0]["id"], "plan": PLAN})
        expect(st == 201 and ro["state"] == "running" and ro["wave"] == 0, "rollout", st, ro)
        rid = ro["id"]
        # Right away: internal endpoints get it, the others get a notice.
        st, b = agents[10].checkin()
        expect(st == 200 and b["desired"] == {} and len(b["notices"]) == 1, "notice", st, b)
        n = b["notices"][0]
        expect(n["channel"] == "detections" and n["release"] == rels[0]["id"] and n["version"] == 1
               and n["notes"] == "v1: why" and n["urgency"] == "standard"
               and n["earliest_ms"] > 0, "notice fields", n)

        seen_waves = set()
        prev_have = set()
        # bounded by time, not rounds: a faster server makes rounds shorter
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            st, before = srv.request("GET", "/v1/rollouts/%d" % rid)
            expect(st == 200, "rollout get", st, before)
            if before["state"] == "completed":
                break
            expect(before["state"] == "running", "rollout keeps running", before)
            have = {a.id for a in agents if a.follow() == rels[0]["id"]}
            st, after = srv.request("GET", "/v1/rollouts/%d" % rid)
            expect(prev_have <= have, "nobody loses the release mid-rollout", prev_have - have)
            prev_have = have
            if (after["state"], after["wave"]) == (before["state"], before["wave"]):
                seen_waves.add(before["wave"])
                expect(len(have) == after["counts"]["targeted"], "desired matches targeted",
                       len(have), after["counts"])
                if before["wave"] == 0:
                    # admitted once the orchestrator measured the rollout
                    expect(have <= INTERNAL, "wave 0 is the internal ring", have)
                else:
                    expect(INTERNAL <= have, "internal ring keeps it", have)
        st, ro = srv.request("GET", "/v1/rollouts/%d" % rid)
        expect(ro["state"] == "completed", "rollout completed", ro)
        expect(0 in seen_waves, "observed wave 0", seen_waves)
        tos = [(d["to"], d["to_wave"]) for d in ro["decisions"]]
        expect(tos[-1][0] == "completed" and ("running", 1) in tos and ("running", 3) in tos,
               "decisions through every wave", tos)
        expect(all(d["actor"] == "orchestrator" and d["evidence"]["counts"]["fleet"] == N + 1
                   for d in ro["decisions"] if d["from"] == "running"), "orchestrator evidence",
               ro["decisions"])
        for a in agents:
            expect(a.follow() == rels[0]["id"], "everyone has v1 after completion", a.id)

        # --- events: acknowledged again on retry, never double counted ---
        exposed = ro["counts"]["exposed"]
        expect(exposed == N + 1, "every endpoint exposed once", ro["counts"])
        retry = [a0.event("healthy", rels[0]["id"]), a0.event("applying", rels[0]["id"])]
        for _ in range(3):
            st, b = a0.checkin(retry)
            expect(st == 200 and b["acks"] == [e["id"] for e in retry], "retry acked", st, b)
        st, ro = srv.request("GET", "/v1/rollouts/%d" % rid)
        expect(ro["counts"]["exposed"] == N + 1 and ro["reports"]["applying"] == N + 1
               and ro["reports"]["healthy"] == N + 1, "no double count",
               ro["counts"], ro["reports"])

        # --- rollout 2 halts on a failure and everyone reverts -----------
        st, ro2 = srv.request("POST", "/v1/rollouts", {"release": rels[1]["id"], "plan": PLAN})
        expect(st == 201 and ro2["previous_release"] == rels[0]["id"], "rollout 2", st, ro2)
        # the internal ring (too small to judge one failure) all fails; the
        # first tick that admits them may fall between two check-ins, and
        # the gate may then halt on the first failures before the last of
        # them checks in again: it is never offered v2 then
        deadline = time.monotonic() + 60
        got = []
        while time.monotonic() < deadline:
            st, now = srv.request("GET", "/v1/rollouts/%d" % ro2["id"])
            if now["state"] != "running":
                break
            for i in range(3):
                if agents[i].installed["detections"]["release"] != rels[1]["id"]:
                    agents[i].follow(fail=True)
            got = [agents[i].installed["detections"]["release"] for i in range(3)]
            if got == [rels[1]["id"]] * 3:
                break
        expect(got.count(rels[1]["id"]) >= 2, "internal endpoints get v2", got)
        deadline = time.monotonic() + 60  # the ring's windows (W = 2 s) end
        while time.monotonic() < deadline:
            st, ro2 = srv.request("GET", "/v1/rollouts/%d" % ro2["id"])
            if ro2["state"] != "running":
                break
            agents[30 - 1].follow()
        expect(ro2["state"] == "halted", "halted on failure", ro2)
        expect("failed" in ro2["decisions"][-1]["reason"], "halt reason", ro2["decisions"][-1])
        for a in agents:
            expect(a.follow() == rels[0]["id"], "reverted to v1", a.id)
        for a in agents[:3]:
            a.follow()  # reports what it has installed again

        # --- artifacts with Range ------------------------------------------
        sha, data = rels[0]["sha256"], blobs[0]
        st, got = a1.conn.request("GET", "/v1/agent/artifacts/" + sha)
        expect(st == 200 and got == data, "download", st)
        st, got = a1.conn.request("GET", "/v1/agent/artifacts/" + sha, headers={"Range": "bytes=10-19"})
        expect(st == 206 and got == data[10:20]
               and a1.conn.last.getheader("Content-Range") == "bytes 10-19/%d" % len(data),
               "range", st)
        st, b = a1.conn.request("GET", "/v1/agent/artifacts/" + sha, headers={"Range": "bytes=9-2"})
        expect(st == 416, "bad range", st, b)
        # Unknown digests and ones never offered look alike: 403.
        st, b = a1.conn.request("GET", "/v1/agent/artifacts/" + "0" * 64)
        expect(st == 403, "unknown digest", st, b)
        st, b = a1.conn.request("GET", "/v1/agent/artifacts/" + sha, token="f" * 64)
        expect(st == 401, "download with unknown token", st, b)
        st, b = a1.conn.request("GET", "/v1/agent/artifacts/" + sha, token=srv.token)
        expect(st == 401, "download with the admin token", st, b)

        # --- endpoint views ------------------------------------------------
        st, b = srv.request("GET", "/v1/endpoints?limit=7")
        expect(st == 200 and len(b["endpoints"]) == 7 and b["total"] == N + 1
               and b["next_after"] == b["endpoints"][-1]["id"], "page 1", st, b)
        ids = [e["id"] for e in b["endpoints"]]
        while b["next_after"]:
            st, b = srv.request("GET", "/v1/endpoints?limit=7&after=" + b["next_after"])
            expect(st == 200, "next page", st, b)
            ids += [e["id"] for e in b["endpoints"]]
        expect(ids == sorted(ids) and len(ids) == N + 1, "pages cover the fleet in order", ids)
        st, b = srv.request("GET", "/v1/endpoints?limit=0")
        expect(st == 400, "limit 0", st, b)
        st, e = srv.request("GET", "/v1/endpoints/ep-01")
        expect(st == 200 and e["id"] == "ep-01" and e["stratum"] == "linux-6-x86_64"
               and e["attributes"]["tags"] == ["internal"] and e["last_seen_ms"] > 0
               and e["enrolled_ms"] > 0
               and e["installed"] == {"detections": {"release": rels[0]["id"], "version": 1}},
               "endpoint object", st, e)
        st, b = srv.request("GET", "/v1/endpoints/nobody")
        expect(st == 404, "unknown endpoint", st, b)
        check_error(b, "not_found")

        # --- metrics -------------------------------------------------------
        st, m = srv.request("GET", "/metrics", token="")
        text = m.decode() if isinstance(m, bytes) else str(m)
        expect(st == 200 and "rollgate_checkins_total " in text
               and "rollgate_endpoints %d" % (N + 1) in text
               and 'rollgate_rollouts{state="completed"} 1' in text
               and 'rollgate_rollouts{state="halted"} 1' in text
               and 'rollgate_events_received_total{type="failed"} 3' in text,
               "metrics", st, text)

        # --- last seen and installed survive a restart ------------------------
        before = e
        rc = srv.stop()
        expect(rc == 0, "clean stop", rc, srv.log_text())
        srv.start()
        st, e = srv.request("GET", "/v1/endpoints/ep-01")
        expect(st == 200 and e["last_seen_ms"] == before["last_seen_ms"]
               and e["installed"] == before["installed"], "state after restart", before, e)
        st, b = a1.conn.request("POST", "/v1/agent/checkin", {"endpoint_id": "ep-01"})
        expect(st == 200 and b["desired"]["detections"]["release"] == rels[0]["id"],
               "token valid after restart", st, b)
        srv.stop()


if __name__ == "__main__":
    rg.run(main)
