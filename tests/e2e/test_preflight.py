"""Preflight through the real server and CLI (docs/preflight.md).

A channel registers the build's rollgate-engine as its preflight, with the
recorded 20-field events as corpus. good.chan passes and can be rolled out;
incident-291.chan, which `rollgate-engine check` accepts, fails with a clean
error naming field 21, and its rollout is refused with 409. With the unsafe
ASan engine ($RG_UNSAFE_ENGINE; skipped with a note when unset) the same
content is a crash with a signal. The emergency lane needs a passing
preflight. A release whose preflight is under way survives kill -9 of
rollgated: after the restart the preflight runs again and completes.
Validation of the preflight object (400 with the field, 404 for an unknown
corpus) and the audit rows are checked too.
# ctest-labels: preflight
"""
import json
import os
import subprocess
import time

import rg
from rg import expect

ENGINE = os.path.join(rg.BUILD_DIR, "src", "engine", "rollgate-engine")
DATA = os.path.join(rg.DATA_DIR, "engine")
GOOD = os.path.join(DATA, "good.chan")
INCIDENT = os.path.join(DATA, "incident-291.chan")
EVENTS = os.path.join(DATA, "events-20.tsv")
WAIT_S = 120  # bound on every wait for a preflight (never an assertion)


def sanitized_build():
    """True when this build tree was configured with RG_SANITIZE=ON: its
    engine is an ASan build, which cannot run under an address-space
    limit (preflight memory_mb 0)."""
    try:
        with open(os.path.join(rg.BUILD_DIR, "CMakeCache.txt")) as f:
            return "RG_SANITIZE:BOOL=ON" in f.read()
    except OSError:
        return False


MEMORY_MB = 0 if sanitized_build() else 1024


class Cli:
    """The rollgate binary against srv, with a clean environment."""

    def __init__(self, srv):
        self.bin = rg.binary("rollgate")
        self.env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                    "HOME": srv.tmp, "ROLLGATE_URL": srv.url,
                    "ROLLGATE_TOKEN": srv.token}

    def run(self, *args, status=0):
        p = subprocess.run([self.bin] + list(args), env=self.env,
                           capture_output=True, text=True, timeout=WAIT_S + 60)
        expect(p.returncode == status, "rollgate %s: exit %d, wanted %d"
               % (" ".join(args), p.returncode, status), p.stdout, p.stderr)
        return p.stdout, p.stderr


def wait_preflight(srv, rid):
    """Polls GET /v1/releases/{rid} until its preflight is not pending."""
    deadline = time.monotonic() + WAIT_S
    while True:
        st, b = srv.request("GET", "/v1/releases/%d" % rid)
        expect(st == 200, "get release", st, b)
        if b["preflight"]["status"] != "pending":
            return b
        expect(time.monotonic() < deadline, "preflight still pending", b,
               srv.log_text())
        time.sleep(0.1)


def release(srv, channel, version, sha, urgency="standard"):
    st, b = srv.request("POST", "/v1/releases",
                        {"channel": channel, "version": version, "artifact": sha,
                         "notes": "v%d" % version, "urgency": urgency})
    expect(st == 201, "create release %s/%d" % (channel, version), st, b)
    return b


def upload(srv, path):
    with open(path, "rb") as f:
        st, b = srv.upload(f.read())
    expect(st in (200, 201), "upload " + path, st, b)
    return b["sha256"]


def rollout(srv, rid, plan="standard"):
    return srv.request("POST", "/v1/rollouts", {"release": rid, "plan": plan})


