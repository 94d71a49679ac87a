"""rollgate-sim's guarded flag rollouts (scenarios/flag-*.json, docs/flags.md):
through the same state machine and health gate as releases, a flag that
crash-loops the consumer on one stratum halts in its first counted wave
with small damage and is reverted (the exposed endpoints return to the
previous share), and a good flag under 25% heartbeat loss completes
without a false halt. Exposure follows the flag's own bucketing (a wave is
a whole percentage of the fleet) plus the stratified floor releases have
(from the first counted wave on, every stratum's lowest buckets): a flag
that crashes a stratum of 50 endpoints in a fleet of 100,000, which 1%
alone would reach with about one endpoint and so only hold, halts in the
first counted wave on the floor's failures and is reverted. A wrong
release.flag is refused naming the field.
# ctest-labels: flags
"""
import json
import os
import subprocess
import tempfile

import rg
from rg import expect

SIM = os.path.join(rg.BUILD_DIR, "src", "sim", "rollgate-sim")
SCENARIOS = os.path.join(rg.SOURCE_DIR, "scenarios")


def run(name, *args):
    p = subprocess.run([SIM, "run", os.path.join(SCENARIOS, name + ".json"),
                        "--json", "--quiet", *args],
                       capture_output=True, text=True, timeout=300)
    expect(p.returncode == 0, "rollgate-sim exit 0", name, p.stderr)
    return json.loads(p.stdout.strip().splitlines()[-1])


def main():
    for seed in ("1", "2"):
        r = run("flag-crash-stratum-standard", "--seed", seed)
        expect(r["halted"] and not r["completed"], "bad flag halts", r["final_state"])
        halt = r["decisions"][-1]
        expect(halt["verdict"] == "halt" and "macos14-arm64" in halt["reason"],
               "the halt names the crashing stratum", halt["reason"])
        # wave 1 (0.1%) is the flag's smallest step, 1% of 20,000
        expect(r["final_wave"] == 1 and 100 <= r["exposed"] <= 320,
               "halted in the first counted wave at 1%", r["final_wave"], r["exposed"])
        # damage: only the crashing stratum's share of that 1%
        expect(0 < r["failed_or_crashed"] <= 40, "small damage", r["failed_or_crashed"])
        expect(r["reverted"] >= r["exposed"] - r["failed_or_crashed"] - 5,
               "the previous share is back for the exposed", r["reverted"], r["exposed"])
        strata = {s["name"]: s for s in halt["evidence"]["strata"]}
        expect(strata["macos14-arm64"]["verdict"] == "halt", "the bad stratum halts",
               strata["macos14-arm64"])
        expect(all(s["verdict"] != "halt" for n, s in strata.items() if n != "macos14-arm64"),
               "the good strata do not", strata)

        g = run("flag-good-loss25-standard", "--seed", seed)
        expect(g["completed"] and not g["halted"] and not g["false_halt"],
               "good flag under 25% loss completes", g["final_state"], g["decisions"][-1])
        expect(g["failed_or_crashed"] == 0 and g["final_coverage"] >= 0.95,
               "everyone has it", g["final_coverage"])
        expect(g["exposed"] >= 19000, "the whole online fleet exposed", g["exposed"])

        t = run("flag-crash-tiny-stratum-100k-standard", "--seed", seed)
        halt = t["decisions"][-1]
        expect(t["halted"] and halt["verdict"] == "halt" and
               "macos14-arm64" in halt["reason"] and t["final_wave"] == 1,
               "the tiny stratum's crash halts the first counted wave",
               t["final_state"], halt["reason"])
        expect(3 <= t["failed_or_crashed"] <= 10 and t["final_coverage"] < 0.001,
               "damage: the floor's few canaries; the share reverted",
               t["failed_or_crashed"], t["final_coverage"])

    with tempfile.TemporaryDirectory() as d:
        bad = os.path.join(d, "bad.json")
        with open(bad, "w") as f:
            f.write('{"fleet": {"endpoints": 10, "strata": [{"name": "a", "share": 1}]},'
                    ' "release": {"plan": "standard", "flag": 7}}')
        p = subprocess.run([SIM, "run", bad], capture_output=True, text=True, timeout=60)
        expect(p.returncode == 1 and "'flag'" in p.stderr, "bad flag exits 1", p.stderr)
    print("test_sim_flags: ok")


if __name__ == "__main__":
    main()
