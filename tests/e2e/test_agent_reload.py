"""rollgate-agent reads its configuration file again on SIGHUP (issue 13),
a real agent against a real rollgated, observed over HTTP:

1. Interval: started with `interval = 3600` the agent checks in at start
   and then not for an hour; the file says `interval = 0.5`, SIGHUP: the
   server sees it check in again and again (GET /v1/endpoints/ID,
   last_seen_ms), and the log says `reload: interval: '3600' -> '0.5'`.
2. A channel: the file gains a `[channel config]` section, SIGHUP: the
   agent installs the release the server offers on `config` (which it
   ignored before: it installs only configured channels).
3. A setting that takes a restart (`server`): logged as such, the agent
   keeps checking in with the server it started with.
4. A broken file (an unknown key, then a bad value): "reload refused,
   nothing changed"; the agent keeps running with the configuration in
   effect (still checking in every 0.5 s, both channels installed).
# ctest-labels: ops
"""
import os
import signal
import subprocess
import time

import rg
from rg import expect
from test_agent_channels import roll_out

DEADLINE_S = 60  # bound on every wait (never an assertion)
EID = "reload-1"


def endpoint(srv):
    st, ep = srv.request("GET", "/v1/endpoints/" + EID)
    return ep if st == 200 else None


def wait(what, cond, evidence=lambda: None):
    deadline = time.monotonic() + DEADLINE_S
    while True:
        v = cond()
        if v:
            return v
        expect(time.monotonic() < deadline, what, evidence())
        time.sleep(0.1)


def check_ins(srv, n):
    """Waits until the server saw n more check-ins of the endpoint (n
    different last_seen_ms values after the current one)."""
    seen = {endpoint(srv)["last_seen_ms"]}
    wait("%d more check-ins" % n,
         lambda: seen.add(endpoint(srv)["last_seen_ms"]) or len(seen) > n)


class Agent:
    def __init__(self, srv, key):
        self.srv, self.key = srv, key
        self.conf = os.path.join(srv.tmp, "agent.conf")
        self.log_path = os.path.join(srv.tmp, "agent.log")
        self.state = os.path.join(srv.tmp, "state")

    def write(self, interval, channels, extra="", server=None):
        with open(self.conf, "w") as f:
            f.write("server = %s\nenrollment_key = %s\nstate_dir = %s\n"
                    "endpoint_id = %s\nos = linux\nos_version = 6\n"
                    "arch = x86_64\ntimeout = 5\nsettle = 0\ninsecure = true\n"
                    "interval = %s\n%s%s" % (
                        server or self.srv.url, self.key, self.state, EID,
                        interval, self.srv.agent_conf_lines(), extra))
            for c in channels:
                f.write("[channel %s]\n" % c)

    def start(self):
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [rg.binary("rollgate-agent"), "--config", self.conf],
            stdout=self.log, stderr=self.log)

    def text(self):
        with open(self.log_path) as f:
            return f.read()

    def hup(self, line):
        """SIGHUP, then waits for the log line ending the reload."""
        before = self.text().count(line)
        self.proc.send_signal(signal.SIGHUP)
        wait("log: " + line, lambda: self.text().count(line) > before)
        expect(self.proc.poll() is None, "the agent still runs", self.text())

    def installed(self, channel):
        return os.path.exists(os.path.join(self.state, "channels", channel,
                                           "active", "content"))

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        expect(self.proc.wait(30) == 0, "clean stop", self.text())
        self.log.close()


def main():
    with rg.Server() as srv:
        srv.start()
        st, key = srv.request("POST", "/v1/enrollment-keys", {})
        expect(st == 201, "enrollment key", st, key)
        det = roll_out(srv, "detections")
        cfg = roll_out(srv, "config")
        a = Agent(srv, key["key"])
        a.write(3600, ["detections"])
        # Enrolled first (one pass), so that its first check-in as a daemon
        # is offered detections: after it, the next is an hour away.
        p = subprocess.run([rg.binary("rollgate-agent"), "--config", a.conf,
                            "once"], capture_output=True, text=True, timeout=60)
        expect(p.returncode == 0, "rollgate-agent once", p.stderr)
        wait("the rollouts measured with the endpoint in their fleet",
             lambda: all((r["counts"] or {}).get("fleet") == 1 for r in
                         srv.request("GET", "/v1/rollouts")[1]["rollouts"]))
        a.start()
        try:
            wait("detections installed", lambda: a.installed("detections"),
                 a.text)
            # 1. the interval, live
            a.write(0.5, ["detections"])
            a.hup("reload: 1 setting applied")
            expect("reload: interval: '3600' -> '0.5'" in a.text(),
                   "the change is logged", a.text())
            check_ins(srv, 3)
            expect(endpoint(srv)["installed"]["detections"]["release"] == det,
                   "the server sees detections installed", endpoint(srv))
            expect(not a.installed("config"), "config is not configured yet")
            # 2. a channel, live
            a.write(0.5, ["detections", "config"])
            a.hup("reload: [channel config] added")
            wait("config installed, as the server sees it", lambda:
                 endpoint(srv)["installed"].get("config", {}).get("release")
                 == cfg)
            expect(a.installed("config"), "config's content on disk")
            # 3. a setting that takes a restart
            both = ["detections", "config"]
            a.write(0.5, both, "backoff_max = 7\n", "http://127.0.0.1:9")
            a.hup("reload: 1 setting applied")
            expect("reload: server changed to 'http://127.0.0.1:9' but takes "
                   "a restart: still '%s'" % srv.url in a.text(),
                   "server takes a restart", a.text())
            expect("reload: backoff_max: '300' -> '7'" in a.text(),
                   "backoff_max applied", a.text())
            check_ins(srv, 3)
            # 4. broken files change nothing
            for broken, why in (("intervall = 1\n", "unknown key 'intervall'"),
                                ("interval = soon\n", "must be seconds")):
                a.write(0.5, both, "backoff_max = 7\n" + broken)
                a.hup("reload refused, nothing changed")
                expect(why in a.text(), "the reason is logged", why, a.text())
                check_ins(srv, 3)
            expect(a.text().count("reload: interval:") == 1,
                   "no broken value was applied", a.text())
            expect(a.installed("detections") and a.installed("config"),
                   "both channels still installed")
        finally:
            a.stop()
        print("agent reload: interval 3600 -> 0.5 s and a channel added by "
              "SIGHUP, server kept (restart), broken files refused")


if __name__ == "__main__":
    rg.run(main)
