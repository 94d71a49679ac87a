"""The endpoint's token goes only to its server (issue 11, item 13;
docs/agent.md "Artifact URLs").

Through the check-in proxy of tests/e2e/mitm.py, a real
agent is offered its release with a rewritten `url`; a second HTTP server
("elsewhere") records every request it gets and serves the artifact:

1. "url": "@127.0.0.1:ELSEWHERE/x" (once concatenated to the server's URL it
   named elsewhere, with the server's host:port as user information): the
   URL is parsed as a path on the agent's server, which answers 404;
   elsewhere sees nothing;
2. "url": "http://127.0.0.1:ELSEWHERE/..." (another origin, a mirror): the
   artifact is fetched from there WITHOUT the Authorization header, verified
   and applied.
# ctest-labels: agent security
"""
import rg
from rg import expect
from mitm import Agent, Elsewhere, Proxy, publish, rollout, wait_for


def main():
    with rg.Server() as srv:
        srv.start()
        proxy = Proxy(srv.port)
        data = b"rule one\n" * 10
        other = Elsewhere(data)
        rels, key = publish(srv, [data])
        rel = rels[1]
        rollout(srv, rel)

        def with_url(url):
            return lambda d: "detections" in d and d["detections"].__setitem__("url", url)

        at = "@127.0.0.1:%d/x" % other.port
        proxy.rewrite = with_url(at)
        agent = Agent(srv, proxy, key, "url-1", "insecure = true\n")
        try:
            # 1. Parsed as a path on the agent's own server: 404 there.
            wait_for(lambda: "http 404: no route for GET /@127.0.0.1:%d/x" % other.port
                     in agent.log_text(), 60, "the '@host' URL fetched from the server")
            expect(other.seen == [], "elsewhere never contacted", other.seen)
            expect((agent.channel() or {}).get("active") is None, "nothing applied")

            # 2. Another origin: fetched there, without the token.
            proxy.rewrite = with_url("http://127.0.0.1:%d/v1/agent/artifacts/%s"
                                     % (other.port, rel["sha256"]))
            wait_for(lambda: ((agent.channel() or {}).get("active") or {}).get(
                "release") == rel["id"], 60, "applied from the other origin")
            expect(other.seen and all("authorization" not in {k.lower() for k in h}
                                      for _, h in other.seen),
                   "elsewhere never saw the token", other.seen)
        finally:
            proxy.rewrite = None
            agent.stop()
            other.close()
            proxy.close()
        srv.stop()
    print("ok")


if __name__ == "__main__":
    rg.run(main)
