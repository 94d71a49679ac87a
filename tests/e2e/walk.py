"""walk.py - run the commands of a Markdown document as written.

The convention (docs/README.md): a ```sh block holds commands meant to be
run, in order, and all the ```sh blocks of one file form one walk; usage
synopses with placeholders, sample output, config files and file layouts
live in ```text (or ```json, ```ini, ...) blocks and are never run.

    import walk
    cmds = walk.commands("docs/preflight.md")      # [(line, command), ...]
    with walk.Walk("docs/preflight.md") as w:      # a fresh dir like a clone
        for line, cmd in cmds:
            w.run(line, cmd)
        w.output("rollgate release show")          # the output of a command

A command is one line of a block, with `\\` continuations joined and a
here-document (`<<'EOF'` ... `EOF`) kept whole; blank and comment lines are
dropped. It runs through `sh -c` in a temporary directory laid out like the
top of a clone (every top-level entry of the source symlinked, build ->
$RG_BUILD_DIR), with a PATH of only the system directories and no
ROLLGATE_* variables. What is changed in the text: each port 74NN of
127.0.0.1 or localhost becomes a free one. `export NAME=VALUE` sets NAME
for the following commands; a command ending in `&` starts a background
process, which must then accept connections on the port its `--listen`
names (polled, never slept on). Every command must exit 0, unless its
comment starts with `exit N` (`rollgate release show 99   # exit 1: ...`):
then it must exit exactly N. A failure names the file, line, command,
exit status and the tail of its output.
"""
import os
import re
import shlex
import signal
import socket
import subprocess
import tempfile
import time

import rg
from rg import expect

CMD_TIMEOUT_S = 300  # bound on one command (never an assertion)
START_TIMEOUT_S = 30
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"
PORT_RE = re.compile(r"\b(127\.0\.0\.1|localhost):(74\d\d)\b")


def blocks(text, lang):
    """[(first line number, [lines])] of the ```lang fenced blocks of text."""
    out, inside, keep, start = [], False, None, 0
    for n, line in enumerate(text.splitlines(), 1):
        if line.startswith("```"):
            if not inside:
                keep = [] if line[3:].strip() == lang else None
                start = n + 1
            elif keep is not None:
                out.append((start, keep))
            inside = not inside
        elif inside and keep is not None:
            keep.append(line)
    return out


def strip_comment(line):
    """(line without a trailing `# comment`, the comment) where the # is
    outside quotes and starts a word."""
    quote = None
    for i, c in enumerate(line):
        if quote:
            quote = None if c == quote else quote
        elif c in "'\"":
            quote = c
        elif c == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i].rstrip(), line[i + 1:].strip()
    return line, ""


def block_commands(start, lines):
    """[(line number, command, comment)] of one block's lines."""
    out, cur, first, comment, heredoc = [], "", 0, "", None
    for n, raw in enumerate(lines, start):
        if heredoc is not None:
            cur += "\n" + raw
            if raw.strip() == heredoc:
                out.append((first, cur, comment))
                cur, heredoc = "", None
            continue
        code, note = strip_comment(raw)
        if not cur:
            first, comment = n, ""
        comment = comment or note
        cur += code.lstrip() if cur else code
        if cur.endswith("\\"):
            cur = cur[:-1].rstrip() + " "
            continue
        m = re.search(r"<<-?\s*'?\"?(\w+)'?\"?", cur)
        if m:
            heredoc = m.group(1)
            continue
        if cur.strip():
            out.append((first, cur.strip(), comment))
        cur = ""
    expect(heredoc is None and not cur, "a block ends inside a command", start)
    return out


def commands(path, lang="sh", section=None):
    """[(line number, command, comment)] of every ```lang block of path,
    or only of those under the `## section` heading."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    lo, hi = 0, 1 << 30
    if section is not None:
        heads = [n for n, l in enumerate(text.splitlines(), 1)
                 if l.startswith("## ")]
        mine = [n for n, l in enumerate(text.splitlines(), 1)
                if l == "## " + section]
        expect(mine, "%s has no section" % path, section)
        lo = mine[0]
        hi = min([n for n in heads if n > lo] + [hi])
    out = []
    for start, lines in blocks(text, lang):
        if lo < start < hi:
            out += block_commands(start, lines)
    return out


def expected_status(comment):
    """The exit status a command's comment announces (`exit N...`), else 0."""
    m = re.match(r"exit (\d+)\b", comment)
    return int(m.group(1)) if m else 0


