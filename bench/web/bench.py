#!/usr/bin/env python3
"""bench/web: the dashboard's budgets (issue 15) on a fleet of N enrolled
endpoints (every one checked in once) and R running rollouts:

  first render of the overview and of a rollout page (median of RUNS fresh
  page loads each, in Debian's chromium-headless-shell on loopback);
  the JS and CSS a page loads, gzipped;
  rollgated's CPU with PAGES dashboard pages open on the overview for
  HOLD_S s, against HOLD_S s with none (idle: no check-ins meanwhile; the
  orchestrator ticks every second over the R rollouts either way).

usage: bench/web/bench.py BUILD_DIR   env: N (100000), R (50), RUNS (5),
       PAGES (20), HOLD_S (30). Prints a table; never run by the tests.
"""
import json
import os
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build"))
os.environ.setdefault("RG_BUILD_DIR", BUILD)
os.environ.setdefault("RG_SOURCE_DIR", ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
import rg  # noqa: E402  (the e2e harness: temp data dir, free port, requests)

N = int(os.environ.get("N", "100000"))
R = int(os.environ.get("R", "50"))
RUNS = int(os.environ.get("RUNS", "5"))
PAGES = int(os.environ.get("PAGES", "20"))
HOLD_S = int(os.environ.get("HOLD_S", "30"))
NPM = os.path.join(os.environ.get("RG_NPM_DIR") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "rollgate", "npm"),
    "web", "node_modules")


def cpu_s(pid):
    """User + system CPU seconds of process pid."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def fleet(srv, tmp):
    tokens = os.path.join(tmp, "tokens.txt")
    subprocess.run([sys.executable, os.path.join(ROOT, "bench", "checkin", "enroll.py"),
                    srv.url, srv.token, str(N), tokens], check=True)
    with open(tokens) as f:
        pairs = [line.split() for line in f if line.strip()]

    def checkin(part):
        c = None
        for eid, tok in part:
            c = c or srv.client(token=tok)
            c.token = tok
            st, _ = c.request("POST", "/v1/agent/checkin", {"endpoint_id": eid, "installed": {},
                                                             "events": []})
            rg.expect(st == 200, "check-in", eid, st)
    threads = [threading.Thread(target=checkin, args=(pairs[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def rollouts(srv):
    plan = {"name": "slow", "waves": [{"name": "canary", "share": 1, "min_endpoints": 1,
                                       "min_bake_s": 86400}, {"name": "all", "share": 100}]}
    ids = []
    for i in range(R):
        rel = srv.release("bench-%02d" % i, 1)
        st, ro = srv.request("POST", "/v1/rollouts", {"release": rel, "plan": plan})
        rg.expect(st == 201, "rollout", st, ro)
        ids.append(ro["id"])
    return ids


def main():
    subprocess.run([os.path.join(ROOT, "scripts", "deps.sh"), "web"], check=True,
                   stdout=subprocess.DEVNULL)
    with rg.Server(args=["--enroll-burst", "0", "--access-log", "off"]) as srv:
        srv.start()
        t0 = time.monotonic()
        fleet(srv, srv.tmp)
        ids = rollouts(srv)
        print("setup: %d endpoints, %d rollouts in %.0f s" % (N, R, time.monotonic() - t0),
              file=sys.stderr)
        time.sleep(3)  # the orchestrator's first ticks over the new rollouts
        pid = srv.proc.pid
        c0 = cpu_s(pid)
        time.sleep(HOLD_S)
        idle = (cpu_s(pid) - c0) / HOLD_S
        viewers = [srv.make_token("viewer") for _ in range(PAGES)]
        setup = {"url": srv.url, "token": srv.token, "viewers": viewers,
                 "rollout": ids[0], "rollouts": R,
                 "runs": RUNS, "pages": PAGES, "hold_s": HOLD_S}
        env = dict(os.environ, NODE_PATH=NPM)
        p = subprocess.Popen(["node", os.path.join(HERE, "render.js")], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, env=env)
        p.stdin.write(json.dumps(setup))
        p.stdin.close()
        rg.expect(json.loads(p.stdout.readline()).get("open") == PAGES or PAGES == 0,
                  "pages open")
        c0 = cpu_s(pid)
        time.sleep(HOLD_S)
        opened = (cpu_s(pid) - c0) / HOLD_S
        result = json.loads(p.stdout.readline())
        rg.expect(p.wait(120) == 0, "render.js")
    print("| endpoints | rollouts | overview first render | rollout page first render "
          "| JS gzip | CSS gzip | rollgated CPU idle | with %d pages |" % PAGES)
    print("|---|---|---|---|---|---|---|---|")
    print("| %d | %d | %d ms | %d ms | %d B | %d B | %.1f %% | %.1f %% |" % (
        N, R, result["overview_ms"], result["rollout_ms"], result["js_gzip_bytes"],
        result["css_gzip_bytes"], 100 * idle, 100 * opened))


if __name__ == "__main__":
    rg.run(main)
