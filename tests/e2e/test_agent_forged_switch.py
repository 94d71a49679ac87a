"""A compromised server cannot make an agent with a pinned root switch
slots (issue 11, item 1; docs/agent.md "Switching back").

A real rollgate-agent, pinned to a root (threshold 2), supervises the
sample consumer, which crash-loops on content that says "crash". Through
a tampering proxy (tests/e2e/mitm.py) between the agent
and rollgated:

1. v1 is applied; v2 crash-loops, is reverted after K starts and
   quarantined: v1 is active, v2 sits in the other slot.
2. Forged lift: the proxy offers v2 as {"version": 0, ...,
   "lift_quarantine": true} with its genuine signed metadata. Refused
   with reason "quarantined" (a server lift needs no signed authority, so
   it is not honoured under a root), v2 stays quarantined, no switch.
3. v3 is applied (v1 now in the other slot). Slot flip: the proxy offers
   v1 with `metadata: null`. Refused with reason "unsigned", no switch.
4. The genuine move back (v1 with its signed metadata, as a halt would
   offer it) is honoured: v1 becomes active under a trial that confirms.
# ctest-labels: security
"""
import json
import os

import rg
from rg import expect
from mitm import CONSUMER_LINES, Agent, Proxy, abort, cli, entry, wait_for
from mitm import rollout as start_rollout


def active_release(agent):
    c = agent.channel() or {}
    return (c.get("active") or {}).get("release")


def refused(agent, proxy, reason, before):
    """Waits for the refusal, then for three more check-ins, and returns
    the channel: the agent had every chance to switch."""
    c = wait_for(lambda: (lambda ch: ch if ch and ch["rejected"] and
                          ch["rejected"]["reason"] == reason else None)(agent.channel()),
                 60, "refusal '%s' in status" % reason)
    wait_for(lambda: reason in agent.log_text(), 30, "refusal '%s' in the log" % reason)
    seen = proxy.checkins
    wait_for(lambda: proxy.checkins >= seen + 3, 60, "three more check-ins")
    c = agent.channel()
    expect(c["active"]["release"] == before and c["trial"] is None,
           "no switch after the forged offer (%s)" % reason, c)
    return c


def main():
    with rg.Server() as srv:
        srv.start()
        proxy = Proxy(srv.port)
        p = lambda name: os.path.join(srv.tmp, name)  # noqa: E731
        for k in ("a", "b"):
            cli(srv, "keygen", "--out", p(k))
        cli(srv, "root", "create", "--threshold", "2", "--key", p("a.pub"), "--key",
            p("b.pub"), "--sign", p("a"), "--sign", p("b"), "--out", p("root.json"))
        st, b = srv.request("POST", "/v1/channels", {"name": "detections"})
        expect(st == 201, "channel", st, b)
        rels = {}
        for v, text in ((1, b"rule one\n"), (2, b"crash\n"), (3, b"rule three\n")):
            with open(p("v%d" % v), "wb") as f:
                f.write(text * 20)
            out = cli(srv, "--json", "release", "create", "--channel", "detections",
                      "--file", p("v%d" % v), "--version", str(v), "--notes",
                      "version %d" % v, "--sign", p("a"), "--sign", p("b"))
            rels[v] = json.loads(out.stdout)
        st, key = srv.request("POST", "/v1/enrollment-keys", {})
        expect(st == 201, "enrollment key", st, key)

        rollout = lambda v: start_rollout(srv, rels[v])  # noqa: E731
        agent = Agent(srv, proxy, key["key"], "forged",
                      "root = %s\nmax_starts = 2\nsettle = 1\n" % p("root.json"),
                      channel_lines=CONSUMER_LINES)
        try:
            # 1. v1 applied and confirmed; v2 crash-loops and is reverted.
            ro = rollout(1)
            wait_for(lambda: active_release(agent) == rels[1]["id"] and
                     agent.channel()["trial"] is None, 60, "v1 applied and confirmed")
            abort(srv, ro)
            ro = rollout(2)
            wait_for(lambda: any(q["sha256"] == rels[2]["sha256"]
                                 for q in agent.status()["quarantined"]), 90,
                     "v2 reverted and quarantined")
            c = wait_for(lambda: (lambda ch: ch if ch["trial"] is None else None)(
                agent.channel()), 30, "v2's trial ended")
            expect(c["active"]["release"] == rels[1]["id"] and
                   c["inactive"]["release"] == rels[2]["id"],
                   "v1 active, v2 in the other slot", c)
            abort(srv, ro)

            # 2. A forged lift of v2's quarantine, offered as version 0.
            forged = entry(rels[2], rels[2]["metadata"])
            forged.update(version=0, lift_quarantine=True)
            proxy.rewrite = lambda d: d.__setitem__("detections", forged)
            refused(agent, proxy, "quarantined", rels[1]["id"])
            expect(any(q["sha256"] == rels[2]["sha256"]
                       for q in agent.status()["quarantined"]),
                   "v2 still quarantined", agent.status()["quarantined"])
            proxy.rewrite = None
            print("forged lift refused")

            # 3. v3 applied; then the server tries to flip back to v1 unsigned.
            rollout(3)
            wait_for(lambda: active_release(agent) == rels[3]["id"] and
                     agent.channel()["trial"] is None, 60, "v3 applied and confirmed")
            expect(agent.channel()["inactive"]["release"] == rels[1]["id"],
                   "v1 in the other slot", agent.channel())
            unsigned = entry(rels[1], None)
            proxy.rewrite = lambda d: d.__setitem__("detections", unsigned)
            refused(agent, proxy, "unsigned", rels[3]["id"])
            print("unsigned slot flip refused")

            # 4. The genuine move back (signed, its own version) is honoured
            # under a trial.
            signed = entry(rels[1], rels[1]["metadata"])
            proxy.rewrite = lambda d: d.__setitem__("detections", signed)
            wait_for(lambda: active_release(agent) == rels[1]["id"] and
                     agent.channel()["trial"] is None, 60, "signed move back to v1")
            expect("switching back, trial begins" in agent.log_text(),
                   "the move back ran under a trial", agent.log_text()[-2000:])
            proxy.rewrite = None
        finally:
            agent.stop()
            proxy.close()
        srv.stop()
    print("ok")


if __name__ == "__main__":
    rg.run(main)
