"""The agent killed at any point: SIGKILL at every compiled-in fail point
and at >= 500 random moments during apply and revert; after each kill the
state directory must hold, for every channel, one complete verified
version in its active slot, and the restarted agent must converge to the
desired state (healthy on a good release, reverted and quarantined on a
crashing one). Prints its progress every 25 runs, and at the end how many
runs it made and how many were consistent. Waiting for convergence has no
fixed deadline: it fails only when the agent shows no progress (slot,
trial record, events, installed report, quarantine) for 60 s.

To chase a rare failure: RG_KILL_POINTS=a,b runs only those fail points
(names from `rollgate-agent failpoints`), each RG_KILL_REPEAT times in a
row (default 1); RG_KILL_RUNS sets the random kills (default 500, 0 for
none) and RG_KILL_SEED their seed.

The server here is a small in-process double of the agent API of
docs/api.md (enroll, checkin, artifacts with Range) so each run can move
the desired release at will; test_agent_fleet.py runs against rollgated.
# ctest-labels: agent
"""
import hashlib
import http.server
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import rg
from rg import expect

CONSUMER = os.path.join(rg.SOURCE_DIR, "tests", "e2e", "consumer", "consumer.sh")
RANDOM_RUNS = int(os.environ.get("RG_KILL_RUNS", "500"))
REPEAT = int(os.environ.get("RG_KILL_REPEAT", "1"))
CH = "detections"


class Double:
    """State of the fake agent API: the desired release, what arrived."""

    def __init__(self):
        self.lock = threading.Lock()
        self.blobs = {}        # sha256 -> bytes
        self.releases = {}     # id -> (version, sha256)
        self.desired = None    # release id
        self.events = []       # every event received (retries included)
        self.installed = None  # last installed report for CH
        self.checkins = 0
        self.ranges = 0        # downloads resumed with Range
        self.lie = {}          # sha256 -> size announced instead of the real one

    def add_release(self, rid, version, data):
        sha = hashlib.sha256(data).hexdigest()
        self.blobs[sha] = data
        self.releases[rid] = (version, sha)

    def seen(self, typ, rid):
        with self.lock:
            return any(e["type"] == typ and e["release"] == rid for e in self.events)


def make_handler(double):
    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def reply(self, status, body, ctype="application/json", extra=None):
            data = json.dumps(body).encode() if ctype == "application/json" else body
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(n) or b"{}")
            if self.path == "/v1/agent/enroll":
                return self.reply(200, {"token": "t" * 64, "interval_s": 1})
            if self.path != "/v1/agent/checkin":
                return self.reply(404, {"error": {"code": "not_found", "message": "", "field": ""}})
            if self.headers.get("Authorization") != "Bearer " + "t" * 64:
                return self.reply(401, {"error": {"code": "unauthorized", "message": "", "field": ""}})
            with double.lock:
                double.checkins += 1
                double.events += body.get("events", [])
                double.installed = body.get("installed", {}).get(CH)
                desired = {}
                if double.desired is not None:
                    v, sha = double.releases[double.desired]
                    desired[CH] = {"release": double.desired, "version": v, "sha256": sha,
                                   "size": double.lie.get(sha, len(double.blobs[sha])),
                                   "url": "/v1/agent/artifacts/" + sha, "rollout": 1}
            acks = [e["id"] for e in body.get("events", [])]
            self.reply(200, {"interval_s": 1, "acks": acks, "desired": desired, "notices": []})

        def do_GET(self):
            sha = self.path.rsplit("/", 1)[-1]
            data = double.blobs.get(sha)
            if data is None:
                return self.reply(404, {"error": {"code": "not_found", "message": "", "field": ""}})
            rng = self.headers.get("Range")
            if rng:
                with double.lock:
                    double.ranges += 1
                start = int(rng.split("=")[1].split("-")[0])
                if start >= len(data):
                    return self.reply(416, {"error": {"code": "range_not_satisfiable",
                                                      "message": "", "field": ""}})
                return self.reply(206, data[start:], "application/octet-stream",
                                  {"Content-Range": "bytes %d-%d/%d" % (start, len(data) - 1, len(data))})
            self.reply(200, data, "application/octet-stream")

    return H


def sha_file(p):
    h = hashlib.sha256()
    with open(p, "rb") as f:
        h.update(f.read())
    return h.hexdigest(), os.path.getsize(p)


