"""The rollgate CLI against a real rollgated: every subcommand, human
output and --json, exit codes (1 refused, 2 usage, 3 unreachable), the
one-line error on stderr, and where the URL and token come from (flags,
environment, config file).
# ctest-labels: foundation
"""
import hashlib
import json
import os
import subprocess
import time

import rg
from rg import expect

ARTIFACT_MAX = 3 * 1024 * 1024  # the server's --artifact-max in this test


class Cli:
    """Runs the rollgate binary with a clean environment: HOME is a temp
    directory (no user config), ROLLGATE_URL/TOKEN point at the server."""

    def __init__(self, srv):
        self.bin = rg.binary("rollgate")
        self.home = os.path.join(srv.tmp, "home")
        os.makedirs(self.home, exist_ok=True)
        self.env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                    "HOME": self.home,
                    "ROLLGATE_URL": srv.url, "ROLLGATE_TOKEN": srv.token}
        self.env.update(srv.cli_env())

    def run(self, *args, env=None, status=0, check_stderr=True):
        """Runs rollgate ARGS; checks the exit status. On failure checks the
        one-line stderr and empty stdout. Returns (stdout, stderr)."""
        e = dict(self.env)
        for k, v in (env or {}).items():
            if v is None:
                e.pop(k, None)
            else:
                e[k] = v
        p = subprocess.run([self.bin] + list(args), env=e, capture_output=True,
                           text=True, timeout=60)
        expect(p.returncode == status, "rollgate %s: exit %d, wanted %d"
               % (" ".join(args), p.returncode, status), p.stdout, p.stderr)
        if status == 0:
            # check_stderr=False: a command that reports progress there.
            expect(p.stderr == "" or not check_stderr,
                   "rollgate %s: quiet stderr" % " ".join(args), p.stderr)
        else:
            expect(p.stderr.startswith("rollgate: ") and p.stderr.endswith("\n")
                   and p.stderr.count("\n") == 1,
                   "rollgate %s: one error line" % " ".join(args), p.stderr)
            expect(p.stdout == "", "rollgate %s: nothing on stdout on failure"
                   % " ".join(args), p.stdout)
        return p.stdout, p.stderr

    def json(self, *args, **kw):
        """Runs rollgate --json ARGS and returns the parsed output."""
        out, _ = self.run("--json", *args, **kw)
        try:
            return json.loads(out)
        except ValueError:
            raise rg.Failure("rollgate --json %s: not JSON: %r" % (" ".join(args), out))

    def fail(self, status, want, *args, **kw):
        """Runs ARGS expecting exit status and `want` in the error line."""
        _, err = self.run(*args, status=status, **kw)
        expect(want in err, "rollgate %s: error line mentions %r"
               % (" ".join(args), want), err)
        return err


def check_help(cli):
    out, _ = cli.run("help")
    for words in ("channel create", "release create", "rollout rollback",
                  "enroll-key create", "token revoke", "audit", "endpoints"):
        expect(words in out, "help lists " + words, out)
    commands = [("channel", "create"), ("channel", "list"), ("artifact", "upload"),
                ("release", "create"), ("release", "list"), ("release", "show"),
                ("rollout", "start"), ("rollout", "status"), ("rollout", "list"),
                ("rollout", "pause"), ("rollout", "resume"), ("rollout", "abort"),
                ("rollout", "rollback"), ("endpoints",), ("endpoint", "show"),
                ("audit",), ("token", "create"), ("token", "list"),
                ("token", "revoke"), ("enroll-key", "create"), ("version",)]
    for words in commands:
        out, _ = cli.run(*words, "--help")
        expect(out.startswith("usage: rollgate " + " ".join(words)),
               "--help of " + " ".join(words), out)
    out, _ = cli.run("--version")
    expect(out.startswith("rollgate "), "--version", out)
    cli.fail(2, "missing command")
    cli.fail(2, "unknown command 'frobnicate'", "frobnicate")
    cli.fail(2, "missing subcommand", "rollout")
    cli.fail(2, "unknown option '--bogus'", "channel", "list", "--bogus")


