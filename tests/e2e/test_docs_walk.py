"""Every command in docs/ runs as written (docs/README.md, the convention).

The convention: a ```sh block holds commands meant to be run in order, and
the sh blocks of one file form one walk; usage synopses with placeholders
(`rollgate flag create NAME (--file F | ...)`), sample output, config files
and commands only root can run live in ```text blocks; every block names
its language; a command meant to fail says `# exit N: ...`.

For each docs/*.md with ```sh blocks: a fresh directory laid out like a
clone, the README tour's set-up (its commands up to `export
ROLLGATE_URL=...`: the programs on PATH, a fresh server, ROLLGATE_URL and
an admin ROLLGATE_TOKEN), then the doc's walk, run by walk.py: every
command exits 0, or exactly the status its comment announces. A few key
claims of each doc are then checked on the outputs (CLAIMS). One server
per doc; the harness never sleeps for a result (servers are polled until
they listen; agent.md's walk polls the server for the agent's report).

Then the synopses: every line of a ```text block of docs/, README.md,
scenarios/README.md and bench/checkin/README.md, and every backquoted span
in their prose, that starts with rollgate, rollgated, rollgate-agent,
rollgate-sim or rollgate-engine names subcommands and options that the
program's --help lists (`rollgate COMMAND --help` for the CLI, whose
commands are those `rollgate --help` lists), so a renamed option fails
here. And every `dir/...` path a doc names in backquotes exists.
# ctest-labels: ops
"""
import glob
import json
import os
import re
import subprocess

import rg
import walk
from rg import expect

DOCS = sorted(glob.glob(os.path.join(rg.SOURCE_DIR, "docs", "*.md")))
README = os.path.join(rg.SOURCE_DIR, "README.md")
OTHERS = [README] + [os.path.join(rg.SOURCE_DIR, d, "README.md")
                     for d in ("scenarios", "bench/checkin")]
PROGRAMS = ("rollgate", "rollgated", "rollgate-agent", "rollgate-sim",
            "rollgate-engine")


def setup_commands():
    """The README tour's commands up to and including `export ROLLGATE_URL`."""
    cmds = walk.commands(README, section="A tour of the CLI")
    ends = [i for i, (_, c, _) in enumerate(cmds)
            if c.startswith("export ROLLGATE_URL=")]
    expect(ends, "the README tour sets no ROLLGATE_URL")
    return cmds[:ends[0] + 1]


def claim(cond, doc, what, *evidence):
    expect(cond, "%s: %s" % (doc, what), *evidence)


def claims_preflight(w, doc):
    passed = w.output("rollgate release show 1")
    claim(re.search(r"preflight:\s+passed", passed), doc,
          "the example's release passes preflight", passed)
    failed = w.output("rollgate release create --channel detections "
                      "--version 292")
    claim("named_pipe_c2" in failed and "20 fields" in failed, doc,
          "the incident's content fails preflight, and says why", failed)
    listing = w.output("rollgate channel list")
    claim("detections" in listing, doc, "the channel is listed", listing)


def claims_engine(w, doc):
    check = w.output("rollgate-engine check tests/data/engine/incident-291")
    claim(re.search(r": ok: \d+ templates, \d+ instances", check), doc,
          "check accepts the incident's file", check)
    run = w.output("rollgate-engine run tests/data/engine/incident-291")
    claim("event line 2: instance 'named_pipe_c2' matches on field 21 "
          "('named_pipe') but the event carries 20 fields" in run, doc,
          "run reports the incident's error as the doc shows it", run)
    good = w.output("rollgate-engine selftest tests/data/engine/good.chan")
    claim("selftest ok:" in good, doc, "good content passes selftest", good)


