"""bench/canary/unseen.py - fleets of issue 10's classes that classes.py
does not draw: each class is varied along the dimensions classes.py holds
fixed (activation-delay distributions, loss patterns, per-stratum check-in
intervals and jitter, stratum sizes of 1 to 500 endpoints, several small
strata failing at once, partial crash reporting, onsets of 5 min to 2 h, a
server restart mid-rollout, sleep schedules, internal rings of 2-5 hosts).
A class keeps its meaning: a good release must not be halted, a bad one
must be caught within issue 10's damage targets.

VARIANTS maps "class:variant" to (kind, generator, fleet sizes); a
generator takes (seed, lane, endpoints) and returns one rollgate-sim
scenario (src/sim/scenario.h). kind is "good" (judged by false halts) or
"bad" (judged by damage and exposed share). Nothing here is tuned to the
gate: the draws come from the seed and the variant's name only.
"""
import random

import classes

DAY = 86400
INTERVALS = [30, 60, 120, 300, 600, 900]  # per stratum, multiples of 30


def _fleet(rng, name, seed, endpoints, lane, n_strata, duration_s,
           tiny=None):
    """A base scenario on a 30 s fleet interval whose strata check in at
    intervals of 30 s to 15 min with jitter; tiny: [(name, size), ...]
    strata of exact sizes."""
    strata = classes._strata(rng, n_strata)
    for st in strata:
        st["heartbeat_interval_s"] = rng.choice(INTERVALS)
    sc = classes._base(rng, name, seed, endpoints, lane, strata, duration_s)
    sc["fleet"]["heartbeat_interval_s"] = 30
    sc["fleet"]["jitter_s"] = rng.randint(0, 29)
    for tname, size in tiny or []:
        share = round(size / endpoints, 12)
        strata.append({"name": tname, "share": share, "endpoints": size,
                       "heartbeat_interval_s": rng.choice(INTERVALS)})
        strata[0]["share"] = round(strata[0]["share"] - share, 12)
    return sc


def _delay(rng, sc, shape, lo, hi):
    """Activation delays in [lo, hi] drawn by shape."""
    sc["release"]["healthy_after_s"] = [lo, hi]
    if shape == "lognormal":
        sc["release"]["healthy_after_dist"] = {
            "kind": "lognormal", "median_s": rng.uniform(lo + 10, hi / 4),
            "sigma": round(rng.uniform(0.8, 1.6), 3)}
    elif shape == "bimodal":
        sc["release"]["healthy_after_dist"] = {
            "kind": "bimodal", "slow_share": round(rng.uniform(0.03, 0.3), 3),
            "fast_max_s": rng.randint(lo, min(hi, lo + 60))}


def _loss(rng, sc, pattern, horizon_s):
    """Harmless silence of one pattern, on both cohorts."""
    loss = sc["loss"]
    if pattern == "bursty":  # many short outages of a part of the fleet
        loss["outages"] = [
            {"stratum": "*", "start_s": rng.randint(0, horizon_s),
             "duration_s": rng.randint(60, 900),
             "share": round(rng.uniform(0.1, 0.7), 3)} for _ in range(16)]
    elif pattern == "per-stratum":
        for st in sc["fleet"]["strata"]:
            st["loss"] = round(rng.uniform(0.0, 0.45), 3)
    elif pattern == "apply-time":  # outages as the first waves apply
        loss["outages"] = [
            {"stratum": "*", "start_s": t, "duration_s": rng.randint(120, 1200),
             "share": round(rng.uniform(0.2, 0.8), 3)}
            for t in sorted(rng.sample(range(0, 1800, 30), 6))]
    elif pattern == "stratum-outage":
        st = rng.choice(sc["fleet"]["strata"])["name"]
        loss["outages"] = [{"stratum": st, "start_s": rng.randint(0, 3600),
                            "duration_s": rng.randint(600, 7200),
                            "share": round(rng.uniform(0.3, 0.9), 3)}]
    elif pattern == "exposed-outage":  # aimed at the exposed cohort
        loss["outages"] = [{"stratum": "*", "cohort": "exposed",
                            "start_s": rng.randint(300, 3600),
                            "duration_s": rng.randint(120, 900),
                            "share": round(rng.uniform(0.1, 0.5), 3)}]
    elif pattern == "restart":
        sc["server_restart"] = {"at_s": rng.randint(300, 5400),
                                "down_s": rng.randint(30, 600)}


