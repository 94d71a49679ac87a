"""`make install`'s step (cmake --install with a prefix and DESTDIR, issue
13) into a throwaway root, then the installed programs used as a user
would, with a PATH of only that root and the system directories:

- rollgated and rollgate-agent land in PREFIX/sbin, rollgate,
  rollgate-sim and rollgate-engine in PREFIX/bin, executable, rollgate's
  bash completion in PREFIX/share/bash-completion/completions (it
  completes commands and options from the installed CLI's help), the
  man pages rollgate(1), rollgated(8), rollgate-agent(8),
  rollgate-sim(1), rollgate-engine(1) in
  PREFIX/share/man, made of the programs' own --help texts, and nothing
  else;
- the systemd units of rollgated and rollgate-agent in PREFIX/lib/
  systemd/system (their ExecStart= naming the installed programs), the
  sysusers.d entries of their users, rollgated's tmpfiles.d entry, and
  the engine directory PREFIX/lib/rollgate/engines (a link to the sample
  engine) that rollgated's unit passes as --engine-dir;
- `systemd-analyze verify` (when present: it is on Debian) finds nothing
  to say about the units installed under a prefix that exists here;
- the installed rollgated creates and serves a data directory whose
  channel's preflight engine, the installed sample engine, is found by
  --engine-dir PREFIX/lib/rollgate/engines, as the unit finds it; the
  installed CLI creates a release and waits for its preflight to pass;
  every installed program answers --help.
# ctest-labels: ops
"""
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request

import rg
from rg import expect

PREFIX = "/usr"
MAN_PAGES = {"rollgate.1": ("rollgate", ["rollout", "endpoints", "--help"]),
             "rollgated.8": ("rollgated", ["--help"]),
             "rollgate-agent.8": ("rollgate-agent", ["--help"]),
             "rollgate-sim.1": ("rollgate-sim", ["--help"]),
             "rollgate-engine.1": ("rollgate-engine", ["--help"])}
DEADLINE_S = 30  # bound on the server's start (never an assertion)
SYSTEMD_FILES = ("systemd/system/rollgated.service",
                 "systemd/system/rollgate-agent.service",
                 "sysusers.d/rollgated.conf", "sysusers.d/rollgate-agent.conf",
                 "tmpfiles.d/rollgated.conf", "rollgate/engines/rollgate-engine")


def run(env, *args):
    p = subprocess.run(list(args), env=env, capture_output=True, text=True,
                       timeout=120)
    expect(p.returncode == 0, " ".join(args), p.returncode, p.stdout,
           p.stderr)
    return p.stdout


def verify_units(tmp):
    """systemd-analyze verify on the units of an install whose prefix
    exists on this machine (their ExecStart= programs must be there)."""
    if not shutil.which("systemd-analyze"):
        print("systemd-analyze absent: units not verified")
        return
    prefix = os.path.join(tmp, "prefix")
    run(dict(os.environ), "cmake", "--install", rg.BUILD_DIR, "--prefix",
        prefix)
    units = [os.path.join(prefix, "lib", "systemd", "system", u + ".service")
             for u in ("rollgated", "rollgate-agent")]
    p = subprocess.run(["systemd-analyze", "verify", "--man=no"] + units,
                       capture_output=True, text=True, timeout=120)
    expect(p.returncode == 0 and not p.stdout.strip() and
           not p.stderr.strip(), "systemd-analyze verify: nothing to say",
           p.returncode, p.stdout, p.stderr)


