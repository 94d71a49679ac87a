"""What an operator reads when an address is wrong (issue 13, "small
things with real cost"), through the real binaries:

1. `rollgate` given an https:// URL for a rollgated that serves plain
   HTTP: exit 3 and one line that says the server does not speak TLS and
   what URL it needs, before the TLS library's own text.
2. A second rollgated told to listen on the port the first one holds:
   exit 1 with "cannot listen on 'HOST:PORT': Address already in use",
   and no "Failed to bind to port 0" (libmicrohttpd's words about a port
   it had not bound) before it.
# ctest-labels: ops
"""
import os

import rg
from rg import expect


def main():
    with rg.Server() as srv:  # plain HTTP (not in the RG_E2E_TLS runs)
        srv.start()
        url = "https://127.0.0.1:%d" % srv.port
        p = rg.cli(srv, "--server", url, "channel", "list")
        expect(p.returncode == 3 and p.stderr.count("\n") == 1 and
               ("cannot reach %s: TLS handshake failed: the server does not "
                "speak TLS (an http:// server needs an http:// URL)" % url)
               in p.stderr, "https against http: said in words",
               p.returncode, p.stderr)

        other = os.path.join(srv.tmp, "other")
        p = rg.rollgated("init", "--data", other)
        expect(p.returncode == 0, "init", p.stderr)
        p = rg.rollgated("--data", other, "--listen",
                         "127.0.0.1:%d" % srv.port)
        expect(p.returncode != 0 and "cannot listen on '127.0.0.1:%d': "
               "Address already in use" % srv.port in p.stderr and
               "Failed to bind" not in p.stderr, "a taken port: one error",
               p.returncode, p.stderr)
        st, b = srv.request("GET", "/healthz", token="")
        expect(st == 200, "the first server still serves", st, b)


if __name__ == "__main__":
    rg.run(main)
