"""rg.py - the shared harness of Rollgate's end-to-end tests (stdlib only).

    import rg
    with rg.Server() as srv:           # temp data dir, `rollgated init`, free port
        srv.start()                    # starts rollgated, waits for /healthz
        st, body = srv.request("POST", "/v1/channels", {"name": "x"})
        rg.expect(st == 201, "create channel", st, body)
        srv.stop()                     # SIGTERM (SIGKILL after a timeout)

Binaries come from $RG_BUILD_DIR (set by CTest), data from $RG_SOURCE_DIR.
Every request helper returns (status, body): body is the parsed JSON when
the answer is JSON, else the raw bytes. srv.token is the admin token that
`rollgated init` printed on its last line.

TLS: with RG_E2E_TLS=1 in the environment (or Server(tls=True)) the server
gets a throwaway CA and server certificate made with openssl in its temp
directory and serves HTTPS; srv.url is https://..., every Client verifies
the certificate against srv.ca_file, and ROLLGATE_CA_FILE is exported to
child processes (srv.cli_env() gives it too; agents need
srv.agent_conf_lines()).
"""

import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("RG_SOURCE_DIR", os.path.dirname(os.path.dirname(HERE)))
BUILD_DIR = os.environ.get("RG_BUILD_DIR", os.path.join(SOURCE_DIR, "build"))
DATA_DIR = os.path.join(SOURCE_DIR, "tests", "data")

_BIN_DIRS = {"rollgated": "server", "rollgate": "cli", "rollgate-agent": "agent",
             "rollgate-sim": "sim", "rollgate-engine": "engine"}


class Failure(Exception):
    """A failed expectation (the message says what and shows the evidence)."""


def _clip(text, head=200, tail=1200):
    """text, or its head and tail when long: a log's last lines say most."""
    if len(text) <= head + tail:
        return text
    return text[:head] + " [...] " + text[-tail:]


def expect(cond, what, *evidence):
    """Raises Failure(what + evidence) unless cond holds."""
    if not cond:
        shown = " | ".join(_clip(repr(e)) for e in evidence)
        raise Failure(what + (": " + shown if shown else ""))


def binary(name):
    """Path of a built binary (rollgated, rollgate, rollgate-agent, ...)."""
    cand = [os.path.join(BUILD_DIR, "src", _BIN_DIRS.get(name, ""), name),
            os.path.join(BUILD_DIR, name)]
    for c in cand:
        if os.access(c, os.X_OK):
            return c
    raise Failure("binary %s not found under %s" % (name, BUILD_DIR))


def free_port():
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _decode(resp, raw):
    ctype = resp.getheader("Content-Type", "") or ""
    if ctype.startswith("application/json"):
        try:
            return json.loads(raw.decode("utf-8"))
        except ValueError:
            return raw
    return raw


def tls_wanted():
    """Whether this run serves over TLS (RG_E2E_TLS=1)."""
    return os.environ.get("RG_E2E_TLS", "") not in ("", "0")


def make_certs(directory, host="127.0.0.1"):
    """Creates a throwaway CA and a server certificate for host (an IP
    address; localhost is named too) signed by it, with openssl. Returns
    (ca_pem, cert_pem, key_pem) paths."""
    ca_key = os.path.join(directory, "ca.key")
    ca = os.path.join(directory, "ca.pem")
    key = os.path.join(directory, "server.key")
    csr = os.path.join(directory, "server.csr")
    cert = os.path.join(directory, "server.pem")
    ext = os.path.join(directory, "server.ext")
    with open(ext, "w") as f:
        f.write("subjectAltName = IP:%s, DNS:localhost\n"
                "basicConstraints = CA:FALSE\n"
                "keyUsage = digitalSignature\n"
                "extendedKeyUsage = serverAuth\n" % host)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    for cmd in (["openssl", "req", "-x509"] + ec + ["-keyout", ca_key, "-out", ca,
                 "-days", "2", "-subj", "/CN=rollgate e2e test CA"],
                ["openssl", "req"] + ec + ["-keyout", key, "-out", csr,
                 "-subj", "/CN=%s" % host],
                ["openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key,
                 "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", ext]):
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        expect(out.returncode == 0, "openssl failed: " + " ".join(cmd), out.stderr)
    return ca, cert, key


