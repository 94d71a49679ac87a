"""scripts/deps.sh installs what the build, tests and demo need and nothing
more, and never lets a package start a service. It runs with fake
dpkg-query (every package missing), apt-get and systemctl first on PATH,
which record their arguments; apt-get also records whether the deny policy
($RG_POLICY_RC_D, here a temp path instead of /usr/sbin/policy-rc.d) is in
place and exits 101 while it installs, and whether PostgreSQL's
create_main_cluster = false is written ($RG_CREATECLUSTER_CONF, a temp
path too). Checked: the default set holds the build and test packages,
libpq-dev and PostgreSQL's server (for the store's tests on it, no cluster
made) and no nginx or wrk; `bench` adds wrk
and nginx-light (and disables nginx at boot), `clang` adds clang; the
policy is removed afterwards when deps.sh made it and kept when it was
already there; a bad argument is a usage error that installs nothing.
# ctest-labels: ops
"""
import os
import subprocess
import tempfile

import rg
from rg import expect

DEPS = os.path.join(rg.SOURCE_DIR, "scripts", "deps.sh")
FAKES = {
    "dpkg-query": "exit 1\n",
    "apt-get": 'echo "apt-get $*" >> "$LOG"\n'
               'if [ "$1" = install ]; then\n'
               '  if [ -x "$RG_POLICY_RC_D" ] && ! "$RG_POLICY_RC_D" nginx start; then\n'
               '    echo "policy: denies" >> "$LOG"\n'
               '  else echo "policy: missing" >> "$LOG"; fi\n'
               '  if grep -qx "create_main_cluster = false" "$RG_CREATECLUSTER_CONF"; then\n'
               '    echo "cluster: none" >> "$LOG"; fi\n'
               'fi\n',
    "systemctl": 'echo "systemctl $*" >> "$LOG"\n',
}


def run(tmp, *args, policy_before=False):
    bin_dir, log = os.path.join(tmp, "bin"), os.path.join(tmp, "log")
    policy = os.path.join(tmp, "policy-rc.d")
    os.makedirs(bin_dir, exist_ok=True)
    for name, body in FAKES.items():
        path = os.path.join(bin_dir, name)
        with open(path, "w") as f:
            f.write("#!/bin/sh\n" + body)
        os.chmod(path, 0o755)
    for f in (log, policy):
        if os.path.exists(f):
            os.unlink(f)
    if policy_before:
        with open(policy, "w") as f:
            f.write("#!/bin/sh\nexit 101\n")
        os.chmod(policy, 0o755)
    env = dict(os.environ, PATH=bin_dir + ":" + os.environ["PATH"], LOG=log,
               RG_POLICY_RC_D=policy,
               RG_CREATECLUSTER_CONF=os.path.join(tmp, "createcluster.d", "00.conf"))
    p = subprocess.run(["sh", DEPS] + list(args), env=env, capture_output=True,
                       text=True, timeout=60)
    text = open(log).read() if os.path.exists(log) else ""
    return p, text, os.path.exists(policy)


def installed(text):
    for line in text.splitlines():
        if line.startswith("apt-get install"):
            return set(line.split()[2:]) - {"-y", "-q", "--no-install-recommends"}
    raise rg.Failure("no apt-get install in %r" % text)


def main():
    if os.getuid() != 0:
        print("skipped: deps.sh calls sudo when not root")
        return
    with tempfile.TemporaryDirectory(prefix="rg-deps-") as tmp:
        p, log, policy_left = run(tmp)
        expect(p.returncode == 0, "deps.sh", p.stdout, p.stderr)
        pk = installed(log)
        for need in ("cmake", "ninja-build", "libmicrohttpd-dev", "libsqlite3-dev",
                     "libcmocka-dev", "libseccomp-dev", "openssl", "python3",
                     "curl", "libpq-dev", "postgresql"):
            expect(need in pk, "the default set installs " + need, sorted(pk))
        expect("cluster: none" in log, "PostgreSQL makes no cluster", log)
        for extra in ("nginx-light", "wrk", "clang"):
            expect(extra not in pk, "the default set leaves out " + extra,
                   sorted(pk))
        expect("policy: denies" in log, "services are denied while installing", log)
        expect(not policy_left, "deps.sh removes the policy it made")
        expect("systemctl" not in log, "no systemctl outside bench", log)

        p, log, _ = run(tmp, "bench")
        pk = installed(log)
        expect(p.returncode == 0 and {"wrk", "nginx-light"} <= pk,
               "bench adds wrk and nginx", sorted(pk), p.stderr)
        expect("systemctl disable --quiet nginx" in log, "nginx off at boot", log)

        p, log, policy_left = run(tmp, "clang", policy_before=True)
        expect(p.returncode == 0 and "clang" in installed(log),
               "clang adds clang", log, p.stderr)
        expect("policy: denies" in log and policy_left,
               "a policy that was there stays", log)

        p, log, _ = run(tmp, "postgres")
        expect(p.returncode == 2 and "usage" in p.stderr and log == "",
               "a bad argument installs nothing", p.returncode, p.stderr, log)


if __name__ == "__main__":
    rg.run(main)
