"""The dashboard in a real browser: tests/e2e/web_browser.js drives
Debian's chromium-headless-shell with playwright-core (both installed by
scripts/deps.sh web) against a real rollgated: a wrong token is refused
with a clear message; an admin logs in (the token in sessionStorage, never
in the URL) and the overview shows the running rollout; a viewer sees every
action disabled with the reason (and the server refuses the viewer's
forged POST with 403); an operator pauses and resumes with the keyboard
only, through the reason dialog (Escape cancels), and the audit keeps the
reason; an endpoint's exposure changes the open rollout page's counts
while the gate stores no decision (a tick's counts pushed, no reload); endpoints driven over the agent API
crash on one stratum, the gate
halts the rollout, and the open page shows `halted`, the failing stratum
and the reason without a reload (pushed), and draws per stratum the
confidence bands (uPlot), the failing stratum first; the releases, a
release (notes, preflight, signatures), a release whose preflight failed
with the engine's log, a signed release meeting its root's threshold (its
key ids) and one short of it, a channel with its rollout, the
channels, reached from the nav by keyboard; a decision pushed while the
audit filter is being typed redraws the page and keeps what was typed;
the other actions by keyboard alone on rollouts of their own: pause and
promote out of the last wave (completed: the overview lists it among the
recently ended, after the halted one), rollback, abort, each audited with
its reason; the audit page filtered by
actor and action by keyboard, and paged (Older); rollgated killed (-9)
and started again: the page reconnects by itself and a decision made
after the restart is pushed to it; the failed endpoint's page; a
reload keeps the login and the live stream; logout (by keyboard) forgets
the token. Every login is typed with the keyboard alone.
Zero console errors, zero serious or critical axe-core violations on each
page; screenshots under BUILD/web-screenshots. Figures printed, not
asserted: the overview's first render, the JS and CSS loaded (gzipped),
how long after the server's decision the halt appeared on the page.
# ctest-labels: web
"""
import json
import os
import subprocess
import tempfile
import time

import rg
from mitm import cli, signed_release
from rg import expect

NPM_DIR = os.environ.get("RG_NPM_DIR") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
    "rollgate", "npm")


def rollout(srv):
    """A running rollout of detections v1 whose one wave cannot pass during
    the test (it bakes 600 s): only a halt ends it. Its window is as long
    as the bake, so no exposure's span ends during the test: the gate's
    verdict cannot change as spans close (with a 2 s window it changed
    whenever the loaded machine let one close, storing a decision while
    the page waited for counts pushed without one); the halt comes from
    the windows endpoints' reported crashes, which count at once."""
    rel = srv.release("detections", 1)
    plan = {"name": "one", "waves": [{"name": "all", "share": 100, "min_endpoints": 1,
                                      "window_s": 600, "min_bake_s": 600}]}
    st, ro = srv.request("POST", "/v1/rollouts", {"release": rel, "plan": plan})
    expect(st == 201, "rollout", st, ro)
    return ro["id"]


def preflighted(srv):
    """A release whose preflight failed, with the engine's log: the
    incident's channel file (21 fields where the template has 20) on a
    channel whose preflight is the build's rollgate-engine."""
    engine = os.path.join(rg.BUILD_DIR, "src", "engine", "rollgate-engine")
    data = os.path.join(rg.DATA_DIR, "engine")
    sha = {}
    for name in ("events-20.tsv", "incident-291.chan"):
        with open(os.path.join(data, name), "rb") as f:
            st, b = srv.upload(f.read())
        expect(st in (200, 201), "upload", name, st, b)
        sha[name] = b["sha256"]
    st, b = srv.request("POST", "/v1/channels", {"name": "content", "preflight": {
        "engine": engine, "corpus": sha["events-20.tsv"], "timeout_s": 30}})
    expect(st == 201, "channel with preflight", st, b)
    st, rel = srv.request("POST", "/v1/releases", {
        "channel": "content", "version": 291, "artifact": sha["incident-291.chan"],
        "notes": "channel file 291", "urgency": "emergency"})
    expect(st == 201, "release", st, rel)
    deadline = time.monotonic() + 120
    while True:
        st, b = srv.request("GET", "/v1/releases/%d" % rel["id"])
        if b["preflight"]["status"] != "pending" or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    expect(b["preflight"]["status"] == "failed" and b["preflight"]["stderr_tail"],
           "the preflight failed with a log", b["preflight"])
    return rel["id"]


