"""rollgated on PostgreSQL (docs/store.md), with real rollgate-agent
processes, beside a throwaway server (tests/with_postgres.sh; this script
runs itself under it when RG_TEST_PG is not set, and is skipped, exit 77,
when PostgreSQL is not installed):

1. `rollgated init --store URL` makes the schema and the first admin
   token; a second init of the same database is refused;
2. a release rolls out through every wave to 6 agents; rollgated is
   killed with SIGKILL mid-rollout and started again: every decision seen
   before is still there, in order, and the rollout completes with every
   endpoint healthy;
3. PostgreSQL is stopped mid-service: a check-in that carries an event is
   refused with 503 (not acknowledged), as are admin reads; PostgreSQL
   starts again and rollgated recovers by itself: the same event is
   acknowledged and a second release rolls out to completion.
# ctest-labels: pg
"""
import os
import subprocess
import sys
import time

import rg
from rg import expect
from mitm import wait_for
from test_agent_fleet import Agent, PLAN, get_rollout, release, rollout

N = 6
HERE = os.path.dirname(os.path.abspath(__file__))


def pg_ctl(*args):
    """pg_ctl on the throwaway server, as its owner (with_postgres.sh)."""
    cmd = os.environ["RG_TEST_PG_AS"].split() + [
        os.path.join(os.environ["RG_TEST_PG_BIN"], "pg_ctl"),
        "-D", os.path.join(os.environ["RG_TEST_PG_DIR"], "data"), "-w"] + list(args)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    expect(out.returncode == 0, "pg_ctl " + " ".join(args), out.stdout, out.stderr)


def init(srv, url):
    """rollgated init --store URL; returns its run."""
    return subprocess.run([rg.binary("rollgated"), "init", "--data", srv.data,
                           "--store", url], capture_output=True, text=True, timeout=120)


def decisions(srv, rid):
    return [(d["at_ms"], d["from"], d["to"], d["from_wave"], d["to_wave"], d["reason"])
            for d in get_rollout(srv, rid)["decisions"]]


def kill_mid_rollout(srv, agents):
    v1 = release(srv, 1, b"detections v1 on postgres\n" * 64)
    r1 = rollout(srv, v1, PLAN)
    wait_for(lambda: get_rollout(srv, r1)["wave"] >= 1 or
             get_rollout(srv, r1)["state"] == "completed", 300, "v1 past its first wave")
    before = decisions(srv, r1)
    expect(srv.kill() == -9, "rollgated killed")
    srv.start()
    after = decisions(srv, r1)
    expect(after[:len(before)] == before, "decisions survive kill -9", before, after)
    wait_for(lambda: get_rollout(srv, r1)["state"] == "completed", 300, "v1 completes")
    # Every agent's healthy report is stored (the store's part) and the
    # gate judged each endpoint healthy.
    wait_for(lambda: get_rollout(srv, r1)["reports"]["healthy"] == N, 120,
             "every endpoint's healthy report on v1 stored")
    try:
        wait_for(lambda: get_rollout(srv, r1)["counts"]["healthy"] == N, 300,
                 "every endpoint judged healthy on v1")
    except rg.Failure:
        ro = get_rollout(srv, r1)
        print("counts:", ro["counts"], "reports:", ro["reports"],
              "strata:", ro.get("strata"))
        raise
    print("2. v1 completed across a kill -9: %d decisions kept, %d/%d healthy"
          % (len(before), N, N))
    return v1


def checkin(srv, token, events):
    return srv.request("POST", "/v1/agent/checkin", {
        "endpoint_id": "py-1", "installed": {}, "events": events}, token=token)


def postgres_restart(srv, key, agents, v1):
    st, enr = srv.request("POST", "/v1/agent/enroll", {
        "enrollment_key": key, "endpoint_id": "py-1",
        "attributes": {"os": "linux", "os_version": "6", "arch": "x86_64"}})
    expect(st == 200, "enroll py-1", st, enr)
    st, body = checkin(srv, enr["token"], [])  # offered v1: its events count
    expect(st == 200 and "detections" in body.get("desired", {}), "py-1 offered v1",
           st, body)
    event = {"id": "py-1-1", "type": "applying", "release": v1["id"],
             "channel": "detections", "at_ms": int(time.time() * 1000)}
    pg_ctl("-m", "fast", "stop")
    st, body = checkin(srv, enr["token"], [event])
    expect(st == 503, "an event check-in is refused while PostgreSQL is down", st, body)
    st, body = srv.request("GET", "/v1/releases")
    expect(st == 503, "admin reads say unavailable", st, body)
    pg_ctl("-l", os.path.join(os.environ["RG_TEST_PG_DIR"], "run", "pg.log"),
           "-o", os.environ["RG_TEST_PG_OPTS"], "start")
    st, body = wait_for(lambda: (lambda r: r if r[0] == 200 else None)(
        checkin(srv, enr["token"], [event])), 60, "check-ins accepted again")
    expect("py-1-1" in body.get("acks", []), "the event is acknowledged now", body)
    v2 = release(srv, 2, b"detections v2 on postgres\n" * 64)
    r2 = rollout(srv, v2, PLAN)
    wait_for(lambda: get_rollout(srv, r2)["state"] == "completed", 300, "v2 completes")
    wait_for(lambda: get_rollout(srv, r2)["counts"]["healthy"] == N, 120,
             "every endpoint healthy on v2")
    for a in agents:
        wait_for(lambda: a.active() == v2["id"], 60, a.id + " on v2")
    print("3. PostgreSQL restarted: 503 while down, then v2 completed, %d/%d healthy"
          % (N, N))


def run(srv, url):
    out = init(srv, url)
    expect(out.returncode == 0, "rollgated init --store", out.stdout, out.stderr)
    srv.token = out.stdout.strip().splitlines()[-1]
    again = init(srv, url)
    expect(again.returncode != 0 and "refusing to init" in again.stderr,
           "a second init is refused", again.stdout, again.stderr)
    print("1. init on PostgreSQL: schema made, token issued; init again refused")
    srv.start()
    st, _ = srv.request("POST", "/v1/channels", {"name": "detections"})
    expect(st == 201, "channel", st)
    st, key = srv.request("POST", "/v1/enrollment-keys", {})
    expect(st == 201, "enrollment key", st, key)
    agents = [Agent(srv, key["key"], "ag-%02d" % i) for i in range(N)]
    try:
        for a in agents:
            a.start()
        wait_for(lambda: srv.request("GET", "/v1/endpoints")[1].get("total") == N, 60,
                 "every agent enrolled")
        v1 = kill_mid_rollout(srv, agents)
        postgres_restart(srv, key["key"], agents, v1)
    except rg.Failure:
        print("--- rollgated log:\n" + srv.log_text()[-3000:])
        raise
    finally:
        for a in agents:
            if a.proc and a.proc.poll() is None:
                a.proc.kill()
                a.proc.wait()


def main():
    url = os.environ["RG_TEST_PG"]
    with rg.Server(args=["--store", url, "--tick-ms", "50", "--flush-ms", "200",
                         "--activation-cap", "1"], init=False) as srv:
        run(srv, url)


if __name__ == "__main__":
    if not os.environ.get("RG_TEST_PG"):
        script = os.path.join(HERE, "..", "with_postgres.sh")
        os.execv(script, [script, sys.executable] + sys.argv)
    rg.run(main)
