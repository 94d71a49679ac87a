"""`rollgate rollout status ID --watch` against a real rollgated and a
scripted check-in fleet over the agent API (the Agent of
test_stratum_halt.py: a crashing endpoint reports `crashed` right after
`applying`).

1. Halting rollout, stdout a pipe: plain blocks, each starting with
   `--- TIME`, appended only when something changed (no two equal blocks
   in a row); the last says the rollout halted, shows the windows-10
   stratum's failed endpoints from the gate's evidence and the gate's
   reason; exit status 1 with one line on stderr.
2. Completing rollout (linux endpoints only), stdout a terminal (a pty):
   the screen is redrawn in place (clear-screen sequence) with progress
   bars; exit status 0.
3. Usage: --interval without --watch, or --watch without an ID: exit 2.
# ctest-labels: ops
"""
import os
import pty
import subprocess
import time

import rg
from rg import expect
import test_stratum_halt as fleet

CLI = rg.binary("rollgate")
W10 = "windows-10-x86_64"
DEADLINE_S = 90  # bound on every wait (never an assertion)


def enroll(srv, n_linux, n_windows):
    """n_linux healthy and n_windows crashing agents, enrolled by
    test_stratum_halt's setup (its fleet sizes are module settings)."""
    fleet.LINUX, fleet.WINDOWS = n_linux, n_windows
    return fleet.setup(srv)


def watch(srv, rid, stdout, *extra):
    env = dict(os.environ, ROLLGATE_URL=srv.url, ROLLGATE_TOKEN=srv.token,
               **srv.cli_env())
    return subprocess.Popen([CLI, "rollout", "status", str(rid), "--watch",
                             "--interval", "1s"] + list(extra),
                            stdout=stdout, stderr=subprocess.PIPE, env=env)


def drive_until_exit(proc, agents, channel):
    deadline = time.monotonic() + DEADLINE_S
    while proc.poll() is None:
        expect(time.monotonic() < deadline, "--watch still running")
        for a in agents:
            a.follow(channel)
        time.sleep(0.2)
    return proc.returncode


def halting(srv):
    agents = enroll(srv, 20, 6)
    rid = fleet.rollout(srv, fleet.release(srv, "detections", 1), 1)
    proc = watch(srv, rid, subprocess.PIPE)
    code = drive_until_exit(proc, agents, "detections")
    out, err = proc.stdout.read().decode(), proc.stderr.read().decode()
    expect(code == 1, "--watch exits 1 on a halt", code, out[-800:], err)
    expect(err.count("\n") == 1 and "halted" in err, "one line on stderr", err)
    blocks = out.split("--- ")[1:]
    expect(len(blocks) >= 1 and out.startswith("--- "), "plain blocks", out)
    for a, b in zip(blocks, blocks[1:]):
        expect(a.split("\n", 1)[1] != b.split("\n", 1)[1],
               "a block only when something changed", a, b)
    last = blocks[-1]
    expect(", halted, wave 0 all of 1" in last, "the last block: halted", last)
    expect("decision: HALTED by the gate: " in last and "halt: 6 of 6" in last,
           "the gate's words", last)
    row = [l.split() for l in last.splitlines() if l.strip().startswith(W10)]
    expect(row and int(row[0][4]) > 0, "windows-10 failed endpoints", last)
    return out


def completing(srv):
    agents = enroll(srv, 12, 0)
    rid = fleet.rollout(srv, fleet.release(srv, "config", 1), 1)
    master, slave = pty.openpty()
    proc = watch(srv, rid, slave)
    os.close(slave)
    code = drive_until_exit(proc, agents, "config")
    screen = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        screen += chunk
    os.close(master)
    text = screen.decode(errors="replace")
    expect(code == 0, "--watch exits 0 when completed", code,
           proc.stderr.read().decode(), text[-600:])
    expect("\033[H\033[J" in text and "[####################] passed" in text
           and "decision: completed" in text, "redrawn in place, bars", text[-800:])


def usage(srv):
    env = dict(os.environ, ROLLGATE_URL=srv.url, ROLLGATE_TOKEN=srv.token,
               **srv.cli_env())
    for args in (["1", "--interval", "5s"], ["--watch"],
                 ["1", "--watch", "--interval", "0s"]):
        p = subprocess.run([CLI, "rollout", "status"] + args, env=env,
                           capture_output=True, text=True, timeout=30)
        expect(p.returncode == 2 and "usage" in p.stderr, "usage error", args,
               p.returncode, p.stderr)


def main():
    # The releases declare no activation time: the gate learns it, up to 1 s
    # here (as in test_stratum_halt), so a good rollout completes quickly.
    args = ["--activation-cap", "1"]
    with rg.Server(args=args) as srv:
        srv.start()
        out = halting(srv)
        print(out[-1500:])
    with rg.Server(args=args) as srv:
        srv.start()
        completing(srv)
        usage(srv)


if __name__ == "__main__":
    rg.run(main)