def consistent(state):
    """Every channel's active slot holds one complete verified version."""
    chdir = os.path.join(state, "channels")
    if not os.path.isdir(chdir):
        return True, "nothing yet"
    for ch in os.listdir(chdir):
        d = os.path.join(chdir, ch)
        link = os.path.join(d, "active")
        if not os.path.lexists(link):
            continue
        target = os.readlink(link)
        if target not in ("slot-a", "slot-b"):
            return False, "%s: active -> %r" % (ch, target)
        try:
            with open(os.path.join(d, target, "meta.json")) as f:
                meta = json.load(f)
            sha, size = sha_file(os.path.join(d, target, "content"))
        except (OSError, ValueError) as e:
            return False, "%s: active slot incomplete: %s" % (ch, e)
        if sha != meta["sha256"] or size != meta["size"]:
            return False, "%s: active slot does not verify" % ch
    return True, ""


class Lab:
    def __init__(self, double, port):
        self.tmp = tempfile.mkdtemp(prefix="rg-kill-")
        self.state = os.path.join(self.tmp, "state")
        self.conf = os.path.join(self.tmp, "agent.conf")
        self.log = open(os.path.join(self.tmp, "agent.log"), "ab")
        self.double = double
        with open(self.conf, "w") as f:
            f.write("server = http://127.0.0.1:%d\nenrollment_key = k\n"
                    "state_dir = %s\nendpoint_id = kill-1\ninterval = 0.05\n"
                    "backoff_max = 0.2\ntimeout = 5\nmax_starts = 2\nsettle = 0.1\n"
                    "trial_deadline = 60\nlog_level = warn\ninsecure = true\n[channel %s]\n"
                    "consumer = exec %s \"$RG_CONTENT\" \"$RG_STATE_DIR/running\"\n"
                    # the probe is a readiness check: it gives the consumer up to
                    # 4 s (under the 5 s hook timeout) to publish what it runs (a loaded
                    # machine is slow)
                    "probe = for i in $(seq 40); do cmp -s \"$RG_CONTENT\" "
                    "\"$RG_STATE_DIR/running\" && exit 0; sleep 0.1; done; exit 1\n"
                    % (port, self.state, CH, CONSUMER))

    def start(self, failpoint=None):
        env = dict(os.environ)
        env.pop("RG_FAILPOINT", None)
        if failpoint:
            env["RG_FAILPOINT"] = failpoint
        return subprocess.Popen([rg.binary("rollgate-agent"), "--config", self.conf],
                                stdout=self.log, stderr=self.log, env=env)

    def active_release(self):
        try:
            with open(os.path.join(self.state, "channels", CH, "active", "meta.json")) as f:
                return json.load(f)["release"]
        except (OSError, ValueError):
            return None

    def trial_running(self):
        return os.path.exists(os.path.join(self.state, "channels", CH, "trial.json"))

    def describe(self, want):
        """What the agent and the double show, for a run that did not converge."""
        d = os.path.join(self.state, "channels", CH)
        try:
            with open(os.path.join(d, "trial.json")) as f:
                trial = f.read().strip()
        except OSError:
            trial = None
        q = os.path.join(self.state, "quarantine", self.double.releases[want][1])
        return ("active %s, trial %s, quarantined %s, events for it %s, installed %s"
                % (self.active_release(), trial, os.path.exists(q),
                   [e["type"] for e in self.double.events if e["release"] == want],
                   self.double.installed))


def converged(lab, want, good):
    """The agent reached the desired state and the server knows it."""
    d = lab.double
    if good == "back":
        return (lab.active_release() == want and not lab.trial_running()
                and d.installed is not None and d.installed.get("release") == want)
    if good:
        return (lab.active_release() == want and not lab.trial_running()
                and d.seen("healthy", want) and d.installed is not None
                and d.installed.get("release") == want)
    q = os.path.join(lab.state, "quarantine", d.releases[want][1])
    return (os.path.exists(q) and not lab.trial_running() and d.seen("reverted", want)
            and lab.active_release() != want)


def wait_for(cond, timeout, what):
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise rg.Failure("timed out waiting for " + what)
        time.sleep(0.02)


