"""Delta updates (issue 16; docs/caching.md, "Delta updates").

A channel with two releases: v1 (2 MiB of random bytes) and v2 (v1 with
about 3 % of it changed). rollgated makes the delta v1 -> v2 in the
background when v2 is created. Real agents that run v1 then get v2:

1. two agents are offered the delta (the check-in answer names their
   installed digest as its base), rebuild v2 from it and never fetch the
   whole v2 (the server's access log shows the delta served, not v2);
2. an agent with nothing installed (its base differs) is offered no delta
   and downloads v2 whole; so does an agent with `deltas = false`;
3. a hostile server (a proxy rewriting the offer): a truncated delta, a
   corrupt one, one that expands far beyond v2's size (64 MiB of zeros,
   cut off at v2's size) and one for another base: each agent logs why
   and falls back to the whole artifact, and v2 is installed everywhere;
4. the check-in answer offers the delta only for its base, and the delta
   is made again after rollgated is killed (-9) before it was indexed.
# ctest-labels: agent cache
"""
import hashlib
import os
import random
import re
import subprocess
import urllib.request

import rg
from rg import expect
from mitm import HOLD, Agent, Proxy, publish, rollout, abort, wait_for

SIZE = 2 << 20


class Direct:
    """Agents talk to the server itself (mitm.Agent wants a proxy port)."""

    def __init__(self, port):
        self.port = port


def versions():
    """v1: random bytes; v2: v1 with 3 % of its bytes changed in 60 places."""
    rnd = random.Random(16)
    v1 = bytes(rnd.getrandbits(8) for _ in range(SIZE))
    v2 = bytearray(v1)
    for i in range(60):
        at = rnd.randrange(SIZE - 1024)
        v2[at:at + 1024] = bytes(rnd.getrandbits(8) for _ in range(1024))
    return v1, bytes(v2)


def gets(srv, sha):
    """Successful downloads of sha from the server (its access log)."""
    pat = re.compile(r" GET /v1/agent/artifacts/\{\} 20[06] .* path=/v1/agent/artifacts/%s$"
                     % sha)
    with open(srv.log_path, "rb") as f:
        return sum(1 for line in f.read().decode("utf-8", "replace").splitlines()
                   if pat.search(line))


def metric(srv, name):
    with urllib.request.urlopen(srv.url + "/metrics", timeout=10) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name + " "):
                return int(float(line.split()[1]))
    return 0


def enroll(srv, key, eid):
    st, b = srv.request("POST", "/v1/agent/enroll", {
        "enrollment_key": key, "endpoint_id": eid,
        "attributes": {"os": "linux", "os_version": "6", "arch": "x86_64"}}, token="")
    expect(st == 200, "enroll " + eid, st, b)
    return b["token"]


def offer(srv, token, eid, installed):
    st, c = srv.request("POST", "/v1/agent/checkin", {
        "endpoint_id": eid, "installed": installed, "events": []}, token=token)
    expect(st == 200, "check-in", st, c)
    return c["desired"].get("detections")


def tamper(srv, proxy, delta_bytes, how):
    """Makes proxy offer a tampered delta (how(real) -> bytes, or a dict
    of fields to change) and serve it; other downloads go upstream."""
    bad = {}

    def rewrite(desired):
        d = desired.get("detections")
        if not d or "delta" not in d:
            return
        if isinstance(how, dict):
            d["delta"].update(how)
            return
        data = how(delta_bytes)
        sha = hashlib.sha256(data).hexdigest()
        bad[sha] = data
        d["delta"].update({"sha256": sha, "size": len(data),
                           "url": "/v1/agent/artifacts/" + sha})

    def serve(handler, sha):
        if sha not in bad:
            handler.forward("GET")
            return
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(bad[sha])))
        handler.end_headers()
        handler.wfile.write(bad[sha])

    proxy.rewrite, proxy.serve = rewrite, serve


