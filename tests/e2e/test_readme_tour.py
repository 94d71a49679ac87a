"""README.md's tour of the CLI, run as written: the ```sh block under
"A tour of the CLI" is read from README.md and its commands run in order,
each through `sh -c` as a user's shell would, in a directory laid out like
a clone (build -> $RG_BUILD_DIR, examples -> the source's examples/), with
a PATH of only the system directories (the tour must say where the
programs are) and no ROLLGATE_* variables or config file. The one change
made to the text: the port 7400 becomes a free one. `export NAME=VALUE`
lines set NAME for the following commands; a line ending in `&` starts a
background server, which must answer /healthz. Every command must exit 0;
the outputs are checked for what the tour claims (a passed preflight, the
simulated fleet, the revert's rollout). Paths the README names in
backquotes must exist in the source tree. The other command blocks
(`make demo`, `make test`, building by hand) are what ran this build.
# ctest-labels: ops
"""
import os
import re
import shlex
import signal
import subprocess
import tempfile
import time
import urllib.request

import rg
from rg import expect

README = os.path.join(rg.SOURCE_DIR, "README.md")
TOUR_PORT = "127.0.0.1:7400"
CMD_TIMEOUT_S = 300  # bound on one command (never an assertion)
START_TIMEOUT_S = 30


def tour_lines(text):
    """The tour block's commands: continuation lines joined, blank and
    comment lines dropped."""
    m = re.search(r"^## A tour of the CLI\n(.*?)^```sh\n(.*?)^```$", text,
                  re.S | re.M)
    expect(m is not None, "README.md has no ```sh block under 'A tour of the CLI'")
    lines, cur = [], ""
    for raw in m.group(2).splitlines():
        cur += raw
        if cur.endswith("\\"):
            cur = cur[:-1]
            continue
        if strip_comment(cur).strip():
            lines.append(strip_comment(cur).strip())
        cur = ""
    expect(len(lines) >= 20, "the tour has too few commands", lines)
    return lines


def strip_comment(line):
    """line without a trailing `# comment` (a # outside quotes that starts
    a word)."""
    quote = None
    for i, c in enumerate(line):
        if quote:
            quote = None if c == quote else quote
        elif c in "'\"":
            quote = c
        elif c == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i].rstrip()
    return line


def readme_paths_exist(text):
    """Every `dir/...` path the README names in backquotes exists."""
    roots = ("docs/", "examples/", "scripts/", "bench/", "tests/", "src/",
             "scenarios/", "include/", "../")
    for span in re.findall(r"`([^`\n]+)`", text):
        for word in span.split():
            word = word.rstrip(",.;:)")
            if word.startswith(roots) and "*" not in word and "X" not in word:
                expect(os.path.exists(os.path.join(rg.SOURCE_DIR, word)),
                       "README.md names a path that does not exist", word)


def wait_healthy(port, proc):
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        expect(proc.poll() is None, "the tour's server exited", proc.returncode)
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/healthz" % port,
                                        timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        expect(time.monotonic() < deadline, "the tour's server never answered")
        time.sleep(0.1)


class Tour:
    def __init__(self, work, port):
        self.work, self.port, self.bg, self.out = work, port, [], {}
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith("ROLLGATE_")}
        self.env.update(PATH="/usr/local/bin:/usr/bin:/bin", HOME=work,
                        PWD=work)

    def run(self, line):
        line = line.replace(TOUR_PORT, "127.0.0.1:%d" % self.port)
        m = re.match(r"export ([A-Z_]+)=(.*)$", line)
        if m:
            value = self.sh("set -e; v=%s; printf %%s \"$v\"" % m.group(2), line)
            expect(value != "", "the tour's export gives an empty value", line)
            self.env[m.group(1)] = value
        elif line.endswith("&"):
            argv = shlex.split(line[:-1])
            proc = subprocess.Popen(["sh", "-c", 'exec "$@"', "sh"] + argv,
                                    cwd=self.work, env=self.env,
                                    stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            self.bg.append(proc)
            wait_healthy(self.port, proc)
        else:
            self.out[line] = self.sh(line, line)

    def sh(self, script, line):
        p = subprocess.run(["sh", "-c", script], cwd=self.work, env=self.env,
                           capture_output=True, text=True,
                           timeout=CMD_TIMEOUT_S)
        expect(p.returncode == 0, "README tour command failed (exit %d)"
               % p.returncode, line, p.stdout[-400:], p.stderr[-600:])
        return p.stdout

    def output(self, prefix):
        hits = [o for l, o in self.out.items() if l.startswith(prefix)]
        expect(hits, "the tour has no command", prefix)
        return hits[-1]

    def stop(self):
        for p in self.bg:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(20)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()


def main():
    with open(README, encoding="utf-8") as f:
        text = f.read()
    readme_paths_exist(text)
    lines = tour_lines(text)
    expect(any(TOUR_PORT in l for l in lines), "the tour serves on", TOUR_PORT)
    with tempfile.TemporaryDirectory(prefix="rg-tour-") as work:
        os.symlink(rg.BUILD_DIR, os.path.join(work, "build"))
        os.symlink(os.path.join(rg.SOURCE_DIR, "examples"),
                   os.path.join(work, "examples"))
        tour = Tour(work, rg.free_port())
        try:
            for line in lines:
                tour.run(line)
        finally:
            tour.stop()
        show = tour.output("rollgate release show 1")
        expect(re.search(r"preflight:\s+passed", show), "release 1 preflighted",
               show)
        expect("20 of 20 endpoints" in tour.output("rollgate endpoints"),
               "the simulated fleet is listed", tour.output("rollgate endpoints"))
        rollback = tour.output("rollgate rollout rollback 1")
        expect("rolled_back" in rollback and "keep release 1: it was channel "
               "detections's first" in rollback,
               "rollout 1 rolled back, and what its endpoints do", rollback)
        with open(os.path.join(work, "var", "tour-access.log")) as f:
            access = f.read()
        expect(re.search(r" GET /v1/endpoints 200 \S+ actor=admin ", access),
               "the access log holds the tour's requests", access[-600:])
        revert = tour.output("rollgate release revert")
        expect(re.search(r"version 293 = version 291's content", revert) and
               re.search(r"rollout 2: running", revert),
               "the revert made release 293 and started its rollout", revert)


if __name__ == "__main__":
    rg.run(main)
