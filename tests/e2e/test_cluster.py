"""Several rollgated nodes on one PostgreSQL (docs/scale.md, "Several
nodes"): 3 nodes behind nginx (round robin, on loopback), 20 real
rollgate-agent processes and 1,000 simulated endpoints (rollgate-sim
live), all through nginx, beside a throwaway PostgreSQL
(tests/with_postgres.sh; this script runs itself under it when RG_TEST_PG
is not set; exit 77, skipped, without PostgreSQL or nginx):

1. exactly one node leads (GET /v1/cluster on each node agrees);
2. a rollout runs; mid-rollout the leader is killed with SIGKILL: another
   node leads within 10 s, the killed node comes back as a follower;
3. a follower is killed while check-ins go on, and comes back;
4. the rollout completes; every endpoint's healthy report is stored (an
   event a node acknowledged is never lost: agents do not send it again)
   and every real agent runs the release;
5. a new rollout created through one node reaches the check-in answers of
   the others (NOTIFY; the time is printed);
6. PostgreSQL is stopped mid-rollout: nobody leads, every node still
   answers an event-free check-in from its cache and refuses (503) one
   carrying an event, nothing is decided; PostgreSQL starts again: a node
   leads, the event is acknowledged, the rollout completes on every
   endpoint.
# ctest-labels: cluster pg
"""
import os
import shutil
import subprocess
import sys
import time

import rg
from rg import expect
from mitm import wait_for
from nginx import Nginx, install
from test_agent_fleet import Agent, PLAN, get_rollout, release, rollout
from test_pg import pg_ctl

HERE = os.path.dirname(os.path.abspath(__file__))
SIM = os.path.join(rg.BUILD_DIR, "src", "sim", "rollgate-sim")
NODES = 3
# v2's last wave bakes long enough to restart PostgreSQL in it.
PLAN2 = dict(PLAN, waves=PLAN["waves"][:-1] + [dict(PLAN["waves"][-1], min_bake_s=20)])
AGENTS = 20
SIMULATED = 1000


# The load balancer: round robin over the nodes; a request that cannot
# reach a node goes to the next one.
BALANCER = """    upstream nodes {
NODES        keepalive 64;
    }
    server {
        listen 127.0.0.1:%(port)d;
        location / {
            proxy_pass http://nodes;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_connect_timeout 1s;
            # A check-in sent again after a node died is harmless: events
            # are stored once per (endpoint, event id).
            proxy_next_upstream error timeout non_idempotent;
        }
    }
"""


class Front:
    """What Agent needs of a server: its URL (nginx) and a temp dir."""

    def __init__(self, tmp, port):
        self.tmp = tmp
        self.url = "http://127.0.0.1:%d" % port


def node_args(url, i):
    return ["--store", url, "--node-id", "n%d" % i, "--tick-ms", "100",
            "--flush-ms", "200", "--activation-cap", "1", "--interval", "2",
            "--event-burst", "0"]


def make_nodes(url):
    """Node 0 inits the database; the others get a data directory of their
    own whose artifacts directory is node 0's (shared storage)."""
    nodes = [rg.Server(args=node_args(url, 0), init=False)]
    out = subprocess.run([rg.binary("rollgated"), "init", "--data", nodes[0].data,
                          "--store", url], capture_output=True, text=True, timeout=120)
    expect(out.returncode == 0, "rollgated init --store", out.stdout, out.stderr)
    nodes[0].token = out.stdout.strip().splitlines()[-1]
    for i in range(1, NODES):
        n = rg.Server(args=node_args(url, i), init=False)
        os.makedirs(n.data, mode=0o700)
        os.symlink(os.path.join(nodes[0].data, "artifacts"),
                   os.path.join(n.data, "artifacts"))
        n.token = nodes[0].token
        nodes.append(n)
    return nodes


def cluster_view(n):
    st, body = n.request("GET", "/v1/cluster")
    expect(st == 200, "GET /v1/cluster", st, body)
    return body


