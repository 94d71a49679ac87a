"""The dashboard's lists of a failing rollout's endpoints cost the server
no scan per open page (docs/dashboard.md): GET /v1/endpoints?rollout=ID
with Cache-Control max-age (what the dashboard sends) answers the list it
keeps per filter, so however many pages poll, the fleet is scanned at most
once per period per list (counted by rollgate_fleet_page_scans_total); a
request without it (the CLI) still scans and sees the fleet as it is now.
# ctest-labels: web
"""
import threading
import time

import rg
from rg import expect
from test_event_limits import metric
from test_web import expose_and_fail, fleet

PAGES = 20
POLLS = 10  # per page and list
PERIOD_S = 5  # RG_LIST_KEPT_MS
SCANS = "rollgate_fleet_page_scans_total"


def failing_rollout(srv, tokens):
    plan = {"name": "slow", "waves": [{"name": "all", "share": 100, "min_endpoints": 1,
                                       "min_bake_s": 3600}]}
    release = srv.release("web", 1)
    st, ro = srv.request("POST", "/v1/rollouts", {"release": release, "plan": plan})
    expect(st == 201, "rollout", st, ro)
    expose_and_fail(srv, tokens["h-0"], "h-0", release)
    path = "/v1/endpoints?rollout=%d&state=failed&limit=50" % ro["id"]
    deadline = time.monotonic() + 30
    while True:  # without max-age: the fleet as it is now
        st, b = srv.request("GET", path)
        expect(st == 200 and time.monotonic() < deadline, "h-0 is listed failed", st, b)
        if [e["id"] for e in b["endpoints"]] == ["h-0"]:
            return ro["id"]
        time.sleep(0.3)


def page(srv, rid, answers):
    """One open page: polls both lists as the dashboard does."""
    c = srv.client()
    for _ in range(POLLS):
        for state in ("failed", "silent"):
            st, b = c.request("GET", "/v1/endpoints?rollout=%d&state=%s&limit=50" % (rid, state),
                              headers={"Cache-Control": "max-age=5"})
            answers.append((state, st, [e["id"] for e in b["endpoints"]]))
    c.close()


def many_pages(srv, rid):
    answers = []
    before, t0 = metric(srv, SCANS), time.monotonic()
    pages = [threading.Thread(target=page, args=(srv, rid, answers)) for _ in range(PAGES)]
    for p in pages:
        p.start()
    for p in pages:
        p.join()
    scans, elapsed = metric(srv, SCANS) - before, time.monotonic() - t0
    expect(len(answers) == PAGES * POLLS * 2, "every poll answered", len(answers))
    expect(all(st == 200 and ids == (["h-0"] if s == "failed" else [])
               for s, st, ids in answers), "the kept lists are right", answers[:5])
    # two keys, each built at most once per period of the polling
    allowed = 2 * (int(elapsed / PERIOD_S) + 2)
    expect(scans <= allowed, "%d polls cost at most %d scans" % (len(answers), allowed),
           scans, elapsed)
    print("%d polls by %d pages: %d fleet scans (at most %d allowed)"
          % (len(answers), PAGES, scans, allowed))


def fresh_without_max_age(srv, rid):
    before = metric(srv, SCANS)
    for _ in range(3):
        st, b = srv.request("GET", "/v1/endpoints?rollout=%d&state=failed&limit=50" % rid)
        expect(st == 200 and [e["id"] for e in b["endpoints"]] == ["h-0"], "fresh list", st, b)
    expect(metric(srv, SCANS) - before == 3, "no max-age: a scan each",
           metric(srv, SCANS) - before)


def main():
    with rg.Server() as srv:
        srv.start()
        rid = failing_rollout(srv, fleet(srv))
        many_pages(srv, rid)
        fresh_without_max_age(srv, rid)


if __name__ == "__main__":
    rg.run(main)