def signed(srv):
    """Two signed releases on a channel whose root (stored by the server)
    wants 2 of keys a and b: one signed by both (threshold met), one by a
    alone (not met). Returns their ids."""
    p = lambda name: os.path.join(srv.tmp, name)  # noqa: E731
    for k in ("a", "b"):
        cli(srv, "keygen", "--out", p(k))
    cli(srv, "root", "create", "--threshold", "2", "--key", p("a.pub"), "--key", p("b.pub"),
        "--sign", p("a"), "--sign", p("b"), "--out", p("root.json"))
    cli(srv, "root", "push", p("root.json"))
    st, b = srv.request("POST", "/v1/channels", {"name": "signed"})
    expect(st == 201, "channel", st, b)
    return [signed_release(srv, "signed", 1, ("a", "b")), signed_release(srv, "signed", 2, ("a",))]


def drive(setup, env, srv):
    """Runs web_browser.js; kills rollgated (-9) and starts it again when
    the script says RESTART. Returns the script's output."""
    # stderr to a file: Chromium's messages must not fill a pipe nobody
    # reads while the script's stdout is followed.
    err_file = tempfile.TemporaryFile(mode="w+")
    p = subprocess.Popen(["node", os.path.join(rg.SOURCE_DIR, "tests", "e2e", "web_browser.js")],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=err_file, text=True, env=env)
    p.stdin.write(json.dumps(setup) + "\n")
    p.stdin.flush()
    out = []
    for line in p.stdout:
        out.append(line)
        print(line, end="")
        if line.strip() == "RESTART":
            srv.kill()
            srv.start()
            p.stdin.write("go\n")
            p.stdin.flush()
    p.stdin.close()
    code = p.wait(600)
    err_file.seek(0)
    err = err_file.read()
    expect(code == 0, "the browser run", "".join(out)[-2000:], err[-3000:])
    return "".join(out)


def main():
    dep = subprocess.run([os.path.join(rg.SOURCE_DIR, "scripts", "deps.sh"), "web"],
                         capture_output=True, text=True)
    expect(dep.returncode == 0, "scripts/deps.sh web (Debian and npm registries needed)",
           dep.stdout, dep.stderr)
    shots = os.path.join(rg.BUILD_DIR, "web-screenshots")
    os.makedirs(shots, exist_ok=True)
    # releases declare no activation time: learn it up to 1 s
    with rg.Server(args=["--tick-ms", "100", "--flush-ms", "200",
                         "--activation-cap", "1"]) as srv:
        srv.start()
        rid = rollout(srv)
        viewer = srv.make_token("viewer", "watcher")
        st, key = srv.request("POST", "/v1/enrollment-keys", {})
        expect(st == 201, "enrollment key", st, key)
        st, b = srv.request("POST", "/v1/rollouts/%d/pause" % rid, {"reason": "forged"},
                            token=viewer)
        expect(st == 403 and b["error"]["code"] == "forbidden", "a viewer's POST is 403", st, b)
        setup = {"url": srv.url, "admin": srv.token, "viewer": viewer, "key": key["key"],
                 "channel": "detections", "rollout": rid, "shots": shots,
                 "preflighted": preflighted(srv), "signed": signed(srv)}
        env = dict(os.environ, NODE_PATH=os.path.join(NPM_DIR, "web", "node_modules"))
        out = drive(setup, env, srv)
        result = json.loads(out.strip().splitlines()[-1])
        st, b = srv.request("GET", "/v1/audit?action=rollout.pause&target=rollout:%d" % rid)
        expect(st == 200 and b["audit"] and b["audit"][0]["reason"] == "checking the dashboard"
               and b["audit"][0]["actor"] == "admin", "the page's pause is audited with its reason",
               st, b)
        for name in ("overview", "overview-ended", "rollout-viewer", "rollout-halted", "endpoint",
                     "releases", "release", "release-preflight", "release-signed", "channels",
                     "channel", "audit"):
            path = os.path.join(shots, name + ".png")
            expect(os.path.getsize(path) > 1000, "screenshot " + name, path)
        f = result["figures"]
        print("figures: overview first render %d ms; JS %d B + CSS %d B gzipped; halt shown "
              "%d ms after the decision; Tab presses to pause %d; screenshots in %s"
              % (f["overview_first_render_ms"], f["js_gzip_bytes"], f["css_gzip_bytes"],
                 f["halt_shown_after_decision_ms"], f["tabs_to_pause"], shots))
        print("figures: an exposure's counts shown %d ms after its report (one tick: 100 ms)"
              % f["counts_shown_after_report_ms"])


if __name__ == "__main__":
    rg.run(main)
