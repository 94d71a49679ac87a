"""Group policies against a real rollgated (fast orchestrator tick): bad
policy requests answer the right 4xx and store nothing; a group on N-1
(by tag) keeps the channel's previous completed release while a rollout
runs and receives the new one only once that rollout completed; a pinned
group (by attributes) stays on its version through a rollout; held
endpoints are not part of the rollout's target fleet; deleting a policy
returns its group to the channel; the CLI's policy commands (table and
--json); audit rows.
# ctest-labels: canary
"""
import hashlib
import json
import os
import subprocess

import rg
from rg import expect

PLAN = {"name": "custom", "on_halt": "revert", "waves": [
    {"name": "ring", "internal": True, "share": 0, "min_endpoints": 1, "min_bake_s": 1, "window_s": 2},
    {"name": "half", "share": 50, "min_endpoints": 1, "min_bake_s": 1, "window_s": 2},
    {"name": "all", "share": 100, "min_endpoints": 1, "min_bake_s": 1, "window_s": 2}]}
N = 24
INTERNAL = {"ep-00", "ep-01", "ep-02"}
POS = {"ep-%02d" % i for i in range(3, 8)}      # tagged pos-terminals: n-1
WIN10 = {"ep-%02d" % i for i in range(8, 12)}   # windows 10: pinned
EU = {"ep-%02d" % i for i in range(12, 14)}     # region eu (CLI policy)


def check_error(body, code, field=None):
    expect(isinstance(body, dict) and "error" in body, "error shape", body)
    expect(body["error"]["code"] == code, "error code " + code, body)
    if field is not None:
        expect(body["error"]["field"] == field, "error field " + field, body)


class Agent:
    """A minimal agent: checks in, applies what is desired (applying, then
    healthy), remembers every release it was ever given."""

    def __init__(self, srv, eid, token):
        self.id = eid
        self.conn = srv.client(token=token)
        self.installed = {}
        self.seq = 0
        self.given = set()

    def checkin(self, events=()):
        body = {"endpoint_id": self.id, "installed": self.installed,
                "events": list(events)}
        st, b = self.conn.request("POST", "/v1/agent/checkin", body)
        expect(st == 200, "check-in", self.id, st, b)
        return b

    def event(self, typ, release):
        self.seq += 1
        return {"id": "%s-%d" % (self.id, self.seq), "type": typ,
                "channel": "detections", "release": release, "at_ms": 1}

    def follow(self):
        """One check-in; applies a newly desired release. Returns the
        desired release id (None: nothing) and the answer's notices."""
        b = self.checkin()
        d = b["desired"].get("detections")
        if not d:
            return None, b["notices"]
        self.given.add(d["release"])
        if d["release"] != self.installed.get("detections", {}).get("release"):
            self.checkin([self.event("applying", d["release"]),
                          self.event("healthy", d["release"])])
            self.installed["detections"] = {"release": d["release"], "version": d["version"],
                                            "sha256": d["sha256"]}
        return d["release"], b["notices"]


class Cli:
    def __init__(self, srv):
        self.bin = rg.binary("rollgate")
        self.env = dict(os.environ, ROLLGATE_URL=srv.url, ROLLGATE_TOKEN=srv.token)

    def run(self, *args, status=0):
        p = subprocess.run([self.bin] + list(args), env=self.env, capture_output=True,
                           text=True, timeout=60)
        expect(p.returncode == status, "rollgate %s: exit %d" % (" ".join(args), p.returncode),
               p.stdout, p.stderr)
        return p.stdout

    def json(self, *args):
        return json.loads(self.run(*(list(args) + ["--json"])))