# ---- good classes: a false halt is a failure ---------------------------

def activation(kind, shape):
    """Good release; reboot declared (max 900 s, unreachable while it
    reboots) or a restart of up to 420 s declaring nothing."""
    def gen(seed, lane, endpoints):
        rng = random.Random(f"unseen-act-{kind}-{shape}-{lane}-{seed}")
        sc = _fleet(rng, f"act-{kind}-{shape}-{lane}", seed, endpoints, lane,
                    rng.randint(2, 8), 43200)
        hi = 900 if kind == "reboot" else 420
        _delay(rng, sc, shape, rng.randint(5, 30), hi)
        if kind == "reboot":
            down = rng.randint(30, 180)
            sc["release"]["activation"] = {
                "declared": "reboot", "max_s": 900,
                "unreachable_s": [down, down + rng.randint(0, 120)]}
        return sc
    return gen


def loss(pattern):
    """Good release (restart up to 2 min, undeclared) under one pattern of
    harmless silence on both cohorts."""
    def gen(seed, lane, endpoints):
        rng = random.Random(f"unseen-loss-{pattern}-{lane}-{seed}")
        sc = _fleet(rng, f"loss-{pattern}-{lane}", seed, endpoints, lane,
                    rng.randint(2, 8), 43200)
        sc["release"]["healthy_after_s"] = [5, rng.randint(30, 120)]
        _loss(rng, sc, pattern, 7200)
        return sc
    return gen


def sleep(schedule):
    """Good release on sleeping laptops: sleep starting as the rollout
    starts, short naps, most of the fleet asleep, or two populations."""
    def gen(seed, lane, endpoints):
        rng = random.Random(f"unseen-sleep-{schedule}-{lane}-{seed}")
        sc = _fleet(rng, f"sleep-{schedule}-{lane}", seed, endpoints, lane,
                    rng.randint(2, 8), 43200)
        start = rng.randint(0, 22)
        z = {"share": round(rng.uniform(0.1, 0.6), 3),
             "start_h": [start, start + 1], "hours": [6, 10],
             "clock_h": rng.randint(0, 23)}
        if schedule == "onset":  # the fleet falls asleep as waves apply
            z["clock_h"] = (start - 1) % 24 if start > 0 else 23
            z["start_h"] = [start, start + 2]
        elif schedule == "naps":
            z["hours"] = [1, 3]
            z["start_h"] = [0, 24]
        elif schedule == "most":
            z["share"] = round(rng.uniform(0.7, 0.95), 3)
            z["start_h"] = [0, 24]
        sc["loss"]["sleep"] = z
        sc["loss"]["vpn_flaps"] = {"share": round(rng.uniform(0.05, 0.4), 3),
                                   "per_hour": rng.randint(1, 6),
                                   "duration_s": [10, rng.randint(60, 600)]}
        sc["loss"]["long_offline"] = {"share": round(rng.uniform(0, 0.1), 3),
                                      "days": [1, rng.randint(2, 14)]}
        sc["release"]["healthy_after_s"] = [5, rng.randint(30, 300)]
        if rng.random() < 0.5:
            sc["release"]["activation"] = {"declared": "restart",
                                           "max_s": 300}
        return sc
    return gen


# ---- bad classes: damage and exposed share are judged -------------------

