"""Artifacts through any HTTP cache (issue 16; docs/caching.md).

rollgated --signed-url-window 3600 offers artifacts at signed URLs that
need no token; nginx's proxy_cache (from Debian, started here on loopback
and stopped afterwards) sits in front of it:

1. 200 concurrent downloads of a 50 MiB artifact through nginx: every one
   complete, the origin serves it once (its access log);
2. real agents with `mirrors =` fetch through the cache: one whose first
   mirror is down goes on to the next (the origin sees nothing more), one
   whose mirror serves wrong bytes falls back to the server and applies;
3. the signed URL at the origin: Cache-Control, strong ETag, 304 on
   If-None-Match, Range; a changed signature, digest or expiry, or none at
   all, is refused (403) and serves nothing.
# ctest-labels: agent security
"""
import hashlib
import os
import subprocess

import rg
from rg import expect
from mitm import HOLD, Agent, Elsewhere, wait_for
from nginx import Nginx, install

SIZE = 50 << 20
FETCHES = 200
HASHED = 8


class Direct:
    """Agents talk to the server itself (mitm.Agent wants a proxy port)."""

    def __init__(self, port):
        self.port = port


# The cache: one URL's bytes fetched once however many ask at once
# (proxy_cache_lock) and kept (immutable, docs/caching.md).
CACHE = """    proxy_cache_path %(d)s/cache keys_zone=artifacts:1m max_size=1g
                     inactive=1h use_temp_path=off;
    server {
        listen 127.0.0.1:%(port)d;
        location / {
            proxy_pass http://127.0.0.1:ORIGIN;
            proxy_http_version 1.1;
            proxy_cache artifacts;
            proxy_cache_key $request_uri;
            proxy_cache_lock on;
            proxy_cache_lock_timeout 300s;
            proxy_cache_lock_age 300s;
        }
    }
"""


def origin_gets(srv, sha):
    """GETs of the signed route for sha in the server's access log."""
    with open(srv.log_path, "rb") as f:
        text = f.read().decode("utf-8", "replace")
    return sum(1 for line in text.splitlines()
               if " GET /v1/artifacts/{} 200 " in line and "path=/v1/artifacts/" + sha in line)


def signed_url(srv, key):
    """Enrolls an endpoint and returns the URL its check-in offers."""
    attrs = {"os": "linux", "os_version": "6", "arch": "x86_64"}
    st, b = srv.request("POST", "/v1/agent/enroll", {
        "enrollment_key": key, "endpoint_id": "probe", "attributes": attrs}, token="")
    expect(st == 200, "enroll", st, b)

    def offered():
        st, c = srv.request("POST", "/v1/agent/checkin", {
            "endpoint_id": "probe", "installed": {}, "events": []}, token=b["token"])
        expect(st == 200, "check-in", st, c)
        return c["desired"].get("detections")

    return wait_for(offered, 60, "the release offered")["url"]


def fetch_all(nginx, url, data_sha):
    """FETCHES concurrent curl downloads of url through port; the first
    HASHED are hashed, every one must be complete."""
    procs = []
    target = "http://127.0.0.1:%d%s" % (nginx.port, url)
    for i in range(FETCHES):
        if i < HASHED:
            cmd = "curl -sS --fail --max-time 600 '%s' | sha256sum" % target
            procs.append(subprocess.Popen(cmd, shell=True, stdout=subprocess.PIPE, text=True))
        else:
            cmd = ["curl", "-sS", "--max-time", "600", "-o", "/dev/null",
                   "-w", "%{http_code} %{size_download}\n", target]
            procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True))
    outs = [p.communicate(timeout=900)[0] for p in procs]
    for i, out in enumerate(outs):
        if i < HASHED:
            expect(out.startswith(data_sha), "download %d: bytes through the cache" % i, out[:200],
                   nginx.errors())
        else:
            expect(out.strip() == "200 %d" % SIZE, "download %d complete" % i, out,
                   nginx.errors())


