"""GET /v1/rollouts filtered by the server (issue 15): ?channel=NAME,
?state=S, ?release=ID and ?active=1, alone or together, paged like every
list (the database filters, so a channel's page holds that channel's
rollouts however many others are newer). Bad filters are a 400 or 404
with the error shape and list nothing. `rollgate rollout list --channel C
--state S` asks the same of the server.
# ctest-labels: ops
"""
import json

import rg
from rg import expect
from test_pagination import walk

PLAN = {"name": "slow", "waves": [{"name": "all", "share": 100,
                                   "min_endpoints": 1, "min_bake_s": 3600}]}


def start(srv, channel, version):
    """A rollout of a new release of channel; returns (its id, release)."""
    rel = srv.release(channel, version)
    st, ro = srv.request("POST", "/v1/rollouts", {"release": rel, "plan": PLAN})
    expect(st == 201, "rollout on " + channel, st, ro)
    return ro["id"], rel


def abort(srv, rid):
    st, b = srv.request("POST", "/v1/rollouts/%d/abort" % rid, {"reason": "next"})
    expect(st == 200, "abort", st, b)


def ids(srv, query, limit=2):
    items, _ = walk(srv, "/v1/rollouts" + query, "rollouts", limit)
    return [r["id"] for r in items]


def bad(srv, query, status, field):
    st, b = srv.request("GET", "/v1/rollouts" + query)
    expect(st == status and b["error"]["field"] == field,
           "GET /v1/rollouts%s: %d naming %s" % (query, status, field), st, b)


def main():
    with rg.Server() as srv:
        srv.start()
        # lst-a's rollouts are 1, 2 and 7: b's 3..6 lie between them
        a, b = {}, {}
        for made, channel, versions in ((a, "lst-a", (1, 2)),
                                        (b, "lst-b", (1, 2, 3, 4))):
            for v in versions:
                rid, rel = start(srv, channel, v)
                made[rid] = rel
                if v < versions[-1]:
                    abort(srv, rid)
        abort(srv, 2)
        a.update([start(srv, "lst-a", 3)])
        expect(sorted(a) == [1, 2, 7] and sorted(b) == [3, 4, 5, 6], "ids", a, b)
        expect(ids(srv, "") == [7, 6, 5, 4, 3, 2, 1], "no filter: every rollout")
        got = ids(srv, "?channel=lst-a")
        expect(got == [7, 2, 1], "channel=lst-a, pages of 2 across lst-b's", got)
        st, page = srv.request("GET", "/v1/rollouts?channel=lst-a&limit=1&after=7")
        expect(st == 200 and [r["id"] for r in page["rollouts"]] == [2]
               and page["rollouts"][0]["channel"] == "lst-a"
               and page["next_after"] == 2, "the page after 7 of lst-a", page)
        expect(ids(srv, "?channel=lst-b") == [6, 5, 4, 3], "channel=lst-b")
        got = ids(srv, "?state=aborted")
        expect(got == [5, 4, 3, 2, 1], "state=aborted", got)
        expect(ids(srv, "?state=running&channel=lst-b") == [6],
               "state and channel together")
        expect(ids(srv, "?active=1&channel=lst-a") == [7], "active and channel")
        expect(ids(srv, "?active=1") == [7, 6], "active")
        expect(ids(srv, "?state=completed") == [], "no completed rollout")
        expect(ids(srv, "?release=%d" % b[4]) == [4], "release=ID")
        bad(srv, "?state=finished", 400, "state")
        bad(srv, "?release=x", 400, "release")
        bad(srv, "?release=0", 400, "release")
        st, e = srv.request("GET", "/v1/rollouts?channel=nope")
        expect(st == 404 and "nope" in e["error"]["message"], "unknown channel: 404", st, e)

        p = rg.cli(srv, "--json", "rollout", "list", "--channel", "lst-b")
        expect(p.returncode == 0 and
               [r["id"] for r in json.loads(p.stdout)["rollouts"]] == [6, 5, 4, 3],
               "rollout list --channel", p.returncode, p.stdout, p.stderr)
        p = rg.cli(srv, "rollout", "list", "--channel", "lst-b", "--state", "running")
        rows = [ln.split()[0] for ln in p.stdout.splitlines()[1:] if ln.strip()]
        expect(p.returncode == 0 and rows == ["6"],
               "rollout list --channel --state (table)", p.stdout, p.stderr)
        p = rg.cli(srv, "rollout", "list", "--state", "finished")
        expect(p.returncode != 0 and "state" in p.stderr, "a bad --state is refused",
               p.returncode, p.stderr)


if __name__ == "__main__":
    rg.run(main)
