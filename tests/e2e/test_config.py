"""rollgated's configuration file and SIGHUP reload (issue 13), through the
real binary:

0. examples/rollgated.conf loads and names every key, and
   docs/operations.md describes every key.
1. A server started from a file alone (`rollgated --config FILE`: data
   directory, listen address, access log in the file) serves, and
   --print-config names the file and line of each value; `rollgated init
   --config FILE` creates the data directory the file names.
2. Flags win over the file (--print-config says "--NAME"; the access log
   the file asks for stays empty under --access-log off).
3. Every class of bad file is refused before anything starts: exit 2, a
   message naming FILE:LINE and the key, the port not listening, the
   access log the file names not created.
4. SIGHUP with changed live keys: the access log turns on; a failed-
   authentication limit starts answering 429; agents are handed the new
   check-in interval; logrotate (file moved, then SIGHUP) gets a new file.
5. SIGHUP with a restart-only key (listen): logged as not applied, the
   server stays on its port.
6. SIGHUP with a broken file: logged, nothing changes (the limit and the
   access log stay as they were).
7. SIGHUP under load: admin calls and agent check-ins from several
   connections keep succeeding through many reloads, each check-in handed
   one of the configured intervals.
# ctest-labels: ops
"""
import os
import signal
import socket
import subprocess
import threading
import time

import rg
from rg import expect

DEADLINE_S = 30  # bound on polling observable state (never an assertion)


def poll(what, fn, *evidence):
    """Polls fn() until it returns a true value (returned) or the deadline."""
    deadline = time.monotonic() + DEADLINE_S
    while True:
        v = fn()
        if v:
            return v
        expect(time.monotonic() < deadline, what, *[e() for e in evidence])
        time.sleep(0.05)


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def write(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.rename(path + ".tmp", path)


def listening(port):
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


class Daemon:
    """rollgated started with `--config FILE` and the extra flags only."""

    def __init__(self, srv, conf, *flags):
        self.srv, self.log = srv, os.path.join(srv.tmp, "daemon.log")
        self.out = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [rg.binary("rollgated"), "--config", conf] + list(flags),
            stdout=self.out, stderr=self.out)
        poll("rollgated serves from its config file", self.healthy, self.text)
        self.client = rg.Client(srv.port, srv.token)

    def healthy(self):
        expect(self.proc.poll() is None, "rollgated exited", self.text())
        try:
            return rg.Client(self.srv.port, timeout=2).request(
                "GET", "/healthz", token="")[0] == 200
        except OSError:
            return False

    def text(self):
        return read(self.log)

    def hup(self, expect_in_log):
        """SIGHUP, then waits for one more log line holding expect_in_log."""
        before = self.text().count(expect_in_log)
        self.proc.send_signal(signal.SIGHUP)
        poll("reload logged: " + expect_in_log,
             lambda: self.text().count(expect_in_log) > before, self.text)

    def stop(self):
        self.client.close()
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(60)
        self.out.close()
        expect(rc == 0, "rollgated stops cleanly", rc, self.text())


def base(srv, **keys):
    lines = ["# rollgated, test_config", "data = " + srv.data,
             "listen = 127.0.0.1:%d" % srv.port]
    lines += ["%s = %s" % kv for kv in keys.items()]
    return "\n".join(lines) + "\n"


def bad_token(d):
    return d.client.request("GET", "/v1/channels", token="0" * 64)[0]


def enroll_interval(d, n):
    """Enrolls endpoint n; returns the check-in interval it is handed."""
    st, key = d.client.request("POST", "/v1/enrollment-keys", {})
    expect(st == 201, "enrollment key", st, key)
    st, b = d.client.request("POST", "/v1/agent/enroll", {
        "enrollment_key": key["key"], "endpoint_id": "host-%d" % n,
        "attributes": {"os": "linux", "os_version": "6", "arch": "x86_64"}},
        token="")
    expect(st == 200, "enroll", st, b)
    return b["interval_s"]


def from_file_and_flags(srv, conf, alog):
    write(conf, base(srv, access_log=alog, auth_fail_burst=0))
    out = subprocess.run([rg.binary("rollgated"), "--config", conf,
                          "--print-config", "--interval", "30"],
                         capture_output=True, text=True, timeout=60)
    expect(out.returncode == 0, "--print-config", out.stderr)
    want = ["# %s:2, restart\ndata = %s\n" % (conf, srv.data),
            "# %s:4, live\naccess_log = %s\n" % (conf, alog),
            "# --interval, live\ninterval = 30\n",
            "# default, live\nevent_burst = 256\n"]
    for w in want:
        expect(w in out.stdout, "print-config shows", w, out.stdout)

    d = Daemon(srv, conf)
    st, _ = d.client.request("GET", "/v1/channels")
    expect(st == 200, "admin call on the server of the file", st)
    poll("access line in the file's access log",
         lambda: "GET /v1/channels 200" in read(alog), lambda: read(alog))
    d.stop()

    os.unlink(alog)
    d = Daemon(srv, conf, "--access-log", "off")
    st, _ = d.client.request("GET", "/v1/channels")
    expect(st == 200, "admin call", st)
    d.stop()
    expect(not os.path.exists(alog), "--access-log off wins over the file",
           read(alog))


