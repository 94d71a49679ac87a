"""Signed releases against a tampering man in the middle (docs/signing.md).

A small HTTP proxy sits between real rollgate-agent processes and
rollgated and rewrites check-in answers (the "desired" entries) and
artifact bytes. Publisher keys a and b (root threshold 2) sign every
release offline with the CLI; key c is unknown to the root.

1. happy path: the root is pushed (`rollgate root push`), an agent pinned
   by `root_sha256 =` only fetches it, and a signed release reaches it
   through a rollout and is applied;
2. one attack per class, each against a fresh agent pinned by `root =`:
   unsigned, bad signature, too few signatures, unknown key, hash mismatch
   (tampered artifact), size mismatch, rollback (an older signed release
   offered to the agent that applied a newer one), expired metadata,
   mix-and-match (metadata of another channel), endless data (the
   download stops at the signed size). Each is refused with its reason in
   the agent's log and `status`, nothing is installed, and a `failed`
   event naming the reason reaches the server (the proxy sees it sent and
   acknowledged);
3. recovery: `rollgate release revert --to 1` makes a new signed release
   (version 3, version 1's content) that the agent accepts;
4. root rotation: a rotation signed by the new key alone is refused; one
   signed by the old threshold and the new is pushed, followed by the
   agent, and a release signed by the new key alone is then accepted.
# ctest-labels: security
"""
import json
import os

import rg
from rg import expect
from mitm import HOLD, Agent, Proxy, cli, entry, wait_for