def claims_webhooks(w, doc):
    created = w.output("rollgate webhook create")
    secret = re.search(r"secret:\s+(\S+)", created)
    claim(secret, doc, "create shows the secret once", created)
    listing = w.output("rollgate webhook list")
    claim("http://127.0.0.1:9/rollgate" in listing and secret.group(1) not in listing,
          doc, "the list shows the subscription, never its secret", listing)
    deliveries = w.output("rollgate webhook deliveries 1")
    claim(re.search(r"\btest\b", deliveries), doc,
          "the test delivery is listed", deliveries)


def claims_tls(w, doc):
    listing = w.output("rollgate channel list")
    claim("detections" in listing, doc,
          "the CLI reached the HTTPS server, verified by ca.pem", listing)


def claims_signing(w, doc):
    root = re.search(r"root_sha256 ([0-9a-f]{64})",
                     w.output("rollgate root create"))
    claim(root, doc, "root create prints the root_sha256",
          w.output("rollgate root create"))
    claim(root.group(1) in w.output("rollgate root push"), doc,
          "the server stores that very root", w.output("rollgate root push"))
    show = w.output("rollgate release show 1")
    claim(re.search(r"signed:\s+2 signatures", show), doc,
          "the release carries both signatures", show)
    refused = w.output("rollgate release create --channel detections "
                       "--version 8")
    claim("version_mismatch" in refused, doc,
          "metadata signed for another version is refused", refused)


def claims_agent(w, doc):
    status = w.output("rollgate-agent --config agent.conf status")
    claim(re.search(r"detections +release 1 +version 291", status), doc,
          "the agent installed release 1 (version 291)", status)
    events = w.output("rollgate endpoint show lab-1")
    claim(re.search(r"healthy +detections +1 \(v291\) +probe passed", events)
          and re.search(r"applying +detections +1 \(v291\)", events), doc,
          "the server holds the agent's applying and healthy reports", events)


def claims_rollout(w, doc):
    start = w.output("rollgate rollout start")
    claim(re.search(r"plan:\s+canary-then-all", start) and
          re.search(r"wave:\s+0 canary", start), doc,
          "--plan @file reads the plan from the file", start)
    promoted = w.output("rollgate rollout promote 1")
    claim(re.search(r"state:\s+running", promoted) and
          re.search(r"wave:\s+1 all", promoted), doc,
          "promote moves a paused rollout to its next wave", promoted)
    watch = w.output("rollgate rollout status 1 --watch")
    claim("decision: aborted: wrong channel (admin)" in watch and
          "rollout 1 aborted" in watch, doc,
          "--watch shows the view, then ends on the aborted rollout", watch)


def claims_operations(w, doc):
    listing = {re.sub(r"-(wal|shm)$", "", f)
               for f in w.output("ls var/tour").split()}
    with open(os.path.join(rg.SOURCE_DIR, "docs", doc), encoding="utf-8") as f:
        table = set(re.findall(r"^\| `DIR/([\w.]+)/?`", f.read(), re.M))
    claim(listing == table, doc,
          "the data directory holds what its table lists, no more", listing,
          table)
    for cmd in ("rollgated --data var/tour --listen",
                "rollgated init --data var/tour",
                "rollgated admin-token --data var/tour"):
        out = w.output(cmd)
        claim(re.search(r"data directory 'var/tour' is in use by another "
                        r"rollgated \(pid \d+\)", out), doc,
              "a second process on the served data directory is refused",
              cmd, out)
    tokens = w.output("rollgate token list")
    claim("admin" in tokens and "recovery" not in tokens, doc,
          "the refused admin-token added nothing", tokens)
    claims_config_file(w, doc)


def claims_config_file(w, doc):
    health = w.output("curl -s http://127.0.0.1:")
    claim('"status":"ok"' in health, doc,
          "the server configured by the file serves", health)
    effective = w.output("rollgated --config rollgated.conf --event-burst")
    claim(re.search(r"# --event-burst, live\nevent_burst = 32\n", effective)
          and re.search(r"# rollgated.conf:1, restart\ndata = var/conf\n",
                        effective), doc,
          "--print-config: a flag wins over the file, each value's source",
          effective)
    claim("bad.conf:1: unknown key 'access-log'" in
          w.output("rollgated --config bad.conf"), doc,
          "a flag spelling in the file is refused, naming file and line",
          w.output("rollgated --config bad.conf"))