def bad_requests(srv, viewer):
    """Every malformed or refused create answers its 4xx with the field."""
    pin = {"name": "p", "channel": "detections", "selector": {"tag": "x"}, "mode": "pin"}
    cases = [
        ({"channel": "detections", "selector": {"tag": "x"}, "mode": "n-1"}, 400, "invalid", "name"),
        ({"name": "", "channel": "detections", "selector": {"tag": "x"}, "mode": "n-1"},
         400, "invalid", "name"),
        ({"name": "p", "selector": {"tag": "x"}, "mode": "n-1"}, 400, "invalid", "channel"),
        ({"name": "p", "channel": "nonesuch", "selector": {"tag": "x"}, "mode": "n-1"},
         404, "not_found", "channel"),
        ({"name": "p", "channel": "detections", "mode": "n-1"}, 400, "invalid", "selector"),
        ({"name": "p", "channel": "detections", "selector": "x", "mode": "n-1"},
         400, "invalid", "selector"),
        ({"name": "p", "channel": "detections", "selector": {}, "mode": "n-1"},
         400, "invalid", "selector"),
        ({"name": "p", "channel": "detections", "selector": {"tag": "x", "attribute": {"os": "a"}},
          "mode": "n-1"}, 400, "invalid", "selector"),
        ({"name": "p", "channel": "detections", "selector": {"tag": ""}, "mode": "n-1"},
         400, "invalid", "selector.tag"),
        ({"name": "p", "channel": "detections", "selector": {"attribute": {}}, "mode": "n-1"},
         400, "invalid", "selector.attribute"),
        ({"name": "p", "channel": "detections", "selector": {"attribute": {"colour": "red"}},
          "mode": "n-1"}, 400, "invalid", "selector.attribute"),
        ({"name": "p", "channel": "detections", "selector": {"attribute": {"os": 10}},
          "mode": "n-1"}, 400, "invalid", "selector.attribute.os"),
        ({"name": "p", "channel": "detections", "selector": {"tag": "x"}, "mode": "n-2"},
         400, "invalid", "mode"),
        ({"name": "p", "channel": "detections", "selector": {"tag": "x"}}, 400, "invalid", "mode"),
        ({"name": "p", "channel": "detections", "selector": {"tag": "x"}, "mode": "n-1",
          "version": 1}, 400, "invalid", "version"),
        (pin, 400, "invalid", "version"),
        (dict(pin, version=1, release=1), 400, "invalid", "version"),
        (dict(pin, version=0), 400, "invalid", "version"),
        (dict(pin, version=99), 404, "not_found", "version"),
        (dict(pin, release=99999), 404, "not_found", "release"),
        (dict(pin, version=1, extra=True), 400, "invalid", "extra"),
    ]
    for body, status, code, field in cases:
        st, b = srv.request("POST", "/v1/policies", body)
        expect(st == status, "bad policy %r" % (body,), st, b)
        check_error(b, code, field)
    st, b = srv.request("POST", "/v1/policies",
                        {"name": "v", "channel": "detections", "selector": {"tag": "x"},
                         "mode": "n-1"}, token=viewer)
    expect(st == 403, "a viewer cannot create policies", st, b)
    st, b = srv.request("DELETE", "/v1/policies/1", token=viewer)
    expect(st == 403, "a viewer cannot delete policies", st, b)
    st, b = srv.request("GET", "/v1/policies", token="")
    expect(st == 401, "listing needs a token", st, b)
    st, b = srv.request("DELETE", "/v1/policies/999")
    expect(st == 404, "unknown policy", st, b)
    check_error(b, "not_found")
    st, b = srv.request("DELETE", "/v1/policies/abc")
    expect(st == 400, "bad policy id", st, b)
    st, b = srv.request("GET", "/v1/policies", token=viewer)
    expect(st == 200 and b == {"policies": [], "next_after": None}, "nothing stored", st, b)
    st, b = srv.request("GET", "/v1/audit")
    expect(st == 200 and not [a for a in b["audit"] if a["action"].startswith("policy.")],
           "nothing audited", b)


def run_rollout(srv, agents, release, watch):
    """Rolls release out with PLAN until completed; every agent follows
    each round and watch(agent, desired, notices) says whether what it was
    told is right while the rollout runs. Returns the completed rollout."""
    st, ro = srv.request("POST", "/v1/rollouts", {"release": release, "plan": PLAN})
    expect(st == 201, "rollout", st, ro)
    for _ in range(3000):
        st, ro = srv.request("GET", "/v1/rollouts/%d" % ro["id"])
        expect(st == 200 and ro["state"] in ("running", "completed"), "rollout runs", st, ro)
        if ro["state"] == "completed":
            return ro
        for a in agents:
            got, notices = a.follow()
            if not watch(a, got, notices):
                # legitimate only when the rollout completed meanwhile
                st, now = srv.request("GET", "/v1/rollouts/%d" % ro["id"])
                expect(now["state"] == "completed", "held back while running", a.id, got, now)
    raise rg.Failure("rollout %d did not complete: %r" % (ro["id"], ro))


