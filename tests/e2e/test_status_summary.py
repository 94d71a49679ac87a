"""One status summary that counts what the gate counts (issue 13), through
a real rollgated, the rollgate CLI and a scripted fleet over the agent API.

A rollout on linux endpoints, most healthy, some going dark right after
`applying`. Once the gate has judged every exposure (nothing pending, at
least one silent and one healthy), every view of the rollout gives the
same numbers by state:

- GET /v1/rollouts/{id}: `counts` (exposed, pending, healthy, silent,
  failed) is the sum of its `strata` rows and, state by state, the number
  of endpoints `rollgate rollout endpoints ID --state S` lists;
- `rollgate rollout status ID` (table and --json), the per-stratum table
  of `rollgate rollout status ID --watch` (plain lines, not a terminal),
  GET /v1/rollouts (the list: the gate's latest measure) and the
  per-rollout gauges of /metrics reach the same numbers;
- the watch also says when the wave can pass at the earliest and why
  (the longer of its min bake and its window after it began);
- the raw reports stay beside them under their own name (`reports`):
  every exposed endpoint reported `applying`, only the healthy ones
  `healthy`; silence is never reported.
Before this, `counts.silent` was always 0 and `counts.healthy` counted
healthy reports, not the endpoints the gate judged healthy.
# ctest-labels: ops
"""
import json
import subprocess
import time

import rg
from rg import expect
from test_find_hosts import DarkAgent, cli_json, enroll, members, start
from test_metrics_ops import rollout_gauges
from test_stratum_halt import release
from test_watch import watch

DEADLINE_S = 90  # bound on every wait (never an assertion)
STATES = ("pending", "healthy", "silent", "failed")


def by_state(counts):
    return {s: counts[s] for s in ("exposed",) + STATES}


def strata_sum(ro):
    return {k: sum(s[k] for s in ro["strata"]) for k in ("exposed",) + STATES}


def watch_view(srv, rid):
    """The first view `rollout status --watch` prints on a pipe: its
    per-stratum rows {stratum: {exposed, healthy, silent, failed,
    pending}} and its time line."""
    p = watch(srv, rid, subprocess.PIPE)
    rows, seen_head, when = {}, False, None
    try:
        for raw in p.stdout:
            line = raw.decode()
            f = line.split()
            if f[:2] == ["STRATUM", "EXPOSED"]:
                seen_head = True
            elif seen_head and len(f) >= 6 and f[1].isdigit():
                rows[f[0]] = dict(zip(("exposed", "healthy", "silent",
                                       "failed", "pending"), map(int, f[1:6])))
            elif line.startswith("time:"):
                when = line
                break
    finally:
        p.kill()
        p.wait()
    expect(seen_head, "the watch shows the per-stratum table")
    return rows, when


def views(srv, rid):
    """Every view of the rollout's numbers, taken one after the other."""
    ro = srv.request("GET", "/v1/rollouts/%d" % rid)[1]
    listed = [r for r in srv.request("GET", "/v1/rollouts")[1]["rollouts"]
              if r["id"] == rid][0]
    g = rollout_gauges(srv, rid, "detections")
    gauges = {s: g.get('rollgate_rollout_endpoints{rollout="%d",channel='
                       '"detections",count="%s"}' % (rid, s))
              for s in ("exposed",) + STATES}
    lists = {s: len(members(srv, rid, s)) for s in STATES}
    return ro, listed, gauges, lists


def agree(srv, rid):
    ro, listed, gauges, lists = views(srv, rid)
    c = by_state(ro["counts"])
    ok = (c["pending"] == 0 and c["silent"] >= 1 and c["healthy"] >= 1
          and strata_sum(ro) == c
          and {s: c[s] for s in STATES} == lists
          and listed["counts"] and by_state(listed["counts"]) == c
          and {k: -1 if v is None else int(v) for k, v in gauges.items()} == c)
    return ok, (ro, listed, gauges, lists)


def brief(seen):
    """What a failed wait shows: the numbers of each view."""
    ro, listed, gauges, lists = seen
    return (ro["counts"], ro.get("strata"), listed["counts"], gauges, lists)


def main():
    with rg.Server(args=["--activation-cap", "1"]) as srv:
        srv.start()
        fleet = enroll(srv)
        linux = [a for a in fleet if not a.crashes]
        dark = {a.id for a in linux if isinstance(a, DarkAgent)}
        rid = start(srv, release(srv, "detections", 1), 5)
        deadline = time.monotonic() + DEADLINE_S
        while True:
            for a in linux:
                a.follow("detections")
            ok, seen = agree(srv, rid)
            if ok:
                break
            expect(time.monotonic() < deadline,
                   "the views agree once every exposure is judged", *brief(seen))
            time.sleep(0.2)
        ro, listed, gauges, lists = seen
        c = ro["counts"]
        expect(c["exposed"] == c["healthy"] + c["silent"] + c["failed"] +
               c["pending"], "exposed = the states' sum", c)
        expect(c["silent"] <= len(dark) and c["failed"] == 0,
               "only dark endpoints silent, nobody failed", c)
        rep = ro["reports"]
        expect(rep["applying"] == c["exposed"] and
               rep["healthy"] == c["exposed"] - len(dark) and rep["failed"] == 0,
               "the raw reports beside the judged states", rep, c)

        # The CLI: --json is the API's object; the table shows the same.
        j = cli_json(srv, "rollout", "status", str(rid))
        expect(by_state(j["counts"]) == by_state(c) and j["strata"] == ro["strata"],
               "status --json", j["counts"], c)
        p = rg.cli(srv, "rollout", "status", str(rid))
        expect(p.returncode == 0, "status", p.returncode, p.stderr)
        lines = p.stdout.splitlines()
        head = [i for i, l in enumerate(lines) if l.split()[:3] ==
                ["FLEET", "TARGETED", "EXPOSED"]]
        expect(head, "the summary table", p.stdout)
        cols = lines[head[0]].split()
        vals = dict(zip(cols, map(int, lines[head[0] + 1].split())))
        expect({s: vals[s.upper()] for s in ("exposed",) + STATES} == by_state(c),
               "the summary table's numbers", vals, c)
        expect("reports: %d applying, %d healthy, 0 failed" %
               (rep["applying"], rep["healthy"]) in p.stdout, "reports line",
               p.stdout)
        for s in ro["strata"]:
            row = "%s %d %d %d %d %d %d %d" % (
                s["stratum"], s["assigned"], s["exposed"], s["pending"],
                s["healthy"], s["silent"], s["failed"], s["unjudged"])
            expect(row in [" ".join(l.split()) for l in lines],
                   "a strata row", row, p.stdout)

        rows, when = watch_view(srv, rid)
        api_rows = {s["stratum"]: {k: s[k] for k in ("exposed",) + STATES}
                    for s in ro["strata"]}
        expect(rows == api_rows, "the watch's strata are the API's", rows,
               api_rows)
        # The earliest pass: the wave's start + the longer of its min bake
        # (600 s) and its window (5 s).
        earliest = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(
            (ro["wave_started_ms"] + 600000) // 1000))
        expect(when and "the wave can pass from %s on (the longer of its min "
               "bake 10m and its window 5s" % earliest in when,
               "the watch says when the wave can pass and why", when)
        print("summary: %s; reports %s; %d strata; list, /metrics, "
              "rollout endpoints and --watch agree" % (
                  json.dumps(by_state(c)), json.dumps(rep), len(ro["strata"])))


if __name__ == "__main__":
    rg.run(main)