def _connect(port, timeout, ca_file):
    if ca_file:
        ctx = ssl.create_default_context(cafile=ca_file)
        return http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout,
                                           context=ctx)
    return http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)


class Client:
    """One keep-alive HTTP connection to a server (http.client underneath;
    HTTPS verified against ca_file when given). request() reconnects by
    itself when the server closed the connection."""

    def __init__(self, port, token=None, timeout=30, ca_file=None):
        self.port = port
        self.token = token
        self.timeout = timeout
        self.conn = _connect(port, timeout, ca_file)
        self.last = None  # the last http.client.HTTPResponse

    def request(self, method, path, body=None, token=None, headers=None, raw=None):
        """Sends one request. body (any JSON value) is serialised; raw (bytes
        or str) is sent as is instead. token=None uses the client's token;
        token="" sends no Authorization header. Returns (status, body)."""
        hdrs = dict(headers or {})
        tok = self.token if token is None else token
        if tok:
            hdrs["Authorization"] = "Bearer " + tok
        data = None
        if raw is not None:
            data = raw.encode("utf-8") if isinstance(raw, str) else raw
        elif body is not None:
            data = json.dumps(body).encode("utf-8")
            hdrs.setdefault("Content-Type", "application/json")
        if data is not None:
            hdrs.setdefault("Content-Length", str(len(data)))
        for attempt in (0, 1):
            try:
                self.conn.request(method, path, body=data, headers=hdrs)
                resp = self.conn.getresponse()
                payload = resp.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError,
                    BrokenPipeError, ssl.SSLEOFError):
                self.conn.close()
                if attempt:
                    raise
        self.last = resp
        if resp.will_close:
            self.conn.close()
        return resp.status, _decode(resp, payload)

    def close(self):
        self.conn.close()