def main():
    with rg.Server() as srv:
        srv.start()
        proxy = Proxy(srv.port)
        t = srv.tmp
        p = lambda name: os.path.join(t, name)  # noqa: E731
        for k in ("a", "b", "c"):
            cli(srv, "keygen", "--out", p(k))
        expect(oct(os.stat(p("a")).st_mode & 0o777) == "0o600", "private key mode 0600")
        out = cli(srv, "--json", "root", "create", "--threshold", "2", "--key", p("a.pub"),
                  "--key", p("b.pub"), "--sign", p("a"), "--sign", p("b"),
                  "--out", p("root.json"))
        root_sha = json.loads(out.stdout)["root_sha256"]
        bad = cli(srv, "root", "create", "--threshold", "2", "--key", p("a.pub"),
                  "--key", p("b.pub"), "--sign", p("a"), "--out", p("r1.json"), ok=False)
        expect(bad.returncode == 2 and "too_few_signatures" in bad.stderr,
               "a root below its own threshold is refused", bad.stderr)
        cli(srv, "root", "push", p("root.json"))
        st, roots = srv.request("GET", "/v1/agent/root?after=0", token="")
        expect(st == 200 and len(roots["roots"]) == 1, "root served publicly", st, roots)

        for ch in ("detections", "flags"):
            st, b = srv.request("POST", "/v1/channels", {"name": ch})
            expect(st == 201, "channel", st, b)
        contents = {1: b"rule one\n" * 50, 2: b"rule two\n" * 60}
        rels = {}
        for v, data in contents.items():
            with open(p("v%d" % v), "wb") as f:
                f.write(data)
            out = cli(srv, "--json", "release", "create", "--channel", "detections",
                      "--file", p("v%d" % v), "--version", str(v), "--notes",
                      "version %d" % v, "--sign", p("a"), "--sign", p("b"))
            rels[v] = json.loads(out.stdout)
            expect(len(rels[v]["metadata"]["signatures"]) == 2, "signed release", rels[v])
        out = cli(srv, "--json", "release", "create", "--channel", "flags", "--file",
                  p("v2"), "--version", "1", "--notes", "flags 1", "--sign", p("a"),
                  "--sign", p("b"))
        flags = json.loads(out.stdout)
        # The server checks that metadata describes the release it is attached to.
        st, b = srv.request("POST", "/v1/releases", {
            "channel": "detections", "version": 9, "artifact": rels[2]["sha256"],
            "notes": "other notes", "urgency": "standard", "metadata": rels[2]["metadata"]})
        expect(st == 400 and b["error"]["field"].startswith("metadata"),
               "metadata of another release refused", st, b)

        st, key = srv.request("POST", "/v1/enrollment-keys", {})
        expect(st == 201, "enrollment key", st, key)
        key = key["key"]
        v2 = rels[2]
        st, ro = srv.request("POST", "/v1/rollouts", {"release": v2["id"], "plan": HOLD})
        expect(st == 201, "rollout of v2", st, ro)

        # 1. happy path: pinned by digest only, the root is fetched.
        good = Agent(srv, proxy, key, "good", "root_sha256 = %s\n" % root_sha,
                     tags="internal")
        wait_for(lambda: (good.channel() or {}).get("active") and
                 good.channel()["active"]["release"] == v2["id"], 60, "v2 applied")
        st = good.status()
        expect(st["trust"]["root_sha256"] == root_sha and st["trust"]["threshold"] == 2,
               "status shows the pinned root", st["trust"])

        def attack(name, reason, agent, rewrite, serve=None):
            proxy.rewrite, proxy.serve = rewrite, serve
            try:
                c = wait_for(lambda: (lambda ch: ch if ch and ch["rejected"] and
                                      ch["rejected"]["reason"] == reason else None)(
                                          agent.channel()), 60, name + " rejected")
                expect(c["rejected"]["release"] in (v2["id"], rels[1]["id"]),
                       name + ": rejected release named", c)
                wait_for(lambda: reason in agent.log_text(), 30, name + " in the log")
                evs = wait_for(lambda: [e for e in proxy.failed_for(agent.id)
                                        if ("rejected: " + reason) in e.get("detail", "")],
                               60, name + ": failed event acknowledged by the server")
                expect(evs[0]["channel"] == "detections", name + ": event channel", evs)
                return c
            finally:
                proxy.rewrite = proxy.serve = None

        # 2a. rollback: the agent that applied v2 is offered v1 (validly signed).
        v1_entry = entry(rels[1], rels[1]["metadata"])
        c = attack("rollback", "rollback", good,
                   lambda d: d.__setitem__("detections", v1_entry))
        expect(c["active"]["release"] == v2["id"], "still on v2 after the rollback attempt", c)

        meta = v2["metadata"]
        sign_out = lambda name, *extra: cli(  # noqa: E731
            srv, "sign", "--channel", "detections", "--version", "2", "--file", p("v2"),
            "--notes", "version 2", "--out", p(name), *extra)
        sign_out("unknown.json", "--key", p("c"))
        sign_out("expired.json", "--key", p("a"), "--key", p("b"), "--expires-at",
                 "2020-01-01T00:00:00Z")
        with open(p("unknown.json")) as f:
            unknown = json.load(f)
        with open(p("expired.json")) as f:
            expired = json.load(f)
        badsig = json.loads(json.dumps(meta))
        s = badsig["signatures"][0]["sig"]
        badsig["signatures"][0]["sig"] = ("1" if s[0] == "0" else "0") + s[1:]
        few = json.loads(json.dumps(meta))
        few["signatures"] = few["signatures"][:1]
        bigger = entry(v2, meta)
        bigger["size"] += 1

        def tampered(handler, sha):
            data = bytearray(contents[2])
            data[0] ^= 1
            handler.send_response(200)
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(bytes(data))

        def endless(handler, sha):
            handler.send_response(200)
            handler.end_headers()
            chunk = contents[2] * 16
            try:
                for _ in range(4096):  # at most ~35 MB, far past the signed size
                    handler.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
            handler.close_connection = True

        fixed = lambda e: lambda d: d.__setitem__("detections", e)  # noqa: E731
        attacks = [
            ("unsigned", "unsigned", fixed(entry(v2, None)), None),
            ("bad signature", "bad_signature", fixed(entry(v2, badsig)), None),
            ("too few signatures", "too_few_signatures", fixed(entry(v2, few)), None),
            ("unknown key", "unknown_key", fixed(entry(v2, unknown)), None),
            ("tampered artifact", "hash_mismatch", fixed(entry(v2, meta)), tampered),
            ("size mismatch", "size_mismatch", fixed(bigger), None),
            ("expired metadata", "expired", fixed(entry(v2, expired)), None),
            ("mix-and-match", "wrong_channel", fixed(entry(v2, flags["metadata"])), None),
            ("endless data", "too_long", fixed(entry(v2, meta)), endless),
        ]
        for i, (name, reason, rewrite, serve) in enumerate(attacks):
            agent = Agent(srv, proxy, key, "atk-%d" % i, "root = %s\n" % p("root.json"))
            try:
                c = attack(name, reason, agent, rewrite, serve)
                expect(c["active"] is None and c["inactive"] is None,
                       name + ": nothing reached a slot", c)
            finally:
                agent.stop()
            print("attack refused: %-20s -> %s" % (name, reason))

        # 3. recovery: a new signed release with version 1's content.
        st, b = srv.request("POST", "/v1/rollouts/%d/abort" % ro["id"],
                            {"reason": "make way for the revert"})
        expect(st == 200, "abort v2 rollout", st, b)
        out = cli(srv, "--json", "release", "revert", "--channel", "detections", "--to",
                  "1", "--key", p("a"), "--key", p("b"), "--reason", "v2 misbehaves")
        rev = json.loads(out.stdout)
        v3 = rev["release"]
        expect(v3["version"] == 3 and v3["sha256"] == rels[1]["sha256"] and
               v3["notes"] == "revert to 1: v2 misbehaves" and
               len(v3["metadata"]["signatures"]) == 2, "revert release", v3)
        wait_for(lambda: good.channel()["active"]["release"] == v3["id"], 60,
                 "the revert release applied")
        c = good.channel()
        expect(c["active"]["version"] == 3 and c["active"]["sha256"] == rels[1]["sha256"]
               and c["rejected"] is None, "agent on version 3 = version 1's content", c)

        # 4. root rotation: keys a, b hand over to c alone. A rotation signed
        # by the new key only is refused; the proper one (old
        # threshold and new) is followed by the agent, which then accepts a
        # release signed by c alone. (The server would refuse the first too.)
        rot = lambda *signers: cli(  # noqa: E731
            srv, "root", "rotate", "--old", p("root.json"), "--threshold", "1",
            "--key", p("c.pub"), "--out", p("root2.json"),
            *[x for k in signers for x in ("--sign", p(k))], ok=False)
        out = rot("c")
        expect(out.returncode == 2 and "by the keys of version 1" in out.stderr,
               "a rotation without the old threshold is refused", out.stderr)
        rot("a", "b", "c")
        cli(srv, "root", "push", p("root2.json"))
        st, b = srv.request("POST", "/v1/rollouts/%d/abort" % rev["rollout"]["id"],
                            {"reason": "next"})
        expect(st == 200, "abort the revert rollout", st, b)
        with open(p("v4"), "wb") as f:
            f.write(b"rule four\n" * 40)
        out = cli(srv, "--json", "release", "create", "--channel", "detections",
                  "--file", p("v4"), "--version", "4", "--notes", "version 4",
                  "--sign", p("c"))
        v4 = json.loads(out.stdout)
        st, b = srv.request("POST", "/v1/rollouts", {"release": v4["id"], "plan": HOLD})
        expect(st == 201, "rollout of v4", st, b)
        wait_for(lambda: good.channel()["active"]["release"] == v4["id"], 60,
                 "v4 (signed by the rotated root's key) applied")
        expect(good.status()["trust"]["root_version"] == 2, "agent follows the rotation",
               good.status()["trust"])
        good.stop()
        proxy.close()
        srv.stop()
    print("ok")


if __name__ == "__main__":
    rg.run(main)
