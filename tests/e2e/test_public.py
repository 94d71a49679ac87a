"""Public channels (issue 16; docs/caching.md, "Public channels").

A channel created with `rollgate channel create NAME --public` serves its
artifacts, and the deltas to them, to anyone at
/v1/public/artifacts/<sha256>: no token, no signature, never expiring
(`Cache-Control: public, max-age=31536000, immutable`, strong ETag, 304,
Range). A digest only private channels have is 404 there, exactly like
one that does not exist; a digest that a public and a private channel
both have is public (the publisher published those bytes). Check-ins
offer a public channel's releases and deltas at the public URL, a
private channel's at the token route; a real agent applies through the
public URL. The flag is audited, survives kill -9, and bad input changes
nothing.
# ctest-labels: security cache
"""
import os
import random
import urllib.request

import rg
from rg import expect
from mitm import HOLD, Agent, wait_for

MAX_AGE = "public, max-age=31536000, immutable"


class Direct:
    def __init__(self, port):
        self.port = port


def content(seed, base=None):
    rnd = random.Random(seed)
    if base is None:
        return bytes(rnd.getrandbits(8) for _ in range(256 << 10))
    b = bytearray(base)
    for _ in range(8):
        at = rnd.randrange(len(b) - 256)
        b[at:at + 256] = bytes(rnd.getrandbits(8) for _ in range(256))
    return bytes(b)


def release(srv, channel, version, data):
    st, art = srv.upload(data)
    expect(st in (200, 201), "artifact", st, art)
    st, rel = srv.request("POST", "/v1/releases", {
        "channel": channel, "version": version, "artifact": art["sha256"],
        "notes": "v%d" % version, "urgency": "standard"})
    expect(st == 201, "release", st, rel)
    return rel


def public_get(srv, sha, headers=None):
    conn = rg._connect(srv.port, 30, srv.ca_file)
    conn.request("GET", "/v1/public/artifacts/" + sha, headers=headers or {})
    r = conn.getresponse()
    body = r.read()
    hdrs = {k.lower(): v for k, v in r.getheaders()}
    conn.close()
    return r.status, hdrs, body


def delta_of(srv, target, base):
    path = os.path.join(srv.data, "deltas", target, base)
    wait_for(lambda: os.path.exists(path), 120, "the delta %s <- %s" % (target[:8], base[:8]))
    with open(path) as f:
        return f.read().split()[0]


def check_refusals(srv, rels):
    """Private-only, unknown and malformed digests: the same 404."""
    for what, sha in [("private only", rels["closed2"]["sha256"]),
                      ("unknown", "0" * 64), ("not a digest", "xyz")]:
        st, h, body = public_get(srv, sha)
        expect(st == 404 and b'"not_found"' in body and "cache-control" not in h,
               what + ": 404 without a token", st, h, body)


def check_served(srv, sha, data):
    st, h, body = public_get(srv, sha)
    expect(st == 200 and body == data, "public bytes", st, len(body))
    expect(h.get("cache-control") == MAX_AGE, "Cache-Control", h)
    expect(h.get("etag") == '"%s"' % sha, "strong ETag", h)
    st, h, body = public_get(srv, sha, {"If-None-Match": '"%s"' % sha})
    expect(st == 304 and body == b"", "304 on If-None-Match", st)
    st, h, body = public_get(srv, sha, {"Range": "bytes=0-9"})
    expect(st == 206 and body == data[:10], "a range", st, len(body))


def offers(srv, key):
    st, b = srv.request("POST", "/v1/agent/enroll", {
        "enrollment_key": key, "endpoint_id": "probe",
        "attributes": {"os": "linux", "os_version": "6", "arch": "x86_64"}}, token="")
    expect(st == 200, "enroll", st, b)

    def both():
        st, c = srv.request("POST", "/v1/agent/checkin", {
            "endpoint_id": "probe", "installed": {}, "events": []}, token=b["token"])
        expect(st == 200, "check-in", st, c)
        d = c["desired"]
        return d if "open" in d and "closed" in d else None

    return wait_for(both, 60, "both channels offered")


def main():
    with rg.Server() as srv:
        srv.start()
        out = rg.cli(srv, "channel", "create", "open", "--public")
        expect(out.returncode == 0 and "public" in out.stdout and "yes" in out.stdout,
               "rollgate channel create --public", out.stdout, out.stderr)
        st, b = srv.request("POST", "/v1/channels", {"name": "bad", "public": "yes"})
        expect(st == 400 and b["error"]["field"] == "public", "public must be a boolean", st, b)
        st, b = srv.request("POST", "/v1/channels", {"name": "closed"})
        expect(st == 201 and b["public"] is False, "a private channel", st, b)
        st, b = srv.request("GET", "/v1/channels")
        names = {c["name"]: c["public"] for c in b["channels"]}
        expect(names == {"open": True, "closed": False}, "channels and their flag", names)
        st, b = srv.request("GET", "/v1/audit?action=channel.create")
        rows = {r["target"]: r["detail"] for r in b["audit"]}
        expect('"public":true' in (rows.get("channel:open") or ""), "audited public", rows)

        shared, priv = content(1), content(2)
        rels = {"open1": release(srv, "open", 1, shared),
                "open2": release(srv, "open", 2, content(3, shared)),
                "closed1": release(srv, "closed", 1, shared),
                "closed2": release(srv, "closed", 2, priv),
                "closed3": release(srv, "closed", 3, content(4, priv))}
        check_served(srv, rels["open1"]["sha256"], shared)  # in both: public
        check_refusals(srv, rels)
        pub_delta = delta_of(srv, rels["open2"]["sha256"], rels["open1"]["sha256"])
        priv_delta = delta_of(srv, rels["closed3"]["sha256"], rels["closed2"]["sha256"])
        expect(public_get(srv, pub_delta)[0] == 200, "a public channel's delta is public")
        expect(public_get(srv, priv_delta)[0] == 404, "a private channel's delta is not")

        for r in ("open2", "closed3"):
            st, b = srv.request("POST", "/v1/rollouts", {"release": rels[r]["id"], "plan": HOLD})
            expect(st == 201, "rollout", st, b)
        st, key = srv.request("POST", "/v1/enrollment-keys", {})
        d = offers(srv, key["key"])
        expect(d["open"]["url"] == "/v1/public/artifacts/" + rels["open2"]["sha256"],
               "the public channel offered at its public URL", d["open"])
        expect(d["closed"]["url"] == "/v1/agent/artifacts/" + rels["closed3"]["sha256"],
               "the private channel at the token route", d["closed"])

        a = Agent(srv, Direct(srv.port), key["key"], "reader", "insecure = true\n[channel open]\n")
        try:
            wait_for(lambda: any(c["name"] == "open" and (c.get("active") or {}).get("release")
                                 == rels["open2"]["id"] for c in a.status()["channels"]),
                     120, "the agent applied the public release")
        finally:
            a.stop()
        log = open(srv.log_path, "rb").read().decode("utf-8", "replace")
        expect("path=/v1/public/artifacts/" + rels["open2"]["sha256"] in log,
               "downloaded from the public URL", log[-2000:])

        srv.kill()  # -9: the flag is in the store
        srv.start()
        check_served(srv, rels["open1"]["sha256"], shared)
        check_refusals(srv, rels)
        srv.stop()
    print("ok")


if __name__ == "__main__":
    rg.run(main)