def main():
    # Releases declare no activation time; these agents activate at once:
    # the learned activation allowance is capped at 1 s (health/silence.h).
    with rg.Server(args=["--tick-ms", "50", "--flush-ms", "200",
                         "--activation-cap", "1"]) as srv:
        srv.start()
        viewer = srv.make_token("viewer")
        cli = Cli(srv)
        st, _ = srv.request("POST", "/v1/channels", {"name": "detections"})
        expect(st == 201, "channel", st)
        rels = []
        for v in (1, 2, 3):
            data = ("policy test content v%d\n" % v).encode() * 50
            st, art = srv.upload(data)
            expect(st == 201 and art["sha256"] == hashlib.sha256(data).hexdigest(), "upload", st)
            st, rel = srv.request("POST", "/v1/releases", {
                "channel": "detections", "version": v, "artifact": art["sha256"],
                "notes": "v%d" % v, "urgency": "standard"})
            expect(st == 201, "release", st, rel)
            rels.append(rel["id"])
        v1, v2, v3 = rels

        bad_requests(srv, viewer)

        st, key = srv.request("POST", "/v1/enrollment-keys", {})
        expect(st == 201, "enrollment key", st, key)
        agents = []
        for i in range(N):
            eid = "ep-%02d" % i
            attrs = {"os": "linux", "os_version": "6", "arch": "x86_64", "tags": []}
            if eid in INTERNAL:
                attrs["tags"] = ["internal"]
            if eid in POS:
                attrs["tags"] = ["pos-terminals", "store-%d" % i]
            if eid in WIN10:
                attrs.update(os="windows", os_version="10")
            if eid in EU:
                attrs["region"] = "eu"
            st, b = srv.request("POST", "/v1/agent/enroll", {
                "enrollment_key": key["key"], "endpoint_id": eid, "attributes": attrs}, token="")
            expect(st == 200, "enroll", eid, st, b)
            agents.append(Agent(srv, eid, b["token"]))
        by_id = {a.id: a for a in agents}

        # --- v1 everywhere, then the policies --------------------------------
        run_rollout(srv, agents, v1, lambda *a: True)
        for a in agents:
            expect(a.follow()[0] == v1, "v1 everywhere", a.id)
        st, pos = srv.request("POST", "/v1/policies", {
            "name": "pos-behind", "channel": "detections",
            "selector": {"tag": "pos-terminals"}, "mode": "n-1"})
        expect(st == 201 and pos["mode"] == "n-1" and pos["release"] is None
               and pos["selector"] == {"tag": "pos-terminals"} and pos["channel"] == "detections"
               and pos["created_by"], "n-1 policy", st, pos)
        st, pin = srv.request("POST", "/v1/policies", {
            "name": "win10-pinned", "channel": "detections",
            "selector": {"attribute": {"os_version": "10", "os": "windows"}},
            "mode": "pin", "version": 1})
        expect(st == 201 and pin["mode"] == "pin" and pin["release"] == v1 and pin["version"] == 1
               and pin["selector"] == {"attribute": {"os": "windows", "os_version": "10"}},
               "pin policy", st, pin)
        st, b = srv.request("POST", "/v1/policies", {
            "name": "pos-behind", "channel": "detections", "selector": {"tag": "other"},
            "mode": "n-1"})
        expect(st == 409, "duplicate name", st, b)
        check_error(b, "conflict", "name")
        st, b = srv.request("GET", "/v1/policies", token=viewer)
        expect(st == 200 and [p["name"] for p in b["policies"]] == ["pos-behind", "win10-pinned"],
               "both listed", st, b)

        # --- v2: held groups stay back while it runs ------------------------
        seen = {"general_v2": False, "n1_notice": False}

        def watch_v2(a, got, notices):
            if a.id in POS:
                if notices and notices[0]["release"] == v2:
                    seen["n1_notice"] = True
                return got == v1
            if a.id in WIN10:
                expect(got == v1, "pinned member keeps v1", a.id, got)
            elif got == v2:
                seen["general_v2"] = True
            return True

        ro = run_rollout(srv, agents, v2, watch_v2)
        expect(seen["general_v2"] and seen["n1_notice"],
               "the general fleet got v2 while it ran; n-1 members were told of it", seen)
        target = N - len(POS) - len(WIN10)
        fleets = {d["evidence"]["counts"]["fleet"] for d in ro["decisions"]
                  if d["from"] == "running" and "counts" in d.get("evidence", {})}
        expect(fleets == {target}, "held endpoints are not in the target fleet", target, fleets)
        targeted = {d["evidence"]["counts"]["targeted"] for d in ro["decisions"]
                    if d["from"] == "running" and "counts" in d.get("evidence", {})}
        expect(max(targeted) <= target, "only the target fleet was assigned", target, targeted)
        for a in agents:
            want = v1 if a.id in WIN10 else v2
            expect(a.follow()[0] == want, "after completion", a.id, want)
        for a in agents:
            if a.id in WIN10:
                expect(a.given == {v1}, "pinned members were never given another release",
                       a.id, a.given)

        # --- the CLI --------------------------------------------------------
        table = cli.run("policy", "list")
        expect("pos-behind" in table and "win10-pinned" in table and "tag=pos-terminals" in table
               and "os=windows,os_version=10" in table and "pin v1" in table
               and "n-1" in table, "policy list table", table)
        listed = cli.json("policy", "list")
        expect([p["id"] for p in listed["policies"]] == [pos["id"], pin["id"]], "list --json",
               listed)
        out = cli.run("policy", "create", "eu-behind", "--channel", "detections",
                      "--attr", "region=eu", "--attr", "os=linux", "--n-1")
        expect("eu-behind" in out and "region=eu" in out, "policy create table", out)
        eu = [p for p in cli.json("policy", "list")["policies"] if p["name"] == "eu-behind"]
        expect(len(eu) == 1 and eu[0]["selector"] == {"attribute": {"os": "linux", "region": "eu"}}
               and eu[0]["mode"] == "n-1", "created by the CLI", eu)
        err = cli.run("policy", "create", "x", "--channel", "detections", "--tag", "t", status=2)
        cli.run("policy", "create", "x", "--channel", "detections", "--n-1", status=2)
        cli.run("policy", "create", "x", "--channel", "detections", "--tag", "t", "--pin", "1",
                "--n-1", status=2)
        cli.run("policy", "create", "x", "--channel", "nonesuch", "--tag", "t", "--n-1", status=1)
        expect(err == "", "usage errors print nothing on stdout", err)
        pinned = cli.json("policy", "create", "eu-pin", "--channel", "detections",
                          "--tag", "nobody-has-it", "--pin", "2")
        expect(pinned["mode"] == "pin" and pinned["version"] == 2 and pinned["release"] == v2,
               "pin by version from the CLI", pinned)
        out = cli.run("policy", "delete", str(pinned["id"]))
        expect("eu-pin" in out, "delete prints the policy", out)
        cli.run("policy", "delete", str(pinned["id"]), status=1)

        # --- v3: n-1 (tag and CLI attributes) gets it only after completion;
        # the pinned group stays on v1 ------------------------------------
        def watch_v3(a, got, notices):
            if a.id in WIN10:
                expect(got == v1, "pinned member keeps v1 through v3", a.id, got)
            return got == v2 if a.id in POS or a.id in EU else True

        run_rollout(srv, agents, v3, watch_v3)
        for a in agents:
            want = v1 if a.id in WIN10 else v3
            expect(a.follow()[0] == want, "after v3 completed", a.id, want)

        # --- deleting the pin: the group rejoins the channel -----------------
        st, b = srv.request("DELETE", "/v1/policies/%d" % pin["id"])
        expect(st == 200 and b["name"] == "win10-pinned" and b["version"] == 1, "delete pin", st, b)
        for eid in sorted(WIN10):
            expect(by_id[eid].follow()[0] == v3, "unpinned member gets the current release", eid)
        st, b = srv.request("GET", "/v1/policies")
        expect([p["name"] for p in b["policies"]] == ["pos-behind", "eu-behind"], "after delete", b)

        # --- audit ----------------------------------------------------------
        st, b = srv.request("GET", "/v1/audit")
        acts = [(a["action"], a["target"]) for a in b["audit"] if a["action"].startswith("policy.")]
        expect(("policy.create", "policy:%d" % pos["id"]) in acts
               and ("policy.create", "policy:%d" % eu[0]["id"]) in acts
               and ("policy.delete", "policy:%d" % pin["id"]) in acts
               and len(acts) == 6, "policy audit rows", acts)

        # --- policies survive a restart ----------------------------------------
        rc = srv.stop()
        expect(rc == 0, "clean stop", rc, srv.log_text())
        srv.start()
        st, b = srv.request("GET", "/v1/policies")
        expect(st == 200 and len(b["policies"]) == 2, "policies after restart", b)
        srv.stop()


if __name__ == "__main__":
    rg.run(main)