def claims_api(w, doc):
    err = json.loads(w.output("curl -s -H \"Authorization: Bearer "
                              "$ROLLGATE_TOKEN\" $ROLLGATE_URL/v1/releases/42"))
    claim(err == {"error": {"code": "not_found", "field": "",
                            "message": "release 42 not found"}}, doc,
          "the error shape is the one the doc shows", err)
    claim(w.output("curl -s -o /dev/null").strip() == "401", doc,
          "no token: 401", w.output("curl -s -o /dev/null"))
    audit = json.loads(w.output("curl -s -H \"Authorization: Bearer "
                                "$ROLLGATE_TOKEN\" \"$ROLLGATE_URL/v1/audit"))
    claim([(a["action"], a["target"]) for a in audit["audit"]] ==
          [("channel.create", "channel:detections")] and
          "next_after" in audit, doc,
          "the audit target channel:NAME holds the channel's creation", audit)


def claims_flags(w, doc):
    on = w.output("rollgate flag eval new-parser --user-id host-7")
    off = w.output("rollgate flag eval new-parser --context")
    claim(re.search(r"enabled:\s+yes", on) and
          re.search(r"enabled:\s+no", off), doc,
          "the example flag is on for host-7, off for a windows host", on, off)
    show = w.output("rollgate flag show new-parser")
    claim(re.search(r"version 3:\s+off by admin: crashes on arm64", show) and
          re.search(r"version 1:\s+on by admin: canary the new parser", show),
          doc, "show lists every version with its reason", show)


CLAIMS = {"preflight.md": claims_preflight, "engine.md": claims_engine,
          "webhooks.md": claims_webhooks, "tls.md": claims_tls,
          "signing.md": claims_signing, "agent.md": claims_agent,
          "rollout.md": claims_rollout, "operations.md": claims_operations,
          "api.md": claims_api, "flags.md": claims_flags}


def fences_named(path):
    """Every fenced block of path names its language (sh, text, ...)."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    inside = False
    for n, line in enumerate(lines, 1):
        if line.startswith("```"):
            expect(inside or line.strip() != "```", "%s:%d: a block without a "
                   "language: ```sh runs, ```text does not (docs/README.md)"
                   % (os.path.relpath(path, rg.SOURCE_DIR), n))
            inside = not inside


def walk_doc(doc, setup):
    cmds = walk.commands(doc)
    name = os.path.basename(doc)
    if not cmds:
        return False
    expect(name in CLAIMS, "%s has a walk but the test checks no claim of "
           "it (CLAIMS)" % name)
    with walk.Walk(doc) as w:
        for line, cmd, comment in setup:
            w.run(line, cmd, comment)
        for line, cmd, comment in cmds:
            w.run(line, cmd, comment)
        CLAIMS[name](w, name)
    return True


def help_text(argv):
    p = subprocess.run(argv + ["--help"], capture_output=True, text=True,
                       timeout=30)
    return p.returncode, p.stdout + p.stderr


def cli_commands():
    """The CLI's commands as `rollgate --help` lists them ("flag create")."""
    rc, text = help_text([rg.binary("rollgate")])
    expect(rc == 0, "rollgate --help", rc, text)
    section = text.split("commands:", 1)[1].split("global options:", 1)[0]
    return [re.split(r"\s{2,}", l.strip())[0]
            for l in section.splitlines() if l.strip()]


def synopsis_words(cmd):
    """The words of a synopsis, brackets, parentheses and | taken apart."""
    return [w for w in re.split(r"[\s\[\]()|]+", cmd) if w]


