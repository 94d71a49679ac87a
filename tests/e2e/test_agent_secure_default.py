"""Secure by default (issue 11, item 6; docs/agent.md): an agent with no
pinned root applies nothing unless it is told it runs insecure.

Through the check-in proxy of tests/e2e/mitm.py, an
unsigned release is offered to three real agents without a root:

- "strict" (no `insecure`): checks in, is offered the release, applies
  nothing; its log and `status` say why ("trust_mode": "refusing");
- "dev" (`insecure = true`) and "flag" (`--insecure` on the command line):
  apply it, `status` says "insecure", and every check-in they send carries
  "insecure": true (the server accepts it).
# ctest-labels: security
"""
import subprocess

import rg
from rg import expect
from mitm import Agent, Proxy, publish, rollout, wait_for


def sent(proxy, eid):
    with proxy.lock:
        return list(proxy.requests.get(eid, []))


def main():
    with rg.Server() as srv:
        srv.start()
        proxy = Proxy(srv.port)
        rels, key = publish(srv, [b"rule one\n" * 10])
        rel = rels[1]
        rollout(srv, rel)
        agents = [Agent(srv, proxy, key, "strict", ""),
                  Agent(srv, proxy, key, "dev", "insecure = true\n"),
                  Agent(srv, proxy, key, "flag", "", args=["--insecure"])]
        strict, dev, flag = agents
        try:
            for a in (dev, flag):
                wait_for(lambda: ((a.channel() or {}).get("active") or {}).get(
                    "release") == rel["id"], 60, a.id + " applies the unsigned release")
                st = a.status()
                expect(st["trust_mode"] == "insecure" and st["trust"] is None,
                       a.id + ": status says insecure", st)
                reqs = sent(proxy, a.id)
                expect(reqs and all(r.get("insecure") is True for r in reqs),
                       a.id + ": every check-in says insecure", reqs)
                out = subprocess.run([rg.binary("rollgate-agent"), "--config", a.conf,
                                         "status"], capture_output=True, text=True,
                                        timeout=60)
                expect("INSECURE" in out.stdout, a.id + ": status text", out.stdout)
            # The strict agent was offered the same release all along.
            n = len(sent(proxy, strict.id))
            wait_for(lambda: len(sent(proxy, strict.id)) >= n + 3, 60,
                     "three more check-ins of the strict agent")
            st = strict.status()
            c = strict.channel() or {}
            expect(st["trust_mode"] == "refusing" and c.get("active") is None and
                   c.get("inactive") is None, "strict: nothing applied, says why", st)
            expect(all("insecure" not in r for r in sent(proxy, strict.id)),
                   "strict: its check-ins do not say insecure")
            expect("refusing to apply" in strict.log_text(), "strict: log says why",
                   strict.log_text())
        finally:
            for a in agents:
                a.stop()
            proxy.close()
        srv.stop()
    print("ok")


if __name__ == "__main__":
    rg.run(main)