def flip(data):
    b = bytearray(data)
    b[len(b) // 2] ^= 0xFF
    return bytes(b)


def bomb(tmp, base):
    """A delta over base that decompresses to 64 MiB of zeros (zstd CLI)."""
    bpath, zpath, out = (os.path.join(tmp, n) for n in ("zbomb.base", "zbomb.zeros", "zbomb"))
    with open(bpath, "wb") as f:
        f.write(base)
    with open(zpath, "wb") as f:
        f.write(bytes(64 << 20))
    r = subprocess.run(["zstd", "-q", "-f", "--patch-from=" + bpath, zpath, "-o", out],
                       capture_output=True, text=True, timeout=300)
    expect(r.returncode == 0, "zstd --patch-from", r.stderr)
    with open(out, "rb") as f:
        return f.read()


def active(a):
    return ((a.channel() or {}).get("active") or {}).get("release")


def wait_active(a, rel, what):
    try:
        wait_for(lambda: active(a) == rel, 120, what)
    except rg.Failure as e:
        raise rg.Failure("%s\n%s" % (e, a.log_text()[-3000:]))


def check_answers(srv, key, rels, delta_sha):
    """The check-in offers the delta for its base only."""
    tok = enroll(srv, key, "probe")
    v1, v2 = rels[1], rels[2]
    have_v1 = {"detections": {"release": v1["id"], "sha256": v1["sha256"]}}
    d = wait_for(lambda: offer(srv, tok, "probe", have_v1), 60, "v2 offered to the probe")
    expect(d["release"] == v2["id"] and d["delta"]["base"] == v1["sha256"]
           and d["delta"]["sha256"] == delta_sha and d["delta"]["size"] < SIZE // 5,
           "a delta offered from v1", d)
    d = offer(srv, tok, "probe", {"detections": {"release": v1["id"], "sha256": "ab" * 32}})
    expect("delta" not in d, "no delta for another base", d)
    d = offer(srv, tok, "probe", {})
    expect("delta" not in d, "no delta with nothing installed", d)


def main():
    v1, v2 = versions()
    with rg.Server() as srv:
        srv.start()
        rels, key = publish(srv, [v1, v2])
        wait_for(lambda: metric(srv, "rollgate_deltas_made_total") == 1, 120,
                 "the delta v1 -> v2")
        index = os.path.join(srv.data, "deltas", rels[2]["sha256"], rels[1]["sha256"])
        with open(index) as f:
            delta_sha, delta_size = f.read().split()
        with open(os.path.join(srv.data, "artifacts", delta_sha[:2], delta_sha), "rb") as f:
            delta_bytes = f.read()
        expect(len(delta_bytes) == int(delta_size), "the delta's size", delta_size)

        expanding = bomb(srv.tmp, v1)
        ro = rollout(srv, rels[1])
        cases = {"trunc": (lambda d: d[:-7], "truncated"),
                 "corrupt": (flip, "delta: "),
                 "bomb": (lambda d: expanding, "beyond the expected %d bytes" % SIZE),
                 "otherbase": ({"base": "cd" * 32}, "is not the installed")}
        agents, proxies = {}, []
        try:
            for name in ("d1", "d2"):
                agents[name] = Agent(srv, Direct(srv.port), key, name, "insecure = true\n")
            agents["off"] = Agent(srv, Direct(srv.port), key, "off",
                                  "insecure = true\ndeltas = false\n")
            for name, (how, _) in cases.items():
                p = Proxy(srv.port)
                proxies.append(p)
                tamper(srv, p, delta_bytes, how)
                agents[name] = Agent(srv, p, key, name, "insecure = true\n")
            for name, a in agents.items():
                wait_active(a, rels[1]["id"], name + " on v1")
            abort(srv, ro)
            rollout(srv, rels[2])
            check_answers(srv, key, rels, delta_sha)
            agents["fresh"] = Agent(srv, Direct(srv.port), key, "fresh", "insecure = true\n")
            for name, a in agents.items():
                wait_active(a, rels[2]["id"], name + " on v2")

            for name in ("d1", "d2"):
                expect("rebuilt from a delta of %s bytes" % delta_size in agents[name].log_text(),
                       name + ": v2 from the delta", agents[name].log_text()[-2000:])
            for name, (_, why) in cases.items():
                log = agents[name].log_text()
                expect("delta for release %d" % rels[2]["id"] in log and why in log,
                       name + ": fell back, saying why (%r)" % why, log[-3000:])
            for name in ("fresh", "off"):
                expect("delta" not in agents[name].log_text(), name + ": no delta tried",
                       agents[name].log_text()[-2000:])
            # d1 and d2 took the delta; the six others took v2 whole.
            expect(gets(srv, delta_sha) == 2, "the delta served to d1 and d2",
                   gets(srv, delta_sha))
            expect(gets(srv, rels[2]["sha256"]) == 6, "v2 whole to the six others only",
                   gets(srv, rels[2]["sha256"]))
        finally:
            for a in agents.values():
                a.stop()
            for p in proxies:
                p.close()

        # 4. Killed before the delta was indexed: made again on start.
        os.remove(index)
        srv.kill()
        srv.start()
        wait_for(lambda: os.path.exists(index), 120, "the delta made again after kill -9")
        with open(index) as f:
            expect(f.read().split()[0] == delta_sha, "the same delta again")
        srv.stop()
    print("ok")


if __name__ == "__main__":
    rg.run(main)
