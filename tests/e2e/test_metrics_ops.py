"""What /metrics tells an operator (issue 13), through a real rollgated
and a scripted fleet over the agent API:

1. Per-rollout gauges of each active rollout: rollgate_rollout_state (1
   on its state), rollgate_rollout_wave, rollgate_rollout_endpoints by
   count as the gate last measured them (they reach the rollout's own
   counts); a halted rollout is not active and leaves them.
2. Latency histograms per route: rollgate_http_request_duration_seconds
   counts every answered request of a route (here 7 GETs of
   /v1/rollouts/{}), cumulative buckets ending in +Inf = count; requests
   no route matched are counted under route "-".
3. The text is well formed: each metric's samples follow its TYPE line
   together, never split.
# ctest-labels: ops
"""
import re
import time

import rg
from rg import expect
import test_stratum_halt as fleet

DEADLINE_S = 60  # bound on every wait (never an assertion)
SAMPLE = re.compile(r'^([a-z_]+)(\{.*\})? (\S+)$')


def scrape(srv):
    st, body = srv.request("GET", "/metrics", token="")
    expect(st == 200, "/metrics", st)
    text = body.decode() if isinstance(body, bytes) else body
    samples, order = {}, []
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        expect(m is not None, "a sample line", line)
        name, labels, value = m.group(1), m.group(2) or "", float(m.group(3))
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        if not order or order[-1] != base:
            expect(base not in order, "samples of %s together" % base, text)
            order.append(base)
        samples[name + labels] = value
    return samples


def rollout_gauges(srv, rid, channel):
    s = scrape(srv)
    key = 'rollout="%d",channel="%s"' % (rid, channel)
    return {k: v for k, v in s.items() if key in k}


def main():
    with rg.Server(args=["--activation-cap", "1"]) as srv:
        srv.start()
        fleet.LINUX, fleet.WINDOWS = 6, 3
        agents = fleet.setup(srv)
        rid = fleet.rollout(srv, fleet.release(srv, "detections", 1), 600)
        key = 'rollout="%d",channel="detections"' % rid
        deadline = time.monotonic() + DEADLINE_S
        while True:
            for a in agents:
                if not a.crashes:
                    a.follow("detections")
            ro = fleet.get(srv, rid)
            g = rollout_gauges(srv, rid, "detections")
            exposed = g.get('rollgate_rollout_endpoints{%s,count="exposed"}'
                            % key)
            if ro["counts"]["exposed"] > 0 and exposed == ro["counts"]["exposed"]:
                break
            expect(time.monotonic() < deadline, "gauges reach the counts",
                   ro["counts"], g)
            time.sleep(0.2)
        expect(g['rollgate_rollout_state{%s,state="running"}' % key] == 1 and
               g['rollgate_rollout_wave{%s}' % key] == 0, "state and wave", g)

        before = scrape(srv).get(
            'rollgate_http_request_duration_seconds_count{method="GET",'
            'route="/v1/rollouts/{}"}', 0)
        for _ in range(7):
            fleet.get(srv, rid)
        srv.request("GET", "/no/such/route")
        s = scrape(srv)
        lab = 'method="GET",route="/v1/rollouts/{}"'
        n = s['rollgate_http_request_duration_seconds_count{%s}' % lab]
        expect(n == before + 7, "every answer counted", before, n)
        buckets = sorted((float(k.split('le="')[1].split('"')[0]), v)
                         for k, v in s.items()
                         if k.startswith("rollgate_http_request_duration_"
                                         "seconds_bucket{%s," % lab)
                         and '+Inf' not in k)
        inf = s['rollgate_http_request_duration_seconds_bucket{%s,le="+Inf"}'
                % lab]
        expect(buckets and all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:]))
               and buckets[-1][1] <= inf == n, "cumulative buckets", buckets,
               inf, n)
        expect(s.get('rollgate_http_request_duration_seconds_count{method="-",'
                     'route="-"}', 0) >= 1, "unmatched requests counted")

        # The crashing stratum halts the rollout: no longer active.
        fleet.drive(srv, rid, agents, "detections", ("halted",))
        expect(not rollout_gauges(srv, rid, "detections"),
               "a halted rollout leaves the gauges")


if __name__ == "__main__":
    rg.run(main)
