"""An enrollment key alone never takes over an enrolled endpoint id (issue
11.12), against a real rollgated and the rollgate CLI: re-enrolling an
existing id with any valid key is refused (409, the endpoint keeps its
token); with the endpoint's current token as proof it is allowed (the old
token stops working); after an operator's `rollgate endpoint reset-identity
ID --reason` (audited as endpoint.reset_identity, operator role, reason
required, 404 for an unknown id) it is allowed once without proof; the reset
survives kill -9.
# ctest-labels: security
"""

import rg
from rg import expect

ATTRS = {"os": "linux", "os_version": "6", "arch": "x86_64"}


cli = rg.cli


def enroll(srv, key, eid, token=""):
    return srv.request("POST", "/v1/agent/enroll", {
        "enrollment_key": key, "endpoint_id": eid, "attributes": ATTRS}, token=token)


def checkin_status(srv, eid, token):
    st, _ = srv.client(token=token).request("POST", "/v1/agent/checkin", {"endpoint_id": eid})
    return st


def main():
    with rg.Server() as srv:
        srv.start()
        keys = []
        for _ in range(2):
            st, k = srv.request("POST", "/v1/enrollment-keys", {})
            expect(st == 201, "key", st, k)
            keys.append(k["key"])
        st, b = enroll(srv, keys[0], "host-1")
        expect(st == 200, "first enrollment", st, b)
        t1 = b["token"]

        # Another key, no proof: refused, nothing changes.
        st, b = enroll(srv, keys[1], "host-1")
        expect(st == 409 and b["error"]["field"] == "endpoint_id", "takeover refused", st, b)
        st, b = enroll(srv, keys[1], "host-1", token="f" * 64)
        expect(st == 409, "a wrong token proves nothing", st, b)
        expect(checkin_status(srv, "host-1", t1) == 200, "the endpoint keeps its token")

        # With the current token as proof: allowed, the old token is gone.
        st, b = enroll(srv, keys[1], "host-1", token=t1)
        expect(st == 200, "re-enrollment with proof", st, b)
        t2 = b["token"]
        expect(checkin_status(srv, "host-1", t2) == 200, "new token works")
        expect(checkin_status(srv, "host-1", t1) == 401, "old token stops working")

        # Operator reset: viewer refused, reason required, unknown id 404.
        viewer = srv.make_token("viewer")
        p = cli(srv, "endpoint", "reset-identity", "host-1", "--reason", "x", token=viewer)
        expect(p.returncode != 0, "viewer cannot reset", p.stdout, p.stderr)
        p = cli(srv, "endpoint", "reset-identity", "host-1")
        expect(p.returncode != 0 and "reason" in p.stderr, "reason required", p.stderr)
        st, b = srv.request("POST", "/v1/endpoints/nobody/reset-identity", {"reason": "x"})
        expect(st == 404, "unknown endpoint", st, b)
        p = cli(srv, "endpoint", "reset-identity", "host-1", "--reason", "reimaged")
        expect(p.returncode == 0 and "host-1" in p.stdout, "reset", p.stdout, p.stderr)
        st, b = srv.request("GET", "/v1/audit?action=endpoint.reset_identity")
        expect(st == 200 and len(b["audit"]) == 1 and b["audit"][0]["reason"] == "reimaged"
               and b["audit"][0]["target"] == "endpoint:host-1", "audited", b)
        expect(checkin_status(srv, "host-1", t2) == 200, "token valid until re-enrolled")

        # The reset survives kill -9, then allows one enrollment without proof.
        srv.kill()
        srv.start()
        st, b = enroll(srv, keys[0], "host-1")
        expect(st == 200, "enrollment after the reset", st, b)
        t3 = b["token"]
        expect(checkin_status(srv, "host-1", t3) == 200, "the fresh token works")
        expect(checkin_status(srv, "host-1", t2) == 401, "the previous token is gone")
        st, b = enroll(srv, keys[1], "host-1")
        expect(st == 409, "the reset was used once", st, b)
        srv.stop()


if __name__ == "__main__":
    rg.run(main)
