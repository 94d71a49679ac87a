"""Shared by the e2e tests that put real rollgate-agent processes behind a
man in the middle (not a test itself: CTest runs test_*.py only).

Proxy forwards to rollgated and may rewrite check-in answers or serve
artifact downloads itself; Agent runs one rollgate-agent through it;
publish() makes a channel, unsigned releases and an enrollment key;
Elsewhere is another host serving fixed bytes (a mirror, a bad one).
"""
import http.client
import http.server
import json
import os
import signal
import subprocess
import threading
import time

import rg
from rg import expect

CONSUMER = os.path.join(rg.SOURCE_DIR, "tests", "e2e", "consumer", "consumer.sh")
# Channel lines that make an Agent supervise the sample consumer.
CONSUMER_LINES = ("consumer = exec %s \"$RG_CONTENT\" \"$RG_STATE_DIR/running\"\n"
                  % CONSUMER)

HOLD = {"name": "hold", "on_halt": "revert", "waves": [
    {"name": "everyone", "share": 100, "min_endpoints": 1, "min_bake_s": 3600,
     "max_bake_s": 0}]}


class Proxy:
    """A man in the middle: forwards to rollgated; rewrite(desired) may
    change check-in answers, serve(handler, sha) may answer artifact
    downloads itself. Records the failed events it saw acknowledged."""

    def __init__(self, upstream_port):
        self.upstream = upstream_port
        self.rewrite = None
        self.serve = None
        self.acked_failed = []
        self.checkins = 0
        self.requests = {}  # endpoint id -> every check-in body it sent
        self.lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def forward(self, method):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else None
                hdrs = {k: v for k, v in self.headers.items()
                        if k.lower() in ("authorization", "content-type", "range")}
                c = http.client.HTTPConnection("127.0.0.1", proxy.upstream, timeout=30)
                c.request(method, self.path, body=body, headers=hdrs)
                r = c.getresponse()
                data = r.read()
                status, ctype = r.status, r.getheader("Content-Type") or ""
                c.close()
                if self.path == "/v1/agent/checkin" and status == 200:
                    data = proxy.on_checkin(json.loads(body), json.loads(data))
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                self.forward("POST")

            def do_GET(self):
                prefix = "/v1/agent/artifacts/"
                if self.path.startswith(prefix) and proxy.serve:
                    proxy.serve(self, self.path[len(prefix):])
                    return
                self.forward("GET")

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def on_checkin(self, req, resp):
        acks = set(resp.get("acks", []))
        with self.lock:
            self.checkins += 1
            self.requests.setdefault(req.get("endpoint_id"), []).append(req)
            for ev in req.get("events", []):
                if ev.get("type") == "failed" and ev.get("id") in acks:
                    self.acked_failed.append((req.get("endpoint_id"), ev))
        if self.rewrite:
            desired = resp.setdefault("desired", {})
            self.rewrite(desired)
        return json.dumps(resp).encode()

    def failed_for(self, eid):
        with self.lock:
            return [ev for e, ev in self.acked_failed if e == eid]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def cli(srv, *args, ok=True):
    env = dict(os.environ, ROLLGATE_URL=srv.url, ROLLGATE_TOKEN=srv.token)
    env.update(srv.cli_env())
    out = subprocess.run([rg.binary("rollgate")] + list(args), capture_output=True,
                         text=True, timeout=60, env=env, cwd=srv.tmp)
    if ok:
        expect(out.returncode == 0, "rollgate " + " ".join(args), out.stdout, out.stderr)
    return out


def signed_release(srv, channel, version, keys=()):
    """Release version on channel (its bytes "rule CHANNEL VERSION"), made
    by the CLI and signed with each key file named in keys (in srv.tmp);
    returns its id."""
    path = os.path.join(srv.tmp, "art")
    with open(path, "wb") as f:
        f.write(b"rule %s %d\n" % (channel.encode(), version))
    args = ["--json", "release", "create", "--channel", channel, "--file", path,
            "--version", str(version), "--notes", "%s v%d" % (channel, version)]
    for k in keys:
        args += ["--sign", os.path.join(srv.tmp, k)]
    return json.loads(cli(srv, *args).stdout)["id"]


class Elsewhere:
    """Another host: records (path, headers) of every GET and answers
    each with data."""

    def __init__(self, data):
        self.seen = []
        me = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                me.seen.append((self.path, dict(self.headers.items())))
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class Agent:
    def __init__(self, srv, proxy, key, eid, pin_lines, tags="", channel_lines="",
                 args=()):
        self.id = eid
        self.dir = os.path.join(srv.tmp, eid)
        self.state = os.path.join(self.dir, "state")
        self.conf = os.path.join(self.dir, "agent.conf")
        os.makedirs(self.dir)
        with open(self.conf, "w") as f:
            f.write("server = http://127.0.0.1:%d\nenrollment_key = %s\n"
                    "state_dir = %s\nendpoint_id = %s\nos = linux\nos_version = 6\n"
                    "arch = x86_64\ntags = %s\ninterval = 0.3\nbackoff_max = 1\n"
                    "timeout = 5\nsettle = 0\n%s[channel detections]\n%s"
                    % (proxy.port, key, self.state, eid, tags, pin_lines, channel_lines))
        self.log_path = os.path.join(self.dir, "agent.log")
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([rg.binary("rollgate-agent"), "--config", self.conf]
                                     + list(args),
                                     stdout=self.log, stderr=self.log)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(30)
        self.log.close()

    def status(self):
        out = subprocess.run([rg.binary("rollgate-agent"), "--config", self.conf,
                              "status", "--json"], capture_output=True, text=True,
                             timeout=60)
        expect(out.returncode == 0, "agent status", out.stdout, out.stderr)
        return json.loads(out.stdout)

    def channel(self):
        for c in self.status()["channels"]:
            if c["name"] == "detections":
                return c
        return None

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")


def wait_for(cond, timeout, what):
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise rg.Failure("timed out waiting for " + what)
        time.sleep(0.1)


def entry(rel, meta):
    """A desired entry for release rel carrying metadata meta."""
    return {"release": rel["id"], "version": rel["version"], "sha256": rel["sha256"],
            "size": rel["size"], "url": "/v1/agent/artifacts/" + rel["sha256"],
            "rollout": None, "metadata": meta}


def publish(srv, contents):
    """Channel "detections", one unsigned release per content (versions 1,
    2, ...) and an enrollment key: returns ({version: release}, key)."""
    st, b = srv.request("POST", "/v1/channels", {"name": "detections"})
    expect(st == 201, "channel", st, b)
    rels = {}
    for v, data in enumerate(contents, 1):
        st, art = srv.upload(data)
        expect(st in (200, 201), "artifact", st, art)
        st, rels[v] = srv.request("POST", "/v1/releases", {
            "channel": "detections", "version": v, "artifact": art["sha256"],
            "notes": "v%d" % v, "urgency": "standard"})
        expect(st == 201, "release v%d" % v, st, rels[v])
    st, key = srv.request("POST", "/v1/enrollment-keys", {})
    expect(st == 201, "enrollment key", st, key)
    return rels, key["key"]


def rollout(srv, rel):
    """Starts a rollout of rel to everyone, held in its one wave; its id."""
    st, b = srv.request("POST", "/v1/rollouts", {"release": rel["id"], "plan": HOLD})
    expect(st == 201, "rollout of release %d" % rel["id"], st, b)
    return b["id"]


def abort(srv, ro):
    """Aborts rollout ro (whatever its state) to make way for the next."""
    srv.request("POST", "/v1/rollouts/%d/abort" % ro, {"reason": "next"})
