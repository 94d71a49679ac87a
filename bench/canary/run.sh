#!/bin/bash
# bench/canary: the scenarios of issue 4 under every policy of rollgate-sim
# (model mode), as a table scenario x policy -> exposed, failed or crashed,
# time to halt, time to complete, false halts per 1000 runs.
#
#   crash-windows-8.5m-emergency  every Windows stratum crashes, 8.5M, emergency
#   fail-1pct-1m-standard         1% extra failures everywhere, 1M, standard
#   good-loss-outage-standard     good release, 20% loss + correlated outages,
#                                 run over SEEDS seeds (fleet size: see the file)
#   good-8.5m-emergency           good release, 8.5M, emergency
#
# usage: bench/canary/run.sh [BUILD_DIR]
# env:   SEEDS (default 200) runs of the good-loss-outage scenario per policy
# Columns are means over the runs (times over the runs where it happened).
# Last line: worst_crash_damage=N false_halts_per_1000=X
#            emergency_time_to_99pct_s=T one_pct_fail_exposed_share=S
# (all for the rollgate policy).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
SEEDS=${SEEDS:-200}
sim="$build/src/sim/rollgate-sim"
[ -x "$sim" ] || { echo "bench: $sim not found (build first)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "bench: python3 not found" >&2; exit 1; }

work=$(mktemp -d /tmp/rollgate-canary.XXXXXX)
trap 'rm -rf "$work"' EXIT
policies="rollgate threshold fixed-bake"
start=$(date +%s)

# run SCENARIO POLICY [SEED]: appends the result line to $work/SCENARIO.POLICY
run() {
    local sc=$1 pol=$2 seed=${3:-}
    local args=(run "$root/scenarios/$sc.json" --policy "$pol" --json --quiet)
    [ -n "$seed" ] && args+=(--seed "$seed")
    "$sim" "${args[@]}" | tail -n 1 >> "$work/$sc.$pol"
}

for pol in $policies; do
    for sc in crash-windows-8.5m-emergency fail-1pct-1m-standard good-8.5m-emergency; do
        echo "bench: $sc / $pol" >&2
        run "$sc" "$pol"
    done
    echo "bench: good-loss-outage-standard / $pol x $SEEDS seeds" >&2
    for seed in $(seq 1 "$SEEDS"); do
        run good-loss-outage-standard "$pol" "$seed"
    done
done

python3 - "$work" "$policies" "$(( $(date +%s) - start ))" <<'EOF'
import json, sys, os
work, policies, elapsed = sys.argv[1], sys.argv[2].split(), int(sys.argv[3])
scenarios = ["crash-windows-8.5m-emergency", "fail-1pct-1m-standard",
             "good-loss-outage-standard", "good-8.5m-emergency"]

def load(sc, pol):
    with open(os.path.join(work, f"{sc}.{pol}")) as f:
        return [json.loads(line) for line in f if line.strip()]

def mean(xs):
    return sum(xs) / len(xs) if xs else None

def fmt(x, digits=0):
    if x is None:
        return "-"
    return f"{x:.{digits}f}"

head = (f"{'scenario':30} {'policy':10} {'runs':>4} {'endpoints':>9} {'exposed':>9} "
        f"{'failed/crashed':>14} {'halted':>6} {'halt_s':>7} {'complete_s':>10} "
        f"{'to_99pct_s':>10} {'coverage':>8} {'false/1000':>10}")
print(head)
print("-" * len(head))
res = {}
for sc in scenarios:
    for pol in policies:
        rs = load(sc, pol)
        res[(sc, pol)] = rs
        halts = [r for r in rs if r["halted"]]
        done = [r for r in rs if r["completed"]]
        t99 = [r["time_to_99pct_s"] for r in rs if r["time_to_99pct_s"] is not None]
        false = sum(r["false_halt"] for r in rs)
        print(f"{sc:30} {pol:10} {len(rs):>4} {rs[0]['endpoints']:>9} "
              f"{fmt(mean([r['exposed'] for r in rs])):>9} "
              f"{fmt(mean([r['failed_or_crashed'] for r in rs])):>14} "
              f"{len(halts):>6} {fmt(mean([r['halt_time_s'] for r in halts])):>7} "
              f"{fmt(mean([r['time_to_complete_s'] for r in done])):>10} "
              f"{fmt(mean(t99)):>10} "
              f"{fmt(mean([r['final_coverage'] for r in rs]), 4):>8} "
              f"{fmt(1000.0 * false / len(rs), 1):>10}")

crash = res[("crash-windows-8.5m-emergency", "rollgate")]
good = res[("good-loss-outage-standard", "rollgate")]
emerg = res[("good-8.5m-emergency", "rollgate")]
fail = res[("fail-1pct-1m-standard", "rollgate")]
for r in crash:
    if r["halted"] and r["first_crash_exposure_s"] is not None:
        print(f"rollgate crash: first crashing exposure at {r['first_crash_exposure_s']} s, "
              f"halt at {r['halt_time_s']} s (delay {r['halt_time_s'] - r['first_crash_exposure_s']} s)")
for r in fail:
    print(f"rollgate 1% fail: {r['final_state']} in wave {r['final_wave']}, "
          f"exposed {r['exposed']} of {r['endpoints']}")
holds = sum(r["final_state"] == "paused" for r in good)
stalls = sum(r["final_state"] == "running" for r in good)
print(f"rollgate good-loss-outage: {holds} held, {stalls} still running at the end, "
      f"{sum(r['completed'] for r in good)} completed of {len(good)}")
print(f"bench wall time: {elapsed} s")
t99 = emerg[0]["time_to_99pct_s"]
print(f"worst_crash_damage={max(r['failed_or_crashed'] for r in crash)} "
      f"false_halts_per_1000={1000.0 * sum(r['false_halt'] for r in good) / len(good):.1f} "
      f"emergency_time_to_99pct_s={t99 if t99 is not None else -1} "
      f"one_pct_fail_exposed_share={max(r['exposed'] / r['endpoints'] for r in fail):.4f}")
EOF