class Server:
    """A rollgated in its own temp data directory on a free port."""

    def __init__(self, args=(), data_dir=None, init=True, tls=None):
        self.tmp = tempfile.mkdtemp(prefix="rg-e2e-")
        self.tls = tls_wanted() if tls is None else tls
        self.ca_file = self.cert_file = self.key_file = None
        if self.tls:
            self.ca_file, self.cert_file, self.key_file = make_certs(self.tmp)
            os.environ["ROLLGATE_CA_FILE"] = self.ca_file
        self.data = data_dir or os.path.join(self.tmp, "data")
        self.port = free_port()
        self.args = list(args)
        self.proc = None
        self.log_path = os.path.join(self.tmp, "rollgated.log")
        self.token = None
        self._client = None
        if init:
            self.init()

    # --- lifecycle ---------------------------------------------------
    def init(self):
        """Runs `rollgated init --data DIR`; keeps the printed admin token."""
        out = subprocess.run([binary("rollgated"), "init", "--data", self.data],
                             capture_output=True, text=True, timeout=60)
        expect(out.returncode == 0, "rollgated init failed", out.stdout, out.stderr)
        lines = out.stdout.strip().splitlines()
        expect(lines, "rollgated init printed nothing")
        self.token = lines[-1].strip()
        expect(len(self.token) == 64, "init's last line is not a token", lines)
        return self.token

    def start(self, timeout=30):
        """Starts rollgated and waits until GET /healthz answers 200."""
        self.log = open(self.log_path, "ab")
        cmd = [binary("rollgated"), "--data", self.data,
               "--listen", "127.0.0.1:%d" % self.port] + self.args
        if self.tls:
            cmd += ["--tls-cert", self.cert_file, "--tls-key", self.key_file]
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise Failure("rollgated exited with %d before serving:\n%s"
                              % (self.proc.returncode, self.log_text()))
            try:
                c = _connect(self.port, 2, self.ca_file)
                c.request("GET", "/healthz")
                if c.getresponse().status == 200:
                    c.close()
                    break
                c.close()
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.kill()
                raise Failure("rollgated did not answer /healthz:\n" + self.log_text())
            time.sleep(0.05)
        self._client = Client(self.port, self.token, ca_file=self.ca_file)
        return self

    def stop(self, timeout=20):
        """SIGTERM, then SIGKILL if it has not exited after timeout seconds.
        Returns the exit status (negative: killed by that signal)."""
        if self._client:
            self._client.close()
            self._client = None
        if not self.proc:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode
        self.proc = None
        self.log.close()
        return rc

    def kill(self):
        """SIGKILL, no goodbye. Returns the exit status."""
        if self._client:
            self._client.close()
            self._client = None
        if not self.proc:
            return None
        self.proc.kill()
        self.proc.wait()
        rc = self.proc.returncode
        self.proc = None
        self.log.close()
        return rc

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")[-4000:]
        except OSError:
            return ""

    def cleanup(self):
        if self.proc:
            self.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()
        return False

    # --- HTTP --------------------------------------------------------
    @property
    def url(self):
        return "%s://127.0.0.1:%d" % ("https" if self.tls else "http", self.port)

    def cli_env(self):
        """Environment entries a rollgate CLI needs besides URL and token."""
        return {"ROLLGATE_CA_FILE": self.ca_file} if self.tls else {}

    def agent_conf_lines(self):
        """Agent config lines a rollgate-agent needs besides `server =`."""
        return "ca_file = %s\n" % self.ca_file if self.tls else ""

    def client(self, token=None):
        """A new keep-alive connection (token None: the admin token)."""
        return Client(self.port, self.token if token is None else token,
                      ca_file=self.ca_file)

    def request(self, method, path, body=None, token=None, headers=None, raw=None):
        """One request on the server's shared admin connection; see Client."""
        expect(self._client is not None, "server not started")
        return self._client.request(method, path, body, token, headers, raw)

    # --- conveniences for tests ---------------------------------------
    def make_token(self, role, name=None):
        """Creates an admin-API token with role (named name, else a fresh
        name: token names are unique); returns its secret."""
        self._tokens_made = getattr(self, "_tokens_made", 0) + 1
        st, b = self.request("POST", "/v1/tokens", {
            "role": role, "name": name or "t-%s-%d" % (role, self._tokens_made)})
        expect(st == 201, "create %s token" % role, st, b)
        return b["token"]

    def upload(self, data, token=None):
        """PUT /v1/artifacts; returns (status, body)."""
        return self.request("PUT", "/v1/artifacts", raw=data, token=token,
                            headers={"Content-Type": "application/octet-stream"})

    def release(self, channel, version, data=None):
        """Creates channel (unless it exists) and a standard release of
        version with data (default "CHANNEL vVERSION"); returns its id."""
        st, b = self.request("POST", "/v1/channels", {"name": channel})
        expect(st in (201, 409), "channel " + channel, st, b)
        st, art = self.upload(data or ("%s v%d\n" % (channel, version)).encode())
        expect(st in (200, 201), "artifact", st, art)
        st, rel = self.request("POST", "/v1/releases", {
            "channel": channel, "version": version, "artifact": art["sha256"],
            "notes": "v%d" % version, "urgency": "standard"})
        expect(st == 201, "release", st, rel)
        return rel["id"]


def cli(srv, *args, token=None):
    """Runs the rollgate CLI against srv (its URL, the admin token or
    token, its CA file) with a clean environment; returns the
    CompletedProcess (stdout and stderr as text)."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": srv.tmp,
           "ROLLGATE_URL": srv.url, "ROLLGATE_TOKEN": token or srv.token}
    env.update(srv.cli_env())
    return subprocess.run([binary("rollgate")] + list(args), env=env,
                          capture_output=True, text=True, timeout=60)


def rollgated(*args, timeout=30):
    """Runs rollgated with args where it is expected to exit by itself (a
    refused start, init); a Failure if it still runs after timeout s.
    Returns the subprocess.CompletedProcess (text stdout and stderr)."""
    try:
        return subprocess.run([binary("rollgated")] + list(args),
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise Failure("rollgated %s: still running after %d s (killed): %r"
                      % (" ".join(args), timeout, e.stderr))


def run(main):
    """Runs main() as a test script: exit 0 on success, 1 with the failure."""
    try:
        main()
    except Failure as e:
        print("FAIL:", e, file=sys.stderr)
        sys.exit(1)
    print("ok")
    sys.exit(0)