def read_text(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def progress(lab, want):
    """What an observer sees of the agent's work towards release want: the
    active slot, the trial record (its start and crash counts), the events
    the server received about want, what the agent reports installed, and
    the quarantine. Any change is progress."""
    d = lab.double
    with d.lock:
        events = tuple(e["type"] for e in d.events if e["release"] == want)
        installed = json.dumps(d.installed, sort_keys=True)
    qdir = os.path.join(lab.state, "quarantine")
    quarantined = tuple(sorted(os.listdir(qdir))) if os.path.isdir(qdir) else ()
    trial = read_text(os.path.join(lab.state, "channels", CH, "trial.json"))
    return (lab.active_release(), trial, events, installed, quarantined)


IDLE_S = 60  # no observable progress for this long: the agent is stuck


def wait_converged(lab, want, good, what):
    """Waits for convergence as long as the agent makes observable progress
    (progress() changes); fails after IDLE_S seconds without any. Returns
    the seconds it took."""
    t0 = time.monotonic()
    last, seen_at = progress(lab, want), t0
    while not converged(lab, want, good):
        now = time.monotonic()
        cur = progress(lab, want)
        if cur != last:
            last, seen_at = cur, now
        elif now - seen_at > IDLE_S:
            raise rg.Failure("no progress for %d s towards %s (after %.0f s): %s"
                             % (IDLE_S, what, now - t0, describe(lab, want)))
        time.sleep(0.02)
    return time.monotonic() - t0


def describe(lab, want):
    """The agent's state, for a failure message."""
    active, trial, events, installed, quarantined = progress(lab, want)
    with open(os.path.join(lab.tmp, "agent.log"), "rb") as f:
        f.seek(0, os.SEEK_END)
        f.seek(max(0, f.tell() - 1500))
        tail = f.read().decode(errors="replace")
    return ("active %s, trial %s, events about %d %s, installed %s, quarantine %s; "
            "agent log tail:\n%s" % (active, trial, want, list(events), installed,
                                      list(quarantined), tail))


def main():
    sys.stdout.reconfigure(line_buffering=True)  # progress shows as it happens
    double = Double()
    port = rg.free_port()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), make_handler(double))
    srv.handle_error = lambda *a: None  # agents killed mid-request reset connections
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    lab = Lab(double, port)
    rnd = random.Random(int(os.environ.get("RG_KILL_SEED", "20240719")))
    names = subprocess.run([rg.binary("rollgate-agent"), "failpoints"], capture_output=True,
                           text=True, check=True).stdout.split()
    expect(len(names) >= 10, "fail points listed", names)
    only = [n for n in os.environ.get("RG_KILL_POINTS", "").split(",") if n]
    expect(set(only) <= set(names), "RG_KILL_POINTS names compiled-in points", only)
    names = only or names

    next_id = [0]

    def new_release(crash):
        next_id[0] += 1
        rid = next_id[0]
        body = ("release %d %s\n" % (rid, "crash" if crash else "ok")).encode()
        double.add_release(rid, rid, body + os.urandom(256 * 1024))
        return rid

    # Baseline: the agent converges on a first good release.
    double.desired = new_release(False)
    p = lab.start()
    wait_converged(lab, double.desired, True, "baseline")
    p.send_signal(signal.SIGTERM)
    expect(p.wait(20) == 0, "clean stop on SIGTERM")

    runs = consistent_runs = midway = 0
    slowest, started = 0.0, time.monotonic()
    reached = set()
    durations = []
    good = [double.desired]  # confirmed good releases, oldest first
    plan = ([(fp, None) for fp in names for _ in range(REPEAT)]
            + [(None, i) for i in range(RANDOM_RUNS)])
    # Scenarios: a new good release, a new crashing one (reverted after K
    # starts), the desired release moving back to the previous good one
    # (halt/rollback: straight switch), and moving back during a trial.
    kinds = ["good", "crash", "back", "abandon"]
    last_kind = "good"
    for n, (fp, i) in enumerate(plan):
        if fp and fp.startswith("rollback"):
            kind = "back" if n % 2 else "abandon"
        elif fp and fp.startswith("revert"):
            kind = "crash"
        elif fp:
            kind = "good"
        else:
            kind = rnd.choice(kinds)
        if kind in ("back", "abandon") and len(good) < 2:
            kind = "good"
        if kind == "back" and last_kind == "crash":
            # The other slot holds the reverted crashing release, not
            # good[-2]: moving back would be a fresh download, not the
            # switch back to the other slot this run is about. Converge on
            # a new good release first so that the other slot holds one.
            double.desired = new_release(False)
            p = lab.start()
            wait_converged(lab, double.desired, True, "before moving back")
            p.send_signal(signal.SIGTERM)
            expect(p.wait(20) == 0, "clean stop on SIGTERM")
            good.append(double.desired)
        last_kind = kind
        t0 = time.monotonic()
        if kind == "back":
            want = good[-2]
            double.desired = want
            p = lab.start(failpoint=fp)
        elif kind == "abandon":
            fresh = new_release(False)
            double.desired = fresh
            p = lab.start()
            try:
                wait_for(lab.trial_running, 30, "trial of %d" % fresh)
            except rg.Failure:
                pass
            want = good[-1]
            double.desired = want
            if fp:  # restart under the fail point, mid-trial
                p.kill()
                p.wait()
                p = lab.start(failpoint=fp)
        else:
            want = new_release(kind == "crash")
            double.desired = want
            p = lab.start(failpoint=fp)
        expect_good = "back" if kind in ("back", "abandon") else kind == "good"
        if fp:
            # A point this scenario does not pass through lets the run
            # finish; it is then stopped like a random kill.
            try:
                p.wait(20)
                if p.returncode == -signal.SIGKILL:
                    reached.add(fp)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        else:
            budget = sorted(durations)[len(durations) // 2] if durations else 1.0
            try:
                p.wait(rnd.uniform(0, budget))
            except subprocess.TimeoutExpired:
                pass
            p.kill()
            p.wait()
        runs += 1
        midway += not converged(lab, want, expect_good)
        ok, why = consistent(lab.state)
        if not ok:
            print("run %d (%s, %s): INCONSISTENT after kill: %s" % (runs, fp or "random", kind, why))
            continue
        p = lab.start()
        counted = False
        try:
            took = wait_converged(lab, want, expect_good,
                                  "convergence after %s" % (fp or "random kill"))
            slowest = max(slowest, took)
            ok, why = consistent(lab.state)
            if ok:
                consistent_runs += 1
                counted = True
            else:
                print("run %d: INCONSISTENT after convergence: %s" % (runs, why))
        except rg.Failure as e:
            print("run %d (%s, release %d, %s): %s; %s" % (runs, fp or "random", want, kind,
                                                          e, lab.describe(want)))
        finally:
            p.send_signal(signal.SIGTERM)
            try:
                # -SIGTERM: stopped before it installed its handlers
                # (the previous run had already converged).
                if p.wait(20) not in (0, -signal.SIGTERM):
                    consistent_runs -= counted
                    print("run %d: agent exited %d on SIGTERM" % (runs, p.returncode))
            except subprocess.TimeoutExpired:
                consistent_runs -= counted
                print("run %d: agent did not stop on SIGTERM" % runs)
                p.kill()
                p.wait()
        if kind == "good":
            good.append(want)
        elif kind in ("back", "abandon"):
            good.append(want)
        durations.append(time.monotonic() - t0)
        if runs % 25 == 0 or runs == len(plan):
            print("kill test: %d of %d runs, %d consistent and converged, slowest "
                  "convergence %.1f s, %.0f s so far"
                  % (runs, len(plan), consistent_runs, slowest, time.monotonic() - started),
                  flush=True)
    # A server announcing fewer bytes than it sends: the download is cut at
    # the announced size and never reaches a slot.
    before = lab.active_release()
    liar = new_release(False)
    double.lie[double.releases[liar][1]] = 1000
    double.desired = liar
    p = lab.start()
    start = double.checkins
    wait_for(lambda: double.checkins >= start + 5, 60, "check-ins with the oversized artifact")
    p.send_signal(signal.SIGTERM)
    expect(p.wait(20) == 0, "clean stop")
    expect(lab.active_release() == before and not double.seen("applying", liar),
           "an oversized artifact is refused", lab.active_release(), before)
    if "apply.during_download" in names:  # the run that surely cuts one
        expect(double.ranges > 0, "interrupted downloads resumed with Range", double.ranges)

    print("kill test: %d runs (%d killed before the agent had converged), %d consistent "
          "and converged; %d of %d fail points reached"
          % (runs, midway, consistent_runs, len(reached), len(names)))
    expect(consistent_runs == runs, "every run consistent and converged", runs, consistent_runs)
    expect(reached == set(names), "every fail point reached", sorted(set(names) - reached))
    srv.shutdown()
    shutil.rmtree(lab.tmp, ignore_errors=True)


if __name__ == "__main__":
    rg.run(main)
