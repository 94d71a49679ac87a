"""bench/canary/bench.py - runs the canary bench (see run.sh for what and
why) on JOBS worker processes and prints the tables and the key=value last
line.

usage: bench.py SIM ROOT WORKDIR
env:   SEEDS (200) seeds of good-loss-outage-standard per policy,
       CLASS_SEEDS (200) seeds per lane of the activation and sleep classes,
       BIG_SEEDS (5) seeds per lane and fleet of the tiny-stratum,
       delayed-onset and slow-check-in classes, JOBS (2) parallel runs,
       ONLY (all) comma-separated substrings: only the groups
       ("scenario|policy" or "class|lane") that contain one of them run,
       and the last line then holds only the keys whose groups ran.
"""
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import classes

POLICIES = ["rollgate", "threshold", "fixed-bake"]
PUBLIC = ["crash-windows-8.5m-emergency", "fail-1pct-1m-standard",
          "good-loss-outage-standard", "good-8.5m-emergency"]
LANES = ["standard", "emergency"]


def env_int(name, default):
    return int(os.environ.get(name, default))


def jobs(root, work):
    """(group, path, policy, seed, cost) of every run; cost ~ endpoints."""
    seeds = env_int("SEEDS", 200)
    class_seeds = env_int("CLASS_SEEDS", 200)
    big = env_int("BIG_SEEDS", 5)
    out = []
    for pol in POLICIES:
        for sc in PUBLIC:
            path = os.path.join(root, "scenarios", sc + ".json")
            n = json.load(open(path))["fleet"]["endpoints"]
            for seed in (range(1, seeds + 1) if sc.startswith("good-loss")
                         else [None]):
                out.append((f"{sc}|{pol}", path, pol, seed, n))
    loss25 = os.path.join(root, "scenarios", "good-8.5m-emergency-loss25.json")
    out.append(("good-8.5m-emergency-loss25|rollgate", loss25, "rollgate",
                None, 8500000))

    def gen(group, sc):
        path = os.path.join(work, f"{sc['name']}-{sc['fleet']['endpoints']}"
                                  f"-{sc['seed']}.json")
        with open(path, "w") as f:
            json.dump(sc, f)
        out.append((group, path, "rollgate", None, sc["fleet"]["endpoints"]))

    for lane in LANES:
        for seed in range(1, class_seeds + 1):
            gen(f"activation-reboot|{lane}", classes.activation_reboot(seed, lane))
            gen(f"activation-restart|{lane}", classes.activation_restart(seed, lane))
            gen(f"sleep|{lane}", classes.sleepers(seed, lane))
        for seed in range(1, big + 1):
            gen(f"tiny-1m|{lane}", classes.tiny_stratum(seed, lane, 1000000))
            gen(f"delayed-onset|{lane}", classes.delayed_onset(seed, lane))
            gen(f"slow-checkin|{lane}", classes.slow_checkin(seed, lane))
    for seed in range(1, big + 1):  # 8.5M: fewer standard runs (longer)
        gen("tiny-8.5m|emergency",
            classes.tiny_stratum(seed, "emergency", 8500000))
    for seed in range(1, (big + 1) // 2 + 1):
        gen("tiny-8.5m|standard",
            classes.tiny_stratum(seed, "standard", 8500000))
    only = [g for g in os.environ.get("ONLY", "").split(",") if g]
    return [j for j in out if not only or any(g in j[0] for g in only)]


def run_one(sim, job, keep=False):
    """Runs one job; returns (group, result), the decisions dropped unless
    keep."""
    group, path, pol, seed, _ = job
    args = [sim, "run", path, "--policy", pol, "--json", "--quiet"]
    if seed is not None:
        args += ["--seed", str(seed)]
    p = subprocess.run(args, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: {p.stderr.strip()}")
    r = json.loads(p.stdout.strip().splitlines()[-1])
    if not keep:
        r.pop("decisions", None)
    return group, r


def mean(xs):
    return sum(xs) / len(xs) if xs else None


def fmt(x, digits=0):
    return "-" if x is None else f"{x:.{digits}f}"


def public_table(res):
    head = (f"{'scenario':30} {'policy':10} {'runs':>4} {'endpoints':>9} "
            f"{'exposed':>9} {'failed/crashed':>14} {'halted':>6} "
            f"{'halt_s':>7} {'complete_s':>10} {'to_99pct_s':>10} "
            f"{'coverage':>8} {'false/1000':>10}")
    print(head)
    print("-" * len(head))
    for sc in PUBLIC + ["good-8.5m-emergency-loss25"]:
        for pol in POLICIES:
            rs = res.get(f"{sc}|{pol}")
            if not rs:
                continue
            halts = [r for r in rs if r["halted"]]
            done = [r for r in rs if r["completed"]]
            t99 = [r["time_to_99pct_s"] for r in rs
                   if r["time_to_99pct_s"] is not None]
            false = sum(r["false_halt"] for r in rs)
            print(f"{sc:30} {pol:10} {len(rs):>4} {rs[0]['endpoints']:>9} "
                  f"{fmt(mean([r['exposed'] for r in rs])):>9} "
                  f"{fmt(mean([r['failed_or_crashed'] for r in rs])):>14} "
                  f"{len(halts):>6} "
                  f"{fmt(mean([r['halt_time_s'] for r in halts])):>7} "
                  f"{fmt(mean([r['time_to_complete_s'] for r in done])):>10} "
                  f"{fmt(mean(t99)):>10} "
                  f"{fmt(mean([r['final_coverage'] for r in rs]), 4):>8} "
                  f"{fmt(1000.0 * false / len(rs), 1):>10}")


def class_table(res):
    head = (f"{'class':20} {'lane':9} {'runs':>4} {'endpoints':>17} "
            f"{'halted':>6} {'false/1000':>10} {'damage_max':>10} "
            f"{'exposed_max%':>12} {'halt_s':>7} {'complete_s':>10} "
            f"{'held/running':>12}")
    print(head)
    print("-" * len(head))
    for group in sorted(g for g in res if "|" in g and
                        g.split("|")[0] not in PUBLIC and
                        not g.startswith("good-8.5m-emergency-loss25")):
        rs = res[group]
        name, lane = group.split("|")
        ns = [r["endpoints"] for r in rs]
        halts = [r for r in rs if r["halted"]]
        done = [r for r in rs if r["completed"]]
        stuck = sum(r["final_state"] in ("paused", "running", "held")
                    for r in rs)
        print(f"{name:20} {lane:9} {len(rs):>4} "
              f"{min(ns):>8}-{max(ns):<8} {len(halts):>6} "
              f"{fmt(1000.0 * sum(r['false_halt'] for r in rs) / len(rs), 1):>10} "
              f"{max(r['failed_or_crashed'] for r in rs):>10} "
              f"{fmt(100.0 * max(r['exposed'] / r['endpoints'] for r in rs), 3):>12} "
              f"{fmt(mean([r['halt_time_s'] for r in halts])):>7} "
              f"{fmt(mean([r['time_to_complete_s'] for r in done])):>10} "
              f"{stuck:>12}")


def pick(res, prefix):
    return [r for g, rs in res.items() if g.startswith(prefix) for r in rs]


def last_line(res):
    def t99(rs):
        t = rs[0]["time_to_99pct_s"]
        return t if t is not None else -1

    def per_1000(rs):
        return f"{1000.0 * sum(r['false_halt'] for r in rs) / len(rs):.1f}"

    def damage(rs):
        return max(r["failed_or_crashed"] for r in rs)

    def share(rs):
        return f"{max(r['exposed'] / r['endpoints'] for r in rs):.4f}"

    keys = [  # (key, runs, figure)
        ("worst_crash_damage", "crash-windows-8.5m-emergency|rollgate", damage),
        ("false_halts_per_1000", "good-loss-outage-standard|rollgate", per_1000),
        ("emergency_time_to_99pct_s", "good-8.5m-emergency|rollgate", t99),
        ("one_pct_fail_exposed_share", "fail-1pct-1m-standard|rollgate", share),
        ("activation_false_halts_per_1000", "activation-", per_1000),
        ("sleep_false_halts_per_1000", "sleep|", per_1000),
        ("tiny_stratum_damage", "tiny-", damage),
        ("tiny_stratum_exposed_share", "tiny-", share),
        ("delayed_onset_damage", "delayed-onset|standard", damage),
        ("delayed_onset_damage_emergency", "delayed-onset|emergency", damage),
        ("slow_checkin_damage", "slow-checkin|", damage),
        ("emergency_loss25_time_to_99pct_s",
         "good-8.5m-emergency-loss25|rollgate", t99),
    ]
    out = []
    for key, prefix, figure in keys:
        rs = pick(res, prefix)
        if rs:
            out.append(f"{key}={figure(rs)}")
    print(" ".join(out))


def main():
    sim, root, work = sys.argv[1:4]
    start = time.time()
    todo = sorted(jobs(root, work), key=lambda j: -j[4])
    res = {}
    done = 0
    with ThreadPoolExecutor(max_workers=env_int("JOBS", 2)) as pool:
        for group, r in pool.map(lambda j: run_one(sim, j), todo):
            res.setdefault(group, []).append(r)
            done += 1
            if done % 100 == 0 or todo[done - 1][4] >= 1000000:
                print(f"bench: {done}/{len(todo)} runs, "
                      f"{time.time() - start:.0f} s", file=sys.stderr)
    public_table(res)
    print()
    class_table(res)
    for r in res.get("crash-windows-8.5m-emergency|rollgate", []):
        if r["halted"] and r["first_crash_exposure_s"] is not None:
            print(f"rollgate crash: first crashing exposure at "
                  f"{r['first_crash_exposure_s']} s, halt at "
                  f"{r['halt_time_s']} s (delay "
                  f"{r['halt_time_s'] - r['first_crash_exposure_s']} s)")
    for r in res.get("fail-1pct-1m-standard|rollgate", []):
        print(f"rollgate 1% fail: {r['final_state']} in wave "
              f"{r['final_wave']}, exposed {r['exposed']} of {r['endpoints']}")
    good = res.get("good-loss-outage-standard|rollgate", [])
    if good:
        holds = sum(r["final_state"] == "held" for r in good)
        stalls = sum(r["final_state"] == "running" for r in good)
        print(f"rollgate good-loss-outage: {holds} held, {stalls} still "
              f"running at the end, {sum(r['completed'] for r in good)} "
              f"completed of {len(good)}")
    print(f"bench wall time: {time.time() - start:.0f} s")
    last_line(res)


if __name__ == "__main__":
    main()
