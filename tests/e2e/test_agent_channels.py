"""An agent installs only the channels it is configured for (issue 13):
a real rollgate-agent whose config has a `[channel detections]` section
and none for `flags`, against a rollgated that rolls out a release on
each channel to the whole fleet. Driven by `rollgate-agent once` (one
check-in and apply pass per run) until detections is active:

- detections' release is installed (STATE/channels/detections/active);
- flags is offered too (the server's desired state holds it) but nothing
  of it reaches the endpoint: no STATE/channels/flags, no event about it,
  not in `rollgate-agent status`.
# ctest-labels: ops
"""
import json
import os
import subprocess
import time

import rg
from rg import expect

DEADLINE_S = 60  # bound on the wait (never an assertion)
PLAN = {"name": "all", "waves": [{"name": "all", "share": 100,
                                  "min_endpoints": 1, "min_bake_s": 600}]}


def roll_out(srv, channel):
    st, _ = srv.request("POST", "/v1/channels", {"name": channel})
    expect(st == 201, "channel", channel, st)
    st, art = srv.upload(("%s content\n" % channel).encode())
    expect(st in (200, 201), "artifact", st, art)
    st, rel = srv.request("POST", "/v1/releases", {
        "channel": channel, "version": 1, "artifact": art["sha256"],
        "notes": channel, "urgency": "standard"})
    expect(st == 201, "release", st, rel)
    st, ro = srv.request("POST", "/v1/rollouts",
                         {"release": rel["id"], "plan": PLAN})
    expect(st == 201, "rollout", st, ro)
    return rel["id"]


def main():
    with rg.Server() as srv:
        srv.start()
        st, key = srv.request("POST", "/v1/enrollment-keys", {})
        expect(st == 201, "enrollment key", st, key)
        state = os.path.join(srv.tmp, "state")
        conf = os.path.join(srv.tmp, "agent.conf")
        with open(conf, "w") as f:
            f.write("server = %s\nenrollment_key = %s\nstate_dir = %s\n"
                    "endpoint_id = only-det\nos = linux\nos_version = 6\n"
                    "arch = x86_64\ntimeout = 5\nsettle = 0\ninsecure = true\n"
                    "%s[channel detections]\n"
                    % (srv.url, key["key"], state,
                       srv.agent_conf_lines()))
        det = roll_out(srv, "detections")
        flags = roll_out(srv, "flags")

        def once():
            p = subprocess.run([rg.binary("rollgate-agent"), "--config", conf,
                                "once"], capture_output=True, text=True,
                               timeout=60)
            expect(p.returncode == 0, "rollgate-agent once", p.stdout,
                   p.stderr)

        active = os.path.join(state, "channels", "detections", "active",
                              "content")
        deadline = time.monotonic() + DEADLINE_S
        while not os.path.exists(active):
            expect(time.monotonic() < deadline, "detections installed")
            once()
            time.sleep(0.2)
        once()  # one more pass: flags is surely offered by now
        with open(active) as f:
            expect(f.read() == "detections content\n", "detections content")

        st, ep = srv.request("GET", "/v1/endpoints/only-det")
        expect(st == 200, "endpoint", st, ep)
        expect(any(r["release"] == flags for r in ep["pending"]),
               "flags is offered to the endpoint", ep["pending"])
        expect(not os.path.exists(os.path.join(state, "channels", "flags")),
               "nothing of flags on the endpoint",
               os.listdir(os.path.join(state, "channels")))
        expect({e["release"] for e in ep["events"]} == {det},
               "events about detections only", ep["events"])
        p = subprocess.run([rg.binary("rollgate-agent"), "--config", conf,
                            "status", "--json"], capture_output=True,
                           text=True, timeout=60)
        names = [c["name"] for c in json.loads(p.stdout)["channels"]]
        expect(names == ["detections"], "status: detections only", names)


if __name__ == "__main__":
    rg.run(main)
