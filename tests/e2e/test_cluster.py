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
   the others (NOTIFY; the time is printed).
# ctest-labels: cluster pg
"""
import getpass
import os
import shutil
import subprocess
import sys
import time

import rg
from rg import expect
from mitm import wait_for
from test_agent_fleet import Agent, PLAN, get_rollout, release, rollout

HERE = os.path.dirname(os.path.abspath(__file__))
SIM = os.path.join(rg.BUILD_DIR, "src", "sim", "rollgate-sim")
NODES = 3
AGENTS = 20
SIMULATED = 1000


class Nginx:
    """nginx on loopback, round robin over the nodes' ports; a request
    that cannot reach a node goes to the next one."""

    def __init__(self, tmp, ports):
        self.dir = os.path.join(tmp, "nginx")
        os.makedirs(self.dir)
        self.port = rg.free_port()
        user = "user %s;\n" % getpass.getuser() if os.getuid() == 0 else ""
        temp = "".join("    %s_temp_path %s;\n" % (k, self.dir)
                       for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        servers = "".join("        server 127.0.0.1:%d max_fails=1 fail_timeout=1s;\n"
                          % p for p in ports)
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(user + """worker_processes 1;
pid %(d)s/nginx.pid;
error_log %(d)s/error.log warn;
daemon off;
events { worker_connections 4096; }
http {
    access_log off;
%(temp)s    upstream nodes {
%(servers)s        keepalive 64;
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
}
""" % {"d": self.dir, "temp": temp, "port": self.port, "servers": servers})
        self.log = open(os.path.join(self.dir, "stderr"), "ab")
        self.proc = subprocess.Popen(["nginx", "-c", conf, "-p", self.dir],
                                     stdout=self.log, stderr=self.log)
        wait_for(self.answers, 30, "nginx listening")

    def answers(self):
        expect(self.proc.poll() is None, "nginx exited")
        try:
            rg._connect(self.port, 2, None).close()
            return True
        except OSError:
            return False

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)
        self.log.close()


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
    agrees on it; else None."""
    live = [n for n in nodes if n.proc]
    views = [cluster_view(n) for n in live]
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
    wait_for(lambda: get_rollout(nodes[0], rid)["reports"]["healthy"] == total, 120,
             "every endpoint's healthy report stored")
    for a in agents:
        wait_for(lambda: a.active() == rel["id"], 60, a.id + " runs v1")
    print("4. v1 completed: %d healthy reports stored, %d agents on v1"
          % (total, len(agents)))


def propagation(nodes, key):
    """A probe endpoint checks in at each node directly; a rollout created
    through node 0 must show in the others' answers (desired or notice)."""
    st, enr = nodes[1].request("POST", "/v1/agent/enroll", {
        "enrollment_key": key, "endpoint_id": "probe-1",
        "attributes": {"os": "linux", "os_version": "6", "arch": "x86_64"}})
    expect(st == 200, "enroll probe through node 1", st, enr)

    def mentions(n, rel):
        st, body = n.request("POST", "/v1/agent/checkin", {
            "endpoint_id": "probe-1", "installed": {}, "events": []},
            token=enr["token"])
        expect(st == 200, "probe check-in", st, body)
        d = body.get("desired", {}).get("detections", {})
        return d.get("release") == rel or any(
            x.get("release") == rel for x in body.get("notices", []))

    v2 = release(nodes[0], 2, b"detections v2 in a cluster\n" * 64)
    expect(all(not mentions(n, v2["id"]) for n in nodes[1:]), "no v2 before its rollout")
    t0 = time.monotonic()
    rollout(nodes[0], v2, PLAN)
    for n in nodes[1:]:
        wait_for(lambda: mentions(n, v2["id"]), 10, "node answers with v2")
    print("5. a rollout created through n0 shows in n1 and n2's answers after %.2f s"
          % (time.monotonic() - t0))


def run(nodes, url):
    for n in nodes:
        n.start()
    wait_for(lambda: leader(nodes), 10, "one leader")
    print("1. one leader: %s" % cluster_view(leader(nodes))["node"])
    lb = Nginx(nodes[0].tmp, [n.port for n in nodes])
    front = Front(nodes[0].tmp, lb.port)
    st, _ = nodes[0].request("POST", "/v1/channels", {"name": "detections"})
    expect(st == 201, "channel", st)
    st, key = nodes[0].request("POST", "/v1/enrollment-keys", {})
    expect(st == 201, "enrollment key", st, key)
    agents = [Agent(front, key["key"], "ag-%02d" % i) for i in range(AGENTS)]
    sim = subprocess.Popen([SIM, "live", "--server", front.url, "--endpoints",
                            str(SIMULATED), "--enrollment-key", key["key"],
                            "--interval", "2", "--duration", "170", "--threads", "2",
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
        propagation(nodes, key["key"])
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
    if not shutil.which("nginx"):
        print("test_cluster: nginx is not installed (scripts/deps.sh cache)")
        sys.exit(77)
    if not os.environ.get("RG_TEST_PG"):
        script = os.path.join(HERE, "..", "with_postgres.sh")
        os.execv(script, [script, sys.executable] + sys.argv)
    rg.run(main)