def wait_listening(port, proc, what):
    """Polls until 127.0.0.1:port accepts a connection."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        expect(proc.poll() is None, what + ": the background process exited",
               proc.returncode)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            pass
        expect(time.monotonic() < deadline, what + ": nothing listens on",
               port)
        time.sleep(0.05)


class Walk:
    """A fresh directory laid out like a clone, an environment, the
    background processes started and the outputs of the commands run."""

    def __init__(self, doc):
        self.doc = os.path.relpath(doc, rg.SOURCE_DIR)
        self.tmp = tempfile.TemporaryDirectory(prefix="rg-walk-")
        self.work = self.tmp.name
        for name in os.listdir(rg.SOURCE_DIR):
            if name not in ("build", "var") and not name.startswith("."):
                os.symlink(os.path.join(rg.SOURCE_DIR, name),
                           os.path.join(self.work, name))
        os.symlink(rg.BUILD_DIR, os.path.join(self.work, "build"))
        self.bg, self.out, self.ports = [], [], {}
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith("ROLLGATE_")}
        self.env.update(PATH=SYSTEM_PATH, HOME=self.work, PWD=self.work)

    def port(self, written):
        """The free port that stands for the port written in the doc."""
        if written not in self.ports:
            self.ports[written] = str(rg.free_port())
        return self.ports[written]

    def local(self, cmd):
        return PORT_RE.sub(lambda m: m.group(1) + ":" + self.port(m.group(2)),
                           cmd)

    def run(self, line, cmd, comment=""):
        """Runs one command of the doc (line: where it is written)."""
        where = "%s:%d: %s" % (self.doc, line, cmd)
        cmd = self.local(cmd)
        m = re.match(r"export ([A-Za-z_][A-Za-z0-9_]*)=(.*)$", cmd, re.S)
        if m:
            value = self.sh("set -e; v=%s; printf %%s \"$v\"" % m.group(2),
                            where, 0)
            expect(value != "", "an export gives an empty value", where)
            self.env[m.group(1)] = value
        elif cmd.endswith("&") and not cmd.endswith("&&"):
            self.background(cmd[:-1], where)
        else:
            self.out.append((cmd, self.sh(cmd, where,
                                          expected_status(comment))))

    def background(self, cmd, where):
        argv = shlex.split(cmd)
        proc = subprocess.Popen(["sh", "-c", 'exec "$@"', "sh"] + argv,
                                cwd=self.work, env=self.env,
                                stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        self.bg.append(proc)
        m = re.search(r"--listen\s+\S*:(\d+)", cmd)
        expect(m is not None, "a background command names no --listen port",
               where)
        wait_listening(int(m.group(1)), proc, where)

    def sh(self, script, where, status):
        p = subprocess.run(["sh", "-c", script], cwd=self.work, env=self.env,
                           capture_output=True, text=True,
                           timeout=CMD_TIMEOUT_S)
        expect(p.returncode == status, "%s\n  exit status %d, the doc wants %d"
               % (where, p.returncode, status), p.stdout[-600:],
               p.stderr[-600:])
        return p.stdout + p.stderr if status else p.stdout

    def output(self, prefix):
        """The output of the last command run that starts with prefix."""
        hits = [o for c, o in self.out if c.startswith(prefix)]
        expect(hits, "%s runs no command" % self.doc, prefix)
        return hits[-1]

    def path(self, name):
        return os.path.join(self.work, name)

    def stop(self):
        for p in self.bg:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(20)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        self.bg = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        self.tmp.cleanup()
        return False


def named_paths_exist(path):
    """Every `dir/...` path the file names in backquotes exists in the
    source tree."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    roots = ("docs/", "examples/", "scripts/", "bench/", "tests/", "src/",
             "scenarios/", "include/", "debian/", "packaging/", "../")
    for span in re.findall(r"`([^`\n]+)`", text):
        for word in span.split():
            word = word.rstrip(",.;:)").split(":")[0]
            if word.startswith(roots) and not re.search(r"[*X<{[]", word):
                expect(os.path.exists(os.path.join(rg.SOURCE_DIR, word)),
                       "%s names a path that does not exist"
                       % os.path.relpath(path, rg.SOURCE_DIR), word)
