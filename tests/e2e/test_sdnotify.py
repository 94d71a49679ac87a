"""systemd's notify protocol (issue 13; docs/operations.md, "systemd"):
rollgated and rollgate-agent started as a Type=notify unit would start
them, with NOTIFY_SOCKET naming a datagram socket this test owns and
WATCHDOG_USEC set (as systemd sets them).

- rollgated sends READY=1 only once it serves: the first /healthz after
  READY=1 answers, with no retry; its STATUS= says where it listens; a
  rollgated that cannot start (no data directory) exits without it;
- WATCHDOG=1 keeps arriving from the orchestrator's tick loop even with a
  tick period (--tick-ms 600000) far longer than the watchdog's: the loop
  wakes for it;
- SIGHUP (systemctl reload): RELOADING=1, then READY=1 once reloaded;
- SIGTERM: STOPPING=1, then a clean exit;
- rollgate-agent likewise: READY=1 once its channels are open and
  recovered (its `status` then answers), STATUS= after its first
  check-in, WATCHDOG=1 while its next check-in is a minute away,
  STOPPING=1 on SIGTERM.
# ctest-labels: ops
"""
import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.request

import rg
from rg import expect

WATCHDOG_USEC = 400000  # keep-alives every 200 ms
DEADLINE_S = 60         # bound on every wait (never an assertion)


class NotifySocket:
    """A bound AF_UNIX datagram socket collecting notify messages."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.messages = []  # each a list of KEY=VALUE lines

    def env(self):
        return dict(os.environ, NOTIFY_SOCKET=self.path,
                    WATCHDOG_USEC=str(WATCHDOG_USEC))

    def wait_for(self, what, cond, proc):
        """Receives messages until cond(lines) holds for one; returns its
        lines. Fails when proc exits or DEADLINE_S passes first."""
        deadline = time.monotonic() + DEADLINE_S
        while True:
            for m in self.messages:
                if cond(m):
                    self.messages.remove(m)
                    return m
            expect(time.monotonic() < deadline, "timed out waiting for " + what,
                   self.messages[-5:])
            exited = proc.poll() is not None  # before: its last words count
            self.sock.settimeout(0 if exited else 1)
            try:
                data = self.sock.recv(4096)
            except (socket.timeout, BlockingIOError):
                expect(not exited, what + ": the process exited",
                       proc.returncode, self.messages[-5:])
                continue
            self.messages.append(data.decode().split("\n"))

    def wait_watchdogs(self, n, proc):
        for _ in range(n):
            self.wait_for("WATCHDOG=1", lambda m: "WATCHDOG=1" in m, proc)

    def close(self):
        self.sock.close()


def status_of(lines):
    return next((l[7:] for l in lines if l.startswith("STATUS=")), "")


@contextlib.contextmanager
def killed_after(proc):
    """Yields proc; kills it at the end if it still runs (a failed test)."""
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def stop(proc, ns, what):
    proc.send_signal(signal.SIGTERM)
    ns.wait_for(what + ": STOPPING=1", lambda m: "STOPPING=1" in m, proc)
    expect(proc.wait(DEADLINE_S) == 0, what + " exits cleanly", proc.returncode)


def refused_start(srv, ns):
    p = subprocess.run([rg.binary("rollgated"), "--data",
                        os.path.join(srv.tmp, "missing"), "--listen",
                        "127.0.0.1:%d" % rg.free_port()], env=ns.env(),
                       capture_output=True, text=True, timeout=DEADLINE_S)
    expect(p.returncode != 0 and "rollgated init" in p.stderr,
           "rollgated without a data directory refuses to start", p.stderr)
    ns.sock.settimeout(0)
    sent = []
    try:
        while True:
            sent.append(ns.sock.recv(4096).decode())
    except BlockingIOError:
        pass  # every datagram it sent has been read
    expect(not any("READY=1" in m for m in sent),
           "no READY=1 from a refused start", sent)


def server(srv, ns):
    with open(srv.log_path, "ab") as log:
        proc = subprocess.Popen(
            [rg.binary("rollgated"), "--data", srv.data, "--listen",
             "127.0.0.1:%d" % srv.port, "--tick-ms", "600000"],
            env=ns.env(), stdout=log, stderr=log)
    with killed_after(proc):
        ready = ns.wait_for("rollgated READY=1", lambda m: "READY=1" in m, proc)
        with urllib.request.urlopen(srv.url + "/healthz", timeout=10) as r:
            expect(r.status == 200, "/healthz answers at READY=1", r.status)
        expect("127.0.0.1:%d" % srv.port in status_of(ready) and
               srv.data in status_of(ready), "rollgated's STATUS at READY",
               ready)
        ns.wait_watchdogs(3, proc)
        proc.send_signal(signal.SIGHUP)
        ns.wait_for("RELOADING=1", lambda m: "RELOADING=1" in m, proc)
        ns.wait_for("READY=1 after the reload", lambda m: "READY=1" in m, proc)
        stop(proc, ns, "rollgated")


def agent(srv, ns):
    st, body = srv.request("POST", "/v1/enrollment-keys", {})
    expect(st == 201, "enrollment key", st, body)
    adir = os.path.join(srv.tmp, "agent")
    os.makedirs(adir)
    conf = os.path.join(adir, "agent.conf")
    with open(conf, "w") as f:
        f.write("server = %s\nenrollment_key = %s\nstate_dir = %s\n"
                "endpoint_id = notify-1\ninterval = 60\ninsecure = true\n%s"
                "[channel detections]\n"
                % (srv.url, body["key"], os.path.join(adir, "state"),
                   srv.agent_conf_lines()))
    with open(os.path.join(adir, "agent.log"), "ab") as log:
        proc = subprocess.Popen([rg.binary("rollgate-agent"), "--config", conf],
                                env=ns.env(), stdout=log, stderr=log)
    with killed_after(proc):
        ready = ns.wait_for("agent READY=1", lambda m: "READY=1" in m, proc)
        expect("1 channels" in status_of(ready) and srv.url in status_of(ready),
               "the agent's STATUS at READY", ready)
        out = subprocess.run([rg.binary("rollgate-agent"), "--config", conf,
                              "status", "--json"], capture_output=True,
                             text=True, timeout=DEADLINE_S)
        expect(out.returncode == 0 and '"detections"' in out.stdout,
               "the agent's state is there at READY", out.stdout, out.stderr)
        ns.wait_for("the agent's STATUS after a check-in",
                    lambda m: "the last one worked" in status_of(m), proc)
        ns.wait_watchdogs(3, proc)
        stop(proc, ns, "rollgate-agent")


def main():
    with rg.Server() as srv:
        ns = NotifySocket(os.path.join(srv.tmp, "notify.sock"))
        try:
            refused_start(srv, ns)
            server(srv, ns)
            srv.start()
            ns.messages.clear()
            agent(srv, ns)
            srv.stop()
        finally:
            ns.close()
    print("ok")


if __name__ == "__main__":
    rg.run(main)
