"""The Debian packages (issue 13; docs/operations.md, "Debian packages"):
`scripts/deb.sh` (what `make deb` runs: dpkg-buildpackage -us -uc -b on
debian/, here with DEB_BUILD_OPTIONS=nocheck: the unit tests run in their
own CTest tests) builds rollgate-server, rollgate-agent and rollgate-cli;
then

- each package holds what it should and nothing else: programs, units,
  sysusers.d/tmpfiles.d entries, man pages, completion, the engine
  directory, Debian's doc files; no path and no binary mentions the
  directory they were built in;
- lintian finds no error and no warning;
- they are installed into a throwaway root with the real dpkg and their
  real maintainer scripts: `dpkg --root=ROOT --force-script-chrootless`
  runs the scripts on this machine with DPKG_ROOT=ROOT, and every command
  they call (systemd-sysusers, systemd-tmpfiles, deb-systemd-helper)
  acts on ROOT. This is chosen over `dpkg -x`, which runs no script (the
  system users and the data directory would not be checked), and over a
  chroot, which needs a whole Debian in ROOT. `--force-depends`: ROOT's
  package database is empty (the libraries are this machine's). Checked:
  the system users rollgated and rollgate-agent exist in ROOT with no
  login shell, /var/lib/rollgated belongs to rollgated with mode 0700, and
  no service is enabled (no .wants link in ROOT/etc/systemd);
- the installed programs run: rollgated --version says the package's
  version; as README.md's "Install" says, rollgated run as the user
  rollgated (setpriv, as `runuser -u rollgated` would) with the packaged
  /etc/rollgate/rollgated.conf (its paths moved into ROOT) initialises the
  package's data directory ROOT/var/lib/rollgated and serves it, with the
  packaged engine directory, and answers /healthz and the dashboard (its
  files from ROOT/usr/share/rollgate/web); the installed
  rollgate creates a preflighted channel and lists it over HTTP; the
  installed rollgate-agent, run as the user rollgate-agent with the
  packaged example configuration (its placeholders filled in; `insecure`
  instead of a pinned root) and its state in ROOT/var/lib/rollgate-agent
  (mode 0700, as the unit's StateDirectory= makes it), enrolls and checks
  in once; the other programs answer --help;
- `dpkg --purge` removes the programs and keeps rollgated's data (its
  database).
# ctest-labels: pkg
"""
import os
import re
import shutil
import stat
import subprocess
import tempfile
import time
import urllib.request

import rg
from rg import expect

BUILD_TIMEOUT_S = 1800  # bound on the package build (never an assertion)
START_TIMEOUT_S = 30
PACKAGES = ("rollgate-server", "rollgate-agent", "rollgate-cli")
DOCS = ("changelog.gz", "copyright")
CONTENTS = {
    "rollgate-server": {
        "etc/rollgate/rollgated.conf",
        "usr/sbin/rollgated", "usr/bin/rollgate-engine",
        "usr/lib/rollgate/engines/rollgate-engine",
        "lib/systemd/system/rollgated.service",
        "usr/lib/sysusers.d/rollgated.conf",
        "usr/lib/tmpfiles.d/rollgated.conf",
        "usr/share/man/man8/rollgated.8.gz",
        "usr/share/man/man1/rollgate-engine.1.gz"},
    "rollgate-agent": {
        "usr/sbin/rollgate-agent", "lib/systemd/system/rollgate-agent.service",
        "usr/lib/sysusers.d/rollgate-agent.conf",
        "usr/share/man/man8/rollgate-agent.8.gz",
        "usr/share/doc/rollgate-agent/examples/agent.conf"},
    "rollgate-cli": {
        "usr/bin/rollgate", "usr/bin/rollgate-sim",
        "usr/share/bash-completion/completions/rollgate",
        "usr/share/man/man1/rollgate.1.gz",
        "usr/share/man/man1/rollgate-sim.1.gz"},
}


def run(*args, env=None, timeout=300):
    p = subprocess.run(list(args), capture_output=True, text=True,
                       timeout=timeout, env=env)
    expect(p.returncode == 0, " ".join(args), p.returncode, p.stdout[-3000:],
           p.stderr[-3000:])
    return p.stdout


def build(out):
    env = dict(os.environ, DEB_BUILD_OPTIONS="nocheck parallel=2")
    p = subprocess.run([os.path.join(rg.SOURCE_DIR, "scripts", "deb.sh"), out],
                       capture_output=True, text=True, env=env,
                       timeout=BUILD_TIMEOUT_S)
    expect(p.returncode == 0, "scripts/deb.sh", p.stdout[-4000:],
           p.stderr[-4000:])
    version = run("dpkg-parsechangelog", "-l",
                  os.path.join(rg.SOURCE_DIR, "debian", "changelog"),
                  "-S", "Version").strip()
    debs = {pkg: os.path.join(out, "%s_%s_amd64.deb" % (pkg, version))
            for pkg in PACKAGES}
    for pkg, deb in debs.items():
        expect(os.path.exists(deb), "built " + pkg, os.listdir(out))
    return version, debs


