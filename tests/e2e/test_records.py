"""Coherent words and records (issue 13), through a real rollgated and
the rollgate CLI:

1. One audit target per object: `audit --target rollout:N` shows the
   rollout's creation and every operator action on it (pause, resume,
   promote, rollback) and the orchestrator's transitions; `release:N` its
   creation (no other name for either).
2. Reasons are whole: a 500-byte pause reason is stored and answered whole
   (decisions in --json, the audit row), and wrapped, never cut with "…", in
   the `rollout status` and `audit` tables.
3. Token names are unique: a second token named like a live or a revoked
   one is refused with 409 naming the field, and nothing is created.
4. `rollout start --plan @FILE` reads the plan from the file; a missing
   file is a usage error that creates nothing.
5. Rolling back says what endpoints will do: keep a channel's first
   release (nothing to return to), or return to the previous one.
6. `release revert` checks everything it needs before it creates the
   release (which spends a version for good): a rollout of the channel
   that is not final, a missing or invalid `--plan @FILE` are refused
   with nothing created; then `--plan @FILE` is the revert rollout's plan.
# ctest-labels: ops
"""
import json
import os
import re

import rg
from rg import expect
import test_stratum_halt as fleet

ONE_WAVE = {"name": "from-file", "waves": [{"name": "all", "share": 100,
                                            "min_endpoints": 1,
                                            "min_bake_s": 600}]}
LONG_REASON = ("ticket 4411: " + " ".join("word%03d" % i for i in range(61)))


def ok(srv, *args):
    p = rg.cli(srv, *args)
    expect(p.returncode == 0, "rollgate %s" % " ".join(args), p.returncode,
           p.stderr)
    return p.stdout


def jcli(srv, *args):
    return json.loads(ok(srv, "--json", *args))


def release(srv, version):
    return fleet.release(srv, "rec", version)


def start(srv, plan_file, rel):
    return jcli(srv, "rollout", "start", "--release", str(rel), "--plan",
                "@" + plan_file)["id"]


def audit(srv, target):
    rows = jcli(srv, "audit", "--target", target)["audit"]
    return [r["action"] for r in reversed(rows)], rows


def whole_in_table(text, reason):
    """Every word of reason, in order, in text; nothing cut."""
    expect("\u2026" not in text, "nothing cut with an ellipsis", text)
    words = re.findall(r"\S+", text)
    want = reason.split()
    i = 0
    for w in words:
        if i < len(want) and w == want[i]:
            i += 1
    expect(i == len(want), "the whole reason, wrapped", want[i:i + 3], text)


def plan_from_file(srv, plan_file, rel):
    before = jcli(srv, "rollout", "list")["rollouts"]
    p = rg.cli(srv, "rollout", "start", "--release", str(rel), "--plan",
               "@" + plan_file + ".missing")
    expect(p.returncode == 2 and "--plan" in p.stderr, "missing plan file",
           p.returncode, p.stderr)
    expect(jcli(srv, "rollout", "list")["rollouts"] == before,
           "nothing created")
    rid = start(srv, plan_file, rel)
    ro = jcli(srv, "rollout", "status", str(rid))
    expect(ro["plan"]["name"] == "from-file" and
           ro["plan"]["waves"][0]["min_bake_s"] == 600, "the file's plan",
           ro["plan"])
    return rid


def first_release(srv, plan_file):
    rel = release(srv, 1)
    rid = plan_from_file(srv, plan_file, rel)
    ok(srv, "rollout", "pause", str(rid), "--reason", LONG_REASON)
    ok(srv, "rollout", "resume", str(rid), "--reason", "back on")
    ok(srv, "rollout", "pause", str(rid), "--reason", "again")
    out = ok(srv, "rollout", "rollback", str(rid), "--reason", "bad")
    expect("keep release %d: it was channel rec's first" % rel in out,
           "a first release's rollback says endpoints keep it", out)

    ro = jcli(srv, "rollout", "status", str(rid))
    reasons = [d["reason"] for d in ro["decisions"]]
    expect(LONG_REASON in reasons, "--json: the reason whole", reasons)
    whole_in_table(ok(srv, "rollout", "status", str(rid)), LONG_REASON)
    actions, rows = audit(srv, "rollout:%d" % rid)
    expect(actions == ["rollout.create", "rollout.pause", "rollout.resume",
                       "rollout.pause", "rollout.rollback"],
           "rollout:N holds its whole story", actions)
    expect(any(r["reason"] == LONG_REASON for r in rows), "audit: whole",
           rows)
    whole_in_table(ok(srv, "audit", "--target", "rollout:%d" % rid),
                   LONG_REASON)
    actions, rows = audit(srv, "release:%d" % rel)
    expect(actions == ["release.create"], "release:N has its creation",
           actions)
    expect(json.loads(rows[0]["detail"])["version"] == 1, "detail", rows)