def tiny(sizes, report=1.0, slow=False):
    """Every endpoint of strata of the given sizes crashes (several at
    once when more than one size); report: chance a crash is reported;
    slow: the tiny strata check in every 15 min."""
    def gen(seed, lane, endpoints):
        rng = random.Random(f"unseen-tiny-{sizes}-{report}-{slow}-{lane}-"
                            f"{endpoints}-{seed}")
        names = [f"tiny{i}-os-arm64" for i in range(len(sizes))]
        sc = _fleet(rng, f"tiny-{lane}", seed, endpoints, lane,
                    rng.randint(3, 8), 28800, list(zip(names, sizes)))
        for st in sc["fleet"]["strata"]:
            if slow and st["name"] in names:
                st["heartbeat_interval_s"] = 900
        sc["release"]["crash_revert_s"] = rng.randint(120, 1800)
        rep = report if report == 1.0 else round(rng.uniform(0.1, 0.5), 3)
        sc["faults"] = [{"stratum": n, "crash": 1.0, "report": rep}
                        for n in names]
        return sc
    gen.failing = len(sizes)
    return gen


def onset(lo_s, hi_s, report=1.0):
    """Healthy first; lo_s-hi_s after healthy every endpoint of one
    stratum crashes."""
    def gen(seed, lane, endpoints):
        rng = random.Random(f"unseen-onset-{lo_s}-{hi_s}-{report}-{lane}-"
                            f"{seed}")
        sc = _fleet(rng, f"onset-{lane}", seed, endpoints, lane,
                    rng.randint(3, 8), 36000)
        sc["release"]["crash_revert_s"] = rng.randint(120, 900)
        sc["faults"] = [{"stratum": rng.choice(sc["fleet"]["strata"])["name"],
                         "crash": 1.0, "onset_s": [lo_s, hi_s],
                         "report": report}]
        return sc
    return gen


def slow(interval_s, report=1.0):
    """One stratum checks in every interval_s and boot-loops; its agents
    revert and report 30-90 min later (a share `report` of them)."""
    def gen(seed, lane, endpoints):
        rng = random.Random(f"unseen-slow-{interval_s}-{report}-{lane}-{seed}")
        sc = _fleet(rng, f"slow-{lane}", seed, endpoints, lane,
                    rng.randint(3, 8), 28800)
        bad = rng.choice(sc["fleet"]["strata"])
        bad["heartbeat_interval_s"] = interval_s
        sc["release"]["crash_revert_s"] = rng.randint(1800, 5400)
        sc["faults"] = [{"stratum": bad["name"], "crash": 1.0,
                         "report": report}]
        return sc
    return gen


def ring(seed, lane, endpoints):
    """An internal ring of 2-5 hosts; the release kills half of every
    stratum (dark, never reported, or crashing)."""
    rng = random.Random(f"unseen-ring-{lane}-{seed}")
    sc = _fleet(rng, f"ring-{lane}", seed, endpoints, lane,
                rng.randint(2, 6), 28800)
    sc["fleet"]["internal"] = rng.randint(2, 5)
    sc["release"]["crash_revert_s"] = rng.randint(120, 1800)
    how = rng.choice(["crash", "hang"])
    sc["faults"] = [{"stratum": "*", how: 0.5}]
    return sc