def check_channels(cli, srv):
    out, _ = cli.run("channel", "create", "detections", "--description", "rule files")
    expect("detections" in out and "rule files" in out, "channel create output", out)
    ch = cli.json("channel", "create", "flags")
    expect(ch["name"] == "flags" and isinstance(ch["id"], int), "channel --json", ch)
    cli.fail(1, "conflict", "channel", "create", "flags")
    cli.fail(1, "invalid", "channel", "create", "Bad Name!")
    out, _ = cli.run("channel", "list")
    lines = out.splitlines()
    expect(lines[0].split() == ["ID", "NAME", "RELEASE", "PREFLIGHT", "CREATED",
                                "DESCRIPTION"],
           "channel list header", out)
    expect(any("detections" in l and "rule files" in l for l in lines[1:]),
           "channel list row", out)
    listed = cli.json("channel", "list")
    st, body = srv.request("GET", "/v1/channels")
    expect(st == 200 and listed == body, "channel list --json is the server's JSON",
           listed, body)


def check_releases(cli, srv):
    path = os.path.join(srv.tmp, "channel-291.rules")
    data = b"rule named-pipe-detect v291\n" * 100
    with open(path, "wb") as f:
        f.write(data)
    sha = hashlib.sha256(data).hexdigest()

    art = cli.json("artifact", "upload", path)
    expect(art == {"sha256": sha, "size": len(data)}, "artifact upload --json", art)
    out, _ = cli.run("artifact", "upload", path)
    expect(sha in out and "2.7 KiB" in out, "artifact upload output", out)
    cli.fail(2, "cannot open", "artifact", "upload", os.path.join(srv.tmp, "missing"))
    big = os.path.join(srv.tmp, "big.bin")
    with open(big, "wb") as f:
        f.write(os.urandom(ARTIFACT_MAX + 1))
    cli.fail(1, "artifact upload: too_large: ", "artifact", "upload", big)
    with open(big, "wb") as f:
        f.write(os.urandom(ARTIFACT_MAX))
    expect(cli.json("artifact", "upload", big)["size"] == ARTIFACT_MAX,
           "upload at the maximum")

    rel = cli.json("release", "create", "--channel", "detections", "--file", path,
                   "--version", "291", "--notes", "named-pipe detections; fixes FP")
    expect(rel["channel"] == "detections" and rel["version"] == 291
           and rel["sha256"] == sha and rel["size"] == len(data)
           and rel["urgency"] == "standard"
           and rel["notes"] == "named-pipe detections; fixes FP", "release --json", rel)
    st, stored = srv.request("GET", "/v1/releases/%d" % rel["id"])
    expect(st == 200 and stored == rel, "release create prints the stored release",
           stored, rel)
    err = cli.fail(1, "conflict", "release", "create", "--channel", "detections",
                   "--file", path, "--version", "291", "--notes", "again")
    expect(err.startswith("rollgate: release create: conflict: ")
           and err.rstrip().endswith("(field: version)"), "conflict line", err)
    # The emergency lane needs a passing preflight: register one (/bin/true
    # passes anything) for release 292, then remove it again (291 predates
    # it and could not roll out while the channel has one).
    out, _ = cli.run("channel", "preflight", "detections", "--engine", "/bin/true",
                     "--timeout", "10s")
    expect("/bin/true" in out, "channel preflight output", out)
    out, err = cli.run("release", "create", "--channel", "detections", "--artifact",
                       sha, "--version", "292", "--notes", "security fix",
                       "--urgency", "emergency", "--wait-preflight",
                       check_stderr=False)
    expect("emergency" in out and "292" in out and "passed" in out,
           "release create output", out, err)
    out, _ = cli.run("channel", "preflight", "detections", "--none")
    expect("preflight:" in out and "none" in out, "preflight removed", out)
    cli.fail(1, "(field: urgency)", "release", "create", "--channel", "detections",
             "--artifact", sha, "--version", "293", "--notes", "n", "--urgency", "now")
    cli.fail(1, "not_found", "release", "create", "--channel", "nochannel",
             "--artifact", sha, "--version", "1", "--notes", "n")
    cli.fail(2, "--notes is required", "release", "create", "--channel",
             "detections", "--file", path, "--version", "300")

    listed = cli.json("release", "list", "--channel", "detections")
    expect([r["version"] for r in listed["releases"]] == [292, 291],
           "release list newest first", listed)
    expect(cli.json("release", "list", "--channel", "flags")
           == {"releases": [], "next_after": None},
           "release list of another channel")
    out, _ = cli.run("release", "list")
    expect(out.splitlines()[0].split()[:4] == ["ID", "CHANNEL", "VERSION", "URGENCY"]
           and len(out.splitlines()) == 3, "release list table", out)
    out, _ = cli.run("release", "show", str(rel["id"]))
    expect("named-pipe detections; fixes FP" in out and sha in out, "release show", out)
    cli.fail(1, "not_found", "release", "show", "999999")
    cli.fail(2, "not a release id", "release", "show", "abc")
    return rel["id"], listed["releases"][0]["id"]


