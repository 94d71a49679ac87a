"""rollgated over HTTPS (docs/tls.md): a throwaway CA and server certificate
made with openssl; the CLI (--ca-file, ROLLGATE_CA_FILE, 'ca_file =') and a
real rollgate-agent ('ca_file =') verify the server against the CA and
refuse it without the CA or with another CA; plain HTTP gets no answer on
the HTTPS port; rollgated refuses half a TLS configuration and an unreadable
certificate with a clear message.
# ctest-labels: security
"""
import os
import subprocess
import tempfile

import rg
from rg import expect


def cli(srv, *args, env=None):
    e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": srv.tmp,
         "ROLLGATE_URL": srv.url, "ROLLGATE_TOKEN": srv.token}
    e.update(env or {})
    return subprocess.run([rg.binary("rollgate")] + list(args), env=e,
                          capture_output=True, text=True, timeout=60)


def agent_once(srv, key, eid, ca_line):
    d = os.path.join(srv.tmp, eid)
    os.makedirs(d)
    conf = os.path.join(d, "agent.conf")
    with open(conf, "w") as f:
        f.write("server = %s\n%senrollment_key = %s\nstate_dir = %s\n"
                "endpoint_id = %s\nos = linux\nos_version = 6\narch = x86_64\n"
                "timeout = 5\ninsecure = true\n[channel det]\n"
                % (srv.url, ca_line, key, os.path.join(d, "state"), eid))
    return subprocess.run([rg.binary("rollgate-agent"), "--config", conf, "once"],
                          capture_output=True, text=True, timeout=120)


def main():
    with rg.Server(args=["--tick-ms", "100000"], tls=True) as srv:
        srv.start()
        expect(srv.url.startswith("https://"), "https url", srv.url)
        st, body = srv.request("GET", "/v1/channels")
        expect(st == 200, "python client verified against the CA", st, body)

        # The CLI: each CA source works; no CA or another CA is refused.
        no_ca = {"ROLLGATE_CA_FILE": ""}
        p = cli(srv, "--ca-file", srv.ca_file, "channel", "create", "det", env=no_ca)
        expect(p.returncode == 0, "cli --ca-file", p.stdout, p.stderr)
        p = cli(srv, "channel", "list", env={"ROLLGATE_CA_FILE": srv.ca_file})
        expect(p.returncode == 0 and "det" in p.stdout, "cli ROLLGATE_CA_FILE", p.stderr)
        conf = os.path.join(srv.tmp, "cli.conf")
        with open(conf, "w") as f:
            f.write("url = %s\ntoken = %s\nca_file = %s\n" % (srv.url, srv.token, srv.ca_file))
        p = cli(srv, "--config", conf, "channel", "list",
                env={"ROLLGATE_URL": "", "ROLLGATE_TOKEN": "", "ROLLGATE_CA_FILE": ""})
        expect(p.returncode == 0, "cli config ca_file", p.stdout, p.stderr)
        p = cli(srv, "channel", "list", env=no_ca)
        expect(p.returncode == 3 and "unavailable" in p.stderr
               and "certificate" in p.stderr.lower(),
               "cli without the CA refuses the server", p.returncode, p.stderr)
        other = tempfile.mkdtemp(dir=srv.tmp)
        other_ca, _, _ = rg.make_certs(other)
        p = cli(srv, "--ca-file", other_ca, "channel", "list")
        expect(p.returncode == 3 and "unavailable" in p.stderr,
               "cli with another CA refuses the server", p.returncode, p.stderr)

        # A real agent enrolls and checks in over HTTPS only with the CA.
        st, key = srv.request("POST", "/v1/enrollment-keys", {})
        expect(st == 201, "enrollment key", st, key)
        p = agent_once(srv, key["key"], "tls-1", srv.agent_conf_lines())
        expect(p.returncode == 0, "agent with ca_file", p.stdout, p.stderr)
        st, e = srv.request("GET", "/v1/endpoints/tls-1")
        expect(st == 200 and e["last_seen_ms"] > 0, "agent checked in over TLS", st, e)
        p = agent_once(srv, key["key"], "tls-2", "")
        expect(p.returncode != 0, "agent without the CA fails", p.stdout, p.stderr)
        p = agent_once(srv, key["key"], "tls-3", "ca_file = %s\n" % other_ca)
        expect(p.returncode != 0, "agent with another CA fails", p.stdout, p.stderr)
        st, e = srv.request("GET", "/v1/endpoints/tls-2")
        expect(st == 404, "unverified agent never reached the server", st, e)

        # Plain HTTP on the HTTPS port gets no HTTP answer.
        plain = rg.Client(srv.port, srv.token, timeout=5)
        try:
            st, _ = plain.request("GET", "/healthz")
            expect(False, "plain http answered on the https port", st)
        except OSError:
            pass
        except Exception as e:  # http.client's protocol errors
            expect("BadStatusLine" in type(e).__name__ or "RemoteDisconnected"
                   in type(e).__name__, "plain http refused", repr(e))
        finally:
            plain.close()
        expect(srv.stop() == 0, "clean stop", srv.log_text())

        # Half a configuration and a bad certificate are refused clearly.
        def start(*extra):
            return subprocess.run([rg.binary("rollgated"), "--data", srv.data,
                                   "--listen", "127.0.0.1:%d" % rg.free_port()]
                                  + list(extra), capture_output=True, text=True,
                                  timeout=60)
        p = start("--tls-cert", srv.cert_file)
        expect(p.returncode == 2 and "--tls-key" in p.stderr, "cert without key",
               p.returncode, p.stderr)
        bad = os.path.join(srv.tmp, "bad.pem")
        with open(bad, "w") as f:
            f.write("-----BEGIN CERTIFICATE-----\nnot a certificate\n"
                    "-----END CERTIFICATE-----\n")
        p = start("--tls-cert", bad, "--tls-key", srv.key_file)
        expect(p.returncode != 0 and "TLS" in p.stderr, "bad certificate refused",
               p.returncode, p.stderr)
        p = start("--tls-cert", os.path.join(srv.tmp, "missing.pem"),
                  "--tls-key", srv.key_file)
        expect(p.returncode != 0 and "missing.pem" in p.stderr,
               "missing certificate refused", p.returncode, p.stderr)


rg.run(main)
