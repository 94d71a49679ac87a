"""Every admin list route is paged (docs/api.md, "Lists and pages"):
?limit=N (1..1000, default 100) and ?after=K from the previous answer's
next_after, null on the last page. Walking the pages of each list gives
every item once, in the list's order; more items than a page are never
answered at once; a bad limit or cursor is a 400 with the error shape.
The CLI follows the pages (more than 1000 channels and audit rows).
GET /v1/rollouts lists the counts of the gate's latest evaluation, not
counts measured per listed rollout.
# ctest-labels: foundation
"""
import json
import subprocess

import rg
from rg import expect

N_CHANNELS = 1010  # more than the largest page: the CLI needs two


def walk(srv, path, key, limit):
    """Follows next_after through every page of path; returns the items
    and how many pages it took."""
    items, after, pages = [], None, 0
    sep = "&" if "?" in path else "?"
    while True:
        q = "%s%slimit=%d" % (path, sep, limit)
        if after is not None:
            q += "&after=%s" % after
        st, b = srv.request("GET", q)
        expect(st == 200, "GET " + q, st, b)
        expect(len(b[key]) <= limit, "a page holds at most limit items", q, len(b[key]))
        pages += 1
        items += b[key]
        if b["next_after"] is None:
            return items, pages
        expect(len(b[key]) == limit, "only the last page is short", q, len(b[key]))
        after = b["next_after"]


