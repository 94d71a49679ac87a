"""Which flag environments an endpoint may read (docs/flags.md): the
enrollment key binds them, never the endpoint. Against a real rollgated:
an enrollment key made with flag_environments lets its endpoints read
those only, a key made without them the default environment only; an
endpoint asking for another environment gets no set but an error in the
check-in answer, while its heartbeats go on; a real rollgate-agent
configured with a forbidden flags_environment says so in its log and
keeps no flags, while one on an allowed environment takes its set; an
endpoint cannot grant itself environments at enrollment; bad key bodies
are refused; the binding survives kill -9 of the server.
# ctest-labels: flags agent
"""
import os
import subprocess

import rg
from rg import expect
from mitm import wait_for
from test_flags import check_error, create, strategy

ATTRS = {"os": "linux", "os_version": "6", "arch": "x86_64"}


def enroll(srv, key, eid, attrs=ATTRS):
    st, b = srv.request("POST", "/v1/agent/enroll", {
        "enrollment_key": key, "endpoint_id": eid, "attributes": attrs}, token="")
    expect(st == 200 and "token" in b, "enroll " + eid, st, b)
    return b["token"]


def checkin(srv, eid, token, env):
    st, b = srv.request("POST", "/v1/agent/checkin", {
        "endpoint_id": eid, "flags": {"environment": env}}, token=token)
    expect(st == 200, "check-in of %s asking for %s" % (eid, env), st, b)
    return b["flags"]


def key_bodies(srv):
    for body, field in (({"flag_environments": []}, "flag_environments"),
                        ({"flag_environments": ["Prod!"]}, "flag_environments"),
                        ({"flag_environments": ["e%d" % i for i in range(9)]},
                         "flag_environments"),
                        ({"flag_environments": "prod"}, "flag_environments")):
        st, b = srv.request("POST", "/v1/enrollment-keys", body)
        check_error(st, b, 400, field)
    st, b = srv.request("POST", "/v1/enrollment-keys", {"flag_environments": ["prod"]})
    expect(st == 201 and b["flag_environments"] == ["prod"], "a prod key", st, b)
    prod = b["key"]
    st, b = srv.request("POST", "/v1/enrollment-keys", {})
    expect(st == 201 and b["flag_environments"] == ["default"],
           "a key without environments allows the default one", st, b)
    plain = b["key"]
    st, b = srv.request("GET", "/v1/enrollment-keys")
    expect(st == 200 and [k["flag_environments"] for k in b["enrollment_keys"]] ==
           [["prod"], ["default"]], "listed with their environments", st, b)
    return prod, plain


def http_checks(srv, prod, plain):
    """The rule on hand-made check-ins, and the self-grant refused."""
    st, b = srv.request("POST", "/v1/agent/enroll", {
        "enrollment_key": plain, "endpoint_id": "greedy",
        "attributes": dict(ATTRS, flag_environments=["secret"])}, token="")
    check_error(st, b, 400, "attributes.flag_environments")
    p_tok = enroll(srv, prod, "h-prod")
    d_tok = enroll(srv, plain, "h-plain")
    f = checkin(srv, "h-prod", p_tok, "prod")
    expect("set" in f and [x["name"] for x in f["set"]["features"]] == ["prod.flag"],
           "a prod endpoint reads prod", f)
    for eid, tok, env in (("h-prod", p_tok, "secret"), ("h-prod", p_tok, "default"),
                          ("h-plain", d_tok, "prod")):
        f = checkin(srv, eid, tok, env)
        expect(f.get("error", {}).get("code") == "forbidden" and "set" not in f and
               "stamp" not in f and env in f["error"]["message"],
               "%s may not read %s" % (eid, env), f)
    f = checkin(srv, "h-plain", d_tok, "default")
    expect("set" in f and f["set"]["features"] == [], "the plain key reads default", f)
    st, b = srv.request("GET", "/v1/endpoints/h-prod")
    expect(st == 200 and b["last_seen_ms"] > 0, "refused flags still count as heartbeats",
           st, b)
    return p_tok, d_tok


class Agent:
    def __init__(self, srv, key, eid, env):
        self.dir = os.path.join(srv.tmp, eid)
        self.state = os.path.join(self.dir, "state")
        os.makedirs(self.dir)
        self.conf = os.path.join(self.dir, "agent.conf")
        with open(self.conf, "w") as f:
            f.write("server = %s\nenrollment_key = %s\nstate_dir = %s\n"
                    "endpoint_id = %s\nos = linux\nos_version = 6\narch = x86_64\n"
                    "interval = 0.5\nbackoff_max = 1\ntimeout = 5\ninsecure = true\n"
                    "flags_environment = %s\n%s"
                    % (srv.url, key, self.state, eid, env, srv.agent_conf_lines()))
        self.log_path = os.path.join(self.dir, "agent.log")
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([rg.binary("rollgate-agent"), "--config", self.conf],
                                     stdout=self.log, stderr=self.log)

    def text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def active(self):
        return os.path.exists(os.path.join(self.state, "flags", "active.json"))

    def stop(self):
        self.proc.kill()
        self.proc.wait()
        self.log.close()


def real_agents(srv, prod):
    good = Agent(srv, prod, "a-good", "prod")
    spy = Agent(srv, prod, "a-spy", "secret")
    try:
        wait_for(good.active, 30, "the prod agent to take prod's set")
        wait_for(lambda: "refuses environment 'secret'" in spy.text(), 30,
                 "the spy's log to name the refusal")
        st, b = srv.request("GET", "/v1/endpoints/a-spy")
        seen = b["last_seen_ms"]
        wait_for(lambda: srv.request("GET", "/v1/endpoints/a-spy")[1]["last_seen_ms"] > seen,
                 30, "the spy to keep checking in")
        expect(not spy.active(), "the spy keeps no flags", spy.text()[-2000:])
        expect(spy.text().count("refuses environment") == 1,
               "the refusal is logged once, not every check-in", spy.text()[-2000:])
    finally:
        good.stop()
        spy.stop()


def main():
    with rg.Server() as srv:
        srv.start()
        for env, name in (("prod", "prod.flag"), ("secret", "secret.flag")):
            st, b = create(srv, {"name": name, "enabled": True,
                                 "strategies": [strategy("default")]}, env=env)
            expect(st == 201, "flag " + name, st, b)
        prod, plain = key_bodies(srv)
        p_tok, d_tok = http_checks(srv, prod, plain)
        real_agents(srv, prod)
        p = rg.cli(srv, "endpoint", "show", "h-prod")
        expect(p.returncode == 0 and "flag environments" in p.stdout and "prod" in p.stdout,
               "rollgate endpoint show names them", p.stdout, p.stderr)
        p = rg.cli(srv, "enroll-key", "create", "--flag-env", "prod", "--flag-env", "qa")
        expect(p.returncode == 0 and "prod, qa" in p.stdout, "rollgate enroll-key create "
               "--flag-env", p.stdout, p.stderr)
        srv.kill()
        srv.start()
        f = checkin(srv, "h-prod", p_tok, "secret")
        expect(f.get("error", {}).get("code") == "forbidden", "the binding survives kill -9", f)
        f = checkin(srv, "h-prod", p_tok, "prod")
        expect("set" in f, "and so does the permission", f)


if __name__ == "__main__":
    rg.run(main)