SMALL = [10000, 30000]
BIG = [100000, 300000]
HUGE = [1000000, 8500000]  # in the cycle from the third seed on
VARIANTS = {
    "activation-reboot:uniform": ("good", activation("reboot", "uniform"), SMALL),
    "activation-reboot:lognormal": ("good", activation("reboot", "lognormal"), SMALL),
    "activation-reboot:bimodal": ("good", activation("reboot", "bimodal"), SMALL),
    "activation-restart:uniform": ("good", activation("restart", "uniform"), SMALL),
    "activation-restart:lognormal": ("good", activation("restart", "lognormal"), SMALL),
    "activation-restart:bimodal": ("good", activation("restart", "bimodal"), SMALL),
    "loss:bursty": ("good", loss("bursty"), SMALL),
    "loss:per-stratum": ("good", loss("per-stratum"), SMALL),
    "loss:apply-time": ("good", loss("apply-time"), SMALL),
    "loss:stratum-outage": ("good", loss("stratum-outage"), SMALL),
    "loss:exposed-outage": ("good", loss("exposed-outage"), SMALL),
    "loss:server-restart": ("good", loss("restart"), SMALL),
    "sleep:onset": ("good", sleep("onset"), SMALL),
    "sleep:naps": ("good", sleep("naps"), SMALL),
    "sleep:most": ("good", sleep("most"), SMALL),
    "tiny:1": ("bad", tiny([1]), BIG),
    "tiny:2": ("bad", tiny([2]), BIG),
    "tiny:5": ("bad", tiny([5]), BIG),
    "tiny:50": ("bad", tiny([50]), BIG + HUGE),
    "tiny:500": ("bad", tiny([500]), BIG + HUGE),
    "tiny:several-1m": ("bad", tiny([2, 5, 50, 500]), [1000000]),
    "tiny:several": ("bad", tiny([1, 5, 50, 200]), BIG),
    "tiny:partial": ("bad", tiny([50, 500], report=0.3), BIG),
    "tiny:slow": ("bad", tiny([50, 300], slow=True), BIG),
    "onset:5m": ("bad", onset(300, 300), BIG),
    "onset:5m-2h": ("bad", onset(300, 7200), BIG),
    "onset:2h": ("bad", onset(7200, 7200), BIG),
    "onset:partial": ("bad", onset(1800, 1800, report=0.3), BIG),
    "slow:5m": ("bad", slow(300), BIG),
    "slow:15m": ("bad", slow(900), BIG),
    "slow:15m-partial": ("bad", slow(900, report=0.3), BIG),
    "ring:half-dies": ("bad", ring, [20000]),
}

# issue 10's targets per class (bad classes: damage, exposed share)
TARGETS = {"activation": "false<=1/1000", "loss": "false<=1/1000",
           "sleep": "false<=1/1000", "tiny": "10/stratum, halt_exp<=3%",
           "onset": "damage<=50 (standard)", "slow": "damage<=50",
           "ring": "ring whole, halt_exp<=3%"}


def _jobs(work):
    """(group, path, kind, cost) of every run: UNSEEN_SEEDS (20) seeds per
    good variant and lane, UNSEEN_BAD_SEEDS (2) per bad one (the fleet
    size cycles through the variant's sizes with the seed), groups
    "class:variant|lane" filtered by ONLY as in bench.py."""
    import json
    import os
    good = int(os.environ.get("UNSEEN_SEEDS", 20))
    bad = int(os.environ.get("UNSEEN_BAD_SEEDS", 2))
    only = [g for g in os.environ.get("ONLY", "").split(",") if g]
    out = []
    for name, (kind, gen, sizes) in VARIANTS.items():
        for lane in ("standard", "emergency"):
            group = f"{name}|{lane}"
            if only and not any(g in group for g in only):
                continue
            for seed in range(1, (good if kind == "good" else bad) + 1):
                n = sizes[(seed - 1) % len(sizes)]
                sc = gen(seed, lane, n)
                path = os.path.join(work, f"{name.replace(':', '-')}-{lane}"
                                          f"-{n}-{seed}.json")
                with open(path, "w") as f:
                    json.dump(sc, f)
                out.append((group, path, kind, n))
    return out


def _ring_passed_unhealthy(r):
    """True when the internal ring (wave 0) passed with an exposed
    endpoint that was not healthy (silent, failed or pending)."""
    for d in r.get("decisions", []):
        if d["from_wave"] == 0 and d["to_wave"] == 1:
            t = d["evidence"].get("analysis", {}).get("totals", {})
            return t.get("exposed_healthy", 0) < t.get("exposed", 0)
    return False