def main():
    with tempfile.TemporaryDirectory(prefix="rg-install-") as tmp:
        dest = os.path.join(tmp, "root")
        env = dict(os.environ, DESTDIR=dest)
        run(env, "cmake", "--install", rg.BUILD_DIR, "--prefix", PREFIX)
        root = dest + PREFIX
        want = {"sbin": ("rollgated", "rollgate-agent"),
                "bin": ("rollgate", "rollgate-sim", "rollgate-engine")}
        for d, names in want.items():
            for n in names:
                path = os.path.join(root, d, n)
                expect(os.access(path, os.X_OK), "installed", path)
        found = {os.path.relpath(os.path.join(dp, f), dest)
                 for dp, _, fs in os.walk(dest) for f in fs}
        completion = os.path.join(PREFIX.lstrip("/"), "share",
                                  "bash-completion", "completions", "rollgate")
        man = {os.path.join(PREFIX.lstrip("/"), "share", "man", "man" + p[-1],
                            p) for p in MAN_PAGES}
        systemd = {os.path.join(PREFIX.lstrip("/"), "lib", f)
                   for f in SYSTEMD_FILES}
        # The web dashboard: the build's files in share/rollgate/web.
        web_built = sorted(os.listdir(os.path.join(rg.BUILD_DIR, "src", "server", "web")))
        web = {os.path.join(PREFIX.lstrip("/"), "share", "rollgate", "web", n)
               for n in web_built}
        expect("index.html" in web_built, "the build has the dashboard", web_built)
        engines = os.path.join(root, "lib", "rollgate", "engines")
        expect(found == {os.path.join(PREFIX.lstrip("/"), d, n)
                         for d, names in want.items() for n in names} |
               {completion} | man | systemd | web, "the five programs, the "
               "completion, the man pages, the systemd files, the dashboard, "
               "nothing else", sorted(found))
        expect(os.path.realpath(os.path.join(engines, "rollgate-engine")) ==
               os.path.join(root, "bin", "rollgate-engine"),
               "the engine directory links the sample engine")
        for unit in ("rollgated", "rollgate-agent"):
            with open(os.path.join(root, "lib", "systemd", "system",
                                   unit + ".service")) as f:
                text = f.read()
            expect("\nExecStart=%s/sbin/%s " % (PREFIX, unit) in text and
                   "\nType=notify\n" in text, unit + ".service", text)
        verify_units(tmp)

        env = {"PATH": "%s/bin:%s/sbin:/usr/bin:/bin" % (root, root),
               "HOME": tmp}
        for n in ("rollgated", "rollgate-agent", "rollgate", "rollgate-sim"):
            run(env, n, "--help")
        # The man pages are the programs' own help.
        for page, (prog, words) in MAN_PAGES.items():
            with open(os.path.join(dest, PREFIX.lstrip("/"), "share", "man",
                                   "man" + page[-1], page)) as f:
                text = f.read()
            helped = run(env, prog, *words)
            expect(text.startswith(".TH %s %s" % (prog.upper(), page[-1])) and
                   helped.splitlines()[0] in text and
                   all(o in text for o in re.findall(r"--[a-z-]+", helped)),
                   "man page %s from %s's help" % (page, prog), text[:300])
        # The completion asks the installed CLI for its words.
        out = run(env, "bash", "-c",
                  'source "$1"; COMP_WORDS=(rollgate rollout en); '
                  'COMP_CWORD=2; _rollgate; echo "${COMPREPLY[*]}"; '
                  'COMP_WORDS=(rollgate endpoints --ro); _rollgate; '
                  'echo "${COMPREPLY[*]}"', "bash", os.path.join(dest, completion))
        expect(out.split("\n")[:2] == ["endpoints", "--rollout"],
               "bash completion", out)
        data = os.path.join(tmp, "data")
        token = run(env, "rollgated", "init", "--data", data).split()[-1]
        port = rg.free_port()
        url = "http://127.0.0.1:%d" % port
        with open(os.path.join(tmp, "rollgated.log"), "wb") as log:
            srv = subprocess.Popen(
                ["rollgated", "--data", data, "--listen", "127.0.0.1:%d" % port,
                 "--engine-dir", engines],
                env=env, stdout=log, stderr=log)
            try:
                deadline = time.monotonic() + DEADLINE_S
                while True:
                    try:
                        urllib.request.urlopen(url + "/healthz", timeout=2)
                        break
                    except OSError:
                        expect(srv.poll() is None and
                               time.monotonic() < deadline,
                               "the installed rollgated serves")
                        time.sleep(0.1)
                with urllib.request.urlopen(url + "/", timeout=10) as r:
                    page = r.read()
                expect(b'src="/ui/app.js"' in page, "the installed dashboard at /", page[:200])
                cli = dict(env, ROLLGATE_URL=url, ROLLGATE_TOKEN=token)
                run(cli, "rollgate", "channel", "create", "detections",
                    "--preflight-engine", "rollgate-engine")
                out = run(cli, "rollgate", "release", "create", "--channel",
                          "detections", "--file",
                          os.path.join(rg.SOURCE_DIR, "examples",
                                       "channel-291.rules"),
                          "--version", "291", "--notes", "installed",
                          "--wait-preflight")
                expect("passed" in out, "preflight by the installed engine",
                       out)
            finally:
                srv.terminate()
                srv.wait(30)


if __name__ == "__main__":
    rg.run(main)