def init_from_file(srv, tmp):
    data = os.path.join(tmp, "data2")
    conf = os.path.join(tmp, "init.conf")
    write(conf, "data = %s\n" % data)
    out = subprocess.run([rg.binary("rollgated"), "init", "--config", conf],
                         capture_output=True, text=True, timeout=60)
    expect(out.returncode == 0 and os.path.exists(os.path.join(data, "rollgate.db")),
           "init --config creates the file's data directory", out.stdout, out.stderr)


def bad_files(srv, tmp):
    alog = os.path.join(tmp, "never.log")
    cases = [
        ("unknown key", "colour = blue\n", ":4: unknown key 'colour'"),
        ("bad value", "event_burst = lots\n", ":4: 'event_burst': expected"),
        ("out of range", "threads = 0\n", ":4: 'threads': expected"),
        ("no '='", "interval 30\n", ":4: expected 'key = value'"),
        ("flag spelling", "access-log = off\n", ":4: unknown key 'access-log'"),
        ("set twice", "data = /tmp\n", ":4: 'data' set twice"),
        ("section", "[server]\n", ":4: sections"),
        ("missing directory", "engine_dir = /nonexistent/x\n",
         ":4: 'engine_dir': expected an existing directory"),
        ("TLS half", "tls_cert = /etc/hostname\n", "tls-cert and tls-key go together"),
    ]
    for what, line, msg in cases:
        conf = os.path.join(tmp, "bad.conf")
        write(conf, base(srv) + line.replace("\n", "") + "\naccess_log = %s\n" % alog)
        out = subprocess.run([rg.binary("rollgated"), "--config", conf],
                             capture_output=True, text=True, timeout=60)
        expect(out.returncode == 2, "bad file refused: " + what, out.returncode,
               out.stderr)
        expect(msg in out.stderr and "rollgated: " in out.stderr,
               "the message names file, line and key: " + what, msg, out.stderr)
        expect(what == "TLS half" or conf in out.stderr, "names the file", out.stderr)
        expect(not listening(srv.port), "nothing listens after: " + what)
        expect(not os.path.exists(alog), "nothing opened after: " + what)
    out = subprocess.run([rg.binary("rollgated"), "--config",
                          os.path.join(tmp, "missing.conf")],
                         capture_output=True, text=True, timeout=60)
    expect(out.returncode == 2 and "missing.conf" in out.stderr,
           "a missing file is refused", out.returncode, out.stderr)


def reloads(srv, conf, alog):
    write(conf, base(srv, access_log="off", auth_fail_burst=0))
    d = Daemon(srv, conf)
    for _ in range(5):
        expect(bad_token(d) == 401, "no failed-auth limit yet")
    expect(not os.path.exists(alog), "access log off")
    expect(enroll_interval(d, 1) == 60, "the default interval")

    # Live keys: the access log turns on, the limit starts answering 429,
    # agents are handed the new interval.
    write(conf, base(srv, access_log=alog, auth_fail_burst=2,
                     auth_fail_per_min=1, interval=17))
    d.hup("reload: 4 settings applied")
    expect(enroll_interval(d, 2) == 17, "the reloaded interval")
    expect("reload: auth_fail_burst: '0' -> '2' (%s:5)" % conf in d.text(),
           "the change is logged with its line", d.text())
    codes = [bad_token(d) for _ in range(4)]
    expect(codes[:2] == [401, 401] and codes[3] == 429,
           "the new limit answers 429 once the burst is spent", codes)
    st, _ = d.client.request("GET", "/v1/channels")
    expect(st == 200, "good calls are not limited", st)
    poll("access log on after the reload",
         lambda: "GET /v1/channels 200" in read(alog), lambda: read(alog))

    # logrotate: move the file, SIGHUP, the new lines go to a new file.
    os.rename(alog, alog + ".1")
    d.hup("reload: 0 settings applied")
    st, _ = d.client.request("GET", "/v1/tokens")
    expect(st == 200, "admin call", st)
    poll("a new access log after logrotate's move",
         lambda: "GET /v1/tokens 200" in read(alog), lambda: read(alog))
    expect("/v1/tokens" not in read(alog + ".1"), "the moved file gets no more")

    # Restart-only key: logged, not applied.
    other = rg.free_port()
    write(conf, base(srv, access_log=alog, auth_fail_burst=2, auth_fail_per_min=1,
                     interval=17).replace(str(srv.port), str(other)))
    d.hup("reload: listen changed to '127.0.0.1:%d'" % other)
    expect("takes a restart: still '127.0.0.1:%d'" % srv.port in d.text(),
           "names the restart key", d.text())
    expect(d.healthy() and not listening(other), "still on the old port")

    # A broken file changes nothing.
    write(conf, base(srv, access_log="off", auth_fail_burst=0) + "bogus = 1\n")
    d.hup("reload refused, nothing changed: %s:6: unknown key 'bogus'" % conf)
    expect(bad_token(d) == 429, "the limit still holds")
    st, _ = d.client.request("GET", "/v1/audit")
    poll("the access log still writes", lambda: "GET /v1/audit" in read(alog),
         lambda: read(alog))
    d.stop()