def check_rollouts(cli, srv, rel_id, rel2_id):
    plan = os.path.join(srv.tmp, "plan.json")
    with open(plan, "w") as f:
        json.dump({"name": "custom", "waves": [
            {"name": "canary", "share": 5, "min_endpoints": 0, "min_bake_s": 3600},
            {"name": "all", "share": 100, "min_bake_s": 3600}]}, f)
    ro = cli.json("rollout", "start", "--release", str(rel_id), "--plan", "@" + plan)
    expect(ro["state"] == "running" and ro["wave"] == 0 and ro["release"] == rel_id
           and [w["name"] for w in ro["plan"]["waves"]] == ["canary", "all"],
           "rollout start --json", ro)
    rid = str(ro["id"])
    cli.fail(1, "conflict", "rollout", "start", "--release", str(rel2_id))
    cli.fail(1, "not_found", "rollout", "start", "--release", "999999")
    bad = os.path.join(srv.tmp, "bad-plan.json")
    with open(bad, "w") as f:
        json.dump({"waves": [{"share": 50}, {"share": 10}]}, f)
    cli.fail(1, "invalid", "rollout", "start", "--release", str(rel2_id), "--plan", "@" + bad)
    cli.fail(2, "--plan", "rollout", "start", "--release", str(rel2_id), "--plan",
             "@" + os.path.join(srv.tmp, "nope.json"))

    out, _ = cli.run("rollout", "status", rid)
    marked = [l for l in out.splitlines() if l.startswith("->")]
    expect(len(marked) == 1 and "canary" in marked[0] and "running" in marked[0],
           "status marks the current wave", out)
    for section in ("counts", "waves", "decisions"):
        expect(section in out.splitlines(), "status shows " + section, out)
    status = cli.json("rollout", "status", rid)
    st, stored = srv.request("GET", "/v1/rollouts/" + rid)
    expect(st == 200 and status["id"] == stored["id"]
           and status["plan"] == stored["plan"], "status --json", status, stored)

    cli.fail(2, "--reason is required", "rollout", "pause", rid)
    paused = cli.json("rollout", "pause", rid, "--reason", "investigating ticket 4411")
    expect(paused["state"] == "paused", "pause", paused)
    expect(any(d.get("reason") == "investigating ticket 4411" for d in paused["decisions"]),
           "pause reason among the decisions", paused["decisions"])
    cli.fail(1, "conflict", "rollout", "pause", rid, "--reason", "again")
    out, _ = cli.run("rollout", "resume", rid, "--reason", "false alarm")
    expect("running" in out, "resume output", out)
    active = cli.json("rollout", "list", "--active")
    expect([r["id"] for r in active["rollouts"]] == [ro["id"]], "list --active", active)
    out, _ = cli.run("rollout", "list")
    expect(out.splitlines()[0].split()[:5] == ["ID", "CHANNEL", "VERSION", "RELEASE", "STATE"],
           "rollout list header", out)
    # The tables show relative times ("just now", "1s ago"): compare what
    # they are made of.
    expect(cli.json("rollout", "status") == cli.json("rollout", "list"),
           "status without id lists")
    rolled = cli.json("rollout", "rollback", rid, "--reason", "bad detections")
    expect(rolled["state"] == "rolled_back", "rollback", rolled)
    expect(cli.json("rollout", "list", "--active") == {"rollouts": [], "next_after": None},
           "no active rollout after rollback")
    cli.fail(1, "conflict", "rollout", "resume", rid, "--reason", "too late")

    ro2 = cli.json("rollout", "start", "--release", str(rel2_id), "--plan", "emergency")
    expect(ro2["plan"]["name"] == "emergency", "emergency plan", ro2)
    out, _ = cli.run("rollout", "abort", str(ro2["id"]), "--reason", "wrong content")
    expect("aborted" in out, "abort output", out)
    cli.fail(1, "not_found", "rollout", "status", "999999")
    cli.fail(1, "not_found", "rollout", "abort", "999999", "--reason", "x")
    return rid