def check_origin(srv, url, sha):
    """The signed route's headers and refusals, asked of the origin."""
    c = srv.client()
    path, query = url.split("?")
    conn = rg._connect(srv.port, 30, None)
    conn.request("GET", url, headers={"Range": "bytes=0-9"})
    r = conn.getresponse()
    expect(r.status == 206 and len(r.read()) == 10, "a range of a signed URL", r.status)
    cc, etag = r.getheader("Cache-Control"), r.getheader("ETag")
    expect(cc and cc.startswith("public, max-age=") and cc.endswith(", immutable")
           and 3600 <= int(cc.split("=")[1].split(",")[0]) <= 7200, "Cache-Control", cc)
    expect(etag == '"%s"' % sha, "strong ETag", etag)
    conn.request("GET", url, headers={"If-None-Match": etag})
    r = conn.getresponse()
    expect(r.status == 304 and r.read() == b"", "304 on If-None-Match", r.status)
    conn.close()
    exp = query.split("exp=")[1].split("&")[0]
    sig = query.split("sig=")[1]
    bad_sig = sig[:-1] + ("0" if sig[-1] != "0" else "1")
    other = "0" * 64
    for what, u in [("changed signature", "%s?exp=%s&sig=%s" % (path, exp, bad_sig)),
                    ("other digest", "/v1/artifacts/%s?exp=%s&sig=%s" % (other, exp, sig)),
                    ("later expiry", "%s?exp=%d&sig=%s" % (path, int(exp) + 3600, sig)),
                    ("past expiry", "%s?exp=1&sig=%s" % (path, sig)),
                    ("no signature", path),
                    ("not hex", "%s?exp=%s&sig=%s" % (path, exp, "zz" * 32)),
                    ("bad digest", "/v1/artifacts/x?exp=%s&sig=%s" % (exp, sig))]:
        st, b = c.request("GET", u, token="")
        expect(st == 403 and b["error"]["code"] == "forbidden", what + ": refused", st, b)


def main():
    out = install()
    expect(out.returncode == 0, "scripts/deps.sh cache", out.stdout, out.stderr)
    with rg.Server(["--signed-url-window", "3600"]) as srv:
        srv.start()
        data = os.urandom(SIZE)
        sha = hashlib.sha256(data).hexdigest()
        rel = srv.release("detections", 1, data)
        st, b = srv.request("POST", "/v1/rollouts", {"release": rel, "plan": HOLD})
        expect(st == 201, "rollout", st, b)
        st, key = srv.request("POST", "/v1/enrollment-keys", {})
        expect(st == 201, "enrollment key", st, key)
        url = signed_url(srv, key["key"])
        expect(url.startswith("/v1/artifacts/%s?exp=" % sha), "a signed URL offered", url)

        os.makedirs(os.path.join(srv.tmp, "nginx", "cache"))
        nginx = Nginx(srv.tmp, CACHE.replace("ORIGIN", str(srv.port)))
        wrong = Elsewhere(b"\0" * SIZE)  # the right length, the wrong bytes
        agents = []
        try:
            # 1. Through the cache: the origin serves the bytes once.
            fetch_all(nginx, url, sha)
            expect(origin_gets(srv, sha) == 1, "the origin served it once",
                   origin_gets(srv, sha), nginx.errors())

            # 2. Agents: a dead mirror is skipped, wrong bytes fall back.
            dead = "http://127.0.0.1:%d" % rg.free_port()
            via = "http://127.0.0.1:%d" % nginx.port
            a = Agent(srv, Direct(srv.port), key["key"], "via-cache",
                      "insecure = true\nmirrors = %s, %s/\n" % (dead, via))
            agents.append(a)
            wait_for(lambda: ((a.channel() or {}).get("active") or {}).get("release")
                     == rel, 120, "applied through the cache")
            expect("download: mirror %s:" % dead in a.log_text(), "the dead mirror logged",
                   a.log_text()[-2000:])
            expect(origin_gets(srv, sha) == len(nginx.uris(sha)),
                   "the origin served each URL once", origin_gets(srv, sha),
                   nginx.uris(sha))
            b = Agent(srv, Direct(srv.port), key["key"], "bad-mirror",
                      "insecure = true\nmirrors = http://127.0.0.1:%d\n" % wrong.port)
            agents.append(b)
            wait_for(lambda: ((b.channel() or {}).get("active") or {}).get("release")
                     == rel, 120, "applied from the server after a bad mirror")
            expect(len(wrong.seen) >= 1 and origin_gets(srv, sha) == len(nginx.uris(sha)) + 1,
                   "the bad mirror was tried, then the origin", len(wrong.seen),
                   origin_gets(srv, sha), nginx.uris(sha), b.log_text()[-2000:])

            # 3. The origin's answers.
            check_origin(srv, url, sha)
        finally:
            for ag in agents:
                ag.stop()
            wrong.close()
            nginx.stop()
        srv.stop()
    print("ok")


if __name__ == "__main__":
    rg.run(main)