def _row(group, kind, rs):
    """Prints group's row; returns whether it meets its target (None:
    informative). The issue's tiny target is per failing stratum (damage
    <= 10 each) and bounds the fleet exposed when the release halts (a
    crashing stratum held alone while healthy ones complete is what
    "halt scope follows the evidence" asks)."""
    name, lane = group.split("|")
    halts = sum(r["halted"] for r in rs)
    false = 1000.0 * sum(r["false_halt"] for r in rs) / len(rs)
    damage = max(r["failed_or_crashed"] for r in rs)
    share = max([r["exposed"] / r["endpoints"] for r in rs if r["halted"]],
                default=0.0)
    failing = getattr(VARIANTS[name][1], "failing", 1)
    stuck = sum(r["final_state"] in ("paused", "running", "held") for r in rs)
    cls = name.split(":")[0]
    if kind == "good":
        ok = false == 0.0  # <= 1 per 1000 with these few runs means none
    elif cls == "onset" and lane == "emergency":
        ok = None  # informative (docs/health.md "Soak")
    elif cls in ("onset", "slow"):
        ok = damage <= 50
    elif cls == "ring":
        ok = share <= 0.03
    else:
        ok = damage <= 10 * failing and share <= 0.03
    if cls == "ring":
        ok = ok and not any(map(_ring_passed_unhealthy, rs))
    ns = [r["endpoints"] for r in rs]
    print(f"{name:30} {lane:9} {len(rs):>4} {min(ns):>8}-{max(ns):<8} "
          f"{halts:>6} {false:>10.1f} {damage:>8} {100 * share:>10.3f} "
          f"{stuck:>6} {TARGETS[cls.split('-')[0]]:>24} "
          f"{'-' if ok is None else 'ok' if ok else 'FAIL':>5}")
    return ok


def main():
    """usage: unseen.py SIM WORKDIR; JOBS (1) parallel runs."""
    import os
    import sys
    import time
    from concurrent.futures import ThreadPoolExecutor

    import bench
    sim, work = sys.argv[1:3]
    start = time.time()
    todo = sorted(_jobs(work), key=lambda j: -j[3])
    kinds = {j[0]: j[2] for j in todo}
    res = {}
    with ThreadPoolExecutor(max_workers=int(os.environ.get("JOBS", 1))) as p:
        for i, (group, r) in enumerate(p.map(
                lambda j: bench.run_one(sim, (j[0], j[1], "rollgate", None,
                                              j[3]), j[0].startswith("ring")),
                todo)):
            res.setdefault(group, []).append(r)
            print(f"unseen: {i + 1}/{len(todo)} runs, "
                  f"{time.time() - start:.0f} s", file=sys.stderr)
    head = (f"{'class:variant':30} {'lane':9} {'runs':>4} {'endpoints':>17} "
            f"{'halted':>6} {'false/1000':>10} {'damage':>8} "
            f"{'halt_exp%':>10} {'stuck':>6} {'target (issue 10)':>24} "
            f"{'':>5}")
    print(head)
    print("-" * len(head))
    fails, keys = [], {}
    for group in sorted(res):
        ok = _row(group, kinds[group], res[group])
        if ok is False:
            fails.append(group)
        cls = group.split(":")[0]
        for r in res[group]:
            k = keys.setdefault(cls, [])
            k.append(r)
    print(f"unseen wall time: {time.time() - start:.0f} s")
    line = [f"unseen_runs={sum(len(rs) for rs in res.values())}",
            f"unseen_failing_groups={len(fails)}"]
    for cls, rs in sorted(keys.items()):
        if kinds_of(cls) == "good":
            line.append(f"unseen_{cls}_false_halts_per_1000="
                        f"{1000.0 * sum(r['false_halt'] for r in rs) / len(rs):.1f}")
        else:
            line.append(f"unseen_{cls}_damage="
                        f"{max(r['failed_or_crashed'] for r in rs)}")
    print(" ".join(line))


def kinds_of(cls):
    """good or bad, for a class name."""
    return next(k for n, (k, _, _) in VARIANTS.items()
                if n.split(":")[0] == cls)


if __name__ == "__main__":
    main()