def check_fleet(cli, srv):
    key = cli.json("enroll-key", "create", "--uses", "2", "--expires-in", "1h")
    now = int(time.time() * 1000)
    expect(len(key["key"]) == 64 and key["uses"] == 2
           and abs(key["expires_ms"] - (now + 3600000)) < 600000, "enroll-key --json", key)
    out, _ = cli.run("enroll-key", "create")
    expect("key:" in out, "enroll-key output", out)
    cli.fail(2, "not a duration", "enroll-key", "create", "--expires-in", "soon")
    for host, tags in (("host-1", ["internal"]), ("host-2", [])):
        st, body = srv.request("POST", "/v1/agent/enroll", {
            "enrollment_key": key["key"], "endpoint_id": host,
            "attributes": {"os": "linux", "os_version": "6.1", "arch": "arm64",
                           "tags": tags}}, token="")
        expect(st == 200, "enroll " + host, st, body)

    eps = cli.json("endpoints")
    expect(eps["total"] == 2 and [e["id"] for e in eps["endpoints"]] == ["host-1", "host-2"],
           "endpoints --json", eps)
    page = cli.json("endpoints", "--limit", "1")
    expect(len(page["endpoints"]) == 1 and page["next_after"] == "host-1", "limit", page)
    page2 = cli.json("endpoints", "--limit", "1", "--after", "host-1")
    expect([e["id"] for e in page2["endpoints"]] == ["host-2"], "after", page2)
    out, _ = cli.run("endpoints")
    expect("host-1" in out and "host-2" in out and "2 of 2 endpoints" in out,
           "endpoints table", out)
    cli.fail(2, "--limit", "endpoints", "--limit", "0")
    out, _ = cli.run("endpoint", "show", "host-1")
    expect("host-1" in out and "linux 6.1 (arm64)" in out and "internal" in out,
           "endpoint show", out)
    ep = cli.json("endpoint", "show", "host-2")
    expect(ep["id"] == "host-2", "endpoint show --json", ep)
    cli.fail(1, "not_found", "endpoint", "show", "no-such-host")


def check_audit(cli, rid):
    rows = cli.json("audit", "--target", "rollout:" + rid)["audit"]
    actions = [r["action"] for r in rows]
    expect("rollout.pause" in actions and "rollout.rollback" in actions,
           "audit by target", rows)
    expect(all(r["target"] == "rollout:" + rid for r in rows), "target filter", rows)
    reasons = {r["action"]: r["reason"] for r in rows}
    expect(reasons.get("rollout.rollback") == "bad detections", "audit keeps reasons", rows)
    out, _ = cli.run("audit", "--target", "rollout:" + rid, "--limit", "2")
    expect(len(out.splitlines()) == 3 and out.startswith("AT"), "audit table", out)
    expect(cli.json("audit", "--since", "2000-01-01", "--limit", "1")["audit"],
           "audit --since ISO")
    future = cli.json("audit", "--since", str(int(time.time() * 1000) + 3600000))
    expect(future["audit"] == [], "audit --since ms in the future", future)
    recent = cli.json("audit", "--since", "1h", "--actor", "admin", "--limit", "1000")
    expect(recent["audit"] and all(r["actor"] == "admin" for r in recent["audit"]),
           "audit --actor", recent)
    cli.fail(2, "not a time", "audit", "--since", "yesterday")


