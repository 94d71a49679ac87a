"""bench/canary/classes.py - the scenario classes of issue 10 as generators:
each function takes a seed and returns one rollgate-sim scenario (a dict in
the format of src/sim/scenario.h) of its class, with the fleet's parameters
drawn from the seed (fleet size, strata, loss, activation delays, sleep
schedules, stratum sizes, onset times), not only the RNG stream.

The files in scenarios/ of the same classes are samples; nothing here is
tuned to them.
"""
import random

DAY = 86400


def _strata(rng, n, tiny=None):
    """n strata with random shares (each >= 1 %); with tiny=(name, share)
    one more stratum of that share, the others scaled to leave room."""
    w = [rng.uniform(0.2, 1.0) for _ in range(n)]
    rest = 1.0 - (tiny[1] if tiny else 0.0)
    names = ["win10-x64", "win11-x64", "winserver2022-x64", "ubuntu22-x64",
             "rhel9-x64", "macos14-arm64", "debian12-x64", "win11-arm64",
             "winserver2019-x64"]
    out = [{"name": names[i], "share": round(rest * x / sum(w), 9)}
           for i, x in enumerate(w)]
    if tiny:
        out.append({"name": tiny[0], "share": tiny[1]})
    drift = 1.0 - sum(s["share"] for s in out)
    out[0]["share"] = round(out[0]["share"] + drift, 9)
    return out


def _base(rng, name, seed, endpoints, lane, strata, duration_s):
    return {
        "name": name,
        "seed": seed,
        "duration_s": duration_s,
        "fleet": {"endpoints": endpoints, "heartbeat_interval_s": 60,
                  "internal": rng.randint(20, 200),
                  "jitter_s": rng.randint(0, 20), "strata": strata},
        "loss": {"independent": round(rng.uniform(0.0, 0.2), 3),
                 "offline_share": round(rng.uniform(0.0, 0.15), 3)},
        "release": {"plan": lane,
                    "apply_latency_s": [5, rng.randint(30, 300)]},
        "faults": [],
    }


def activation_reboot(seed, lane):
    """Good release healthy 5-900 s after applying; reboot declared (max
    900 s); the endpoint is unreachable while it reboots."""
    rng = random.Random(f"reboot-{lane}-{seed}")
    sc = _base(rng, f"activation-reboot-{lane}", seed,
               rng.randint(10000, 30000), lane,
               _strata(rng, rng.randint(2, 8)), 43200)
    lo = rng.choice([5, 5, rng.randint(5, 120)])
    hi = rng.choice([900, rng.randint(max(lo + 60, 300), 900)])
    down = rng.randint(30, 120)
    sc["release"]["healthy_after_s"] = [lo, hi]
    # unreachable for the reboot at the end of the activation (at most
    # the whole activation time)
    sc["release"]["activation"] = {
        "declared": "reboot", "max_s": 900,
        "unreachable_s": [down, down + rng.randint(0, 120)]}
    return sc


def activation_restart(seed, lane):
    """Good release healthy 5-420 s after applying (a deferred service
    restart) that declares nothing."""
    rng = random.Random(f"restart-{lane}-{seed}")
    sc = _base(rng, f"activation-restart-{lane}", seed,
               rng.randint(10000, 30000), lane,
               _strata(rng, rng.randint(2, 8)), 43200)
    lo = rng.choice([5, rng.randint(5, 60)])
    sc["release"]["healthy_after_s"] = [lo, rng.choice(
        [420, rng.randint(max(lo + 30, 120), 420)])]
    return sc


def sleepers(seed, lane):
    """Good release (a restart of up to 2 min) on a fleet of laptops that
    sleep every night, flap on VPNs, and go away for days."""
    rng = random.Random(f"sleep-{lane}-{seed}")
    sc = _base(rng, f"sleep-{lane}", seed, rng.randint(8000, 20000), lane,
               _strata(rng, rng.randint(2, 8)), 43200)
    start = rng.randint(16, 21)
    hours = rng.randint(5, 9)
    sc["loss"].update({
        "sleep": {"share": round(rng.uniform(0.1, 0.6), 3),
                  "start_h": [start, start + rng.randint(1, 3)],
                  "hours": [hours, hours + rng.randint(1, 5)],
                  "clock_h": rng.randint(0, 23)},
        "vpn_flaps": {"share": round(rng.uniform(0.05, 0.3), 3),
                      "per_hour": rng.randint(1, 4),
                      "duration_s": [rng.randint(10, 60),
                                     rng.randint(60, 600)]},
        "long_offline": {"share": round(rng.uniform(0.01, 0.05), 3),
                         "days": [rng.randint(1, 2), rng.randint(3, 7)]},
    })
    sc["release"]["healthy_after_s"] = [5, rng.randint(30, 120)]
    return sc


def tiny_stratum(seed, lane, endpoints):
    """A release that crashes every endpoint of one stratum of 50-500
    endpoints in a fleet of `endpoints`."""
    rng = random.Random(f"tiny-{lane}-{endpoints}-{seed}")
    size = rng.randint(50, 500)
    sc = _base(rng, f"tiny-stratum-{lane}", seed, endpoints, lane,
               _strata(rng, rng.randint(3, 9),
                       ("tiny-os-arm64", round(size / endpoints, 9))), 28800)
    sc["release"]["crash_revert_s"] = rng.randint(120, 900)
    sc["faults"] = [{"stratum": "tiny-os-arm64", "crash": 1.0}]
    return sc


def delayed_onset(seed, lane):
    """Healthy first; 30 min after healthy every endpoint of one stratum
    crashes (and boot-loops until its agent reverts)."""
    rng = random.Random(f"onset-{lane}-{seed}")
    strata = _strata(rng, rng.randint(3, 8))
    sc = _base(rng, f"delayed-onset-{lane}", seed,
               rng.randint(200000, 1000000), lane, strata, 28800)
    sc["release"]["crash_revert_s"] = rng.randint(120, 900)
    sc["faults"] = [{"stratum": rng.choice(strata)["name"], "crash": 1.0,
                     "onset_s": [1800, 1800]}]
    return sc


def slow_checkin(seed, lane):
    """One stratum checks in every 15 min and boot-loops: its crash is
    reported only once its agent reverts, 30-90 min later."""
    rng = random.Random(f"slow-{lane}-{seed}")
    strata = _strata(rng, rng.randint(3, 8))
    bad = rng.choice(strata)
    bad["heartbeat_interval_s"] = 900
    sc = _base(rng, f"slow-checkin-{lane}", seed,
               rng.randint(200000, 1000000), lane, strata, 28800)
    sc["release"]["crash_revert_s"] = rng.randint(1800, 5400)
    sc["faults"] = [{"stratum": bad["name"], "crash": 1.0}]
    return sc
