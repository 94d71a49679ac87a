"""rollgate-sim from the command line: the small scenarios in scenarios/
under every policy with --json (one JSON object on the last line, the same
for the same seed), samples of the fleet-knob classes, the table output,
the progress lines on stderr, and usage errors (exit 2) and bad scenarios
and knobs (exit 1).
# ctest-labels: canary
"""
import json
import os
import subprocess
import tempfile

import rg
from rg import expect

SIM = os.path.join(rg.BUILD_DIR, "src", "sim", "rollgate-sim")
SCENARIOS = os.path.join(rg.SOURCE_DIR, "scenarios")


def sim(*args):
    p = subprocess.run([SIM, *args], capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


def result(*args):
    code, out, err = sim(*args, "--json", "--quiet")
    expect(code == 0, "rollgate-sim exit 0", args, code, err)
    expect(err == "", "--quiet keeps stderr empty", err)
    return out, json.loads(out.strip().splitlines()[-1])


def main():
    crash = os.path.join(SCENARIOS, "small-crash.json")
    good = os.path.join(SCENARIOS, "small-good.json")

    # Same seed, same output, to the byte; another seed differs.
    a, ra = result("run", crash, "--seed", "3")
    b, _ = result("run", crash, "--seed", "3")
    c, _ = result("run", crash, "--seed", "4")
    expect(a == b, "same seed gives the same JSON")
    expect(a != c, "another seed gives another run")
    for key in ("halted", "halt_time_s", "exposed", "failed_or_crashed",
                "completed", "time_to_complete_s", "final_coverage",
                "false_halt", "decisions"):
        expect(key in ra, "result field", key)

    # The crashing stratum halts early with little damage under rollgate;
    # hawkBit-style thresholds ship it everywhere.
    expect(ra["halted"] and ra["failed_or_crashed"] <= 50, "rollgate halts", ra)
    expect(ra["decisions"][-1]["verdict"] == "halt", "last decision is the halt")
    _, th = result("run", crash, "--policy", "threshold", "--seed", "3")
    expect(not th["halted"] and th["failed_or_crashed"] > 1000,
           "threshold completes a crashing release", th["failed_or_crashed"])
    _, fb = result("run", crash, "--policy", "fixed-bake", "--seed", "3")
    expect(fb["policy"] == "fixed-bake" and fb["halted"], "fixed-bake halts", fb["policy"])

    # A good release completes without a false halt.
    _, rgood = result("run", good)
    expect(rgood["completed"] and not rgood["false_halt"], "good release completes",
           rgood["final_state"])

    # Fleet knobs (scenarios/README.md) from the command line: small
    # samples of issue 10's classes run, a good release damages nothing.
    for name in ("activation-restart-emergency", "vpn-flaps-emergency",
                 "server-restart-standard"):
        _, r = result("run", os.path.join(SCENARIOS, name + ".json"))
        expect(r["scenario"] == name and not r["faulty"] and
               r["failed_or_crashed"] == 0, "class sample runs", name, r)

    # Table by default, progress on stderr.
    code, out, err = sim("run", crash)
    expect(code == 0 and "halted" in out and "decisions:" in out, "table", out)
    expect("rollgate-sim: small-crash/rollgate t=" in err, "progress line", err)

    # Usage and scenario errors.
    for args in ([], ["run"], ["walk", crash], ["run", crash, "--policy", "argo"],
                 ["run", crash, "--seed", "-1"], ["run", crash, "--bogus"]):
        code, _, err = sim(*args)
        expect(code == 2, "usage error exits 2", args, code, err)
    with tempfile.TemporaryDirectory() as d:
        bad = os.path.join(d, "bad.json")
        with open(bad, "w") as f:
            f.write('{"fleet": {"endpoints": 10, "strata": [{"name": "a", "share": 0.5}]},'
                    ' "release": {"plan": "standard"}}')
        code, _, err = sim("run", bad)
        expect(code == 1 and "strata" in err, "bad scenario exits 1", code, err)
        with open(bad, "w") as f:
            f.write('{"fleet": {"endpoints": 10, "strata": [{"name": "a", "share": 1}]},'
                    ' "loss": {"sleep": {"share": 0.3, "hours": [8, 30]}},'
                    ' "release": {"plan": "standard"}}')
        code, _, err = sim("run", bad)
        expect(code == 1 and "'hours'" in err, "bad knob exits 1 naming it", code, err)
        code, _, err = sim("run", os.path.join(d, "missing.json"))
        expect(code == 1 and "cannot open" in err, "missing scenario exits 1", err)
    print("test_sim: ok")


if __name__ == "__main__":
    main()