def check_tokens(cli):
    tok = cli.json("token", "create", "--role", "viewer", "--name", "dashboard",
                   "--expires-in", "24h")
    expect(tok["role"] == "viewer" and len(tok["token"]) == 64
           and tok["expires_ms"] > 0, "token create --json", tok)
    err = cli.fail(1, "invalid", "token", "create", "--role", "king", "--name", "x")
    expect("(field: role)" in err, "bad role names the field", err)
    out, _ = cli.run("token", "create", "--role", "operator", "--name", "ci")
    expect("operator" in out and "token:" in out, "token create output", out)
    listed = cli.json("token", "list")["tokens"]
    expect({"dashboard", "ci"} <= {t["name"] for t in listed}
           and all("token" not in t for t in listed), "token list without secrets", listed)
    out, _ = cli.run("token", "list")
    expect("dashboard" in out and "viewer" in out, "token list table", out)

    # The viewer may read but not write; the CLI shows the server's refusal.
    viewer = {"ROLLGATE_TOKEN": tok["token"]}
    cli.run("channel", "list", env=viewer)
    cli.fail(1, "forbidden", "channel", "create", "viewers-cannot", env=viewer)
    revoked = cli.json("token", "revoke", str(tok["id"]))
    expect(revoked["revoked_ms"] > 0 and "token" not in revoked, "token revoke", revoked)
    cli.fail(1, "unauthorized", "channel", "list", env=viewer)
    cli.fail(1, "not_found", "token", "revoke", "999999")
    cli.fail(1, "unauthorized", "channel", "list", env={"ROLLGATE_TOKEN": "0" * 64})


def check_config_sources(cli, srv):
    conf = os.path.join(srv.tmp, "rollgate.conf")
    with open(conf, "w") as f:
        f.write("# written by test_cli\nurl = %s\ntoken = \"%s\"\n" % (srv.url, srv.token))
    bare = {"ROLLGATE_URL": None, "ROLLGATE_TOKEN": None}
    cli.fail(2, "no token", "channel", "list", env=bare)
    cli.run("--config", conf, "channel", "list", env=bare)
    cli.run("channel", "list", env=dict(bare, ROLLGATE_CONFIG=conf))
    os.makedirs(os.path.join(cli.home, ".config", "rollgate"))
    with open(os.path.join(cli.home, ".config", "rollgate", "config"), "w") as f:
        f.write("url = %s\ntoken = %s\n" % (srv.url, srv.token))
    cli.run("channel", "list", env=bare)
    # The flag beats a wrong environment, which beats the config file.
    cli.run("--server", srv.url, "channel", "list", env={"ROLLGATE_URL": "http://127.0.0.1:1"})
    cli.fail(3, "unavailable", "channel", "list", env={"ROLLGATE_URL": "http://127.0.0.1:1"})
    cli.run("--token", srv.token, "channel", "list", env={"ROLLGATE_TOKEN": "f" * 64})
    cli.fail(2, "does not exist", "--config", os.path.join(srv.tmp, "none"),
             "channel", "list", env=bare)
    with open(conf, "w") as f:
        f.write("tokn = x\n")
    cli.fail(2, "unknown key 'tokn'", "--config", conf, "channel", "list", env=bare)
    out, _ = cli.run("version")
    expect("rollgated" in out and srv.url in out, "version shows the server", out)
    v = cli.json("version")
    expect(v["server"]["status"] == "ok" and v["client"], "version --json", v)


def check_server_down(cli, srv):
    url = srv.url
    srv.stop()
    for args in (("channel", "list"), ("version",), ("rollout", "status", "1"),
                 ("rollout", "pause", "1", "--reason", "x"),
                 ("--json", "endpoints")):
        err = cli.fail(3, "unavailable: cannot reach " + url, *args)
        expect(err.startswith("rollgate: "), "server down line", err)


def main():
    with rg.Server(args=["--tick-ms", "100000",
                             "--artifact-max", str(ARTIFACT_MAX)]) as srv:
        srv.start()
        cli = Cli(srv)
        check_help(cli)
        check_channels(cli, srv)
        rel_id, rel2_id = check_releases(cli, srv)
        rid = check_rollouts(cli, srv, rel_id, rel2_id)
        check_fleet(cli, srv)
        check_audit(cli, rid)
        check_tokens(cli)
        check_config_sources(cli, srv)
        check_server_down(cli, srv)


if __name__ == "__main__":
    rg.run(main)