def check_route(srv, path, key, ident, order):
    """The pages of path, at several sizes, give the one-page list."""
    full, _ = walk(srv, path, key, 1000)
    ids = [ident(v) for v in full]
    expect(len(ids) >= 3, "enough items to page through " + path, len(ids))
    expect(len(set(ids)) == len(ids), path + ": no item twice", ids[:10])
    expect(ids == sorted(ids, reverse=(order == "desc")), path + " in its order", ids[:10])
    sizes = (1, 2, len(ids) - 1, len(ids)) if len(ids) < 100 else (7, 333, 1000)
    for limit in sizes:
        got, pages = walk(srv, path, key, limit)
        expect([ident(v) for v in got] == ids, "%s in pages of %d: every item once"
               % (path, limit), [ident(v) for v in got][:10], ids[:10])
        expect(pages == -(-len(ids) // limit), "%s: %d pages of %d" % (path, pages, limit))


def check_bad(srv, path, name_cursor=False, name_max=64):
    sep = "&" if "?" in path else "?"
    bad = [("limit=0", "limit"), ("limit=1001", "limit"), ("limit=-1", "limit"),
           ("limit=ten", "limit"), ("limit=", "limit")]
    if name_cursor:
        bad += [("after=", "after"), ("after=" + "x" * (name_max + 1), "after")]
    else:
        bad += [("after=abc", "after"), ("after=-5", "after"), ("after=1.5", "after")]
    for q, field in bad:
        st, b = srv.request("GET", path + sep + q)
        expect(st == 400, "GET %s%s%s refused" % (path, sep, q), st, b)
        err = b.get("error", {})
        expect(err.get("code") == "invalid" and err.get("field") == field
               and err.get("message"), "error shape naming " + field, b)


def setup(srv):
    client = srv.client()
    for i in range(N_CHANNELS):
        st, b = client.request("POST", "/v1/channels", {"name": "ch-%04d" % i})
        expect(st == 201, "channel", st, b)
    for v in range(1, 6):
        st, art = srv.upload(b"release %d\n" % v)
        expect(st in (200, 201), "artifact", st, art)
        for ch in ("ch-0000", "ch-0001", "ch-0002"):
            st, rel = srv.request("POST", "/v1/releases", {
                "channel": ch, "version": v, "artifact": art["sha256"],
                "notes": "v%d" % v, "urgency": "standard"})
            expect(st == 201, "release", st, rel)
    st, rels = srv.request("GET", "/v1/releases?channel=ch-0000&limit=1")
    for ch in ("ch-0000", "ch-0001", "ch-0002"):
        st, b = srv.request("GET", "/v1/releases?channel=%s&limit=1" % ch)
        st, ro = srv.request("POST", "/v1/rollouts", {"release": b["releases"][0]["id"]})
        expect(st == 201, "rollout", st, ro)
    for i in range(4):
        srv.make_token("viewer", "viewer-%d" % i)
        st, b = srv.request("POST", "/v1/enrollment-keys", {})
        expect(st == 201, "enrollment key", st, b)
        st, b = srv.request("POST", "/v1/policies", {
            "name": "p%d" % i, "channel": "ch-0003", "selector": {"tag": "t%d" % i},
            "mode": "n-1"})
        expect(st == 201, "policy", st, b)


def check_cli(srv):
    env = dict(srv.cli_env(), PATH="/usr/bin:/bin", HOME=srv.tmp,
               ROLLGATE_URL=srv.url, ROLLGATE_TOKEN=srv.token)

    def cli(*args):
        p = subprocess.run([rg.binary("rollgate"), "--json"] + list(args), env=env,
                           capture_output=True, text=True, timeout=60)
        expect(p.returncode == 0, "rollgate " + " ".join(args), p.stderr)
        return json.loads(p.stdout)

    names = [c["name"] for c in cli("channel", "list")["channels"]]
    expect(names == ["ch-%04d" % i for i in range(N_CHANNELS)],
           "rollgate channel list follows the pages", len(names), names[-3:])
    rows = cli("audit", "--limit", "1005")["audit"]
    expect(len(rows) == 1005 and len({r["id"] for r in rows}) == 1005,
           "rollgate audit --limit 1005: two pages, every row once", len(rows))
    expect(len(cli("audit")["audit"]) == 1000, "rollgate audit: the newest 1000")
    expect(len(cli("rollout", "list")["rollouts"]) == 3, "rollgate rollout list")
    expect(len(cli("token", "list")["tokens"]) == 5, "rollgate token list")


def main():
    with rg.Server() as srv:
        srv.start()
        setup(srv)
        # More items than a page: the default page is 100.
        for path, key in (("/v1/channels", "channels"), ("/v1/audit", "audit")):
            st, b = srv.request("GET", path)
            expect(st == 200 and len(b[key]) == 100 and b["next_after"] is not None,
                   path + ": a default page of 100 and a cursor", st, len(b[key]))
        name = lambda v: v["name"]
        ident = lambda v: v["id"]
        check_route(srv, "/v1/channels", "channels", name, "asc")
        check_route(srv, "/v1/releases", "releases", ident, "desc")
        check_route(srv, "/v1/releases?channel=ch-0001", "releases", ident, "desc")
        check_route(srv, "/v1/rollouts", "rollouts", ident, "desc")
        check_route(srv, "/v1/rollouts?active=1", "rollouts", ident, "desc")
        check_route(srv, "/v1/audit?action=channel.create", "audit", ident, "desc")
        check_route(srv, "/v1/tokens", "tokens", ident, "asc")
        check_route(srv, "/v1/enrollment-keys", "enrollment_keys", ident, "asc")
        check_route(srv, "/v1/policies", "policies", ident, "asc")
        for path in ("/v1/releases", "/v1/rollouts", "/v1/audit", "/v1/tokens",
                     "/v1/enrollment-keys", "/v1/policies", "/v1/endpoints",
                     "/v1/root", "/v1/rollouts?active=1"):
            check_bad(srv, path, name_cursor=path == "/v1/endpoints", name_max=128)
        check_bad(srv, "/v1/channels", name_cursor=True)

        # A list measures nothing: its counts are the gate's latest
        # evaluation's (null before one), GET /v1/rollouts/{id} measures.
        st, b = srv.request("GET", "/v1/rollouts")
        for ro in b["rollouts"]:
            expect("decisions" not in ro, "a listed rollout has no decisions", ro)
            st, one = srv.request("GET", "/v1/rollouts/%d" % ro["id"])
            ev = one["evaluation"]
            expect(ro["counts"] is None or set(ro["counts"]) == set(one["counts"]),
                   "listed counts: null or the same fields", ro["counts"])
            expect(ev is None or ro["counts"] is None
                   or ev["evidence"]["counts"]["fleet"] == ro["counts"]["fleet"],
                   "listed counts come from the evaluation", ro["counts"], ev)
        check_cli(srv)
        print("pagination: %d channels, every list paged, bad limits and cursors refused"
              % N_CHANNELS)


if __name__ == "__main__":
    rg.run(main)