def leader(nodes):
    """The one running node that says it leads, when every running node
    agrees on it; else None (also while the admin API answers 503: its
    tokens are in PostgreSQL)."""
    live = [n for n in nodes if n.proc]
    answers = [n.request("GET", "/v1/cluster") for n in live]
    if any(st == 503 for st, _ in answers):
        return None
    views = [body for _, body in answers]
    leading = [n for n, v in zip(live, views) if v["leader"]]
    if len(leading) != 1:
        return None
    name = cluster_view(leading[0])["node"]
    return leading[0] if all(v["leader_node"] == name for v in views) else None


def kill_leader(nodes, rid):
    wait_for(lambda: get_rollout(nodes[0], rid)["wave"] >= 1, 180,
             "the rollout past its first wave")
    old = leader(nodes) or wait_for(lambda: leader(nodes), 10, "one leader")
    name = cluster_view(old)["node"]
    t0 = time.monotonic()
    expect(old.kill() == -9, "leader killed")
    new = wait_for(lambda: leader(nodes), 10, "another node leading within 10 s")
    took = time.monotonic() - t0
    expect(cluster_view(new)["node"] != name, "a new leader", name)
    wave = get_rollout(new, rid)["wave"]
    old.start()
    expect(not cluster_view(old)["leader"], "the restarted node follows")
    print("2. leader %s killed at wave %d: %s leads after %.1f s; %s back as a follower"
          % (name, wave, cluster_view(new)["node"], took, name))


def checkins(nodes):
    """Check-ins the running nodes answered (their /metrics)."""
    total = 0
    for n in nodes:
        if n.proc:
            st, text = n.request("GET", "/metrics")
            expect(st == 200, "metrics", st)
            for line in text.decode().splitlines():
                if line.startswith("rollgate_checkins_total "):
                    total += int(line.split()[1])
    return total


def kill_follower(nodes):
    f = next(n for n in nodes if n.proc and not cluster_view(n)["leader"])
    name = cluster_view(f)["node"]
    expect(f.kill() == -9, "follower killed")
    before = checkins(nodes)
    wait_for(lambda: checkins(nodes) >= before + 500, 60,
             "check-ins going on through the other nodes")
    f.start()
    print("3. follower %s killed during check-ins, back" % name)


def complete(nodes, agents, rid, rel):
    total = AGENTS + SIMULATED
    ro = wait_for(lambda: (lambda r: r if r["state"] in ("completed", "halted", "held")
                           else None)(get_rollout(nodes[0], rid)), 240, "v1 ends")
    expect(ro["state"] == "completed", "v1 completes", ro["state"],
           [(d["to"], d["to_wave"], d["reason"]) for d in ro["decisions"][-6:]])
    try:
        wait_for(lambda: get_rollout(nodes[0], rid)["reports"]["healthy"] == total, 120,
                 "every endpoint's healthy report stored")
    except rg.Failure:
        not_healthy = {}
        for state in ("assigned", "pending", "silent", "failed", "unjudged"):
            st, b = nodes[0].request("GET", "/v1/endpoints?rollout=%d&state=%s&limit=20"
                                     % (rid, state))
            if st == 200 and b["endpoints"]:
                not_healthy[state] = [e["id"] for e in b["endpoints"]]
        expect(False, "every endpoint's healthy report stored",
               get_rollout(nodes[0], rid)["reports"], not_healthy)
    for a in agents:
        wait_for(lambda: a.active() == rel["id"], 60, a.id + " runs v1")
    print("4. v1 completed: %d healthy reports stored, %d agents on v1"
          % (total, len(agents)))