def validation(srv, corpus):
    """The preflight object is validated: 400 naming the field, 404 for an
    unknown corpus artifact; nothing is created."""
    unknown = "ab" * 32
    cases = [
        ({"engine": 7}, 400, "preflight.engine"),
        ({}, 400, "preflight.engine"),
        ({"engine": ENGINE, "timeout_s": "30"}, 400, "preflight.timeout_s"),
        ({"engine": ENGINE, "timeout_s": 0}, 400, "preflight.timeout_s"),
        ({"engine": ENGINE, "timeout_s": 3601}, 400, "preflight.timeout_s"),
        ({"engine": ENGINE, "memory_mb": -1}, 400, "preflight.memory_mb"),
        ({"engine": ENGINE, "corpus": "xyz"}, 400, "preflight.corpus"),
        ({"engine": ENGINE, "corpus": unknown}, 404, "preflight.corpus"),
        ({"engine": ENGINE, "colour": "red"}, 400, "preflight.colour"),
        ({"engine": "relative/engine"}, 400, "preflight.engine"),
        ({"engine": "/nonexistent/engine"}, 400, "preflight.engine"),
        ({"engine": "no-such-engine-in-path"}, 400, "preflight.engine"),
        ({"engine": ENGINE + " --flag"}, 400, "preflight.engine"),
        ("yes", 400, "preflight"),
    ]
    for i, (pf, status, field) in enumerate(cases):
        st, b = srv.request("POST", "/v1/channels",
                            {"name": "bad%d" % i, "preflight": pf})
        expect(st == status and b["error"]["field"] == field,
               "channel with preflight %r" % (pf,), st, b)
    st, b = srv.request("GET", "/v1/channels")
    expect(not [c for c in b["channels"] if c["name"].startswith("bad")],
           "refused channels were not created", b)
    # PUT: the body is the object itself (fields without the prefix).
    st, b = srv.request("PUT", "/v1/channels/nope/preflight", {"engine": ENGINE})
    expect(st == 404, "preflight of an unknown channel", st, b)
    st, b = srv.request("POST", "/v1/channels", {"name": "tmp"})
    expect(st == 201 and b["preflight"] is None, "channel without preflight", b)
    st, b = srv.request("PUT", "/v1/channels/tmp/preflight",
                        {"engine": ENGINE, "corpus": unknown})
    expect(st == 404 and b["error"]["field"] == "corpus", "put unknown corpus",
           st, b)
    st, b = srv.request("PUT", "/v1/channels/tmp/preflight", raw="[1]")
    expect(st == 400, "put an array", st, b)
    st, b = srv.request("PUT", "/v1/channels/tmp/preflight",
                        {"engine": ENGINE, "corpus": corpus, "timeout_s": 5,
                         "memory_mb": 512})
    expect(st == 200 and b["preflight"] == {"engine": ENGINE, "corpus": corpus,
                                            "timeout_s": 5, "memory_mb": 512},
           "put a preflight", st, b)
    st, b = srv.request("PUT", "/v1/channels/tmp/preflight", raw="null")
    expect(st == 200 and b["preflight"] is None, "remove the preflight", st, b)
    viewer = srv.make_token("viewer")
    st, b = srv.request("PUT", "/v1/channels/tmp/preflight", raw="null",
                        token=viewer)
    expect(st == 403, "a viewer cannot change a preflight", st, b)
    st, b = srv.request("GET", "/v1/audit?target=channel:tmp")
    actions = [a["action"] for a in b["audit"]]
    expect(actions == ["channel.preflight", "channel.preflight",
                       "channel.create"], "preflight changes are audited", b)