def check_contents(pkg, deb, build_dir):
    listing = run("dpkg-deb", "-c", deb)
    files = set()
    for line in listing.splitlines():
        path = line.split(None, 5)[5].split(" -> ")[0]
        if not line.startswith("d"):
            files.add(path[2:])  # "./usr/..." -> "usr/..."
    want = CONTENTS[pkg] | {"usr/share/doc/%s/%s" % (pkg, d) for d in DOCS}
    if pkg == "rollgate-server":  # the web dashboard (docs/dashboard.md)
        web = "usr/share/rollgate/web/"
        want |= {web + n for n in os.listdir(os.path.join(rg.SOURCE_DIR, "web", "ui"))}
        # the npm packages' files, when scripts/deps.sh web had run
        want |= files & {web + "uPlot.esm.js", web + "uPlot.min.css"}
    expect(files == want, pkg + ": the files it should hold, nothing else",
           sorted(files ^ want))
    expect(build_dir not in listing and "obj-" not in listing,
           pkg + ": no build path in its file list", listing)


def check_no_build_path(root, build_dir):
    for d in ("usr/bin", "usr/sbin"):
        for name in os.listdir(os.path.join(root, d)):
            with open(os.path.join(root, d, name), "rb") as f:
                expect(build_dir.encode() not in f.read(),
                       "%s/%s names the build directory" % (d, name))


def lintian(out, version):
    if not shutil.which("lintian"):
        print("lintian absent: packages not linted")
        return
    p = subprocess.run(["lintian", "--fail-on", "error,warning",
                        os.path.join(out, "rollgate_%s_amd64.changes" % version)],
                       capture_output=True, text=True, timeout=600)
    expect(p.returncode == 0, "lintian: no error, no warning", p.stdout,
           p.stderr)