class Probe:
    """An endpoint checked in by hand at one node or another: it reports
    `applying` then `healthy` for each release it is given, like an agent
    whose content works."""

    def __init__(self, nodes, key):
        self.nodes = nodes
        self.turns = 0
        node = nodes[1]
        st, enr = node.request("POST", "/v1/agent/enroll", {
            "enrollment_key": key, "endpoint_id": "probe-1",
            "attributes": {"os": "linux", "os_version": "6", "arch": "x86_64"}})
        expect(st == 200, "enroll the probe", st, enr)
        self.token = enr["token"]
        self.installed = {}
        self.outbox = []
        self.n = 0

    def event(self, kind, rel):
        self.n += 1
        return {"id": "probe-%d" % self.n, "type": kind, "release": rel,
                "channel": "detections", "at_ms": int(time.time() * 1000)}

    def checkin(self, node, events=None):
        return node.request("POST", "/v1/agent/checkin", {
            "endpoint_id": "probe-1", "installed": self.installed,
            "events": self.outbox if events is None else events}, token=self.token)

    def step(self, node=None):
        """One check-in (node None: each node in turn); acts on what it is
        given. Returns the answer."""
        self.turns += 1
        st, body = self.checkin(node or self.nodes[self.turns % len(self.nodes)])
        expect(st == 200, "probe check-in", st, body)
        acked = set(body.get("acks", []))
        self.outbox = [e for e in self.outbox if e["id"] not in acked]
        d = body.get("desired", {}).get("detections")
        have = self.installed.get("detections", {}).get("release")
        if d and d["release"] != have:
            self.installed = {"detections": {"release": d["release"],
                                             "version": d["version"]}}
            self.outbox += [self.event("applying", d["release"]),
                            self.event("healthy", d["release"])]
        return body


def propagation(nodes, probe):
    """The probe checks in at each node directly; a rollout created
    through node 0 must show in the others' answers (desired or notice)."""

    def mentions(n, rel):
        body = probe.step(n)
        d = body.get("desired", {}).get("detections", {})
        return d.get("release") == rel or any(
            x.get("release") == rel for x in body.get("notices", []))

    v2 = release(nodes[0], 2, b"detections v2 in a cluster\n" * 64)
    expect(all(not mentions(n, v2["id"]) for n in nodes[1:]), "no v2 before its rollout")
    t0 = time.monotonic()
    rid = rollout(nodes[0], v2, PLAN2)
    for n in nodes[1:]:
        wait_for(lambda: mentions(n, v2["id"]), 10, "node answers with v2")
    print("5. a rollout created through n0 shows in n1 and n2's answers after %.2f s"
          % (time.monotonic() - t0))
    return v2, rid


def nobody_leads(nodes):
    for n in nodes:
        st, body = n.request("GET", "/healthz")
        if st != 200 or body["leader"]:
            return False
    return True


def postgres_restart(nodes, agents, probe, v2, rid):
    # In the last wave, once the probe runs v2 (a check-in that would make
    # a first offer needs a write, and is refused while PostgreSQL is down).
    wait_for(lambda: probe.step() and probe.installed["detections"]["release"]
             == v2["id"] and not probe.outbox, 120, "the probe runs v2")
    ro = get_rollout(nodes[0], rid)
    expect(ro["state"] == "running", "v2 still rolling out", ro["state"])
    stopped_ms = int(time.time() * 1000)
    pg_ctl("-m", "fast", "stop")
    wait_for(lambda: nobody_leads(nodes), 10, "no node leads while PostgreSQL is down")
    event = probe.event("healthy", v2["id"])
    for n in nodes:
        st, body = probe.checkin(n, [])
        expect(st == 200 and "detections" in body.get("desired", {}),
               "an event-free check-in is answered from the cache", st, body)
        st, body = probe.checkin(n, [event])
        expect(st == 503, "a check-in carrying an event is refused", st, body)
    pg_ctl("-l", os.path.join(os.environ["RG_TEST_PG_DIR"], "run", "pg.log"),
           "-o", os.environ["RG_TEST_PG_OPTS"], "start")
    started_ms = int(time.time() * 1000)
    new = wait_for(lambda: leader(nodes), 10, "a node leads again")
    st, body = wait_for(lambda: (lambda r: r if r[0] == 200 else None)(
        probe.checkin(new, [event])), 30, "check-ins carrying events accepted again")
    expect(event["id"] in body.get("acks", []), "the event is acknowledged now", body)
    during = [d for d in get_rollout(new, rid)["decisions"]
              if stopped_ms < d["at_ms"] < started_ms]
    expect(not during, "nothing decided while PostgreSQL was down", during)

    def done():
        probe.step()
        return get_rollout(new, rid)["state"] in ("completed", "halted", "held")
    wait_for(done, 240, "v2 ends")
    ro = get_rollout(new, rid)
    expect(ro["state"] == "completed", "v2 completes", ro["state"],
           [(d["to"], d["to_wave"], d["reason"]) for d in ro["decisions"][-6:]])
    total = AGENTS + SIMULATED + 1
    wait_for(lambda: get_rollout(new, rid)["reports"]["healthy"] == total, 120,
             "every endpoint's healthy report on v2 stored")
    for a in agents:
        wait_for(lambda: a.active() == v2["id"], 60, a.id + " runs v2")
    print("6. PostgreSQL restarted mid-rollout: nobody led, cached answers, 503 for "
          "events; then v2 completed, %d healthy" % total)


