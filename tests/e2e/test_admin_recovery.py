"""Nobody locks every administrator out (issue 11.11), against a real
rollgated: the last-admin guard counts only lasting admin tokens (never
expiring, or valid for more than a day), so revoking the permanent admin
token while only a short-lived one remains is refused (409) instead of
leaving a lockout when it expires; and the offline recovery `rollgated
admin-token --data DIR` adds a working admin token (audited), refused while
a rollgated serves DIR, working after a clean stop or a kill -9.
# ctest-labels: security
"""
import json
import subprocess

import rg
from rg import expect


def admin_token(srv, *extra):
    return subprocess.run([rg.binary("rollgated"), "admin-token", "--data", srv.data] + list(extra),
                          capture_output=True, text=True, timeout=60)


def token_names(srv, token):
    st, b = srv.request("GET", "/v1/tokens", token=token)
    expect(st == 200, "token list", st, b)
    return sorted(t["name"] for t in b["tokens"] if not t.get("revoked_ms"))


def main():
    with rg.Server() as srv:
        srv.start()
        st, admin_row = srv.request("GET", "/v1/tokens")
        admin_id = [t["id"] for t in admin_row["tokens"] if t["name"] == "admin"][0]

        # A short-lived admin token does not count as a way back in.
        st, short = srv.request("POST", "/v1/tokens", {"role": "admin", "name": "short",
                                                       "expires_in_s": 600})
        expect(st == 201, "short-lived admin", st, short)
        st, b = srv.request("DELETE", "/v1/tokens/%d" % admin_id, token=short["token"])
        expect(st == 409 and "last usable admin" in b["error"]["message"],
               "revoking the last lasting admin refused", st, b)
        st, lasting = srv.request("POST", "/v1/tokens", {"role": "admin", "name": "lasting"})
        expect(st == 201, "lasting admin", st, lasting)
        st, b = srv.request("DELETE", "/v1/tokens/%d" % admin_id, token=lasting["token"])
        expect(st == 200, "revoke with a lasting admin left", st, b)

        # Offline recovery is refused while the server runs: nothing added.
        p = admin_token(srv)
        expect(p.returncode != 0 and "in use" in p.stderr, "refused while serving",
               p.returncode, p.stdout, p.stderr)
        expect("recovery" not in token_names(srv, lasting["token"]), "nothing added")

        # After kill -9 it works; the token is an admin's, audited.
        srv.kill()
        p = admin_token(srv, "--name", "rescue")
        expect(p.returncode == 0, "admin-token after kill -9", p.stdout, p.stderr)
        rescue = p.stdout.strip().splitlines()[-1]
        expect(len(rescue) == 64, "token alone on the last line", p.stdout)
        srv.start()
        expect("rescue" in token_names(srv, rescue), "the rescue token is an admin's")
        st, b = srv.request("GET", "/v1/tokens", token=rescue)
        tid = [t["id"] for t in b["tokens"] if t["name"] == "rescue"]
        st, b = srv.request("GET", "/v1/audit?action=token.create&target=token:%d" % tid[0],
                            token=rescue)
        expect(st == 200 and len(b["audit"]) == 1 and "offline" in b["audit"][0]["reason"]
               and json.loads(b["audit"][0]["detail"])["name"] == "rescue"
               and b["audit"][0]["actor"] == "system", "audited", b)
        srv.stop()

        # After a clean stop too; bad arguments and a missing database fail.
        p = admin_token(srv)
        expect(p.returncode == 0, "admin-token after a stop", p.stderr)
        p = subprocess.run([rg.binary("rollgated"), "admin-token", "--data", srv.tmp + "/none"],
                           capture_output=True, text=True, timeout=60)
        expect(p.returncode != 0 and "no database" in p.stderr, "no database", p.stderr)
        p = admin_token(srv, "--role", "viewer")
        expect(p.returncode == 2, "unknown argument", p.returncode, p.stderr)


if __name__ == "__main__":
    rg.run(main)