def safe_engine(srv, cli, corpus_file):
    """The safe engine as preflight: good passes and rolls out; the incident
    content fails with a clean error naming field 21 and is refused."""
    out, _ = cli.run("channel", "create", "det", "--preflight-engine", ENGINE,
                     "--preflight-corpus", corpus_file,
                     "--preflight-timeout", "30s",
                     "--preflight-memory", str(MEMORY_MB))
    expect("preflight:" in out and ENGINE in out, "channel create shows it", out)
    st, ch = srv.request("GET", "/v1/channels")
    det = [c for c in ch["channels"] if c["name"] == "det"][0]
    expect(det["preflight"]["engine"] == ENGINE
           and det["preflight"]["timeout_s"] == 30
           and det["preflight"]["memory_mb"] == MEMORY_MB
           and len(det["preflight"]["corpus"]) == 64, "channel preflight", det)

    # good.chan: passes (the CLI waits), then it can be rolled out.
    out, err = cli.run("release", "create", "--channel", "det", "--file", GOOD,
                       "--version", "1", "--notes", "good content",
                       "--wait-preflight")
    expect("preflight:" in out and "passed" in out, "good passes", out, err)
    expect("waiting for its preflight" in err, "progress on stderr", err)
    st, rels = srv.request("GET", "/v1/releases?channel=det")
    good = rels["releases"][0]
    expect(good["preflight"]["status"] == "passed", "listed as passed", good)
    full = wait_preflight(srv, good["id"])["preflight"]
    expect(full["reason"] is None and full["signal"] is None
           and full["exit_code"] == 0 and full["engine"] == ENGINE
           and full["duration_ms"] >= 0 and "sandbox" in full, "full result",
           full)
    st, ro = rollout(srv, good["id"])
    expect(st == 201, "a passed release can be rolled out", st, ro)
    st, b = srv.request("POST", "/v1/rollouts/%d/abort" % ro["id"],
                        {"reason": "make room"})
    expect(st == 200, "abort", st, b)
    # A passing preflight opens the emergency lane.
    st, ro = rollout(srv, good["id"], "emergency")
    expect(st == 201, "emergency plan with a passed preflight", st, ro)
    st, b = srv.request("POST", "/v1/rollouts/%d/abort" % ro["id"],
                        {"reason": "make room"})
    expect(st == 200, "abort", st, b)

    # The validator alone accepts the incident content.
    p = subprocess.run([ENGINE, "check", INCIDENT], capture_output=True,
                       text=True, timeout=60)
    expect(p.returncode == 0 and ": ok:" in p.stdout, "check accepts it", p)

    # Preflight fails it, cleanly: exit status 1 naming field 21.
    out, err = cli.run("release", "create", "--channel", "det", "--file",
                       INCIDENT, "--version", "2", "--notes", "channel 291",
                       "--wait-preflight", "--wait-timeout", "2m", status=1)
    last = err.strip().splitlines()[-1]
    expect(last.startswith("rollgate: release create: conflict:")
           and "preflight failed" in last and "field 21" in last,
           "the CLI's error names field 21", out, err)
    expect("stderr" in out and "field 21" in out, "show prints the tail", out)
    st, rels = srv.request("GET", "/v1/releases?channel=det")
    bad = rels["releases"][0]
    expect(bad["version"] == 2 and bad["preflight"]["status"] == "failed"
           and "field 21" in bad["preflight"]["detail"], "listed failed", bad)
    full = wait_preflight(srv, bad["id"])["preflight"]
    expect(full["status"] == "failed" and full["reason"] == "exit"
           and full["stage"] == "run" and full["signal"] is None
           and full["exit_code"] == 1
           and "matches on field 21 ('named_pipe') but the event carries 20 "
               "fields" in full["stderr_tail"], "a clean error", full)
    for plan in ("standard", "emergency"):
        st, b = rollout(srv, bad["id"], plan)
        expect(st == 409 and b["error"]["field"] == "release"
               and "preflight failed" in b["error"]["message"]
               and "field 21" in b["error"]["message"],
               "a failed release cannot enter a %s rollout" % plan, st, b)

    out, _ = cli.run("release", "show", str(bad["id"]))
    for want in ("failed: run: exit status 1", "reason:", "exit (run)",
                 "exit code:", "sandbox:", "field 21"):
        expect(want in out, "release show prints " + want, out)
    out, _ = cli.run("release", "list", "--channel", "det")
    expect("PREFLIGHT" in out and "failed" in out and "passed" in out,
           "release list has a preflight column", out)
    st, b = srv.request("GET", "/v1/audit?target=release:%d" % bad["id"])
    expect([a for a in b["audit"] if a["action"] == "release.preflight"
            and a["actor"] == "preflight" and "field 21" in a["reason"]],
           "the outcome is audited", b)


def unsafe_engine(srv):
    """The unsafe ASan engine: the same content is a crash with a signal."""
    unsafe = os.environ.get("RG_UNSAFE_ENGINE", "")
    if not unsafe:
        print("note: RG_UNSAFE_ENGINE is not set: the unsafe ASan engine part "
              "is skipped (build one with -DROLLGATE_ENGINE_UNSAFE=ON "
              "-DRG_SANITIZE=ON and point RG_UNSAFE_ENGINE at its "
              "rollgate-engine)")
        return
    unsafe = os.path.abspath(unsafe)
    st, b = srv.request("POST", "/v1/channels",
                        {"name": "unsafe", "preflight": {
                            "engine": unsafe, "memory_mb": 0,
                            "timeout_s": 60}})
    expect(st == 201, "channel with the unsafe engine", st, b)
    p = subprocess.run([unsafe, "check", INCIDENT], capture_output=True,
                       text=True, timeout=60)
    expect(p.returncode == 0, "the unsafe check accepts it too", p)
    rel = release(srv, "unsafe", 1, upload(srv, INCIDENT))
    full = wait_preflight(srv, rel["id"])["preflight"]
    expect(full["status"] == "failed" and full["reason"] == "crash"
           and full["signal"] is not None
           and "AddressSanitizer" in full["stderr_tail"],
           "the unsafe engine crashes under ASan", full)
    st, b = rollout(srv, rel["id"])
    expect(st == 409 and "preflight failed" in b["error"]["message"],
           "a crashed release is refused", st, b)
    print("unsafe engine: %s" % full["detail"])