def check_cli_synopsis(where, cmd, known):
    """The command a `rollgate ...` line names is one `rollgate --help`
    lists, and its --help lists each option the line names (`rollgate
    COMMAND --help`, `rollgate help`: the top-level help)."""
    lead = []
    for word in synopsis_words(cmd)[1:]:
        if not re.match(r"^[a-z][a-z0-9-]*$", word):
            break
        lead.append(word)
    names = [c for c in known if lead[:len(c.split())] == c.split()]
    alts = re.findall(r"^rollgate (\w[\w-]*) ([\w-]+(?:\|[\w-]+)+)", cmd)
    if alts:
        names = ["%s %s" % (alts[0][0], a) for a in alts[0][1].split("|")]
    if not lead or lead == ["help"]:
        names = [""]
    expect(names, "%s names no rollgate command" % where, cmd)
    for name in names:
        expect(name in known + [""], "%s: no command `rollgate %s`"
               % (where, name))
        rc, text = help_text([rg.binary("rollgate")] + name.split())
        expect(rc == 0, "%s: rollgate %s --help" % (where, name), rc, text)
        for opt in re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", cmd):
            expect(re.search(re.escape(opt) + r"\b(?!-)", text),
                   "%s: `rollgate %s --help` has no option %s"
                   % (where, name, opt), cmd)


def check_program_synopsis(where, cmd, program):
    rc, text = help_text([rg.binary(program)])
    expect(rc == 0, "%s --help" % program, rc, text)
    for word in synopsis_words(cmd)[1:]:
        if re.match(r"^--[a-z][a-z0-9-]*", word):
            opt = re.match(r"^--[a-z][a-z0-9-]*", word).group(0)
            expect(re.search(re.escape(opt) + r"\b(?!-)", text),
                   "%s: `%s --help` has no option %s" % (where, program, opt),
                   cmd)
        elif re.match(r"^[a-z][a-z0-9-]*$", word):
            expect(re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(word), text),
                   "%s: `%s --help` has no command %s" % (where, program,
                                                          word), cmd)


def inline_commands(path):
    """[(line number, span)] of the backquoted spans outside fenced blocks
    that start with a program's name and a word."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    text = re.sub(r"^```.*?^```", lambda m: "\n" * m.group(0).count("\n"),
                  text, flags=re.S | re.M)
    out = []
    for m in re.finditer(r"`([^`]+)`", text):
        span = " ".join(m.group(1).split())
        if len(span.split()) > 1 and span.split()[0] in PROGRAMS:
            out.append((text.count("\n", 0, m.start()) + 1, span))
    return out


def check_synopses(paths):
    known = cli_commands()
    expect("flag create" in known and "endpoints" in known,
           "the CLI's command list was not read", known)
    n = 0
    for path in paths:
        rel = os.path.relpath(path, rg.SOURCE_DIR)
        spans = [(line, cmd) for line, cmd, _ in
                 walk.commands(path, lang="text")] + inline_commands(path)
        for line, cmd in spans:
            cmd = re.split(r"\s{2,}", cmd.strip())[0]  # the description
            program = cmd.split()[0] if cmd.split() else ""
            if program not in PROGRAMS:
                continue
            where = "%s:%d" % (rel, line)
            if program == "rollgate":
                check_cli_synopsis(where, cmd, known)
            else:
                check_program_synopsis(where, cmd, program)
            n += 1
    return n


def main():
    setup = setup_commands()
    for doc in DOCS + OTHERS:
        walk.named_paths_exist(doc)
        fences_named(doc)
    n = check_synopses(DOCS + OTHERS)
    expect(n >= 20, "too few synopsis lines found", n)
    walked = [os.path.basename(d) for d in DOCS if walk_doc(d, setup)]
    expect(len(walked) >= 5, "too few docs have a walk", walked)
    print("synopsis lines checked: %d; walks run: %s" % (n, ", ".join(walked)))


if __name__ == "__main__":
    rg.run(main)
