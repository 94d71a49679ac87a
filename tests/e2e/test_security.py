"""Hardened auth and audit against a real rollgated and the rollgate CLI:
admin tokens (256-bit, shown once, stored as hashes, expiry and revocation
listed, the last admin token cannot be revoked), enrollment keys (list
without secrets, revoke, a revoked key enrolls nobody), rate limits per
address (failed authentications and enrollments answer 429 rate_limited with
Retry-After; valid tokens are never limited), the audit of failed
authentications (one row each up to the per-minute budget, the rest
summarised), `rollgate audit --action`, and the append-only audit table
(no store function changes or deletes rows; SQLite triggers refuse it).
# ctest-labels: security
"""
import os
import re
import sqlite3

import rg
from rg import expect


cli = rg.cli


def check_tokens(srv):
    p = cli(srv, "token", "create", "--role", "viewer", "--name", "short",
            "--expires-in", "1h", "--json")
    expect(p.returncode == 0, "token create --expires-in", p.stderr)
    import json
    tok = json.loads(p.stdout)
    expect(re.fullmatch("[0-9a-f]{64}", tok["token"]) is not None, "256-bit hex", tok)
    expect(3590 * 1000 <= tok["expires_ms"] - tok["created_ms"] <= 3600 * 1000,
           "expiry from --expires-in", tok)
    # Shown once: the list and the database hold no secret.
    st, body = srv.request("GET", "/v1/tokens")
    expect(all("token" not in t and "hash" not in t for t in body["tokens"]),
           "list without secrets", body)
    db = sqlite3.connect(os.path.join(srv.data, "rollgate.db"))
    try:
        rows = db.execute("SELECT hash FROM tokens").fetchall()
    finally:
        db.close()
    import hashlib
    expect(tok["token"] not in [r[0] for r in rows] and
           hashlib.sha256(tok["token"].encode()).hexdigest() in [r[0] for r in rows],
           "stored as its SHA-256", rows)
    p = cli(srv, "token", "revoke", str(tok["id"]))
    expect(p.returncode == 0, "revoke", p.stderr)
    p = cli(srv, "token", "list")
    line = [l for l in p.stdout.splitlines() if " short " in l][0]
    expect("in 59m" in line or "in 1h" in line, "list shows the expiry", line)
    expect(line.rstrip().endswith("ago") or "just now" in line,
           "list shows the revocation", line)
    # The last usable admin token cannot be revoked (409); with a second
    # admin it can.
    st, body = srv.request("GET", "/v1/tokens")
    admins = [t for t in body["tokens"] if t["role"] == "admin" and not t["revoked_ms"]]
    expect(len(admins) == 1, "one admin token", admins)
    st, body = srv.request("DELETE", "/v1/tokens/%d" % admins[0]["id"])
    expect(st == 409 and body["error"]["code"] == "conflict"
           and "last usable admin" in body["error"]["message"], "last admin kept", st, body)
    p = cli(srv, "token", "revoke", str(admins[0]["id"]))
    expect(p.returncode == 1 and "conflict" in p.stderr, "cli: last admin kept", p.stderr)
    second = srv.make_token("admin", "second-admin")
    st, body = srv.request("DELETE", "/v1/tokens/%d" % admins[0]["id"], token=second)
    expect(st == 200, "revoke the first admin once a second exists", st, body)
    srv.token = second
    srv._client.token = second


def check_enroll_keys(srv):
    p = cli(srv, "enroll-key", "create", "--uses", "3", "--json")
    expect(p.returncode == 0, "key create", p.stderr)
    import json
    key = json.loads(p.stdout)
    st, body = srv.request("GET", "/v1/enrollment-keys")
    mine = [k for k in body["enrollment_keys"] if k["id"] == key["id"]]
    expect(st == 200 and mine and mine[0]["uses"] == 3 and mine[0]["revoked_ms"] == 0
           and "key" not in mine[0] and "hash" not in mine[0], "key list", body)
    p = cli(srv, "enroll-key", "list")
    expect(p.returncode == 0 and re.search(r"\b%d\s+active\s+3\b" % key["id"], p.stdout),
           "cli key list", p.stdout)
    p = cli(srv, "enroll-key", "revoke", str(key["id"]))
    expect(p.returncode == 0, "cli key revoke", p.stderr)
    p = cli(srv, "enroll-key", "list")
    expect(re.search(r"\b%d\s+revoked\b" % key["id"], p.stdout), "revoked state", p.stdout)
    st, body = srv.request("DELETE", "/v1/enrollment-keys/%d" % key["id"])
    expect(st == 409, "revoked twice", st, body)
    st, body = srv.request("POST", "/v1/agent/enroll", {
        "enrollment_key": key["key"], "endpoint_id": "after-revoke",
        "attributes": {"os": "linux", "os_version": "6", "arch": "x86_64"}}, token="")
    expect(st == 401, "a revoked key enrolls nobody", st, body)
    st, body = srv.request("GET", "/v1/audit?action=auth.failed&limit=1")
    expect(body["audit"][0]["reason"] == "revoked enrollment key"
           and body["audit"][0]["target"] == "endpoint:after-revoke"
           and key["key"] not in str(body), "refused enrollment audited", body)
    st, body = srv.request("GET", "/v1/audit?action=enrollment_key.revoke")
    expect(len(body["audit"]) == 1 and
           body["audit"][0]["target"] == "enrollment_key:%d" % key["id"],
           "revocation audited", body)