def emergency_lane(srv, cli):
    """Without a preflight, no emergency lane; standard plans still work."""
    cli.run("channel", "create", "plain")
    sha = upload(srv, GOOD)
    rel = release(srv, "plain", 1, sha)
    expect(rel["preflight"] == {"status": "none"}, "no preflight: none", rel)
    st, b = rollout(srv, rel["id"], "emergency")
    expect(st == 409 and b["error"]["field"] == "release"
           and "emergency lane requires a passing preflight"
               in b["error"]["message"], "emergency plan refused", st, b)
    urgent = release(srv, "plain", 2, sha, urgency="emergency")
    st, b = rollout(srv, urgent["id"])
    expect(st == 409 and "emergency lane" in b["error"]["message"],
           "an emergency release is refused without preflight", st, b)
    st, b = rollout(srv, rel["id"])
    expect(st == 201, "standard rollout without preflight", st, b)
    st, b = srv.request("POST", "/v1/rollouts/%d/abort" % b["id"],
                        {"reason": "done"})
    expect(st == 200, "abort", st, b)
    # Registering a preflight later: older releases (none) need it now.
    cli.run("channel", "preflight", "plain", "--engine", ENGINE, "--memory",
            str(MEMORY_MB))
    st, b = rollout(srv, rel["id"])
    expect(st == 409 and "requires a passing preflight" in b["error"]["message"],
           "a release from before the preflight is refused", st, b)
    cli.run("channel", "preflight", "plain", "--none")
    st, b = rollout(srv, rel["id"])
    expect(st == 201, "removed again: standard works", st, b)


GATED = """#!/usr/bin/env python3
# A preflight engine that, on `coverage`, says it started (a file in
# MARKS) and waits for GATE to exist (at most 60 s), then passes.
import os, sys, time
MARKS, GATE = %r, %r
if sys.argv[1] == "coverage":
    open(os.path.join(MARKS, "started-%%d" %% os.getpid()), "w").close()
    end = time.monotonic() + 60
    while not os.path.exists(GATE) and time.monotonic() < end:
        time.sleep(0.05)
else:
    sys.stdin.read()
"""


def kill_during_preflight(srv):
    """kill -9 while a preflight runs: after the restart it runs again and
    completes; meanwhile rollouts say it is still running."""
    marks = os.path.join(srv.tmp, "marks")
    gate = os.path.join(srv.tmp, "gate")
    os.makedirs(marks)
    engine = os.path.join(srv.tmp, "gated-engine")
    with open(engine, "w") as f:
        f.write(GATED % (marks, gate))
    os.chmod(engine, 0o755)
    st, b = srv.request("POST", "/v1/channels",
                        {"name": "slow", "preflight": {"engine": engine,
                                                       "timeout_s": 90}})
    expect(st == 201, "channel with the gated engine", st, b)
    rel = release(srv, "slow", 1, upload(srv, GOOD))
    expect(rel["preflight"] == {"status": "pending"}, "created pending", rel)

    def wait_marks(n):
        deadline = time.monotonic() + WAIT_S
        while len(os.listdir(marks)) < n:
            expect(time.monotonic() < deadline, "the engine did not start",
                   srv.log_text())
            time.sleep(0.05)

    wait_marks(1)
    st, b = srv.request("GET", "/v1/releases/%d" % rel["id"])
    expect(b["preflight"]["status"] == "pending"
           and b["preflight"]["engine"] == engine, "pending while it runs", b)
    st, b = rollout(srv, rel["id"])
    expect(st == 409 and "preflight still running" in b["error"]["message"],
           "no rollout while pending", st, b)

    srv.kill()
    srv.start()
    wait_marks(2)  # the restarted worker runs it again
    open(gate, "w").close()
    full = wait_preflight(srv, rel["id"])["preflight"]
    expect(full["status"] == "passed", "the preflight completed", full)
    st, b = rollout(srv, rel["id"])
    expect(st == 201, "and the release can be rolled out", st, b)


def main():
    expect(os.access(ENGINE, os.X_OK), "engine not built", ENGINE)
    with rg.Server() as srv:
        srv.start()
        cli = Cli(srv)
        corpus = upload(srv, EVENTS)
        validation(srv, corpus)
        safe_engine(srv, cli, EVENTS)
        emergency_lane(srv, cli)
        unsafe_engine(srv)
        kill_during_preflight(srv)
        srv.stop()


if __name__ == "__main__":
    rg.run(main)