def run(nodes, url):
    for n in nodes:
        n.start()
    wait_for(lambda: leader(nodes), 10, "one leader")
    print("1. one leader: %s" % cluster_view(leader(nodes))["node"])
    servers = "".join("        server 127.0.0.1:%d max_fails=1 fail_timeout=1s;\n" % n.port
                      for n in nodes)
    lb = Nginx(nodes[0].tmp, BALANCER.replace("NODES", servers), workers=1, connections=4096)
    front = Front(nodes[0].tmp, lb.port)
    st, _ = nodes[0].request("POST", "/v1/channels", {"name": "detections"})
    expect(st == 201, "channel", st)
    st, key = nodes[0].request("POST", "/v1/enrollment-keys", {})
    expect(st == 201, "enrollment key", st, key)
    agents = [Agent(front, key["key"], "ag-%02d" % i) for i in range(AGENTS)]
    sim = subprocess.Popen([SIM, "live", "--server", front.url, "--endpoints",
                            str(SIMULATED), "--enrollment-key", key["key"],
                            "--interval", "2", "--duration", "400", "--threads", "2",
                            "--quiet"], stdout=subprocess.DEVNULL,
                           stderr=open(os.path.join(nodes[0].tmp, "sim.log"), "ab"))
    try:
        for a in agents:
            a.start()
        wait_for(lambda: nodes[2].request("GET", "/v1/endpoints?limit=1")[1]
                 .get("total") == AGENTS + SIMULATED, 60, "every endpoint enrolled")
        v1 = release(nodes[0], 1, b"detections v1 in a cluster\n" * 64)
        rid = rollout(nodes[1], v1, PLAN)
        kill_leader(nodes, rid)
        kill_follower(nodes)
        complete(nodes, agents, rid, v1)
        probe = Probe(nodes, key["key"])
        v2, rid2 = propagation(nodes, probe)
        postgres_restart(nodes, agents, probe, v2, rid2)
    except rg.Failure:
        for n in nodes:
            print("--- %s log:\n%s" % (n.args[3], n.log_text()[-2500:]))
        raise
    finally:
        sim.terminate()
        sim.wait(30)
        for a in agents:
            if a.proc and a.proc.poll() is None:
                a.proc.kill()
                a.proc.wait()
        lb.stop()


def main():
    url = os.environ["RG_TEST_PG"]
    nodes = make_nodes(url)
    try:
        run(nodes, url)
    finally:
        for n in reversed(nodes):
            n.cleanup()


if __name__ == "__main__":
    deps = install()
    if deps.returncode != 0 or not shutil.which("nginx"):
        print("test_cluster: nginx could not be installed (scripts/deps.sh cache):",
              deps.stdout[-400:], deps.stderr[-400:])
        sys.exit(77)
    if not os.environ.get("RG_TEST_PG"):
        script = os.path.join(HERE, "..", "with_postgres.sh")
        os.execv(script, [script, sys.executable] + sys.argv)
    rg.run(main)