def check_audit_action_filter(srv):
    p = cli(srv, "audit", "--action", "token.revoke", "--json")
    import json
    rows = json.loads(p.stdout)["audit"]
    expect(p.returncode == 0 and rows and all(r["action"] == "token.revoke" for r in rows),
           "audit --action", p.stdout)


def check_append_only(srv):
    # The store's interface has no call that changes or removes audit rows.
    with open(os.path.join(rg.SOURCE_DIR, "src", "store", "store.h")) as f:
        header = f.read()
    calls = set(re.findall(r"\brg_store_audit_\w+", header))
    expect(calls == {"rg_store_audit_append", "rg_store_audit_list"},
           "audit calls of the store", calls)
    with open(os.path.join(rg.SOURCE_DIR, "src", "store", "sqlite.c")) as f:
        backend = f.read()
    expect(not re.search(r"(UPDATE\s+audit\b|DELETE\s+FROM\s+audit\b)", backend),
           "no SQL changes audit rows")
    # And the schema refuses it to anyone holding the file.
    db = sqlite3.connect(os.path.join(srv.data, "rollgate.db"), timeout=10)
    try:
        for sql in ("UPDATE audit SET actor = 'mallory'", "DELETE FROM audit"):
            try:
                db.execute(sql)
                db.commit()
                expect(False, "the audit table accepted: " + sql)
            except sqlite3.DatabaseError as e:
                expect("append-only" in str(e), "trigger message", sql, str(e))
                db.rollback()
        n = db.execute("SELECT count(*) FROM audit").fetchone()[0]
        expect(n > 0, "rows still there", n)
    finally:
        db.close()


def check_rate_limits():
    args = ["--tick-ms", "100000", "--auth-fail-burst", "3", "--auth-fail-per-min", "1",
            "--auth-audit-per-min", "2", "--enroll-burst", "2", "--enroll-per-min", "1"]
    with rg.Server(args=args) as srv:
        srv.start()
        wrong = "f" * 64
        got = [srv.request("GET", "/v1/channels", token=wrong) for _ in range(5)]
        expect([st for st, _ in got] == [401, 401, 401, 429, 429], "failures limited",
               [st for st, _ in got])
        st, body = got[3]
        expect(body["error"]["code"] == "rate_limited", "rate_limited code", body)
        ra = srv._client.last.getheader("Retry-After")
        expect(ra is not None and int(ra) >= 1, "Retry-After", ra)
        # Valid tokens from the same address are never limited.
        for _ in range(10):
            st, body = srv.request("GET", "/v1/channels")
            expect(st == 200, "authenticated traffic not limited", st, body)
        # Agent failures count against the same budget.
        st, body = srv.request("POST", "/v1/agent/checkin", {"endpoint_id": "x"}, token=wrong)
        expect(st == 429, "agent failure limited", st, body)
        # Failures audited one by one up to the budget (2 a minute); the
        # rest are summarised when the server stops.
        st, body = srv.request("GET", "/v1/audit?action=auth.failed")
        expect(len(body["audit"]) == 2, "two rows audited", body)
        # Enrollment: two in the burst, then 429 before the key is looked at.
        st, key = srv.request("POST", "/v1/enrollment-keys", {})
        codes = []
        for i in range(3):
            st, body = srv.request("POST", "/v1/agent/enroll", {
                "enrollment_key": key["key"], "endpoint_id": "rl-%d" % i,
                "attributes": {"os": "linux", "os_version": "6", "arch": "x86_64"}},
                token="")
            codes.append(st)
        expect(codes == [200, 200, 429], "enrollments limited", codes)
        expect(srv.stop() == 0, "clean stop", srv.log_text())
        srv.start()
        st, body = srv.request("GET", "/v1/audit?action=auth.failed")
        summary = [a for a in body["audit"] if a["target"] == "source:127.0.0.1"]
        expect(len(summary) == 1 and "not recorded one by one" in summary[0]["reason"]
               and summary[0]["detail"] == '{"suppressed":4}',
               "flood summarised", body)
        srv.stop()


def main():
    with rg.Server(args=["--tick-ms", "100000"]) as srv:
        srv.start()
        check_tokens(srv)
        check_enroll_keys(srv)
        check_audit_action_filter(srv)
        check_append_only(srv)
        srv.stop()
    check_rate_limits()


rg.run(main)
