"""nginx from Debian, started by a test on loopback in its own directory
(no service, no port 80): the HTTP cache of test_cache.py and the load
balancer of test_cluster.py. Standard library only."""
import getpass
import os
import subprocess

import rg
from rg import expect
from mitm import wait_for


def install():
    """Installs nginx if missing (scripts/deps.sh cache, starting no
    service). Returns the finished process (returncode, stdout, stderr)."""
    return subprocess.run([os.path.join(rg.SOURCE_DIR, "scripts", "deps.sh"), "cache"],
                          capture_output=True, text=True, timeout=1800)


class Nginx:
    """nginx in tmp/nginx listening on a free loopback port. http is the
    body of the http block after the temp paths; it may use %(d)s (the
    directory) and %(port)d (the port). Requests are logged one URI a line
    in access.log."""

    def __init__(self, tmp, http, workers=2, connections=1024):
        self.dir = os.path.join(tmp, "nginx")
        os.makedirs(self.dir, exist_ok=True)
        self.port = rg.free_port()
        user = "user %s;\n" % getpass.getuser() if os.getuid() == 0 else ""
        temp = "".join("    %s_temp_path %s;\n" % (k, self.dir)
                       for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(user + """worker_processes %(workers)d;
pid %(d)s/nginx.pid;
error_log %(d)s/error.log warn;
daemon off;
events { worker_connections %(connections)d; }
http {
    log_format uri $request_uri;
    access_log %(d)s/access.log uri;
%(temp)s""" % {"d": self.dir, "workers": workers, "connections": connections,
               "temp": temp}
                    + http % {"d": self.dir, "port": self.port} + "}\n")
        self.log = open(os.path.join(self.dir, "stderr"), "ab")
        self.proc = subprocess.Popen(["nginx", "-c", conf, "-p", self.dir],
                                     stdout=self.log, stderr=self.log)
        wait_for(self.answers, 30, "nginx listening")

    def answers(self):
        expect(self.proc.poll() is None, "nginx exited", self.errors())
        try:
            rg._connect(self.port, 2, None).close()
            return True
        except OSError:
            return False

    def errors(self):
        """The tail of nginx's error log."""
        try:
            with open(os.path.join(self.dir, "error.log")) as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def uris(self, part):
        """The distinct request URIs containing part that nginx was asked
        for."""
        with open(os.path.join(self.dir, "access.log")) as f:
            return {line.strip() for line in f if part in line}

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)
        self.log.close()