def install(root, debs):
    for d in ("var/lib/dpkg/info", "var/lib/dpkg/updates", "etc"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    for f in ("status", "available"):
        open(os.path.join(root, "var/lib/dpkg", f), "w").close()
    run("dpkg", "--root=" + root, "--force-script-chrootless",
        "--force-depends", "-i", *debs.values())


def users(root):
    """name -> (uid, shell) from ROOT/etc/passwd."""
    with open(os.path.join(root, "etc", "passwd")) as f:
        rows = [l.rstrip("\n").split(":") for l in f if l.strip()]
    return {r[0]: (int(r[2]), r[6]) for r in rows}


def check_installed(root):
    u = users(root)
    for name in ("rollgated", "rollgate-agent"):
        expect(name in u and u[name][1] == "/usr/sbin/nologin",
               "system user %s, no login shell" % name, u)
    st = os.stat(os.path.join(root, "var/lib/rollgated"))
    expect(st.st_uid == u["rollgated"][0] and stat.S_IMODE(st.st_mode) == 0o700,
           "/var/lib/rollgated: rollgated's, mode 0700", st)
    wants = [os.path.join(dp, f)
             for dp, _, fs in os.walk(os.path.join(root, "etc", "systemd"))
             for f in fs]
    expect(not wants, "no service enabled by the packages", wants)


def smoke(root, version, tmp):
    env = {"PATH": "%s/usr/bin:%s/usr/sbin:/usr/bin:/bin" % (root, root),
           "HOME": tmp}
    out = run("rollgated", "--version", env=env)
    expect(out.strip() == "rollgated " + version, "rollgated --version", out)
    for prog in ("rollgate", "rollgate-agent", "rollgate-sim",
                 "rollgate-engine"):
        run(prog, "--help", env=env)
    as_rollgated = as_user(root, "rollgated")
    port = rg.free_port()
    url = "http://127.0.0.1:%d" % port
    conf = server_conf(root, tmp, port)
    token = run(*as_rollgated, "rollgated", "init", "--config", conf,
                env=env).split()[-1]
    with open(os.path.join(tmp, "rollgated.log"), "wb") as log:
        srv = subprocess.Popen(as_rollgated + ["rollgated", "--config", conf],
                               env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            expect(srv.poll() is None and time.monotonic() < deadline,
                   "the installed rollgated serves /healthz")
            time.sleep(0.1)
        # the dashboard from the package's share/rollgate/web
        for path, want in (("/", b'src="/ui/app.js"'), ("/ui/app.js", b"import"),
                           ("/ui/style.css", b"{")):
            with urllib.request.urlopen(url + path, timeout=10) as r:
                body = r.read()
            expect(want in body, "the package's rollgated serves the dashboard's " + path,
                   body[:200])
        cli = dict(env, ROLLGATE_URL=url, ROLLGATE_TOKEN=token)
        run("rollgate", "channel", "create", "detections",
            "--preflight-engine", "rollgate-engine", env=cli)
        out = run("rollgate", "channel", "list", env=cli)
        expect("detections" in out, "the installed rollgate lists the channel",
               out)
        out = run("rollgate", "enroll-key", "create", env=cli)
        key = re.search(r"^key:\s+(\S+)$", out, re.M)
        expect(key, "an enrollment key from the installed rollgate", out)
        agent_once(root, env, url, key.group(1))
    finally:
        srv.terminate()
        srv.wait(30)


def server_conf(root, tmp, port):
    """The packaged /etc/rollgate/rollgated.conf, checked, then copied with
    ROOT before its absolute paths (its data directory, engine directory,
    access log: all made by the package or the unit) and port for this
    machine. Returns the copy's path."""
    with open(os.path.join(root, "etc/rollgate/rollgated.conf")) as f:
        conf = f.read()
    subs = {"data": "/var/lib/rollgated",
            "engine_dir": "/usr/lib/rollgate/engines",
            "access_log": "/var/log/rollgate/access.log",
            "listen": "127.0.0.1:7400"}
    for key, value in subs.items():
        line = "%s = %s" % (key, value)
        expect(re.search("^%s$" % re.escape(line), conf, re.M),
               "the packaged rollgated.conf says " + line, conf)
        new = root + value if value.startswith("/") else "127.0.0.1:%d" % port
        conf = conf.replace(line, "%s = %s" % (key, new))
    logs = os.path.join(root, "var/log/rollgate")  # the unit's LogsDirectory=
    os.makedirs(logs)
    uid = users(root)["rollgated"][0]
    os.chown(logs, uid, uid)
    path = os.path.join(tmp, "rollgated.conf")
    with open(path, "w") as f:
        f.write(conf)
    os.chmod(path, 0o644)
    return path


def as_user(root, name):
    """The command prefix that runs a program as ROOT's user name."""
    uid = users(root)[name][0]
    return ["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid,
            "--clear-groups", "--"]


def agent_once(root, env, url, key):
    with open(os.path.join(root, "usr/share/doc/rollgate-agent/examples",
                           "agent.conf")) as f:
        conf = f.read()
    state = os.path.join(root, "var/lib/rollgate-agent")
    subs = {r"^server = .*$": "server = " + url,
            r"^enrollment_key = .*$": "enrollment_key = " + key,
            r"^state_dir = .*$": "state_dir = " + state,
            r"^trust_root_sha256 = .*$": "insecure = true"}
    for pattern, line in subs.items():
        conf, n = re.subn(pattern, line, conf, flags=re.M)
        expect(n == 1, "the example agent.conf has " + pattern, conf)
    # this machine may have no /etc/machine-id, the default id
    conf = "endpoint_id = deb-smoke-1\n" + conf
    path = os.path.join(root, "etc/rollgate/agent.conf")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(conf)
    os.chmod(path, 0o644)
    uid = users(root)["rollgate-agent"][0]
    os.makedirs(state, mode=0o700)
    os.chown(state, uid, uid)
    run(*as_user(root, "rollgate-agent"), "rollgate-agent", "--config", path,
        "once", env=env)
    expect(os.path.exists(os.path.join(state, "token")),
           "the installed agent enrolled (its token in its state directory)")


def purge(root):
    run("dpkg", "--root=" + root, "--force-script-chrootless",
        "--force-depends", "--purge", *PACKAGES)
    for p in ("usr/sbin/rollgated", "usr/bin/rollgate",
              "lib/systemd/system/rollgated.service"):
        expect(not os.path.lexists(os.path.join(root, p)), "purged: " + p)
    expect(os.path.isfile(os.path.join(root, "var/lib/rollgated",
                                       "rollgate.db")),
           "rollgated's data survives a purge")


def main():
    if os.geteuid() != 0:  # dpkg --root installs files with their owners
        print("not root: the packages cannot be installed here; skipped")
        return
    run(os.path.join(rg.SOURCE_DIR, "scripts", "deps.sh"), "deb", timeout=1800)
    with tempfile.TemporaryDirectory(prefix="rg-deb-") as tmp:
        os.chmod(tmp, 0o755)  # the user rollgated runs the installed programs
        out = os.path.join(tmp, "out")
        version, debs = build(out)
        expect(re.match(r"^\d+\.\d+\.\d+", version), "version", version)
        build_dir = os.path.join(out, "src")
        for pkg, deb in debs.items():
            check_contents(pkg, deb, build_dir)
        lintian(out, version)
        root = os.path.join(tmp, "root")
        install(root, debs)
        check_no_build_path(root, build_dir)
        check_installed(root)
        smoke(root, version, tmp)
        purge(root)
    print("ok")


if __name__ == "__main__":
    rg.run(main)
