#!/bin/bash
# bench/canary: the health gate against the scenarios of issue 4 and the
# scenario classes of issue 10, in rollgate-sim's model mode.
#
# Public scenarios, every policy (rollgate, threshold, fixed-bake):
#   crash-windows-8.5m-emergency  every Windows stratum crashes, 8.5M, emergency
#   fail-1pct-1m-standard         1% extra failures everywhere, 1M, standard
#   good-loss-outage-standard     good release, 20% loss + correlated outages,
#                                 over SEEDS seeds (fleet size: see the file)
#   good-8.5m-emergency           good release, 8.5M, emergency
# and good-8.5m-emergency-loss25 (25% loss) for the rollgate policy.
#
# Classes (bench/canary/classes.py; rollgate policy; standard and emergency
# lane; each seed draws the fleet's parameters, not only the RNG stream):
#   activation-reboot   good, healthy 5-900 s after applying, reboot declared
#                       (max 900 s), unreachable while rebooting; 10k-30k
#   activation-restart  good, healthy 5-420 s after applying, undeclared
#   sleep               good; nightly sleep, VPN flaps, days offline; 8k-20k
#   tiny-1m, tiny-8.5m  every endpoint of a 50-500-endpoint stratum crashes
#   delayed-onset       one stratum crashes 30 min after healthy; 200k-1M
#   slow-checkin        one stratum checks in every 15 min and boot-loops
#                       (crash reported 30-90 min later); 200k-1M
#
# UNSEEN=1: instead, fleets of the same classes that classes.py does not
# draw (bench/canary/unseen.py: activation-delay shapes, loss patterns,
# per-stratum check-in intervals, strata of 1-500 endpoints, several
# failing at once, partial crash reporting, onsets of 5 min-2 h, server
# restarts, sleep schedules, internal rings of 2-5 hosts), a row per
# class:variant and lane against issue 10's targets, and a last line
#   unseen_runs unseen_failing_groups unseen_<class>_false_halts_per_1000
#   (good classes) unseen_<class>_damage (bad classes)
# env: UNSEEN_SEEDS (20) per good variant and lane, UNSEEN_BAD_SEEDS (2)
# per bad one (fleet sizes cycle with the seed: 100k, 300k, then 1M and
# 8.5M), JOBS (1), ONLY as below.
#
# usage: bench/canary/run.sh [BUILD_DIR]
# env:   SEEDS (200), CLASS_SEEDS (200), BIG_SEEDS (5), JOBS (2), ONLY: bench.py
# Prints a table per group (means over runs; times over the runs where it
# happened) and, last, one line of key=value (rollgate policy):
#   worst_crash_damage false_halts_per_1000 emergency_time_to_99pct_s
#   one_pct_fail_exposed_share activation_false_halts_per_1000
#   sleep_false_halts_per_1000 tiny_stratum_damage tiny_stratum_exposed_share
#   delayed_onset_damage (standard lane) delayed_onset_damage_emergency
#   (informative: no rollout that reaches 99% within 30 min can catch a
#   failure that comes 30 min after healthy before full exposure,
#   docs/health.md "Soak") slow_checkin_damage
#   emergency_loss25_time_to_99pct_s
# (damage: worst over seeds of endpoints crashed or failed; exposed share:
# worst share of the fleet exposed by the end of the run; targets: issue 10).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
sim="$build/src/sim/rollgate-sim"
[ -x "$sim" ] || { echo "bench: $sim not found (build first)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "bench: python3 not found" >&2; exit 1; }

work=$(mktemp -d /tmp/rollgate-canary.XXXXXX)
trap 'rm -rf "$work"' EXIT
if [ "${UNSEEN:-0}" = 1 ]; then
    python3 "$here/unseen.py" "$sim" "$work"
else
    python3 "$here/bench.py" "$sim" "$root" "$work"
fi