def later_release(srv, plan_file):
    rid = start(srv, plan_file, release(srv, 2))
    ok(srv, "rollout", "pause", str(rid), "--reason", "checked")
    ok(srv, "rollout", "promote", str(rid), "--reason", "by hand")
    expect(jcli(srv, "rollout", "status", str(rid))["state"] == "completed",
           "promoted past the last wave")
    actions, _ = audit(srv, "rollout:%d" % rid)
    expect(actions[:3] == ["rollout.create", "rollout.pause",
                           "rollout.promote"], "promote audited", actions)
    third = start(srv, plan_file, release(srv, 3))
    out = ok(srv, "rollout", "rollback", str(third), "--reason", "bad")
    expect("return to release 2" in out, "a later rollback says where to",
           out)


def revert_refused(srv, args, status, words):
    before = jcli(srv, "release", "list", "--channel", "rev")["releases"]
    p = rg.cli(srv, "release", "revert", "--channel", "rev", "--to", "1",
               *args)
    expect(p.returncode == status and words in p.stderr, "revert refused: " +
           words, p.returncode, p.stderr)
    after = jcli(srv, "release", "list", "--channel", "rev")["releases"]
    expect(after == before, "nothing created", before, after)


def revert_checks_first(srv, plan_file):
    key = os.path.join(srv.tmp, "pub")
    ok(srv, "keygen", "--out", key)
    data = os.path.join(srv.tmp, "rev.rules")
    ids = []
    for v in (1, 2):
        with open(data, "w") as f:
            f.write("rule v%d\n" % v)
        ids.append(jcli(srv, "release", "create", "--channel", "rev", "--file",
                        data, "--version", str(v), "--notes", "v%d" % v,
                        "--signing-key", key)["id"])
    rid = start(srv, plan_file, ids[1])
    keys = ("--signing-key", key, "--reason", "v2 is bad")
    revert_refused(srv, keys, 1, "has rollout %d running" % rid)
    ok(srv, "rollout", "abort", str(rid), "--reason", "make way")
    revert_refused(srv, keys + ("--plan", "@" + plan_file + ".missing"), 2,
                   "--plan: cannot open")
    bad = os.path.join(srv.tmp, "bad-plan.json")
    with open(bad, "w") as f:
        json.dump({"waves": [{"share": 50}]}, f)
    revert_refused(srv, keys + ("--plan", "@" + bad), 2, "--plan:")
    out = jcli(srv, "release", "revert", "--channel", "rev", "--to", "1",
               "--plan", "@" + plan_file, *keys)
    expect(out["release"]["version"] == 3 and
           out["rollout"]["plan"]["name"] == "from-file",
           "the revert with the file's plan", out)


def unique_tokens(srv):
    ok(srv, "token", "create", "--role", "viewer", "--name", "ci")
    before = jcli(srv, "token", "list")["tokens"]
    st, b = srv.request("POST", "/v1/tokens", {"role": "admin", "name": "ci"})
    expect(st == 409 and b["error"]["field"] == "name" and
           "'ci'" in b["error"]["message"], "duplicate name: 409", st, b)
    ci = [t["id"] for t in before if t["name"] == "ci"][0]
    st, b = srv.request("DELETE", "/v1/tokens/%d" % ci)
    expect(st == 200, "revoke", st, b)
    p = rg.cli(srv, "token", "create", "--role", "viewer", "--name", "ci")
    expect(p.returncode == 1 and "taken" in p.stderr,
           "a revoked token's name stays taken", p.returncode, p.stderr)
    after = [t["id"] for t in jcli(srv, "token", "list")["tokens"]]
    expect(after == [t["id"] for t in before], "nothing created", after)


def main():
    with rg.Server() as srv:
        srv.start()
        plan_file = os.path.join(srv.tmp, "plan.json")
        with open(plan_file, "w") as f:
            json.dump(ONE_WAVE, f)
        for name in ("rec", "rev"):
            st, b = srv.request("POST", "/v1/channels", {"name": name})
            expect(st == 201, "channel " + name, st, b)
        first_release(srv, plan_file)
        later_release(srv, plan_file)
        unique_tokens(srv)
        revert_checks_first(srv, plan_file)


if __name__ == "__main__":
    rg.run(main)
