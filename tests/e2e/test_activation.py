"""Releases declare how they activate (issue 10), through the real API and
CLI: POST /v1/releases "activation" {"kind", "max_s"} (default none, 120 s;
restart 600 s and reboot 1800 s by default), stored and returned by GET,
refused with a clear error when malformed (nothing created), set with
`rollgate release create --activation reboot --activation-max 15m`, shown by
`rollgate release show`, and carried in the check-in's desired entry.
# ctest-labels: foundation
"""

import rg
from rg import expect


cli = rg.cli


def main():
    with rg.Server() as srv:
        srv.start()
        st, _ = srv.request("POST", "/v1/channels", {"name": "det"})
        expect(st == 201, "channel", st)
        st, art = srv.upload(b"content")
        expect(st == 201, "upload", st, art)

        def create(version, activation=None):
            body = {"channel": "det", "version": version, "artifact": art["sha256"],
                    "notes": "n", "urgency": "standard"}
            if activation is not None:
                body["activation"] = activation
            return srv.request("POST", "/v1/releases", body)

        st, r1 = create(1)
        expect(st == 201 and r1["activation"] == {"kind": "none", "max_s": 120, "declared": False},
               "default activation", st, r1)
        st, r2 = create(2, {"kind": "restart"})
        expect(st == 201 and r2["activation"] == {"kind": "restart", "max_s": 600, "declared": True},
               "restart default max", st, r2)
        for bad, field in [({"kind": "sometime"}, "activation.kind"),
                           ({"kind": "reboot", "max_s": 0}, "activation.max_s"),
                           ({"kind": "reboot", "max_s": 86401}, "activation.max_s"),
                           ({"max_s": 60}, "activation.kind"),
                           ({"kind": "reboot", "when": 1}, "activation.when"),
                           ("reboot", "activation")]:
            st, b = create(3, bad)
            expect(st == 400 and b["error"]["field"] == field, "bad activation", bad, st, b)
        st, body = srv.request("GET", "/v1/releases")
        expect(len(body["releases"]) == 2, "bad input created nothing", body)

        p = cli(srv, "release", "create", "--channel", "det", "--artifact", art["sha256"],
                "--version", "3", "--notes", "kernel patch", "--activation", "reboot",
                "--activation-max", "15m", "--json")
        expect(p.returncode == 0, "cli create", p.stdout, p.stderr)
        import json
        r3 = json.loads(p.stdout)
        expect(r3["activation"] == {"kind": "reboot", "max_s": 900, "declared": True}, "cli activation", r3)
        st, got = srv.request("GET", "/v1/releases/%d" % r3["id"])
        expect(st == 200 and got["activation"] == r3["activation"], "GET", st, got)
        p = cli(srv, "release", "show", str(r3["id"]))
        expect(p.returncode == 0 and "reboot, at most 15m" in p.stdout, "show", p.stdout)
        p = cli(srv, "release", "create", "--channel", "det", "--artifact", art["sha256"],
                "--version", "4", "--notes", "n", "--activation", "later")
        expect(p.returncode != 0 and "activation" in p.stderr, "cli bad kind", p.stderr)

        # The check-in's desired entry carries it (offered through a pin).
        st, key = srv.request("POST", "/v1/enrollment-keys", {})
        st, b = srv.request("POST", "/v1/agent/enroll", {
            "enrollment_key": key["key"], "endpoint_id": "h1",
            "attributes": {"os": "linux", "os_version": "6", "arch": "x86_64"}}, token="")
        expect(st == 200, "enroll", st, b)
        st, pol = srv.request("POST", "/v1/policies", {
            "name": "pin", "channel": "det", "mode": "pin", "release": r3["id"],
            "selector": {"attribute": {"os": "linux"}}})
        expect(st == 201, "pin", st, pol)
        st, c = srv.client(token=b["token"]).request(
            "POST", "/v1/agent/checkin", {"endpoint_id": "h1"})
        expect(st == 200 and c["desired"]["det"]["activation"] == {"kind": "reboot", "max_s": 900},
               "desired entry", st, c)
        srv.stop()


if __name__ == "__main__":
    rg.run(main)