def under_load(srv, conf, alog):
    write(conf, base(srv, access_log=alog))
    d = Daemon(srv, conf, "--threads", "4")
    st, key = d.client.request("POST", "/v1/enrollment-keys", {})
    expect(st == 201, "enrollment key", st, key)
    tokens = []
    for n in range(2):
        st, b = d.client.request("POST", "/v1/agent/enroll", {
            "enrollment_key": key["key"], "endpoint_id": "load-%d" % n,
            "attributes": {"os": "linux", "os_version": "6", "arch": "x86_64"}},
            token="")
        expect(st == 200, "enroll", st, b)
        tokens.append(b["token"])
    stop, results, lock = threading.Event(), [], threading.Lock()

    def admin():
        c = rg.Client(srv.port, srv.token)
        while not stop.is_set():
            st, _ = c.request("GET", "/v1/channels")
            with lock:
                results.append((st, None))
        c.close()

    def agent(n):
        c = rg.Client(srv.port, tokens[n])
        while not stop.is_set():
            st, b = c.request("POST", "/v1/agent/checkin", {
                "endpoint_id": "load-%d" % n, "installed": {}, "events": []})
            with lock:
                results.append((st, b.get("interval_s") if st == 200 else b))
        c.close()

    workers = [threading.Thread(target=admin) for _ in range(2)]
    workers += [threading.Thread(target=agent, args=(n,)) for n in range(2)]
    for w in workers:
        w.start()
    try:
        for i in range(20):
            write(conf, base(srv, access_log=alog if i % 2 else "off",
                             event_burst=100 + i, interval=30 + i % 2))
            d.hup("settings applied")
    finally:
        stop.set()
        for w in workers:
            w.join(60)
    bad = [r for r in results if r[0] != 200 or r[1] not in (None, 30, 31, 60)]
    checkins = [r for r in results if r[1] is not None]
    expect(len(results) > 40 and checkins and not bad,
           "every request under reloads succeeds, each check-in handed a "
           "configured interval", len(results), len(checkins), bad[:5])
    d.stop()


def example_and_docs(srv):
    """examples/rollgated.conf loads and names every key; docs/operations.md
    has a row for every key (--print-config lists them)."""
    example = os.path.join(rg.SOURCE_DIR, "examples", "rollgated.conf")
    out = subprocess.run([rg.binary("rollgated"), "--config", example,
                          "--access-log", "off", "--print-config"],
                         capture_output=True, text=True, timeout=60)
    expect(out.returncode == 0, "the example loads", out.stderr)
    expect("# %s:10, restart\ndata = /var/lib/rollgated" % example in out.stdout,
           "its values come from it", out.stdout)
    keys = [l.split(" = ")[0].lstrip("# ") for l in out.stdout.splitlines()
            if " = " in l]
    expect(len(keys) > 20, "print-config lists the keys", keys)
    text, docs = read(example), read(os.path.join(rg.SOURCE_DIR, "docs",
                                                  "operations.md"))
    for k in keys:
        expect(k + " = " in text, "the example names " + k)
        expect("`%s`" % k in docs, "docs/operations.md describes " + k)
    man = read(os.path.join(rg.BUILD_DIR, "man", "rollgated.8"))
    expect("--config FILE" in man and "--print-config" in man,
           "the man page (scripts/manpage.py) shows --config", man[:600])


def main():
    with rg.Server() as srv:
        conf = os.path.join(srv.tmp, "rollgated.conf")
        alog = os.path.join(srv.tmp, "access.log")
        example_and_docs(srv)
        from_file_and_flags(srv, conf, alog)
        init_from_file(srv, srv.tmp)
        bad_files(srv, srv.tmp)
        reloads(srv, conf, alog)
        under_load(srv, conf, alog)
    print("ok")


if __name__ == "__main__":
    main()
